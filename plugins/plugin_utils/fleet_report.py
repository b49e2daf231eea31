# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report of a run over an academy: per school converged / drifted / failed, what changed or would
change (object, attribute), time and OpenNebula API calls; as a JSON document and a static HTML page.

Pure code (no Ansible import): the ``eole.hapy.fleet_report`` callback feeds it task results, tests feed it dicts.

Result contract (what :func:`object_results` reads from a task result, documented in ``docs/fleet-report.md``):

* a module result describes one object: ``changed``, ``diff`` (``{before, after}``), ``changes`` (the attribute
  names that differ), ``failed``/``msg``, ``api_calls`` (``{total, writes}``), and its identity: ``name``, else
  ``diff.after.name`` / ``diff.before.name``, else the fact named after its kind (``vnet.name``...), else the
  module's ``name`` argument, else the loop item's label;
* a result holding a list ``results`` (an Ansible loop, or a batched module) or ``objects`` (a batched module)
  describes one object per entry, each with the keys above (entries may add ``kind``);
* API calls are counted once per task: the result's own ``api_calls`` when present (a batched module reports its
  calls there), else the sum of its entries'.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

FORMAT = "eole.hapy.fleet_report/1"
SCHOOL_PREFIX = "etb_"
ENTRY_LISTS = ("results", "objects")

CONVERGED, DRIFTED, FAILED = "converged", "drifted", "failed"
STATUS_ORDER = {FAILED: 0, DRIFTED: 1, CONVERGED: 2}


def module_kind(action: str) -> str:
    """``eole.hapy.one_vnet`` -> ``vnet``; ``ansible.builtin.template`` -> ``template``."""
    short = action.rsplit(".", 1)[-1]
    return short[4:] if short.startswith("one_") else short


