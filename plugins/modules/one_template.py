#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Declarative OpenNebula VM template."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: one_template
short_description: Manage an OpenNebula VM template (CPU, memory, disks, NICs, context, firmware, labels)
description:
  - Declarative, name-keyed management of an OpenNebula virtual machine template (C(one.template.*) XML-RPC methods).
  - The declared attributes are compared one by one with the template; only those that differ are written, in one
    C(one.template.update) call. Vector attributes (C(DISK), C(NIC), C(CONTEXT), C(GRAPHICS), C(OS), C(FEATURES),
    C(INPUT)) are declared as a whole and replace the template's ones; attributes that are not declared are left
    alone.
  - Images and networks are given by name (resolved with their owner, so the template also works for the site's
    group members) or by id; a name that does not exist fails the task before anything is written.
  - A second run with the same arguments makes no write call. Check mode predicts the changes; diff mode shows the
    changed attributes.
version_added: 0.1.0
author: eole.hapy contributors (!UNKNOWN)
options:
  name:
    description: Name of the template (unique for its owner).
    type: str
  state:
    description: C(present) creates or updates the template, C(absent) deletes it (VMs made from it are not touched).
    type: str
    choices: [present, absent]
    default: present
  description:
    description: The C(DESCRIPTION) attribute.
    type: str
  labels:
    description:
      - Labels of the template (the C(LABELS) attribute Sunstone shows and filters on), compared as a set.
    type: list
    elements: str
  attributes:
    description:
      - Further template attributes, e.g. C(SCHED_REQUIREMENTS), C(HYPERVISOR), C(LOGO), C(MEMORY_UNIT_COST), or
        vectors such as C(VIDEO) or C(SCHED_ACTION). Keys are case-insensitive; values are strings, numbers, booleans
        (C(YES)/C(NO)), dicts for vector attributes, lists for repeated ones.
    type: dict
extends_documentation_fragment:
  - eole.hapy.one_objects
  - eole.hapy.one_connection
  - eole.hapy.one_vmspec
  - eole.hapy.one_ownership
notes:
  - Runs on the host that reaches the OpenNebula XML-RPC endpoint (usually the controller); needs C(pyone).
  - Changing a template does not change the VMs already made from it.
seealso:
  - module: eole.hapy.one_vm
  - module: eole.hapy.one_image
  - name: OpenNebula VM template reference
    description: Attributes of virtual machine templates.
    link: https://docs.opennebula.io/6.10/management_and_operations/references/template.html
"""

EXAMPLES = r"""
- name: The Amon (EOLE firewall) template of a school, UEFI q35 machine, two NICs
  eole.hapy.one_template:
    name: amon-9740001a
    description: EOLE Amon, Lycée Leconte de Lisle
    cpu: 1
    vcpu: 2
    memory: 2048
    os: {arch: x86_64, machine: q35, firmware: UEFI}
    disks:
      - image: eole-2.10-amon
        size: 20480
        dev_prefix: vd
    nics:
      - network: CR_wan
        model: virtio
      - network: CR_pedago
        ip: 10.20.0.1
        model: virtio
        security_groups: [hapy-admin]
    context:
      NETWORK: "YES"
      SET_HOSTNAME: amon
      SSH_PUBLIC_KEY: "$USER[SSH_PUBLIC_KEY]"
      START_SCRIPT_BASE64: "{{ lookup('file', 'amon-init.sh') | b64encode }}"
    graphics: {type: VNC, listen: 0.0.0.0}
    inputs: [{type: tablet, bus: usb}]
    features: {acpi: "yes", guest_agent: "yes"}
    labels: [hapy, "9740001A"]
    group: etb_9740001a
    permissions: "640"
  delegate_to: localhost

