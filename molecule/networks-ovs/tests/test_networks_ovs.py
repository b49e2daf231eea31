"""networks role, Open vSwitch mode: real state and real traffic after converge and side effect.

The scenario's inventory (molecule.yml): the computed plan of school index 1 on Hâpy's switch ``vswitch`` (wan
VLAN 100, admin 20, pedago 30, dmz 40, dmz_priv 50 on eno1, a trunk), ``aca`` VLAN 4 on eno2 (access port), ``lab``
60 and ``lab_voip`` 61 on eno3 (native-untagged, native VLAN 60), eno4 a native-tagged port (native 70, trunks 70
and 71) with no network, ``interne`` VLAN 80 with no interface, ``isolated`` VLAN 90 on ``vsw-int`` (a switch with
no interface), the Linux bridge ``br-native`` on eno5 beside; host address 10.1.1.250/24 on admin (VLAN 20).

VMs are network namespaces attached the way OpenNebula's ovswitch driver attaches a VM's tap: ``ovs-vsctl
add-port vswitch <tap>`` then ``set Port <tap> tag=<VLAN_ID>``. The far end of each uplink's veth pair
(``<nic>p``) stands for the physical switch: tcpdump there shows what leaves on the wire.

Each command through testinfra's Ansible connection costs seconds (much more on a loaded machine), so the state
is read in one command and the traffic is exercised in one script; the tests assert on what they returned.
"""

import json
import re
import shlex

import pytest

UPLINKS = {
    "eno1": {"type": "system", "vlan_mode": "trunk", "trunks": [20, 30, 40, 50, 100]},
    "eno2": {"type": "system", "vlan_mode": "access", "tag": 4},
    "eno3": {"type": "system", "vlan_mode": "native-untagged", "tag": 60, "trunks": [60, 61]},
    "eno4": {"type": "system", "vlan_mode": "native-tagged", "tag": 70, "trunks": [70, 71]},
}
HOST_PORT = {"type": "internal", "vlan_mode": "access", "tag": 20}
FAR_ENDS = ["eno1p", "eno2p", "eno3p", "eno4p"]
# VLAN -> address of the VM on it (the VLAN 20 and 30 VMs share the host's admin subnet).
VMS = {20: "10.1.1.10/24", 30: "10.1.1.11/24", 4: "10.9.4.1/24", 60: "10.9.60.1/24", 61: "10.9.61.1/24",
       70: "10.9.70.1/24", 80: "10.9.80.1/24"}
# VLAN of the VM that looks for an absent address -> far ends where the ARP request must show, with its tag.
WIRE = {
    20: {"eno1p": 20},  # trunk: tagged
    4: {"eno2p": None},  # access: untagged, on its own port only
    60: {"eno3p": None},  # native-untagged: the native VLAN untagged ...
    61: {"eno3p": 61},  # ... the others tagged
    70: {"eno4p": 70},  # native-tagged: the native VLAN tagged too
    80: {},  # internal only: on no wire
}
OVS_TABLES = ("ovs-vsctl --format=json --data=json -- --columns=name,ports,datapath_type,external_ids list Bridge "
              "-- --columns=_uuid,name,vlan_mode,tag,trunks,external_ids,interfaces list Port "
              "-- --columns=_uuid,name,type,ofport,error list Interface")


def sections(output):
    """``<kind>\\t<key>\\t<value>`` lines -> {kind: {key: [values]}}."""
    result = {}
    for line in output.splitlines():
        kind, _, rest = line.partition("\t")
        key, _, value = rest.partition("\t")
        result.setdefault(kind, {}).setdefault(key, []).append(value)
    return result


def as_set(value):
    """An OVSDB set (["set", [...]], or a bare value for one element) as a list; uuids as strings."""
    values = value[1] if isinstance(value, list) and value and value[0] == "set" else [value]
    return [v[1] if isinstance(v, list) and v and v[0] == "uuid" else v for v in values]


def switch(json_lines):
    """Bridges and ports from the three tables of OVS_TABLES: {"bridges": {...}, "ports": {...}, "ifaces": {...}}."""
    bridge_rows, port_rows, iface_rows = ([dict(zip(doc["headings"], row, strict=True)) for row in doc["data"]]
                                          for doc in map(json.loads, json_lines))
    ifaces = {as_set(r["_uuid"])[0]: r for r in iface_rows}
    bridge_of = {uuid: b["name"] for b in bridge_rows for uuid in as_set(b["ports"])}
    ports = {}
    for row in port_rows:
        mode, tag, trunks = as_set(row["vlan_mode"]), as_set(row["tag"]), as_set(row["trunks"])
        iface = ifaces[as_set(row["interfaces"])[0]]
        view = {"type": iface["type"] or "system", "vlan_mode": mode[0] if mode else None}
        view.update({"tag": tag[0]} if tag else {})
        view.update({"trunks": sorted(trunks)} if trunks else {})
        ports[row["name"]] = {**view, "bridge": bridge_of.get(as_set(row["_uuid"])[0]), "owned": owned(row)}
    return {"bridges": {b["name"]: {"datapath_type": b["datapath_type"], "owned": owned(b)} for b in bridge_rows},
            "ports": ports,
            "ifaces": {r["name"]: {"ofport": r["ofport"], "error": as_set(r["error"])} for r in iface_rows}}


