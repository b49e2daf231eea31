# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One school's inventory checked as a whole (:func:`validate_site`): every error names the field path and the
expected form; the network and guest checks live with their subjects (plan, guests)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.common import (
    ACADEMY_RE,
    CRON_RE,
    DOMAIN_RE,
    IQN_RE,
    UAI_RE,
    URL_RE,
    WWID_RE,
    Errors,
    IPAddress,
    IPNetwork,
    IPRange,
    Network,
    Site,
    academy_settings,
    ar_range,
    ip4,
    is_int,
    is_text,
    net4,
    one_name_errors,
    one_text_errors,
    uai_check_letter,
    unknown_keys,
)
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.context import addc_password_errors
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.eole_config import eole_settings_errors
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.guests import validate_guests
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.plan import validate_networks
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.zephir import validate_deployment

SITE_VARS = ("hapy_school", "hapy_mode", "hapy_networks", "hapy_guests", "hapy_backup", "hapy_san", "hapy_one",
             "hapy_db", "hapy_academy", "hapy_deployment", "hapy_eole_addc_password", "hapy_ha")
"""The variables :func:`validate_site` reads (one school host's view of the inventory)."""

MODES = ("single", "cluster")
DB_BACKENDS = ("mysql", "sqlite")
DB_DEFAULT_BACKEND = "mysql"  # as the frontend and backups roles: MariaDB unless a site says sqlite
BACKUP_MODES = ("FULL", "INCREMENT")
BACKUP_KEYS = {"device", "label", "mountpoint", "keep_last", "keep_days", "schedule", "db_on_calendar", "vm_label",
               "mode", "datastore", "jobs"}
SAN_KEYS = {"portal", "target_iqn", "lun_wwid", "chap_user", "chap_secret", "cluster_name", "fs_name"}
HA_KEYS = {"vip", "interface", "servers"}
HA_SERVER_KEYS = {"name", "address"}
HA_MIN_SERVERS = 3
INTERFACE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$")  # a Linux interface name (at most 15 characters)


def validate_school(school: Any) -> Errors:
    """Errors of ``hapy_school``."""
    if not isinstance(school, Mapping):
        return ["hapy_school: missing or not a mapping; expected {uai, name, academy, domain, index|block}"]
    errors: Errors = []
    uai = school.get("uai")
    if not isinstance(uai, str) or not UAI_RE.match(uai):
        errors.append(f"hapy_school.uai: {uai!r}; expected 7 digits and a letter, like 9740001A")
    if not is_text(school.get("name")):
        errors.append("hapy_school.name: missing; expected the school's name, like 'Lycée Leconte de Lisle'")
    else:
        errors += one_text_errors(school["name"], "hapy_school.name")
    if not isinstance(school.get("academy"), str) or not ACADEMY_RE.match(school["academy"]):
        errors.append(f"hapy_school.academy: {school.get('academy')!r}; expected an academy id like ac-reunion")
    if not isinstance(school.get("domain"), str) or not DOMAIN_RE.match(school["domain"].lower()):
        errors.append(f"hapy_school.domain: {school.get('domain')!r}; expected a DNS domain like lan or etb.ac-x.lan")
    if "index" in school and school["index"] is not None and (not is_int(school["index"]) or school["index"] < 0):
        errors.append(f"hapy_school.index: {school['index']!r}; expected an integer >= 0")
    if school.get("block") is not None and net4(school["block"]) is None:
        errors.append(f"hapy_school.block: {school['block']!r}; expected an IPv4 network like 10.42.0.0/16")
    if school.get("index") is None and school.get("block") is None:
        errors.append("hapy_school.index: missing; expected an integer school number (or hapy_school.block)")
    return errors


