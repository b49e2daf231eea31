# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Callback eole.hapy.fleet_report: one JSON file and one static HTML page per run over an academy."""

from __future__ import annotations

DOCUMENTATION = r"""
name: fleet_report
type: aggregate
short_description: Per-school report of a run over an academy (JSON and a static HTML page)
version_added: "0.1.0"
author: eole.hapy contributors (!UNKNOWN)
description:
  - Writes, at the end of each C(ansible-playbook) run (or C(--check) run), one JSON document and one static HTML
    page (inline style, no script, no external asset - it opens offline) that say per school (the hosts of each
    C(etb_<uai>) group) whether it is C(converged), C(drifted) (check mode - something would change) or C(failed),
    what changed or would change (object kind, object name, action, attribute names), the school's time (first
    task started to last result) and the OpenNebula API calls its tasks made (total and writes, from the modules'
    C(api_calls)).
  - Cloud-level tasks run delegated to localhost; their results are the school host's, so they count for its school.
  - Reads every eole.hapy module result, Ansible loops, and batched results holding a list C(results) or C(objects)
    of per-object results with the same keys (C(changed), C(diff), C(changes), C(name), C(kind), C(api_calls));
    the contract is in C(docs/fleet-report.md).
  - Results of C(no_log) tasks are counted as hidden (their objects and API calls are not in the report).
    Attribute values are never written (names only); C(--diff) shows them in the run's output.
  - An aggregate callback, it does not replace the stdout callback. Enable it with
    C(ANSIBLE_CALLBACKS_ENABLED=eole.hapy.fleet_report) or C(callbacks_enabled) in C(ansible.cfg).
options:
  report_dir:
    description:
      - Directory of the reports, created if missing. Each run writes C(hapy-report-<run id>.json) and
        C(.html) there, and copies them to C(latest.json) and C(latest.html).
    type: path
    default: ~/.ansible/hapy-fleet-reports
    env:
      - name: HAPY_FLEET_REPORT_DIR
    ini:
      - section: callback_fleet_report
        key: report_dir
requirements:
  - enabled in configuration (C(callbacks_enabled)), see above
"""

import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ansible import context
from ansible.plugins.callback import CallbackBase
from ansible_collections.eole.hapy.plugins.plugin_utils.fleet_report import (
    SCHOOL_PREFIX,
    FleetReport,
    dump_json,
    render_html,
)

AWX_VARS = ("job_id", "job_template_name", "user_name", "schedule_name", "inventory_name")


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class CallbackModule(CallbackBase):
    """Feeds each task result to a :class:`FleetReport` and writes it when the playbook ends."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "eole.hapy.fleet_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self.report: FleetReport | None = None
        self.started = time.time()
        self.play: Any = None
        self.names: dict[str, str | None] = {}  # school group -> hapy_school.name

    # ------------------------------------------------------------------------------------------ run and plays
    def v2_playbook_on_start(self, playbook: Any) -> None:
        self.started = time.time()
        args = context.CLIARGS
        name = Path(getattr(playbook, "_file_name", "playbook")).name
        self.report = FleetReport({
            "id": f"{datetime.fromtimestamp(self.started, UTC):%Y%m%dT%H%M%SZ}-{os.getpid()}",
            "playbook": name, "started": self.started, "started_at": _iso(self.started),
            "check_mode": bool(args.get("check")), "diff_mode": bool(args.get("diff")),
            "limit": args.get("subset"), "tags": list(args.get("tags") or []),
        })

    def v2_playbook_on_play_start(self, play: Any) -> None:
        self.play = play
        if self.report is None:
            return
        extra = play.get_variable_manager().extra_vars
        awx = {key: extra.get(f"awx_{key}", extra.get(f"tower_{key}")) for key in AWX_VARS}
        if any(value is not None for value in awx.values()):
            self.report.run["awx"] = {key: value for key, value in awx.items() if value is not None}
            self.report.run["id"] = f"awx-{awx['job_id']}" if awx.get("job_id") else self.report.run["id"]

    # ------------------------------------------------------------------------------------------ task results
    def _school_of(self, host: Any) -> str | None:
        groups = sorted(g.name for g in host.get_groups() if g.name.startswith(SCHOOL_PREFIX))
        if not groups:
            return None
        group = groups[0]
        if group not in self.names:
            self.names[group] = self._school_name(host)
            self.report.school(group).name = self.names[group]
        return group

    def _school_name(self, host: Any) -> str | None:
        """``hapy_school.name`` as the inventory gives it (host or group variable)."""
        try:
            variables = self.play.get_variable_manager().get_vars(play=self.play, host=host, include_hostvars=False)
            school = variables.get("hapy_school")
            return str(school.get("name")) if isinstance(school, dict) and school.get("name") else None
        except Exception as exc:  # the report is a by-product: a name it cannot read is left out, never fatal
            self._display.vvv(f"eole.hapy.fleet_report: no school name for {host.name}: {exc}")
            return None

    def v2_runner_on_start(self, host: Any, task: Any) -> None:
        if self.report is not None and (group := self._school_of(host)) is not None:
            self.report.task_started(group, host.name, time.time())

    def _record(self, result: Any, status: str) -> None:
        if self.report is None:
            return
        task = result.task
        self.report.task_result(self._school_of(result.host), result.host.name, status, task.action,
                                result.task_name, result.result, time.time())

    def v2_runner_on_ok(self, result: Any) -> None:
        self._record(result, "changed" if result.is_changed() else "ok")

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        self._record(result, "ok" if ignore_errors else "failed")

    def v2_runner_on_unreachable(self, result: Any) -> None:
        self._record(result, "unreachable")

    def v2_runner_on_skipped(self, result: Any) -> None:
        self._record(result, "skipped")

    # ------------------------------------------------------------------------------------------ the files
    def v2_playbook_on_stats(self, stats: Any) -> None:
        if self.report is None:
            return
        ended = time.time()
        self.report.run.update(ended=ended, ended_at=_iso(ended), duration=round(ended - self.started, 3))
        document = self.report.as_dict()
        directory = Path(os.path.expanduser(self.get_option("report_dir")))
        try:
            directory.mkdir(parents=True, exist_ok=True)
            stem = directory / f"hapy-report-{document['run']['id']}"
            for suffix, text in ((".json", dump_json(document)), (".html", render_html(document))):
                path = stem.with_suffix(suffix)
                path.write_text(text, encoding="utf-8")
                shutil.copyfile(path, directory / f"latest{suffix}")
        except OSError as exc:
            self._display.warning(f"eole.hapy.fleet_report: cannot write the report in {directory}: {exc}")
            return
        totals = document["totals"]
        self._display.display(f"Fleet report: {totals['schools']} school(s), {totals['converged']} converged, "
                              f"{totals['drifted']} drifted, {totals['failed']} failed -> {stem}.html")
