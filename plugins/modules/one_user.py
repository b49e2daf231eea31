#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Declarative OpenNebula user."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: one_user
short_description: Manage an OpenNebula user, its password, authentication driver and groups
description:
  - Declarative, name-keyed management of an OpenNebula user (C(one.user.*) XML-RPC methods).
  - The password is set when the user is created; afterwards only with O(update_password=always) (then it is
    compared with the stored one, so that an unchanged password writes nothing). It is never logged nor returned.
  - The primary group (O(group), C(one.user.chgrp)) and the secondary groups (O(groups), exactly,
    C(one.user.addgroup)/C(delgroup)) follow the declaration, as do the authentication driver, the enabled flag and
    free template attributes (merged; e.g. C(SSH_PUBLIC_KEY) for the VMs' contextualization).
  - A second run with the same arguments makes no write call. Check mode predicts the changes; diff mode shows them.
version_added: 0.1.0
author: eole.hapy contributors (!UNKNOWN)
options:
  name:
    description: Name of the user.
    type: str
    required: true
  state:
    description: C(present) creates or updates the user, C(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  password:
    description:
      - Password of the user, without spaces. Required to create a user (for an external driver such as C(ldap), the
        value OpenNebula keeps, e.g. C(-)). Keep it in Ansible Vault.
    type: str
  update_password:
    description: C(on_create) sets the password only when creating the user; C(always) also changes it when it differs.
    type: str
    choices: [always, on_create]
    default: on_create
  auth_driver:
    description:
      - Authentication driver (C(core), C(ldap), C(public), C(ssh), C(x509), C(server_cipher), ...). C(core) when
        creating if omitted; omit to leave an existing user's alone.
    type: str
  group:
    description: Name (or id) of the primary group of the user (new objects of the user belong to it).
    type: str
  groups:
    description:
      - Names (or ids) of the user's secondary groups, exactly (the primary group is always kept). Omit to leave them
        alone; an empty list removes every secondary group.
    type: list
    elements: str
  enabled:
    description: Whether the user can log in.
    type: bool
  attributes:
    description:
      - Template attributes of the user, e.g. C(SSH_PUBLIC_KEY), C(EMAIL), C(SUNSTONE). Keys are case-insensitive;
        only declared attributes are compared and merged.
    type: dict
extends_documentation_fragment:
  - eole.hapy.one_connection
notes:
  - Runs on the host that reaches the OpenNebula XML-RPC endpoint (usually the controller); needs C(pyone).
  - The passwords of C(core) users are compared through the SHA-256 digest OpenNebula stores.
seealso:
  - module: eole.hapy.one_group
  - module: eole.hapy.one_acl
"""

EXAMPLES = r"""
- name: The administrator of a school's site
  eole.hapy.one_user:
    name: admin-9740001a
    password: "{{ vault_site_admin_password }}"
    group: etb_9740001a
    groups: [users]
    attributes:
      SSH_PUBLIC_KEY: "{{ lookup('file', 'keys/admin.pub') }}"
      EMAIL: ce.9740001a@ac-reunion.fr
  delegate_to: localhost

- name: Rotate a password
  eole.hapy.one_user:
    name: admin-9740001a
    password: "{{ vault_site_admin_password_new }}"
    update_password: always
  delegate_to: localhost

- name: Lock an account
  eole.hapy.one_user:
    name: former-admin
    enabled: false
  delegate_to: localhost
"""

RETURN = r"""
user:
  description: The user after the task (empty when absent). In check mode, the declared state. Never the password.
  returned: always
  type: dict
  contains:
    id:
      description: OpenNebula id of the user.
      type: int
      sample: 5
    name:
      description: Name of the user.
      type: str
      sample: admin-9740001a
    auth_driver:
      description: Authentication driver.
      type: str
      sample: core
    group:
      description: Name of the primary group.
      type: str
      sample: etb_9740001a
    groups:
      description: Names of the secondary groups.
      type: list
      elements: str
      sample: [users]
    enabled:
      description: Whether the user can log in.
      type: bool
      sample: true
    template:
      description: The declared template attributes with their current values.
      type: dict
      sample: {EMAIL: ce.9740001a@ac-reunion.fr}
changes:
  description: The keys of the declaration that differed (C(password), C(group), C(groups), C(enabled), ...).
  returned: when changed and the user existed
  type: list
  elements: str
  sample: [groups]
api_calls:
  description: XML-RPC calls the task made, in total and writes only.
  returned: always
  type: dict
  sample: {total: 2, writes: 0}
"""

import hashlib
from typing import Any

from ansible_collections.eole.hapy.plugins.module_utils import one_template
from ansible_collections.eole.hapy.plugins.module_utils.one_client import OneError
from ansible_collections.eole.hapy.plugins.module_utils.one_module import (
    KINDS,
    OneObjectModule,
    id_list,
    ref_view,
    sync_ids,
    update_template,
)

#: What the view shows instead of a password: whether the stored one is the declared one.
DECLARED = "(the declared password)"
OTHER = "(another password)"


class UserModule(OneObjectModule):
    kind = KINDS["user"]
    invalid_name_chars = one_template.ONE_INVALID_NAME_CHARS + " "  # src/um/User.cc adds blanks
    fact_name = "user"
    references = {"group": "group", "groups": "group"}
    argument_spec = {
        "password": {"type": "str", "no_log": True},
        "update_password": {"type": "str", "default": "on_create", "choices": ["always", "on_create"],
                            "no_log": False},
        "auth_driver": {"type": "str"},
        "group": {"type": "str"},
        "groups": {"type": "list", "elements": "str"},
        "enabled": {"type": "bool"},
        "attributes": {"type": "dict"},
    }

    def validate(self) -> None:
        p = self.params
        if p["state"] == "present":
            one_template.normalize(p["attributes"], "attributes")
            if p["password"] is not None and (p["password"] == "" or any(c.isspace() for c in p["password"])):
                raise OneError("password: cannot be empty nor contain spaces (OpenNebula refuses it)")

    def lookup(self, name: str) -> Any | None:
        obj = super().lookup(name)
        if obj is None and self.params["state"] == "present" and not self.params["password"]:
            raise OneError(f"password: required to create user '{name}' (for an external driver such as ldap, the "
                           f"value OpenNebula keeps, e.g. '-')")
        return obj

    def desired(self) -> dict[str, Any]:
        p = self.params
        view: dict[str, Any] = {"template": one_template.normalize(p["attributes"], "attributes")}
        optional = {"auth_driver": p["auth_driver"], "group": p["group"], "enabled": p["enabled"]}
        view.update({k: v for k, v in optional.items() if v is not None})
        if p["groups"] is not None:
            view["groups"] = self.group_names(self.ids_of("group", p["groups"], "groups"))
        if p["password"] is not None and p["update_password"] == "always":
            view["password"] = DECLARED
        return view

    def current(self, obj: Any) -> dict[str, Any]:
        p = self.params
        view = {
            "template": one_template.from_pyone(obj.TEMPLATE),
            "auth_driver": obj.AUTH_DRIVER,
            "group": ref_view(p["group"], obj.GID, obj.GNAME),
            "enabled": bool(int(obj.ENABLED)),
        }
        if p["groups"] is not None:  # the primary group counts when declared among the groups too
            declared = set(self.ids_of("group", p["groups"], "groups"))
            view["groups"] = self.group_names([g for g in id_list(obj.GROUPS) if g != int(obj.GID) or g in declared])
        if p["password"] is not None:
            view["password"] = DECLARED if self.password_matches(obj) else OTHER
        return view

    def group_names(self, ids: list[int]) -> list[str]:
        """Groups as declared: names, or ids when O(groups) gives ids only."""
        if all(str(g).isdigit() for g in self.params["groups"] or []):
            return sorted(str(g) for g in ids)
        return self.names_of("group", ids)

    def password_matches(self, obj: Any) -> bool:
        password = self.params["password"]
        if obj.AUTH_DRIVER == "core":
            return hashlib.sha256(password.encode()).hexdigest() == obj.PASSWORD
        return password == obj.PASSWORD

    def facts(self, obj: Any) -> dict[str, Any]:
        secondary = [g for g in id_list(obj.GROUPS) if g != int(obj.GID)]
        return {"id": int(obj.ID), "name": obj.NAME, "auth_driver": obj.AUTH_DRIVER, "group": obj.GNAME,
                "groups": self.names_of("group", secondary), "enabled": bool(int(obj.ENABLED)),
                "template": self.declared_template(one_template.from_pyone(obj.TEMPLATE))}

    def same(self, key: str, desired: Any, current: Any) -> bool:
        if key == "enabled":
            return desired == current
        return super().same(key, desired, current)

    def create(self, desired: dict[str, Any]) -> int:
        p = self.params
        group_ids: list[int] = []  # the first one is the primary group
        for name in ([p["group"]] if p["group"] else []) + list(p["groups"] or []):
            group_id = self.id_of("group", name, "groups")
            if group_id not in group_ids:
                group_ids.append(group_id)
        user_id = int(self.call("user.allocate", self.name, p["password"] or "", p["auth_driver"] or "core",
                                group_ids))
        update_template(self, user_id, desired["template"])
        if p["enabled"] is False:
            self.call("user.enable", user_id, False)
        return user_id

    def apply(self, obj: Any, changes: dict[str, Any], desired: dict[str, Any]) -> None:
        user_id = int(obj.ID)
        password = self.params["password"] if "password" in changes else None
        if "auth_driver" in changes:
            self.call("user.chauth", user_id, changes["auth_driver"], password or "")
        elif password is not None:
            self.call("user.passwd", user_id, password)
        groups = set(id_list(obj.GROUPS))
        primary = int(obj.GID)
        if "group" in changes:
            new_primary = self.id_of("group", changes["group"], "group")
            self.call("user.chgrp", user_id, new_primary)
            groups = (groups - {primary}) | {new_primary}
            primary = new_primary
        if "groups" in changes or "group" in changes and "groups" in desired:
            wanted = set(self.ids_of("group", desired["groups"], "groups")) | {primary}
            sync_ids(groups, wanted, lambda gid: self.call("user.addgroup", user_id, gid),
                     lambda gid: self.call("user.delgroup", user_id, gid))
        if "enabled" in changes:
            self.call("user.enable", user_id, changes["enabled"])
        if "template" in changes:
            update_template(self, user_id, one_template.differences(changes["template"],
                                                                    one_template.from_pyone(obj.TEMPLATE)))


def main() -> None:
    UserModule().run()


if __name__ == "__main__":
    main()