- name: Remove a template
  eole.hapy.one_template:
    name: amon-old
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
template:
  description: The VM template after the task (empty when absent). In check mode, the declared state.
  returned: always
  type: dict
  contains:
    id:
      description: OpenNebula id of the template.
      type: int
      sample: 7
    name:
      description: Name of the template.
      type: str
      sample: amon-9740001a
    template:
      description: The whole template as OpenNebula holds it (upper-case keys, vectors as dicts, repeats as lists).
      type: dict
      sample: {CPU: "1", MEMORY: "2048", NIC: [{NETWORK: CR_wan, NETWORK_UNAME: oneadmin, MODEL: virtio}]}
    labels:
      description: Labels of the template.
      type: list
      elements: str
      sample: ["9740001A", hapy]
    owner:
      description: Owner of the template (user name).
      type: str
      sample: oneadmin
    group:
      description: Group of the template.
      type: str
      sample: etb_9740001a
    permissions:
      description: Permissions in octal form (owner, group, others; USE=4, MANAGE=2, ADMIN=1).
      type: str
      sample: "640"
changes:
  description: The keys of the declaration that differed (C(template), C(labels), C(group), ...).
  returned: when changed and the template existed
  type: list
  elements: str
  sample: [template]
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
    labels_of,
    owner_facts,
    update_template,
)
from ansible_collections.eole.hapy.plugins.module_utils.one_vmspec import (
    VM_SPEC_ARGSPEC,
    validate_vm_spec,
    vector_differences,
    vm_spec_template,
)


class TemplateModule(OneObjectModule):
    kind = KINDS["template"]
    fact_name = "template"
    batchable = True
    ownable = True
    argument_spec = {
        **VM_SPEC_ARGSPEC,
        "description": {"type": "str"},
        "labels": {"type": "list", "elements": "str"},
        "attributes": {"type": "dict"},
    }

    def validate(self) -> None:
        if self.params["state"] == "present":
            validate_vm_spec(self.params)
            one_template.normalize(self.params["attributes"], "attributes")

    def desired(self) -> dict[str, Any]:
        p = self.params
        template = one_template.normalize(p["attributes"], "attributes")
        template.update(vm_spec_template(self, p))
        if p["description"] is not None:
            template["DESCRIPTION"] = p["description"]
        view: dict[str, Any] = {"template": template}
        if p["labels"] is not None:
            view["labels"] = labels_of(p["labels"])
        return view

    def current(self, obj: Any) -> dict[str, Any]:
        template = one_template.from_pyone(obj.TEMPLATE)
        return {"template": template, "labels": labels_of(template.get("LABELS"))}

    def facts(self, obj: Any) -> dict[str, Any]:
        current = self.current(obj)
        return {"id": int(obj.ID), "name": obj.NAME, **current, **owner_facts(obj)}

    def same(self, key: str, desired: Any, current: Any) -> bool:
        if key == "template":
            return not vector_differences(desired, current or {})
        return super().same(key, desired, current)

    @staticmethod
    def _diff_values(desired: Any, current: Any) -> tuple[Any, Any]:
        """Before/after of a changed key; vectors count as a whole, so a removed sub-attribute shows."""
        if isinstance(desired, dict) and isinstance(current, dict):
            changed = vector_differences(desired, current)
            return {k: current.get(k) for k in changed}, changed
        return current, desired

    def create(self, desired: dict[str, Any]) -> int:
        template = {"NAME": self.name, **desired["template"]}
        if "labels" in desired:
            template["LABELS"] = ",".join(desired["labels"])
        return int(self.call("template.allocate", one_template.render(template)))

    def apply(self, obj: Any, changes: dict[str, Any], desired: dict[str, Any]) -> None:
        attributes = vector_differences(changes.get("template", {}), one_template.from_pyone(obj.TEMPLATE))
        if "labels" in changes:
            attributes["LABELS"] = ",".join(changes["labels"])
        update_template(self, int(obj.ID), attributes)


def main() -> None:
    TemplateModule().run()


if __name__ == "__main__":
    main()
