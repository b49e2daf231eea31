"""one_run_lock: one run at a time per school, on the stand-in and real oned alike."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import xmlrpc.client
from pathlib import Path

import pytest

from tests.modules import api
from tests.modules.lifecycle import warnings_of

ROOT = Path(__file__).resolve().parents[2]
LOCK_TYPE = 9740  # one_run_lock.LOCK_DOCUMENT_TYPE, read back here as oned stores it


def lock_documents(oned):
    """(id, NAME, HOLDER, RUN_ID, SINCE) of every lock document, read straight from the API."""
    pool = api.xml(oned, "one.documentpool.info", -2, -1, -1, LOCK_TYPE)
    return [(int(d.findtext("ID")), d.findtext("NAME"), d.findtext("TEMPLATE/HOLDER"), d.findtext("TEMPLATE/RUN_ID"),
             d.findtext("TEMPLATE/SINCE")) for d in pool.findall("DOCUMENT")]


def plant_lock(oned, run_id, holder, since):
    """A lock document written by another run (straight through the API)."""
    text = f'NAME="hapy-site-run"\nHOLDER="{holder}"\nRUN_ID="{run_id}"\nSINCE="{since}"\n'
    answer = xmlrpc.client.ServerProxy(oned.url).one.document.allocate(api.ONEADMIN, text, LOCK_TYPE)
    assert answer[0], answer[1]
    return answer[1]


def test_take_is_idempotent_and_release_removes_it(run_module, oned):
    before = time.time()
    taken = run_module("one_run_lock", run_id="run-1", holder="AWX job 12")
    assert taken["changed"] is True and taken.writes == {"one.document.allocate": 1}, taken
    [(doc_id, name, holder, run_id, since)] = lock_documents(oned)
    assert (name, holder, run_id) == ("hapy-site-run", "AWX job 12", "run-1")
    assert before - 1 <= int(since) <= time.time() + 1
    assert taken["lock"]["id"] == doc_id and taken["lock"]["holder"] == "AWX job 12"

    again = run_module("one_run_lock", run_id="run-1", holder="AWX job 12")
    assert again["changed"] is False and again.writes == {} and again["lock"]["id"] == doc_id

    released = run_module("one_run_lock", run_id="run-1", state="absent")
    assert released["changed"] is True and released.writes == {"one.document.delete": 1}
    assert lock_documents(oned) == []
    assert run_module("one_run_lock", run_id="run-1", state="absent").writes == {}


def test_held_lock_refuses_with_holder_and_time(run_module, oned):
    since = int(time.time()) - 60
    plant_lock(oned, "run-0", "jdupont@console", since)
    refused = run_module("one_run_lock", run_id="run-1")
    assert refused.failed and refused["error_kind"] == "locked" and refused.writes == {}
    assert "held by jdupont@console since" in refused["msg"] and "run run-0" in refused["msg"]
    assert "hapy_lock_break=true" in refused["msg"]
    # releasing what another run holds removes nothing
    assert run_module("one_run_lock", run_id="run-1", state="absent").writes == {}
    assert [d[3] for d in lock_documents(oned)] == ["run-0"]


def test_check_mode_writes_nothing_and_warns_on_a_held_lock(run_module, oned):
    predicted = run_module("one_run_lock", check=True, run_id="run-1")
    assert predicted["changed"] is True and predicted.writes == {} and lock_documents(oned) == []
    plant_lock(oned, "run-0", "jdupont@console", int(time.time()))
    checked = run_module("one_run_lock", check=True, run_id="run-1")
    assert not checked.failed and checked["changed"] is False and checked.writes == {}
    assert any("held by jdupont@console" in w for w in warnings_of(checked))


def test_stale_lock_is_broken_with_a_warning(run_module, oned):
    plant_lock(oned, "run-0", "killed@console", int(time.time()) - 7200)
    taken = run_module("one_run_lock", run_id="run-1", stale_after=3600)
    assert taken["changed"] is True, taken
    assert taken.writes == {"one.document.delete": 1, "one.document.allocate": 1}
    assert [b["run_id"] for b in taken["broken"]] == ["run-0"]
    assert any("broke the run lock held by killed@console" in w for w in warnings_of(taken))
    assert [d[3] for d in lock_documents(oned)] == ["run-1"]


def test_break_lock_breaks_a_fresh_lock(run_module, oned):
    plant_lock(oned, "run-0", "jdupont@console", int(time.time()))
    assert run_module("one_run_lock", run_id="run-1").failed
    taken = run_module("one_run_lock", run_id="run-1", break_lock=True)
    assert taken["changed"] is True and [b["holder"] for b in taken["broken"]] == ["jdupont@console"]
    assert [d[3] for d in lock_documents(oned)] == ["run-1"]


def test_loser_of_a_race_deletes_its_document(run_module, oned, monkeypatch):
    """Another run's document written between this run's listing and its own allocation: the lower id wins."""
    from ansible_collections.eole.hapy.plugins.modules import one_run_lock

    real_locks = one_run_lock.RunLock.locks
    listings = []

    def racing_locks(self):
        listings.append(1)
        if len(listings) == 1:  # the first listing sees no lock; the other run writes its document right after
            plant_lock(oned, "run-0", "other@console", int(time.time()))
            return []
        return real_locks(self)

    monkeypatch.setattr(one_run_lock.RunLock, "locks", racing_locks)
    lost = run_module("one_run_lock", run_id="run-1")
    assert lost.failed and "held by other@console" in lost["msg"], lost
    # the endpoint counts the other run's allocation too: 2 allocations, this run's document deleted
    assert lost.writes == {"one.document.allocate": 2, "one.document.delete": 1}
    assert [d[3] for d in lock_documents(oned)] == ["run-0"]


def test_concurrent_runs_exactly_one_wins(oned):
    """Six module processes at once, as six playbook runs would: one takes the lock, five name it."""
    env = {**os.environ, "ONE_URL": oned.url, "ONE_USERNAME": api.ONEADMIN.split(":")[0],
           "ONE_PASSWORD": api.ONEADMIN.split(":")[1],
           "PYTHONPATH": os.pathsep.join([str(ROOT / ".collections"), os.environ.get("PYTHONPATH", "")])}
    code = ("import json, sys; from ansible.module_utils import basic; basic._ANSIBLE_PROFILE = 'legacy'; "
            "basic._ANSIBLE_ARGS = json.dumps({'ANSIBLE_MODULE_ARGS': {'run_id': sys.argv[1], "
            "'holder': sys.argv[1]}}).encode(); "
            "from ansible_collections.eole.hapy.plugins.modules import one_run_lock; one_run_lock.main()")
    runs = [subprocess.Popen([sys.executable, "-c", code, f"run-{n}"], env=env, stdout=subprocess.PIPE, text=True)
            for n in range(6)]
    results = [json.loads(run.communicate(timeout=60)[0]) for run in runs]
    winners = [r for r in results if not r.get("failed")]
    assert len(winners) == 1, results
    winner = winners[0]["lock"]["run_id"]
    assert [d[3] for d in lock_documents(oned)] == [winner]
    assert all(f"held by {winner} since" in r["msg"] for r in results if r.get("failed"))


@pytest.mark.parametrize(("args", "field"), [
    ({"run_id": "two words"}, "run_id"),
    ({"run_id": ""}, "run_id"),
    ({"run_id": "r1", "holder": "x]]>y"}, "holder"),
    ({"run_id": "r1", "stale_after": -1}, "stale_after"),
    ({"run_id": "r1", "name": "x" * 129}, "name"),
])
def test_bad_input_is_refused_before_any_call(run_module, oned, args, field):
    result = run_module("one_run_lock", **args)
    assert result.failed and result["msg"].startswith(f"{field}:") and result.calls == {}, result
