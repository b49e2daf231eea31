#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Declarative OpenNebula host (hypervisor node)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: one_host
short_description: Register an OpenNebula host (KVM node), its cluster and its status
description:
  - Declarative, name-keyed management of an OpenNebula host (C(one.host.*) XML-RPC methods), covering registration with
    its monitoring and virtualization drivers, cluster, status (enabled, disabled, offline) and template attributes.
  - The drivers of a registered host cannot be changed in place; the module fails, naming them, instead of
    deleting a host that may run VMs.
  - A second run with the same arguments makes no write call. Check mode predicts the changes; diff mode shows them.
version_added: 0.1.0
author: eole.hapy contributors (!UNKNOWN)
options:
  name:
    description: Host name as the frontend reaches it over SSH (usually the node's FQDN or address).
    type: str
  state:
    description: C(present) registers or updates the host, C(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  im_mad:
    description: Information (monitoring) driver.
    type: str
    default: kvm
  vm_mad:
    description: Virtualization driver.
    type: str
    default: kvm
  cluster:
    description: Name (or id) of the cluster the host belongs to. Omit to leave it (new hosts go to C(default)).
    type: str
  status:
    description:
      - C(enabled) hosts run VMs; C(disabled) hosts are monitored but get no new VMs; C(offline) hosts are neither.
    type: str
    choices: [enabled, disabled, offline]
    default: enabled
  attributes:
    description: Template attributes of the host, e.g. C(RESERVED_CPU), C(RESERVED_MEM). Declared attributes only.
    type: dict
  wait:
    description: Wait until OpenNebula has monitored a newly registered host (state C(MONITORED)).
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait when O(wait=true).
    type: int
    default: 300
extends_documentation_fragment:
  - eole.hapy.one_objects
  - eole.hapy.one_connection
notes:
  - Runs on the host that reaches the OpenNebula XML-RPC endpoint (usually the controller); needs C(pyone).
  - The oneadmin SSH trust between frontend and node must exist for monitoring to succeed (role C(eole.hapy.nodes)).
seealso:
  - module: eole.hapy.one_cluster
"""

EXAMPLES = r"""
- name: Register a KVM node in its school's cluster
  eole.hapy.one_host:
    name: hapy-9740002b-node1
    cluster: hapy-9740002b
    wait: true
  delegate_to: localhost

- name: Take a node out of scheduling for maintenance
  eole.hapy.one_host:
    name: hapy-9740002b-node1
    status: disabled
  delegate_to: localhost
"""

RETURN = r"""
host:
  description: The host after the task (empty when absent). In check mode, the declared state.
  returned: always
  type: dict
  contains:
    id:
      description: OpenNebula id of the host.
      type: int
      sample: 0
    name:
      description: Name of the host.
      type: str
      sample: hapy-9740002b-node1
    im_mad:
      description: Monitoring driver.
      type: str
      sample: kvm
    vm_mad:
      description: Virtualization driver.
      type: str
      sample: kvm
    cluster:
      description: Name of the host's cluster.
      type: str
      sample: hapy-9740002b
    status:
      description: enabled, disabled or offline.
      type: str
      sample: enabled
    state:
      description: OpenNebula's host state name (C(INIT), C(MONITORED), C(ERROR), ...).
      type: str
      sample: MONITORED
    template:
      description: The declared template attributes with their current values.
      type: dict
      sample: {RESERVED_MEM: "1048576"}
changes:
  description: The keys of the declaration that differed.
  returned: when changed and the host existed
  type: list
  elements: str
  sample: [status]
api_calls:
  description: XML-RPC calls the task made, in total and writes only.
  returned: always
  type: dict
  sample: {total: 1, writes: 0}
"""

from typing import Any

from ansible_collections.eole.hapy.plugins.module_utils import one_template
from ansible_collections.eole.hapy.plugins.module_utils.one_client import wait_for
from ansible_collections.eole.hapy.plugins.module_utils.one_module import (
    KINDS,
    OneObjectModule,
    template_with_fields,
    update_template,
)

#: OpenNebula's HOST_STATES, in order.
HOST_STATES = ("INIT", "MONITORING_MONITORED", "MONITORED", "ERROR", "DISABLED", "MONITORING_ERROR",
               "MONITORING_INIT", "MONITORING_DISABLED", "OFFLINE")
STATUS_CODES = {"enabled": 0, "disabled": 1, "offline": 2}


def host_status(state: int) -> str:
    """The enabled/disabled/offline status of a host in a given HOST_STATES value."""
    name = HOST_STATES[state] if 0 <= state < len(HOST_STATES) else ""
    if name in ("DISABLED", "MONITORING_DISABLED"):
        return "disabled"
    return "offline" if name == "OFFLINE" else "enabled"


class HostModule(OneObjectModule):
    kind = KINDS["host"]
    references = {"cluster": "cluster"}
    fact_name = "host"
    batchable = True
    immutable = ("im_mad", "vm_mad")
    argument_spec = {
        "im_mad": {"type": "str", "default": "kvm"},
        "vm_mad": {"type": "str", "default": "kvm"},
        "cluster": {"type": "str"},
        "status": {"type": "str", "default": "enabled", "choices": list(STATUS_CODES)},
        "attributes": {"type": "dict"},
        "wait": {"type": "bool", "default": False},
        "wait_timeout": {"type": "int", "default": 300},
    }

    def desired(self) -> dict[str, Any]:
        p = self.params
        view = {"im_mad": p["im_mad"], "vm_mad": p["vm_mad"], "status": p["status"],
                "template": one_template.normalize(p["attributes"], "attributes")}
        if p["cluster"] is not None:
            view["cluster"] = p["cluster"]
        return view

    def current(self, obj: Any) -> dict[str, Any]:
        return {
            "im_mad": obj.IM_MAD,
            "vm_mad": obj.VM_MAD,
            "status": host_status(int(obj.STATE)),
            # as declared: its id when declared by id (nothing to read), else its name
            "cluster": str(obj.CLUSTER_ID) if str(self.params["cluster"] or "").isdigit() else obj.CLUSTER,
            "template": template_with_fields(obj, ()),
        }

    def facts(self, obj: Any) -> dict[str, Any]:
        current = self.current(obj)
        state = int(obj.STATE)
        return {"id": int(obj.ID), "name": obj.NAME, **current,
                "template": self.declared_template(current["template"]),
                "state": HOST_STATES[state] if 0 <= state < len(HOST_STATES) else str(state)}

    def create(self, desired: dict[str, Any]) -> int:
        cluster_id = self.id_of("cluster", desired["cluster"], "cluster") if "cluster" in desired else -1
        host_id = int(self.call("host.allocate", self.params["name"], desired["im_mad"], desired["vm_mad"], cluster_id))
        update_template(self, host_id, desired["template"])
        if desired["status"] != "enabled":
            self.call("host.status", host_id, STATUS_CODES[desired["status"]])
        return host_id

    def after_create(self, object_id: int) -> Any:
        if not self.params["wait"]:
            return self.info(object_id)
        return wait_for(
            lambda: self.info(object_id),
            lambda host: HOST_STATES[int(host.STATE)] in ("MONITORED", "DISABLED", "OFFLINE"),
            self.params["wait_timeout"],
            f"host '{self.params['name']}' to be monitored",
            failed=lambda host: "OpenNebula could not monitor it (state ERROR)" if int(host.STATE) == 3 else None,
        )

    def apply(self, obj: Any, changes: dict[str, Any], desired: dict[str, Any]) -> None:
        host_id = int(obj.ID)
        if "cluster" in changes:
            self.call("cluster.addhost", self.id_of("cluster", changes["cluster"], "cluster"), host_id)
        if "template" in changes:
            update_template(self, host_id, one_template.differences(changes["template"], template_with_fields(obj, ())))
        if "status" in changes:
            self.call("host.status", host_id, STATUS_CODES[changes["status"]])


def main() -> None:
    HostModule().run()


if __name__ == "__main__":
    main()
