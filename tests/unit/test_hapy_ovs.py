"""The plan's Open vSwitch side: switches and uplink ports (hapy_ovs_switches), and the plan checks of ovswitch
networks (one switch per interface, no interface shared with Linux bridges, a VLAN on every network,
vlan_tagged_id)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site import plan as site_plan
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site import validation as site_validation
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.common import HapySiteError

from tests.unit.test_hapy_site import ACADEMY, SCHOOL, site

OVS_ACADEMY = {**ACADEMY, "phydev": "eno1", "vn_mad": "ovswitch"}
EXTRA = [
    {"name": "aca", "bridge": "vswitch", "vlan_id": 4, "phydev": "eno2", "vn_mad": "ovswitch"},
    {"name": "lab", "bridge": "vswitch", "vlan_id": 60, "phydev": "eno3", "vn_mad": "ovswitch"},
    {"name": "lab_voip", "bridge": "vswitch", "vlan_id": 61, "phydev": "eno3", "vn_mad": "ovswitch"},
    {"name": "interne", "bridge": "vswitch", "vlan_id": 80, "phydev": None, "vn_mad": "ovswitch"},
    {"name": "isolated", "bridge": "vsw-int", "vlan_id": 90, "phydev": None, "vn_mad": "ovswitch"},
]


def ovs_plan(networks: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    return site_plan.network_plan(SCHOOL, networks, OVS_ACADEMY) + copy.deepcopy(EXTRA)


def switches(ports: list[dict[str, Any]] | None = None, plan: list[dict[str, Any]] | None = None) -> dict:
    return {s["name"]: {p["name"]: p for p in s["ports"]} for s in site_plan.ovs_switches(plan or ovs_plan(), ports)}


def test_default_ports_are_trunks_of_their_networks_vlans():
    result = switches()
    assert list(result) == ["vswitch", "vsw-int"]
    assert result["vswitch"]["eno1"] == {"name": "eno1", "vlan_mode": "trunk", "tag": None,
                                         "trunks": [10, 20, 30, 40, 50]}
    assert result["vswitch"]["eno3"]["trunks"] == [60, 61]
    assert result["vsw-int"] == {}, "a switch with no interface: internal-only networks"
    assert all(80 not in port["trunks"] for port in result["vswitch"].values()), "VLAN 80 has no interface"


def test_hapy_port_modes():
    result = switches([{"interface": "eno2", "mode": "access"},
                       {"interface": "eno3", "mode": "native-untagged", "vlan_id": 60},
                       {"interface": "eno4", "mode": "native-tagged", "vlan_id": 70, "bridge": "vswitch"},
                       {"interface": "eno1", "trunks": []}])["vswitch"]
    assert result["eno2"] == {"name": "eno2", "vlan_mode": "access", "tag": 4, "trunks": []}
    assert result["eno3"] == {"name": "eno3", "vlan_mode": "native-untagged", "tag": 60, "trunks": [60, 61]}
    assert result["eno4"] == {"name": "eno4", "vlan_mode": "native-tagged", "tag": 70, "trunks": [70]}
    assert result["eno1"]["trunks"] == [], "[] carries every VLAN"


def test_vlan_tagged_id_reaches_the_plan_and_the_uplink():
    plan = ovs_plan([{"name": "dmz", "vlan_tagged_id": [120, 110, 120]}])
    dmz = next(net for net in plan if net["name"] == "dmz")
    assert dmz["vlan_tagged_id"] == [110, 120]
    assert switches(plan=plan)["vswitch"]["eno1"]["trunks"] == [10, 20, 30, 40, 50, 110, 120]
    assert site_validation.validate_site(site(hapy_academy=OVS_ACADEMY,
                                              hapy_networks=[{"name": "dmz", "vlan_tagged_id": [110]}])) == []


@pytest.mark.parametrize(("ports", "fragments"), [
    ([{"interface": "eno2", "mode": "trunk", "vlan_id": 4}], ("networks_ovs_ports[0].vlan_id: 4 with mode trunk",)),
    ([{"interface": "eno1", "mode": "access"}],
     ("networks_ovs_ports[0].vlan_id: missing; an access port carries one VLAN", "[10, 20, 30, 40, 50]")),
    ([{"interface": "eno3", "mode": "access", "vlan_id": 60}], ("also has networks on VLANs [61]",)),
    ([{"interface": "eno3", "mode": "native-tagged"}], ("vlan_id: missing; mode native-tagged needs the native VLAN",)),
    ([{"interface": "eno2", "mode": "access", "trunks": [4]}], ("trunks: [4] with mode access",)),
    ([{"interface": "eno9"}], ("networks_ovs_ports[0].bridge: missing; eno9 carries no network", "vswitch, vsw-int")),
    ([{"interface": "eno1", "bridge": "vsw-int"}], ("bridge: vsw-int, but network 'wan' puts eno1 on vswitch",)),
    ([{"interface": "eno2", "mode": "untagged"}], ("mode: 'untagged'; expected one of trunk, access",)),
    ([{"interface": "eno2", "trunks": [0]}], ("trunks: [0]; expected a list of VLAN ids",)),
    ([{"interface": "eno2"}, {"interface": "eno2"}], ("networks_ovs_ports[1].interface: eno2 already declared",)),
    ([{"interface": "eno2", "vlan": 4}], ("networks_ovs_ports[0].vlan", "unknown key")),
    (["eno2"], ("networks_ovs_ports[0]: 'eno2'; expected {interface",)),
])
def test_bad_ports_named_with_expected_form(ports, fragments):
    with pytest.raises(HapySiteError) as error:
        switches(ports)
    assert all(fragment in str(error.value) for fragment in fragments), str(error.value)


def test_ports_without_ovswitch_network():
    with pytest.raises(HapySiteError, match=r"networks_ovs_ports\[0\]: the plan has no vn_mad ovswitch network"):
        site_plan.ovs_switches(site_plan.network_plan(SCHOOL, None, ACADEMY), [{"interface": "eno2"}])
    assert site_plan.ovs_switches(site_plan.network_plan(SCHOOL, None, ACADEMY)) == []


@pytest.mark.parametrize(("networks", "path", "fragments"), [
    ([{"name": "wan", "vn_mad": "bridge"}], "hapy_networks[admin].phydev",
     ("eno1 also carries network 'wan' (bridge)", "an interface of its own for Open vSwitch")),
    ([{"name": "wan", "vn_mad": "bridge", "bridge": "vswitch", "phydev": "eno5"}], "hapy_networks[admin].bridge",
     ("vswitch is also the Linux bridge of network 'wan'",)),
    ([{"name": "dmz", "bridge": "vsw2"}], "hapy_networks[0].bridge",
     ("vsw2, but eno1 is already a port of vswitch (network 'wan')", "one switch per interface")),
    ([{"name": "dmz", "vlan_tagged_id": [5000]}], "hapy_networks[0].vlan_tagged_id", ("integers 1..4094",)),
])
def test_plan_errors_of_ovswitch_networks(networks, path, fragments):
    errors = site_validation.validate_site(site(hapy_academy=OVS_ACADEMY, hapy_networks=networks))
    matching = [e for e in errors if e.startswith(path + ":")]
    assert matching and all(f in matching[0] for f in fragments), errors


def test_vlan_tagged_id_only_on_ovswitch():
    errors = site_validation.validate_site(site(hapy_networks=[{"name": "dmz", "vlan_tagged_id": [110]}]))
    assert errors == ["hapy_networks[0].vlan_tagged_id: set on a bridge network; expected vn_mad ovswitch (only "
                      "OpenNebula's Open vSwitch driver trunks VLANs to a VM)"]


def test_ovswitch_network_without_vlan_in_a_role_plan():
    plan = [{"name": "flat", "bridge": "vswitch", "vlan_id": None, "phydev": "eno2", "vn_mad": "ovswitch"}]
    with pytest.raises(HapySiteError, match=r"networks_plan\[flat\]\.vlan_id: None on Open vSwitch; expected an "
                                            r"integer 1\.\.4094 \(a VM port without a tag"):
        site_plan.ovs_switches(plan)
