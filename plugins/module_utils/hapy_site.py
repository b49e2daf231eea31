# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure heart of a Hâpy school site: inventory validation, network plan, EOLE guest configuration.

Nothing here talks to a host or to OpenNebula: every function takes inventory data (plain dicts and lists)
and returns plain data, so the same code serves the filter plugin, modules and unit tests.
The inventory model and the plan layout are documented in ``docs/inventory.md``.

Sections:
  * constants — standard networks (Amon zones), defaults, EOLE variable names;
  * network plan — :func:`network_plan`;
  * validation — :func:`validate_site` (every error names the field path and the expected form);
  * guests — :func:`resolve_guests` (fixed addresses), :func:`eole_config` (config.eol), :func:`check_eole_config`;
  * OpenNebula — :func:`guest_context` (NIC + CONTEXT, with :data:`START_SCRIPT`).
"""

from __future__ import annotations

import base64
import copy
import json
import re
from collections.abc import Iterable, Mapping
from itertools import islice
from typing import Any
from urllib.parse import urlsplit

from ansible_collections.eole.hapy.plugins.module_utils.one_template import TemplateError, check_name, check_value
from ansible_collections.eole.hapy.plugins.module_utils.shadow_crypt import salt_for, sha512_crypt
from netaddr import AddrFormatError, IPAddress, IPNetwork, IPRange, IPSet

Site = Mapping[str, Any]
Network = dict[str, Any]
Errors = list[str]


class HapySiteError(ValueError):
    """The inventory cannot produce a plan or a guest configuration (run :func:`validate_site` first)."""


# --------------------------------------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------------------------------------

EOLE_VERSION = "2.9.0"
"""Value of ``___version___`` in the generated config.eol."""

EOLE_OWNER = "gen_config"
"""Owner recorded for every value Hâpy writes (what EOLE's own ``gen_config`` records)."""

SITE_VARS = ("hapy_school", "hapy_mode", "hapy_networks", "hapy_guests", "hapy_backup", "hapy_san", "hapy_one",
             "hapy_db", "hapy_academy")
"""The variables :func:`validate_site` reads (one school host's view of the inventory)."""

PROFILES = ("amon", "horus", "scribe", "amonecole", "other")
"""Guest profiles; ``other`` is a non-EOLE VM (no config.eol)."""

GATEWAY_PROFILES = ("amon", "amonecole")
"""Profiles that are the gateway of the internal networks they sit on."""

SAMBA_PROFILES = ("horus", "scribe", "amonecole")

MODES = ("single", "cluster")
VN_MADS = ("bridge", "802.1Q", "ovswitch", "vxlan")
DB_BACKENDS = ("mysql", "sqlite")
BACKUP_MODES = ("FULL", "INCREMENT")

# Standard networks, in Amon interface order (eth0..eth4): name -> (EOLE zone, subnet index in the school block,
# default VLAN id, internal?). ``wan`` is the outside link: its gateway is the academy router, not the Amon.
STANDARD_NETWORKS: dict[str, dict[str, Any]] = {
    "wan": {"zone": "exterieur", "subnet_index": 0, "vlan_id": 10, "internal": False},
    "admin": {"zone": "admin", "subnet_index": 1, "vlan_id": 20, "internal": True},
    "pedago": {"zone": "pedago", "subnet_index": 2, "vlan_id": 30, "internal": True},
    "dmz": {"zone": "dmz-pub", "subnet_index": 3, "vlan_id": 40, "internal": True},
    "dmz_priv": {"zone": "dmz-priv", "subnet_index": 4, "vlan_id": 50, "internal": True},
}

# Academy-wide defaults (``hapy_academy`` keys); see docs/inventory.md.
ACADEMY_DEFAULTS: dict[str, Any] = {
    "base": "10.0.0.0/8",  # school blocks are cut from here by hapy_school.index
    "school_prefix": 16,  # size of one school block
    "network_prefix": 24,  # size of one standard network inside the block
    "phydev": "eth1",  # host NIC carrying the VLAN trunk
    "vn_mad": "bridge",
    "dns": [],  # upstream resolvers (the wan DNS, the Amon's forwarders)
    "ntp": [],
    "update_servers": ["eole.ac-dijon.fr"],
    "time_zone": None,  # None: from the academy name (TIME_ZONES), else Europe/Paris
    "proxy": None,  # upstream proxy {address, port} for the Amon; LAN guests use their Amon
    "zephir": None,  # {address, user, password}
    "uai_check_letter": True,  # false for example inventories whose UAIs are fictional
}

TIME_ZONES = {
    "ac-reunion": "Indian/Reunion",
    "ac-mayotte": "Indian/Mayotte",
    "ac-guadeloupe": "America/Guadeloupe",
    "ac-martinique": "America/Martinique",
    "ac-guyane": "America/Cayenne",
}
DEFAULT_TIME_ZONE = "Europe/Paris"

# Address layout inside each network, as offsets from the network address (see docs/inventory.md).
# /24 internal network: .1 gateway (the Amon) and OpenNebula range .1-.49 (servers), DHCP pool .128-.249 (clients),
# .250-.254 left for the physical hosts and the SAN. wan: .1 academy router, OpenNebula range .2-.9.
GATEWAY_OFFSET = 1
AR_OFFSET = {"internal": 1, "wan": 2}  # internal: the range starts at the gateway, which the Amon leases
AR_MAX_SIZE = {"internal": 49, "wan": 8}
DHCP_TAIL = 6  # the pool ends 6 addresses before the broadcast
DHCP_MIN_SIZE = 32  # dhcp: true needs at least a /27
DHCP_DEFAULT = ("admin", "pedago")
AMON_PROXY_PORT = 3128

NETWORK_KEYS = {
    "name", "enabled", "zone", "subnet_index", "vlan_id", "cidr", "gateway", "dns", "bridge", "phydev", "vn_mad",
    "vnet_name", "ar", "dhcp", "reserved", "description", "mtu",
}
GUEST_KEYS = {
    "name", "profile", "cpu", "vcpu", "memory", "disk", "image", "nics", "eole", "labels", "root_password",
    "zephir_id", "description",
}
BACKUP_KEYS = {"device", "label", "mountpoint", "keep_last", "keep_days", "schedule", "db_on_calendar", "vm_label",
               "mode", "datastore", "jobs"}
SAN_KEYS = {"portal", "target_iqn", "lun_wwid", "chap_user", "chap_secret", "cluster_name", "fs_name"}

UAI_RE = re.compile(r"^[0-9]{7}[A-Za-z]$")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,14}$")
HOST_RE = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
ACADEMY_RE = re.compile(r"^[a-z][a-z0-9-]*$")
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")
BRIDGE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$")
EOLE_VAR_RE = re.compile(r"^[a-z][a-z0-9_]*$")
IQN_RE = re.compile(r"^iqn\.[0-9]{4}-[0-9]{2}\.[a-z0-9.-]+(:.+)?$")
WWID_RE = re.compile(r"^[0-9a-fA-F]{16,40}$")
CRON_RE = re.compile(r"^(\S+\s+){4}\S+$")
URL_RE = re.compile(r"^https?://[^\s/]+(/\S*)?$")


