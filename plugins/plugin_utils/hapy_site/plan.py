# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The school's network plan (netaddr): standard networks, VLAN ids, subnets, gateways, ranges, DHCP pools, and the
checks of the networks an inventory declares."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from itertools import islice
from typing import Any

from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.common import (
    BRIDGE_RE,
    NAME_RE,
    Errors,
    HapySiteError,
    IPAddress,
    IPNetwork,
    IPRange,
    IPSet,
    Network,
    Site,
    academy_settings,
    as_list,
    ip4,
    is_int,
    net4,
    one_name_errors,
    one_text_errors,
    unknown_keys,
)

VN_MADS = ("bridge", "802.1Q", "ovswitch", "vxlan")
# Open vSwitch uplink modes (Hâpy's port modes; Open vSwitch's Port vlan_mode), the default first.
OVS_PORT_MODES = ("trunk", "access", "native-tagged", "native-untagged")
OVS_PORT_KEYS = {"interface", "mode", "vlan_id", "trunks", "bridge"}

# Standard networks, in Amon interface order (eth0..eth4): name -> (EOLE zone, subnet index in the school block,
# default VLAN id, internal?). ``wan`` is the outside link: its gateway is the academy router, not the Amon.
STANDARD_NETWORKS: dict[str, dict[str, Any]] = {
    "wan": {"zone": "exterieur", "subnet_index": 0, "vlan_id": 10, "internal": False},
    "admin": {"zone": "admin", "subnet_index": 1, "vlan_id": 20, "internal": True},
    "pedago": {"zone": "pedago", "subnet_index": 2, "vlan_id": 30, "internal": True},
    "dmz": {"zone": "dmz-pub", "subnet_index": 3, "vlan_id": 40, "internal": True},
    "dmz_priv": {"zone": "dmz-priv", "subnet_index": 4, "vlan_id": 50, "internal": True},
}

# Address layout inside each network, as offsets from the network address (see docs/inventory.md).
# /24 internal network: .1 gateway (the Amon) and OpenNebula range .1-.49 (servers), DHCP pool .128-.249 (clients),
# .250-.254 left for the physical hosts and the SAN. wan: .1 academy router, OpenNebula range .2-.9.
GATEWAY_OFFSET = 1
AR_OFFSET = {"internal": 1, "wan": 2}  # internal: the range starts at the gateway, which the Amon leases
AR_MAX_SIZE = {"internal": 49, "wan": 8}
DHCP_TAIL = 6  # the pool ends 6 addresses before the broadcast
DHCP_MIN_SIZE = 32  # dhcp: true needs at least a /27
DHCP_DEFAULT = ("admin", "pedago")

NETWORK_KEYS = {
    "name", "enabled", "zone", "subnet_index", "vlan_id", "cidr", "gateway", "dns", "bridge", "phydev", "vn_mad",
    "vnet_name", "ar", "dhcp", "reserved", "description", "mtu", "vlan_tagged_id",
}


def school_block(school: Mapping[str, Any], academy: Mapping[str, Any] | None = None) -> IPNetwork:
    """The school's address block: ``hapy_school.block``, else subnet number ``index`` of the academy base."""
    if school.get("block"):
        block = net4(school["block"])
        if block is None:
            raise HapySiteError(f"hapy_school.block: {school['block']!r} is not an IPv4 network")
        return block
    settings = academy_settings(academy)
    index = school.get("index")
    base = net4(settings["base"])
    if base is None:
        raise HapySiteError(f"hapy_academy.base: {settings['base']!r} is not an IPv4 network")
    prefix = settings["school_prefix"]
    count = 2 ** (prefix - base.prefixlen) if is_int(prefix) and prefix >= base.prefixlen else 0
    if not is_int(index) or not 0 <= index < count:
        raise HapySiteError(
            f"hapy_school.index: {index!r}; expected an integer 0..{max(count - 1, 0)} "
            f"(school number inside {base}) or hapy_school.block"
        )
    return next(islice(base.subnet(prefix), index, None))


