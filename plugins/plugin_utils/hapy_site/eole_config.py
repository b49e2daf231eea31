# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""EOLE's configuration of a guest: its ``config.eol`` document for its EOLE release, generated from the site, and
its schema check.

Names, values and their form follow EOLE's own files (docs/eole-variables.md gives the source of each variable and
what is still unverified): the ``config.eol`` of an ac-reunion Amon 2.8.1 (``amon-ac-reunion-config.eol``) and of a
Scribe 2.8.1 (``dataset/lfikyoto/config.eol``) in EOLE's CI repository, its ERA firewall models and its per-release
package lists (:mod:`.releases`).
"""

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
    HapySiteError,
    Network,
    academy_settings,
    as_list,
    ip4,
    is_int,
    is_text,
    local_domain,
    net4,
    time_zone,
)
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.guests import (
    AD_PROFILES,
    GATEWAY_PROFILES,
    SAMBA_PROFILES,
    ad_lan,
    resolve_guests,
)
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.plan import plan_by_name
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.releases import (
    RELEASES,
    era_models_errors,
    interface_names,
    module_error,
    normalize,
    release_facts,
    release_format_errors,
    release_of,
    type_amon_of,
)

EOLE_OWNER = "gen_config"
"""Owner recorded for every value Hâpy writes (what EOLE's own ``gen_config`` records)."""

AMON_PROXY_PORT = 3128
"""The Amon's proxy port on its internal zones (``wpad_proxyport_ethN`` of the real Amon)."""

PARENT_ICP_PORT = 3130


def eole_var(value: Any) -> dict[str, Any]:
    """A config.eol entry written by Hâpy."""
    return {"owner": EOLE_OWNER, "val": value}


def _followers(values: list[Any]) -> dict[str, Any]:
    """A follower variable of a multi group: val and owner are dicts keyed by the index as a string."""
    return {"owner": {str(i): EOLE_OWNER for i in range(len(values))},
            "val": {str(i): v for i, v in enumerate(values)}}


def _interfaces(links: list[tuple[dict[str, Any], Network]], release: str) -> dict[str, Any]:
    """Per interface N: address, netmask, and the device name as ``nom_carte_ethN`` (a list: EOLE's bonding form)
    and ``nom_zone_ethN`` (what the firewall models use as the zone's interface)."""
    doc: dict[str, Any] = {"nombre_interfaces": eole_var(str(len(links)))}
    names = interface_names(release, len(links))
    for i, (nic, net) in enumerate(links):
        device = nic.get("device") or names[i]
        doc.update({
            f"adresse_ip_eth{i}": eole_var(nic["ip"]),
            f"adresse_netmask_eth{i}": eole_var(net["netmask"]),
            f"nom_carte_eth{i}": eole_var([device]),
            f"nom_zone_eth{i}": eole_var(device),
        })
    return doc


def _dhcp(links: list[tuple[dict[str, Any], Network]]) -> dict[str, Any]:
    """The Amon's DHCP service: one range per zone that has a client pool."""
    pools = [net for _nic, net in links if net["dhcp"]]
    doc: dict[str, Any] = {"activer_dhcp": eole_var("oui" if pools else "non")}
    if pools:
        doc["adresse_network_dhcp"] = eole_var([net["network"] for net in pools])
        doc["adresse_netmask_dhcp"] = _followers([net["netmask"] for net in pools])
        doc["ip_basse_dhcp"] = _followers([net["dhcp"]["start"] for net in pools])
        doc["ip_haute_dhcp"] = _followers([net["dhcp"]["end"] for net in pools])
        doc["nom_plage_dhcp"] = _followers([net["zone"] for net in pools])
        doc["adresse_ip_gw_dhcp"] = _followers([net["gateway"] for net in pools])
    return doc


def _parent_proxy(proxy: Mapping[str, Any] | None) -> dict[str, Any]:
    """The Amon's upstream proxy: per DNS zone (``proxy.zones``, the real ac-reunion form) or for everything."""
    if not proxy:
        return {}
    port = int(proxy.get("port", AMON_PROXY_PORT))
    zones = as_list(proxy.get("zones"))
    if zones:
        return {
            "activer_cache_pere_zone": eole_var("oui"),
            "nom_cache_pere_zone": eole_var([str(proxy["address"])] * len(zones)),
            "port_cache_pere_zone": _followers([port] * len(zones)),
            "port_icp_cache_pere_zone": _followers([PARENT_ICP_PORT] * len(zones)),
            "type_nom_zone_dns_cache": _followers(["DNS"] * len(zones)),
            "nom_zone_dns_cache": _followers([str(z) for z in zones]),
        }
    return {"activer_cache_pere": eole_var("oui"), "nom_cache_pere": eole_var(str(proxy["address"])),
            "port_cache_pere": eole_var(port)}


def _admin_access(links: list[tuple[dict[str, Any], Network]], nets: Mapping[str, Network],
                  settings: Mapping[str, Any], is_gateway: bool) -> dict[str, Any]:
    """Who may reach the guest's SSH and EAD on eth0: the academy's ``admin_networks``, and for a LAN guest the
    school's ``admin`` network."""
    sources = [net4(str(c)) for c in as_list(settings.get("admin_networks"))]
    if not is_gateway and "admin" in nets:
        sources.append(net4(nets["admin"]["cidr"]))
    sources = list(dict.fromkeys(s for s in sources if s is not None))
    if not sources:
        return {}
    networks = [str(s.network) for s in sources]
    netmasks = [str(s.netmask) for s in sources]
    return {"ssh_eth0": eole_var("oui"), "ip_ssh_eth0": eole_var(networks), "netmask_ssh_eth0": _followers(netmasks),
            "admin_eth0": eole_var("oui"), "ip_admin_eth0": eole_var(list(networks)),
            "netmask_admin_eth0": _followers(list(netmasks))}


def _samba(guest: Mapping[str, Any], school: Mapping[str, Any]) -> dict[str, Any]:
    """Samba names of a Horus, Scribe or AmonEcole (lower case, as real configurations store them) and its Bareos
    director name."""
    workgroup = str(school.get("workgroup") or f"etb{school['uai']}").lower()[:15]
    return {
        "smb_workgroup": eole_var(workgroup),
        "smb_netbios_name": eole_var(str(guest["name"])[:15]),
        "bareos_dir_name": eole_var(f"{guest['name']}-dir"),
    }


def _active_directory(guest: Mapping[str, Any], school: Mapping[str, Any]) -> dict[str, Any]:
    """The AD domain of a (resolved) Scribe or AmonEcole: ``ad_domain`` is the AD DNS domain (realm),
    ``ad_address`` the guest's own address on its LAN, ``ad_public_address`` the domain controller's (``ad_ip``)."""
    lan = ad_lan(guest)
    if lan is None:
        raise HapySiteError(f"guest {guest['name']}: no LAN interface for its AD domain controller")
    return {
        "ad_domain": eole_var(str(school.get("ad_domain") or local_domain(school)).lower()),
        "ad_server": eole_var(str(guest["name"])),
        "ad_local": eole_var("oui"),
        "ad_address": eole_var(lan["ip"]),
        "ad_public_address": eole_var(str(guest["ad_ip"])),
    }


def eole_config(guest: Mapping[str, Any], school: Mapping[str, Any], plan: Iterable[Network],
                academy: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """The guest's config.eol document for its EOLE release (a dict ready for ``json.dumps``), or None for profile
    ``other``.

    Takes a guest from :func:`resolve_guests` (a guest without addresses is resolved alone). Extra variables of
    ``guest.eole`` are written last and win; a value that is already ``{owner, val}`` is kept as is. Raises
    :class:`HapySiteError` for what :func:`validate_site` refuses (an unsupported release, a profile its release
    does not ship, no ERA model for the Amon).
    """
    profile = guest.get("profile")
    if profile == "other":
        return None
    release = normalize(release_of(guest, school, academy))
    facts = release_facts(release)
    why = module_error(str(profile), release)
    if why:
        raise HapySiteError(f"guest {guest.get('name')}: {why}")
    nets = plan_by_name(plan)
    settings = academy_settings(academy)
    if any(not nic.get("ip") for nic in guest.get("nics") or []) or (profile in AD_PROFILES
                                                                      and not guest.get("ad_ip")):
        guest = resolve_guests([guest], nets.values())[0]
    links = [(nic, nets[nic["network"]]) for nic in guest["nics"]]
    first_net = links[0][1]
    is_gateway = profile in GATEWAY_PROFILES
    doc: dict[str, Any] = {"___version___": facts.version}
    doc.update({
        "nom_machine": eole_var(guest["name"]),
        "nom_domaine_local": eole_var(local_domain(school)),
        "numero_etab": eole_var(str(school["uai"]).lower()),
        "libelle_etab": eole_var(school["name"]),
        "nom_academie": eole_var(school["academy"]),
    })
    doc.update(_interfaces(links, release))
    doc["adresse_ip_gw"] = eole_var(first_net["gateway"])
    doc["adresse_ip_dns"] = eole_var(list(settings["dns"] if is_gateway else first_net["dns"]))
    doc["serveur_ntp"] = eole_var(list(settings["ntp"] or ([] if is_gateway else [first_net["gateway"]])))
    doc["serveur_maj"] = eole_var(list(settings["update_servers"]))
    doc["time_zone"] = eole_var(time_zone(academy, school.get("academy")))
    doc.update(_admin_access(links, nets, settings, is_gateway))
    if settings.get("smtp_relay"):
        doc["exim_relay_smtp"] = eole_var(str(settings["smtp_relay"]))
    if settings.get("mail_to"):
        doc["system_mail_to"] = eole_var(str(settings["mail_to"]))
    if is_gateway:
        doc["type_amon"] = eole_var(type_amon_of(guest, len(links), release, academy))
        doc.update(_dhcp(links))
        doc.update(_parent_proxy(settings["proxy"]))
    else:
        proxy = ({"address": first_net["gateway"], "port": AMON_PROXY_PORT} if first_net["internal"]
                 else settings["proxy"])
        doc["activer_proxy_client"] = eole_var("oui" if proxy else "non")
        if proxy:
            doc["proxy_client_adresse"] = eole_var(str(proxy["address"]))
            doc["proxy_client_port"] = eole_var(int(proxy.get("port", AMON_PROXY_PORT)))
    if profile in SAMBA_PROFILES:
        doc.update(_samba(guest, school))
    if profile in AD_PROFILES:
        doc.update(_active_directory(guest, school))
        if settings.get("smtp_relay"):
            doc["exim_relay"] = eole_var("oui")
    for var, value in (guest.get("eole") or {}).items():
        doc[var] = dict(value) if isinstance(value, Mapping) and set(value) == {"owner", "val"} else eole_var(value)
    return doc


# ----------------------------------------------------------------------------------------------- site settings
def eole_settings_errors(school: Any, academy: Any) -> Errors:
    """Errors of the school and academy keys the generator reads: ``hapy_school.eole_release``, ``ad_domain``,
    ``workgroup``; ``hapy_academy.eole_release``, ``era_models``, ``admin_networks``, ``smtp_relay``, ``mail_to``,
    ``proxy``."""
    errors: Errors = []
    school = school if isinstance(school, Mapping) else {}
    academy = academy if isinstance(academy, Mapping) else {}
    errors += release_format_errors(school.get("eole_release"), "hapy_school.eole_release")
    if school.get("ad_domain") is not None and not _is_domain(str(school["ad_domain"]).lower()):
        errors.append(f"hapy_school.ad_domain: {school['ad_domain']!r}; expected the AD DNS domain (realm), a dotted "
                      "name like 9740001a.ac-reunion.lan")
    if school.get("workgroup") is not None and not NETBIOS_RE.fullmatch(str(school["workgroup"])):
        errors.append(f"hapy_school.workgroup: {school['workgroup']!r}; expected a NetBIOS name (letters, digits, -; "
                      "at most 15)")
    errors += release_format_errors(academy.get("eole_release"), "hapy_academy.eole_release")
    errors += era_models_errors(academy.get("era_models"), "hapy_academy.era_models")
    admin = academy.get("admin_networks")
    if admin is not None and not (isinstance(admin, list) and all(net4(str(c)) is not None for c in admin)):
        errors.append(f"hapy_academy.admin_networks: {admin!r}; expected a list of IPv4 networks like 172.16.0.0/24 "
                      "(allowed to reach the guests' SSH and EAD)")
    if academy.get("smtp_relay") is not None and not _is_host(academy["smtp_relay"]):
        errors.append(f"hapy_academy.smtp_relay: {academy['smtp_relay']!r}; expected a host name or IPv4 address")
    if academy.get("mail_to") is not None and not (isinstance(academy["mail_to"], str)
                                                   and re.fullmatch(r"[^@\s]+@[^@\s]+", academy["mail_to"])):
        errors.append(f"hapy_academy.mail_to: {academy['mail_to']!r}; expected an e-mail address")
    errors += _proxy_errors(academy.get("proxy"))
    return errors


def _proxy_errors(proxy: Any) -> Errors:
    if proxy is None:
        return []
    if not isinstance(proxy, Mapping) or not _is_host(proxy.get("address")):
        return [f"hapy_academy.proxy: {proxy!r}; expected {{address, port, zones?}} with a host name or IPv4 address"]
    errors: Errors = []
    if "port" in proxy and not (is_int(proxy["port"]) and 0 < proxy["port"] < 65536):
        errors.append(f"hapy_academy.proxy.port: {proxy['port']!r}; expected a TCP port 1..65535")
    zones = proxy.get("zones")
    if zones is not None and not (isinstance(zones, list) and all(is_text(z) and _is_domain(str(z).lstrip("."))
                                                                  for z in zones)):
        errors.append(f"hapy_academy.proxy.zones: {zones!r}; expected a list of DNS domains like .in.ac-reunion.fr "
                      "(the Amons send only them to the parent proxy)")
    return errors


# ----------------------------------------------------------------------------------------------- schema check
NETBIOS_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,14}")

# Schema of generated variables: name pattern -> kind; kinds are checked by _KIND_CHECKS.
EOLE_SCHEMA: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), kind) for p, kind in (
        (r"adresse_ip_eth\d+|adresse_ip_gw|proxy_client_adresse|ad_address|ad_public_address", "ipv4"),
        (r"adresse_netmask_eth\d+", "netmask"),
        (r"adresse_ip_dns|adresse_network_dhcp|ip_ssh_eth\d+|ip_admin_eth\d+", "ipv4_list"),
        (r"serveur_ntp|serveur_maj|nom_cache_pere_zone", "host_list"),
        (r"exim_relay_smtp|nom_cache_pere", "host"),
        (r"nom_machine|ad_server", "hostname"),
        (r"nom_domaine_local|ad_domain", "domain"),
        (r"numero_etab", "uai"),
        (r"nombre_interfaces", "count"),
        (r"proxy_client_port|port_cache_pere", "port"),
        (r"nom_carte_eth\d+", "ifname_list"),
        (r"nom_zone_eth\d+", "ifname"),
        (r"activer_\w+|vlan_eth\d+|ssh_eth\d+|admin_eth\d+|ad_local|exim_relay", "oui_non"),
        (r"adresse_netmask_dhcp|netmask_ssh_eth\d+|netmask_admin_eth\d+", "netmask_followers"),
        (r"ip_basse_dhcp|ip_haute_dhcp|adresse_ip_gw_dhcp", "ipv4_followers"),
        (r"port_cache_pere_zone|port_icp_cache_pere_zone", "port_followers"),
        (r"nom_plage_dhcp|type_nom_zone_dns_cache|nom_zone_dns_cache", "text_followers"),
        (r"smb_netbios_name|smb_workgroup", "netbios"),
        (r"system_mail_to", "email"),
        (r"libelle_etab|nom_academie|time_zone|type_amon|bareos_\w+_name", "text"),
    )
]