# --------------------------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------------------------

def _ip(value: Any) -> IPAddress | None:
    """``value`` as an IPv4 address, or None when it is not one."""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9.]+", value):
        return None
    try:
        addr = IPAddress(value, version=4)
    except (AddrFormatError, ValueError, TypeError):
        return None
    return addr if str(addr) == value else None


def _net(value: Any) -> IPNetwork | None:
    """``value`` as an IPv4 network ``a.b.c.d/nn`` (host bits clear), or None."""
    if not isinstance(value, str) or "/" not in value:
        return None
    addr, _, prefix = value.partition("/")
    if _ip(addr) is None or not prefix.isdigit() or not 0 <= int(prefix) <= 32:
        return None
    net = IPNetwork(value, version=4)
    return net if net.ip == net.network else None


def _is_int(value: Any) -> bool:
    """An int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def _is_text(value: Any) -> bool:
    """A non-empty string (vaulted values count: they render as strings)."""
    return value is not None and not isinstance(value, (bool, int, float, list, dict)) and str(value) != ""


def _list(value: Any) -> list[Any]:
    """None as [], a scalar as [scalar], a sequence as a list."""
    return [] if value is None else list(value) if isinstance(value, (list, tuple)) else [value]


def _range(spec: str) -> IPRange:
    """``a.b.c.d`` or ``a.b.c.d-e.f.g.h`` as an IPRange (spec already validated)."""
    first, _, last = spec.partition("-")
    return IPRange(first, last or first)


def _one_name_errors(value: Any, path: str) -> Errors:
    """``[]`` when OpenNebula accepts ``value`` as an object name, else the error naming ``path``."""
    if not isinstance(value, str):
        return [f"{path}: {value!r}; expected an OpenNebula name (text)"]
    try:
        check_name(value, path)
    except TemplateError as exc:
        return [str(exc)]
    return []


def _one_text_errors(value: Any, path: str) -> Errors:
    """``[]`` when ``value`` can be stored verbatim in an OpenNebula template attribute, else the error."""
    try:
        check_value(str(value), path)
    except TemplateError as exc:
        return [str(exc)]
    return []


# The UAI (ex-RNE) check letter: the 7 digits modulo 23, as a letter of the alphabet without I, O and Q.
UAI_CHECK_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


def uai_check_letter(digits: str) -> str:
    """The check letter of a UAI's first 7 characters (``0750654`` -> ``D``)."""
    return UAI_CHECK_LETTERS[int(digits) % 23]


def _unknown_keys(item: Mapping[str, Any], allowed: set[str], path: str) -> Errors:
    """One error per key of ``item`` outside ``allowed`` (typos such as ``vlan`` for ``vlan_id``)."""
    return [
        f"{path}.{key}: unknown key; expected one of {', '.join(sorted(allowed))}"
        for key in item if key not in allowed
    ]


def academy_settings(academy: Mapping[str, Any] | None) -> dict[str, Any]:
    """``hapy_academy`` merged over :data:`ACADEMY_DEFAULTS`."""
    merged = copy.deepcopy(ACADEMY_DEFAULTS)
    merged.update({k: v for k, v in (academy or {}).items() if v is not None})
    return merged


def time_zone(academy: Mapping[str, Any] | None, academy_name: str | None = None) -> str:
    """The guests' time zone: ``hapy_academy.time_zone``, else from the academy name, else Europe/Paris."""
    settings = academy_settings(academy)
    name = academy_name or settings.get("name") or ""
    return settings["time_zone"] or TIME_ZONES.get(name, DEFAULT_TIME_ZONE)


def local_domain(school: Mapping[str, Any]) -> str:
    """EOLE ``nom_domaine_local``: ``hapy_school.domain``; a single label (``lan``) becomes ``<uai>.<academy>.lan``."""
    domain = str(school["domain"]).lower()
    if "." in domain:
        return domain
    return f"{str(school['uai']).lower()}.{school['academy']}.{domain}"


# --------------------------------------------------------------------------------------------------------------------
# Network plan
# --------------------------------------------------------------------------------------------------------------------

def school_block(school: Mapping[str, Any], academy: Mapping[str, Any] | None = None) -> IPNetwork:
    """The school's address block: ``hapy_school.block``, else subnet number ``index`` of the academy base."""
    if school.get("block"):
        block = _net(school["block"])
        if block is None:
            raise HapySiteError(f"hapy_school.block: {school['block']!r} is not an IPv4 network")
        return block
    settings = academy_settings(academy)
    index = school.get("index")
    base = _net(settings["base"])
    if base is None:
        raise HapySiteError(f"hapy_academy.base: {settings['base']!r} is not an IPv4 network")
    prefix = settings["school_prefix"]
    count = 2 ** (prefix - base.prefixlen) if _is_int(prefix) and prefix >= base.prefixlen else 0
    if not _is_int(index) or not 0 <= index < count:
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
            cidr = _net(decl["cidr"])
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
        reserved += [r for r in _list(decl.get("reserved")) if r not in reserved]
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
            "dns": _list(decl.get("dns", [gateway] if internal else settings["dns"])),
            "bridge": decl.get("bridge", default_bridge),
            "phydev": decl.get("phydev", settings["phydev"]),
            "vn_mad": vn_mad,
            "ar": layout["ar"],
            "dhcp": layout["dhcp"],
            "reserved": reserved,
            "internal": internal,
            "description": decl.get("description", f"{name} ({school.get('uai', '')})".strip()),
            **({"mtu": decl["mtu"]} if "mtu" in decl else {}),
        })
    return plan


def _plan_by_name(plan: Iterable[Network]) -> dict[str, Network]:
    """The plan indexed by network name."""
    return {net["name"]: net for net in plan}


# --------------------------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------------------------

def validate_school(school: Any) -> Errors:
    """Errors of ``hapy_school``."""
    if not isinstance(school, Mapping):
        return ["hapy_school: missing or not a mapping; expected {uai, name, academy, domain, index|block}"]
    errors: Errors = []
    uai = school.get("uai")
    if not isinstance(uai, str) or not UAI_RE.match(uai):
        errors.append(f"hapy_school.uai: {uai!r}; expected 7 digits and a letter, like 9740001A")
    if not _is_text(school.get("name")):
        errors.append("hapy_school.name: missing; expected the school's name, like 'Lycée Leconte de Lisle'")
    else:
        errors += _one_text_errors(school["name"], "hapy_school.name")
    if not isinstance(school.get("academy"), str) or not ACADEMY_RE.match(school["academy"]):
        errors.append(f"hapy_school.academy: {school.get('academy')!r}; expected an academy id like ac-reunion")
    if not isinstance(school.get("domain"), str) or not DOMAIN_RE.match(school["domain"].lower()):
        errors.append(f"hapy_school.domain: {school.get('domain')!r}; expected a DNS domain like lan or etb.ac-x.lan")
    if "index" in school and school["index"] is not None and (not _is_int(school["index"]) or school["index"] < 0):
        errors.append(f"hapy_school.index: {school['index']!r}; expected an integer >= 0")
    if school.get("block") is not None and _net(school["block"]) is None:
        errors.append(f"hapy_school.block: {school['block']!r}; expected an IPv4 network like 10.42.0.0/16")
    if school.get("index") is None and school.get("block") is None:
        errors.append("hapy_school.index: missing; expected an integer school number (or hapy_school.block)")
    return errors