def _entries(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The per-object entries of a loop or batched result (``results``/``objects``)."""
    return [entry for key in ENTRY_LISTS if isinstance(result.get(key), list) for entry in result[key]
            if isinstance(entry, Mapping)]


def object_results(result: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The per-object results of a task result: its ``results``/``objects`` entries (recursively), or itself."""
    entries = _entries(result)
    if not entries:
        yield result
        return
    for entry in entries:
        yield from object_results(entry)


def api_calls(result: Mapping[str, Any]) -> tuple[int, int]:
    """(total, writes) of a task result: its own ``api_calls``, else the sum of its entries'."""
    own = result.get("api_calls")
    if isinstance(own, Mapping):
        return int(own.get("total") or 0), int(own.get("writes") or 0)
    counts = [api_calls(entry) for entry in _entries(result)]
    return sum(count[0] for count in counts), sum(count[1] for count in counts)


def _name_of(entry: Mapping[str, Any], kind: str) -> str | None:
    diff = entry.get("diff") if isinstance(entry.get("diff"), Mapping) else {}
    candidates = [entry.get("name"), (diff.get("after") or {}).get("name") if isinstance(diff.get("after"), Mapping)
                  else None, (diff.get("before") or {}).get("name") if isinstance(diff.get("before"), Mapping)
                  else None, entry[kind].get("name") if isinstance(entry.get(kind), Mapping) else None,
                  (entry.get("invocation") or {}).get("module_args", {}).get("name")
                  if isinstance(entry.get("invocation"), Mapping) else None,
                  entry.get("_ansible_item_label"), entry.get("item") if isinstance(entry.get("item"), str) else None]
    return next((str(c) for c in candidates if c not in (None, "")), None)


def _attribute_names(before: Mapping[str, Any], after: Mapping[str, Any], keys: list[str]) -> list[str]:
    """The changed ``keys``; a key whose before and after are both mappings (a template, a CONTEXT) as its differing
    sub-attributes, ``template.DESCRIPTION``."""
    names = []
    for key in keys:
        old, new = before.get(key), after.get(key)
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            subs = sorted(str(sub) for sub in set(old) | set(new) if old.get(sub) != new.get(sub))
            names += [f"{key}.{sub}" for sub in subs] or [str(key)]
        else:
            names.append(str(key))
    return names


def _attributes(entry: Mapping[str, Any]) -> tuple[str, list[str]]:
    """(action, attribute names) of a changed object: create / delete / update and what differs."""
    diff = entry.get("diff")
    changes = [str(c) for c in entry["changes"]] if isinstance(entry.get("changes"), list) else None
    if isinstance(diff, Mapping) and all(isinstance(diff.get(side), Mapping) for side in ("before", "after")):
        before, after = diff["before"], diff["after"]
        if not before and after:
            return "create", []
        if before and not after:
            return "delete", []
        keys = changes if changes is not None else sorted(
            str(k) for k in set(before) | set(after) if k != "name" and before.get(k) != after.get(k))
        return "update", _attribute_names(before, after, keys)
    if changes is not None:
        return "update", changes
    files = diff if isinstance(diff, list) else [diff] if isinstance(diff, Mapping) else []
    headers = sorted({str(d.get("after_header") or d.get("before_header")) for d in files
                      if isinstance(d, Mapping) and (d.get("after_header") or d.get("before_header"))})
    return "update", headers


def object_changes(action: str, task: str, result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One record per object the task changed (or would change in check mode)."""
    kind = module_kind(action)
    changes = []
    for entry in object_results(result):
        if not entry.get("changed") or entry.get("failed") or entry.get("skipped"):
            continue
        if "censored" in entry:
            changes.append({"task": task, "kind": kind, "object": None, "action": "hidden", "attributes": [],
                            "hidden": True})
            continue
        change_action, attributes = _attributes(entry)
        changes.append({"task": task, "kind": str(entry.get("kind") or kind), "object": _name_of(entry, kind),
                        "action": change_action, "attributes": attributes})
    return changes


def failure_messages(result: Mapping[str, Any]) -> list[str]:
    """The messages of a failed result (its failed entries', for a loop or a batch)."""
    messages = [str(entry.get("msg") or entry.get("censored") or "failed") for entry in object_results(result)
                if entry.get("failed") or entry.get("unreachable")]
    if not messages:
        messages = [str(result.get("msg") or result.get("censored") or "failed")]
    return messages


@dataclass
class SchoolRun:
    """What one run did to one school (the hosts of its ``etb_<uai>`` group)."""

    group: str
    uai: str
    name: str | None = None
    hosts: set[str] = field(default_factory=set)
    started: float | None = None
    ended: float | None = None
    tasks: dict[str, int] = field(default_factory=lambda: {"ok": 0, "changed": 0, "failed": 0, "skipped": 0})
    api_total: int = 0
    api_writes: int = 0
    hidden: int = 0  # no_log results: their details and API calls are not in the report
    changes: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)

    def status(self, check_mode: bool) -> str:
        if self.failures:
            return FAILED
        if check_mode and self.changes:
            return DRIFTED
        return CONVERGED

    def as_dict(self, check_mode: bool) -> dict[str, Any]:
        duration = round(self.ended - self.started, 3) if self.started is not None and self.ended is not None \
            else None
        return {"group": self.group, "uai": self.uai, "name": self.name, "hosts": sorted(self.hosts),
                "status": self.status(check_mode), "started": self.started, "ended": self.ended,
                "duration": duration, "tasks": dict(self.tasks),
                "api_calls": {"total": self.api_total, "writes": self.api_writes},
                "hidden_results": self.hidden, "changes": self.changes, "failures": self.failures}


class FleetReport:
    """Accumulates task results per school; :meth:`as_dict` is the run's JSON document."""

    def __init__(self, run: dict[str, Any]) -> None:
        self.run = run  # id, playbook, started, check_mode, ... (set by the caller)
        self.schools: dict[str, SchoolRun] = {}
        self.other_failures: list[dict[str, Any]] = []  # hosts outside any school (localhost checks)

    def school(self, group: str, name: str | None = None) -> SchoolRun:
        school = self.schools.get(group)
        if school is None:
            school = self.schools[group] = SchoolRun(group, group[len(SCHOOL_PREFIX):].upper(), name)
        return school

    def task_started(self, group: str, host: str, when: float) -> None:
        school = self.school(group)
        school.hosts.add(host)
        school.started = when if school.started is None else min(school.started, when)

    def task_result(self, group: str | None, host: str, status: str, action: str, task: str,
                    result: Mapping[str, Any], when: float) -> None:
        """``status``: ok, changed, failed, unreachable, skipped (as the callback saw the result)."""
        if group is None:
            if status in ("failed", "unreachable"):
                self.other_failures += [{"host": host, "task": task, "msg": m} for m in failure_messages(result)]
            return
        school = self.school(group)
        school.hosts.add(host)
        school.ended = when if school.ended is None else max(school.ended, when)
        school.tasks["failed" if status == "unreachable" else status] += 1
        total, writes = api_calls(result)
        school.api_total += total
        school.api_writes += writes
        school.hidden += "censored" in result and status != "skipped"  # a skipped no_log task hides nothing
        if status in ("failed", "unreachable"):
            school.failures += [{"host": host, "task": task, "msg": m, "unreachable": status == "unreachable"}
                                for m in failure_messages(result)]
        school.changes += [{**change, "host": host} for change in object_changes(action, task, result)]

    def as_dict(self) -> dict[str, Any]:
        check_mode = bool(self.run.get("check_mode"))
        schools = sorted((s.as_dict(check_mode) for s in self.schools.values()),
                         key=lambda s: (STATUS_ORDER[s["status"]], s["uai"]))
        counts = {status: sum(s["status"] == status for s in schools) for status in STATUS_ORDER}
        totals = {"schools": len(schools), **counts,
                  "changes": sum(len(s["changes"]) for s in schools),
                  "api_calls": {"total": sum(s["api_calls"]["total"] for s in schools),
                                "writes": sum(s["api_calls"]["writes"] for s in schools)}}
        return {"format": FORMAT, "run": self.run, "totals": totals, "schools": schools,
                "other_failures": self.other_failures}


# ---------------------------------------------------------------------------------------------------- HTML page
_CSS = """
body{font-family:DejaVu Sans,Arial,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em;margin:0 0 .3em}
.run{color:#555;margin-bottom:1em}
.totals span{display:inline-block;margin-right:1.2em;font-weight:bold}
table{border-collapse:collapse;width:100%;margin-top:1em}
th,td{border-bottom:1px solid #ddd;padding:.35em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
th,.status{white-space:nowrap}
.status{font-weight:bold;padding:.1em .5em;border-radius:.3em;color:#fff}
.status.converged{background:#2e7d32}.status.drifted{background:#ef6c00}.status.failed{background:#c62828}
details{margin:.2em 0}
ul{margin:.2em 0 .2em 1.2em;padding:0}
.failure{color:#c62828}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _seconds(value: float | None) -> str:
    if value is None:
        return ""
    minutes, seconds = divmod(round(value), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{value:.1f} s"


def _change_line(change: Mapping[str, Any], check_mode: bool) -> str:
    if change.get("hidden"):
        return f"<li>{_e(change['kind'])}: details hidden (no_log) &mdash; task {_e(change['task'])}</li>"
    verb = {"create": "would be created" if check_mode else "created",
            "delete": "would be deleted" if check_mode else "deleted"}.get(change["action"])
    what = verb or ("would change " if check_mode else "changed ") + (", ".join(change["attributes"]) or "")
    return (f"<li><span class=\"kind\">{_e(change['kind'])}</span> <b class=\"object\">{_e(change['object'])}</b>: "
            f"<span class=\"attributes\">{_e(what)}</span></li>")


def _school_rows(school: Mapping[str, Any], check_mode: bool) -> str:
    status = school["status"]
    calls = school["api_calls"]
    summary = ", ".join([f"{len(school['changes'])} change(s)"]
                        + ([f"{len(school['failures'])} failure(s)"] if school["failures"] else []))
    items = "".join(f"<li class=\"failure\">{_e(f['host'])}: {_e(f['task'])}: {_e(f['msg'])}</li>"
                    for f in school["failures"])
    items += "".join(_change_line(c, check_mode) for c in school["changes"])
    opened = " open" if status != CONVERGED else ""
    hidden = (f"<br><small>+ {school['hidden_results']} no_log result(s) not counted</small>"
              if school["hidden_results"] else "")
    details = f"<details{opened}><summary>{_e(summary)}</summary><ul>{items}</ul></details>" if items else ""
    return (f"<tr class=\"school\" data-uai=\"{_e(school['uai'])}\" data-status=\"{_e(status)}\">"
            f"<td><span class=\"status {_e(status)}\">{_e(status)}</span></td>"
            f"<td class=\"uai\">{_e(school['uai'])}</td><td>{_e(school['name'])}</td>"
            f"<td>{details or 'no change'}</td><td class=\"num\">{_e(_seconds(school['duration']))}</td>"
            f"<td class=\"num\">{calls['total']} / {calls['writes']}{hidden}</td></tr>")


def render_html(report: Mapping[str, Any]) -> str:
    """The report as one static page (inline CSS, no script, no external asset)."""
    run, totals = report["run"], report["totals"]
    check_mode = bool(run.get("check_mode"))
    mode = "check (--check: nothing was changed, drift shown)" if check_mode else "run"
    rows = "".join(_school_rows(s, check_mode) for s in report["schools"])
    others = "".join(f"<li class=\"failure\">{_e(f['host'])}: {_e(f['task'])}: {_e(f['msg'])}</li>"
                     for f in report.get("other_failures") or [])
    awx = run.get("awx") or {}
    awx_line = f" &middot; AWX job {_e(awx.get('job_id'))} {_e(awx.get('job_template_name'))}" if awx else ""
    return f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Hâpy fleet report {_e(run.get('id'))}</title>
<style>{_CSS}</style></head><body>
<h1>Hâpy fleet report &mdash; {_e(run.get('playbook'))}</h1>
<div class="run">Run {_e(run.get('id'))} &middot; mode: {_e(mode)} &middot; started {_e(run.get('started_at'))} (UTC)
&middot; {_e(_seconds(run.get('duration')))}{awx_line}</div>
<div class="totals"><span>{totals['schools']} school(s)</span>
<span id="total-converged">{totals[CONVERGED]} converged</span>
<span id="total-drifted">{totals[DRIFTED]} drifted</span>
<span id="total-failed">{totals[FAILED]} failed</span>
<span>{totals['changes']} change(s)</span>
<span>API calls {totals['api_calls']['total']} ({totals['api_calls']['writes']} writes)</span></div>
{f'<h2>Outside the schools</h2><ul>{others}</ul>' if others else ''}
<table><thead><tr><th>Status</th><th>UAI</th><th>School</th><th>Changes</th><th>Time</th>
<th>API calls (total / writes)</th></tr></thead><tbody>
{rows}
</tbody></table>
</body></html>
"""


def dump_json(report: Mapping[str, Any]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False, sort_keys=False, default=str)
