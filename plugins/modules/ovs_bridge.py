#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Declarative Open vSwitch bridge and the ports eole.hapy owns on it."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ovs_bridge
short_description: Manage an Open vSwitch bridge and its uplink and host ports, with their VLAN modes
description:
  - Declarative management of one Open vSwitch bridge on the host it runs on (for example Hâpy's C(vswitch)) and
    of the ports declared for it, through C(ovs-vsctl) - the bridge's datapath type, each port's VLAN mode
    (C(access), C(trunk), C(native-tagged), C(native-untagged)), VLAN tag, trunked VLANs, interface type and MTU.
  - The state is read first, then every change goes in one C(ovs-vsctl) transaction, so that the switch never
    holds half a configuration. A second run with the same arguments runs no write. Check mode predicts the
    commands; diff mode shows the bridge and its ports before and after.
  - The bridge and the ports written by this module are marked C(external_ids:eole-hapy=managed). Ports without
    that mark, such as the VM ports OpenNebula's C(ovswitch) driver adds (C(one-<vm>-<nic>)), are never changed
    nor removed, unless declared in O(ports). An existing bridge or port that is declared is adopted.
  - Open vSwitch keeps its configuration in its database (C(/etc/openvswitch/conf.db)), which C(ovs-vswitchd)
    applies again at boot; nothing else is needed for the bridge and its ports to persist. Bringing a physical
    interface up and addressing a host port are left to the host's network configuration (the
    C(eole.hapy.networks) role does it with systemd-networkd).