def _validate_network_decl(decl: Any, path: str) -> Errors:
    """Errors of one ``hapy_networks`` entry, before the plan is computed."""
    if not isinstance(decl, Mapping):
        return [f"{path}: not a mapping; expected {{name, vlan_id?, cidr?, ...}}"]
    errors = _unknown_keys(decl, NETWORK_KEYS, path)
    name = decl.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        errors.append(f"{path}.name: {name!r}; expected a lower-case name (letters, digits, _; at most 15 chars)")
        return errors
    cidr = None
    if "cidr" in decl:
        cidr = _net(decl["cidr"])
        if cidr is None:
            errors.append(f"{path}.cidr: {decl['cidr']!r}; expected an IPv4 network address like 10.1.2.0/24")
    elif name not in STANDARD_NETWORKS and "subnet_index" not in decl:
        errors.append(f"{path}.cidr: missing for non-standard network '{name}'; expected cidr or subnet_index")
    if name not in STANDARD_NETWORKS and "vlan_id" not in decl:
        errors.append(f"{path}.vlan_id: missing for non-standard network '{name}'; expected an integer 1..4094")
    if "vlan_id" in decl and (not _is_int(decl["vlan_id"]) or not 1 <= decl["vlan_id"] <= 4094):
        errors.append(f"{path}.vlan_id: {decl['vlan_id']!r}; expected an integer 1..4094")
    if "subnet_index" in decl and (not _is_int(decl["subnet_index"]) or decl["subnet_index"] < 0):
        errors.append(f"{path}.subnet_index: {decl['subnet_index']!r}; expected an integer >= 0")
    if "mtu" in decl and (not _is_int(decl["mtu"]) or not 576 <= decl["mtu"] <= 9216):
        errors.append(f"{path}.mtu: {decl['mtu']!r}; expected an integer 576..9216")
    if "enabled" in decl and not isinstance(decl["enabled"], bool):
        errors.append(f"{path}.enabled: {decl['enabled']!r}; expected true or false")
    if "vn_mad" in decl and decl["vn_mad"] not in VN_MADS:
        errors.append(f"{path}.vn_mad: {decl['vn_mad']!r}; expected one of {', '.join(VN_MADS)}")
    if "bridge" in decl and (not isinstance(decl["bridge"], str) or not BRIDGE_RE.match(decl["bridge"])):
        errors.append(f"{path}.bridge: {decl['bridge']!r}; expected a Linux interface name (at most 15 chars)")
    if "phydev" in decl and (not isinstance(decl["phydev"], str) or not BRIDGE_RE.match(decl["phydev"])):
        errors.append(f"{path}.phydev: {decl['phydev']!r}; expected a Linux interface name like eth1")
    for i, server in enumerate(_list(decl.get("dns"))):
        if _ip(server) is None:
            errors.append(f"{path}.dns[{i}]: {server!r}; expected an IPv4 address")
    if "gateway" in decl and _ip(decl["gateway"]) is None:
        errors.append(f"{path}.gateway: {decl['gateway']!r}; expected an IPv4 address")
    ar = decl.get("ar")
    if ar is not None:
        if not isinstance(ar, Mapping):
            errors.append(f"{path}.ar: {ar!r}; expected {{ip, size}}")
        else:
            if "ip" in ar and _ip(ar["ip"]) is None:
                errors.append(f"{path}.ar.ip: {ar['ip']!r}; expected an IPv4 address")
            if "size" in ar and (not _is_int(ar["size"]) or ar["size"] < 1):
                errors.append(f"{path}.ar.size: {ar['size']!r}; expected an integer >= 1")
    dhcp = decl.get("dhcp")
    if dhcp is not None and not isinstance(dhcp, bool) and (
            not isinstance(dhcp, Mapping) or _ip(dhcp.get("start")) is None or _ip(dhcp.get("end")) is None):
        errors.append(f"{path}.dhcp: {dhcp!r}; expected true, false or {{start: <IPv4>, end: <IPv4>}}")
    for i, spec in enumerate(_list(decl.get("reserved"))):
        parts = str(spec).split("-")
        if len(parts) > 2 or any(_ip(p) is None for p in parts) or (len(parts) == 2 and _ip(parts[0]) > _ip(parts[1])):
            errors.append(f"{path}.reserved[{i}]: {spec!r}; expected an IPv4 address or a range first-last")
    return errors


def _validate_plan_network(net: Network, path: str) -> Errors:
    """Errors of one computed network: a name and description OpenNebula keeps as they are, addresses inside the
    subnet, AR and DHCP pool consistent."""
    errors = _one_name_errors(net["vnet_name"], f"{path}.vnet_name") + _one_text_errors(net["description"],
                                                                                        f"{path}.description")
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


def _validate_guest_shape(guest: Any, path: str, plan: Mapping[str, Network]) -> Errors:
    """Errors of one guest declaration that do not depend on other guests."""
    if not isinstance(guest, Mapping):
        return [f"{path}: not a mapping; expected {{name, profile, cpu, vcpu, memory, disk, image, nics}}"]
    errors = _unknown_keys(guest, GUEST_KEYS, path)
    name, profile = guest.get("name"), guest.get("profile")
    if not isinstance(name, str) or not HOST_RE.match(name):
        errors.append(f"{path}.name: {name!r}; expected a lower-case host name (letters, digits, -)")
    if profile not in PROFILES:
        errors.append(f"{path}.profile: {profile!r}; expected one of {', '.join(PROFILES)}")
    if "cpu" in guest and (isinstance(guest["cpu"], bool) or not isinstance(guest["cpu"], (int, float))
                           or guest["cpu"] <= 0):
        errors.append(f"{path}.cpu: {guest['cpu']!r}; expected a number > 0 (physical CPU share)")
    for key, unit in (("vcpu", "virtual CPUs"), ("memory", "MiB"), ("disk", "MiB")):
        if key in guest and (not _is_int(guest[key]) or guest[key] < 1):
            errors.append(f"{path}.{key}: {guest[key]!r}; expected an integer >= 1 ({unit})")
    if "image" in guest:
        errors += _one_name_errors(guest["image"], f"{path}.image")
    if "description" in guest:
        errors += _one_text_errors(guest["description"], f"{path}.description")
    if "eole" in guest:
        if profile == "other" and guest["eole"]:
            errors.append(f"{path}.eole: profile 'other' has no EOLE configuration; expected no eole key")
        elif not isinstance(guest["eole"], Mapping):
            errors.append(f"{path}.eole: not a mapping; expected {{<EOLE variable>: <value>}}")
        else:
            errors += [f"{path}.eole.{var}: invalid EOLE variable name; expected lower-case letters, digits, _"
                       for var in guest["eole"] if not isinstance(var, str) or not EOLE_VAR_RE.match(var)]
    if "labels" in guest and not (isinstance(guest["labels"], list) and all(_is_text(x) for x in guest["labels"])):
        errors.append(f"{path}.labels: {guest['labels']!r}; expected a list of strings")
    elif "labels" in guest:
        for k, label in enumerate(guest["labels"]):
            if "," in label:  # OpenNebula keeps labels as one comma-separated LABELS attribute
                errors.append(f"{path}.labels[{k}]: {label!r} contains ','; expected one label per item")
            errors += _one_text_errors(label, f"{path}.labels[{k}]")
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
        errors += _unknown_keys(nic, {"network", "ip"}, npath)
        if nic.get("network") not in plan:
            errors.append(f"{npath}.network: unknown network {nic.get('network')!r}; expected one of {known}")
        if "ip" in nic and _ip(nic["ip"]) is None:
            errors.append(f"{npath}.ip: {nic['ip']!r}; expected an IPv4 address")
    if profile in GATEWAY_PROFILES and isinstance(nics[0], Mapping) and nics[0].get("network") != "wan":
        errors.append(f"{path}.nics[0].network: {nics[0].get('network')!r}; expected wan (eth0 of an Amon is outside)")
    return errors