def validate_backup(backup: Any) -> Errors:
    """Errors of ``hapy_backup``."""
    if backup is None:
        return []
    if not isinstance(backup, Mapping):
        return ["hapy_backup: not a mapping; expected {device, label, mountpoint, keep_last, schedule, vm_label}"]
    errors = unknown_keys(backup, BACKUP_KEYS, "hapy_backup")
    if "device" in backup and (not isinstance(backup["device"], str) or not backup["device"].startswith("/dev/")):
        errors.append(f"hapy_backup.device: {backup['device']!r}; expected a block device path like /dev/sdb")
    if "label" in backup and (not isinstance(backup["label"], str) or not 0 < len(backup["label"]) <= 16):
        errors.append(f"hapy_backup.label: {backup['label']!r}; expected a filesystem label (1..16 chars)")
    mountpoint = backup.get("mountpoint", "/")
    if not isinstance(mountpoint, str) or not mountpoint.startswith("/"):
        errors.append(f"hapy_backup.mountpoint: {backup['mountpoint']!r}; expected an absolute path")
    if "keep_last" in backup and (not is_int(backup["keep_last"]) or backup["keep_last"] < 1):
        errors.append(f"hapy_backup.keep_last: {backup['keep_last']!r}; expected an integer >= 1")
    if "keep_days" in backup and (not is_int(backup["keep_days"]) or backup["keep_days"] < 0):
        errors.append(f"hapy_backup.keep_days: {backup['keep_days']!r}; expected an integer >= 0")
    jobs = backup.get("jobs")
    if "jobs" in backup and not (isinstance(jobs, list) and all(isinstance(job, Mapping) for job in jobs)):
        errors.append(f"hapy_backup.jobs: {backup['jobs']!r}; expected a list of backup job definitions")
    if "schedule" in backup and (not isinstance(backup["schedule"], str) or not CRON_RE.match(backup["schedule"])):
        errors.append(f"hapy_backup.schedule: {backup['schedule']!r}; expected a cron expression like '30 1 * * *'")
    if "vm_label" in backup and not is_text(backup["vm_label"]):
        errors.append(f"hapy_backup.vm_label: {backup['vm_label']!r}; expected a label name")
    elif "vm_label" in backup:
        errors += one_text_errors(backup["vm_label"], "hapy_backup.vm_label")
    if "datastore" in backup:
        errors += one_name_errors(backup["datastore"], "hapy_backup.datastore")
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
    errors = unknown_keys(san, SAN_KEYS, "hapy_san")
    host, _sep, port = str(san.get("portal", "")).partition(":")
    if ip4(host) is None or (port and not (port.isdigit() and 0 < int(port) < 65536)):
        errors.append(f"hapy_san.portal: {san.get('portal')!r}; expected an iSCSI portal like 10.9.0.10:3260")
    if not isinstance(san.get("target_iqn"), str) or not IQN_RE.match(san["target_iqn"]):
        errors.append(f"hapy_san.target_iqn: {san.get('target_iqn')!r}; "
                      "expected an IQN like iqn.2026-11.fr.ac-reunion:san1.9740001a")
    if not isinstance(san.get("lun_wwid"), str) or not WWID_RE.match(san["lun_wwid"]):
        errors.append(f"hapy_san.lun_wwid: {san.get('lun_wwid')!r}; expected the LUN WWID (16..40 hex digits)")
    for key, form in (("chap_user", "the CHAP user name"), ("chap_secret", "the CHAP secret (vaulted)")):
        if not is_text(san.get(key)):
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
            if "oneadmin_password" in one and not is_text(one["oneadmin_password"]):
                errors.append("hapy_one.oneadmin_password: empty; expected a (vaulted) string")
    if db is not None:
        if not isinstance(db, Mapping):
            errors.append("hapy_db: not a mapping; expected {backend, name, user, password}")
        elif db.get("backend", DB_DEFAULT_BACKEND) not in DB_BACKENDS:
            errors.append(f"hapy_db.backend: {db.get('backend')!r}; expected one of {', '.join(DB_BACKENDS)}")
        elif db.get("backend", DB_DEFAULT_BACKEND) == "mysql":
            if not is_text(db.get("password")):
                errors.append("hapy_db.password: missing; expected a (vaulted) string with the mysql backend (the "
                              "default; hapy_db.backend: sqlite for a lab)")
            errors += [f"hapy_db.{key}: {db[key]!r}; expected a non-empty string (default {default})"
                       for key, default in (("name", "opennebula"), ("user", "oneadmin"), ("host", "localhost"))
                       if key in db and not is_text(db[key])]
    return errors


