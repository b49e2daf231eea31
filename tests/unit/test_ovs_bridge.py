"""ovs_bridge: reading ovs-vsctl's JSON, the commands that reach a declaration, input checks.

The JSON documents are the shapes real ovs-vsctl 3.1.0 (Debian 12) prints (captured in the test container: one
element sets written bare, uuids as ["uuid", ...], maps as ["map", ...]). The module against the real
ovsdb-server and ovs-vswitchd runs in molecule/networks-ovs (converge, idempotence, side effect, traffic).
"""

from __future__ import annotations

import json

import pytest
from ansible_collections.eole.hapy.plugins.modules import ovs_bridge as ovs

OWNED = ["map", [["eole-hapy", "managed"]]]
NONE = ["set", []]


def read(bridges, ports, ifaces):
    """ovs-vsctl's three documents for (name, ports, datapath, external_ids) bridges and simple ports."""
    docs = [
        {"headings": ["name", "ports", "datapath_type", "external_ids"],
         "data": [[name, ["set", [["uuid", f"p-{p}"] for p in members]] if len(members) != 1
                   else ["uuid", f"p-{members[0]}"], dp, ext] for name, members, dp, ext in bridges]},
        {"headings": ["_uuid", "name", "interfaces", "vlan_mode", "tag", "trunks", "external_ids"],
         "data": [[["uuid", f"p-{name}"], name, ["uuid", f"i-{name}"], mode, tag, trunks, ext]
                  for name, mode, tag, trunks, ext in ports]},
        {"headings": ["_uuid", "name", "type", "mtu_request", "error"],
         "data": [[["uuid", f"i-{name}"], name, kind, mtu, err] for name, kind, mtu, err in ifaces]},
    ]
    return ovs.switch_state(*ovs.tables("\n".join(json.dumps(d) for d in docs)))


# vswitch, owned, netdev: eno1 trunk of 10 and 20 (owned), eno2 access 4 (owned), vswitch.20 internal (owned,
# MTU 1500), one-7-0 a VM port of OpenNebula (tag 20, no mode, not owned); br-x, someone else's, holds eno9.
STATE = read(
    bridges=[("vswitch", ["vswitch", "eno1", "eno2", "vswitch.20", "one-7-0"], "netdev", OWNED),
             ("br-x", ["br-x", "eno9"], "", ["map", []])],
    ports=[("vswitch", NONE, NONE, NONE, ["map", []]), ("eno1", "trunk", NONE, ["set", [10, 20]], OWNED),
           ("eno2", "access", 4, NONE, OWNED), ("vswitch.20", "access", 20, NONE, OWNED),
           ("one-7-0", NONE, 20, NONE, ["map", []]), ("br-x", NONE, NONE, NONE, ["map", []]),
           ("eno9", NONE, NONE, 8, ["map", []])],
    ifaces=[("vswitch", "internal", NONE, NONE), ("eno1", "", NONE, NONE), ("eno2", "", NONE, NONE),
            ("vswitch.20", "internal", 1500, NONE), ("one-7-0", "", NONE, NONE), ("br-x", "internal", NONE, NONE),
            ("eno9", "", NONE, "could not open network device eno9 (No such device)")],
)
DECLARED = [
    {"name": "eno1", "type": "system", "vlan_mode": "trunk", "tag": None, "trunks": [20, 10], "mtu": None},
    {"name": "eno2", "type": "system", "vlan_mode": "access", "tag": 4, "trunks": [], "mtu": None},
    {"name": "vswitch.20", "type": "internal", "vlan_mode": "access", "tag": 20, "trunks": [], "mtu": 1500},
]
PARAMS = {"state": "present", "datapath_type": "netdev", "mtu": None, "purge_ports": True}


def commands(declared=DECLARED, switch=STATE, name="vswitch", **params):
    return [" ".join(c) for c in ovs.bridge_commands(name, {**PARAMS, **params}, switch, ovs.desired_ports(declared))]


def with_port(name, **changes):
    return [{**p, **changes} if p["name"] == name else p for p in DECLARED]


def test_state_read_from_ovs_vsctl_json():
    assert STATE["bridges"]["vswitch"] == {"datapath_type": "netdev", "owned": True,
                                           "ports": ["eno1", "eno2", "one-7-0", "vswitch", "vswitch.20"]}
    assert STATE["bridges"]["br-x"]["datapath_type"] == "system"  # "" is Open vSwitch's default, the kernel
    assert STATE["ports"]["eno9"]["trunks"] == [8]  # a one-element set is written bare
    assert STATE["ports"]["one-7-0"] == {"bridge": "vswitch", "owned": False, "vlan_mode": None, "tag": 20,
                                         "trunks": [], "type": "system", "mtu": None, "error": None}
    assert STATE["ports"]["eno9"]["error"].startswith("could not open")
    assert ovs.vlan_view(STATE["ports"]["one-7-0"]) == {"vlan_mode": "access", "tag": 20}  # OVS's implicit mode


def test_converged_switch_needs_no_command():
    assert commands() == []


def test_fresh_switch_is_one_transaction():
    empty = ovs.switch_state([], [], [])
    assert commands(switch=empty) == [
        "add-br vswitch",
        "set Bridge vswitch datapath_type=netdev external_ids:eole-hapy=managed",
        "add-port vswitch eno1 vlan_mode=trunk trunks=10,20 external_ids:eole-hapy=managed",
        "add-port vswitch eno2 vlan_mode=access tag=4 external_ids:eole-hapy=managed",
        "add-port vswitch vswitch.20 vlan_mode=access tag=20 external_ids:eole-hapy=managed",
        "set Interface vswitch.20 type=internal mtu_request=1500",
    ]


