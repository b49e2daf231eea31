"""Role eole.hapy.cloud_site with the networks on Open vSwitch (hapy_academy.vn_mad: ovswitch), run with
ansible-playbook against the in-process stand-in endpoint.

The vnets are Hâpy's: VN_MAD ovswitch on the switch vswitch, each network's VLAN, VLAN_TAGGED_ID where the plan
trunks VLANs to the VMs, and no PHYDEV (the networks role owns the switch's uplinks; OpenNebula's driver would
delete a switch left alone with its PHYDEV). Real oned 6.10.5 and 7.0.2 accept and keep the same vnet
(tests/modules/test_one_vnet.py::test_ovswitch_network_on_the_hapy_switch).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.modules.api import ONEADMIN, xml
from tests.oned import OnedServer, is_write
from tests.playbooks.playbook_runner import run_playbook

PLAYBOOK = "tests/roles/cloud_site_ovs.yml"
VLANS = {"CR_wan": "10", "CR_admin": "20", "CR_pedago": "30", "CR_dmz": "40", "CR_dmz_priv": "50"}


@pytest.fixture
def oned():
    server = OnedServer(host="127.0.0.1", port=0, credentials=ONEADMIN).start()
    yield server
    server.stop()


def inventory(tmp_path: Path, url: str) -> str:
    """One school, its frontend run locally; networks on Open vSwitch, dmz trunking VLANs 110 and 120 to its VMs."""
    school = {
        "hapy_school": {"uai": "9740099Z", "name": "Lycée de test", "academy": "ac-reunion", "domain": "lan",
                        "index": 9},
        "hapy_academy": {"phydev": "eno1", "vn_mad": "ovswitch"},
        "hapy_networks": [{"name": "dmz", "vlan_tagged_id": [120, 110]}],
        "hapy_one": {"api_url": url, "oneadmin_password": ONEADMIN.split(":")[1]},
    }
    local = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump({"all": {"children": {"hapy_frontends": {
        "hosts": {"hapy-9740099z-fe": local}, "vars": school}}}}))
    return str(path)


def vnets(server: OnedServer) -> dict[str, dict[str, str]]:
    return {vn.findtext("NAME"): {field: vn.findtext(f"TEMPLATE/{field}") or vn.findtext(field) or ""
                                  for field in ("VN_MAD", "BRIDGE", "VLAN_ID", "PHYDEV", "VLAN_TAGGED_ID")}
            for vn in xml(server, "one.vnpool.info", -2, -1, -1).iter("VNET")}


def test_ovswitch_vnets_of_the_plan(oned, tmp_path):
    inv = inventory(tmp_path, oned.url)
    first = run_playbook(PLAYBOOK, inv)
    assert first.returncode == 0, first.output[-3000:]
    assert vnets(oned) == {name: {"VN_MAD": "ovswitch", "BRIDGE": "vswitch", "VLAN_ID": vlan, "PHYDEV": "",
                                  "VLAN_TAGGED_ID": "110,120" if name == "CR_dmz" else ""}
                           for name, vlan in VLANS.items()}
    oned.reset_calls()
    second = run_playbook(PLAYBOOK, inv)
    assert second.returncode == 0 and second.changed == 0, second.output[-3000:]
    assert {m: n for m, n in oned.calls.items() if is_write(m)} == {}
