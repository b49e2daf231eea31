#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Declarative OpenNebula cluster."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: one_cluster
short_description: Manage an OpenNebula cluster and which hosts, virtual networks and datastores belong to it
description:
  - Declarative, name-keyed management of an OpenNebula cluster (C(one.cluster.*) XML-RPC methods).
  - Each declared membership list (O(hosts), O(vnets), O(datastores)) is made exact; a list that is not declared
    is left alone. A host removed from a cluster goes back to OpenNebula's C(default) cluster, as OpenNebula does.
  - A second run with the same arguments makes no write call. Check mode predicts the changes; diff mode shows them.
version_added: 0.1.0
author: eole.hapy contributors (!UNKNOWN)
options:
  name:
    description: Name of the cluster.
    type: str
  state:
    description:
      - C(present) creates or updates the cluster, C(absent) deletes it.
      - OpenNebula refuses to delete a cluster that still has members; declare empty lists first.
    type: str
    choices: [present, absent]
    default: present
  hosts:
    description: Names (or ids) of the hosts the cluster must hold, exactly. The hosts must exist.
    type: list
    elements: str
  vnets:
    description: Names (or ids) of the virtual networks the cluster must hold, exactly.
    type: list
    elements: str
  datastores:
    description: Names (or ids) of the datastores the cluster must hold, exactly.
    type: list
    elements: str
  attributes:
    description:
      - Template attributes of the cluster, e.g. C(RESERVED_CPU), C(RESERVED_MEM), C(DESCRIPTION). Only declared
        attributes are compared and merged.
    type: dict
extends_documentation_fragment:
  - eole.hapy.one_objects
  - eole.hapy.one_connection
notes:
  - Runs on the host that reaches the OpenNebula XML-RPC endpoint (usually the controller); needs C(pyone).
seealso:
  - module: eole.hapy.one_host
  - module: eole.hapy.one_vnet
  - module: eole.hapy.one_datastore
"""

EXAMPLES = r"""
- name: The cluster of a school, with its node and standard datastores
  eole.hapy.one_cluster:
    name: hapy-9740001a
    hosts: [hapy-9740001a]
    datastores: [system-default, images-disques, iso-images]
    attributes:
      DESCRIPTION: Lycée Leconte de Lisle
  delegate_to: localhost

- name: Only make sure the cluster exists (membership left alone)
  eole.hapy.one_cluster:
    name: hapy-9740001a
  delegate_to: localhost
"""

RETURN = r"""
cluster:
  description: The cluster after the task (empty when absent). In check mode, the declared state.
  returned: always
  type: dict
  contains:
    id:
      description: OpenNebula id of the cluster.
      type: int
      sample: 100
    name:
      description: Name of the cluster.
      type: str
      sample: hapy-9740001a
    hosts:
      description: Names of the member hosts.
      type: list
      elements: str
      sample: [hapy-9740001a]
    vnets:
      description: Names of the member virtual networks.
      type: list
      elements: str
      sample: [CR_admin, CR_pedago]
    datastores:
      description: Names of the member datastores.
      type: list
      elements: str
      sample: [system-default]
    template:
      description: The declared template attributes with their current values.
      type: dict
      sample: {DESCRIPTION: Lycée Leconte de Lisle}
changes:
  description: The keys of the declaration that differed.
  returned: when changed and the cluster existed
  type: list
  elements: str
  sample: [hosts]
api_calls:
  description: XML-RPC calls the task made, in total and writes only.
  returned: always
  type: dict
  sample: {total: 1, writes: 0}
"""

from typing import Any

from ansible_collections.eole.hapy.plugins.module_utils import one_template
from ansible_collections.eole.hapy.plugins.module_utils.one_module import (
    KINDS,
    OneObjectModule,
    id_list,
    sync_ids,
    template_with_fields,
    update_template,
)

#: membership option -> (API suffix of cluster.add*/del*, kind of the member, element of the cluster's XML)
MEMBERSHIPS = {
    "hosts": ("host", "host", "HOSTS"),
    "vnets": ("vnet", "vn", "VNETS"),
    "datastores": ("datastore", "datastore", "DATASTORES"),
}


class ClusterModule(OneObjectModule):
    kind = KINDS["cluster"]
    references = {option: api for option, (_suffix, api, _element) in MEMBERSHIPS.items()}
    fact_name = "cluster"
    batchable = True
    argument_spec = {
        "hosts": {"type": "list", "elements": "str"},
        "vnets": {"type": "list", "elements": "str"},
        "datastores": {"type": "list", "elements": "str"},
        "attributes": {"type": "dict"},
    }

    def desired(self) -> dict[str, Any]:
        view: dict[str, Any] = {"template": one_template.normalize(self.params["attributes"], "attributes")}
        for option in MEMBERSHIPS:
            if self.params[option] is not None:
                view[option] = sorted(self.params[option])
        return view

    def current(self, obj: Any) -> dict[str, Any]:
        view: dict[str, Any] = {"template": template_with_fields(obj, ())}
        for option, (_suffix, api, element) in MEMBERSHIPS.items():
            if self.params.get(option) is not None:  # member names cost one pool read per kind: only when declared
                view[option] = self.names_of(api, id_list(getattr(obj, element, None)))
        return view

    def same(self, key: str, desired: Any, current: Any) -> bool:
        if key in MEMBERSHIPS:  # members may be declared by id or by name
            api = MEMBERSHIPS[key][1]
            return sorted(self.id_of(api, m, key) for m in desired) == sorted(self.id_of(api, m, key) for m in current)
        return super().same(key, desired, current)

    def facts(self, obj: Any) -> dict[str, Any]:
        facts: dict[str, Any] = {"id": int(obj.ID), "name": obj.NAME,
                                 "template": self.declared_template(template_with_fields(obj, ()))}
        for option, (_suffix, api, element) in MEMBERSHIPS.items():
            ids = id_list(getattr(obj, element, None))
            facts[f"{option[:-1]}_ids"] = ids
            if self.params.get(option) is not None:
                facts[option] = self.names_of(api, ids)
        return facts

    def create(self, desired: dict[str, Any]) -> int:
        cluster_id = int(self.call("cluster.allocate", self.params["name"]))
        update_template(self, cluster_id, desired["template"])
        for option in MEMBERSHIPS:
            if option in desired:
                self.sync_members(cluster_id, option, [], desired[option])
        return cluster_id

    def apply(self, obj: Any, changes: dict[str, Any], desired: dict[str, Any]) -> None:
        cluster_id = int(obj.ID)
        if "template" in changes:
            current = template_with_fields(obj, ())
            update_template(self, cluster_id, one_template.differences(changes["template"], current))
        for option, (_suffix, _api, element) in MEMBERSHIPS.items():
            if option in changes:
                self.sync_members(cluster_id, option, id_list(getattr(obj, element, None)), changes[option])

    def sync_members(self, cluster_id: int, option: str, current_ids: list[int], names: list[str]) -> None:
        suffix, api, _element = MEMBERSHIPS[option]
        sync_ids(current_ids, self.ids_of(api, names, option),
                 lambda member: self.call(f"cluster.add{suffix}", cluster_id, member),
                 lambda member: self.call(f"cluster.del{suffix}", cluster_id, member))


def main() -> None:
    ClusterModule().run()


if __name__ == "__main__":
    main()