def validate_ha(ha: Any, plan: list[Network]) -> Errors:
    """Errors of ``hapy_ha`` (HA frontends: a Raft zone of 3 or more servers and a floating address, Hâpy's "4
    addresses in one subnet"): the floating address with its prefix, the servers (inventory names, addresses in the
    same subnet, all distinct), none of the addresses inside an OpenNebula range or DHCP pool of the plan."""
    if ha is None:
        return []
    if not isinstance(ha, Mapping):
        return ["hapy_ha: not a mapping; expected {vip: 10.42.1.250/24, interface: eth0, servers: [{name, address}, "
                "...]}"]
    errors = unknown_keys(ha, HA_KEYS, "hapy_ha")
    vip = _interface_address(ha.get("vip"))
    if vip is None:
        errors.append(f"hapy_ha.vip: {ha.get('vip')!r}; expected the floating address with its prefix, like "
                      "10.42.1.250/24 (a host address of the servers' subnet)")
    if "interface" in ha and (not isinstance(ha["interface"], str) or not INTERFACE_RE.match(ha["interface"])):
        errors.append(f"hapy_ha.interface: {ha['interface']!r}; expected the servers' network interface carrying "
                      "the floating address, like eth0 (at most 15 characters)")
    servers = ha.get("servers")
    if not isinstance(servers, list) or len(servers) < HA_MIN_SERVERS:
        count = len(servers) if isinstance(servers, list) else servers
        return errors + [f"hapy_ha.servers: {count!r}; expected a list of at least {HA_MIN_SERVERS} servers "
                         "{name, address} (Raft needs a majority of them up: 3 servers survive the loss of one)"]
    seen: dict[str, str] = {} if vip is None else {str(vip.ip): "hapy_ha.vip"}
    names: dict[str, int] = {}
    for i, server in enumerate(servers):
        path = f"hapy_ha.servers[{i}]"
        if not isinstance(server, Mapping):
            errors.append(f"{path}: {server!r}; expected {{name: <inventory host>, address: <IPv4 address>}}")
            continue
        errors += unknown_keys(server, HA_SERVER_KEYS, path)
        name = server.get("name")
        if not is_text(name):
            errors.append(f"{path}.name: missing; expected the server's inventory name (a host of hapy_frontends)")
        else:
            errors += one_name_errors(str(name), f"{path}.name")
            if str(name) in names:
                errors.append(f"{path}.name: {name} already used by hapy_ha.servers[{names[str(name)]}]; expected "
                              "one entry per server")
            names.setdefault(str(name), i)
        address = ip4(server.get("address"))
        if address is None:
            errors.append(f"{path}.address: {server.get('address')!r}; expected the server's IPv4 address")
            continue
        if str(address) in seen:
            errors.append(f"{path}.address: {address} is already {seen[str(address)]}; expected 4 distinct "
                          "addresses (the floating one and one per server)")
        seen.setdefault(str(address), f"{path}.address")
        if vip is not None and (address not in vip.cidr or address in (vip.network, vip.broadcast)):
            errors.append(f"{path}.address: {address} is outside {vip.cidr}, the subnet of hapy_ha.vip; expected "
                          "the servers and the floating address in one subnet")
    if vip is not None:
        errors += _ha_plan_errors(seen, plan)
    return errors


def _interface_address(value: Any) -> IPNetwork | None:
    """``a.b.c.d/nn`` with room for 4 hosts, the address being one of its hosts; else None."""
    if not isinstance(value, str) or "/" not in value:
        return None
    address, _, prefix = value.partition("/")
    if ip4(address) is None or not prefix.isdigit() or not 0 < int(prefix) <= 29:
        return None
    net = IPNetwork(value, version=4)
    return None if net.ip in (net.network, net.broadcast) else net


def _ha_plan_errors(addresses: Mapping[str, str], plan: list[Network]) -> Errors:
    """The HA addresses must stay out of what the plan hands out on a network (OpenNebula range, DHCP pool,
    gateway): on a /24, Hâpy's hosts take .250-.254."""
    errors: Errors = []
    for address, path in addresses.items():
        ip = IPAddress(address)
        for net in plan:
            if ip not in IPNetwork(net["cidr"]):
                continue
            ar = ar_range(net)
            pool = IPRange(net["dhcp"]["start"], net["dhcp"]["end"]) if net.get("dhcp") else None
            taken = ("the gateway" if net.get("gateway") and ip == IPAddress(net["gateway"])
                     else f"in the OpenNebula range {ar}" if ip in ar
                     else f"in the DHCP pool {pool}" if pool is not None and ip in pool else None)
            if taken:
                errors.append(f"{path}: {address} is {taken} of network '{net['name']}'; expected an address the "
                              "plan does not hand out (e.g. .250-.254 of a /24)")
    return errors


def ha_warnings(ha: Any) -> list[str]:
    """Advice on a valid ``hapy_ha``: an even number of servers tolerates no more failures than one fewer."""
    servers = ha.get("servers") if isinstance(ha, Mapping) else None
    if isinstance(servers, list) and len(servers) >= HA_MIN_SERVERS and len(servers) % 2 == 0:
        n = len(servers)
        return [f"hapy_ha.servers: {n} servers survive the loss of {(n - 1) // 2}, as {n - 1} would; an odd count "
                "is advised (Raft needs a majority up)"]
    return []


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
    errors += eole_settings_errors(site.get("hapy_school"), site.get("hapy_academy"))
    if plan:
        errors += validate_guests(site.get("hapy_guests"), plan, site["hapy_school"], site.get("hapy_academy"))
    mode = site.get("hapy_mode", "single")
    if mode not in MODES:
        errors.append(f"hapy_mode: {mode!r}; expected one of {', '.join(MODES)}")
    errors += validate_backup(site.get("hapy_backup"))
    errors += validate_san(site.get("hapy_san"), mode)
    errors += validate_one(site.get("hapy_one"), site.get("hapy_db"))
    if isinstance(site.get("hapy_school"), Mapping) and isinstance(site.get("hapy_academy") or {}, Mapping):
        errors += validate_deployment(site.get("hapy_deployment"), site.get("hapy_academy"), site["hapy_school"])
    errors += addc_password_errors(site.get("hapy_eole_addc_password"), "hapy_eole_addc_password")
    errors += validate_ha(site.get("hapy_ha"), plan)
    return errors
