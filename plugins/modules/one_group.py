#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Declarative OpenNebula group."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: one_group
short_description: Manage an OpenNebula group, its administrators and attributes
description:
  - Declarative, name-keyed management of an OpenNebula group (C(one.group.*) XML-RPC methods), typically the group
    of a school's site that owns its networks, images, templates and VMs.
  - The group's administrators are kept to exactly the declared users (C(one.group.addadmin)/C(deladmin)); they
    must be members of the group (see M(eole.hapy.one_user) O(eole.hapy.one_user#module:groups)).
  - Free template attributes (e.g. C(SUNSTONE) views, C(DEFAULT_IMAGE_PERSISTENT)) are merged; only the declared ones
    are compared.
  - A second run with the same arguments makes no write call. Check mode predicts the changes; diff mode shows them.
version_added: 0.1.0
author: eole.hapy contributors (!UNKNOWN)
options:
  name:
    description: Name of the group.
    type: str
    required: true
  state:
    description: C(present) creates or updates the group, C(absent) deletes it (OpenNebula refuses while it has users).
    type: str
    choices: [present, absent]
    default: present
  admins:
    description: Names (or ids) of the users administering the group, exactly. Omit to leave them alone.
    type: list
    elements: str
  attributes:
    description: Template attributes of the group. Keys are case-insensitive; only declared attributes are compared.
    type: dict
extends_documentation_fragment:
  - eole.hapy.one_connection
notes:
  - Runs on the host that reaches the OpenNebula XML-RPC endpoint (usually the controller); needs C(pyone).
  - Groups with an id below 100 (C(oneadmin), C(users)) are OpenNebula's own and cannot be deleted.
seealso:
  - module: eole.hapy.one_user
  - module: eole.hapy.one_vdc
  - module: eole.hapy.one_acl
"""

EXAMPLES = r"""
- name: The group of a school's site
  eole.hapy.one_group:
    name: etb_9740001a
    attributes:
      DESCRIPTION: Lycée Leconte de Lisle
      DEFAULT_IMAGE_PERSISTENT_NEW: "YES"
  delegate_to: localhost

- name: Its administrator (a member of the group, see one_user)
  eole.hapy.one_group:
    name: etb_9740001a
    admins: [admin-9740001a]
  delegate_to: localhost
"""

RETURN = r"""
group:
  description: The group after the task (empty when absent). In check mode, the declared state.
  returned: always
  type: dict
  contains:
    id:
      description: OpenNebula id of the group.
      type: int
      sample: 100
    name:
      description: Name of the group.
      type: str
      sample: etb_9740001a
    users:
      description: Names of the group's members.
      type: list
      elements: str
      sample: [admin-9740001a]
    admins:
      description: Names of the group's administrators.
      type: list
      elements: str
      sample: [admin-9740001a]
    template:
      description: The declared template attributes with their current values.
      type: dict
      sample: {DESCRIPTION: Lycée Leconte de Lisle}
changes:
  description: The keys of the declaration that differed (C(admins), C(template)).
  returned: when changed and the group existed
  type: list
  elements: str
  sample: [admins]
api_calls:
  description: XML-RPC calls the task made, in total and writes only.
  returned: always
  type: dict
  sample: {total: 2, writes: 0}
"""

from typing import Any

from ansible_collections.eole.hapy.plugins.module_utils import one_template
from ansible_collections.eole.hapy.plugins.module_utils.one_client import OneError
from ansible_collections.eole.hapy.plugins.module_utils.one_module import (
    KINDS,
    OneObjectModule,
    id_list,
    sync_ids,
    update_template,
)


class GroupModule(OneObjectModule):
    kind = KINDS["group"]
    fact_name = "group"
    references = {"admins": "user"}
    argument_spec = {
        "admins": {"type": "list", "elements": "str"},
        "attributes": {"type": "dict"},
    }

    def validate(self) -> None:
        if self.params["state"] == "present":
            one_template.normalize(self.params["attributes"], "attributes")

    def desired(self) -> dict[str, Any]:
        view: dict[str, Any] = {"template": one_template.normalize(self.params["attributes"], "attributes")}
        if self.params["admins"] is not None:
            view["admins"] = self.names_of("user", self.ids_of("user", self.params["admins"], "admins"))
        return view

    def current(self, obj: Any) -> dict[str, Any]:
        return {"template": one_template.from_pyone(obj.TEMPLATE), "admins": self.names_of("user", id_list(obj.ADMINS))}

    def facts(self, obj: Any) -> dict[str, Any]:
        current = self.current(obj)
        return {"id": int(obj.ID), "name": obj.NAME, "users": self.names_of("user", id_list(obj.USERS)),
                "admins": current["admins"], "template": self.declared_template(current["template"])}

    def create(self, desired: dict[str, Any]) -> int:
        self.check_members([], desired.get("admins", []))  # a new group has no member yet
        group_id = int(self.call("group.allocate", self.name))
        update_template(self, group_id, desired["template"])
        return group_id

    def apply(self, obj: Any, changes: dict[str, Any], desired: dict[str, Any]) -> None:
        group_id = int(obj.ID)
        if "admins" in changes:
            self.check_members(id_list(obj.USERS), changes["admins"])
            sync_ids(id_list(obj.ADMINS), self.ids_of("user", changes["admins"], "admins"),
                     lambda uid: self.call("group.addadmin", group_id, uid),
                     lambda uid: self.call("group.deladmin", group_id, uid))
        if "template" in changes:
            update_template(self, group_id, one_template.differences(changes["template"],
                                                                     one_template.from_pyone(obj.TEMPLATE)))

    def check_members(self, members: list[int], admins: list[str]) -> None:
        """Administrators must be members: fail, naming them, before any write."""
        outsiders = [name for name in admins if self.id_of("user", name, "admins") not in members]
        if outsiders:
            raise OneError(f"admins: {', '.join(outsiders)} not member(s) of group '{self.name}'; add the group to "
                           f"the user(s) first (eole.hapy.one_user groups)")


def main() -> None:
    GroupModule().run()


if __name__ == "__main__":
    main()