def owned(row):
    return dict(row["external_ids"][1]).get("eole-hapy") == "managed"


def strip(view):
    return {k: v for k, v in view.items() if k not in ("bridge", "owned")}


@pytest.fixture(scope="module")
def state(host):
    """Everything the state tests read, in one command."""
    script = (
        f"{OVS_TABLES} | sed 's/^/ovs\t-\t/'; "
        "printf 'addr\t-\t%s\n' \"$(ip -json addr show)\"; "
        "printf 'unit\tenabled\t%s\n' \"$(systemctl is-enabled openvswitch-switch)\"; "
        "for u in ovsdb-server ovs-vswitchd; do printf 'unit\t%s\t%s\n' $u \"$(systemctl is-active $u)\"; done; "
        "printf 'networkd\tvswitch.20\t%s\n' \"$(networkctl status --no-pager vswitch.20 | grep -o 'State: .*')\""
    )
    out = sections(host.check_output("bash -c " + shlex.quote(script)))
    links = {link["ifname"]: link for link in json.loads(out["addr"]["-"][0])}
    return {"ovs": switch(out["ovs"]["-"]), "links": links, "units": {k: v[0] for k, v in out["unit"].items()},
            "networkd": out["networkd"]["vswitch.20"][0]}


# One script: VMs attached like OpenNebula's driver attaches them, pings, what each wire sees, untagged frames
# coming in, then a restart of Open vSwitch (the database applied again, as at boot); VMs removed on exit.
TRAFFIC = r"""
set -u
declare -A CIDR=(@CIDRS@) TARGET=(@TARGETS@)
say() { printf '%s\t%s\t%s\n' "$1" "$2" "$3"; }
ok() { "$@" >/dev/null 2>&1 && echo yes || echo no; }
cleanup() {
  for v in "${!CIDR[@]}"; do
    ovs-vsctl --if-exists del-port vswitch vm$v; ip link delete vm$v 2>/dev/null; ip netns delete ovsvm$v 2>/dev/null
  done
}
trap cleanup EXIT
for v in "${!CIDR[@]}"; do
  ip netns add ovsvm$v && ip link add vm$v type veth peer name eth0 netns ovsvm$v && ip link set vm$v up \
    && ip netns exec ovsvm$v ip link set eth0 up && ip netns exec ovsvm$v ip addr add ${CIDR[$v]} dev eth0 \
    && ovs-vsctl add-port vswitch vm$v && ovs-vsctl set Port vm$v tag=$v || exit 1
done
# The first frames through a port just added may be lost: wait (30 s at most) for what must succeed; what must
# fail is tried once the switch has been seen forwarding.
reach() { timeout 30 sh -c "until $*; do :; done"; }
say ping vlan20-host "$(ok reach ip netns exec ovsvm20 ping -c 1 -W 1 10.1.1.250)"
say ping vlan30-host "$(ok ip netns exec ovsvm30 ping -c 3 -W 2 10.1.1.250)"
for v in "${!TARGET[@]}"; do
  target=${TARGET[$v]}
  for end in @FAR_ENDS@; do
    timeout 10 tcpdump -Z root -l -nn -e -c 1 -i $end "arp host $target or (vlan and arp host $target)" \
      >/tmp/wire.$end 2>&1 &
  done
  for end in @FAR_ENDS@; do until grep -q 'listening on' /tmp/wire.$end; do sleep 0.1; done; done
  ip netns exec ovsvm$v ping -c 2 -W 1 $target >/dev/null 2>&1
  for end in @FAR_ENDS@; do say wire "$v $end" "$(grep ' > ' /tmp/wire.$end | head -1)"; done
  kill $(jobs -p) 2>/dev/null; wait
done
for end in eno2p eno3p; do
  net=$([ $end = eno2p ] && echo 10.9.4 || echo 10.9.60)
  ip addr add $net.2/24 dev $end
  say inbound $end "$(ok reach ping -c 1 -W 1 $net.1)"
  ip addr del $net.2/24 dev $end
done
@TABLES@ | sed 's/^/before\t-\t/'
systemctl restart openvswitch-switch
@TABLES@ | sed 's/^/after\t-\t/'
say ping vlan20-host-after-restart "$(ok reach ip netns exec ovsvm20 ping -c 1 -W 1 10.1.1.250)"
"""


