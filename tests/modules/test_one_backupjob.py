"""one_backupjob against the OpenNebula test endpoint: life cycle, VM resolution by name and label, schedule,
idempotence without writes, check mode, diff, bad input that writes nothing; plus the pure schedule helpers."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
import xmlrpc.client

import pytest
from ansible_collections.eole.hapy.plugins.modules import one_backupjob as mod

from tests.modules.lifecycle import RSYNC_BACKUP_ATTRIBUTES, check_bad_input, snapshot

UTC = dt.timezone.utc  # noqa: UP017


def make_vm(oned, name: str, labels: str = "") -> int:
    """A VM (on hold) through the real XML-RPC method, with LABELS in its user template."""
    server = xmlrpc.client.ServerProxy(oned.url)
    template = f'NAME = "{name}"\nCPU = "0.1"\nMEMORY = "128"\n' + (f'LABELS = "{labels}"\n' if labels else "")
    ok, vm_id, *_ = server.one.vm.allocate("oneadmin:opennebula", template, True)
    assert ok, vm_id
    return int(vm_id)


def backupjobs(oned) -> list[ET.Element]:
    """The backup jobs oned holds, read back through the API."""
    ok, xml, *_ = xmlrpc.client.ServerProxy(oned.url).one.backupjobpool.info("oneadmin:opennebula", -2, -1, -1)
    assert ok, xml
    return ET.fromstring(xml).findall("BACKUPJOB")


@pytest.fixture
def site(oned, run_module):
    """A backup datastore, an image datastore's worth of noise, and four VMs, two labelled 'sauvegarde'."""
    ds = run_module("one_datastore", name="sauvegardes", type="backup", ds_mad="rsync",
                    attributes=RSYNC_BACKUP_ATTRIBUTES)
    assert not ds.failed, ds
    ids = {
        "amon": make_vm(oned, "amon", "sauvegarde"),
        "scribe": make_vm(oned, "scribe", "eleves,sauvegarde"),
        "eclair": make_vm(oned, "eclair", "eleves"),
        "horus": make_vm(oned, "horus"),
    }
    return {"datastore_id": ds["datastore"]["id"], "vms": ids}


JOB = {
    "name": "hapy-sauvegarde",
    "vm_labels": ["sauvegarde"],
    "vms": ["horus"],
    "datastore": "sauvegardes",
    "schedule": {"cron": "30 1 * * *", "timezone": "Indian/Reunion"},
    "keep_last": 7,
    "mode": "FULL",
    "priority": 40,
    "execution": "SEQUENTIAL",
    "fs_freeze": "NONE",
}


def test_create_then_idempotent_with_zero_writes(run_module, oned, site):
    predicted = run_module("one_backupjob", check=True, **JOB)
    assert predicted["changed"] and predicted.writes == {}
    assert not backupjobs(oned)

    created = run_module("one_backupjob", **JOB)
    assert created["changed"] and not created.failed, created
    assert created.writes == {"one.backupjob.allocate": 1}
    job = created["backupjob"]
    vms = site["vms"]
    # declared VMs first, then the labelled ones by id
    assert job["vms"] == [vms["horus"], vms["amon"], vms["scribe"]]
    assert job["vm_names"] == ["horus", "amon", "scribe"]
    assert job["datastore_id"] == site["datastore_id"]
    assert (job["keep_last"], job["mode"], job["priority"], job["execution"], job["fs_freeze"]) == (
        "7", "FULL", 40, "SEQUENTIAL", "NONE")
    [schedule] = job["schedule"]
    assert (schedule["repeat"], schedule["days"], schedule["time"]) == ("weekly", [0, 1, 2, 3, 4, 5, 6], "01:30")
    first = dt.datetime.fromtimestamp(schedule["epoch"], tz=UTC)
    assert (first.hour, first.minute) == (21, 30)  # 01:30 in La Réunion (UTC+4) is 21:30 UTC

    # what OpenNebula holds, read back through the API
    [raw] = backupjobs(oned)
    assert raw.findtext("NAME") == "hapy-sauvegarde" and raw.findtext("PRIORITY") == "40"
    assert raw.findtext("TEMPLATE/BACKUP_VMS") == f"{vms['horus']},{vms['amon']},{vms['scribe']}"
    assert raw.findtext("TEMPLATE/DATASTORE_ID") == str(site["datastore_id"])

    again = run_module("one_backupjob", **JOB)
    assert not again.failed and again["changed"] is False, again.get("diff")
    assert again.writes == {}
    assert set(again.calls) <= {"one.backupjobpool.info", "one.backupjob.info", "one.vmpool.info",
                                "one.datastorepool.info"}


