# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The school's guests: declarations checked against the plan, fixed addresses resolved (deterministically)."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.common import (
    EOLE_VAR_RE,
    HOST_RE,
    Errors,
    HapySiteError,
    IPAddress,
    IPNetwork,
    IPSet,
    Network,
    ar_range,
    ip4,
    ip_range,
    is_int,
    is_text,
    one_name_errors,
    one_text_errors,
    unknown_keys,
)
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.plan import plan_by_name

PROFILES = ("amon", "horus", "scribe", "amonecole", "other")
"""Guest profiles; ``other`` is a non-EOLE VM (no config.eol)."""

GATEWAY_PROFILES = ("amon", "amonecole")
"""Profiles that are the gateway of the internal networks they sit on."""

SAMBA_PROFILES = ("horus", "scribe", "amonecole")

GUEST_KEYS = {
    "name", "profile", "cpu", "vcpu", "memory", "disk", "image", "nics", "eole", "labels", "root_password",
    "zephir_id", "description",
}


def _validate_guest_shape(guest: Any, path: str, plan: Mapping[str, Network]) -> Errors:
    """Errors of one guest declaration that do not depend on other guests."""
    if not isinstance(guest, Mapping):
        return [f"{path}: not a mapping; expected {{name, profile, cpu, vcpu, memory, disk, image, nics}}"]
    errors = unknown_keys(guest, GUEST_KEYS, path)
    name, profile = guest.get("name"), guest.get("profile")
    if not isinstance(name, str) or not HOST_RE.match(name):
        errors.append(f"{path}.name: {name!r}; expected a lower-case host name (letters, digits, -)")
    if profile not in PROFILES:
        errors.append(f"{path}.profile: {profile!r}; expected one of {', '.join(PROFILES)}")
    if "cpu" in guest and (isinstance(guest["cpu"], bool) or not isinstance(guest["cpu"], (int, float))
                           or guest["cpu"] <= 0):
        errors.append(f"{path}.cpu: {guest['cpu']!r}; expected a number > 0 (physical CPU share)")
    for key, unit in (("vcpu", "virtual CPUs"), ("memory", "MiB"), ("disk", "MiB")):
        if key in guest and (not is_int(guest[key]) or guest[key] < 1):
            errors.append(f"{path}.{key}: {guest[key]!r}; expected an integer >= 1 ({unit})")
    if "image" in guest:
        errors += one_name_errors(guest["image"], f"{path}.image")
    if "description" in guest:
        errors += one_text_errors(guest["description"], f"{path}.description")
    if "eole" in guest:
        if profile == "other" and guest["eole"]:
            errors.append(f"{path}.eole: profile 'other' has no EOLE configuration; expected no eole key")
        elif not isinstance(guest["eole"], Mapping):
            errors.append(f"{path}.eole: not a mapping; expected {{<EOLE variable>: <value>}}")
        else:
            errors += [f"{path}.eole.{var}: invalid EOLE variable name; expected lower-case letters, digits, _"
                       for var in guest["eole"] if not isinstance(var, str) or not EOLE_VAR_RE.match(var)]
    if "labels" in guest and not (isinstance(guest["labels"], list) and all(is_text(x) for x in guest["labels"])):
        errors.append(f"{path}.labels: {guest['labels']!r}; expected a list of strings")
    elif "labels" in guest:
        for k, label in enumerate(guest["labels"]):
            if "," in label:  # OpenNebula keeps labels as one comma-separated LABELS attribute
                errors.append(f"{path}.labels[{k}]: {label!r} contains ','; expected one label per item")
            errors += one_text_errors(label, f"{path}.labels[{k}]")
    nics = guest.get("nics")
    if not isinstance(nics, list) or (not nics and profile != "other"):
        errors.append(f"{path}.nics: {nics!r}; expected a non-empty list of {{network, ip?}}")
        return errors
    known = ", ".join(plan)
    for j, nic in enumerate(nics):
        npath = f"{path}.nics[{j}]"
        if not isinstance(nic, Mapping):
            errors.append(f"{npath}: not a mapping; expected {{network, ip?}}")
            continue
        errors += unknown_keys(nic, {"network", "ip"}, npath)
        if nic.get("network") not in plan:
            errors.append(f"{npath}.network: unknown network {nic.get('network')!r}; expected one of {known}")
        if "ip" in nic and ip4(nic["ip"]) is None:
            errors.append(f"{npath}.ip: {nic['ip']!r}; expected an IPv4 address")
    if profile in GATEWAY_PROFILES and isinstance(nics[0], Mapping) and nics[0].get("network") != "wan":
        errors.append(f"{path}.nics[0].network: {nics[0].get('network')!r}; expected wan (eth0 of an Amon is outside)")
    return errors