def _address_errors(ip: IPAddress, net: Network, npath: str, gateway_owner: bool) -> Errors:
    """Errors of a fixed address on a network: inside the subnet and the AR, outside reserved addresses."""
    cidr = IPNetwork(net["cidr"])
    if ip not in cidr or ip in (cidr.network, cidr.broadcast):
        return [f"{npath}.ip: {ip} is outside network '{net['name']}'; expected a host address of {net['cidr']}"]
    ar = IPRange(net["ar"]["ip"], str(IPAddress(net["ar"]["ip"]) + (net["ar"]["size"] - 1)))
    if ip not in ar:
        return [f"{npath}.ip: {ip} is outside the OpenNebula range of '{net['name']}'; expected an address in {ar}"]
    if gateway_owner and str(ip) == net["gateway"]:
        return []
    for spec in net["reserved"]:
        if ip in _range(spec):
            return [f"{npath}.ip: {ip} is reserved on '{net['name']}' ({spec}); expected a free address in {ar}"]
    return []


def resolve_guests(guests: Iterable[Mapping[str, Any]], plan: Iterable[Network]) -> list[dict[str, Any]]:
    """Guests with every NIC's address fixed, plus ``vnet_name``, ``netmask``, ``interface`` per NIC.

    Rules (deterministic): explicit ``ip`` wins; an Amon (or AmonEcole) takes the gateway of each internal network;
    any other NIC takes the first free address of its network's OpenNebula range (not reserved, not taken),
    guests in inventory order. Raises :class:`HapySiteError` when a range is full or a network unknown.
    """
    nets = _plan_by_name(plan)
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
    reserved = IPSet([_range(spec) for spec in net["reserved"]])
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
    nets = _plan_by_name(plan)
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
            if not isinstance(nic, Mapping) or nic.get("network") not in nets or _ip(nic.get("ip")) is None:
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


def validate_backup(backup: Any) -> Errors:
    """Errors of ``hapy_backup``."""
    if backup is None:
        return []
    if not isinstance(backup, Mapping):
        return ["hapy_backup: not a mapping; expected {device, label, mountpoint, keep_last, schedule, vm_label}"]
    errors = _unknown_keys(backup, BACKUP_KEYS, "hapy_backup")
    if "device" in backup and (not isinstance(backup["device"], str) or not backup["device"].startswith("/dev/")):
        errors.append(f"hapy_backup.device: {backup['device']!r}; expected a block device path like /dev/sdb")
    if "label" in backup and (not isinstance(backup["label"], str) or not 0 < len(backup["label"]) <= 16):
        errors.append(f"hapy_backup.label: {backup['label']!r}; expected a filesystem label (1..16 chars)")
    mountpoint = backup.get("mountpoint", "/")
    if not isinstance(mountpoint, str) or not mountpoint.startswith("/"):
        errors.append(f"hapy_backup.mountpoint: {backup['mountpoint']!r}; expected an absolute path")
    if "keep_last" in backup and (not _is_int(backup["keep_last"]) or backup["keep_last"] < 1):
        errors.append(f"hapy_backup.keep_last: {backup['keep_last']!r}; expected an integer >= 1")
    if "keep_days" in backup and (not _is_int(backup["keep_days"]) or backup["keep_days"] < 0):
        errors.append(f"hapy_backup.keep_days: {backup['keep_days']!r}; expected an integer >= 0")
    if "jobs" in backup and not (isinstance(backup["jobs"], list) and all(isinstance(j, Mapping)
                                                                           for j in backup["jobs"])):
        errors.append(f"hapy_backup.jobs: {backup['jobs']!r}; expected a list of backup job definitions")
    if "schedule" in backup and (not isinstance(backup["schedule"], str) or not CRON_RE.match(backup["schedule"])):
        errors.append(f"hapy_backup.schedule: {backup['schedule']!r}; expected a cron expression like '30 1 * * *'")
    if "vm_label" in backup and not _is_text(backup["vm_label"]):
        errors.append(f"hapy_backup.vm_label: {backup['vm_label']!r}; expected a label name")
    elif "vm_label" in backup:
        errors += _one_text_errors(backup["vm_label"], "hapy_backup.vm_label")
    if "datastore" in backup:
        errors += _one_name_errors(backup["datastore"], "hapy_backup.datastore")
    if "mode" in backup and backup["mode"] not in BACKUP_MODES:
        errors.append(f"hapy_backup.mode: {backup['mode']!r}; expected one of {', '.join(BACKUP_MODES)}")
    return errors


def validate_san(san: Any, mode: Any) -> Errors:
    """Errors of ``hapy_san`` (required in cluster mode)."""
    if mode != "cluster" and san is None:
        return []
    if not isinstance(san, Mapping):
        return ["hapy_san: missing or not a mapping; expected {portal, target_iqn, lun_wwid, chap_user, "
                + "chap_secret} in cluster mode"]
    errors = _unknown_keys(san, SAN_KEYS, "hapy_san")
    host, _, port = str(san.get("portal", "")).partition(":")
    if _ip(host) is None or (port and not (port.isdigit() and 0 < int(port) < 65536)):
        errors.append(f"hapy_san.portal: {san.get('portal')!r}; expected an iSCSI portal like 10.9.0.10:3260")
    if not isinstance(san.get("target_iqn"), str) or not IQN_RE.match(san["target_iqn"]):
        errors.append(f"hapy_san.target_iqn: {san.get('target_iqn')!r}; "
                      "expected an IQN like iqn.2026-11.fr.ac-reunion:san1.9740001a")
    if not isinstance(san.get("lun_wwid"), str) or not WWID_RE.match(san["lun_wwid"]):
        errors.append(f"hapy_san.lun_wwid: {san.get('lun_wwid')!r}; expected the LUN WWID (16..40 hex digits)")
    for key, form in (("chap_user", "the CHAP user name"), ("chap_secret", "the CHAP secret (vaulted)")):
        if not _is_text(san.get(key)):
            errors.append(f"hapy_san.{key}: missing; expected {form}")
    if "fs_name" in san and (not isinstance(san["fs_name"], str) or not 0 < len(san["fs_name"]) <= 16):
        errors.append(f"hapy_san.fs_name: {san['fs_name']!r}; expected a GFS2 name of at most 16 chars")
    return errors


