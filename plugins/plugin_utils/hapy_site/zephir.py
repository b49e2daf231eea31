# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Zéphir mode: a school's guests declared by Zéphir, as Hâpy's automatic deployment (``eole-hapy-deployment``)
took them, instead of generated from the inventory.

Facts from EOLE's own files (public copy ``Joguig/eole``): ``output/ggrandgerard/deploy-auto.py`` (Hâpy's
``deploy-auto``) and ``scripts/monitor3/monitor_eole_ci4.py`` (EOLE's CI client of Zéphir):

* Zéphir answers XML-RPC on ``https://<user>:<password>@<address>:7080`` (HTTP basic authentication);
  ``get_permissions(user)`` checks the account, ``serveurs.get_config(id)`` returns ``[1, {variable: value}]`` (a
  flat dict, multi-valued variables as text joined by ``|``), ``serveurs.groupe_serveur(criteria, variables, False)``
  returns ``[1, [{"id": ...}, ...]]``;
* ``dp_mode``: ``site`` takes the servers of each school number (``zephir_numero_etab``) whose variable
  ``activer_modele_vm`` is ``oui``, ``liste manuelle`` the ids of ``dp_server_id_list``, ``mixte`` both (the site's
  sorted, then the list's); the guests are then sorted by ``(vm_index, server id)``;
* each guest's VM comes from Hâpy's "VM model" variables of its configuration: ``vm_app`` (appliance, here the
  image), ``vm_cpu``, ``vm_vcpu``, ``vm_memory`` (MB), ``vm_disk_size`` (GB), ``vm_vnet_name<n>`` (vnet of
  ``eth<n>``), ``vm_index``, ``eole_release``; and its network from ``nombre_interfaces``, ``adresse_ip_eth<n>``,
  ``adresse_ip_gw``, ``adresse_ip_dns``, ``proxy_client_adresse``/``proxy_client_port``;
* the context of a guest: ``IP_ETH<n>``, ``DNS_ETH0``, ``GW_ETH0``, ``ZEPHIR_ID``, ``VM_NAME``, ``VM_ID=$VMID``,
  ``PROXY``, ``NETWORK=YES``, ``NETCFG_TYPE`` ``netplan`` at the provisioning boot then ``none``; its first NIC
  carries the gateway and DNS, the others ``METHOD=skip``; EOLE >= 2.9.0 boots
  ``OS=[FIRMWARE=/usr/share/OVMF/OVMF_CODE.fd, MACHINE=q35, SD_DISK_BUS=scsi]``.

This module is pure (no network): the fetch is the action ``eole.hapy.hapy_zephir_guests``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.common import (
    HOST_RE,
    UAI_RE,
    Errors,
    Network,
    academy_settings,
    ip4,
    is_int,
    is_text,
    one_name_errors,
    unknown_keys,
)
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.guests import SAMBA_PROFILES, validate_guests
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.plan import plan_by_name
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.releases import RELEASE_RE

MODES = ("generated", "zephir")
"""``hapy_deployment.mode``: guests generated from the inventory (the default), or declared by Zéphir."""

DP_MODES = ("site", "liste manuelle", "mixte")
"""Hâpy's ``dp_mode``: which Zéphir servers become guests."""

DEPLOYMENT_KEYS = {"mode", "dp_mode", "server_ids", "rne", "guests"}
OVERRIDE_KEYS = {"name", "image", "labels"}
ZEPHIR_KEYS = {"address", "user", "password", "api_url", "ca_file", "validate_certs", "timeout", "menu"}

ZEPHIR_PORT = 7080
"""Zéphir's XML-RPC port (``deploy-auto``: ``get_pwd(adresse_zephir, 7080)``)."""

SITE_VARIABLE = ("activer_modele_vm", "oui")
"""The variable a server must have for ``dp_mode`` ``site`` to take it (``deploy-auto``: VARIABLE_NAME/VALUE)."""

REGISTRATION_MENU = "2"
"""Answer to enregistrement_zephir's "Configuration des communications vers ..." for a guest whose configuration
is on Zéphir: EOLE's CI answers 2 when it fetches a server's configuration by id (monitor_eole_ci4.py,
``monitor_zephir_recupere_configuration``); the menu's text itself was not found (``hapy_academy.zephir.menu``)."""

REQUIRED_VARIABLES = ("vm_app", "vm_cpu", "vm_vcpu", "vm_memory", "nombre_interfaces", "adresse_ip_gw",
                      "adresse_ip_dns")


def zephir_settings(academy: Mapping[str, Any] | None) -> dict[str, Any]:
    """``hapy_academy.zephir`` with its defaults (``api_url`` from the address, port 7080; certificates checked)."""
    zephir = dict(academy_settings(academy).get("zephir") or {})
    if zephir.get("address") and not zephir.get("api_url"):
        zephir["api_url"] = f"https://{zephir['address']}:{ZEPHIR_PORT}/"
    zephir.setdefault("validate_certs", True)
    zephir.setdefault("timeout", 360)
    return zephir


def deployment_mode(deployment: Mapping[str, Any] | None) -> str:
    """``generated`` or ``zephir`` (``hapy_deployment.mode``, default generated)."""
    return str((deployment or {}).get("mode") or "generated")


def validate_deployment(deployment: Any, academy: Mapping[str, Any] | None, school: Mapping[str, Any]) -> Errors:
    """Errors of ``hapy_deployment`` (and, in Zéphir mode, of ``hapy_academy.zephir``) before anything is read."""
    if deployment is None:
        return []
    if not isinstance(deployment, Mapping):
        return ["hapy_deployment: not a mapping; expected {mode: zephir, dp_mode, server_ids, rne, guests}"]
    errors = unknown_keys(deployment, DEPLOYMENT_KEYS, "hapy_deployment")
    mode = deployment.get("mode", "generated")
    if mode not in MODES:
        errors.append(f"hapy_deployment.mode: {mode!r}; expected one of {', '.join(MODES)}")
    if mode != "zephir":
        return errors
    dp_mode = deployment.get("dp_mode")
    if dp_mode not in DP_MODES:
        errors.append(f"hapy_deployment.dp_mode: {dp_mode!r}; expected one of {', '.join(map(repr, DP_MODES))} "
                      "(Hâpy's dp_mode)")
    ids = deployment.get("server_ids", [])
    if not isinstance(ids, list):
        errors.append(f"hapy_deployment.server_ids: {ids!r}; expected a list of Zéphir server ids")
        ids = []
    for i, server_id in enumerate(ids):
        if not is_int(server_id) or server_id < 1:
            errors.append(f"hapy_deployment.server_ids[{i}]: {server_id!r}; expected a Zéphir server id "
                          "(an integer >= 1)")
    seen = [s for s in ids if is_int(s)]
    errors += [f"hapy_deployment.server_ids: {s} listed twice; expected each server once"
               for s in sorted({s for s in seen if seen.count(s) > 1})]
    if dp_mode in ("liste manuelle", "mixte") and not ids:
        errors.append(f"hapy_deployment.server_ids: empty; expected the Zéphir server ids with dp_mode {dp_mode!r}")
    rne = deployment.get("rne", [school.get("uai")] if isinstance(school, Mapping) else [])
    if not isinstance(rne, list) or not all(isinstance(r, str) and UAI_RE.match(r) for r in rne):
        errors.append(f"hapy_deployment.rne: {rne!r}; expected a list of school numbers like 9740001A "
                      "(Hâpy's zephir_numero_etab; default the school's UAI)")
    overrides = deployment.get("guests", {})
    if not isinstance(overrides, Mapping):
        errors.append("hapy_deployment.guests: not a mapping; expected {<server id>: {name, image, labels}}")
        overrides = {}
    for key, override in overrides.items():
        path = f"hapy_deployment.guests[{key}]"
        if not str(key).isdigit():
            errors.append(f"{path}: {key!r} is not a server id; expected an integer key")
        if not isinstance(override, Mapping):
            errors.append(f"{path}: not a mapping; expected {{name, image, labels}}")
            continue
        errors += unknown_keys(override, OVERRIDE_KEYS, path)
    zephir = academy_settings(academy).get("zephir")
    if not isinstance(zephir, Mapping):
        return [*errors, "hapy_academy.zephir: missing; expected {address, user, password} of the academy's Zéphir "
                         "with hapy_deployment.mode zephir"]
    errors += unknown_keys(zephir, ZEPHIR_KEYS, "hapy_academy.zephir")
    errors += [f"hapy_academy.zephir.{key}: missing; expected {form}"
               for key, form in (("address", "the Zéphir server's DNS name"), ("user", "a Zéphir login"),
                                 ("password", "its password (vaulted)"))
               if not is_text(zephir.get(key))]
    if "api_url" in zephir and not re.match(r"^https?://[^\s/]+(/\S*)?$", str(zephir["api_url"])):
        errors.append(f"hapy_academy.zephir.api_url: {zephir['api_url']!r}; expected an URL like "
                      f"https://zephir.ac-x.fr:{ZEPHIR_PORT}/")
    return errors


def server_list(dp_mode: str, site_ids: Iterable[int], listed_ids: Iterable[int]) -> list[int]:
    """The servers to deploy, in Hâpy's order: the site's (sorted), then the listed ones; each once."""
    ids = sorted(int(i) for i in site_ids) if dp_mode in ("site", "mixte") else []
    if dp_mode in ("liste manuelle", "mixte"):
        ids += [int(i) for i in listed_ids]
    return list(dict.fromkeys(ids))


def values_of(value: Any) -> list[str]:
    """A Zéphir value as a list of texts: a list, ``a|b`` text, a scalar or nothing."""
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v not in (None, "")]
    return [part for part in str(value).split("|") if part]


def _first(value: Any) -> str | None:
    found = values_of(value)
    return found[0] if found else None


def _number(config: Mapping[str, Any], var: str, kind: type, where: str, errors: Errors) -> Any:
    """``config[var]`` as an int or float > 0 (Zéphir gives text), or None with an error."""
    raw = _first(config.get(var))
    try:
        value = kind(raw) if raw is not None else None
    except ValueError:
        value = None
    if value is None or value <= 0:
        form = "an integer >= 1" if kind is int else "a number > 0"
        errors.append(f"{where}: {var}: {config.get(var)!r}; expected {form}")
        return None
    return value


def _profile(config: Mapping[str, Any]) -> str:
    """The guest profile its configuration shows: an Amon (gateway of its zones) or an AD server, else other."""
    ad = _first(config.get("activer_ad")) == "oui" or bool(config.get("ad_domain"))
    if config.get("type_amon"):
        return "amonecole" if ad else "amon"
    return "scribe" if ad else "other"


def guest_from_config(server_id: int, config: Any, plan: Iterable[Network],
                      override: Mapping[str, Any] | None = None) -> tuple[dict[str, Any] | None, Errors]:
    """A guest declaration (the inventory's form, plus ``zephir``: what its context needs) from a Zéphir server's
    configuration; ``(None, errors)`` when the configuration cannot make one. Errors start with ``Zéphir server
    <id>`` and name the Zéphir variable."""
    where = f"Zéphir server {server_id}"
    if not isinstance(config, Mapping):
        return None, [f"{where}: configuration {config!r}; expected a dict of Creole variables"]
    override = override or {}
    errors: Errors = [f"{where}: {var}: missing; expected Hâpy's VM model variables (activer_modele_vm: oui)"
                      for var in REQUIRED_VARIABLES if config.get(var) in (None, "")]
    name = str(override.get("name") or _first(config.get("nom_machine"))
               or str(_first(config.get("nom_domaine_machine")) or "").split(".", maxsplit=1)[0]).lower()
    if not HOST_RE.match(name):
        errors.append(f"{where}: nom_machine: {name!r}; expected a lower-case host name (or "
                      f"hapy_deployment.guests[{server_id}].name)")
    image = override.get("image") or _first(config.get("vm_app"))
    if image is not None:
        errors += [f"{where}: vm_app: {e}" for e in one_name_errors(image, "image")]
    release = _first(config.get("eole_release")) or ""
    if not RELEASE_RE.match(release):
        errors.append(f"{where}: eole_release: {config.get('eole_release')!r}; expected an EOLE release like 2.9.0")
    cpu = _number(config, "vm_cpu", float, where, errors) if config.get("vm_cpu") not in (None, "") else None
    vcpu = _number(config, "vm_vcpu", int, where, errors) if config.get("vm_vcpu") not in (None, "") else None
    memory = _number(config, "vm_memory", int, where, errors) if config.get("vm_memory") not in (None, "") else None
    disk = _number(config, "vm_disk_size", int, where, errors) if config.get("vm_disk_size") not in (None, "") \
        else None
    count = _number(config, "nombre_interfaces", int, where, errors) if config.get("nombre_interfaces") \
        not in (None, "") else None
    nets = plan_by_name(plan)
    by_vnet = {net["vnet_name"]: net for net in nets.values()}
    nics: list[dict[str, Any]] = []
    netmasks: list[str] = []
    for n in range(count or 0):
        vnet = _first(config.get(f"vm_vnet_name{n}"))
        net = by_vnet.get(str(vnet)) or nets.get(str(vnet))
        if net is None:
            errors.append(f"{where}: vm_vnet_name{n}: {vnet!r} is not a network of the school; expected one of "
                          f"{', '.join(by_vnet)}")
        ip = _first(config.get(f"adresse_ip_eth{n}"))
        if ip4(ip) is None:
            errors.append(f"{where}: adresse_ip_eth{n}: {config.get(f'adresse_ip_eth{n}')!r}; expected an IPv4 address")
        netmask = _first(config.get(f"adresse_netmask_eth{n}"))
        if net is not None and netmask is not None and netmask != net["netmask"]:
            errors.append(f"{where}: adresse_netmask_eth{n}: {netmask!r}; expected {net['netmask']} (network "
                          f"{net['name']} is {net['cidr']})")
        if net is not None:
            nics.append({"network": net["name"], "ip": ip})
            netmasks.append(net["netmask"])
    gateway = _first(config.get("adresse_ip_gw"))
    if gateway is not None and ip4(gateway) is None:
        errors.append(f"{where}: adresse_ip_gw: {gateway!r}; expected an IPv4 address")
    dns = values_of(config.get("adresse_ip_dns"))
    errors += [f"{where}: adresse_ip_dns: {d!r}; expected IPv4 addresses" for d in dns if ip4(d) is None]
    proxy = None
    if config.get("proxy_client_adresse") and _first(config.get("activer_proxy_client")) != "non":
        port = _first(config.get("proxy_client_port")) or "3128"
        if not port.isdigit() or not 0 < int(port) < 65536:
            errors.append(f"{where}: proxy_client_port: {port!r}; expected a TCP port")
        proxy = f"http://{_first(config['proxy_client_adresse'])}:{port}"
    labels = override.get("labels", [])
    if not isinstance(labels, list) or not all(is_text(label) for label in labels):
        errors.append(f"hapy_deployment.guests[{server_id}].labels: {labels!r}; expected a list of labels")
    if errors:
        return None, errors
    profile = _profile(config)
    guest = {
        "name": name, "profile": profile, "cpu": cpu, "vcpu": vcpu, "memory": memory, "image": image,
        "nics": nics, "zephir_id": int(server_id), "eole_release": release, "labels": list(labels),
        "zephir": {"server_id": int(server_id), "index": int(_first(config.get("vm_index")) or 0),
                   "netmasks": netmasks, "gateway": gateway, "dns": dns, "proxy": proxy,
                   "active_directory": profile in SAMBA_PROFILES},
    }
    if disk is not None:
        guest["disk"] = disk * 1024  # Hâpy's vm_disk_size is in GB, the inventory's disk in MiB
    return guest, []


def zephir_guests(configs: Mapping[int, Any], deployment: Mapping[str, Any], plan: Iterable[Network],
                  declared: Iterable[Mapping[str, Any]] = ()) -> tuple[list[dict[str, Any]], Errors]:
    """The guests of the fetched configurations (``{server id: config}``, in deployment order), sorted as Hâpy
    sorted them, and every error: per configuration, then against the inventory's own guests (unique names,
    addresses inside their network's OpenNebula range and free, one guest per Zéphir id)."""
    plan = list(plan)
    overrides = {int(k): v for k, v in (deployment.get("guests") or {}).items()}
    guests: list[dict[str, Any]] = []
    errors: Errors = []
    for server_id, config in configs.items():
        guest, problems = guest_from_config(server_id, config, plan, overrides.get(int(server_id)))
        errors += problems
        if guest is not None:
            guests.append(guest)
    guests.sort(key=lambda g: (g["zephir"]["index"], g["zephir"]["server_id"]))
    declared = [dict(g) for g in declared]
    for i, guest in enumerate(declared):
        if guest.get("zephir_id") in {g["zephir_id"] for g in guests}:
            errors.append(f"hapy_guests[{i}].zephir_id: {guest['zephir_id']} is also deployed from Zéphir "
                          "(hapy_deployment); expected one guest per Zéphir server")
    if errors:
        return [], errors
    shapes = [{k: v for k, v in g.items() if k not in ("zephir", "eole_release")} for g in guests]
    for message in validate_guests(declared + shapes, plan):
        errors.append(_zephir_path(message, len(declared), guests))
    return ([], errors) if errors else (guests, [])


def _zephir_path(message: str, declared: int, guests: list[dict[str, Any]]) -> str:
    """An error of :func:`validate_guests` on the combined list, in Zéphir's terms for a Zéphir guest."""
    def server(match: re.Match[str]) -> str:
        index = int(match.group(1))
        return match.group(0) if index < declared else f"Zéphir server {guests[index - declared]['zephir_id']}"

    message = re.sub(r"hapy_guests\[(\d+)\]", server, message)
    message = re.sub(r"(Zéphir server \d+)\.nics\[(\d+)\]\.network", r"\1: vm_vnet_name\2", message)
    message = re.sub(r"(Zéphir server \d+)\.nics\[(\d+)\](\.ip)?", r"\1: adresse_ip_eth\2", message)
    return re.sub(r"(Zéphir server \d+)\.(\w+)", r"\1: \2", message)


def zephir_nics(guest: Mapping[str, Any], nets: Mapping[str, Network]) -> list[dict[str, str]]:
    """The NICs Hâpy gave a Zéphir guest: the first carries its gateway and DNS, the others ``METHOD=skip`` (left
    to EOLE's ``instance``)."""
    facts = guest["zephir"]
    nics = []
    for index, nic in enumerate(guest["nics"]):
        vector = {"NETWORK": nets[nic["network"]]["vnet_name"], "IP": nic["ip"], "MODEL": "virtio"}
        if index == 0:
            vector.update({"GATEWAY": facts["gateway"], "DNS": " ".join(facts["dns"])} if facts["gateway"] else {})
        else:
            vector["METHOD"] = "skip"
        nics.append(vector)
    return nics


def zephir_context(guest: Mapping[str, Any]) -> dict[str, str]:
    """The context keys Hâpy gave a Zéphir guest (those of no boot stage): addresses per interface, first
    interface's DNS and gateway, Zéphir id, VM name and id, proxy."""
    facts = guest["zephir"]
    context: dict[str, str] = {}
    for index, nic in enumerate(guest["nics"]):
        context[f"IP_ETH{index}"] = str(nic["ip"])
        context[f"NETMASK_ETH{index}"] = str(facts["netmasks"][index])
    if facts["dns"]:
        context["DNS_ETH0"] = " ".join(facts["dns"])
    if facts["gateway"]:
        context["GW_ETH0"] = str(facts["gateway"])
    context.update(ZEPHIR_ID=str(guest["zephir_id"]), VM_NAME=str(guest["name"]), VM_ID="$VMID")
    if facts["proxy"]:
        context["PROXY"] = facts["proxy"]
    context["GROW_ROOTFS"] = "NO"
    return context


def is_zephir_guest(guest: Mapping[str, Any]) -> bool:
    """Whether the guest was declared by Zéphir (its config.eol lives there)."""
    return isinstance(guest.get("zephir"), Mapping)
