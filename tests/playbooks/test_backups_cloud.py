"""The backups role's cloud level: backup datastore and the default backup job from hapy_backup, twice."""

from __future__ import annotations

import sys
import xmlrpc.client

import pytest

from tests.oned import OnedServer, is_write
from tests.playbooks.playbook_runner import run_playbook

PASSWORD = "backups-test"


@pytest.fixture
def oned():
    server = OnedServer(host="127.0.0.1", port=0, credentials=f"oneadmin:{PASSWORD}").start()
    yield server
    server.stop()


def writes(server) -> dict[str, int]:
    return {m: n for m, n in server.calls.items() if is_write(m)}


def test_backup_datastore_and_labelled_job_then_nothing_to_do(oned):
    api = xmlrpc.client.ServerProxy(oned.url)
    for name, labels in (("amon", "sauvegarde"), ("scribe", "eleves"), ("horus", "sauvegarde,eleves")):
        template = f'NAME="{name}"\nCPU="1"\nMEMORY="64"\nLABELS="{labels}"'
        ok, *_ = api.one.vm.allocate(f"oneadmin:{PASSWORD}", template, True)
        assert ok
    oned.reset_calls()
    args = ["-e", f"backups_one_api_url={oned.url}", "-e", f"backups_one_api_password={PASSWORD}",
            "-e", f"ansible_python_interpreter={sys.executable}"]
    first = run_playbook("tests/playbooks/backups_cloud.yml", "localhost,", *args)
    assert first.returncode == 0, first.output[-3000:]
    assert writes(oned) == {"one.datastore.allocate": 1, "one.backupjob.allocate": 1}

    ds = next(d for d in oned.store.objs("datastore").values() if d["NAME"] == "sauvegardes")
    assert ds["TYPE"] == 3  # BACKUP_DS
    [job] = oned.store.objs("backupjob").values()
    template = dict((k, v) for k, v in job["TEMPLATE"] if isinstance(v, str))
    assert job["NAME"] == "hapy-sauvegarde"
    assert template["BACKUP_VMS"] == "0,2"  # amon and horus carry the label
    assert (template["KEEP_LAST"], template["MODE"], template["DATASTORE_ID"]) == ("5", "INCREMENT", str(ds["ID"]))
    [action] = job["SCHED"]
    assert (action["REPEAT"], action["DAYS"]) == ("0", "0,1,2,3,4,5,6")

    oned.reset_calls()
    second = run_playbook("tests/playbooks/backups_cloud.yml", "localhost,", *args)
    assert second.returncode == 0, second.output[-3000:]
    assert second.changed == 0
    assert writes(oned) == {}