def validate_one(one: Any, db: Any) -> Errors:
    """Errors of ``hapy_one`` and ``hapy_db``."""
    errors: Errors = []
    if one is not None:
        if not isinstance(one, Mapping):
            errors.append("hapy_one: not a mapping; expected {version, api_url, oneadmin_password}")
        else:
            if "api_url" in one and (not isinstance(one["api_url"], str) or not URL_RE.match(one["api_url"])):
                errors.append(f"hapy_one.api_url: {one['api_url']!r}; expected an URL like http://127.0.0.1:2633/RPC2")
            if "version" in one and not re.match(r"^[0-9]+\.[0-9]+", str(one["version"])):
                errors.append(f"hapy_one.version: {one['version']!r}; expected a version like 6.10")
            if "oneadmin_password" in one and not _is_text(one["oneadmin_password"]):
                errors.append("hapy_one.oneadmin_password: empty; expected a (vaulted) string")
    if db is not None:
        if not isinstance(db, Mapping):
            errors.append("hapy_db: not a mapping; expected {backend, name, user, password}")
        elif db.get("backend", "sqlite") not in DB_BACKENDS:
            errors.append(f"hapy_db.backend: {db.get('backend')!r}; expected one of {', '.join(DB_BACKENDS)}")
        elif db.get("backend") == "mysql":
            errors += [f"hapy_db.{key}: missing; expected a string with the mysql backend"
                       for key in ("name", "user", "password") if not _is_text(db.get(key))]
    return errors


def _uai_letter_errors(uai: str, academy: Mapping[str, Any] | None) -> Errors:
    """The UAI's check letter, unless ``hapy_academy.uai_check_letter`` is false (fictional example UAIs)."""
    if not academy_settings(academy)["uai_check_letter"]:
        return []
    expected = uai_check_letter(uai[:7])
    if uai[7].upper() == expected:
        return []
    return [f"hapy_school.uai: {uai} has the check letter {uai[7].upper()}, expected {uai[:7]}{expected} (the 7 "
            "digits modulo 23 as a letter of A-Z without I, O, Q); for fictional UAIs set "
            "hapy_academy.uai_check_letter: false"]


def validate_site(site: Site) -> Errors:
    """Every error of one school's inventory (``hapy_*`` variables of one host); empty when the site is valid.

    The plan needs a valid school (and ``hapy_academy`` mapping); guests are checked against a valid plan.
    """
    errors = validate_school(site.get("hapy_school"))
    if site.get("hapy_academy") is not None and not isinstance(site["hapy_academy"], Mapping):
        errors.append("hapy_academy: not a mapping; expected academy-wide defaults {base, dns, networks, ...}")
    elif not errors:
        errors += _uai_letter_errors(site["hapy_school"]["uai"], site.get("hapy_academy"))
    plan: list[Network] = []
    if not errors:
        net_errors, plan = validate_networks(site)
        errors += net_errors
    if plan:
        errors += validate_guests(site.get("hapy_guests"), plan)
    mode = site.get("hapy_mode", "single")
    if mode not in MODES:
        errors.append(f"hapy_mode: {mode!r}; expected one of {', '.join(MODES)}")
    errors += validate_backup(site.get("hapy_backup"))
    errors += validate_san(site.get("hapy_san"), mode)
    errors += validate_one(site.get("hapy_one"), site.get("hapy_db"))
    return errors


def _is_loopback_url(url: str) -> bool:
    host = urlsplit(str(url)).hostname or ""
    address = _ip(host)
    return host == "localhost" or (address is not None and address.is_loopback())


def validate_academy(sites: Mapping[str, Site], frontends: Mapping[str, list[str]] | None = None) -> Errors:
    """Errors across the schools of an academy (``{school group: its hapy_* variables}``).

    Each school is routed through the academy and converged through its own OpenNebula: two schools must not
    share a UAI, a school index, any subnet, a frontend address (``frontends``: ``{school group: [addresses]}``)
    or an OpenNebula API URL, nor their guests' root password (``root_password_digest``: a digest of
    ``hapy_eole_root_password``). Schools whose own inventory is invalid are skipped (:func:`validate_site` reports
    them).
    """
    errors: Errors = []
    owners: dict[tuple[str, str], str] = {}  # (what, value) -> the first group using it
    password_owners: dict[str, str] = {}  # digest of a guests' root password -> the first group using it

    def unique(group: str, what: str, value: Any, hint: str) -> None:
        first = owners.setdefault((what, str(value)), group)
        if first != group:
            errors.append(f"{group}: {what} {value} already used by {first}; expected {hint}")

    spans: list[tuple[int, int, str, str]] = []
    for group, site in sorted(sites.items()):
        school = site.get("hapy_school")
        if validate_school(school):
            continue
        unique(group, "hapy_school.uai", str(school["uai"]).upper(), "one group per school")
        if school.get("index") is not None:
            unique(group, "hapy_school.index", school["index"], "one index per school")
        for address in sorted(set((frontends or {}).get(group, []))):
            unique(group, "frontend address", address, "one OpenNebula frontend per school")
        api_url = (site.get("hapy_one") or {}).get("api_url") if isinstance(site.get("hapy_one"), Mapping) else None
        if api_url and not _is_loopback_url(api_url):  # a loopback URL is per controller (a tunnel, a test bed)
            unique(group, "hapy_one.api_url", api_url, "one OpenNebula per school")
        digest = site.get("root_password_digest")
        if digest:
            sharing = password_owners.setdefault(digest, group)
            if sharing != group:
                errors.append(f"{group}: hapy_eole_root_password is the same as {sharing}'s; expected one root "
                              "password per school (from the vault), never one academy-wide password")
        _, plan = validate_networks(site)
        spans += [(IPNetwork(n["cidr"]).first, IPNetwork(n["cidr"]).last, group, n["cidr"]) for n in plan]
    spans.sort()
    widest: tuple[int, int, str, str] | None = None  # the span reaching furthest so far
    for span in spans:
        if widest and span[0] <= widest[1] and span[2] != widest[2]:
            errors.append(f"{span[2]}: network {span[3]} overlaps {widest[3]} of {widest[2]}; "
                          "expected disjoint school subnets (check hapy_school.index/block)")
        if widest is None or span[1] > widest[1]:
            widest = span
    return errors


