# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inventory plugin eole.hapy.academy: a whole academy from one compact file (documented below)."""

from __future__ import annotations

DOCUMENTATION = r"""
name: academy
short_description: A whole academy of Hâpy schools from one compact academy file
version_added: "0.1.0"
author: eole.hapy contributors (!UNKNOWN)
description:
  - Reads one academy file (YAML, C(.yml) or C(.yaml), whose C(plugin) is C(eole.hapy.academy)) listing the schools
    of an academy, one short entry per school (UAI, name, index, mode, frontend and node addresses, overrides), and
    builds the inventory a hand-written academy has (see C(docs/inventory.md)) - one group C(etb_<uai>) per school,
    the functional groups C(hapy_frontends) and C(hapy_nodes), and per school C(hapy_school), C(hapy_mode),
    C(hapy_one_api_url) and the entry's own C(vars).
  - "Single mode: one host C(<host_prefix><uai>), frontend and node. Cluster mode: a frontend
    C(<host_prefix><uai>-fe) and nodes C(<host_prefix><uai>-n1), C(-n2)... Each host's C(ansible_host) is its
    address."
  - "Precedence: O(vars) are variables of the group C(all), the weakest level (C(group_vars/all) files beside the
    academy file override them); a school's keys and its C(vars) are host variables of the school's servers,
    so they override C(group_vars/) files (C(host_vars/) files still override them). Vaulted values
    (C(!vault)) may be used anywhere in the file or in C(group_vars/all) beside it; they stay encrypted in the
    inventory."
  - The file is validated when it is read, before any play - its own form (entries, keys, addresses, a UAI or a
    host name used twice), then every school's inventory with the site checks of C(playbooks/site.yml)
    (P(eole.hapy.hapy_site_check#module) and P(eole.hapy.hapy_validate_academy#filter)) - one error per line, each
    naming the school (C(schools[N] <UAI>)) and the field. Variables are templated for the check with the
    C(group_vars/) beside the file; vaulted values are not decrypted (secrets are only checked to be given), and a
    variable that cannot be templated before the play (it uses facts or extra vars) is left to the play's checks.
options:
  plugin:
    description: The name of this plugin, for the C(auto) inventory plugin.
    required: true
    type: str
    choices: [eole.hapy.academy]
  academy:
    description: The academy id (C(hapy_school.academy) of every school), e.g. C(ac-reunion).
    required: true
    type: str
  domain:
    description: The default C(hapy_school.domain) of the schools (a school's C(domain) overrides it).
    type: str
    default: lan
  host_prefix:
    description: Prefix of the generated host names.
    type: str
    default: hapy-
  vars:
    description:
      - Academy-wide variables (C(hapy_academy), C(hapy_one), C(hapy_db), C(hapy_backup), C(hapy_guests)...), set on
        the group C(all).
    type: dict
    default: {}
  validate:
    description: Check the schools' inventories when the file is read (the play checks them again in any case).
    type: bool
    default: true
  schools:
    description:
      - "One entry per school. Keys: C(uai) (required, e.g. C(9740001A)), C(name) (required), C(index) or C(block)
        (its address block, see C(docs/inventory.md)), C(mode) (C(single), the default, or C(cluster)),
        C(frontend) (required: the frontend's address, or C({address, name, vars})), C(nodes) (cluster mode: a list
        of node addresses or C({address, name, vars})), C(domain), C(workgroup), C(ad_domain), C(eole_release)
        (the school's EOLE release, a text like C(2.9.0)), C(api_url) (default C(http://<frontend address>:2633/RPC2),
        becomes C(hapy_one_api_url)), C(vars) (the school's other variables: C(hapy_networks), C(hapy_guests),
        C(hapy_san), any academy default)."
    type: list
    elements: dict
    required: true
notes:
  - In AWX, use the academy file as the source file of an inventory source I(Sourced from a project); the execution
    environment must hold C(eole.hapy) (see C(awx/README.md)), and a vault credential is needed only when the play
    runs (the file is read and checked without decrypting anything).
  - The C(auto) inventory plugin (enabled by default) dispatches a file whose C(plugin) key is C(eole.hapy.academy);
    with an explicit C(enable_plugins) list, add C(eole.hapy.academy) to it.
"""

EXAMPLES = r"""
# inventories/<academy>/academy.yml, used as: ansible-playbook -i inventories/<academy> site.yml --limit etb_9740001a
plugin: eole.hapy.academy
academy: ac-reunion
vars:
  hapy_academy: {name: ac-reunion, base: 10.0.0.0/8, dns: [172.16.0.53]}
  hapy_one: {version: "6.10", api_url: "{{ hapy_one_api_url }}", oneadmin_password: "{{ vault_oneadmin }}"}
schools:
  - {uai: 9740001A, name: Lycée Leconte de Lisle, index: 1, frontend: 10.1.1.250}
  - uai: 9740002B
    name: Lycée Roland Garros
    index: 2
    mode: cluster
    frontend: 10.2.1.250
    nodes: [10.2.1.251, 10.2.1.252]
    vars:
      hapy_san:
        portal: 10.2.1.254:3260
        target_iqn: iqn.2026-11.fr.ac-reunion:san.9740002b
        lun_wwid: 3600140502a1b2c3d4e5f607182930a4b
        chap_user: hapy-9740002b
        chap_secret: "{{ vault_chap_9740002b }}"
  - uai: 9740007G
    name: Collège Juliette Dodu
    index: 7
    frontend: {address: 10.7.1.250, vars: {ansible_user: deploy}}
    vars:
      hapy_networks: [{name: pedago, vlan_id: 130}]
"""

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.inventory.group import Group
from ansible.inventory.host import Host
from ansible.parsing.vault import EncryptedString
from ansible.plugins.inventory import BaseFileInventoryPlugin
from ansible.template import Templar, is_trusted_as_template, trust_as_template
from ansible.utils.display import Display
from ansible.utils.vars import combine_vars
from ansible.vars.plugins import get_vars_from_inventory_sources
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.academy import validate_academy
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.academy_file import (
    FRONTEND_GROUP,
    NODE_GROUP,
    School,
    expand_schools,
)
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.validation import SITE_VARS, validate_site

