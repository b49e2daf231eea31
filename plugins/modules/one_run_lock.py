#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A run lock held in OpenNebula: one playbook run at a time per school."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: one_run_lock
short_description: Take or release a school's run lock, kept as a document in its OpenNebula
description:
  - Makes sure one playbook run at a time changes a school's OpenNebula objects (C(playbooks/site.yml) takes it
    before the cloud level and releases it after, also when the run fails).
  - The lock is an OpenNebula generic document (C(one.document.*)) of a type of its own, named O(name). Each run
    allocates its own document holding who runs (O(holder)), since when and the run's id (O(run_id)), then lists
    the lock documents of that name; the lowest id holds the lock (ids are handed out in order by oned, so two runs
    starting at the same instant agree on the winner). The loser deletes its document and fails with a message
    naming the holder and since when.
  - Taking a lock the same run already holds, or releasing a lock it does not hold, makes no write call.
  - A lock older than O(stale_after) seconds, or any lock when O(break_lock=true), is broken (its documents
    deleted, with a warning naming the holder) before this run takes it.
  - In check mode nothing is written; a lock held by another run is reported as a warning (a C(--check) run only
    reads).
version_added: 0.2.0
author: eole.hapy contributors (!UNKNOWN)
options:
  name:
    description: Name of the lock (one per school's OpenNebula; the site playbook uses V(hapy-site-run)).
    type: str
    default: hapy-site-run
  state:
    description: V(present) takes the lock for O(run_id), V(absent) releases what O(run_id) holds.
    type: str
    choices: [present, absent]
    default: present
  run_id:
    description:
      - Identifies this run (the same value for every task of the run, e.g. made once on the controller at the
        start of the playbook). Letters, digits, C(.), C(_), C(-), C(:) and C(@); up to 128 characters.
    type: str
    required: true
  holder:
    description:
      - Who holds the lock, in words shown to whoever waits for it (e.g. C(AWX job 1234) or C(jdupont@console)).
        Default C(<user>@<controller host>).
    type: str
  stale_after:
    description:
      - Seconds after which a lock is taken as stale and broken (a run killed before releasing it). V(0) never.
        Measured with the controller's clock against the time written by the holder's controller.
    type: int
    default: 14400
  break_lock:
    description: Break the lock whoever holds it (after checking that the holder's run is really gone).
    type: bool
    default: false
extends_documentation_fragment:
  - eole.hapy.one_connection
notes:
  - Runs on the host that reaches the OpenNebula XML-RPC endpoint (usually the controller); needs C(pyone).
  - OpenNebula's own C(one.document.lock) is not used as the lock itself; it is owned by a user id and every run
    of a site authenticates as the same user (C(oneadmin)), so it cannot tell two runs apart.
seealso:
  - module: eole.hapy.one_cluster
"""

EXAMPLES = r"""
- name: Take the school's run lock
  eole.hapy.one_run_lock:
    run_id: "{{ hapy_run_id }}"
    holder: "AWX job {{ awx_job_id }}"
    api_url: http://10.1.1.250:2633/RPC2
    api_username: oneadmin
    api_password: "{{ vault_oneadmin_password }}"
  delegate_to: localhost

- name: Break a stale lock left by a killed run
  eole.hapy.one_run_lock:
    run_id: "{{ hapy_run_id }}"
    break_lock: true
  delegate_to: localhost

- name: Release it
  eole.hapy.one_run_lock:
    run_id: "{{ hapy_run_id }}"
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
lock:
  description: The lock held by this run after the task (empty when released or not taken).
  returned: always
  type: dict
  contains:
    id:
      description: OpenNebula id of the lock document (absent in check mode before the first take).
      type: int
      sample: 3
    holder:
      description: Who holds the lock.
      type: str
      sample: AWX job 1234
    run_id:
      description: The run holding it.
      type: str
      sample: 20261203T170201-4f2a
    since:
      description: When the lock was taken (UTC, ISO 8601).
      type: str
      sample: "2026-12-03T17:02:01+00:00"
broken:
  description: The locks this task broke (stale, or O(break_lock)), with their holder and since when.
  returned: always
  type: list
  elements: dict
  sample: [{id: 2, holder: jdupont@console, run_id: r1, since: "2026-12-03T09:00:00+00:00"}]
api_calls:
  description: XML-RPC calls the task made, in total and writes only.
  returned: always
  type: dict
  sample: {total: 2, writes: 1}
"""

import getpass
import re
import socket
import time
from datetime import UTC, datetime
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.eole.hapy.plugins.module_utils import one_template
from ansible_collections.eole.hapy.plugins.module_utils.one_client import (
    CONNECTION_ARGSPEC,
    Credentials,
    OneClient,
    OneError,
)

#: TYPE of the lock documents (documents are typed by their users: OneFlow uses 100 and 101).
LOCK_DOCUMENT_TYPE = 9740
RUN_ID_RE = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")


def lock_view(doc: Any) -> dict[str, Any]:
    """A lock document as the module reports it."""
    tmpl = doc.TEMPLATE or {}
    since = str(tmpl.get("SINCE", "") or "")
    return {"id": int(doc.ID), "holder": str(tmpl.get("HOLDER", "") or "unknown"),
            "run_id": str(tmpl.get("RUN_ID", "") or ""),
            "since": _iso(int(since)) if since.isdigit() else "unknown"}


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat()


def is_stale(doc: Any, stale_after: int, now: float) -> bool:
    """Whether a lock document is older than ``stale_after`` seconds (0: never; no time written: stale)."""
    if stale_after <= 0:
        return False
    since = str((doc.TEMPLATE or {}).get("SINCE", "") or "")
    return not since.isdigit() or now - int(since) > stale_after


def held_message(doc: Any, name: str) -> str:
    view = lock_view(doc)
    return (f"the run lock {name!r} of this OpenNebula is held by {view['holder']} since {view['since']} "
            f"(run {view['run_id'] or 'unknown'}, document {view['id']}): another run is changing this school. "
            "Wait for it to end; if it was killed, break the lock with -e hapy_lock_break=true "
            "(or it expires after stale_after seconds)")


class RunLock:
    """Take or release one run lock."""

    def __init__(self, module: AnsibleModule):
        self.module = module
        self.params = module.params
        self.client: OneClient | None = None

    def validate(self) -> None:
        name, run_id = self.params["name"], self.params["run_id"]
        if not name or len(name) > one_template.ONE_NAME_MAX_LENGTH:
            raise OneError(f"name: {name!r}; expected 1 to {one_template.ONE_NAME_MAX_LENGTH} characters",
                           kind="input")
        if not RUN_ID_RE.match(run_id):
            raise OneError(f"run_id: {run_id!r}; expected letters, digits, '.', '_', '-', ':' or '@' "
                           "(1 to 128 characters)", kind="input")
        holder = self.holder()
        try:
            one_template.check_value(holder, "holder")
        except one_template.TemplateError as exc:
            raise OneError(str(exc), kind="input") from exc
        if self.params["stale_after"] < 0:
            raise OneError(f"stale_after: {self.params['stale_after']}; expected 0 (never) or seconds", kind="input")

    def holder(self) -> str:
        return self.params.get("holder") or f"{getpass.getuser()}@{socket.gethostname()}"

    def locks(self) -> list[Any]:
        """The lock documents of this name, oldest (lowest id) first."""
        pool = self.client.call("documentpool.info", -2, -1, -1, LOCK_DOCUMENT_TYPE)
        docs = [d for d in (pool.DOCUMENT or []) if d.NAME == self.params["name"]]
        return sorted(docs, key=lambda d: int(d.ID))

    def mine(self, docs: list[Any]) -> list[Any]:
        return [d for d in docs if lock_view(d)["run_id"] == self.params["run_id"]]

    def release(self) -> dict[str, Any]:
        mine = self.mine(self.locks())
        if mine and not self.module.check_mode:
            for doc in mine:
                self.client.call("document.delete", int(doc.ID))
        return {"changed": bool(mine), "lock": {}, "broken": []}

    def take(self) -> dict[str, Any]:
        docs = self.locks()
        mine = self.mine(docs)
        if mine and mine[0] is docs[0]:
            return {"changed": False, "lock": lock_view(mine[0]), "broken": []}
        now = time.time()
        others = [d for d in docs if d not in mine]
        breakable = [d for d in others if self.params["break_lock"] or is_stale(d, self.params["stale_after"], now)]
        if len(breakable) < len(others):
            holder = next(d for d in others if d not in breakable)
            if self.module.check_mode:
                self.module.warn(held_message(holder, self.params["name"]))
                return {"changed": False, "lock": {}, "broken": []}
            raise OneError(held_message(holder, self.params["name"]), kind="locked")
        broken = [lock_view(d) for d in breakable]
        for view in broken:
            self.module.warn(f"broke the run lock held by {view['holder']} since {view['since']} "
                             f"(run {view['run_id'] or 'unknown'}, document {view['id']})")
        if self.module.check_mode:
            return {"changed": True, "broken": broken,
                    "lock": {"holder": self.holder(), "run_id": self.params["run_id"], "since": _iso(int(now))}}
        for doc in breakable:
            self.client.call("document.delete", int(doc.ID))
        if mine:  # this run's own lock, now the oldest
            return {"changed": True, "lock": lock_view(mine[0]), "broken": broken}
        return self._allocate(int(now), broken)

    def _allocate(self, now: int, broken: list[dict[str, Any]]) -> dict[str, Any]:
        text = one_template.render({"NAME": self.params["name"], "HOLDER": self.holder(),
                                    "RUN_ID": self.params["run_id"], "SINCE": str(now)})
        own_id = int(self.client.call("document.allocate", text, LOCK_DOCUMENT_TYPE))
        docs = self.locks()
        winner = docs[0] if docs else None
        if winner is None or int(winner.ID) != own_id:
            self.client.call("document.delete", own_id)
            if winner is None:
                raise OneError(f"the lock document {own_id} vanished right after it was written", kind="locked")
            raise OneError(held_message(winner, self.params["name"]), kind="locked")
        return {"changed": True, "lock": lock_view(winner), "broken": broken}

    def run(self) -> None:
        result: dict[str, Any] = {}
        try:
            self.validate()
            self.client = OneClient(Credentials.resolve(self.params))
            result = self.take() if self.params["state"] == "present" else self.release()
        except OneError as exc:
            self.module.fail_json(msg=str(exc), error_kind=exc.kind, api_calls=self._calls())
        result["api_calls"] = self._calls()
        self.module.exit_json(**result)

    def _calls(self) -> dict[str, int]:
        if self.client is None:
            return {"total": 0, "writes": 0}
        return {"total": sum(self.client.calls.values()), "writes": self.client.writes}


def main() -> None:
    spec: dict[str, Any] = {
        "name": {"type": "str", "default": "hapy-site-run"},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        "run_id": {"type": "str", "required": True},
        "holder": {"type": "str"},
        "stale_after": {"type": "int", "default": 14400},
        "break_lock": {"type": "bool", "default": False},
    }
    spec.update(CONNECTION_ARGSPEC)
    RunLock(AnsibleModule(argument_spec=spec, supports_check_mode=True)).run()


if __name__ == "__main__":
    main()
