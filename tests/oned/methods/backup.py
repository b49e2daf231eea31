"""Backup jobs (src/vm/BackupJob.cc, src/rm/RequestManagerBackupJob.cc).

``one.backupjob.backup`` marks the job's VMs outdated; one driver step later
each VM is "backed up" (UPDATED_VMS, or ERROR_VMS when the VM is gone).
"""

from __future__ import annotations

import time

from .. import errors
from .. import template as T
from ..engine import (
    DRIVER_HOOKS,
    POST_UPDATE,
    Ctx,
    get,
    method,
    new_obj,
    owned_fields,
    parse_template,
    take_name,
)
from ..render import backup_vms, vm_backup_job
from ..store import DONE, Store

SA_FIELDS = ("ID", "PARENT_ID", "TYPE", "ACTION", "ARGS", "TIME", "REPEAT", "DAYS", "END_TYPE",
             "END_VALUE", "DONE", "MESSAGE", "WARNING")
SA_DEFAULTS = {"ARGS": "", "REPEAT": "-1", "DAYS": "", "END_TYPE": "-1", "END_VALUE": "-1",
               "DONE": "-1", "MESSAGE": "", "WARNING": "0"}


def _choice(tmpl: list, key: str, allowed: tuple, default: str) -> str:
    value = (T.get(tmpl, key) or "").upper()
    return value if value in allowed else default


def parse_job(store: Store, bj: dict) -> None:
    """``BackupJob::parse``: normalise the template, check the VMs, trim the VM sets."""
    tmpl = bj["TEMPLATE"]
    keep = T.get(tmpl, "KEEP_LAST") or ""
    T.replace(tmpl, "KEEP_LAST", keep if keep.isdigit() else "0")
    volatile = (T.get(tmpl, "BACKUP_VOLATILE") or "").upper() in ("YES", "TRUE", "1")
    T.replace(tmpl, "BACKUP_VOLATILE", "YES" if volatile else "NO")
    T.replace(tmpl, "FS_FREEZE", _choice(tmpl, "FS_FREEZE", ("NONE", "AGENT", "SUSPEND"), "NONE"))
    mode = _choice(tmpl, "MODE", ("FULL", "INCREMENT"), "FULL")
    T.replace(tmpl, "MODE", mode)
    if mode == "INCREMENT":
        T.replace(tmpl, "INCREMENT_MODE", _choice(tmpl, "INCREMENT_MODE", ("CBT", "SNAPSHOT"), "CBT"))
    T.replace(tmpl, "EXECUTION", _choice(tmpl, "EXECUTION", ("SEQUENTIAL", "PARALLEL"), "SEQUENTIAL"))
    prio = T.get(tmpl, "PRIORITY") or ""
    if prio.isdigit() and 0 <= int(prio) <= 99:
        bj["PRIORITY"] = int(prio)
    T.erase(tmpl, "PRIORITY")
    vms: list = []
    for vm_id in backup_vms(tmpl):
        if not vms or vms[-1] != vm_id:
            vms.append(vm_id)
    T.replace(tmpl, "BACKUP_VMS", ",".join(map(str, vms)))
    T.erase(tmpl, "SCHED_ACTION")
    for vm_id in vms:
        other = vm_backup_job(store, vm_id, skip=bj["ID"])
        if vm_id in store.objs("vm") and other != -1:
            raise errors.internal(f"Unable to add VM {vm_id} to Backup Job {bj['ID']}. "
                                  f"It's already in Backup Job {other}")
    for key in ("UPDATED_VMS", "OUTDATED_VMS", "BACKING_UP_VMS", "ERROR_VMS"):
        bj[key] = [v for v in bj[key] if v in vms]


def _sched_action(ctx: Ctx, vec: dict, old: dict | None = None) -> dict:
    """A scheduled action of a backup job (``ScheduledActionPool::allocate`` / ``parse``)."""
    if not str(vec.get("TIME", old.get("TIME", "") if old else "")).strip():
        raise errors.action("No TIME in SCHED_ACTION")
    if old is None:
        pool = ctx.store.pools["backupjob"]
        sa_id = pool.get("sa_next", 0)
        pool["sa_next"] = sa_id + 1
        old = {**SA_DEFAULTS, "ID": str(sa_id)}
    sa = {**old, **{k: str(v) for k, v in vec.items() if k in SA_FIELDS and k != "ARGS"}}
    sa.update(ID=old["ID"], PARENT_ID="-1", TYPE="BACKUPJOB", ACTION="backup")
    return sa


@method("one.backupjob.allocate")
def backupjob_allocate(ctx: Ctx, text: str) -> int:
    """``one.backupjob.allocate(template)``; SCHED_ACTIONs become scheduled actions."""
    tmpl = parse_template(text)
    name = take_name(tmpl)
    sched = [v for v in T.get_all(tmpl, "SCHED_ACTION") if isinstance(v, dict)]
    prio = (T.get(tmpl, "PRIORITY") or "").strip()
    if prio.lstrip("-").isdigit():
        if not 0 <= int(prio) <= 99:
            raise errors.internal("Wrong priority value")
        if not ctx.admin and int(prio) > 50:
            raise errors.OnedError(errors.AUTHORIZATION,
                                   f"User [{ctx.uid}] not authorized to perform action on backup job.")
    bj = owned_fields(ctx, ctx.store.pools["backupjob"]["next"], name)
    bj.update(PRIORITY=50, LAST_BACKUP_TIME=0, LAST_BACKUP_DURATION=0, SCHED=[], UPDATED_VMS=[],
              OUTDATED_VMS=[], BACKING_UP_VMS=[], ERROR_VMS=[], TEMPLATE=tmpl)
    parse_job(ctx.store, bj)
    bj["SCHED"] = [_sched_action(ctx, vec) for vec in sched]
    ctx.store.new_id("backupjob")
    return new_obj(ctx, "backupjob", bj)