def test_check_mode_and_diff_of_one_attribute_then_update(run_module, oned, site):
    run_module("one_backupjob", **JOB)
    before = snapshot(oned)
    predicted = run_module("one_backupjob", check=True, **{**JOB, "keep_last": 3})
    assert predicted["changed"] and predicted["changes"] == ["keep_last"]
    assert predicted["diff"]["before"] == {"name": "hapy-sauvegarde", "keep_last": "7"}
    assert predicted["diff"]["after"] == {"name": "hapy-sauvegarde", "keep_last": "3"}
    assert predicted.writes == {} and snapshot(oned) == before

    updated = run_module("one_backupjob", **{**JOB, "keep_last": 3})
    assert updated["changed"] and updated["changes"] == ["keep_last"]
    assert updated.writes == {"one.backupjob.update": 1}
    assert updated["backupjob"]["keep_last"] == "3"
    assert updated["backupjob"]["mode"] == "FULL"  # merge: the other attributes stay
    assert run_module("one_backupjob", **{**JOB, "keep_last": 3}).writes == {}


def test_priority_mode_and_execution_update_in_one_write(run_module, site):
    run_module("one_backupjob", **JOB)
    changed = {**JOB, "priority": 60, "mode": "increment", "execution": "parallel"}
    result = run_module("one_backupjob", **changed)
    assert result["changes"] == ["execution", "mode", "priority"]
    assert result.writes == {"one.backupjob.update": 1, "one.backupjob.priority": 1}
    job = result["backupjob"]
    assert (job["priority"], job["mode"], job["execution"]) == (60, "INCREMENT", "PARALLEL")
    assert run_module("one_backupjob", **changed).writes == {}


def test_labelled_vm_joins_on_next_run(run_module, oned, site):
    run_module("one_backupjob", **JOB)
    new = make_vm(oned, "zephir", "sauvegarde")
    result = run_module("one_backupjob", **JOB)
    assert result["changes"] == ["vms"]
    assert result["diff"]["after"]["vms"][-1] == new
    assert result["backupjob"]["vm_names"] == ["horus", "amon", "scribe", "zephir"]
    assert result.writes == {"one.backupjob.update": 1}


def test_datastore_by_id_is_the_same(run_module, site):
    run_module("one_backupjob", **JOB)
    by_id = run_module("one_backupjob", **{**JOB, "datastore": str(site["datastore_id"])})
    assert by_id["changed"] is False and by_id.writes == {}


def test_schedule_change_uses_the_scheduled_action_methods(run_module, oned, site):
    run_module("one_backupjob", **JOB)
    weekly = {**JOB, "schedule": {"repeat": "weekly", "days": [6, 0], "time": "03:00", "timezone": "Indian/Reunion"}}
    predicted = run_module("one_backupjob", check=True, **weekly)
    assert predicted["changes"] == ["schedule"] and predicted.writes == {}
    assert predicted["diff"]["after"]["schedule"]["days"] == [0, 6]
    assert predicted["diff"]["before"]["schedule"]["time"] == "01:30"
    result = run_module("one_backupjob", **weekly)
    assert result.writes == {"one.backupjob.schedupdate": 1}
    [schedule] = result["backupjob"]["schedule"]
    assert (schedule["repeat"], schedule["days"], schedule["time"]) == ("weekly", [0, 6], "03:00")
    assert run_module("one_backupjob", **weekly).writes == {}

    hourly = {**JOB, "schedule": {"cron": "15 */6 * * *"}}
    result = run_module("one_backupjob", **hourly)
    assert result.writes == {"one.backupjob.schedupdate": 1}
    assert run_module("one_backupjob", **hourly).writes == {}

    removed = run_module("one_backupjob", **{**JOB, "schedule": {}})
    assert removed["changes"] == ["schedule"] and removed.writes == {"one.backupjob.scheddelete": 1}
    assert removed["backupjob"]["schedule"] == []
    added = run_module("one_backupjob", **weekly)
    assert added.writes == {"one.backupjob.schedadd": 1}
    assert run_module("one_backupjob", **weekly).writes == {}


