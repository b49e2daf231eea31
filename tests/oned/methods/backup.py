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


SA_FIELDS = ("ID", "PARENT_ID", "TYPE", "ACTION", "ARGS", "TIME", "REPEAT", "DAYS", "END_TYPE",
             "END_VALUE", "DONE", "MESSAGE", "WARNING")
SA_DEFAULTS = {"ARGS": "", "REPEAT": "-1", "DAYS": "", "END_TYPE": "-1", "END_VALUE": "-1",
               "DONE": "-1", "MESSAGE": "", "WARNING": "0"}


def _sched_action(ctx: Ctx, vec: dict, old: dict | None = None) -> dict:
    """A scheduled action of a backup job (``ScheduledActionPool::allocate`` / ``parse``)."""
    if not str(vec.get("TIME", old.get("TIME", "") if old else "")).strip():
        raise errors.action("No TIME in SCHED_ACTION")
    if old is None:
        pool = ctx.store.pools["backupjob"]
        sa_id = pool.get("sa_next", 0)
        pool["sa_next"] = sa_id + 1
        old = {**SA_DEFAULTS, "ID": str(sa_id)}
    sa = {**old, **{k: str(v) for k, v in vec.items() if k in SA_FIELDS}}
    sa.update(ID=old["ID"], PARENT_ID="-1", TYPE="BACKUPJOB", ACTION="backup")
    return sa


def _backupjob_sched(ctx: Ctx, tmpl: list) -> list:
    return [_sched_action(ctx, vec) for vec in T.erase(tmpl, "SCHED_ACTION") if isinstance(vec, dict)]


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


@method("one.backupjob.priority")
def backupjob_priority(ctx: Ctx, bid: int, priority: int) -> int:
    if not 0 <= int(priority) <= 99:
        raise errors.action("Wrong priority value")
    bj = get(ctx, "backupjob", bid)
    bj["PRIORITY"] = int(priority)
    return bj["ID"]


def _sched_vector(text: str, code: int) -> dict:
    vecs = [v for v in T.get_all(parse_template(text), "SCHED_ACTION") if isinstance(v, dict)]
    if not vecs:
        raise errors.OnedError(code, "No SCHED_ACTION attribute in template")
    return vecs[0]


@method("one.backupjob.schedadd")
def backupjob_schedadd(ctx: Ctx, bid: int, text: str) -> int:
    bj = get(ctx, "backupjob", bid)
    sa = _sched_action(ctx, _sched_vector(text, errors.ACTION))
    bj["SCHED"].append(sa)
    return int(sa["ID"])


@method("one.backupjob.scheddelete")
def backupjob_scheddelete(ctx: Ctx, bid: int, sa_id: int) -> int:
    bj = get(ctx, "backupjob", bid)
    kept = [sa for sa in bj["SCHED"] if sa["ID"] != str(int(sa_id))]
    if len(kept) == len(bj["SCHED"]):
        raise errors.no_exists("scheduled action", int(sa_id))
    bj["SCHED"] = kept
    return int(sa_id)


@method("one.backupjob.schedupdate")
def backupjob_schedupdate(ctx: Ctx, bid: int, sa_id: int, text: str) -> int:
    bj = get(ctx, "backupjob", bid)
    vec = _sched_vector(text, errors.INTERNAL)
    for i, sa in enumerate(bj["SCHED"]):
        if sa["ID"] == str(int(sa_id)):
            bj["SCHED"][i] = _sched_action(ctx, vec, sa)
            return int(sa_id)
    raise errors.internal(f"SCHED_ACTION with id = {int(sa_id)} doesn't exist")
