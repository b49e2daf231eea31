#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Declarative OpenNebula VDC (virtual data center)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: one_vdc
short_description: Manage an OpenNebula VDC, its groups and the clusters, hosts, datastores and networks it offers
description:
  - Declarative, name-keyed management of an OpenNebula virtual data center (C(one.vdc.*) XML-RPC methods), the
    unit that gives a school's group(s) the site's resources.
  - Each declared list (O(groups), O(clusters), O(hosts), O(datastores), O(vnets)) is the exact membership of the
    VDC in the local zone; omitted lists are left alone. C(ALL) stands for every resource of that kind in the zone.
  - A second run with the same arguments makes no write call. Check mode predicts the changes; diff mode shows them.
version_added: 0.1.0
author: eole.hapy contributors (!UNKNOWN)
options:
  name:
    description: Name of the VDC.
    type: str
    required: true
  state:
    description: C(present) creates or updates the VDC, C(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  groups:
    description: Names (or ids) of the groups of the VDC, exactly.
    type: list
    elements: str
  clusters:
    description: Names (or ids) of the clusters the VDC offers, exactly; C([ALL]) for every cluster of the zone.
    type: list
    elements: str
  hosts:
    description: Names (or ids) of the hosts the VDC offers, exactly; C([ALL]) for every host of the zone.
    type: list
    elements: str
  datastores:
    description: Names (or ids) of the datastores the VDC offers, exactly; C([ALL]) for every datastore of the zone.
    type: list
    elements: str
  vnets:
    description: Names (or ids) of the virtual networks the VDC offers, exactly; C([ALL]) for every network of the zone.
    type: list
    elements: str
  zone:
    description: Id of the zone of the resources (the local zone in a single-zone installation).
    type: int
    default: 0
  attributes:
    description: Template attributes of the VDC, e.g. C(DESCRIPTION). Only declared attributes are compared.
    type: dict
extends_documentation_fragment:
  - eole.hapy.one_connection
notes:
  - Runs on the host that reaches the OpenNebula XML-RPC endpoint (usually the controller); needs C(pyone).
  - A resource is usually offered through its cluster; list hosts, datastores or networks for finer offers.
seealso:
  - module: eole.hapy.one_group
  - module: eole.hapy.one_cluster
"""

EXAMPLES = r"""
- name: The VDC of a school's site, offering its cluster to its group
  eole.hapy.one_vdc:
    name: vdc-9740001a
    groups: [etb_9740001a]
    clusters: [hapy-9740001a]
    attributes:
      DESCRIPTION: Lycée Leconte de Lisle
  delegate_to: localhost

- name: Offer only two networks of the site, and no whole cluster
  eole.hapy.one_vdc:
    name: vdc-9740001a
    clusters: []
    vnets: [CR_pedago, CR_admin]
  delegate_to: localhost
"""

RETURN = r"""
vdc:
  description: The VDC after the task (empty when absent). In check mode, the declared state.
  returned: always
  type: dict
  contains:
    id:
      description: OpenNebula id of the VDC.
      type: int
      sample: 100
    name:
      description: Name of the VDC.
      type: str
      sample: vdc-9740001a
    groups:
      description: Names of the VDC's groups.
      type: list
      elements: str
      sample: [etb_9740001a]
    clusters:
      description: Names of the clusters offered in O(zone) (C(ALL) for every one).
      type: list
      elements: str
      sample: [hapy-9740001a]
    hosts:
      description: Names of the hosts offered in O(zone).
      type: list
      elements: str
      sample: []
    datastores:
      description: Names of the datastores offered in O(zone).
      type: list
      elements: str
      sample: []
    vnets:
      description: Names of the virtual networks offered in O(zone).
      type: list
      elements: str
      sample: []
    template:
      description: The declared template attributes with their current values.
      type: dict
      sample: {DESCRIPTION: Lycée Leconte de Lisle}
changes:
  description: The keys of the declaration that differed (C(groups), C(clusters), ..., C(template)).
  returned: when changed and the VDC existed
  type: list
  elements: str
  sample: [clusters]
api_calls:
  description: XML-RPC calls the task made, in total and writes only.
  returned: always
  type: dict
  sample: {total: 3, writes: 0}
"""

from typing import Any

from ansible_collections.eole.hapy.plugins.module_utils import one_template
from ansible_collections.eole.hapy.plugins.module_utils.one_module import (
    KINDS,
    OneObjectModule,
    id_list,
    sync_ids,
    update_template,
)

ALL = -10  # "every resource of the zone" in a VDC
#: option -> (kind api, element of the VDC document, element of one item, id tag, method suffix)
RESOURCES = {
    "clusters": ("cluster", "CLUSTERS", "CLUSTER", "CLUSTER_ID", "cluster"),
    "hosts": ("host", "HOSTS", "HOST", "HOST_ID", "host"),
    "datastores": ("datastore", "DATASTORES", "DATASTORE", "DATASTORE_ID", "datastore"),
    "vnets": ("vn", "VNETS", "VNET", "VNET_ID", "vnet"),
}


class VdcModule(OneObjectModule):
    kind = KINDS["vdc"]
    fact_name = "vdc"
    argument_spec = {
        "groups": {"type": "list", "elements": "str"},
        **{option: {"type": "list", "elements": "str"} for option in RESOURCES},
        "zone": {"type": "int", "default": 0},
        "attributes": {"type": "dict"},
    }

    def validate(self) -> None:
        if self.params["state"] == "present":
            one_template.normalize(self.params["attributes"], "attributes")

    # ------------------------------------------------------------------ views
    def wanted_ids(self, option: str) -> list[int]:
        """Ids of a declared list (groups or a resource kind), ALL as -10; fails naming the option."""
        api = RESOURCES[option][0] if option in RESOURCES else "group"
        names = self.params[option] or []
        ids = {ALL for name in names if option in RESOURCES and str(name).upper() == "ALL"}
        ids |= set(self.ids_of(api, [n for n in names if str(n).upper() != "ALL" or option not in RESOURCES], option))
        return sorted(ids)

    def names(self, option: str, ids: list[int]) -> list[str]:
        api = RESOURCES[option][0] if option in RESOURCES else "group"
        return sorted((["ALL"] if ALL in ids else []) + self.names_of(api, [i for i in ids if i != ALL]))

    def current_ids(self, obj: Any, option: str) -> list[int]:
        if option == "groups":
            return id_list(obj.GROUPS)
        _api, element, item, id_tag, _suffix = RESOURCES[option]
        entries = getattr(getattr(obj, element, None), item, None) or []
        entries = entries if isinstance(entries, list) else [entries]
        return sorted(int(getattr(e, id_tag)) for e in entries if int(e.ZONE_ID) == self.params["zone"])

    def desired(self) -> dict[str, Any]:
        view: dict[str, Any] = {"template": one_template.normalize(self.params["attributes"], "attributes")}
        for option in ("groups", *RESOURCES):
            if self.params[option] is not None:
                view[option] = self.names(option, self.wanted_ids(option))
        return view

    def current(self, obj: Any) -> dict[str, Any]:
        view: dict[str, Any] = {"template": one_template.from_pyone(obj.TEMPLATE)}
        for option in ("groups", *RESOURCES):
            view[option] = self.names(option, self.current_ids(obj, option))
        return view

    def facts(self, obj: Any) -> dict[str, Any]:
        current = self.current(obj)
        template = current.pop("template")
        return {"id": int(obj.ID), "name": obj.NAME, **current, "template": self.declared_template(template)}

    # ------------------------------------------------------------------ writes
    def create(self, desired: dict[str, Any]) -> int:
        template = {"NAME": self.name, **desired["template"]}
        vdc_id = int(self.call("vdc.allocate", one_template.render(template)))
        self.sync(vdc_id, None, desired)
        return vdc_id

    def apply(self, obj: Any, changes: dict[str, Any], desired: dict[str, Any]) -> None:
        vdc_id = int(obj.ID)
        if "template" in changes:
            update_template(self, vdc_id, one_template.differences(changes["template"],
                                                                   one_template.from_pyone(obj.TEMPLATE)))
        self.sync(vdc_id, obj, changes)

    def sync(self, vdc_id: int, obj: Any | None, changes: dict[str, Any]) -> None:
        """Make each declared membership exact (``obj`` None: a new, empty VDC)."""
        zone = self.params["zone"]
        if "groups" in changes:
            sync_ids(self.current_ids(obj, "groups") if obj is not None else [], self.wanted_ids("groups"),
                     lambda gid: self.call("vdc.addgroup", vdc_id, gid),
                     lambda gid: self.call("vdc.delgroup", vdc_id, gid))
        for option, (_api, _element, _item, _id_tag, suffix) in RESOURCES.items():
            if option not in changes:
                continue
            sync_ids(self.current_ids(obj, option) if obj is not None else [], self.wanted_ids(option),
                     lambda oid, s=suffix: self.call(f"vdc.add{s}", vdc_id, zone, oid),
                     lambda oid, s=suffix: self.call(f"vdc.del{s}", vdc_id, zone, oid))


def main() -> None:
    VdcModule().run()


if __name__ == "__main__":
    main()
