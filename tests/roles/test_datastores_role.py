"""Role eole.hapy.datastores, run with ansible-playbook against an in-process OpenNebula test endpoint.

Single and cluster mode: the first run creates system-default, images-disques and iso-images with the mode's
drivers in the school's cluster (read back through the XML-RPC API), check mode predicts it without writing, and a
second run changes nothing and writes nothing.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
import xmlrpc.client
from pathlib import Path

import pytest

from tests.oned import OnedServer, is_write
from tests.playbooks.playbook_runner import run_playbook

PASSWORD = "test-oneadmin"
PLAYBOOK = "tests/roles/datastores.yml"
HAPY_NAMES = {"system-default", "images-disques", "iso-images"}

EXPECTED = {
    "cluster": {
        "system-default": {"TYPE": "1", "TM_MAD": "shared", "DS_MAD": "-"},
        "images-disques": {"TYPE": "0", "TM_MAD": "shared", "DS_MAD": "fs"},
        "iso-images": {"TYPE": "0", "TM_MAD": "shared", "DS_MAD": "fs"},
    },
    "single": {
        "system-default": {"TYPE": "1", "TM_MAD": "ssh", "DS_MAD": "-"},
        "images-disques": {"TYPE": "0", "TM_MAD": "ssh", "DS_MAD": "fs"},
        "iso-images": {"TYPE": "0", "TM_MAD": "ssh", "DS_MAD": "fs"},
    },
}


@pytest.fixture
def oned():
    server = OnedServer(host="127.0.0.1", port=0, credentials=f"oneadmin:{PASSWORD}").start()
    yield server
    server.stop()


def inventory(tmp_path: Path, url: str, mode: str) -> str:
    path = tmp_path / "hosts.yml"
    path.write_text(f"""\
all:
  children:
    hapy_frontends:
      hosts:
        hapy-9740099z-fe:
          ansible_connection: local
          ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
      vars:
        hapy_school: {{uai: 9740099Z, name: "Lycée de test"}}
        hapy_mode: {mode}
        hapy_one: {{api_url: "{url}", oneadmin_password: {PASSWORD}}}
""")
    return str(path)


def rpc(server: OnedServer, method: str, *args):
    answer = getattr(xmlrpc.client.ServerProxy(server.url), method)(f"oneadmin:{PASSWORD}", *args)
    assert answer[0], answer[1]
    return ET.fromstring(answer[1])


def datastores(server: OnedServer) -> dict[str, dict]:
    """The datastores as oned describes them: drivers, type and cluster names."""
    clusters = {c.findtext("ID"): c.findtext("NAME") for c in rpc(server, "one.clusterpool.info").iter("CLUSTER")}
    found = {}
    for ds in rpc(server, "one.datastorepool.info").iter("DATASTORE"):
        found[ds.findtext("NAME")] = {
            "TYPE": ds.findtext("TYPE"),
            "TM_MAD": ds.findtext("TM_MAD"),
            "DS_MAD": ds.findtext("DS_MAD"),
            "CLUSTERS": sorted(clusters[i.text] for i in ds.findall("CLUSTERS/ID")),
            "BASE_PATH": ds.findtext("BASE_PATH"),
        }
    return found


def writes(server: OnedServer) -> dict[str, int]:
    return {m: n for m, n in server.calls.items() if is_write(m)}


@pytest.mark.parametrize("mode", ["single", "cluster"])
def test_datastores_role_converges_then_changes_nothing(oned, tmp_path, mode):
    inv = inventory(tmp_path, oned.url, mode)

    predicted = run_playbook(PLAYBOOK, inv, "--check", "--diff")
    assert predicted.returncode == 0, predicted.output[-3000:]
    assert writes(oned) == {}, "check mode must not write"
    assert not HAPY_NAMES & set(datastores(oned))

    first = run_playbook(PLAYBOOK, inv)
    assert first.returncode == 0, first.output[-3000:]
    assert first.changed == predicted.changed == 2, first.output[-3000:]  # cluster, the 3 datastores (one task)
    assert writes(oned).get("one.datastore.allocate") == 3

    found = datastores(oned)
    for name, want in EXPECTED[mode].items():
        got = found[name]
        assert {k: got[k] for k in want} == want, (name, got)
        assert got["CLUSTERS"] == ["hapy-9740099z"], (name, got)
        assert got["BASE_PATH"].replace("//", "/").startswith("/var/lib/one/datastores/")

    oned.reset_calls()
    second = run_playbook(PLAYBOOK, inv)
    assert second.returncode == 0, second.output[-3000:]
    assert second.changed == 0, second.output[-3000:]
    assert writes(oned) == {}, "a second run must not write anything"


def test_datastores_role_rejects_an_unknown_mode(oned, tmp_path):
    run = run_playbook(PLAYBOOK, inventory(tmp_path, oned.url, "hybrid"))
    assert run.returncode != 0
    assert "datastores_mode" in run.output or "mode must be single or cluster" in run.output
    assert not HAPY_NAMES & set(datastores(oned))