# --------------------------------------------------------------------------------------------------------------------
# EOLE configuration (config.eol)
# --------------------------------------------------------------------------------------------------------------------

def _var(value: Any) -> dict[str, Any]:
    """A config.eol entry written by Hâpy."""
    return {"owner": EOLE_OWNER, "val": value}


def _followers(values: list[Any]) -> dict[str, Any]:
    """A follower variable of a multi group: val and owner are dicts keyed by the index as a string."""
    return {"owner": {str(i): EOLE_OWNER for i in range(len(values))},
            "val": {str(i): v for i, v in enumerate(values)}}


def _links(guest: Mapping[str, Any], nets: Mapping[str, Network]) -> list[tuple[dict[str, Any], Network]]:
    """(NIC, network) pairs of a guest, resolving its addresses alone when some are missing."""
    nics = guest.get("nics") or []
    if any(not nic.get("ip") for nic in nics):
        guest = resolve_guests([guest], nets.values())[0]
        nics = guest["nics"]
    return [(nic, nets[nic["network"]]) for nic in nics]


def _samba_names(guest: Mapping[str, Any], school: Mapping[str, Any]) -> dict[str, Any]:
    """Samba AD domain, NetBIOS names and Bacula names of a Horus, Scribe or AmonEcole."""
    workgroup = str(school.get("workgroup") or f"ETB{school['uai']}").upper()[:15]
    return {
        "smb_workgroup": _var(workgroup),
        "smb_netbios_name": _var(str(guest["name"]).upper()[:15]),
        "ad_domain": _var(workgroup.lower()),
        "ad_realm": _var(local_domain(school)),
        "bacula_dir_name": _var(f"{guest['name']}-dir"),
        "bacula_fd_name": _var(f"{guest['name']}-fd"),
    }


def _amon_zones(links: list[tuple[dict[str, Any], Network]], profile: str) -> dict[str, Any]:
    """Amon variables: type_amon and the DHCP groups of the zones that have a client pool."""
    suffix = "-amonecole" if profile == "amonecole" else ""
    doc: dict[str, Any] = {"type_amon": _var(f"{len(links)}zones{suffix}")}
    pools = [net for _, net in links if net["dhcp"]]
    doc["activer_dhcp"] = _var("oui" if pools else "non")
    if pools:
        doc["adresse_network_dhcp"] = _var([net["network"] for net in pools])
        doc["adresse_netmask_dhcp"] = _followers([net["netmask"] for net in pools])
        doc["ip_basse_dhcp"] = _followers([net["dhcp"]["start"] for net in pools])
        doc["ip_haute_dhcp"] = _followers([net["dhcp"]["end"] for net in pools])
        doc["nom_plage_dhcp"] = _followers([net["zone"] for net in pools])
        doc["adresse_ip_gw_dhcp"] = _followers([net["gateway"] for net in pools])
    return doc


def eole_config(guest: Mapping[str, Any], school: Mapping[str, Any], plan: Iterable[Network],
                academy: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """The guest's config.eol document (a dict ready for ``json.dumps``), or None for profile ``other``.

    Takes a guest from :func:`resolve_guests` (a guest without addresses is resolved alone: only the
    Amon's gateway addresses and first free ones). Extra variables of ``guest.eole`` are written last and win;
    a value that is already ``{owner, val}`` is kept as is.
    """
    profile = guest.get("profile")
    if profile == "other":
        return None
    nets = _plan_by_name(plan)
    settings = academy_settings(academy)
    links = _links(guest, nets)
    first_net = links[0][1]
    is_gateway = profile in GATEWAY_PROFILES
    doc: dict[str, Any] = {"___version___": EOLE_VERSION}
    doc.update({
        "nom_machine": _var(guest["name"]),
        "nom_domaine_local": _var(local_domain(school)),
        "numero_etab": _var(str(school["uai"]).lower()),
        "libelle_etab": _var(school["name"]),
        "nom_academie": _var(school["academy"]),
        "nombre_interfaces": _var(len(links)),
    })
    for i, (nic, net) in enumerate(links):
        doc.update({
            f"nom_carte_eth{i}": _var(f"eth{i}"),
            f"nom_zone_eth{i}": _var(net["zone"]),
            f"adresse_ip_eth{i}": _var(nic["ip"]),
            f"adresse_netmask_eth{i}": _var(net["netmask"]),
            f"adresse_network_eth{i}": _var(net["network"]),
            f"adresse_broadcast_eth{i}": _var(net["broadcast"]),
            f"vlan_eth{i}": _var("non"),
        })
    doc["adresse_ip_gw"] = _var(first_net["gateway"])
    doc["adresse_ip_dns"] = _var(list(settings["dns"] if is_gateway else first_net["dns"]))
    doc["serveur_ntp"] = _var(list(settings["ntp"] or ([] if is_gateway else [first_net["gateway"]])))
    doc["serveur_maj"] = _var(list(settings["update_servers"]))
    doc["time_zone"] = _var(time_zone(academy, school.get("academy")))
    proxy = settings["proxy"] if is_gateway else {"address": first_net["gateway"], "port": AMON_PROXY_PORT}
    doc["activer_proxy_client"] = _var("oui" if proxy else "non")
    if proxy:
        doc["proxy_client_adresse"] = _var(proxy["address"])
        doc["proxy_client_port"] = _var(int(proxy.get("port", AMON_PROXY_PORT)))
    if is_gateway:
        doc.update(_amon_zones(links, profile))
    if profile in SAMBA_PROFILES:
        doc.update(_samba_names(guest, school))
        doc["activer_ad"] = _var("oui")
    for var, value in (guest.get("eole") or {}).items():
        doc[var] = dict(value) if isinstance(value, Mapping) and set(value) == {"owner", "val"} else _var(value)
    return doc


# Schema of generated variables: name pattern -> kind; kinds are checked by _KIND_CHECKS.
EOLE_SCHEMA: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), kind) for p, kind in (
        (r"adresse_ip_eth\d+|adresse_network_eth\d+|adresse_broadcast_eth\d+|adresse_ip_gw|proxy_client_adresse",
         "ipv4"),
        (r"adresse_netmask_eth\d+", "netmask"),
        (r"adresse_ip_dns", "ipv4_list"),
        (r"serveur_ntp|serveur_maj", "host_list"),
        (r"nom_machine", "hostname"),
        (r"nom_domaine_local|ad_realm", "domain"),
        (r"numero_etab", "uai"),
        (r"nombre_interfaces", "count"),
        (r"proxy_client_port", "port"),
        (r"nom_carte_eth\d+", "ifname"),
        (r"activer_\w+|vlan_eth\d+", "oui_non"),
        (r"adresse_network_dhcp", "ipv4_list"),
        (r"adresse_netmask_dhcp", "netmask_followers"),
        (r"ip_basse_dhcp|ip_haute_dhcp|adresse_ip_gw_dhcp", "ipv4_followers"),
        (r"smb_netbios_name|smb_workgroup", "netbios"),
        (r"libelle_etab|nom_academie|nom_zone_eth\d+|time_zone|type_amon|ad_domain|bacula_\w+", "text"),
    )
]

