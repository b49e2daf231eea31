"""The backups role's cloud level: backup datastore and the default backup job from hapy_backup, twice, on the
stand-in and on a fresh real oned of each version; what was created is read back through the API."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
import xmlrpc.client

import pytest

from tests.oned import OnedServer, is_write
from tests.playbooks.playbook_runner import run_playbook
from tests.real_oned import endpoints

PASSWORD = "backups-test"


@pytest.fixture(params=endpoints.ALL)
def oned(request):
    if request.param == endpoints.STANDIN:
        server = OnedServer(host="127.0.0.1", port=0, credentials=f"oneadmin:{PASSWORD}").start()
    else:
        server = endpoints.fresh(endpoints.version_of(request.param), password=PASSWORD)
    yield server
    server.stop()


def pool(server, method: str, *args) -> list[ET.Element]:
    answer = getattr(xmlrpc.client.ServerProxy(server.url), method)(f"oneadmin:{PASSWORD}", *args)
    assert answer[0], answer[1]
    return [obj for obj in ET.fromstring(answer[1]) if obj.find("ID") is not None]


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

    vm_ids = {v.findtext("NAME"): v.findtext("ID") for v in pool(oned, "one.vmpool.info", -2, -1, -1, -1)}
    [ds] = [d for d in pool(oned, "one.datastorepool.info") if d.findtext("NAME") == "sauvegardes"]
    assert ds.findtext("TYPE") == "3"  # BACKUP_DS
    assert (ds.findtext("DS_MAD"), ds.findtext("TEMPLATE/RSYNC_HOST")) == ("rsync", "10.1.0.2")
    [listed] = pool(oned, "one.backupjobpool.info", -2, -1, -1)
    answer = xmlrpc.client.ServerProxy(oned.url).one.backupjob.info(f"oneadmin:{PASSWORD}",
                                                                    int(listed.findtext("ID")))
    assert answer[0], answer[1]
    job = ET.fromstring(answer[1])  # *.info: the scheduled actions inside TEMPLATE
    assert job.findtext("NAME") == "hapy-sauvegarde"
    assert job.findtext("TEMPLATE/BACKUP_VMS") == f"{vm_ids['amon']},{vm_ids['horus']}"  # they carry the label
    assert (job.findtext("TEMPLATE/KEEP_LAST"), job.findtext("TEMPLATE/MODE"),
            job.findtext("TEMPLATE/DATASTORE_ID")) == ("5", "INCREMENT", ds.findtext("ID"))
    [action] = job.findall("TEMPLATE/SCHED_ACTION")
    assert (action.findtext("REPEAT"), action.findtext("DAYS")) == ("0", "0,1,2,3,4,5,6")

    oned.reset_calls()
    second = run_playbook("tests/playbooks/backups_cloud.yml", "localhost,", *args)
    assert second.returncode == 0, second.output[-3000:]
    assert second.changed == 0
    assert writes(oned) == {}
