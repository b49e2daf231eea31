# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The school's guests: declarations checked against the plan and their EOLE release, fixed addresses resolved
(deterministically)."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.common import (
    BRIDGE_RE,
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
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.releases import (
    module_error,
    release_format_errors,
    release_source,
    type_amon_of,
)

PROFILES = ("amon", "horus", "scribe", "amonecole", "other")
"""Guest profiles; ``other`` is a non-EOLE VM (no config.eol)."""

GATEWAY_PROFILES = ("amon", "amonecole")
"""Profiles that are the gateway of the internal networks they sit on."""

SAMBA_PROFILES = ("horus", "scribe", "amonecole")

AD_PROFILES = ("scribe", "amonecole")
"""Profiles running EOLE's Samba AD domain controller, which needs an address of its own on the guest's LAN."""

GUEST_KEYS = {
    "name", "profile", "cpu", "vcpu", "memory", "disk", "image", "nics", "eole", "labels", "root_password",
    "zephir_id", "description", "eole_release", "ad_ip",
}
NIC_KEYS = {"network", "ip", "device"}


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
        errors += unknown_keys(nic, NIC_KEYS, npath)
        if nic.get("network") not in plan:
            errors.append(f"{npath}.network: unknown network {nic.get('network')!r}; expected one of {known}")
        if "ip" in nic and ip4(nic["ip"]) is None:
            errors.append(f"{npath}.ip: {nic['ip']!r}; expected an IPv4 address")
        if "device" in nic and (not isinstance(nic["device"], str) or not BRIDGE_RE.match(nic["device"])):
            errors.append(f"{npath}.device: {nic['device']!r}; expected the interface name the guest sees, like "
                          "enp2s0 or ens3 (at most 15 characters)")
    if profile in GATEWAY_PROFILES and isinstance(nics[0], Mapping) and nics[0].get("network") != "wan":
        errors.append(f"{path}.nics[0].network: {nics[0].get('network')!r}; expected wan (eth0 of an Amon is outside)")
    if "ad_ip" in guest and profile not in AD_PROFILES:
        errors.append(f"{path}.ad_ip: profile {profile!r} has no AD domain controller; expected ad_ip on a "
                      f"{' or '.join(AD_PROFILES)} only")
    elif "ad_ip" in guest and ip4(guest["ad_ip"]) is None:
        errors.append(f"{path}.ad_ip: {guest['ad_ip']!r}; expected an IPv4 address")
    return errors


def _release_errors(guest: Mapping[str, Any], path: str, school: Mapping[str, Any] | None,
                    academy: Mapping[str, Any] | None) -> Errors:
    """Errors of an EOLE guest against its release: a supported release that ships its profile; for a gateway, an
    ERA model (``type_amon``) of that release (or of the site) with as many zones as NICs."""
    errors = release_format_errors(guest.get("eole_release"), f"{path}.eole_release")
    profile = guest.get("profile")
    if errors or profile not in PROFILES or profile == "other":
        return errors
    release, where = release_source(guest, school, academy)
    if release_format_errors(release, where):
        return []  # reported once, on the school or academy
    why = module_error(str(profile), release)
    if why:
        origin = {"eole_release": "", "default": f" (no eole_release declared: the default {release})"}.get(
            where, f" (EOLE {release} from {where})")
        return [f"{path}.profile: {why}{origin}"]
    if profile in GATEWAY_PROFILES and isinstance(guest.get("nics"), list):
        try:
            type_amon_of(guest, len(guest["nics"]), release, academy)
        except HapySiteError as exc:
            return [f"{path}.{exc}"]
    return []


def _address_errors(ip: IPAddress, net: Network, path: str, gateway_owner: bool) -> Errors:
    """Errors of a fixed address (``path``: the field) on a network: inside the subnet and the AR, outside reserved
    addresses."""
    cidr = IPNetwork(net["cidr"])
    if ip not in cidr or ip in (cidr.network, cidr.broadcast):
        return [f"{path}: {ip} is outside network '{net['name']}'; expected a host address of {net['cidr']}"]
    ar = ar_range(net)
    if ip not in ar:
        return [f"{path}: {ip} is outside the OpenNebula range of '{net['name']}'; expected an address in {ar}"]
    if gateway_owner and str(ip) == net["gateway"]:
        return []
    for spec in net["reserved"]:
        if ip in ip_range(spec):
            return [f"{path}: {ip} is reserved on '{net['name']}' ({spec}); expected a free address in {ar}"]
    return []