LEADERS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(adresse_netmask|ip_basse|ip_haute|nom_plage|adresse_ip_gw)_dhcp"), "adresse_network_dhcp"),
    (re.compile(r"netmask_(ssh|admin)_eth(\d+)"), r"ip_\1_eth\2"),
    (re.compile(r"port_cache_pere_zone|port_icp_cache_pere_zone|type_nom_zone_dns_cache|nom_zone_dns_cache"),
     "nom_cache_pere_zone"),
]
"""Follower variable -> its leader (a multi group's followers have as many values as their leader)."""

REQUIRED_VARS: dict[str, tuple[str, ...]] = {
    "common": ("nom_machine", "nom_domaine_local", "numero_etab", "libelle_etab", "nom_academie",
               "nombre_interfaces", "adresse_ip_eth0", "adresse_netmask_eth0", "nom_carte_eth0", "nom_zone_eth0",
               "adresse_ip_gw", "adresse_ip_dns", "serveur_ntp", "serveur_maj", "time_zone"),
    "amon": ("type_amon", "adresse_ip_eth1", "adresse_netmask_eth1"),
    "amonecole": ("type_amon", "adresse_ip_eth1", "adresse_netmask_eth1", "smb_workgroup", "smb_netbios_name",
                  "ad_domain", "ad_address"),
    "horus": ("smb_workgroup", "smb_netbios_name"),
    "scribe": ("smb_workgroup", "smb_netbios_name", "ad_domain", "ad_address"),
}