def _address_errors(ip: IPAddress, net: Network, npath: str, gateway_owner: bool) -> Errors:
    """Errors of a fixed address on a network: inside the subnet and the AR, outside reserved addresses."""
    cidr = IPNetwork(net["cidr"])
    if ip not in cidr or ip in (cidr.network, cidr.broadcast):
        return [f"{npath}.ip: {ip} is outside network '{net['name']}'; expected a host address of {net['cidr']}"]
    ar = ar_range(net)
    if ip not in ar:
        return [f"{npath}.ip: {ip} is outside the OpenNebula range of '{net['name']}'; expected an address in {ar}"]
    if gateway_owner and str(ip) == net["gateway"]:
        return []
    for spec in net["reserved"]:
        if ip in ip_range(spec):
            return [f"{npath}.ip: {ip} is reserved on '{net['name']}' ({spec}); expected a free address in {ar}"]
    return []


def resolve_guests(guests: Iterable[Mapping[str, Any]], plan: Iterable[Network]) -> list[dict[str, Any]]:
    """Guests with every NIC's address fixed, plus ``vnet_name``, ``netmask``, ``interface`` per NIC.

    Rules (deterministic): explicit ``ip`` wins; an Amon (or AmonEcole) takes the gateway of each internal network;
    any other NIC takes the first free address of its network's OpenNebula range (not reserved, not taken),
    guests in inventory order. Raises :class:`HapySiteError` when a range is full or a network unknown.
    """
    nets = plan_by_name(plan)
    guests = [copy.deepcopy(dict(g)) for g in guests]
    taken: dict[str, set[str]] = {name: set() for name in nets}
    for guest in guests:
        for nic in guest.get("nics") or []:
            if nic.get("network") not in nets:
                raise HapySiteError(f"guest {guest.get('name')}: unknown network {nic.get('network')!r}")
            net = nets[nic["network"]]
            if not nic.get("ip") and guest.get("profile") in GATEWAY_PROFILES and net["internal"]:
                nic["ip"] = net["gateway"]
            if nic.get("ip"):
                taken[net["name"]].add(nic["ip"])
    for guest in guests:
        for index, nic in enumerate(guest.get("nics") or []):
            net = nets[nic["network"]]
            if not nic.get("ip"):
                nic["ip"] = _first_free(net, taken[net["name"]])
                taken[net["name"]].add(nic["ip"])
            nic.update(vnet_name=net["vnet_name"], netmask=net["netmask"], interface=f"eth{index}")
    return guests


def _first_free(net: Network, taken: set[str]) -> str:
    """First address of the network's OpenNebula range that is neither reserved nor taken."""
    reserved = IPSet([ip_range(spec) for spec in net["reserved"]])
    start = IPAddress(net["ar"]["ip"])
    for ip in (start + i for i in range(net["ar"]["size"])):
        if str(ip) not in taken and ip not in reserved:
            return str(ip)
    raise HapySiteError(f"network {net['name']}: no free address left in its OpenNebula range")


def validate_guests(guests: Any, plan: list[Network]) -> Errors:
    """Errors of ``hapy_guests``: shape, names, networks, addresses (inside, in range, free, unique)."""
    if guests is None:
        return []
    if not isinstance(guests, list):
        return ["hapy_guests: not a list; expected a list of guest declarations"]
    nets = plan_by_name(plan)
    errors: Errors = []
    names: dict[str, int] = {}
    owners: dict[tuple[str, str], str] = {}
    for i, guest in enumerate(guests):
        path = f"hapy_guests[{i}]"
        shape = _validate_guest_shape(guest, path, nets)
        errors += shape
        if not isinstance(guest, Mapping):
            continue
        if guest.get("name") in names:
            errors.append(f"{path}.name: duplicate guest name {guest['name']!r} (also hapy_guests"
                          f"[{names[guest['name']]}]); expected unique names")
        names.setdefault(guest.get("name"), i)
        for j, nic in enumerate(guest.get("nics") or []):
            if not isinstance(nic, Mapping) or nic.get("network") not in nets or ip4(nic.get("ip")) is None:
                continue
            net, npath = nets[nic["network"]], f"{path}.nics[{j}]"
            errors += _address_errors(IPAddress(nic["ip"]), net, npath, guest.get("profile") in GATEWAY_PROFILES)
            key = (net["name"], nic["ip"])
            if key in owners:
                errors.append(f"{npath}.ip: {nic['ip']} already given to {owners[key]}; expected unique addresses")
            owners[key] = f"{path}.nics[{j}]"
    if not errors:
        try:
            resolve_guests(guests, plan)
        except HapySiteError as exc:
            errors.append(f"hapy_guests: {exc}; expected fewer guests or a larger ar.size")
    return errors


def guest_links(guest: Mapping[str, Any], nets: Mapping[str, Network]) -> list[tuple[dict[str, Any], Network]]:
    """(NIC, network) pairs of a guest, resolving its addresses alone when some are missing."""
    nics = guest.get("nics") or []
    if any(not nic.get("ip") for nic in nics):
        guest = resolve_guests([guest], nets.values())[0]
        nics = guest["nics"]
    return [(nic, nets[nic["network"]]) for nic in nics]
