#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Declarative OpenNebula backup job."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: one_backupjob
short_description: Manage an OpenNebula backup job (VMs, backup datastore, schedule, retention)
description:
  - Declarative, name-keyed management of an OpenNebula backup job (C(one.backupjob.*) XML-RPC methods, OpenNebula
    6.6 and later).
  - The VMs are given by name or id (O(vms)) and/or by label (O(vm_labels), the C(LABELS) attribute of the VM's user
    template, as Sunstone sets it); they are resolved to ids through the VM pool at every run, so a VM labelled later
    joins the job on the next run. The job's C(BACKUP_VMS) is the declared VMs in their order, then the labelled
    VMs by id.
  - The backup datastore is given by name or id; the schedule is one scheduled action, declared either as a small
    cron line or as OpenNebula's C(REPEAT)/C(DAYS) with a time of day.
  - Only the declared attributes are compared; a second run with the same arguments makes no write call. Check
    mode predicts the changes; diff mode shows the changed attributes.
version_added: 0.1.0
author: eole.hapy contributors (!UNKNOWN)
options:
  name:
    description: Name of the backup job (unique among the backup jobs).
    type: str
    required: true
  state:
    description: C(present) creates or updates the job, C(absent) deletes it (the backups already made are kept).
    type: str
    choices: [present, absent]
    default: present
  vms:
    description:
      - VMs to back up, by name or id, in backup order. A name must match exactly one VM (not in C(DONE) state).
      - With O(vm_labels), the job backs up the union.
    type: list
    elements: str
  vm_labels:
    description:
      - Labels; every VM whose C(LABELS) user-template attribute (comma-separated) holds one of them is backed up.
      - A label that matches no VM is not an error (the job then has fewer VMs, possibly none).
    type: list
    elements: str
  datastore:
    description: Backup datastore (C(TYPE=BACKUP_DS)) by name or id; sets C(DATASTORE_ID). Required to create a job.
    type: str
  schedule:
    description:
      - When the job runs, as one scheduled action of the job (C(SCHED_ACTION) with C(REPEAT), C(DAYS), C(TIME),
        C(END_TYPE=0), never ending). An empty dict removes the job's scheduled actions; omitted leaves them alone.
      - Either O(schedule.cron), or O(schedule.repeat) with O(schedule.days) and O(schedule.time).
      - The time of day is compared in O(schedule.timezone), so the epoch C(TIME) OpenNebula stores (the first run)
        does not count as a difference on later runs.
    type: dict
    suboptions:
      cron:
        description:
          - A cron line C(minute hour day-of-month month day-of-week) of one of these forms -
            C(M H * * *) (daily), C(M H * * D[,D|D-D]) (weekly on those days, 0 or 7 = Sunday),
            C(M H D[,D] * *) (monthly on those days), C(M */N * * *) or C(M * * * *) (every N hours / hourly).
        type: str
      repeat:
        description: OpenNebula repetition, C(weekly) (REPEAT=0), C(monthly) (1), C(yearly) (2) or C(hourly) (3).
        type: str
        choices: [weekly, monthly, yearly, hourly]
      days:
        description:
          - C(DAYS) - week days 0-6 (0 = Sunday) for C(weekly), days of the month 1-31 for C(monthly), days of
            the year 0-365 for C(yearly), and for C(hourly) one number, the interval in hours.
        type: list
        elements: int
      time:
        description: Time of day C(HH:MM) of the runs (for C(hourly), the minute past the hour and the phase).
        type: str
        default: "00:00"
      timezone:
        description: IANA time zone of O(schedule.time) and of the C(cron) line, e.g. C(Indian/Reunion).
        type: str
        default: UTC
  keep_last:
    description: Number of backups kept per VM (C(KEEP_LAST)).
    type: int
  mode:
    description: C(FULL) or C(INCREMENT) backups (C(MODE)).
    type: str
  priority:
    description: Priority 0-99 of the job against other jobs (OpenNebula's default is 50; above 50 needs an admin).
    type: int
  execution:
    description: C(SEQUENTIAL) backs the VMs up one after the other, C(PARALLEL) all at once (C(EXECUTION)).
    type: str
  fs_freeze:
    description: How running VMs' filesystems are frozen, C(NONE), C(AGENT) (qemu guest agent) or C(SUSPEND).
    type: str
  backup_volatile:
    description: Whether volatile disks are backed up too (C(BACKUP_VOLATILE)).
    type: bool
  attributes:
    description: Further template attributes of the job (upper-case keys), compared and merged like the others.
    type: dict
extends_documentation_fragment:
  - eole.hapy.one_connection
notes:
  - Runs on the host that reaches the OpenNebula XML-RPC endpoint (usually the controller); needs C(pyone).
  - Attribute changes are merged with C(one.backupjob.update); priority changes use C(one.backupjob.priority);
    schedule changes use C(one.backupjob.schedupdate), C(schedadd) and C(scheddelete).
  - VM backups themselves (C(onevm backup), image restore) are OpenNebula's; this module only declares the job.
seealso:
  - module: eole.hapy.one_datastore
  - name: OpenNebula backup jobs
    description: Attributes and behaviour of backup jobs.
    link: https://docs.opennebula.io/6.10/management_and_operations/backups/backup_jobs.html
"""

EXAMPLES = r"""
- name: Nightly full backups of the VMs labelled "sauvegarde", 7 kept, at 01:30 La Réunion time
  eole.hapy.one_backupjob:
    api_url: "http://{{ hapy_frontend_address }}:2633/RPC2"
    api_username: oneadmin
    api_password: "{{ vault_oneadmin_password }}"
    name: hapy-sauvegarde
    vm_labels: [sauvegarde]
    datastore: sauvegardes
    schedule:
      cron: "30 1 * * *"
      timezone: Indian/Reunion
    keep_last: 7
    mode: FULL
    execution: SEQUENTIAL
    fs_freeze: AGENT
  delegate_to: localhost

- name: Weekly incremental backups of two named VMs, Saturday and Sunday at 03:00 UTC
  eole.hapy.one_backupjob:
    name: week-end
    vms: [scribe, amon]
    datastore: sauvegardes
    schedule: {repeat: weekly, days: [6, 0], time: "03:00"}
    mode: INCREMENT
    keep_last: 4
    priority: 40
  delegate_to: localhost

- name: Remove a job
  eole.hapy.one_backupjob:
    name: old-job
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
backupjob:
  description: The backup job after the task (empty when absent). In check mode, the declared state.
  returned: always
  type: dict
  contains:
    id:
      description: OpenNebula id of the job.
      type: int
      sample: 0
    name:
      description: Name of the job.
      type: str
      sample: hapy-sauvegarde
    vms:
      description: Ids of the VMs of the job (C(BACKUP_VMS)), in backup order.
      type: list
      elements: int
      sample: [12, 15]
    vm_names:
      description: Names of those VMs, in the same order.
      type: list
      elements: str
      sample: [scribe, amon]
    datastore_id:
      description: Id of the backup datastore.
      type: int
      sample: 100
    schedule:
      description: >-
        The job's scheduled action(s) as C(repeat), C(days), C(time) (in the declared time zone) and the raw
        C(TIME) (C(epoch)).
      type: raw
      sample: {repeat: weekly, days: [0, 1, 2, 3, 4, 5, 6], time: "01:30", timezone: UTC, epoch: 1796002200}
    keep_last:
      description: C(KEEP_LAST).
      type: str
      sample: "7"
    mode:
      description: C(MODE).
      type: str
      sample: FULL
    priority:
      description: Priority of the job.
      type: int
      sample: 50
    execution:
      description: C(EXECUTION).
      type: str
      sample: SEQUENTIAL
    last_backup_time:
      description: Epoch of the last run (0 when never run).
      type: int
      sample: 0
    outdated_vms:
      description: VMs not yet backed up by the job's current configuration.
      type: list
      elements: int
      sample: [15]
    error_vms:
      description: VMs whose last backup by the job failed.
      type: list
      elements: int
      sample: []
changes:
  description: The keys of the declaration that differed (e.g. C(keep_last), C(vms), C(schedule)).
  returned: when changed and the job existed
  type: list
  elements: str
  sample: [keep_last]
api_calls:
  description: XML-RPC calls the task made, in total and writes only.
  returned: always
  type: dict
  sample: {total: 3, writes: 0}
"""

import datetime as dt
import re
from typing import Any

from ansible_collections.eole.hapy.plugins.module_utils import one_template
from ansible_collections.eole.hapy.plugins.module_utils.one_client import OneError
from ansible_collections.eole.hapy.plugins.module_utils.one_module import (
    KINDS,
    OneObjectModule,
    id_list,
    labels_of,
    ref_view,
    update_template,
)

try:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
except ImportError:  # pragma: no cover - Python < 3.9 on the controller
    ZoneInfo = None  # type: ignore[assignment,misc]
    ZoneInfoNotFoundError = KeyError  # type: ignore[assignment,misc]

MODES = ("FULL", "INCREMENT")
EXECUTIONS = ("SEQUENTIAL", "PARALLEL")
FS_FREEZES = ("NONE", "AGENT", "SUSPEND")
REPEATS = {"weekly": "0", "monthly": "1", "yearly": "2", "hourly": "3"}
REPEAT_NAMES = {v: k for k, v in REPEATS.items()}
DAY_RANGES = {"weekly": (0, 6), "monthly": (1, 31), "yearly": (0, 365), "hourly": (1, 168)}
#: options kept in the job template, with their template attribute
TEMPLATE_OPTIONS = {"keep_last": "KEEP_LAST", "mode": "MODE", "execution": "EXECUTION", "fs_freeze": "FS_FREEZE",
                    "backup_volatile": "BACKUP_VOLATILE"}
RESERVED = {"NAME", "BACKUP_VMS", "DATASTORE_ID", "PRIORITY", "SCHED_ACTION", *TEMPLATE_OPTIONS.values()}


class ScheduleError(ValueError):
    """A schedule declaration that cannot be expressed."""


# ----------------------------------------------------------------------------- schedule helpers (pure)
def _cron_list(field: str, low: int, high: int, what: str) -> list[int]:
    values: set[int] = set()
    for part in field.split(","):
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not match:
            raise ScheduleError(f"{what} field {field!r}: expected numbers, lists (1,3) or ranges (1-5)")
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if first > last or first < low or last > high:
            raise ScheduleError(f"{what} field {field!r}: out of range {low}-{high}")
        values.update(range(first, last + 1))
    return sorted(values)


def parse_cron(line: str) -> dict[str, Any]:
    """The supported cron forms as ``{repeat, days, time}`` (see the module documentation)."""
    fields = line.split()
    if len(fields) != 5:
        raise ScheduleError(f"{line!r} has {len(fields)} fields; expected 'minute hour day-of-month month day-of-week'")
    minute, hour, dom, month, dow = fields
    if not minute.isdigit() or not 0 <= int(minute) <= 59:
        raise ScheduleError(f"{line!r}: the minute must be one number 0-59")
    if month != "*":
        raise ScheduleError(f"{line!r}: a month restriction cannot be expressed; use '*'")
    hourly = re.fullmatch(r"\*(?:/(\d+))?", hour)
    if hourly:
        if dom != "*" or dow != "*":
            raise ScheduleError(f"{line!r}: an hourly schedule cannot also restrict days")
        every = int(hourly.group(1) or 1)
        if not 1 <= every <= 168:
            raise ScheduleError(f"{line!r}: the hour interval must be 1-168")
        return {"repeat": "hourly", "days": [every], "time": f"00:{int(minute):02d}"}
    if not hour.isdigit() or not 0 <= int(hour) <= 23:
        raise ScheduleError(f"{line!r}: the hour must be one number 0-23, '*' or '*/N'")
    time_of_day = f"{int(hour):02d}:{int(minute):02d}"
    if dom != "*" and dow != "*":
        raise ScheduleError(f"{line!r}: restrict either the day of the month or the day of the week, not both")
    if dom != "*":
        return {"repeat": "monthly", "days": _cron_list(dom, 1, 31, "day-of-month"), "time": time_of_day}
    days = [0, 1, 2, 3, 4, 5, 6] if dow == "*" else sorted({d % 7 for d in _cron_list(dow, 0, 7, "day-of-week")})
    return {"repeat": "weekly", "days": days, "time": time_of_day}


def _zone(name: str) -> Any:
    if ZoneInfo is None:
        if name.upper() == "UTC":
            return dt.timezone.utc  # noqa: UP017 - also runs on old controllers
        raise ScheduleError("time zones other than UTC need Python's zoneinfo (Python >= 3.9)")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"timezone {name!r} is not a known IANA time zone") from exc


def normalize_schedule(spec: dict[str, Any]) -> dict[str, Any]:
    """A declared schedule as ``{repeat, days, time, timezone}`` (validated); ``{}`` for no schedule."""
    spec = {k: v for k, v in spec.items() if v is not None}
    if not spec.get("cron") and not spec.get("repeat") and not spec.get("days"):
        if spec.get("time") not in (None, "00:00"):
            raise ScheduleError("time alone is not a schedule; add repeat and days, or use cron")
        return {}  # no scheduled action
    timezone = spec.get("timezone") or "UTC"
    _zone(timezone)
    if spec.get("cron"):
        if spec.get("repeat") or spec.get("days"):
            raise ScheduleError("declare either cron or repeat/days, not both")
        result = parse_cron(str(spec["cron"]))
    else:
        repeat = spec.get("repeat")
        if repeat not in REPEATS:
            raise ScheduleError(f"repeat: {repeat!r}; expected one of {', '.join(REPEATS)} (or use cron)")
        days = sorted({int(d) for d in spec.get("days") or []})
        if not days:
            raise ScheduleError(f"days: required with repeat {repeat}")
        low, high = DAY_RANGES[repeat]
        if days[0] < low or days[-1] > high or (repeat == "hourly" and len(days) != 1):
            raise ScheduleError(f"days: {days} out of range for repeat {repeat} ({low}-{high}"
                                f"{', one value: the interval in hours' if repeat == 'hourly' else ''})")
        time_of_day = str(spec.get("time") or "00:00")
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", time_of_day):
            raise ScheduleError(f"time: {time_of_day!r}; expected HH:MM")
        result = {"repeat": repeat, "days": days, "time": time_of_day}
    result["timezone"] = timezone
    return result


def first_run(schedule: dict[str, Any], now: dt.datetime | None = None) -> int:
    """Epoch of the next run at the schedule's time of day (the ``TIME`` of the scheduled action)."""
    zone = _zone(schedule["timezone"])
    now = (now or dt.datetime.now(tz=dt.timezone.utc)).astimezone(zone)  # noqa: UP017
    hour, minute = (int(x) for x in schedule["time"].split(":"))
    if schedule["repeat"] == "hourly":
        start = now.replace(minute=minute, second=0, microsecond=0)
        if start <= now:
            start += dt.timedelta(hours=1)
    else:
        start = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if start <= now:
            start += dt.timedelta(days=1)
    return int(start.timestamp())


def sched_action(schedule: dict[str, Any], now: dt.datetime | None = None) -> dict[str, str]:
    """The SCHED_ACTION vector of a normalized schedule."""
    return {
        "REPEAT": REPEATS[schedule["repeat"]],
        "DAYS": ",".join(str(d) for d in schedule["days"]),
        "TIME": str(first_run(schedule, now)),
        "END_TYPE": "0",
    }


def schedule_of(action: dict[str, str], timezone: str) -> dict[str, Any]:
    """A scheduled action read from OpenNebula, in the declared form (time of day in ``timezone``)."""
    repeat = REPEAT_NAMES.get(str(action.get("REPEAT", "")), f"REPEAT={action.get('REPEAT', '')}")
    days = sorted(int(d) for d in str(action.get("DAYS", "")).split(",") if d.strip().lstrip("-").isdigit())
    try:
        when = dt.datetime.fromtimestamp(int(str(action.get("TIME", "0")).lstrip("+")), tz=_zone(timezone))
        time_of_day = f"{when.hour:02d}:{when.minute:02d}" if repeat != "hourly" else f"00:{when.minute:02d}"
    except ValueError:
        time_of_day = str(action.get("TIME"))
    view = {"repeat": repeat, "days": days, "time": time_of_day, "timezone": timezone}
    if str(action.get("END_TYPE", "0")) not in ("0", "-1", ""):
        view["end_type"] = str(action.get("END_TYPE"))
    return view


def same_schedule(desired: dict[str, Any], actions: list[dict[str, str]]) -> bool:
    """Whether the job's scheduled actions are exactly the declared one (or none for ``{}``)."""
    if not desired:
        return not actions
    if len(actions) != 1:
        return False
    current = schedule_of(actions[0], desired["timezone"])
    if desired["repeat"] == "hourly" and current["repeat"] == "hourly":
        # runs at TIME + k * N hours: the phase matters modulo the interval
        epoch = int(str(actions[0].get("TIME", "0")).lstrip("+") or 0)
        period = desired["days"][0] * 3600
        in_phase = (epoch - first_run(desired)) % period == 0
        return current["days"] == desired["days"] and in_phase and "end_type" not in current
    return current == desired


def _user_template(vm: Any) -> dict[str, Any]:
    """A VM's USER_TEMPLATE as a dict (pyone's object carries a ``_root`` wrapped in USER_TEMPLATE: use the items)."""
    value = getattr(vm, "USER_TEMPLATE", None)
    return one_template.from_pyone(dict(value) if hasattr(value, "items") else value)


def _actions(template: dict[str, Any]) -> list[dict[str, str]]:
    value = template.get("SCHED_ACTION")
    if value is None or value == "":
        return []
    return [a for a in (value if isinstance(value, list) else [value]) if isinstance(a, dict)]


# ----------------------------------------------------------------------------- the module
class BackupJobModule(OneObjectModule):
    kind = KINDS["backupjob"]
    fact_name = "backupjob"
    argument_spec = {
        "vms": {"type": "list", "elements": "str"},
        "vm_labels": {"type": "list", "elements": "str"},
        "datastore": {"type": "str"},
        "schedule": {
            "type": "dict",
            "options": {
                "cron": {"type": "str"},
                "repeat": {"type": "str", "choices": list(REPEATS)},
                "days": {"type": "list", "elements": "int"},
                "time": {"type": "str", "default": "00:00"},
                "timezone": {"type": "str", "default": "UTC"},
            },
        },
        "keep_last": {"type": "int"},
        "mode": {"type": "str"},
        "priority": {"type": "int"},
        "execution": {"type": "str"},
        "fs_freeze": {"type": "str"},
        "backup_volatile": {"type": "bool"},
        "attributes": {"type": "dict"},
    }

    # ------------------------------------------------------------------ input
    def validate(self) -> None:
        p = self.params
        if p["state"] == "absent":
            return
        for option, allowed, what in (("mode", MODES, "a backup mode"), ("execution", EXECUTIONS, "an execution"),
                                      ("fs_freeze", FS_FREEZES, "a freeze mode")):
            if p[option] is not None:
                value = str(p[option]).upper()
                if value not in allowed:
                    raise OneError(f"{option}: {p[option]!r} is not {what}; expected one of {', '.join(allowed)}",
                                   kind="input")
                p[option] = value
        if p["keep_last"] is not None and p["keep_last"] < 1:
            raise OneError(f"keep_last: {p['keep_last']} must be at least 1", kind="input")
        if p["priority"] is not None and not 0 <= p["priority"] <= 99:
            raise OneError(f"priority: {p['priority']} is out of range; expected an integer from 0 to 99", kind="input")
        reserved = sorted({str(k).upper() for k in p["attributes"] or {}} & RESERVED)
        if reserved:
            raise OneError(f"attributes: {', '.join(reserved)} must be given with the module's own options",
                           kind="input")
        if p["schedule"] is not None:
            try:
                self._schedule = normalize_schedule(p["schedule"])
            except ScheduleError as exc:
                raise OneError(f"schedule: {exc}", kind="input") from None

    # ------------------------------------------------------------------ resolution
    def _vm_ids(self) -> list[int]:
        """Declared VMs (names or ids, in order) then labelled VMs (by id); errors name the field."""
        p = self.params
        pool = self.pool(KINDS["vm"])
        ids: list[int] = []
        for entry in p["vms"] or []:
            entry = str(entry)
            if entry.isdigit():
                if not any(int(vm.ID) == int(entry) for vm in pool):
                    raise OneError(f"vms: no virtual machine with id {entry} exists in OpenNebula", kind="input")
                vm_id = int(entry)
            else:
                matches = [int(vm.ID) for vm in pool if vm.NAME == entry]
                if not matches:
                    raise OneError(f"vms: no virtual machine named '{entry}' exists in OpenNebula", kind="input")
                if len(matches) > 1:
                    raise OneError(f"vms: several virtual machines are named '{entry}' (ids "
                                   f"{', '.join(map(str, sorted(matches)))}); give the id instead", kind="input")
                vm_id = matches[0]
            if vm_id not in ids:
                ids.append(vm_id)
        wanted = set(labels_of(p["vm_labels"] or []))
        if wanted:
            for vm in sorted(pool, key=lambda v: int(v.ID)):
                user_template = _user_template(vm)
                if wanted & set(labels_of(user_template.get("LABELS"))) and int(vm.ID) not in ids:
                    ids.append(int(vm.ID))
        return ids

    def _datastore(self) -> tuple[int, str]:
        declared = self.params["datastore"]
        ds_id = self.id_of("datastore", declared, "datastore")
        ds = next((d for d in self.pool(KINDS["datastore"]) if int(d.ID) == ds_id), None)
        if ds is None:
            raise OneError(f"datastore: no datastore with id {ds_id} exists in OpenNebula", kind="input")
        if int(getattr(ds, "TYPE", -1)) != 3:
            raise OneError(f"datastore: '{ds.NAME}' (id {ds_id}) is not a backup datastore (TYPE BACKUP_DS)",
                           kind="input")
        return ds_id, ds.NAME

    # ------------------------------------------------------------------ views
    def desired(self) -> dict[str, Any]:
        p = self.params
        view: dict[str, Any] = {}
        if p["vms"] is not None or p["vm_labels"] is not None:
            view["vms"] = self._vm_ids()
        if p["datastore"] is not None:
            ds_id, ds_name = self._datastore()
            view["datastore"] = ref_view(p["datastore"], ds_id, ds_name)
        for option in TEMPLATE_OPTIONS:
            if p[option] is not None:
                view[option] = one_template.scalar(p[option])
        if p["priority"] is not None:
            view["priority"] = p["priority"]
        if p["schedule"] is not None:
            view["schedule"] = self._schedule
        if p["attributes"]:
            view["attributes"] = one_template.normalize(p["attributes"], "attributes")
        return view

    def current(self, obj: Any) -> dict[str, Any]:
        p = self.params
        template = one_template.from_pyone(getattr(obj, "TEMPLATE", None))
        view: dict[str, Any] = {
            "vms": [int(v) for v in str(template.get("BACKUP_VMS", "")).split(",") if v.strip().isdigit()],
            "priority": int(getattr(obj, "PRIORITY", 50)),
        }
        ds_id = template.get("DATASTORE_ID")
        if p.get("datastore") is not None and ds_id not in (None, ""):
            names = self.names_of("datastore", [int(ds_id)])
            view["datastore"] = ref_view(p["datastore"], ds_id, names[0])
        else:
            view["datastore"] = ds_id
        for option, attribute in TEMPLATE_OPTIONS.items():
            view[option] = template.get(attribute)
        actions = _actions(template)
        timezone = (getattr(self, "_schedule", None) or {}).get("timezone", "UTC")
        view["schedule"] = [schedule_of(a, timezone) for a in actions]
        if p.get("attributes"):
            view["attributes"] = {k: template.get(k) for k in one_template.normalize(p["attributes"], "attributes")}
        return view

    def same(self, key: str, desired: Any, current: Any) -> bool:
        if key == "schedule":
            return same_schedule(desired, self._current_actions)
        if key == "vms":
            return list(desired) == list(current or [])
        if key == "priority":
            return int(desired) == int(current)
        return super().same(key, desired, current)

    def lookup(self, name: str) -> Any | None:
        """The job by name, read in full: the pool listing does not carry its scheduled actions."""
        obj = super().lookup(name)
        if obj is not None:
            obj = self.info(int(obj.ID))
        self._current_actions = _actions(one_template.from_pyone(getattr(obj, "TEMPLATE", None))) if obj else []
        return obj

    def facts(self, obj: Any) -> dict[str, Any]:
        template = one_template.from_pyone(getattr(obj, "TEMPLATE", None))
        vms = [int(v) for v in str(template.get("BACKUP_VMS", "")).split(",") if v.strip().isdigit()]
        by_id = {int(vm.ID): vm.NAME for vm in self.pool(KINDS["vm"])}
        timezone = (getattr(self, "_schedule", None) or {}).get("timezone", "UTC")
        schedule = []
        for action in _actions(template):
            view = schedule_of(action, timezone)
            view["epoch"] = int(str(action.get("TIME", "0")).lstrip("+") or 0)
            schedule.append(view)
        ds_id = template.get("DATASTORE_ID")
        return {
            "id": int(obj.ID),
            "name": obj.NAME,
            "vms": vms,
            "vm_names": [by_id.get(v, str(v)) for v in vms],
            "datastore_id": int(ds_id) if str(ds_id or "").isdigit() else None,
            "schedule": schedule,
            **{option: template.get(attribute) for option, attribute in TEMPLATE_OPTIONS.items()},
            "priority": int(getattr(obj, "PRIORITY", 50)),
            "last_backup_time": int(getattr(obj, "LAST_BACKUP_TIME", 0) or 0),
            "outdated_vms": id_list(getattr(obj, "OUTDATED_VMS", None)),
            "error_vms": id_list(getattr(obj, "ERROR_VMS", None)),
        }

    # ------------------------------------------------------------------ writes
    def _template(self, desired: dict[str, Any]) -> dict[str, Any]:
        template: dict[str, Any] = dict(desired.get("attributes") or {})
        if "vms" in desired:
            template["BACKUP_VMS"] = ",".join(str(v) for v in desired["vms"])
        if "datastore" in desired:
            template["DATASTORE_ID"] = str(self.id_of("datastore", desired["datastore"], "datastore"))
        for option, attribute in TEMPLATE_OPTIONS.items():
            if option in desired:
                template[attribute] = desired[option]
        return template

    def create(self, desired: dict[str, Any]) -> int:
        if "datastore" not in desired:
            raise OneError("datastore: required to create a backup job (the backup datastore's name or id)",
                           kind="input")
        if "vms" not in desired:
            raise OneError("vms: declare vms and/or vm_labels to create a backup job", kind="input")
        template = {"NAME": self.params["name"], **self._template(desired)}
        if "priority" in desired:
            template["PRIORITY"] = str(desired["priority"])
        if desired.get("schedule"):
            template["SCHED_ACTION"] = sched_action(desired["schedule"])
        return int(self.call("backupjob.allocate", one_template.render(template)))

    def apply(self, obj: Any, changes: dict[str, Any], desired: dict[str, Any]) -> None:
        job_id = int(obj.ID)
        update_template(self, job_id, self._template({k: v for k, v in changes.items() if k != "schedule"}))
        if "priority" in changes:
            self.call("backupjob.priority", job_id, int(changes["priority"]))
        if "schedule" in changes:
            actions = self._current_actions
            wanted = changes["schedule"]
            keep = actions[:1] if wanted else []
            for action in actions[len(keep):]:
                self.call("backupjob.scheddelete", job_id, int(action["ID"]))
            if wanted:
                text = one_template.render({"SCHED_ACTION": sched_action(wanted)})
                if keep:
                    self.call("backupjob.schedupdate", job_id, int(keep[0]["ID"]), text)
                else:
                    self.call("backupjob.schedadd", job_id, text)

    def _diff_values(self, desired: Any, current: Any) -> tuple[Any, Any]:  # type: ignore[override]
        if isinstance(desired, dict) and isinstance(current, list):  # schedule
            return (current[0] if len(current) == 1 else current), desired
        return OneObjectModule._diff_values(desired, current)


def main() -> None:
    BackupJobModule().run()


if __name__ == "__main__":
    main()
