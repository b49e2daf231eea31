"""Zéphir's view of the demo school (inventories/demo, UAI 9749999Z, index 99): two servers with Hâpy's VM model
variables, as ``serveurs.get_config`` gives them (flat, text values, multi-valued ones joined by ``|``).

* 4241, an Amon 2.9.0 of the school whose ``activer_modele_vm`` is ``oui``: ``dp_mode`` ``site`` finds it;
* 4242, a Scribe 2.8.1 (AD) that only a list names (``activer_modele_vm`` ``non``): ``liste manuelle``/``mixte``.

Values are written for the demo's network plan (wan 10.99.0.0/24 range .2-.9, admin 10.99.1.0/24, pedago
10.99.2.0/24 ranges .1-.49). ``bareos_dir_password`` stands for the secrets a real configuration holds: none may
reach OpenNebula.
"""

from __future__ import annotations

import copy
from typing import Any

RNE = "9749999Z"
ZEPHIR_USER = "hapy"
ZEPHIR_PASSWORD = "zephir-secret-pw"
CONFIG_SECRET = "bareos-in-zephir-only"

AMON: dict[str, Any] = {
    "nom_machine": "amon", "nom_domaine_machine": "amon.9749999z.ac-reunion.lan", "numero_etab": "9749999z",
    "eole_release": "2.9.0", "activer_modele_vm": "oui", "vm_app": "eole-2.9-amon", "vm_cpu": "0.5",
    "vm_vcpu": "1", "vm_memory": "1024", "vm_disk_size": "10", "vm_index": "1", "nombre_interfaces": "3",
    "vm_vnet_name0": "CR_wan", "vm_vnet_name1": "CR_admin", "vm_vnet_name2": "CR_pedago",
    "adresse_ip_eth0": "10.99.0.2", "adresse_netmask_eth0": "255.255.255.0",
    "adresse_ip_eth1": "10.99.1.1", "adresse_netmask_eth1": "255.255.255.0",
    "adresse_ip_eth2": "10.99.2.1", "adresse_netmask_eth2": "255.255.255.0",
    "adresse_ip_gw": "10.99.0.1", "adresse_ip_dns": "10.99.0.1|9.9.9.9", "type_amon": "3zones",
    "activer_proxy_client": "non", "bareos_dir_password": CONFIG_SECRET,
}
SCRIBE: dict[str, Any] = {
    "nom_machine": "scribe", "nom_domaine_machine": "scribe.9749999z.ac-reunion.lan", "numero_etab": "9749999z",
    "eole_release": "2.8.1", "activer_modele_vm": "non", "vm_app": "eole-2.8.1-scribe", "vm_cpu": "0.5",
    "vm_vcpu": "2", "vm_memory": "2048", "vm_disk_size": "20", "vm_index": "2", "nombre_interfaces": "1",
    "vm_vnet_name0": "CR_pedago", "adresse_ip_eth0": "10.99.2.10", "adresse_netmask_eth0": "255.255.255.0",
    "adresse_ip_gw": "10.99.2.1", "adresse_ip_dns": "10.99.2.1", "activer_proxy_client": "oui",
    "proxy_client_adresse": "10.99.2.1", "proxy_client_port": "3128", "activer_ad": "oui",
    "ad_domain": "etb9749999z.lan", "bareos_dir_password": CONFIG_SECRET,
}


def servers() -> dict[int, dict[str, Any]]:
    """A fresh copy of the demo's Zéphir servers (for tests.zephir.ZephirServer)."""
    return {4241: {"rne": RNE, "config": copy.deepcopy(AMON)}, 4242: {"rne": RNE, "config": copy.deepcopy(SCRIBE)}}