def resolve_guests(guests: Iterable[Mapping[str, Any]], plan: Iterable[Network]) -> list[dict[str, Any]]:
    """Guests with every NIC's address fixed, plus ``vnet_name``, ``netmask``, ``interface`` per NIC, and ``ad_ip``
    (the address of its AD domain controller) for a Scribe or AmonEcole.

    Rules (deterministic): explicit ``ip`` wins; an Amon (or AmonEcole) takes the gateway of each internal network;
    any other NIC takes the first free address of its network's OpenNebula range (not reserved, not taken),
    guests in inventory order. Then each Scribe/AmonEcole without ``ad_ip`` takes the first free address of its
    LAN (a Scribe's first NIC, an AmonEcole's second), so NIC addresses never depend on it.
    Raises :class:`HapySiteError` when a range is full or a network unknown.
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
        lan = ad_lan(guest)
        if lan is not None and guest.get("ad_ip"):
            taken[lan["network"]].add(guest["ad_ip"])
    for guest in guests:
        for index, nic in enumerate(guest.get("nics") or []):
            net = nets[nic["network"]]
            if not nic.get("ip"):
                nic["ip"] = _first_free(net, taken[net["name"]])
                taken[net["name"]].add(nic["ip"])
            nic.update(vnet_name=net["vnet_name"], netmask=net["netmask"], interface=f"eth{index}")
    for guest in guests:
        lan = ad_lan(guest)
        if lan is not None and not guest.get("ad_ip"):
            guest["ad_ip"] = _first_free(nets[lan["network"]], taken[lan["network"]])
            taken[lan["network"]].add(guest["ad_ip"])
    return guests


def ad_lan(guest: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The NIC of a Scribe/AmonEcole whose network its AD domain controller serves (None for other profiles)."""
    nics = guest.get("nics") or []
    index = 1 if guest.get("profile") in GATEWAY_PROFILES else 0
    if guest.get("profile") not in AD_PROFILES or len(nics) <= index:
        return None
    return nics[index]


def _first_free(net: Network, taken: set[str]) -> str:
    """First address of the network's OpenNebula range that is neither reserved nor taken."""
    reserved = IPSet([ip_range(spec) for spec in net["reserved"]])
    start = IPAddress(net["ar"]["ip"])
    for ip in (start + i for i in range(net["ar"]["size"])):
        if str(ip) not in taken and ip not in reserved:
            return str(ip)
    raise HapySiteError(f"network {net['name']}: no free address left in its OpenNebula range")


def validate_guests(guests: Any, plan: list[Network], school: Mapping[str, Any] | None = None,
                    academy: Mapping[str, Any] | None = None) -> Errors:
    """Errors of ``hapy_guests``: shape, names, networks, addresses (inside, in range, free, unique), and, given the
    school (its and the academy's release defaults, the site's ERA models), each EOLE guest against its release."""
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
        if not shape and school is not None:
            errors += _release_errors(guest, path, school, academy)
        if guest.get("name") in names:
            errors.append(f"{path}.name: duplicate guest name {guest['name']!r} (also hapy_guests"
                          f"[{names[guest['name']]}]); expected unique names")
        names.setdefault(guest.get("name"), i)
        for j, nic in enumerate(guest.get("nics") or []):
            if not isinstance(nic, Mapping) or nic.get("network") not in nets or ip4(nic.get("ip")) is None:
                continue
            net, npath = nets[nic["network"]], f"{path}.nics[{j}]"
            errors += _address_errors(IPAddress(nic["ip"]), net, f"{npath}.ip",
                                      guest.get("profile") in GATEWAY_PROFILES)
            key = (net["name"], nic["ip"])
            if key in owners:
                errors.append(f"{npath}.ip: {nic['ip']} already given to {owners[key]}; expected unique addresses")
            owners[key] = f"{path}.nics[{j}]"
        lan = ad_lan(guest)
        if lan is not None and ip4(guest.get("ad_ip")) is not None and lan.get("network") in nets:
            net = nets[lan["network"]]
            errors += _address_errors(IPAddress(guest["ad_ip"]), net, f"{path}.ad_ip", False)
            key = (net["name"], guest["ad_ip"])
            if key in owners:
                errors.append(f"{path}.ad_ip: {guest['ad_ip']} already given to {owners[key]}; expected unique "
                              "addresses")
            owners[key] = f"{path}.ad_ip"
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
