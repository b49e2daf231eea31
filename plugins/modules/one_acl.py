#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Declarative OpenNebula ACL rule."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: one_acl
short_description: Manage an OpenNebula ACL rule given in OpenNebula's string form
description:
  - Declarative management of one OpenNebula ACL rule (C(one.acl.addrule), C(one.acl.delrule)).
  - 'The rule is written as C(oneacl) shows it, C(<user> <resources>/<target> <rights> [<zone>]), for example C(@100
    VM+NET+IMAGE+TEMPLATE/* CREATE #0) or C(#5 HOST+VM/@100 USE+MANAGE #0). It is parsed into the hexadecimal
    arguments C(one.acl.addrule) takes; the rule is present when an ACL with exactly those values exists.'
  - Besides ids, users, groups and clusters may be named, C(#admin-9740001a), C(@etb_9740001a), C(%hapy-9740001a),
    and, when the rule names one resource type, the target object too, C(NET/#CR_pedago).
  - A second run with the same arguments makes no write call. Check mode predicts the change.
version_added: 0.1.0
author: eole.hapy contributors (!UNKNOWN)
options:
  rule:
    description:
      - The rule, C(<user> <resources>/<target> <rights> [<zone>]).
      - C(<user>) is C(#<user>), C(@<group>) or C(*) (everybody).
      - C(<resources>) is a C(+)-separated list of C(VM), C(HOST), C(NET), C(IMAGE), C(USER), C(TEMPLATE), C(GROUP),
        C(DATASTORE), C(CLUSTER), C(DOCUMENT), C(ZONE), C(SECGROUP), C(VDC), C(VROUTER), C(MARKETPLACE),
        C(MARKETPLACEAPP), C(VMGROUP), C(VNTEMPLATE), C(HOOK), C(BACKUPJOB).
      - C(<target>) is C(#<object id>), C(@<group>) (objects of the group), C(%<cluster>) (objects of the cluster) or
        C(*) (all).
      - C(<rights>) is a C(+)-separated list of C(USE), C(MANAGE), C(ADMIN), C(CREATE).
      - C(<zone>) is C(#<zone id>) or C(*); C(#0) when omitted.
    type: str
    required: true
  state:
    description: C(present) adds the rule if missing, C(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - eole.hapy.one_connection
notes:
  - Runs on the host that reaches the OpenNebula XML-RPC endpoint (usually the controller); needs C(pyone).
  - A rule is identified by its values; to change a rule, declare the old one absent and the new one present.
seealso:
  - module: eole.hapy.one_group
  - module: eole.hapy.one_user
  - name: OpenNebula ACL rules
    description: The meaning of each part of a rule.
    link: https://docs.opennebula.io/6.10/management_and_operations/users_groups_management/chmod.html
"""

EXAMPLES = r"""
- name: The school's group may create VMs, networks, images and templates
  eole.hapy.one_acl:
    rule: "@etb_9740001a VM+NET+IMAGE+TEMPLATE/* CREATE #0"
  delegate_to: localhost

- name: Its administrator manages the site's hosts and VMs
  eole.hapy.one_acl:
    rule: "#admin-9740001a HOST+VM/%hapy-9740001a USE+MANAGE"
  delegate_to: localhost

- name: Remove a rule
  eole.hapy.one_acl:
    rule: "@1 NET/* CREATE #0"
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
acl:
  description: The rule after the task (empty when absent). In check mode, the declared rule.
  returned: always
  type: dict
  contains:
    id:
      description: OpenNebula id of the rule.
      type: int
      sample: 3
    rule:
      description: The rule with ids, as OpenNebula writes it.
      type: str
      sample: "@100 VM+NET+IMAGE+TEMPLATE/* CREATE #0"
    user:
      description: The user part, hexadecimal.
      type: str
      sample: "200000064"
    resource:
      description: The resources part, hexadecimal.
      type: str
      sample: "2c400000000"
    rights:
      description: The rights part, hexadecimal.
      type: str
      sample: "8"
    zone:
      description: The zone part, hexadecimal.
      type: str
      sample: "100000000"
api_calls:
  description: XML-RPC calls the task made, in total and writes only.
  returned: always
  type: dict
  sample: {total: 1, writes: 0}
"""

import re
from typing import Any

from ansible_collections.eole.hapy.plugins.module_utils.one_client import OneError
from ansible_collections.eole.hapy.plugins.module_utils.one_module import KINDS, OneObjectModule

INDIVIDUAL = 0x100000000
GROUP = 0x200000000
ALL = 0x400000000
CLUSTER = 0x800000000
ID_MASK = 0xFFFFFFFF
#: Resource type bits (include/PoolObjectSQL.h), in OpenNebula's order.
RESOURCES = {
    "VM": 0x1000000000, "HOST": 0x2000000000, "NET": 0x4000000000, "IMAGE": 0x8000000000,
    "USER": 0x10000000000, "TEMPLATE": 0x20000000000, "GROUP": 0x40000000000, "DATASTORE": 0x100000000000,
    "CLUSTER": 0x200000000000, "DOCUMENT": 0x400000000000, "ZONE": 0x800000000000, "SECGROUP": 0x1000000000000,
    "VDC": 0x2000000000000, "VROUTER": 0x4000000000000, "MARKETPLACE": 0x8000000000000,
    "MARKETPLACEAPP": 0x10000000000000, "VMGROUP": 0x20000000000000, "VNTEMPLATE": 0x40000000000000,
    "HOOK": 0x80000000000000, "BACKUPJOB": 0x100000000000000,
}
#: What oned's AclRule::malformed refuses: a cluster (%) or a group (@) target for these resource types.
NOT_BY_CLUSTER = {"VM", "IMAGE", "USER", "TEMPLATE", "GROUP", "CLUSTER", "DOCUMENT", "ZONE", "SECGROUP", "VDC",
                  "VROUTER", "MARKETPLACE", "MARKETPLACEAPP", "VMGROUP", "VNTEMPLATE"}
NOT_BY_GROUP = {"HOST", "GROUP", "CLUSTER", "ZONE", "VDC"}
RIGHTS = {"USE": 0x1, "MANAGE": 0x2, "ADMIN": 0x4, "CREATE": 0x8}
#: Resource types whose objects can be named in the target (``NET/#CR_pedago``).
NAMED_TARGETS = {"VM": "vm", "HOST": "host", "NET": "vn", "IMAGE": "image", "USER": "user", "TEMPLATE": "template",
                 "GROUP": "group", "DATASTORE": "datastore", "CLUSTER": "cluster", "SECGROUP": "secgroup",
                 "VDC": "vdc"}
FORM = "expected '<user> <resources>/<target> <rights> [<zone>]', e.g. '@100 VM+NET/* USE+MANAGE #0'"
_WHO_RE = re.compile(r"^([#@%])(.+)$")


class AclModule(OneObjectModule):
    kind = KINDS["acl"]
    fact_name = "acl"
    key_option = "rule"

    def validate(self) -> None:
        split_rule(self.params["rule"])

    def values(self) -> tuple[int, int, int, int]:
        """The rule's (user, resource, rights, zone) numbers, names resolved."""
        user, resources, target, rights, zone = split_rule(self.params["rule"])
        user_value = self.who(user, {"#": "user", "@": "group"}, "the user part")
        kinds = {"#": NAMED_TARGETS.get(resources[0]) if len(resources) == 1 else None, "@": "group", "%": "cluster"}
        resource_value = sum(RESOURCES[r] for r in resources) | self.who(target, kinds, "the target")
        zone_value = self.who(zone, {"#": None}, "the zone")
        return user_value, resource_value, sum(RIGHTS[r] for r in rights), zone_value

    def who(self, text: str, kinds: dict[str, str | None], part: str) -> int:
        """``#id``/``@id``/``%id``/``*`` (or a name where ``kinds`` allows it) as ACL bits."""
        if text == "*":
            return ALL
        match = _WHO_RE.match(text)
        if match is None or match.group(1) not in kinds:
            allowed = ", ".join(f"{k}<id>" for k in kinds)
            raise OneError(f"rule: {text!r} is not valid for {part}; expected {allowed} or *")
        flag = {"#": INDIVIDUAL, "@": GROUP, "%": CLUSTER}[match.group(1)]
        ref = match.group(2)
        if ref.isdigit():
            return flag | int(ref)
        api = kinds[match.group(1)]
        if api is None:
            raise OneError(f"rule: {text!r} in {part} must be an id (a name is only allowed for users, groups, "
                           f"clusters, or the object of a single resource type)")
        return flag | self.id_of(api, ref, "rule")

    def lookup(self, name: str) -> Any | None:
        wanted = self.values()
        return next((acl for acl in self.pool(self.kind) if acl_values(acl) == wanted), None)

    def info(self, object_id: int) -> Any:
        self._pool_cache.pop(self.kind.api, None)
        return next(acl for acl in self.pool(self.kind) if int(acl.ID) == object_id)

    def desired(self) -> dict[str, Any]:
        return {"rule": rule_string(*self.values())}

    def current(self, obj: Any) -> dict[str, Any]:
        return {"rule": rule_string(*acl_values(obj))}

    def facts(self, obj: Any) -> dict[str, Any]:
        return {"id": int(obj.ID), "rule": rule_string(*acl_values(obj)), "user": str(obj.USER),
                "resource": str(obj.RESOURCE), "rights": str(obj.RIGHTS), "zone": str(obj.ZONE)}

    def create(self, desired: dict[str, Any]) -> int:
        return int(self.call("acl.addrule", *(f"{value:x}" for value in self.values())))

    def delete(self, obj: Any) -> None:
        self.call("acl.delrule", int(obj.ID))

    def apply(self, obj: Any, changes: dict[str, Any], desired: dict[str, Any]) -> None:
        raise OneError("an ACL rule cannot change; it is identified by its values")  # never reached: lookup matches


def split_rule(rule: str) -> tuple[str, list[str], str, list[str], str]:
    """``(user, resource types, target, rights, zone)`` of a rule string; :class:`OneError` naming ``rule``."""
    parts = str(rule).split()
    if len(parts) not in (3, 4) or parts[1].count("/") != 1:
        raise OneError(f"rule: {rule!r} is not an ACL rule; {FORM}")
    types, target = parts[1].split("/")
    resources = [r.upper() for r in types.split("+")]
    unknown = [r for r in resources if r not in RESOURCES]
    if unknown:
        raise OneError(f"rule: unknown resource type(s) {', '.join(unknown)}; expected {'+'.join(RESOURCES)}")
    for sign, refused, what in (("%", NOT_BY_CLUSTER, "a cluster (%) target applies only to DATASTORE, HOST and NET"),
                                ("@", NOT_BY_GROUP, "a group (@) target does not apply to HOST, GROUP, CLUSTER, "
                                                    "ZONE or VDC")):
        wrong = [r for r in resources if r in refused]
        if target.startswith(sign) and wrong:
            raise OneError(f"rule: {rule!r}: {what}, not {'+'.join(wrong)} (OpenNebula refuses the rule)")
    rights = [r.upper() for r in parts[2].split("+")]
    if any(r not in RIGHTS for r in rights):
        raise OneError(f"rule: {parts[2]!r} are not rights; expected USE, MANAGE, ADMIN and/or CREATE joined by +")
    zone = parts[3] if len(parts) == 4 else "#0"
    if not re.fullmatch(r"#\d+|\*", zone):
        raise OneError(f"rule: {zone!r} is not a zone; expected #<zone id> or *")
    return parts[0], resources, target, rights, zone


def acl_values(acl: Any) -> tuple[int, int, int, int]:
    """The (user, resource, rights, zone) numbers of an ACL as listed by ``one.acl.info`` (hexadecimal text)."""
    return tuple(int(str(getattr(acl, field)), 16) for field in ("USER", "RESOURCE", "RIGHTS", "ZONE"))  # type: ignore


def _who_string(value: int) -> str:
    oid = value & ID_MASK
    for flag, sign in ((INDIVIDUAL, "#"), (GROUP, "@"), (CLUSTER, "%")):
        if value & flag:
            return f"{sign}{oid}"
    return "*" if value & ALL else "??"


def rule_string(user: int, resource: int, rights: int, zone: int) -> str:
    """The rule with ids, as OpenNebula's ``AclRule::to_str`` writes it."""
    types = "+".join(name for name, bit in RESOURCES.items() if resource & bit)
    granted = "+".join(name for name, bit in RIGHTS.items() if rights & bit)
    return f"{_who_string(user)} {types}/{_who_string(resource)} {granted} {_who_string(zone)}"


def main() -> None:
    AclModule().run()


if __name__ == "__main__":
    main()