def _is_netmask(value: Any) -> bool:
    """A dotted IPv4 netmask (contiguous ones; 0.0.0.0 is EOLE's "anyone" in its access lists)."""
    ip = ip4(value)
    return ip is not None and (ip.is_netmask() or str(ip) == "0.0.0.0")


def _is_domain(value: Any) -> bool:
    return isinstance(value, str) and bool(DOMAIN_RE.match(value)) and "." in value


def _is_host(value: Any) -> bool:
    """An IPv4 address or a DNS name."""
    return isinstance(value, str) and (ip4(value) is not None or bool(DOMAIN_RE.match(value)))


def _is_count(value: Any) -> bool:
    """A number of interfaces 1..10, as EOLE stores it (text, like "5"; an integer is accepted too)."""
    text = str(value) if is_int(value) or isinstance(value, str) else ""
    return text.isdigit() and 1 <= int(text) <= 10


_KIND_CHECKS: dict[str, tuple[Any, str]] = {
    "ipv4": (lambda v: ip4(v) is not None, "an IPv4 address"),
    "netmask": (_is_netmask, "a dotted netmask like 255.255.255.0"),
    "ipv4_list": (lambda v: isinstance(v, list) and all(ip4(x) is not None for x in v), "a list of IPv4 addresses"),
    "host": (_is_host, "a host name or IPv4 address"),
    "host_list": (lambda v: isinstance(v, list) and all(_is_host(x) for x in v), "a list of host names or addresses"),
    "hostname": (lambda v: isinstance(v, str) and bool(HOST_RE.match(v)), "a lower-case host name"),
    "domain": (_is_domain, "a dotted DNS domain"),
    "uai": (lambda v: isinstance(v, str) and bool(re.fullmatch(r"[0-9]{7}[a-z]", v)), "a lower-case UAI like 9740001a"),
    "count": (_is_count, 'a number of interfaces 1..10 (EOLE stores it as text, like "5")'),
    "port": (lambda v: is_int(v) and 0 < v < 65536, "a TCP port 1..65535"),
    "ifname": (lambda v: isinstance(v, str) and bool(BRIDGE_RE.match(v)), "an interface name like enp2s0 or ens3"),
    "ifname_list": (lambda v: isinstance(v, list) and len(v) >= 1 and all(isinstance(x, str) and BRIDGE_RE.match(x)
                                                                          for x in v),
                    'a list of interface names like ["enp2s0"]'),
    "oui_non": (lambda v: v in ("oui", "non"), "oui or non"),
    "netbios": (lambda v: isinstance(v, str) and bool(NETBIOS_RE.fullmatch(v)),
                "a NetBIOS name (letters, digits, -; at most 15)"),
    "email": (lambda v: isinstance(v, str) and bool(re.fullmatch(r"[^@\s]+@[^@\s]+", v)), "an e-mail address"),
    "text": (lambda v: isinstance(v, str) and v != "", "a non-empty string"),
}


