# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compact academy file: one entry per school (UAI, name, index, mode, frontend, nodes, overrides) expanded
into the inventory a hand-written academy has (``etb_<uai>`` groups, ``hapy_frontends``, ``hapy_nodes``, the
school's ``hapy_*`` variables). The ``eole.hapy.academy`` inventory plugin reads the file and calls
:func:`expand_schools`; the site checks themselves stay in :mod:`.validation` and :mod:`.academy`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.common import (
    DOMAIN_RE,
    UAI_RE,
    Errors,
    ip4,
    unknown_keys,
)
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.validation import MODES, validate_school

OPTIONAL_SCHOOL_KEYS = ("index", "block", "workgroup", "ad_domain", "eole_release")
"""``hapy_school`` keys a school entry may give, copied as they are (besides uai, name and domain)."""
SCHOOL_KEYS = {"uai", "name", "domain", *OPTIONAL_SCHOOL_KEYS, "mode", "frontend", "nodes", "api_url", "vars"}
HOST_KEYS = {"address", "name", "vars"}
SCHOOL_OWN_VARS = {"hapy_school": ", ".join(("uai", "name", "domain", *OPTIONAL_SCHOOL_KEYS)), "hapy_mode": "mode",
                   "hapy_one_api_url": "api_url"}
"""Variables a school entry sets through its own keys, never through ``vars``."""

FRONTEND_GROUP = "hapy_frontends"
NODE_GROUP = "hapy_nodes"
API_URL = "http://{address}:2633/RPC2"
"""A school's OpenNebula XML-RPC endpoint when its entry gives no ``api_url``: its frontend's address."""


@dataclass
class SchoolHost:
    """One server of a school: inventory name, address (``ansible_host``), functional groups, own variables."""

    name: str
    address: str
    frontend: bool
    node: bool
    vars: dict[str, Any] = field(default_factory=dict)


@dataclass
class School:
    """One school of the academy file, as the inventory holds it."""

    position: int  # index in ``schools``
    uai: str
    hosts: list[SchoolHost]
    vars: dict[str, Any]  # hapy_school, hapy_mode, hapy_one_api_url, then the entry's ``vars``
    valid: bool = True  # False: the entry has errors of its own (kept to find UAIs and host names used twice)

    @property
    def group(self) -> str:
        return f"etb_{self.uai.lower()}"

    @property
    def label(self) -> str:
        """How errors name the school: its place in the file and its UAI."""
        return school_label(self.position, self.uai)


def school_label(position: int, uai: Any) -> str:
    """How errors name a school of the file: ``schools[3] 9740004D``."""
    return f"schools[{position}] {uai}"


def _host(spec: Any, default_name: str, path: str, errors: Errors) -> SchoolHost | None:
    """A frontend or node given as an address, or as ``{address, name, vars}``."""
    address_path = path
    if isinstance(spec, Mapping):
        errors += unknown_keys(spec, HOST_KEYS, path)
        address_path = f"{path}.address"
    else:
        spec = {"address": spec}
    address = spec.get("address")
    dotted_quad = isinstance(address, str) and all(label.isdigit() for label in address.split("."))
    if ip4(address) is None and (dotted_quad or not (isinstance(address, str) and DOMAIN_RE.match(address.lower()))):
        errors.append(f"{address_path}: {address!r}; expected the server's IPv4 address or DNS name, like 10.1.1.250")
        return None
    host_vars = spec.get("vars") or {}
    if not isinstance(host_vars, Mapping):
        errors.append(f"{path}.vars: not a mapping; expected the host's own variables (ansible_user, ...)")
        host_vars = {}
    return SchoolHost(str(spec.get("name") or default_name), address, frontend=False, node=False,
                      vars={"ansible_host": address, **host_vars})


def _school_hosts(entry: Mapping[str, Any], uai: str, mode: str, prefix: str, label: str,
                  errors: Errors) -> list[SchoolHost]:
    """Single mode: one host, frontend and node (``<prefix><uai>``). Cluster mode: a frontend ``<prefix><uai>-fe``
    and nodes ``<prefix><uai>-n1``, ``-n2``..."""
    stem = f"{prefix}{uai.lower()}"
    if "frontend" not in entry:
        errors.append(f"{label}: frontend: missing; expected the frontend's address, like 10.1.1.250")
        return []
    nodes = entry.get("nodes")
    if mode == "single":
        if nodes:
            errors.append(f"{label}: nodes: {nodes!r}; a single-mode school's frontend is its only node: expected "
                          "no nodes, or mode: cluster")
        frontend = _host(entry["frontend"], stem, f"{label}: frontend", errors)
        if frontend is None:
            return []
        frontend.frontend = frontend.node = True
        return [frontend]
    if not isinstance(nodes, list) or not nodes:
        errors.append(f"{label}: nodes: {nodes!r}; expected the list of the cluster's KVM node addresses")
        return []
    frontend = _host(entry["frontend"], f"{stem}-fe", f"{label}: frontend", errors)
    hosts = [] if frontend is None else [frontend]
    if frontend is not None:
        frontend.frontend = True
    for number, spec in enumerate(nodes, start=1):
        node = _host(spec, f"{stem}-n{number}", f"{label}: nodes[{number - 1}]", errors)
        if node is not None:
            node.node = True
            hosts.append(node)
    return hosts


def _school(entry: Any, position: int, academy: str, domain: str, prefix: str,
            errors: Errors) -> School | None:
    """One entry of ``schools`` and its errors (added to ``errors``); None when it cannot even name a school group
    (no valid UAI or mode). A school returned with errors is only used to find UAIs and host names used twice."""
    if not isinstance(entry, Mapping):
        errors.append(f"schools[{position}]: {entry!r}; expected a mapping {{uai, name, index, frontend, ...}}")
        return None
    label = school_label(position, entry.get("uai"))
    entry_errors = [f"{label}: {error}" for error in unknown_keys(entry, SCHOOL_KEYS, "school")]
    school = {"uai": entry.get("uai"), "name": entry.get("name"), "academy": academy,
              "domain": entry.get("domain", domain)}
    school.update({key: entry[key] for key in OPTIONAL_SCHOOL_KEYS if key in entry})
    entry_errors += [f"{label}: {error}" for error in validate_school(school)]
    mode = entry.get("mode", "single")
    if mode not in MODES:
        entry_errors.append(f"{label}: mode: {mode!r}; expected one of {', '.join(MODES)}")
    own = entry.get("vars") or {}
    if not isinstance(own, Mapping):
        entry_errors.append(f"{label}: vars: not a mapping; expected the school's variables (hapy_networks, ...)")
        own = {}
    entry_errors += [f"{label}: vars.{key}: set by the school's own keys; expected {keys} at the school's level"
                     for key, keys in SCHOOL_OWN_VARS.items() if key in own]
    if not (isinstance(school["uai"], str) and UAI_RE.match(school["uai"]) and mode in MODES):
        errors += entry_errors
        return None
    hosts = _school_hosts(entry, school["uai"], mode, prefix, label, entry_errors)
    errors += entry_errors
    frontends = [host.address for host in hosts if host.frontend]
    api_url = entry.get("api_url") or (API_URL.format(address=frontends[0]) if frontends else None)
    return School(position, school["uai"], hosts,
                  {"hapy_school": school, "hapy_mode": mode, "hapy_one_api_url": api_url, **own},
                  valid=not entry_errors)


def expand_schools(schools: Any, academy: str, domain: str = "lan", host_prefix: str = "hapy-") -> tuple[
        Errors, list[School]]:
    """The academy file's ``schools`` as :class:`School` entries, and the errors of the file itself (entries that
    are not schools, missing keys, bad addresses, UAIs or host names used twice). The schools' inventories are
    checked afterwards, like any inventory, by ``validation.validate_site`` and ``academy.validate_academy``."""
    if not isinstance(schools, list) or not schools:
        return [f"schools: {schools!r}; expected a list of schools {{uai, name, index, frontend, ...}}"], []
    errors: Errors = []
    groups: dict[str, School] = {}
    host_owner: dict[str, School] = {}
    for position, entry in enumerate(schools):
        school = _school(entry, position, academy, domain, host_prefix, errors)
        if school is None:
            continue
        first = groups.setdefault(school.group, school)
        if first is not school:
            errors.append(f"{school.label}: hapy_school.uai {school.uai} already used by {first.label}; expected "
                          "one entry per school")
            continue
        clashes = [(host.name, host_owner[host.name]) for host in school.hosts if host.name in host_owner]
        errors += [f"{school.label}: host name {name} already used by {owner.label}; expected one name per server"
                   for name, owner in clashes]
        host_owner.update({host.name: school for host in school.hosts})
    return errors, [school for school in groups.values() if school.valid]
