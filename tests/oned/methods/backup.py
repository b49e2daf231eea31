"""Backup jobs."""

from __future__ import annotations

import time

from .. import errors
from .. import template as T
from ..engine import (
    POST_UPDATE,
    Ctx,
    get,
    method,
    new_obj,
    owned_fields,
    parse_template,
    take_name,
)


def _backup_vms(tmpl: list) -> list:
    return [int(v) for v in (T.get(tmpl, "BACKUP_VMS") or "").split(",") if v.strip().isdigit()]


def _backupjob_sched(ctx: Ctx, tmpl: list) -> list:
    out = []
    pool = ctx.store.pools["backupjob"]
    for vec in T.erase(tmpl, "SCHED_ACTION"):
        if not isinstance(vec, dict):
            continue
        sa = {k: str(v) for k, v in vec.items()}
        sa_id = pool.get("sa_next", 0)
        pool["sa_next"] = sa_id + 1
        sa.update(ID=str(sa_id), PARENT_ID="-1", TYPE="BACKUPJOB", ACTION="backup",
                  DONE=sa.get("DONE", "-1"), MESSAGE=sa.get("MESSAGE", ""))
        out.append(sa)
    return out


@method("one.backupjob.allocate")
def backupjob_allocate(ctx: Ctx, text: str) -> int:
    tmpl = parse_template(text)
    name = take_name(tmpl)
    prio = T.get(tmpl, "PRIORITY") or "50"
    if not prio.isdigit() or not 0 <= int(prio) <= 99:
        raise errors.internal("Wrong PRIORITY value, it must be an integer between 0 and 99")
    T.erase(tmpl, "PRIORITY")
    oid = ctx.store.new_id("backupjob")
    obj = owned_fields(ctx, oid, name)
    obj.update(PRIORITY=int(prio), LAST_BACKUP_TIME=0, LAST_BACKUP_DURATION=0,
               SCHED=_backupjob_sched(ctx, tmpl), UPDATED_VMS=[],
               OUTDATED_VMS=_backup_vms(tmpl), BACKING_UP_VMS=[], ERROR_VMS=[], TEMPLATE=tmpl)
    return new_obj(ctx, "backupjob", obj)


def _backupjob_post_update(bj: dict, old: list) -> None:
    tmpl = bj["TEMPLATE"]
    prio = T.get(tmpl, "PRIORITY")
    if prio and prio.isdigit():
        bj["PRIORITY"] = int(prio)
    T.erase(tmpl, "PRIORITY")
    T.erase(tmpl, "SCHED_ACTION")
    vms = _backup_vms(tmpl)
    bj["UPDATED_VMS"] = [v for v in bj["UPDATED_VMS"] if v in vms]
    bj["OUTDATED_VMS"] = [v for v in vms if v not in bj["UPDATED_VMS"]]


POST_UPDATE["backupjob"] = _backupjob_post_update


@method("one.backupjob.backup", "one.backupjob.retry", "one.backupjob.cancel")
def backupjob_action(ctx: Ctx, bid: int) -> int:
    bj = get(ctx, "backupjob", bid)
    action = ctx.method.rsplit(".", 1)[1]
    if action == "cancel":
        bj["OUTDATED_VMS"] = sorted(set(bj["OUTDATED_VMS"]) | set(bj["BACKING_UP_VMS"]))
        bj["BACKING_UP_VMS"] = []
        return bj["ID"]
    vms = _backup_vms(bj["TEMPLATE"]) if action == "backup" else bj["ERROR_VMS"]
    bj["ERROR_VMS"] = [v for v in bj["ERROR_VMS"] if v not in vms]
    bj["UPDATED_VMS"] = sorted(set(bj["UPDATED_VMS"]) | set(vms))
    bj["OUTDATED_VMS"] = [v for v in bj["OUTDATED_VMS"] if v not in vms]
    bj["LAST_BACKUP_TIME"] = int(time.time())
    return bj["ID"]