def test_mode_change_clears_what_the_new_mode_does_not_use():
    assert commands(with_port("eno2", vlan_mode="trunk", tag=None, trunks=[30])) == [
        "set Port eno2 vlan_mode=trunk trunks=30 external_ids:eole-hapy=managed", "clear Port eno2 tag"]
    assert commands(with_port("eno1", vlan_mode="native-untagged", tag=10)) == [
        "set Port eno1 vlan_mode=native-untagged tag=10 trunks=10,20 external_ids:eole-hapy=managed"]
    assert commands(with_port("eno1", trunks=[])) == [
        "set Port eno1 vlan_mode=trunk external_ids:eole-hapy=managed", "clear Port eno1 trunks"]


def test_foreign_ports_kept_owned_ones_purged_unless_told():
    without_eno2 = [p for p in DECLARED if p["name"] != "eno2"]
    assert commands(without_eno2) == ["del-port vswitch eno2"]  # one-7-0, not owned, stays
    assert commands(without_eno2, purge_ports=False) == []


def test_declared_port_is_adopted_or_moved():
    adopted = [*DECLARED, {"name": "one-7-0", "type": "system", "vlan_mode": "access", "tag": 20, "trunks": []}]
    assert commands(adopted) == ["set Port one-7-0 vlan_mode=access tag=20 external_ids:eole-hapy=managed"]
    moved = [*DECLARED, {"name": "eno9", "type": "system", "vlan_mode": "trunk", "tag": None, "trunks": []}]
    assert commands(moved) == ["del-port br-x eno9",
                               "add-port vswitch eno9 vlan_mode=trunk external_ids:eole-hapy=managed"]


def test_bridge_adopted_datapath_and_mtu():
    assert commands([], name="br-x", datapath_type=None, mtu=9000) == [
        "set Bridge br-x external_ids:eole-hapy=managed", "set Interface br-x mtu_request=9000"]
    assert commands(datapath_type="system") == ["set Bridge vswitch datapath_type=system"]
    assert commands(with_port("vswitch.20", type="system", mtu=None)) == ['set Interface vswitch.20 type=""']


def test_absent_refused_while_foreign_ports_remain():
    with pytest.raises(ovs.OvsError, match=r"^name: bridge vswitch still carries ports .*\(one-7-0\)"):
        commands([], state="absent")
    owned_only = read([("vsw-int", ["vsw-int", "p1"], "netdev", OWNED)],
                      [("vsw-int", NONE, NONE, NONE, ["map", []]), ("p1", "access", 5, NONE, OWNED)],
                      [("vsw-int", "internal", NONE, NONE), ("p1", "internal", NONE, NONE)])
    assert commands([], name="vsw-int", switch=owned_only, state="absent") == ["del-br vsw-int"]
    assert commands([], name="gone", state="absent") == []


def test_views_before_and_after():
    before = ovs.bridge_view("vswitch", STATE, ovs.desired_ports(DECLARED))
    assert before["other_ports"] == ["one-7-0"] and set(before["ports"]) == {"eno1", "eno2", "vswitch.20"}
    assert ovs.predicted_view("vswitch", PARAMS, STATE, ovs.desired_ports(DECLARED)) == before
    fresh = ovs.predicted_view("vswitch", PARAMS, ovs.switch_state([], [], []), ovs.desired_ports(DECLARED[:1]))
    assert fresh == {"name": "vswitch", "datapath_type": "netdev", "mtu": None, "other_ports": [],
                     "ports": {"eno1": {"type": "system", "vlan_mode": "trunk", "trunks": [10, 20], "mtu": None}}}


@pytest.mark.parametrize(("port", "message"), [
    ({"name": "eno1", "vlan_mode": "trunk", "tag": 7}, r"^ports\[0\]\.tag: 7 with vlan_mode trunk; expected no tag"),
    ({"name": "eno1", "vlan_mode": "access"}, r"^ports\[0\]\.tag: None; vlan_mode access needs the port's VLAN"),
    ({"name": "eno1", "vlan_mode": "native-tagged", "tag": 4096}, r"^ports\[0\]\.tag: 4096; .*0\.\.4095"),
    ({"name": "eno1", "vlan_mode": "access", "tag": 4, "trunks": [5]},
     r"^ports\[0\]\.trunks: \[5\] with vlan_mode access"),
    ({"name": "eno1", "trunks": [5000]}, r"^ports\[0\]\.trunks: \[5000\]; expected VLAN ids"),
    ({"name": "eno1", "mtu": 20}, r"^ports\[0\]\.mtu: 20; expected an integer 68\.\.65535"),
    ({"name": "a-name-of-16-chr"}, r"^ports\[0\]\.name: 'a-name-of-16-chr'; expected an interface name"),
])
def test_bad_port_named_with_expected_form(port, message):
    with pytest.raises(ovs.OvsError, match=message):
        ovs.desired_ports([{"type": "system", "vlan_mode": "trunk", "trunks": [], **port}])


def test_port_declared_twice():
    with pytest.raises(ovs.OvsError, match=r"^ports\[1\]\.name: eno1 is declared twice"):
        ovs.desired_ports([DECLARED[0], DECLARED[0]])
