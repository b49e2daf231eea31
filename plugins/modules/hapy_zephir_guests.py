# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the eole.hapy.hapy_zephir_guests action (the work runs on the controller, plugins/action)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: hapy_zephir_guests
short_description: A school's guests as its Zéphir declares them (Hâpy's automatic deployment)
version_added: "0.1.0"
author: eole.hapy contributors (!UNKNOWN)
description:
  - Runs on the controller (action plugin), reads Zéphir and changes nothing anywhere.
  - With O(deployment) C(mode=zephir), asks the academy's Zéphir (XML-RPC, C(https://<address>:7080/), basic
    authentication) which servers to deploy and their configuration, as Hâpy's C(deploy-auto) did
    (C(eole-hapy-deployment)). O(deployment) C(dp_mode) C(site) takes the servers of each school number
    (C(rne), default the school's UAI) whose C(activer_modele_vm) is C(oui) (C(serveurs.groupe_serveur));
    C(liste manuelle) the ids of C(server_ids); C(mixte) both. Each configuration comes from
    C(serveurs.get_config).
  - Makes one guest per server, in the inventory's form, from Hâpy's VM model variables (C(vm_app) the image,
    C(vm_cpu), C(vm_vcpu), C(vm_memory) MB, C(vm_disk_size) GB, C(vm_vnet_name<n>) the network of C(eth<n>),
    C(vm_index) the order, C(eole_release)) and the configuration's network (C(adresse_ip_eth<n>),
    C(adresse_netmask_eth<n>), C(adresse_ip_gw), C(adresse_ip_dns), C(proxy_client_adresse)/C(proxy_client_port)).
  - Checks them before anything is written, with the inventory's own guests (O(guests)) - every variable present
    and of its form, each network one of the school's (C(CR_<network>) or the network's name), each address
    inside its network's OpenNebula range, free and unique, names unique, one guest per Zéphir server - and fails
    with every error at once, each naming the Zéphir server and variable.
  - With C(mode=generated) (the default) or no O(deployment), returns no guest and reads nothing.
options:
  deployment:
    description:
      - C(hapy_deployment) - C(mode) (C(generated) or C(zephir)), C(dp_mode) (C(site), C(liste manuelle),
        C(mixte)), C(server_ids) (list of Zéphir server ids), C(rne) (school numbers, default the school's UAI),
        C(guests) (per server id, C(name), C(image), C(labels) overriding Zéphir's).
    type: dict
  zephir:
    description:
      - C(hapy_academy.zephir) - C(address), C(user), C(password) (vaulted), optional C(api_url) (default
        C(https://<address>:7080/)), C(ca_file) (Zéphir's CA), C(validate_certs) (default true), C(timeout)
        (seconds, default 360).
    type: dict
  school:
    description: C(hapy_school).
    type: dict
    required: true
  plan:
    description: The school's network plan (P(eole.hapy.hapy_network_plan#filter)).
    type: list
    elements: dict
    required: true
  guests:
    description: The inventory's own guests (C(hapy_guests)), checked with the Zéphir ones.
    type: list
    elements: dict
attributes:
  check_mode:
    description: Runs in check mode as in a normal run (it only reads the academy's Zéphir).
    support: full
  diff_mode:
    description: No diff (nothing is ever changed).
    support: none
notes:
  - The Zéphir password is never part of the result nor of an error message.
  - A Zéphir guest's config.eol stays on Zéphir - the guest downloads it when it registers at its first boot
    (P(eole.hapy.hapy_guest_context#filter)).
seealso:
  - name: Hâpy's deploy-auto (EOLE's CI copy)
    description: The automatic deployment this re-creates.
    link: https://github.com/Joguig/eole/blob/master/output/ggrandgerard/deploy-auto.py
"""

EXAMPLES = r"""
- name: The guests the school's Zéphir declares
  eole.hapy.hapy_zephir_guests:
    deployment: "{{ hapy_deployment }}"
    zephir: "{{ hapy_academy.zephir }}"
    school: "{{ hapy_school }}"
    plan: "{{ hapy_school | eole.hapy.hapy_network_plan(hapy_networks | default([]), hapy_academy) }}"
    guests: "{{ hapy_guests | default([]) }}"
  register: zephir_guests
"""

RETURN = r"""
guests:
  description:
    - The Zéphir guests in the inventory's form (C(name), C(profile), C(cpu), C(vcpu), C(memory), C(disk) MiB,
      C(image), C(nics), C(zephir_id), C(eole_release), C(labels)), sorted by C(vm_index) then server id, each with
      C(zephir) - its server id, index, netmasks, gateway, DNS and proxy - for its context.
  returned: always
  type: list
  elements: dict
server_ids:
  description: The servers read, in deployment order.
  returned: always
  type: list
  elements: int
errors:
  description: The errors (empty on success).
  returned: always
  type: list
  elements: str
"""