def _leader_of(var: str) -> str | None:
    for pattern, leader in LEADERS:
        if pattern.fullmatch(var):
            return pattern.sub(leader, var)
    return None


def _check_followers(var: str, entry: Mapping[str, Any], doc: Mapping[str, Any], kind: str) -> Errors:
    """Errors of a follower variable: dicts keyed by index strings, as many as its leader has values."""
    check, expected = _KIND_CHECKS[kind]
    val, owner = entry.get("val"), entry.get("owner")
    if not isinstance(val, Mapping) or not isinstance(owner, Mapping) or set(val) != set(owner):
        return [f"{var}: follower variable; expected val and owner as dicts keyed by the same index strings"]
    leader = _leader_of(var)
    values = doc.get(leader, {}).get("val") if leader and isinstance(doc.get(leader), Mapping) else None
    if leader and values is None:
        return [f"{var}: follower of {leader}, which is missing; expected both"]
    if isinstance(values, list) and set(val) != {str(i) for i in range(len(values))}:
        return [f"{var}: indexes {sorted(val)}; expected '0'..'{len(values) - 1}' like its leader {leader}"]
    return [f"{var}[{k}]: {v!r}; expected {expected}" for k, v in val.items() if not check(v)]


def check_eole_config(doc: Any, profile: str, release: str | None = None) -> Errors:
    """Schema check of a config.eol document before any VM is touched: format, ``___version___`` (a supported
    release, ``release`` when given), required keys, value types, followers keyed like their leader."""
    if not isinstance(doc, Mapping):
        return ["config.eol: not a mapping; expected a flat JSON object"]
    errors: Errors = []
    version = doc.get("___version___")
    expected_versions = [normalize(release)] if release else list(RELEASES)
    if version not in expected_versions:
        errors.append(f"___version___: {version!r}; expected {' or '.join(repr(v) for v in expected_versions)}")
    required = REQUIRED_VARS["common"] + REQUIRED_VARS.get(profile, ())
    errors += [f"{var}: missing; required for profile {profile}" for var in required if var not in doc]
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
            errors += _check_followers(var, entry, doc, kind.removesuffix("_followers"))
            continue
        check, expected = _KIND_CHECKS[kind]
        if not check(entry["val"]):
            errors.append(f"{var}: {entry['val']!r}; expected {expected}")
    count = doc.get("nombre_interfaces", {}).get("val") if isinstance(doc.get("nombre_interfaces"), Mapping) else None
    if _is_count(count):
        errors += [f"adresse_ip_eth{i}: missing; nombre_interfaces is {count}" for i in range(int(count))
                   if f"adresse_ip_eth{i}" not in doc]
    return errors


def dump_eole_config(doc: Mapping[str, Any]) -> str:
    """config.eol text: ``___version___`` first, then variables sorted, UTF-8 kept (deterministic)."""
    ordered = {"___version___": doc["___version___"], **{k: doc[k] for k in sorted(doc) if k != "___version___"}}
    return json.dumps(ordered, ensure_ascii=False, indent=2) + "\n"
