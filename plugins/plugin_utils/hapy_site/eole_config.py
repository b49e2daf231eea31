# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""EOLE's configuration of a guest: its ``config.eol`` document, generated from the site, and its schema check."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.common import (
    BRIDGE_RE,
    DOMAIN_RE,
    HOST_RE,
    Errors,
    Network,
    academy_settings,
    ip4,
    is_int,
    local_domain,
    time_zone,
)
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.guests import (
    GATEWAY_PROFILES,
    SAMBA_PROFILES,
    guest_links,
)
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.plan import plan_by_name

EOLE_VERSION = "2.9.0"
"""Value of ``___version___`` in the generated config.eol."""

EOLE_OWNER = "gen_config"
"""Owner recorded for every value Hâpy writes (what EOLE's own ``gen_config`` records)."""

AMON_PROXY_PORT = 3128


def eole_var(value: Any) -> dict[str, Any]:
    """A config.eol entry written by Hâpy."""
    return {"owner": EOLE_OWNER, "val": value}


def _followers(values: list[Any]) -> dict[str, Any]:
    """A follower variable of a multi group: val and owner are dicts keyed by the index as a string."""
    return {"owner": {str(i): EOLE_OWNER for i in range(len(values))},
            "val": {str(i): v for i, v in enumerate(values)}}


def _samba_names(guest: Mapping[str, Any], school: Mapping[str, Any]) -> dict[str, Any]:
    """Samba AD domain, NetBIOS names and Bacula names of a Horus, Scribe or AmonEcole."""
    workgroup = str(school.get("workgroup") or f"ETB{school['uai']}").upper()[:15]
    return {
        "smb_workgroup": eole_var(workgroup),
        "smb_netbios_name": eole_var(str(guest["name"]).upper()[:15]),
        "ad_domain": eole_var(workgroup.lower()),
        "ad_realm": eole_var(local_domain(school)),
        "bacula_dir_name": eole_var(f"{guest['name']}-dir"),
        "bacula_fd_name": eole_var(f"{guest['name']}-fd"),
    }


def _amon_zones(links: list[tuple[dict[str, Any], Network]], profile: str) -> dict[str, Any]:
    """Amon variables: type_amon and the DHCP groups of the zones that have a client pool."""
    suffix = "-amonecole" if profile == "amonecole" else ""
    doc: dict[str, Any] = {"type_amon": eole_var(f"{len(links)}zones{suffix}")}
    pools = [net for _nic, net in links if net["dhcp"]]
    doc["activer_dhcp"] = eole_var("oui" if pools else "non")
    if pools:
        doc["adresse_network_dhcp"] = eole_var([net["network"] for net in pools])
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
    nets = plan_by_name(plan)
    settings = academy_settings(academy)
    links = guest_links(guest, nets)
    first_net = links[0][1]
    is_gateway = profile in GATEWAY_PROFILES
    doc: dict[str, Any] = {"___version___": EOLE_VERSION}
    doc.update({
        "nom_machine": eole_var(guest["name"]),
        "nom_domaine_local": eole_var(local_domain(school)),
        "numero_etab": eole_var(str(school["uai"]).lower()),
        "libelle_etab": eole_var(school["name"]),
        "nom_academie": eole_var(school["academy"]),
        "nombre_interfaces": eole_var(len(links)),
    })
    for i, (nic, net) in enumerate(links):
        doc.update({
            f"nom_carte_eth{i}": eole_var(f"eth{i}"),
            f"nom_zone_eth{i}": eole_var(net["zone"]),
            f"adresse_ip_eth{i}": eole_var(nic["ip"]),
            f"adresse_netmask_eth{i}": eole_var(net["netmask"]),
            f"adresse_network_eth{i}": eole_var(net["network"]),
            f"adresse_broadcast_eth{i}": eole_var(net["broadcast"]),
            f"vlan_eth{i}": eole_var("non"),
        })
    doc["adresse_ip_gw"] = eole_var(first_net["gateway"])
    doc["adresse_ip_dns"] = eole_var(list(settings["dns"] if is_gateway else first_net["dns"]))
    doc["serveur_ntp"] = eole_var(list(settings["ntp"] or ([] if is_gateway else [first_net["gateway"]])))
    doc["serveur_maj"] = eole_var(list(settings["update_servers"]))
    doc["time_zone"] = eole_var(time_zone(academy, school.get("academy")))
    proxy = settings["proxy"] if is_gateway else {"address": first_net["gateway"], "port": AMON_PROXY_PORT}
    doc["activer_proxy_client"] = eole_var("oui" if proxy else "non")
    if proxy:
        doc["proxy_client_adresse"] = eole_var(proxy["address"])
        doc["proxy_client_port"] = eole_var(int(proxy.get("port", AMON_PROXY_PORT)))
    if is_gateway:
        doc.update(_amon_zones(links, profile))
    if profile in SAMBA_PROFILES:
        doc.update(_samba_names(guest, school))
        doc["activer_ad"] = eole_var("oui")
    for var, value in (guest.get("eole") or {}).items():
        doc[var] = dict(value) if isinstance(value, Mapping) and set(value) == {"owner", "val"} else eole_var(value)
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
    ip = ip4(value)
    return ip is not None and ip.netmask_bits() > 0 and ip.is_netmask()


def _is_host(value: Any) -> bool:
    """An IPv4 address or a DNS name."""
    return isinstance(value, str) and (ip4(value) is not None or bool(DOMAIN_RE.match(value)))


_KIND_CHECKS: dict[str, tuple[Any, str]] = {
    "ipv4": (lambda v: ip4(v) is not None, "an IPv4 address"),
    "netmask": (_is_netmask, "a dotted netmask like 255.255.255.0"),
    "ipv4_list": (lambda v: isinstance(v, list) and all(ip4(x) is not None for x in v), "a list of IPv4 addresses"),
    "host_list": (lambda v: isinstance(v, list) and all(_is_host(x) for x in v), "a list of host names or addresses"),
    "hostname": (lambda v: isinstance(v, str) and bool(HOST_RE.match(v)), "a lower-case host name"),
    "domain": (lambda v: isinstance(v, str) and bool(DOMAIN_RE.match(v)) and "." in v, "a dotted DNS domain"),
    "uai": (lambda v: isinstance(v, str) and bool(re.fullmatch(r"[0-9]{7}[a-z]", v)), "a lower-case UAI like 9740001a"),
    "count": (lambda v: is_int(v) and 1 <= v <= 10, "an integer 1..10"),
    "port": (lambda v: is_int(v) and 0 < v < 65536, "a TCP port 1..65535"),
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
    if is_int(count):
        errors += [f"adresse_ip_eth{i}: missing; nombre_interfaces is {count}" for i in range(count)
                   if f"adresse_ip_eth{i}" not in doc]
    return errors


def dump_eole_config(doc: Mapping[str, Any]) -> str:
    """config.eol text: ``___version___`` first, then variables sorted, UTF-8 kept (deterministic)."""
    ordered = {"___version___": doc["___version___"], **{k: doc[k] for k in sorted(doc) if k != "___version___"}}
    return json.dumps(ordered, ensure_ascii=False, indent=2) + "\n"