REQUIRED_VARS: dict[str, tuple[str, ...]] = {
    "common": ("nom_machine", "nom_domaine_local", "numero_etab", "libelle_etab", "nom_academie",
               "nombre_interfaces", "adresse_ip_eth0", "adresse_netmask_eth0", "adresse_ip_gw", "adresse_ip_dns",
               "serveur_ntp", "serveur_maj", "time_zone"),
    "amon": ("type_amon", "nom_zone_eth0", "adresse_ip_eth1", "adresse_netmask_eth1"),
    "amonecole": ("type_amon", "nom_zone_eth0", "smb_workgroup", "smb_netbios_name", "ad_realm"),
    "horus": ("smb_workgroup", "smb_netbios_name", "ad_realm"),
    "scribe": ("smb_workgroup", "smb_netbios_name", "ad_realm"),
}


def _is_netmask(value: Any) -> bool:
    """A dotted IPv4 netmask (contiguous ones)."""
    ip = _ip(value)
    return ip is not None and ip.netmask_bits() > 0 and ip.is_netmask()


def _is_host(value: Any) -> bool:
    """An IPv4 address or a DNS name."""
    return isinstance(value, str) and (_ip(value) is not None or bool(DOMAIN_RE.match(value)))


_KIND_CHECKS: dict[str, tuple[Any, str]] = {
    "ipv4": (lambda v: _ip(v) is not None, "an IPv4 address"),
    "netmask": (_is_netmask, "a dotted netmask like 255.255.255.0"),
    "ipv4_list": (lambda v: isinstance(v, list) and all(_ip(x) is not None for x in v), "a list of IPv4 addresses"),
    "host_list": (lambda v: isinstance(v, list) and all(_is_host(x) for x in v), "a list of host names or addresses"),
    "hostname": (lambda v: isinstance(v, str) and bool(HOST_RE.match(v)), "a lower-case host name"),
    "domain": (lambda v: isinstance(v, str) and bool(DOMAIN_RE.match(v)) and "." in v, "a dotted DNS domain"),
    "uai": (lambda v: isinstance(v, str) and bool(re.fullmatch(r"[0-9]{7}[a-z]", v)), "a lower-case UAI like 9740001a"),
    "count": (lambda v: _is_int(v) and 1 <= v <= 10, "an integer 1..10"),
    "port": (lambda v: _is_int(v) and 0 < v < 65536, "a TCP port 1..65535"),
    "ifname": (lambda v: isinstance(v, str) and bool(BRIDGE_RE.match(v)), "an interface name like eth0"),
    "oui_non": (lambda v: v in ("oui", "non"), "oui or non"),
    "netbios": (lambda v: isinstance(v, str) and bool(re.fullmatch(r"[A-Z0-9][A-Z0-9-]{0,14}", v)),
                "an upper-case NetBIOS name of at most 15 chars"),
    "text": (lambda v: isinstance(v, str) and v != "", "a non-empty string"),
}


def _check_followers(var: str, entry: Mapping[str, Any], leader_len: int | None, kind: str) -> Errors:
    """Errors of a follower variable: dicts keyed by index strings, as many as the leader has values."""
    check, expected = _KIND_CHECKS[kind]
    val, owner = entry.get("val"), entry.get("owner")
    if not isinstance(val, Mapping) or not isinstance(owner, Mapping) or set(val) != set(owner):
        return [f"{var}: follower variable; expected val and owner as dicts keyed by the same index strings"]
    if leader_len is not None and set(val) != {str(i) for i in range(leader_len)}:
        return [f"{var}: indexes {sorted(val)}; expected '0'..'{leader_len - 1}' like its leader variable"]
    return [f"{var}[{k}]: {v!r}; expected {expected}" for k, v in val.items() if not check(v)]


def check_eole_config(doc: Any, profile: str) -> Errors:
    """Schema check of a config.eol document before any VM is touched: format, required keys, value types."""
    if not isinstance(doc, Mapping):
        return ["config.eol: not a mapping; expected a flat JSON object"]
    errors: Errors = []
    if doc.get("___version___") != EOLE_VERSION:
        errors.append(f"___version___: {doc.get('___version___')!r}; expected {EOLE_VERSION!r}")
    required = REQUIRED_VARS["common"] + REQUIRED_VARS.get(profile, ())
    errors += [f"{var}: missing; required for profile {profile}" for var in required if var not in doc]
    dhcp_len = len(doc.get("adresse_network_dhcp", {}).get("val") or []) if "adresse_network_dhcp" in doc else None
    for var, entry in doc.items():
        if var == "___version___":
            continue
        if not isinstance(entry, Mapping) or set(entry) != {"owner", "val"}:
            errors.append(f"{var}: {entry!r}; expected {{\"owner\": ..., \"val\": ...}}")
            continue
        kind = next((k for pattern, k in EOLE_SCHEMA if pattern.fullmatch(var)), None)
        if kind is None:
            continue  # extra variables: format only
        if kind.endswith("_followers"):
            errors += _check_followers(var, entry, dhcp_len, kind.removesuffix("_followers"))
            continue
        check, expected = _KIND_CHECKS[kind]
        if not check(entry["val"]):
            errors.append(f"{var}: {entry['val']!r}; expected {expected}")
    count = doc.get("nombre_interfaces", {}).get("val")
    if _is_int(count):
        errors += [f"adresse_ip_eth{i}: missing; nombre_interfaces is {count}" for i in range(count)
                   if f"adresse_ip_eth{i}" not in doc]
    return errors


# --------------------------------------------------------------------------------------------------------------------
# OpenNebula guest context
# --------------------------------------------------------------------------------------------------------------------

