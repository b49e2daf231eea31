# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the eole.hapy.hapy_site_check action (the work runs on the controller, plugins/action)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: hapy_site_check
short_description: Validate a Hâpy school's inventory before anything is touched
version_added: "0.1.0"
author: eole.hapy contributors (!UNKNOWN)
description:
  - Runs on the controller (action plugin), changes nothing, needs no connection to the host.
  - Validates C(hapy_school), C(hapy_mode), C(hapy_networks) and C(hapy_academy.networks), the computed network plan
    (VLAN ids, overlapping subnets, gateways, OpenNebula ranges, DHCP pools), C(hapy_guests) (profiles, sizes, NICs
    on known networks, addresses inside their network and range, outside reserved addresses, unique; each EOLE guest's
    release ships its profile, an Amon's ERA model is one of its release's or the site's), the generator's settings
    of C(hapy_school) and C(hapy_academy) (C(eole_release), C(era_models), C(admin_networks), C(proxy)...),
    C(hapy_backup), C(hapy_san) (required in cluster mode), C(hapy_one), C(hapy_db) and C(hapy_ha) (HA frontends, the
    floating address and at least 3 servers in one subnet, 4 distinct addresses outside what the plan hands out).
  - Fails with every error at once, one per line, each naming the field path and the expected form.
  - Warns (without failing) about an even number of HA servers, which survives no more failures than one fewer.
  - The same checks are available as the filter P(eole.hapy.hapy_validate_site#filter).
  - Registered as C(hapy_site) (as C(playbooks/site.yml) does), its result is where the cloud-level roles read the
    site facts derived from the inventory (plan, guests, API URL, cluster), computed once per run.
options:
  site:
    description:
      - The C(hapy_*) variables to check. By default those of the current host (inventory, group and extra vars).
    type: dict
attributes:
  check_mode:
    description: Runs in check mode as in a normal run (it never changes anything).
    support: full
  diff_mode:
    description: No diff (nothing is ever changed).
    support: none
notes:
  - See C(docs/inventory.md) for the inventory model.
"""

EXAMPLES = r"""
- name: Stop here when the school's inventory is wrong
  eole.hapy.hapy_site_check:
  register: hapy_site

- name: Bridges of the plan
  ansible.builtin.debug:
    msg: "{{ hapy_site.plan | map(attribute='bridge') }}"
"""

RETURN = r"""
errors:
  description: The validation errors (empty on success).
  returned: always
  type: list
  elements: str
plan:
  description: The network plan (see the P(eole.hapy.hapy_network_plan#filter) filter).
  returned: success
  type: list
  elements: dict
guests:
  description: The guests with every NIC address fixed (see P(eole.hapy.hapy_resolve_guests#filter)).
  returned: success
  type: list
  elements: dict
api_url:
  description:
    - The school's OpenNebula XML-RPC API, C(hapy_one.api_url), else C(hapy_one_api_url), else port 2633 of the
      floating address of an HA school (C(hapy_ha.vip), held by the zone's leader), else of the host's
      C(ansible_host).
  returned: success
  type: str
  sample: http://10.1.1.250:2633/RPC2
cluster:
  description: The school's OpenNebula cluster, C(hapy-<uai>).
  returned: success
  type: str
  sample: hapy-9740001a
"""