def _merged_declarations(networks: Iterable[Mapping[str, Any]] | None,
                         academy: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Standard networks, then academy overrides, then school overrides/declarations, merged by name."""
    merged: dict[str, dict[str, Any]] = {name: {"name": name} for name in STANDARD_NETWORKS}
    for layer in (academy_settings(academy).get("networks") or [], networks or []):
        for decl in layer:
            if isinstance(decl, Mapping) and "name" in decl:
                merged.setdefault(decl["name"], {}).update(copy.deepcopy(dict(decl)))
    return merged


def _layout(decl: Mapping[str, Any], cidr: IPNetwork, kind: str) -> dict[str, Any]:
    """Gateway, OpenNebula address range and DHCP pool of one network (explicit values win).

    Defaults scale with the network: the range holds min(49, size/2 - 1) addresses from .1 (wan: min(8, size - 3)
    from .2), the DHCP pool runs from the middle of the network to 6 addresses before the broadcast.
    """
    first, size = cidr.network, cidr.size
    gateway = decl.get("gateway") or str(first + GATEWAY_OFFSET)
    ar = dict(decl.get("ar") or {})
    ar.setdefault("ip", str(first + AR_OFFSET[kind]))
    ar.setdefault("size", max(1, min(AR_MAX_SIZE[kind], size // 2 - 1 if kind == "internal" else size - 3)))
    dhcp = decl.get("dhcp", decl["name"] in DHCP_DEFAULT)
    if dhcp is True:
        if size < DHCP_MIN_SIZE:
            raise HapySiteError(f"hapy_networks[{decl['name']}].dhcp: true on {cidr}; expected a network of at least "
                                "/27 or an explicit {start, end}")
        dhcp = {"start": str(first + size // 2), "end": str(cidr.broadcast - DHCP_TAIL)}
    return {"gateway": gateway, "ar": {"ip": ar["ip"], "size": ar["size"]}, "dhcp": dict(dhcp) if dhcp else None}


def network_plan(school: Mapping[str, Any], networks: Iterable[Mapping[str, Any]] | None = None,
                 academy: Mapping[str, Any] | None = None) -> list[Network]:
    """The school's networks, fully computed, in interface order (standard ones first).

    Each network: ``name, zone, vnet_name, vlan_id, cidr, network, netmask, prefix, broadcast, gateway,
    dns, bridge, phydev, vn_mad, ar {ip, size}, dhcp {start, end} | None, reserved [addr | first-last],
    internal, description`` and ``mtu`` when declared.
    Raises :class:`HapySiteError` on data that :func:`validate_site` rejects.
    """
    settings = academy_settings(academy)
    block = school_block(school, academy)
    plan: list[Network] = []
    for name, decl in _merged_declarations(networks, academy).items():
        if decl.get("enabled", True) is False:
            continue
        std = STANDARD_NETWORKS.get(name, {})
        internal = std.get("internal", True)
        if decl.get("cidr"):
            cidr = net4(decl["cidr"])
            if cidr is None:
                raise HapySiteError(f"hapy_networks[{name}].cidr: {decl['cidr']!r} is not an IPv4 network")
        elif "subnet_index" in decl or std:
            index = decl.get("subnet_index", std.get("subnet_index"))
            cidr = next(islice(block.subnet(settings["network_prefix"]), index, None), None)
            if cidr is None:
                raise HapySiteError(f"hapy_networks[{name}].subnet_index: {index!r} is outside {block}")
        else:
            raise HapySiteError(f"hapy_networks[{name}].cidr: missing for a non-standard network")
        layout = _layout(decl, cidr, "internal" if internal else "wan")
        gateway = layout["gateway"]
        vn_mad = decl.get("vn_mad", settings["vn_mad"])
        default_bridge = "vswitch" if vn_mad == "ovswitch" else "br-" + name.replace("_", "-")
        reserved = [gateway]
        if layout["dhcp"]:
            reserved.append(f"{layout['dhcp']['start']}-{layout['dhcp']['end']}")
        reserved += [r for r in as_list(decl.get("reserved")) if r not in reserved]
        plan.append({
            "name": name,
            "zone": decl.get("zone", std.get("zone", name.replace("_", "-"))),
            "vnet_name": decl.get("vnet_name", f"CR_{name}"),
            "vlan_id": decl.get("vlan_id", std.get("vlan_id")),
            "cidr": str(cidr),
            "network": str(cidr.network),
            "netmask": str(cidr.netmask),
            "prefix": cidr.prefixlen,
            "broadcast": str(cidr.broadcast) if cidr.broadcast is not None else str(cidr.network),
            "gateway": gateway,
            "dns": as_list(decl.get("dns", [gateway] if internal else settings["dns"])),
            "bridge": decl.get("bridge", default_bridge),
            "phydev": decl.get("phydev", settings["phydev"]),
            "vn_mad": vn_mad,
            "ar": layout["ar"],
            "dhcp": layout["dhcp"],
            "reserved": reserved,
            "internal": internal,
            "description": decl.get("description", f"{name} ({school.get('uai', '')})".strip()),
            **({"mtu": decl["mtu"]} if "mtu" in decl else {}),
            **({"vlan_tagged_id": sorted(set(decl["vlan_tagged_id"]))} if decl.get("vlan_tagged_id") else {}),
        })
    return plan


def plan_by_name(plan: Iterable[Network]) -> dict[str, Network]:
    """The plan indexed by network name."""
    return {net["name"]: net for net in plan}


def _validate_network_decl(decl: Any, path: str) -> Errors:
    """Errors of one ``hapy_networks`` entry, before the plan is computed."""
    if not isinstance(decl, Mapping):
        return [f"{path}: not a mapping; expected {{name, vlan_id?, cidr?, ...}}"]
    errors = unknown_keys(decl, NETWORK_KEYS, path)
    name = decl.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        errors.append(f"{path}.name: {name!r}; expected a lower-case name (letters, digits, _; at most 15 chars)")
        return errors
    cidr = None
    if "cidr" in decl:
        cidr = net4(decl["cidr"])
        if cidr is None:
            errors.append(f"{path}.cidr: {decl['cidr']!r}; expected an IPv4 network address like 10.1.2.0/24")
    elif name not in STANDARD_NETWORKS and "subnet_index" not in decl:
        errors.append(f"{path}.cidr: missing for non-standard network '{name}'; expected cidr or subnet_index")
    if name not in STANDARD_NETWORKS and "vlan_id" not in decl:
        errors.append(f"{path}.vlan_id: missing for non-standard network '{name}'; expected an integer 1..4094")
    if "vlan_id" in decl and (not is_int(decl["vlan_id"]) or not 1 <= decl["vlan_id"] <= 4094):
        errors.append(f"{path}.vlan_id: {decl['vlan_id']!r}; expected an integer 1..4094")
    if "subnet_index" in decl and (not is_int(decl["subnet_index"]) or decl["subnet_index"] < 0):
        errors.append(f"{path}.subnet_index: {decl['subnet_index']!r}; expected an integer >= 0")
    if "mtu" in decl and (not is_int(decl["mtu"]) or not 576 <= decl["mtu"] <= 9216):
        errors.append(f"{path}.mtu: {decl['mtu']!r}; expected an integer 576..9216")
    if "enabled" in decl and not isinstance(decl["enabled"], bool):
        errors.append(f"{path}.enabled: {decl['enabled']!r}; expected true or false")
    tagged = decl.get("vlan_tagged_id")
    if tagged is not None and (not isinstance(tagged, list) or not all(_vlan(t) for t in tagged)):
        errors.append(f"{path}.vlan_tagged_id: {tagged!r}; expected a list of VLAN ids, integers 1..4094")
    if "vn_mad" in decl and decl["vn_mad"] not in VN_MADS:
        errors.append(f"{path}.vn_mad: {decl['vn_mad']!r}; expected one of {', '.join(VN_MADS)}")
    if "bridge" in decl and (not isinstance(decl["bridge"], str) or not BRIDGE_RE.match(decl["bridge"])):
        errors.append(f"{path}.bridge: {decl['bridge']!r}; expected a Linux interface name (at most 15 chars)")
    if "phydev" in decl and (not isinstance(decl["phydev"], str) or not BRIDGE_RE.match(decl["phydev"])):
        errors.append(f"{path}.phydev: {decl['phydev']!r}; expected a Linux interface name like eth1")
    for i, server in enumerate(as_list(decl.get("dns"))):
        if ip4(server) is None:
            errors.append(f"{path}.dns[{i}]: {server!r}; expected an IPv4 address")
    if "gateway" in decl and ip4(decl["gateway"]) is None:
        errors.append(f"{path}.gateway: {decl['gateway']!r}; expected an IPv4 address")
    ar = decl.get("ar")
    if ar is not None:
        if not isinstance(ar, Mapping):
            errors.append(f"{path}.ar: {ar!r}; expected {{ip, size}}")
        else:
            if "ip" in ar and ip4(ar["ip"]) is None:
                errors.append(f"{path}.ar.ip: {ar['ip']!r}; expected an IPv4 address")
            if "size" in ar and (not is_int(ar["size"]) or ar["size"] < 1):
                errors.append(f"{path}.ar.size: {ar['size']!r}; expected an integer >= 1")
    dhcp = decl.get("dhcp")
    if dhcp is not None and not isinstance(dhcp, bool) and (
            not isinstance(dhcp, Mapping) or ip4(dhcp.get("start")) is None or ip4(dhcp.get("end")) is None):
        errors.append(f"{path}.dhcp: {dhcp!r}; expected true, false or {{start: <IPv4>, end: <IPv4>}}")
    for i, spec in enumerate(as_list(decl.get("reserved"))):
        parts = str(spec).split("-")
        if len(parts) > 2 or any(ip4(p) is None for p in parts) or (len(parts) == 2 and ip4(parts[0]) > ip4(parts[1])):
            errors.append(f"{path}.reserved[{i}]: {spec!r}; expected an IPv4 address or a range first-last")
    return errors


def _vlan(value: Any) -> bool:
    return is_int(value) and 1 <= value <= 4094


def _validate_plan_network(net: Network, path: str) -> Errors:
    """Errors of one computed network: a name and description OpenNebula keeps as they are, addresses inside the
    subnet, AR and DHCP pool consistent."""
    errors = one_name_errors(net["vnet_name"], f"{path}.vnet_name")
    errors += one_text_errors(net["description"], f"{path}.description")
    cidr = IPNetwork(net["cidr"])
    hosts = IPRange(cidr.first + 1, cidr.last - 1) if cidr.size > 2 else IPRange(cidr.first, cidr.last)
    if IPAddress(net["gateway"]) not in hosts:
        errors.append(f"{path}.gateway: {net['gateway']} is outside {net['cidr']}; expected a host address of it")
    ar_first = IPAddress(net["ar"]["ip"])
    ar_last_value = ar_first.value + net["ar"]["size"] - 1
    if ar_first not in hosts or ar_last_value > hosts.last:
        errors.append(
            f"{path}.ar: {net['ar']['ip']} + {net['ar']['size']} addresses leaves {net['cidr']}; "
            f"expected a range inside {hosts}"
        )
    elif net["dhcp"]:
        pool = IPRange(net["dhcp"]["start"], net["dhcp"]["end"])
        if pool not in hosts:
            errors.append(f"{path}.dhcp: {pool} is outside {net['cidr']}; expected a range of host addresses")
        elif pool.first <= ar_last_value and ar_first.value <= pool.last:
            errors.append(f"{path}.dhcp: {pool} overlaps the OpenNebula range {ar_first}-{IPAddress(ar_last_value)}; "
                          "expected disjoint")
    return errors


def validate_plan(plan: list[Network], names: Mapping[str, str]) -> Errors:
    """Cross-network errors: duplicate VLAN ids, bridges, vnet names; overlapping subnets; per-network layout."""
    errors: Errors = []
    seen: dict[str, dict[Any, str]] = {"vlan_id": {}, "vnet_name": {}, "bridge": {}}
    for i, net in enumerate(plan):
        path = names.get(net["name"], f"hapy_networks[{net['name']}]")
        errors += _validate_plan_network(net, path)
        for key, owners in seen.items():
            if key == "bridge" and net["vn_mad"] == "ovswitch":
                continue  # one Open vSwitch carries every VLAN; Linux bridges are one per network
            if net[key] in owners:
                errors.append(f"{path}.{key}: {net[key]!r} already used by network '{owners[net[key]]}'; "
                              f"expected a unique {key}")
            owners.setdefault(net[key], net["name"])
        for earlier in plan[:i]:
            if IPSet([net["cidr"]]) & IPSet([earlier["cidr"]]):
                errors.append(f"{path}.cidr: {net['cidr']} overlaps {earlier['cidr']} of network "
                              f"'{earlier['name']}'; expected disjoint subnets")
    return errors + ovs_plan_errors(plan, lambda name: names.get(name, f"hapy_networks[{name}]"))


def ovs_plan_errors(plan: list[Network], path_of: Callable[[str], str]) -> Errors:
    """Errors of the plan's Open vSwitch networks (``vn_mad: ovswitch``) against each other and the others: a
    switch takes every frame of its ports, so an interface is a port of one switch and of no Linux bridge or VLAN
    link, and every network on it needs a VLAN (a VM port without a tag carries every VLAN)."""
    errors: Errors = []
    others = [net for net in plan if net.get("vn_mad", "bridge") != "ovswitch"]
    other_phydevs = {net["phydev"]: net for net in others if net.get("phydev")}
    other_bridges = {net["bridge"]: net for net in others}
    switch_of: dict[str, Network] = {}
    for net in plan:
        path = path_of(net["name"])
        if net.get("vn_mad", "bridge") != "ovswitch":
            if net.get("vlan_tagged_id"):
                errors.append(f"{path}.vlan_tagged_id: set on a {net.get('vn_mad', 'bridge')} network; expected "
                              "vn_mad ovswitch (only OpenNebula's Open vSwitch driver trunks VLANs to a VM)")
            continue
        if not _vlan(net.get("vlan_id")):
            errors.append(f"{path}.vlan_id: {net.get('vlan_id')!r} on Open vSwitch; expected an integer 1..4094 "
                          "(a VM port without a tag would carry every VLAN of the switch)")
        phydev, bridge = net.get("phydev"), net["bridge"]
        if bridge in other_bridges:
            errors.append(f"{path}.bridge: {bridge} is also the Linux bridge of network "
                          f"'{other_bridges[bridge]['name']}'; expected distinct names")
        if not phydev:
            continue
        if phydev in other_phydevs:
            other = other_phydevs[phydev]
            errors.append(f"{path}.phydev: {phydev} also carries network '{other['name']}' "
                          f"({other.get('vn_mad', 'bridge')}); expected an interface of its own for Open vSwitch")
        first = switch_of.setdefault(phydev, net)
        if first["bridge"] != bridge:
            errors.append(f"{path}.bridge: {bridge}, but {phydev} is already a port of {first['bridge']} (network "
                          f"'{first['name']}'); expected one switch per interface")
    return errors


def ovs_switches(plan: list[Network], ports: Iterable[Mapping[str, Any]] | None = None,
                 ports_var: str = "networks_ovs_ports") -> list[dict[str, Any]]:
    """The Open vSwitch bridges of the plan (its ``vn_mad: ovswitch`` networks), in plan order, each with its uplink
    ports in the terms of ``eole.hapy.ovs_bridge``: ``[{name, ports: [{name, vlan_mode, tag, trunks}]}]``.

    Every interface carrying one of these networks is a port of their switch; ``ports`` (Hâpy's ports) sets how,
    per interface: ``{interface, mode, vlan_id, trunks, bridge}``. ``mode`` is ``trunk`` by default; ``access``
    carries ``vlan_id`` (default: the VLAN of the interface's network) untagged; ``native-tagged`` and
    ``native-untagged`` also need ``vlan_id`` (the native VLAN). ``trunks`` defaults to the VLANs of the
    interface's networks (and their ``vlan_tagged_id``), so VLANs of networks without an interface (internal
    only) never leave the host; ``[]`` carries every VLAN. Raises :class:`HapySiteError` listing every error.
    """
    errors = ovs_plan_errors(plan, lambda name: f"networks_plan[{name}]")
    nets = [net for net in plan if net.get("vn_mad") == "ovswitch"]
    switches = {net["bridge"]: [] for net in nets}
    on_iface: dict[str, list[Network]] = {}
    for net in nets:
        if net.get("phydev"):
            on_iface.setdefault(net["phydev"], []).append(net)
    declared: dict[str, tuple[str, Mapping[str, Any]]] = {}
    for i, port in enumerate(ports or []):
        path = f"{ports_var}[{i}]"
        if not isinstance(port, Mapping):
            errors.append(f"{path}: {port!r}; expected {{interface, mode, vlan_id, trunks, bridge}}")
            continue
        errors += unknown_keys(port, OVS_PORT_KEYS, path)
        iface = port.get("interface")
        if not isinstance(iface, str) or not BRIDGE_RE.match(iface):
            errors.append(f"{path}.interface: {iface!r}; expected an interface name like eno1")
        elif iface in declared:
            errors.append(f"{path}.interface: {iface} already declared by {declared[iface][0]}; expected one entry "
                          "per interface")
        else:
            declared[iface] = (path, port)
    bad = set()
    for iface, (path, port) in declared.items():
        port_errors = _ovs_port_errors(path, port, on_iface.get(iface, []), list(switches))
        errors += port_errors
        bad.update([iface] if port_errors else [])
    for iface in dict.fromkeys([*on_iface, *declared]):
        port = declared.get(iface, ("", {}))[1]
        iface_nets = on_iface.get(iface, [])
        if iface in bad:
            continue
        own = sorted({net["vlan_id"] for net in iface_nets if _vlan(net.get("vlan_id"))})
        tagged = {v for net in iface_nets for v in net.get("vlan_tagged_id", [])}
        mode = port.get("mode", "trunk")
        tag = port.get("vlan_id", own[0] if mode == "access" and len(own) == 1 else None)
        trunks = [] if mode == "access" else sorted(set(port.get("trunks", [*own, *tagged, *([tag] if tag else [])])))
        bridge = port.get("bridge") or (iface_nets[0]["bridge"] if iface_nets else next(iter(switches)))
        switches[bridge].append({"name": iface, "vlan_mode": mode, "tag": tag, "trunks": trunks})
    if errors:
        raise HapySiteError("; ".join(errors))
    return [{"name": bridge, "ports": ports_of} for bridge, ports_of in switches.items()]


def _ovs_port_errors(path: str, port: Mapping[str, Any], nets: list[Network], switches: list[str]) -> Errors:
    """Errors of one declared uplink port, given the networks on its interface and the plan's switches."""
    errors: Errors = []
    mode, vlan_id, trunks = port.get("mode", "trunk"), port.get("vlan_id"), port.get("trunks")
    bridge = port.get("bridge") or (nets[0]["bridge"] if nets else (switches[0] if len(switches) == 1 else None))
    if mode not in OVS_PORT_MODES:
        errors.append(f"{path}.mode: {mode!r}; expected one of {', '.join(OVS_PORT_MODES)}")
    if not switches:
        errors.append(f"{path}: the plan has no vn_mad ovswitch network; expected one for an Open vSwitch port")
    elif bridge is None:
        errors.append(f"{path}.bridge: missing; {port['interface']} carries no network of the plan and the plan has "
                      f"several switches, expected one of {', '.join(switches)}")
    elif bridge not in switches:
        errors.append(f"{path}.bridge: {bridge!r}; expected a switch of the plan's ovswitch networks "
                      f"({', '.join(switches)})")
    elif nets and nets[0]["bridge"] != bridge:
        errors.append(f"{path}.bridge: {bridge}, but network '{nets[0]['name']}' puts {port['interface']} on "
                      f"{nets[0]['bridge']}; expected one switch per interface")
    if vlan_id is not None and not _vlan(vlan_id):
        errors.append(f"{path}.vlan_id: {vlan_id!r}; expected an integer 1..4094")
    if trunks is not None and (not isinstance(trunks, list) or not all(_vlan(t) for t in trunks)):
        errors.append(f"{path}.trunks: {trunks!r}; expected a list of VLAN ids, integers 1..4094 ([] for all)")
    if mode == "trunk" and vlan_id is not None:
        errors.append(f"{path}.vlan_id: {vlan_id} with mode trunk; expected none (trunks lists the VLANs), or mode "
                      "native-untagged/native-tagged for a native VLAN")
    if mode in ("native-tagged", "native-untagged") and vlan_id is None:
        errors.append(f"{path}.vlan_id: missing; mode {mode} needs the native VLAN")
    if mode == "access":
        vlans = sorted({net["vlan_id"] for net in nets})
        if trunks:
            errors.append(f"{path}.trunks: {trunks} with mode access; expected none (an access port carries one VLAN)")
        if vlan_id is None and len(vlans) != 1:
            errors.append(f"{path}.vlan_id: missing; an access port carries one VLAN and {port['interface']} has "
                          f"networks on {vlans or 'none'}")
        elif vlan_id is not None and any(v != vlan_id for v in vlans):
            errors.append(f"{path}.vlan_id: {vlan_id}, but {port['interface']} also has networks on VLANs "
                          f"{[v for v in vlans if v != vlan_id]}; expected access ports to carry one VLAN")
    return errors


def validate_networks(site: Site) -> tuple[Errors, list[Network]]:
    """Errors of ``hapy_networks`` (and ``hapy_academy.networks``), and the plan when there are none."""
    errors: Errors = []
    names: dict[str, str] = {}
    for var, decls in (("hapy_academy.networks", (site.get("hapy_academy") or {}).get("networks")),
                       ("hapy_networks", site.get("hapy_networks"))):
        if decls is None:
            continue
        if not isinstance(decls, list):
            errors.append(f"{var}: not a list; expected a list of network declarations")
            continue
        for i, decl in enumerate(decls):
            errors += _validate_network_decl(decl, f"{var}[{i}]")
            if isinstance(decl, Mapping) and isinstance(decl.get("name"), str):
                names[decl["name"]] = f"{var}[{i}]"
    if errors:
        return errors, []
    try:
        plan = network_plan(site["hapy_school"], site.get("hapy_networks"), site.get("hapy_academy"))
    except HapySiteError as exc:
        return [str(exc)], []
    errors = validate_plan(plan, names)
    return errors, (plan if not errors else [])