display = Display()

VAULTED = "<vaulted>"
"""What a vaulted value reads as during the parse-time checks (they only check that a secret is given)."""


def _without_secrets(value: Any) -> Any:
    """``value`` with every vaulted string replaced by :data:`VAULTED` (nothing is decrypted)."""
    if isinstance(value, EncryptedString):
        return VAULTED
    if isinstance(value, Mapping):
        return {key: _without_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_secrets(item) for item in value]
    return value


def _as_written(value: Any) -> Any:
    """A value the plugin computed (a default mode, an API URL from a checked address) as if written in the file:
    trusted like the file's own strings, so the inventory reads the same as a hand-written one."""
    if isinstance(value, str) and not is_trusted_as_template(value):
        return trust_as_template(value)
    return value


class InventoryModule(BaseFileInventoryPlugin):
    """Schools, their hosts and variables from an academy file; every school checked like a hand-written one."""

    NAME = "eole.hapy.academy"

    def verify_file(self, path: str) -> bool:
        return super().verify_file(path) and path.endswith((".yml", ".yaml"))

    def parse(self, inventory: Any, loader: Any, path: str, cache: bool = True) -> None:
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        errors, schools = expand_schools(self.get_option("schools"), self.get_option("academy"),
                                         self.get_option("domain"), self.get_option("host_prefix"))
        if errors:
            raise AnsibleParserError(self._message(path, errors))
        self._populate(schools)
        if self.get_option("validate"):
            errors = self._site_errors(path, schools)
            if errors:
                raise AnsibleParserError(self._message(path, errors))

    @staticmethod
    def _message(path: str, errors: list[str]) -> str:
        return f"{len(errors)} error(s) in the academy file {path}, nothing was changed:\n" + "\n".join(errors)

    def _populate(self, schools: list[School]) -> None:
        inventory = self.inventory
        for name, value in self.get_option("vars").items():
            inventory.set_variable("all", name, value)
        for school in schools:
            inventory.add_group(school.group)
        for group in (FRONTEND_GROUP, NODE_GROUP):
            inventory.add_group(group)
        for school in schools:
            for host in school.hosts:
                inventory.add_host(host.name, group=school.group)
                for flag, group in ((host.frontend, FRONTEND_GROUP), (host.node, NODE_GROUP)):
                    if flag:
                        inventory.add_child(group, host.name)
                for name, value in {**school.vars, **host.vars}.items():
                    inventory.set_variable(host.name, name, _as_written(value))

    # ------------------------------------------------------------------------------------ checks at parse time
    def _effective_vars(self, path: str, host: Host) -> dict[str, Any]:
        """A host's variables as a play sees them (inventory vars and the ``group_vars/``, ``host_vars/`` beside
        the file, in Ansible's precedence), without extra vars or facts."""
        all_group: Group = self.inventory.groups["all"]
        groups = sorted((g for g in host.get_groups() if g.name != "all"), key=lambda g: (g.depth, g.priority, g.name))
        layers = [all_group.get_vars(), get_vars_from_inventory_sources(self.loader, [path], [all_group], "all")]
        layers += [group.get_vars() for group in groups]
        layers += [get_vars_from_inventory_sources(self.loader, [path], groups, "all"), host.get_vars(),
                   get_vars_from_inventory_sources(self.loader, [path], [host], "all")]
        merged: dict[str, Any] = {}
        for layer in layers:
            merged = combine_vars(merged, layer)
        return merged

    def _site(self, path: str, host: Host) -> tuple[dict[str, Any], list[str]]:
        """The ``hapy_*`` variables of a school's frontend, templated with secrets left encrypted; and the
        variables that could not be templated before the play (left to its checks)."""
        variables = _without_secrets(self._effective_vars(path, host))
        templar = Templar(loader=self.loader, variables=variables)
        site: dict[str, Any] = {}
        unresolved: list[str] = []
        for key in SITE_VARS:
            if key not in variables:
                continue
            try:
                site[key] = templar.template(variables[key])
            except AnsibleError as exc:
                unresolved.append(key)
                display.vvv(f"eole.hapy.academy: {host.name}: {key} is checked by the play only ({exc})")
        return site, unresolved

    def _site_errors(self, path: str, schools: list[School]) -> list[str]:
        """Each school's errors (``validation.validate_site``), then the schools against each other
        (``academy.validate_academy``), each naming the school."""
        errors: list[str] = []
        sites: dict[str, dict[str, Any]] = {}
        for school in schools:
            frontend = next(h for h in school.hosts if h.frontend)
            site, unresolved = self._site(path, self.inventory.get_host(frontend.name))
            errors += [f"{school.label}: {error}" for error in validate_site(site)
                       if not error.startswith(tuple(unresolved))]
            sites[school.group] = site
        labels = {school.group: school.label for school in schools}
        frontends = {school.group: [h.address for h in school.hosts if h.frontend] for school in schools}
        for error in validate_academy(sites, frontends):
            group, _sep, detail = error.partition(": ")
            errors.append(f"{labels.get(group, group)}: {detail}")
        return errors