START_SCRIPT = r"""#!/bin/bash
# eole.hapy — first boot of an EOLE guest (OpenNebula START_SCRIPT_BASE64; one-context runs it at every boot).
# 1. once only: the marker /etc/eole/.hapy-instance-done ends every later run at once;
# 2. writes /etc/eole/config.eol from EOLE_CONFIG_EOL_BASE64 (checked to be JSON first, mode 0600);
# 3. registers with Zéphir when ZEPHIR_ADDRESS is set (enregistrement_zephir, prompts answered below);
# 4. runs EOLE's `instance` unattended: its root/eole password prompts get a one-time random password, replaced
#    right after by EOLE_ROOT_PASSWORD_HASH_BASE64 (a SHA-512 crypt hash: the clear password never reaches the
#    guest's context); every yes/no question (update now, VPN, HA...) answered "non" — updates are applied by Maj-Auto
#    beforehand when EOLE_UPDATE=YES;
# 5. marks the guest done and halts when HAPY_HALT=YES, so that Hâpy boots it again with NETCFG_TYPE=none
#    (EOLE owns the network from then on).
# Log: /var/log/hapy-instance.log
set -euo pipefail
marker=/etc/eole/.hapy-instance-done
[[ -e $marker ]] && exit 0
exec >>/var/log/hapy-instance.log 2>&1
echo "== $(date -Is) hapy first boot"

answer() {  # answer <command...>: run an interactive EOLE command in a pty, answering its prompts by pattern;
           # the password asked for is HAPY_ANSWER_PASSWORD_BASE64 (root/eole for instance, Zéphir's for registration)
  python3 - "$@" <<'PY'
import base64, os, pty, re, sys
password = base64.b64decode(os.environ.get("HAPY_ANSWER_PASSWORD_BASE64", "")).decode()
answers = [
    (rb"(?i)mot de passe[^\n]*:\s*$", password),                 # root/eole passwords and confirmations
    (rb"(?i)(login|utilisateur)[^\n]*:\s*$", os.environ.get("ZEPHIR_USER", "")),
    (rb"(?i)adresse[^\n]*zephir[^\n]*:\s*$", os.environ.get("ZEPHIR_ADDRESS", "")),
    (rb"(?i)\b(identifiant|id)\b[^\n]*serveur[^\n]*:\s*$", os.environ.get("ZEPHIR_ID", "")),
    (rb"(?i)choix[^\n]*:\s*$", os.environ.get("ZEPHIR_MENU", "1")),
    (rb"(?i)\[oui/non\][^\n]*:?\s*$", "non"),
]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
seen = b""
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    sys.stdout.buffer.write(chunk)
    seen = (seen + chunk)[-512:]
    for pattern, reply in answers:
        if re.search(pattern, seen):
            os.write(fd, reply.encode() + b"\n")
            seen = b""
            break
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
PY
}

install -d -m 0755 /etc/eole
umask 077
printf '%s' "$EOLE_CONFIG_EOL_BASE64" | base64 -d >/etc/eole/config.eol.hapy
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' /etc/eole/config.eol.hapy
mv /etc/eole/config.eol.hapy /etc/eole/config.eol

if [[ -n ${ZEPHIR_ADDRESS:-} ]] && ! enregistrement_zephir --check >/dev/null 2>&1; then
  HAPY_ANSWER_PASSWORD_BASE64=${ZEPHIR_PASSWORD_BASE64:-} answer enregistrement_zephir
fi
if [[ ${EOLE_UPDATE:-NO} == YES ]]; then
  Maj-Auto
fi
onetime=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20)Aa1-
HAPY_ANSWER_PASSWORD_BASE64=$(printf '%s' "$onetime" | base64 -w0) answer instance
unset onetime
if [[ -n ${EOLE_ROOT_PASSWORD_HASH_BASE64:-} ]]; then
  hash=$(printf '%s' "$EOLE_ROOT_PASSWORD_HASH_BASE64" | base64 -d)
  for account in root eole; do
    if id "$account" >/dev/null 2>&1; then usermod -p "$hash" "$account"; fi
  done
fi
touch "$marker"
echo "== $(date -Is) instance done"
if [[ ${HAPY_HALT:-NO} == YES ]]; then
  poweroff
fi
"""


#: SHA-512 crypt rounds of the guests' root/eole password hash (glibc's default is 5000; ~0.1 s here)
ROOT_PASSWORD_ROUNDS = 100_000


def _b64(text: str) -> str:
    """UTF-8 text as base64 (OpenNebula *_BASE64 context values)."""
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def dump_eole_config(doc: Mapping[str, Any]) -> str:
    """config.eol text: ``___version___`` first, then variables sorted, UTF-8 kept (deterministic)."""
    ordered = {"___version___": doc["___version___"], **{k: doc[k] for k in sorted(doc) if k != "___version___"}}
    return json.dumps(ordered, ensure_ascii=False, indent=2) + "\n"


def guest_context(guest: Mapping[str, Any], school: Mapping[str, Any], plan: Iterable[Network],
                  academy: Mapping[str, Any] | None = None, stage: str = "install",
                  root_password: str | None = None) -> dict[str, Any]:
    """OpenNebula ``NIC`` list and ``CONTEXT`` vector of a guest (upper-case template keys, string values), and
    ``SECRET_CONTEXT``: what the guest needs in clear at first boot (Zéphir's password), never put in a template.

    The root/eole password is in ``CONTEXT`` as a SHA-512 crypt hash only (``EOLE_ROOT_PASSWORD_HASH_BASE64``).

    ``stage``: ``install`` (first boot: the context configures the network, START_SCRIPT writes config.eol and runs
    ``instance``, then the guest halts) or ``run`` (later boots: ``NETCFG_TYPE=none``, EOLE owns the network).
    Profile ``other`` gets networking and hostname only. Raises :class:`HapySiteError` for an unknown stage.
    """
    if stage not in ("install", "run"):
        raise HapySiteError(f"stage: {stage!r}; expected install or run")
    plan = list(plan)
    nets = _plan_by_name(plan)
    links = _links(guest, nets)
    nic_list = [{"NETWORK": net["vnet_name"], "IP": nic["ip"], "MODEL": "virtio"} for nic, net in links]
    context: dict[str, str] = {"NETWORK": "YES", "SET_HOSTNAME": str(guest["name"]),
                               "SSH_PUBLIC_KEY": "$USER[SSH_PUBLIC_KEY]"}
    secrets: dict[str, str] = {}
    doc = eole_config(guest, school, plan, academy)
    if doc is not None:
        settings = academy_settings(academy)
        context["EOLE_CONFIG_EOL_BASE64"] = _b64(dump_eole_config(doc))
        context["START_SCRIPT_BASE64"] = _b64(START_SCRIPT)
        password = guest.get("root_password") or root_password
        if password:  # a crypt hash only, its salt from the school and guest names (the same hash on every run);
            # base64 as oned reads '$' in a VM's CONTEXT as a variable ("$6$rounds=..." fails the instantiation)
            salt = salt_for(str(school.get("uai", "")), str(guest["name"]))
            context["EOLE_ROOT_PASSWORD_HASH_BASE64"] = _b64(sha512_crypt(str(password), salt, ROOT_PASSWORD_ROUNDS))
        zephir = settings.get("zephir") or {}
        if zephir.get("address") and guest.get("zephir_id"):
            context.update(ZEPHIR_ADDRESS=str(zephir["address"]), ZEPHIR_USER=str(zephir.get("user", "")),
                           ZEPHIR_ID=str(guest["zephir_id"]), ZEPHIR_MENU=str(zephir.get("menu", "1")))
            # needed in clear by enregistrement_zephir: given to the VM at instantiation only (never in the
            # template) and removed from it once the guest is installed (eole.hapy.one_vm secret_context)
            secrets["ZEPHIR_PASSWORD_BASE64"] = _b64(str(zephir.get("password", "")))
        if stage == "install":
            context["HAPY_HALT"] = "YES"
        else:
            context["NETCFG_TYPE"] = "none"
    return {"NIC": nic_list, "CONTEXT": context, "SECRET_CONTEXT": secrets}