POST_UPDATE["backupjob"] = lambda store, bj, old: parse_job(store, bj)


@method("one.backupjob.backup")
def backupjob_backup(ctx: Ctx, bid: int) -> int:
    """``one.backupjob.backup(id)`` (``BackupJob::execute``)."""
    bj = get(ctx, "backupjob", bid)
    if bj["BACKING_UP_VMS"] or bj["OUTDATED_VMS"]:
        raise errors.action("Unable to execute Backup Job, pending backups in progress")
    if T.get(bj["TEMPLATE"], "BACKUP_VMS") is None:
        raise errors.action("Wrong BACKUP_VMS attribute or not defined")
    bj.update(ERROR_VMS=[], UPDATED_VMS=[], OUTDATED_VMS=backup_vms(bj["TEMPLATE"]),
              LAST_BACKUP_TIME=int(time.time()))
    ctx.store.schedule("backupjob", bj, [{"_RUN": bj["LAST_BACKUP_TIME"]}])
    return bj["ID"]


@method("one.backupjob.retry")
def backupjob_retry(ctx: Ctx, bid: int) -> int:
    """``one.backupjob.retry(id)``: failed VMs are outdated again."""
    bj = get(ctx, "backupjob", bid)
    bj["OUTDATED_VMS"] = sorted(set(bj["OUTDATED_VMS"]) | set(bj["ERROR_VMS"]))
    bj["ERROR_VMS"] = []
    if bj["OUTDATED_VMS"]:
        ctx.store.schedule("backupjob", bj, [{"_RUN": int(time.time())}])
    return bj["ID"]


@method("one.backupjob.cancel")
def backupjob_cancel(ctx: Ctx, bid: int) -> int:
    """``one.backupjob.cancel(id)``."""
    bj = get(ctx, "backupjob", bid)
    bj.update(OUTDATED_VMS=[], BACKING_UP_VMS=[])
    bj.pop("_SCHED", None)
    return bj["ID"]


def _run_backups(store: Store, bj: dict, fields: dict) -> None:
    """The backups themselves: every outdated VM ends UPDATED, or ERROR if it is gone."""
    for vm_id in bj["OUTDATED_VMS"]:
        vm = store.find("vm", vm_id)
        target = "UPDATED_VMS" if vm is not None and vm["STATE"] != DONE else "ERROR_VMS"
        bj[target] = sorted(set(bj[target]) | {vm_id})
    bj["OUTDATED_VMS"] = []
    bj["LAST_BACKUP_DURATION"] = max(int(time.time()) - bj["LAST_BACKUP_TIME"], 0)
    bj.pop("_RUN", None)


def _vm_gone(store: Store, vm: dict, fields: dict) -> None:
    """``BackupJob::remove_vm``: a VM reaching DONE leaves its backup job."""
    if fields.get("STATE") != DONE:
        return
    for bj in store.objs("backupjob").values():
        vms = backup_vms(bj["TEMPLATE"])
        if vm["ID"] in vms:
            T.replace(bj["TEMPLATE"], "BACKUP_VMS", ",".join(str(v) for v in vms if v != vm["ID"]))
            bj["OUTDATED_VMS"] = [v for v in bj["OUTDATED_VMS"] if v != vm["ID"]]


DRIVER_HOOKS.setdefault("backupjob", []).append(_run_backups)
DRIVER_HOOKS.setdefault("vm", []).append(_vm_gone)


@method("one.backupjob.priority")
def backupjob_priority(ctx: Ctx, bid: int, priority: int) -> int:
    """``one.backupjob.priority(id, priority)``."""
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
    """``one.backupjob.schedadd(id, template)``: new scheduled action id."""
    bj = get(ctx, "backupjob", bid)
    sa = _sched_action(ctx, _sched_vector(text, errors.ACTION))
    bj["SCHED"].append(sa)
    return int(sa["ID"])


@method("one.backupjob.scheddelete")
def backupjob_scheddelete(ctx: Ctx, bid: int, sa_id: int) -> int:
    """``one.backupjob.scheddelete(id, sched_id)``."""
    bj = get(ctx, "backupjob", bid)
    kept = [sa for sa in bj["SCHED"] if sa["ID"] != str(int(sa_id))]
    if len(kept) == len(bj["SCHED"]):
        raise errors.no_exists("scheduled action", int(sa_id))
    bj["SCHED"] = kept
    return int(sa_id)


@method("one.backupjob.schedupdate")
def backupjob_schedupdate(ctx: Ctx, bid: int, sa_id: int, text: str) -> int:
    """``one.backupjob.schedupdate(id, sched_id, template)``."""
    bj = get(ctx, "backupjob", bid)
    vec = _sched_vector(text, errors.INTERNAL)
    for i, sa in enumerate(bj["SCHED"]):
        if sa["ID"] == str(int(sa_id)):
            bj["SCHED"][i] = _sched_action(ctx, vec, sa)
            return int(sa_id)
    raise errors.internal(f"SCHED_ACTION with id = {int(sa_id)} doesn't exist")