def test_delete_and_absent_again(run_module, oned, site):
    created = run_module("one_backupjob", **JOB)
    gone = run_module("one_backupjob", name=JOB["name"], state="absent")
    assert gone["changed"] and gone["backupjob"] == {}
    assert gone["diff"]["before"]["id"] == created["backupjob"]["id"]
    assert gone.writes == {"one.backupjob.delete": 1}
    assert not backupjobs(oned)
    again = run_module("one_backupjob", name=JOB["name"], state="absent")
    assert again["changed"] is False and again.writes == {}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"vms": ["no-such-vm"]}, "vms"),
        ({"vms": ["9999"]}, "vms"),
        ({"datastore": "no-such-datastore"}, "datastore"),
        ({"datastore": "default"}, "datastore"),  # an image datastore, not a backup one
        ({"mode": "DIFFERENTIAL"}, "mode"),
        ({"execution": "random"}, "execution"),
        ({"priority": 120}, "priority"),
        ({"keep_last": 0}, "keep_last"),
        ({"schedule": {"cron": "30 1 * 2 *"}}, "schedule"),
        ({"schedule": {"cron": "30 1 * * *", "timezone": "Mars/Olympus"}}, "schedule"),
        ({"schedule": {"repeat": "weekly", "days": [9]}}, "schedule"),
        ({"attributes": {"BACKUP_VMS": "1"}}, "attributes"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(run_module, oned, site, change, field):
    message = check_bad_input(run_module, oned, "one_backupjob", {**JOB, **change}, field)
    assert message.startswith(f"{field}:"), message
    assert not backupjobs(oned)


def test_bad_input_on_an_existing_job_changes_nothing(run_module, oned, site):
    run_module("one_backupjob", **JOB)
    check_bad_input(run_module, oned, "one_backupjob", {**JOB, "vms": ["ghost"]}, "vms")


def test_create_needs_a_datastore(run_module, oned, site):
    args = {k: v for k, v in JOB.items() if k != "datastore"}
    check_bad_input(run_module, oned, "one_backupjob", args, "datastore")


# ------------------------------------------------------------------------ pure helpers
@pytest.mark.parametrize(
    ("cron", "expected"),
    [
        ("30 1 * * *", {"repeat": "weekly", "days": [0, 1, 2, 3, 4, 5, 6], "time": "01:30"}),
        ("0 22 * * 1-5", {"repeat": "weekly", "days": [1, 2, 3, 4, 5], "time": "22:00"}),
        ("0 3 * * 6,7", {"repeat": "weekly", "days": [0, 6], "time": "03:00"}),
        ("15 2 1,15 * *", {"repeat": "monthly", "days": [1, 15], "time": "02:15"}),
        ("5 */6 * * *", {"repeat": "hourly", "days": [6], "time": "00:05"}),
        ("0 * * * *", {"repeat": "hourly", "days": [1], "time": "00:00"}),
    ],
)
def test_parse_cron(cron, expected):
    assert mod.parse_cron(cron) == expected


@pytest.mark.parametrize("cron", ["30 1 * *", "x 1 * * *", "0 25 * * *", "0 1 1 * 1", "0 1 * 3 *", "0 */2 1 * *"])
def test_parse_cron_refuses(cron):
    with pytest.raises(mod.ScheduleError):
        mod.parse_cron(cron)


def test_first_run_and_read_back_in_the_time_zone():
    schedule = mod.normalize_schedule({"cron": "30 1 * * *", "timezone": "Indian/Reunion", "time": "00:00"})
    now = dt.datetime(2026, 11, 26, 0, 0, tzinfo=UTC)  # 04:00 in La Réunion: next 01:30 is tomorrow
    action = mod.sched_action(schedule, now)
    assert action == {"REPEAT": "0", "DAYS": "0,1,2,3,4,5,6", "TIME": str(int(dt.datetime(
        2026, 11, 26, 21, 30, tzinfo=UTC).timestamp())), "END_TYPE": "0"}
    assert mod.schedule_of(action, "Indian/Reunion") == schedule
    assert mod.same_schedule(schedule, [action])
    assert not mod.same_schedule({**schedule, "time": "01:31"}, [action])
    assert not mod.same_schedule(schedule, [action, action])
    assert mod.same_schedule({}, []) and not mod.same_schedule({}, [action])


def test_empty_schedule_means_none():
    assert mod.normalize_schedule({"time": "00:00", "timezone": "UTC"}) == {}
    with pytest.raises(mod.ScheduleError):
        mod.normalize_schedule({"time": "01:00", "timezone": "UTC"})
