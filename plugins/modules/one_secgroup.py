#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Declarative OpenNebula security group."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: one_secgroup
short_description: Manage an OpenNebula security group and its rules
description:
  - Declarative, name-keyed management of an OpenNebula security group (C(one.secgroup.*) XML-RPC methods).
  - The group holds exactly the declared O(rules), compared as a set (order does not matter); when they differ,
    the rules are replaced in one C(one.secgroup.update) call, keeping the group's other attributes.
  - A second run with the same arguments makes no write call. Check mode predicts the changes; diff mode shows them.
version_added: 0.1.0
author: eole.hapy contributors (!UNKNOWN)
options:
  name:
    description: Name of the security group (unique for its owner).
    type: str
    required: true
  state:
    description: C(present) creates or updates the group, C(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  description:
    description: The C(DESCRIPTION) attribute.
    type: str
  rules:
    description:
      - The complete list of rules of the group. Omit to leave the rules alone; an empty list removes them all.
      - Each item takes C(protocol) (C(TCP), C(UDP), C(ICMP), C(ICMPv6), C(IPSEC), C(ALL)), C(rule_type)
        (C(inbound) or C(outbound)), C(range) (ports for TCP/UDP, e.g. C(22), C(80,443) or C(1024:65535); omit for
        all ports), C(network) (name or id of a virtual network the rule applies to), or C(ip) with C(size) (a
        range of C(size) addresses from C(ip)), and C(icmp_type) for ICMP.
    type: list
    elements: dict
  attributes:
    description: Further template attributes. Keys are case-insensitive; only declared attributes are compared.
    type: dict
extends_documentation_fragment:
  - eole.hapy.one_connection
  - eole.hapy.one_ownership
notes:
  - Runs on the host that reaches the OpenNebula XML-RPC endpoint (usually the controller); needs C(pyone).
  - OpenNebula applies changed rules to the VMs using the group.
seealso:
  - module: eole.hapy.one_vnet
  - module: eole.hapy.one_template
  - name: OpenNebula security groups
    description: Rule attributes and how they are applied.
    link: https://docs.opennebula.io/6.10/management_and_operations/network_management/security_groups.html
"""

EXAMPLES = r"""
- name: Administration access to a school's servers, from the admin network only
  eole.hapy.one_secgroup:
    name: hapy-admin-9740001a
    description: SSH and EAD from the admin network
    rules:
      - {protocol: TCP, rule_type: inbound, range: "22,4200", network: CR_admin}
      - {protocol: ICMP, rule_type: inbound, icmp_type: 8}
      - {protocol: ALL, rule_type: outbound}
    group: etb_9740001a
  delegate_to: localhost

- name: Web access from an address range
  eole.hapy.one_secgroup:
    name: web
    rules:
      - {protocol: TCP, rule_type: inbound, range: "80,443", ip: 10.20.0.0, size: 256}
  delegate_to: localhost
"""

RETURN = r"""
secgroup:
  description: The security group after the task (empty when absent). In check mode, the declared state.
  returned: always
  type: dict
  contains:
    id:
      description: OpenNebula id of the security group (the id NICs and networks refer to).
      type: int
      sample: 100
    name:
      description: Name of the security group.
      type: str
      sample: hapy-admin-9740001a
    rules:
      description: The rules, as OpenNebula holds them (upper-case keys; a network as C(NETWORK_ID)).
      type: list
      elements: dict
      sample: [{PROTOCOL: TCP, RULE_TYPE: INBOUND, RANGE: "22,4200", NETWORK_ID: "3"}]
    template:
      description: The declared template attributes with their current values.
      type: dict
      sample: {DESCRIPTION: SSH and EAD from the admin network}
    owner:
      description: Owner of the group (user name).
      type: str
      sample: oneadmin
    group:
      description: OpenNebula group of the security group.
      type: str
      sample: etb_9740001a
    permissions:
      description: Permissions in octal form (owner, group, others; USE=4, MANAGE=2, ADMIN=1).
      type: str
      sample: "640"
changes:
  description: The keys of the declaration that differed (C(rules), C(template), C(group), ...).
  returned: when changed and the group existed
  type: list
  elements: str
  sample: [rules]
api_calls:
  description: XML-RPC calls the task made, in total and writes only.
  returned: always
  type: dict
  sample: {total: 2, writes: 0}
"""

import ipaddress
import re
from typing import Any

from ansible_collections.eole.hapy.plugins.module_utils import one_template
from ansible_collections.eole.hapy.plugins.module_utils.one_client import OneError
from ansible_collections.eole.hapy.plugins.module_utils.one_module import (
    KINDS,
    OneObjectModule,
    owner_facts,
)

PROTOCOLS = ("TCP", "UDP", "ICMP", "ICMPV6", "IPSEC", "ALL")
RULE_TYPES = ("INBOUND", "OUTBOUND")
_RANGE_RE = re.compile(r"^\d+(:\d+)?(,\d+(:\d+)?)*$")


class SecgroupModule(OneObjectModule):
    kind = KINDS["secgroup"]
    fact_name = "secgroup"
    ownable = True
    argument_spec = {
        "description": {"type": "str"},
        "rules": {"type": "list", "elements": "dict"},
        "attributes": {"type": "dict"},
    }

    def validate(self) -> None:
        if self.params["state"] == "absent":
            return
        one_template.normalize(self.params["attributes"], "attributes")
        for index, rule in enumerate(self.params["rules"] or []):
            _validate_rule(index, {str(k).upper(): v for k, v in rule.items()})

    def desired(self) -> dict[str, Any]:
        p = self.params
        template = one_template.normalize(p["attributes"], "attributes")
        if p["description"] is not None:
            template["DESCRIPTION"] = p["description"]
        view: dict[str, Any] = {"template": template}
        if p["rules"] is not None:
            view["rules"] = sorted((self._rule(i, r) for i, r in enumerate(p["rules"])), key=_rule_key)
        return view

    def _rule(self, index: int, rule: dict[str, Any]) -> dict[str, str]:
        fields = {str(k).upper(): v for k, v in rule.items() if v is not None}
        fields["PROTOCOL"] = str(fields["PROTOCOL"]).upper().replace("ICMPV6", "ICMPv6")
        fields["RULE_TYPE"] = str(fields["RULE_TYPE"]).upper()
        network = fields.pop("NETWORK", None)
        if network is not None:
            fields["NETWORK_ID"] = self.id_of("vn", str(network), f"rules[{index}].network")
        return one_template.normalize({"RULE": fields}, f"rules[{index}]")["RULE"]

    def current(self, obj: Any) -> dict[str, Any]:
        template = one_template.from_pyone(obj.TEMPLATE)
        rules = template.pop("RULE", [])
        rules = rules if isinstance(rules, list) else [rules]
        return {"template": template, "rules": sorted(rules, key=_rule_key)}

    def facts(self, obj: Any) -> dict[str, Any]:
        current = self.current(obj)
        declared = self.desired()["template"] if self.params["state"] == "present" else {}
        return {"id": int(obj.ID), "name": obj.NAME, "rules": current["rules"],
                "template": self.declared_template(current["template"], declared), **owner_facts(obj)}

    def same(self, key: str, desired: Any, current: Any) -> bool:
        if key == "rules":
            return desired == current
        return super().same(key, desired, current)

    def create(self, desired: dict[str, Any]) -> int:
        template = {"NAME": self.name, **desired["template"], "RULE": desired.get("rules", [])}
        return int(self.call("secgroup.allocate", one_template.render(template)))

    def apply(self, obj: Any, changes: dict[str, Any], desired: dict[str, Any]) -> None:
        current = one_template.from_pyone(obj.TEMPLATE)
        template = {**current, **changes.get("template", {})}
        if "rules" in changes:
            template["RULE"] = changes["rules"]
        # replace (type 0) so that the rules are exactly the declared ones; the other attributes are sent back
        self.call("secgroup.update", int(obj.ID), one_template.render(template), 0)


def _validate_rule(index: int, fields: dict[str, Any]) -> None:
    where = f"rules[{index}]"
    protocol = str(fields.get("PROTOCOL", "")).upper()
    if protocol not in PROTOCOLS:
        raise OneError(f"{where}.protocol: {fields.get('PROTOCOL')!r} is not a protocol; expected one of TCP, UDP, "
                       f"ICMP, ICMPv6, IPSEC, ALL")
    if str(fields.get("RULE_TYPE", "")).upper() not in RULE_TYPES:
        raise OneError(f"{where}.rule_type: {fields.get('RULE_TYPE')!r} is not a rule type; expected inbound or "
                       f"outbound")
    port_range = fields.get("RANGE")
    if port_range is not None:
        if protocol not in ("TCP", "UDP"):
            raise OneError(f"{where}.range: ports only apply to TCP and UDP rules, not {protocol}")
        if not _RANGE_RE.match(str(port_range)):
            raise OneError(f"{where}.range: {port_range!r} is not a port range; expected e.g. 22, 80,443 or "
                           f"1024:65535")
    if fields.get("IP") is not None:
        try:
            ipaddress.ip_address(str(fields["IP"]))
        except ValueError:
            raise OneError(f"{where}.ip: {fields['IP']!r} is not an IP address, e.g. 10.20.0.0") from None
        if not str(fields.get("SIZE", "")).isdigit() or int(fields["SIZE"]) < 1:
            raise OneError(f"{where}.size: expected the number of addresses from ip (a positive integer), "
                           f"got {fields.get('SIZE')!r}")
    if fields.get("NETWORK") is not None and fields.get("IP") is not None:
        raise OneError(f"{where}: network and ip are exclusive; a rule targets a network or an address range")


def _rule_key(rule: Any) -> tuple:
    return tuple(sorted((rule or {}).items())) if isinstance(rule, dict) else ((str(rule), ""),)


def main() -> None:
    SecgroupModule().run()


if __name__ == "__main__":
    main()