@pytest.fixture(scope="module")
def traffic(host, state):  # after state: the VMs it adds are not part of what state reads
    script = (TRAFFIC.replace("@CIDRS@", " ".join(f"[{v}]={c}" for v, c in VMS.items()))
              .replace("@TARGETS@", " ".join(f"[{v}]={VMS[v].rsplit('.', 1)[0]}.99" for v in WIRE))
              .replace("@FAR_ENDS@", " ".join(FAR_ENDS)).replace("@TABLES@", OVS_TABLES))
    return sections(host.check_output("timeout 600 bash -c " + shlex.quote(script)))


def vlan_of(line):
    """The 802.1Q tag of a tcpdump -e line, or None for an untagged frame."""
    match = re.search(r"802\.1Q \(0x8100\), length \d+: vlan (\d+)", line)
    return int(match.group(1)) if match else None


def test_openvswitch_runs_now_and_at_boot(state):
    assert state["units"] == {"enabled": "enabled", "ovsdb-server": "active", "ovs-vswitchd": "active"}


def test_switches_owned_on_userspace_datapath(state):
    assert state["ovs"]["bridges"] == {"vswitch": {"datapath_type": "netdev", "owned": True},
                                       "vsw-int": {"datapath_type": "netdev", "owned": True}}


@pytest.mark.parametrize("uplink", sorted(UPLINKS))
def test_uplink_ports_in_their_hapy_mode(state, uplink):
    port = state["ovs"]["ports"][uplink]
    assert port["bridge"] == "vswitch" and port["owned"]
    assert strip(port) == UPLINKS[uplink]


def test_uplinks_opened_once_they_appeared(state):
    """The veth stand-ins appear after the switch is configured (networkd creates them on its reload), like NICs
    that come late at boot: ovs-vswitchd adds them when they appear."""
    for nic in UPLINKS:
        assert state["ovs"]["ifaces"][nic]["ofport"] > 0 and state["ovs"]["ifaces"][nic]["error"] == [], nic


def test_internal_only_networks_leave_on_no_uplink(state):
    ports = state["ovs"]["ports"]
    assert all(80 not in p.get("trunks", []) and p.get("tag") != 80 for p in ports.values() if p["owned"])
    assert [name for name, p in ports.items() if p["bridge"] == "vsw-int"] == ["vsw-int"]  # its own port only


def test_host_port_addressed_by_networkd(state):
    assert strip(state["ovs"]["ports"]["vswitch.20"]) == HOST_PORT
    link = state["links"]["vswitch.20"]
    assert ("10.1.1.250", 24) in [(a["local"], a["prefixlen"]) for a in link["addr_info"]]
    assert link["mtu"] == 1500
    assert "configured" in state["networkd"]


def test_uplinks_up_with_mtu_and_linux_bridge_beside(state):
    links = state["links"]
    assert all("UP" in links[nic]["flags"] for nic in UPLINKS)
    assert links["eno2"]["mtu"] == 9000
    assert links["eno5"].get("master") == "br-native" and links["br-native"]["operstate"] == "UP"


def test_vm_port_of_opennebula_left_alone_and_hand_change_undone(state):
    """side_effect.yml: a VM port tagged 20 was added and eno1 turned into an access port; the role ran again."""
    ports = state["ovs"]["ports"]
    assert ports["one-7-0"] == {"type": "system", "vlan_mode": None, "tag": 20, "bridge": "vswitch", "owned": False}
    assert strip(ports["eno1"]) == UPLINKS["eno1"]


def test_same_vlan_reaches_the_host_other_vlan_does_not(traffic):
    assert traffic["ping"]["vlan20-host"] == ["yes"]
    assert traffic["ping"]["vlan30-host"] == ["no"], "VLAN 30 must not reach the host's VLAN 20 port"


@pytest.mark.parametrize("vlan", sorted(WIRE))
def test_what_leaves_on_each_wire(traffic, vlan):
    seen = {end: vlan_of(frames[0]) for end in FAR_ENDS
            if (frames := traffic["wire"].get(f"{vlan} {end}", [""])) and frames[0].strip()}
    assert seen == WIRE[vlan]


@pytest.mark.parametrize("far_end", ["eno2p", "eno3p"])
def test_untagged_frames_from_the_wire_reach_the_port_vlan(traffic, far_end):
    """Inbound: untagged frames entering the access port (eno2) or the native-untagged port (eno3) belong to its
    VLAN (4, 60): the far end reaches the VM on it."""
    assert traffic["inbound"][far_end] == ["yes"]


def test_configuration_survives_an_openvswitch_restart(traffic):
    """The database keeps the switches; ovs-vswitchd applies them again (as at boot) and traffic flows again."""
    before, after = switch(traffic["before"]["-"]), switch(traffic["after"]["-"])
    assert {p: strip(v) for p, v in after["ports"].items()} == {p: strip(v) for p, v in before["ports"].items()}
    assert after["bridges"] == before["bridges"]
    assert traffic["ping"]["vlan20-host-after-restart"] == ["yes"]