version_added: 0.3.0
author: eole.hapy contributors
options:
  name:
    description: Name of the bridge (an interface name, at most 15 characters).
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the bridge and its declared ports. V(absent) deletes the bridge, and fails
        without any change while it still carries ports this module does not own (a VM's port, for instance).
    type: str
    choices: [present, absent]
    default: present
  datapath_type:
    description:
      - V(system) is the kernel datapath (the C(openvswitch) kernel module), V(netdev) the userspace datapath run
        inside C(ovs-vswitchd) (no kernel module, slower; used by the tests on kernels without the module).
      - Omitted, a new bridge gets Open vSwitch's default (V(system)) and an existing one keeps its own.
      - Changing it on an existing bridge recreates its datapath (traffic stops for a moment).
    type: str
    choices: [system, netdev]
  mtu:
    description: MTU requested for the bridge's own internal interface (C(mtu_request)); omitted, left as it is.
    type: int
  ports:
    description:
      - The ports the bridge must have, beside the ports this module does not own.
      - Each port is named after its interface (a physical interface, or an internal interface created by Open
        vSwitch for the host).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Interface name (at most 15 characters).
        type: str
        required: true
      type:
        description: V(system) for an existing interface (a physical NIC), V(internal) for a host interface that
          Open vSwitch creates.
        type: str
        choices: [system, internal]
        default: system
      vlan_mode:
        description:
          - V(trunk) carries the VLANs of O(ports[].trunks) tagged (every VLAN when the list is empty).
          - V(access) carries VLAN O(ports[].tag) untagged and nothing else.
          - V(native-untagged) carries VLAN O(ports[].tag) untagged and the VLANs of O(ports[].trunks) tagged.
          - V(native-tagged) carries VLAN O(ports[].tag) and the VLANs of O(ports[].trunks), all tagged, and takes
            untagged frames in as VLAN O(ports[].tag).
        type: str
        choices: [access, trunk, native-tagged, native-untagged]
        default: trunk
      tag:
        description: The port's VLAN (access) or native VLAN (native-tagged, native-untagged), 0 to 4095. Required
          by those modes, refused with V(trunk).
        type: int
      trunks:
        description: VLANs (0 to 4095) carried by a trunk or native port; empty for every VLAN. Refused with
          V(access).
        type: list
        elements: int
        default: []
      mtu:
        description: MTU requested for the interface (C(mtu_request)); omitted, left as it is.
        type: int
  purge_ports:
    description: Remove the ports of this bridge that this module added earlier and that O(ports) no longer lists.
    type: bool
    default: true
  timeout:
    description: Seconds C(ovs-vsctl) waits for the database and for C(ovs-vswitchd) to apply a change.
    type: int
    default: 30
notes:
  - Runs on the host carrying the switch; needs the C(ovs-vsctl) command (Debian/Ubuntu package
    C(openvswitch-switch)) and the C(ovsdb-server) and C(ovs-vswitchd) services running. In check mode on a host
    where C(ovs-vsctl) is not installed yet, the switch is taken as empty and the task predicts its creation.
  - An interface that C(ovs-vswitchd) cannot open (a missing NIC, for example) stays declared in the database and
    is reported in RV(interface_errors) with a warning; Open vSwitch adds it as soon as it appears.
seealso:
  - name: Open vSwitch database reference (Port table, VLAN configuration)
    description: The C(vlan_mode), C(tag) and C(trunks) columns.
    link: https://www.openvswitch.org/support/dist-docs/ovs-vswitchd.conf.db.5.html
  - name: OpenNebula Open vSwitch networks
    description: How OpenNebula's C(ovswitch) driver attaches VMs to the bridge.
    link: https://docs.opennebula.io/6.10/open_cluster_deployment/networking_setup/openvswitch.html
"""

EXAMPLES = r"""
- name: Hâpy's switch, kernel datapath, one trunk uplink carrying the school's VLANs and a host port on VLAN 20
  eole.hapy.ovs_bridge:
    name: vswitch
    datapath_type: system
    ports:
      - {name: eno1, vlan_mode: trunk, trunks: [10, 20, 30, 40, 50]}
      - {name: eno2, vlan_mode: access, tag: 4}
      - {name: vswitch.20, type: internal, vlan_mode: access, tag: 20, mtu: 1500}

- name: A switch with no physical interface (internal-only networks)
  eole.hapy.ovs_bridge:
    name: vsw-int

- name: Remove a switch (refused while VMs are still attached to it)
  eole.hapy.ovs_bridge:
    name: vsw-old
    state: absent
"""

RETURN = r"""
bridge:
  description: The bridge after the task (in check mode, as predicted); empty when absent.
  returned: always
  type: dict
  contains:
    name:
      description: Bridge name.
      type: str
      sample: vswitch
    datapath_type:
      description: Datapath type (V(system) when Open vSwitch's default).
      type: str
      sample: system
    mtu:
      description: MTU requested for the bridge's internal interface, or null.
      type: int
      sample: null
    ports:
      description: The ports this module owns or was given, by name, with their VLAN configuration.
      type: dict
      sample: {eno1: {type: system, vlan_mode: trunk, trunks: [10, 20], mtu: null}}
    other_ports:
      description: Ports of the bridge this module leaves alone (e.g. OpenNebula's VM ports).
      type: list
      elements: str
      sample: [one-7-0]
commands:
  description: The C(ovs-vsctl) commands of the transaction (run, or predicted in check mode), one per string.
  returned: always
  type: list
  elements: str
  sample: ["add-br vswitch", "set Bridge vswitch datapath_type=system external_ids:eole-hapy=managed"]
interface_errors:
  description: Declared interfaces that ovs-vswitchd could not open, with its error.
  returned: always
  type: dict
  sample: {eno3: "could not open network device eno3 (No such device)"}
"""

import json
import re
from typing import Any

from ansible.module_utils.basic import AnsibleModule

OWNER = ("eole-hapy", "managed")
VLAN_MODES = ("access", "trunk", "native-tagged", "native-untagged")
IFNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,14}$")
READ = [
    ["--columns=name,ports,datapath_type,external_ids", "list", "Bridge"],
    ["--columns=_uuid,name,interfaces,vlan_mode,tag,trunks,external_ids", "list", "Port"],
    ["--columns=_uuid,name,type,mtu_request,error", "list", "Interface"],
]


class OvsError(Exception):
    """A failure to report as the task's message."""


# ---------------------------------------------------------------- reading (ovs-vsctl --format=json --data=json)
def atom(value: Any) -> Any:
    """An OVSDB atom: ["uuid", u] -> u; other values as they are."""
    if isinstance(value, list) and len(value) == 2 and value[0] in ("uuid", "named-uuid"):
        return value[1]
    return value


def as_set(value: Any) -> list:
    """An OVSDB set: ["set", [...]] -> list of atoms; a single atom (how OVSDB writes a one-element set) -> [atom]."""
    if isinstance(value, list) and len(value) == 2 and value[0] == "set":
        return [atom(v) for v in value[1]]
    return [atom(value)]


def as_map(value: Any) -> dict:
    """An OVSDB map: ["map", [[k, v], ...]] -> dict."""
    return {k: atom(v) for k, v in value[1]} if isinstance(value, list) and value and value[0] == "map" else {}


def optional(value: Any) -> Any:
    """An optional column (a set of at most one value): its value, or None when empty."""
    values = as_set(value)
    return values[0] if values else None


def tables(stdout: str) -> list[list[dict]]:
    """Rows of each table printed by one ovs-vsctl call (one JSON document per line)."""
    result = []
    for line in stdout.splitlines():
        if line.strip():
            doc = json.loads(line)
            result.append([dict(zip(doc["headings"], row, strict=True)) for row in doc["data"]])
    return result


def switch_state(bridge_rows: list[dict], port_rows: list[dict], iface_rows: list[dict]) -> dict:
    """Bridges and ports of the switch, by name, from the three tables."""
    ifaces = {atom(r["_uuid"]): r for r in iface_rows}
    ports_by_uuid = {atom(r["_uuid"]): r for r in port_rows}
    bridge_of = {}
    bridges = {}
    for row in bridge_rows:
        names = sorted(ports_by_uuid[u]["name"] for u in as_set(row["ports"]) if u in ports_by_uuid)
        bridge_of.update(dict.fromkeys(names, row["name"]))
        bridges[row["name"]] = {"datapath_type": row["datapath_type"] or "system",
                                "owned": _owned(row["external_ids"]), "ports": names}
    ports = {}
    for row in port_rows:
        members = [ifaces[u] for u in as_set(row["interfaces"]) if u in ifaces]
        iface = next((i for i in members if i["name"] == row["name"]), members[0] if members else {})
        ports[row["name"]] = {
            "bridge": bridge_of.get(row["name"]),
            "owned": _owned(row["external_ids"]),
            "vlan_mode": optional(row["vlan_mode"]),
            "tag": optional(row["tag"]),
            "trunks": sorted(as_set(row["trunks"])),
            "type": iface.get("type") or "system",
            "mtu": optional(iface.get("mtu_request", ["set", []])),
            "error": optional(iface.get("error", ["set", []])),
        }
    return {"bridges": bridges, "ports": ports}


def _owned(external_ids: Any) -> bool:
    return as_map(external_ids).get(OWNER[0]) == OWNER[1]


def vlan_view(port: dict) -> dict:
    """What a port carries, in the declaration's terms (an implicit OVS mode made explicit)."""
    mode = port["vlan_mode"] or ("access" if port["tag"] is not None else "trunk")
    view = {"vlan_mode": mode}
    if mode != "trunk":
        view["tag"] = port["tag"]
    if mode != "access":
        view["trunks"] = sorted(port["trunks"])
    return view


def port_view(port: dict) -> dict:
    """A port as reported and diffed: interface type, VLAN configuration, requested MTU."""
    return {"type": port["type"], **vlan_view(port), "mtu": port["mtu"]}


# ---------------------------------------------------------------- the declaration
def _int_error(value: Any, low: int, high: int) -> bool:
    return isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high


def desired_ports(ports: list[dict]) -> dict[str, dict]:
    """The declared ports by name, checked; raises OvsError naming the first bad field."""
    result = {}
    for index, spec in enumerate(ports):
        where = f"ports[{index}]"
        name = spec.get("name")
        if not isinstance(name, str) or not IFNAME_RE.match(name):
            raise OvsError(f"{where}.name: {name!r}; expected an interface name (at most 15 characters)")
        if name in result:
            raise OvsError(f"{where}.name: {name} is declared twice; expected one entry per port")
        mode, tag, trunks = spec["vlan_mode"], spec.get("tag"), sorted(set(spec.get("trunks") or []))
        if mode == "trunk" and tag is not None:
            raise OvsError(f"{where}.tag: {tag} with vlan_mode trunk; expected no tag (trunks lists the VLANs), "
                           "or vlan_mode native-tagged/native-untagged for a native VLAN")
        if mode != "trunk" and (tag is None or _int_error(tag, 0, 4095)):
            raise OvsError(f"{where}.tag: {tag!r}; vlan_mode {mode} needs the port's VLAN, an integer 0..4095")
        if mode == "access" and trunks:
            raise OvsError(f"{where}.trunks: {trunks} with vlan_mode access; expected none (an access port carries "
                           "its tag only)")
        bad = [t for t in trunks if _int_error(t, 0, 4095)]
        if bad:
            raise OvsError(f"{where}.trunks: {bad}; expected VLAN ids, integers 0..4095")
        if spec.get("mtu") is not None and _int_error(spec["mtu"], 68, 65535):
            raise OvsError(f"{where}.mtu: {spec['mtu']!r}; expected an integer 68..65535")
        result[name] = {"type": spec["type"], "vlan_mode": mode, "tag": tag, "trunks": trunks, "mtu": spec.get("mtu")}
    return result


# ---------------------------------------------------------------- what to change
def port_columns(port: dict) -> list[str]:
    """Port columns to set for a declared port (ovs-vsctl column=value arguments)."""
    cols = [f"vlan_mode={port['vlan_mode']}"]
    if port["tag"] is not None:
        cols.append(f"tag={port['tag']}")
    if port["trunks"]:
        cols.append("trunks=" + ",".join(str(t) for t in port["trunks"]))
    return cols


def iface_columns(port: dict, current: dict | None) -> list[str]:
    """Interface columns that differ from the current interface (all declared ones for a new port)."""
    cols = []
    if (current["type"] if current else "system") != port["type"]:
        cols.append("type=" + ('""' if port["type"] == "system" else port["type"]))
    if port["mtu"] is not None and (current is None or current["mtu"] != port["mtu"]):
        cols.append(f"mtu_request={port['mtu']}")
    return cols


def bridge_commands(name: str, params: dict, state: dict, ports: dict[str, dict]) -> list[list[str]]:
    """The ovs-vsctl commands that bring the switch from ``state`` to the declaration (empty when it is there)."""
    bridge = state["bridges"].get(name)
    if params["state"] == "absent":
        if bridge is None:
            return []
        foreign = [p for p in bridge["ports"] if p != name and not state["ports"][p]["owned"]]
        if foreign:
            raise OvsError(f"name: bridge {name} still carries ports this module does not own ({', '.join(foreign)}); "
                           "detach them (e.g. the VMs using it) before removing it")
        return [["del-br", name]]
    commands: list[list[str]] = []
    if bridge is None:
        commands.append(["add-br", name])
    bridge_cols = []
    if params["datapath_type"] and (bridge is None or bridge["datapath_type"] != params["datapath_type"]):
        bridge_cols.append(f"datapath_type={params['datapath_type']}")
    if bridge is None or not bridge["owned"]:
        bridge_cols.append(f"external_ids:{OWNER[0]}={OWNER[1]}")
    if bridge_cols:
        commands.append(["set", "Bridge", name, *bridge_cols])
    local = state["ports"].get(name)
    if params["mtu"] is not None and (local is None or local["mtu"] != params["mtu"]):
        commands.append(["set", "Interface", name, f"mtu_request={params['mtu']}"])
    for port_name, port in ports.items():
        commands += _port_commands(name, port_name, port, state["ports"].get(port_name))
    if params["purge_ports"] and bridge is not None:
        commands += [["del-port", name, p] for p in bridge["ports"]
                     if p != name and p not in ports and state["ports"][p]["owned"]]
    return commands


def _port_commands(bridge: str, name: str, port: dict, current: dict | None) -> list[list[str]]:
    owner = f"external_ids:{OWNER[0]}={OWNER[1]}"
    if current is None or current["bridge"] != bridge:
        moved = [["del-port", current["bridge"], name]] if current is not None and current["bridge"] else []
        ifaces = iface_columns(port, None)
        return [*moved, ["add-port", bridge, name, *port_columns(port), owner],
                *([["set", "Interface", name, *ifaces]] if ifaces else [])]
    commands = []
    if vlan_view(current) != vlan_view(port) or not current["owned"]:
        commands.append(["set", "Port", name, *port_columns(port), owner])
        clear = [column for column, declared in (("tag", port["tag"] is not None), ("trunks", bool(port["trunks"])))
                 if not declared and current[column] not in (None, [])]
        if clear:
            commands.append(["clear", "Port", name, *clear])
    ifaces = iface_columns(port, current)
    if ifaces:
        commands.append(["set", "Interface", name, *ifaces])
    return commands


def bridge_view(name: str, state: dict, ports: dict[str, dict]) -> dict:
    """The bridge as reported and diffed: its owned or declared ports in full, the others by name."""
    bridge = state["bridges"].get(name)
    if bridge is None:
        return {}
    mine = {p: port_view(state["ports"][p]) for p in bridge["ports"]
            if p != name and (p in ports or state["ports"][p]["owned"])}
    return {"name": name, "datapath_type": bridge["datapath_type"], "mtu": (state["ports"].get(name) or {}).get("mtu"),
            "ports": mine, "other_ports": [p for p in bridge["ports"] if p != name and p not in mine]}


def predicted_view(name: str, params: dict, state: dict, ports: dict[str, dict]) -> dict:
    """The bridge once the declaration is applied: check mode's answer and the diff's "after"."""
    if params["state"] == "absent":
        return {}
    before = bridge_view(name, state, ports) or {"datapath_type": "system", "mtu": None, "ports": {},
                                                 "other_ports": []}
    kept = {} if params["purge_ports"] else {p: v for p, v in before["ports"].items() if p not in ports}
    current_mtu = {p: port["mtu"] for p, port in state["ports"].items()}
    declared = {p: port_view({**v, "mtu": current_mtu.get(p) if v["mtu"] is None else v["mtu"]})
                for p, v in ports.items()}
    return {"name": name, "datapath_type": params["datapath_type"] or before["datapath_type"],
            "mtu": before["mtu"] if params["mtu"] is None else params["mtu"],
            "ports": {**kept, **declared}, "other_ports": [p for p in before["other_ports"] if p not in ports]}


# ---------------------------------------------------------------- running
class Switch:
    def __init__(self, module: AnsibleModule):
        self.module = module
        self.vsctl = module.get_bin_path("ovs-vsctl")

    def call(self, commands: list[list[str]], *options: str) -> str:
        argv = [self.vsctl, f"--timeout={self.module.params['timeout']}", *options]
        for command in commands:
            argv += ["--", *command]
        rc, out, err = self.module.run_command(argv)
        if rc != 0:
            raise OvsError(f"ovs-vsctl failed (rc={rc}): {err.strip() or out.strip()}")
        return out

    def read(self) -> dict:
        if self.vsctl is None:
            if self.module.check_mode:
                self.module.warn("ovs-vsctl is not installed yet: the switch is taken as empty")
                return switch_state([], [], [])
            raise OvsError("ovs-vsctl not found; install Open vSwitch (Debian/Ubuntu package openvswitch-switch)")
        out = self.call(READ, "--format=json", "--data=json")
        return switch_state(*tables(out))


def run(module: AnsibleModule) -> dict:
    params = module.params
    name = params["name"]
    if not IFNAME_RE.match(name):
        raise OvsError(f"name: {name!r}; expected an interface name (at most 15 characters)")
    if params["mtu"] is not None and _int_error(params["mtu"], 68, 65535):
        raise OvsError(f"mtu: {params['mtu']!r}; expected an integer 68..65535")
    ports = desired_ports(params["ports"]) if params["state"] == "present" else {}
    if name in ports:
        raise OvsError(f"ports: {name} is the bridge's own interface; declare its MTU with mtu")
    switch = Switch(module)
    state = switch.read()
    commands = bridge_commands(name, params, state, ports)
    before = bridge_view(name, state, ports)
    after = predicted_view(name, params, state, ports)
    if commands and not module.check_mode:
        switch.call(commands)
        state = switch.read()
        after = bridge_view(name, state, ports)
    errors = {p: state["ports"][p]["error"] for p in ports if p in state["ports"] and state["ports"][p]["error"]}
    for port, error in errors.items():
        module.warn(f"ports: Open vSwitch cannot open {port}: {error}")
    result = {"changed": bool(commands), "bridge": after, "commands": [" ".join(c) for c in commands],
              "interface_errors": errors}
    if module._diff:
        result["diff"] = {"before": before, "after": after}
    return result


def main() -> None:
    port_spec = {
        "name": {"type": "str", "required": True},
        "type": {"type": "str", "choices": ["system", "internal"], "default": "system"},
        "vlan_mode": {"type": "str", "choices": list(VLAN_MODES), "default": "trunk"},
        "tag": {"type": "int"},
        "trunks": {"type": "list", "elements": "int", "default": []},
        "mtu": {"type": "int"},
    }
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "datapath_type": {"type": "str", "choices": ["system", "netdev"]},
            "mtu": {"type": "int"},
            "ports": {"type": "list", "elements": "dict", "default": [], "options": port_spec},
            "purge_ports": {"type": "bool", "default": True},
            "timeout": {"type": "int", "default": 30},
        },
        supports_check_mode=True,
    )
    try:
        module.exit_json(**run(module))
    except OvsError as exc:
        module.fail_json(msg=str(exc))


if __name__ == "__main__":
    main()
