#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Declarative OpenNebula virtual machine."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: one_vm
short_description: Manage OpenNebula virtual machines by name, their run state and exact counts
description:
  - Declarative, name-keyed management of OpenNebula virtual machines (C(one.vm.*), C(one.template.instantiate)).
  - A missing VM is instantiated from O(template), with the declared overrides (CPU, memory, disks, NICs, context,
    user attributes, labels), optionally on hold.
  - The VM is then brought to the declared O(state) with OpenNebula's actions, C(running) (C(release) or C(resume)),
    C(poweroff) (C(poweroff), or C(poweroff-hard) with O(hard)), C(undeployed) (C(undeploy)) and C(absent)
    (C(terminate) or C(terminate-hard)). C(present) only makes sure the VM exists, in any state.
  - On an existing VM only user-template attributes (O(attributes), O(labels)), O(backup_config) and, with
    O(apply_context), the context can change. A different O(template), CPU, memory, disk, NIC, context (without
    O(apply_context)) or firmware declaration is reported as a warning and in RV(not_applied), never applied to a
    running VM.
  - With O(exact_count), the module manages that many identical VMs named C(<name>-1) ... C(<name>-N); VMs named
    C(<name>-<index>) with a higher index are terminated.
  - A second run with the same arguments makes no write call. Check mode predicts the changes; diff mode shows them.
version_added: 0.1.0
author: eole.hapy contributors (!UNKNOWN)
options:
  name:
    description:
      - Name of the VM; with O(exact_count), the prefix of the VMs' names (C(<name>-<index>), from 1).
      - OpenNebula does not require VM names to be unique; this module does, and fails when two live VMs share one.
    type: str
  state:
    description:
      - C(present) creates the VM if missing and leaves its run state alone; C(running), C(poweroff) and
        C(undeployed) also bring it to that state; C(absent) terminates it.
    type: str
    choices: [present, running, poweroff, undeployed, absent]
    default: present
  template:
    description:
      - Name (or id) of the VM template to instantiate. Required to create a VM. A different template for an
        existing VM is a warning only.
    type: str
  attributes:
    description:
      - User template attributes of the VM (free attributes such as C(DESCRIPTION), C(HAPY_ROLE)), set at creation
        and kept in line afterwards with C(one.vm.update) (merge). Keys are case-insensitive.
    type: dict
  secret_context:
    description:
      - Context attributes the guest needs in clear at its first boot (e.g. a registration password), given to the
        VM when it is instantiated and never written in its template. Values are hidden from logs.
      - Not compared on an existing VM; see O(secret_context_state) to remove them once the guest is installed.
    type: dict
  secret_context_state:
    description:
      - V(present) gives O(secret_context) to a VM being created. V(absent) removes those keys from the context of
        an existing VM (C(one.vm.updateconf), its other configuration sent back unchanged) and does not give them
        to a VM being created. Only the key names appear in C(--diff).
    type: str
    choices: [present, absent]
    default: present
  apply_context:
    description:
      - Also set O(context) on an existing VM with C(one.vm.updateconf), the VM's other configuration sent back
        unchanged. The declared keys that differ are set, none is removed (with O(secret_context_state=absent) the
        secret keys are removed in the same call). The guest reads its new context at its next boot.
      - Without it, a different O(context) on an existing VM is a warning and in RV(not_applied).
      - Values holding a C($) variable (such as C($VMID)) are only used at creation.
    type: bool
    default: false
  labels:
    description: Labels of the VM (the C(LABELS) user attribute Sunstone filters on), compared as a set.
    type: list
    elements: str
  backup_config:
    description:
      - The VM's backup configuration (C(BACKUP_CONFIG)), used by its backups and the backup jobs that include it
        (OpenNebula 6.6 and later). Only the declared keys are compared; a change is applied with
        C(one.vm.updateconf) in merge mode (the VM's other configuration is left as it is), in any state but
        C(DONE), C(SUSPENDED) and C(STOPPED).
    type: dict
    suboptions:
      mode:
        description: C(FULL) or C(INCREMENT) backups (C(MODE)).
        type: str
        choices: [FULL, INCREMENT]
      keep_last:
        description: Number of backups kept (C(KEEP_LAST)), at least 1.
        type: int
      fs_freeze:
        description: How a running VM's filesystems are frozen during a backup (C(FS_FREEZE)).
        type: str
        choices: [NONE, AGENT, SUSPEND]
      backup_volatile:
        description: Whether volatile disks are backed up too (C(BACKUP_VOLATILE)).
        type: bool
      increment_mode:
        description: How incremental backups of qcow2 disks track changes (C(INCREMENT_MODE)).
        type: str
        choices: [CBT, SNAPSHOT]
  hold:
    description:
      - Create the VM on hold (the scheduler does not deploy it) with O(state=present); a later run with
        O(state=running) releases it.
    type: bool
    default: false
  hard:
    description: Use the C(-hard) variants of C(poweroff), C(undeploy) and C(terminate) (no ACPI shutdown).
    type: bool
    default: false
  exact_count:
    description:
      - Number of identical VMs C(<name>-1) ... C(<name>-N) to have. Missing ones are created, those with a higher
        index are terminated. With O(state=absent), every C(<name>-<index>) VM is terminated.
    type: int
    aliases: [count]
  wait:
    description:
      - Wait until each VM reaches the declared state (C(RUNNING), C(POWEROFF), C(UNDEPLOYED), or C(DONE) for
        O(state=absent)). Intermediate states a transition needs (for example C(RUNNING) before C(poweroff)) are
        always waited for.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for each state before failing.
    type: int
    default: 300
extends_documentation_fragment:
  - eole.hapy.one_objects
  - eole.hapy.one_connection
  - eole.hapy.one_vmspec
  - eole.hapy.one_ownership
notes:
  - Runs on the host that reaches the OpenNebula XML-RPC endpoint (usually the controller); needs C(pyone).
  - The VM definition options (O(cpu), O(memory), O(disks), O(nics), O(context), ...) override the template's at
    instantiation; O(disks) and O(nics) replace the template's lists, O(context) is merged over the template's context.
  - A VM in a C(*_FAILURE) or C(UNKNOWN) state makes the task fail with the state's name; recover it first
    (C(onevm recover)).
seealso:
  - module: eole.hapy.one_template
  - name: OpenNebula VM life cycle
    description: VM states and the actions between them.
    link: https://docs.opennebula.io/6.10/management_and_operations/vm_management/vm_instances.html
"""

EXAMPLES = r"""
- name: The Amon of a school, running, with its fixed address on the pedagogical network
  eole.hapy.one_vm:
    name: amon-9740001a
    template: amon-9740001a
    state: running
    nics:
      - network: CR_wan
      - network: CR_pedago
        ip: 10.20.0.1
    context:
      SET_HOSTNAME: amon
    attributes:
      HAPY_ROLE: amon
    labels: [hapy, "9740001A"]
    group: etb_9740001a
  delegate_to: localhost
  register: amon

- name: Three identical exam workstations, eleve-1 to eleve-3
  eole.hapy.one_vm:
    name: eleve
    template: poste-eleve
    exact_count: 3
    state: running
  delegate_to: localhost

- name: Power a VM off for maintenance (hard, no ACPI)
  eole.hapy.one_vm:
    name: scribe-9740001a
    state: poweroff
    hard: true
  delegate_to: localhost

- name: Create a VM on hold, to release it later with state running
  eole.hapy.one_vm:
    name: horus-9740001a
    template: horus-9740001a
    hold: true
  delegate_to: localhost

- name: Free a node's resources but keep the VM's disks
  eole.hapy.one_vm:
    name: horus-9740001a
    state: undeployed
  delegate_to: localhost

- name: Terminate a VM
  eole.hapy.one_vm:
    name: old-amon
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
vm:
  description: The VM after the task (empty when absent, or with O(exact_count)). In check mode, the declared state.
  returned: always
  type: dict
  contains:
    id:
      description: OpenNebula id of the VM.
      type: int
      sample: 42
    name:
      description: Name of the VM.
      type: str
      sample: amon-9740001a
    state:
      description: OpenNebula VM state (C(PENDING), C(HOLD), C(ACTIVE), C(POWEROFF), C(UNDEPLOYED), C(DONE), ...).
      type: str
      sample: ACTIVE
    lcm_state:
      description: Life-cycle state within C(ACTIVE) (C(PROLOG), C(BOOT), C(RUNNING), C(SHUTDOWN_POWEROFF), ...).
      type: str
      sample: RUNNING
    phase:
      description: The state as this module declares it (C(running), C(poweroff), C(undeployed), C(hold), ...).
      type: str
      sample: running
    ips:
      description: IPv4 addresses of the VM's NICs, in NIC order.
      type: list
      elements: str
      sample: [192.168.1.10, 10.20.0.1]
    nics:
      description: The VM's NICs, with C(nic_id), C(network), C(ip) and C(mac).
      type: list
      elements: dict
      sample: [{nic_id: 0, network: CR_pedago, ip: 10.20.0.1, mac: "02:00:0a:14:00:01"}]
    host:
      description: Name of the host the VM was last placed on (empty if never deployed).
      type: str
      sample: node1
    template_id:
      description: Id of the template the VM was made from.
      type: int
      sample: 7
    attributes:
      description: The declared user template attributes with their current values.
      type: dict
      sample: {HAPY_ROLE: amon}
    labels:
      description: Labels of the VM.
      type: list
      elements: str
      sample: ["9740001A", hapy]
    backup_config:
      description: The VM's C(BACKUP_CONFIG) (C(MODE), C(KEEP_LAST), C(FS_FREEZE), C(BACKUP_VOLATILE), ...).
      type: dict
      sample: {MODE: FULL, KEEP_LAST: "7", FS_FREEZE: NONE, BACKUP_VOLATILE: "NO", INCREMENT_MODE: CBT}
    owner:
      description: Owner of the VM (user name).
      type: str
      sample: oneadmin
    group:
      description: Group of the VM.
      type: str
      sample: etb_9740001a
    permissions:
      description: Permissions in octal form (owner, group, others; USE=4, MANAGE=2, ADMIN=1).
      type: str
      sample: "600"
vms:
  description: Every VM the task manages (one item without O(exact_count)), each as RV(vm).
  returned: always
  type: list
  elements: dict
  sample: [{id: 42, name: eleve-1, state: ACTIVE, lcm_state: RUNNING, ips: [10.20.0.11]}]
changes:
  description: The keys of the declaration that differed (C(state), C(attributes), C(labels), C(group), ...).
  returned: when changed and the VM existed (without O(exact_count))
  type: list
  elements: str
  sample: [state]
not_applied:
  description: Declared keys that differ on an existing VM but can only be set at creation; a warning is emitted.
  returned: when such a difference exists
  type: list
  elements: str
  sample: [memory]
api_calls:
  description: XML-RPC calls the task made, in total and writes only.
  returned: always
  type: dict
  sample: {total: 4, writes: 0}
"""

import re
from typing import Any

from ansible_collections.eole.hapy.plugins.module_utils import one_template
from ansible_collections.eole.hapy.plugins.module_utils.one_client import OneError
from ansible_collections.eole.hapy.plugins.module_utils.one_module import (
    KINDS,
    OneObjectModule,
    labels_of,
    owner_facts,
    ref_view,
    update_template,
)
from ansible_collections.eole.hapy.plugins.module_utils.one_vmspec import (
    VM_SPEC_ARGSPEC,
    as_list,
    capacity_error,
    validate_vm_spec,
    vm_spec_template,
)

#: VmState of include/VirtualMachine.h, by value.
VM_STATES = ("INIT", "PENDING", "HOLD", "ACTIVE", "STOPPED", "SUSPENDED", "DONE", "FAILED", "POWEROFF",
             "UNDEPLOYED", "CLONING", "CLONING_FAILURE")
#: LcmState of include/VirtualMachine.h, by value.
LCM_STATES = (
    "LCM_INIT", "PROLOG", "BOOT", "RUNNING", "MIGRATE", "SAVE_STOP", "SAVE_SUSPEND", "SAVE_MIGRATE", "PROLOG_MIGRATE",
    "PROLOG_RESUME", "EPILOG_STOP", "EPILOG", "SHUTDOWN", "CANCEL", "FAILURE", "CLEANUP_RESUBMIT", "UNKNOWN", "HOTPLUG",
    "SHUTDOWN_POWEROFF", "BOOT_UNKNOWN", "BOOT_POWEROFF", "BOOT_SUSPENDED", "BOOT_STOPPED", "CLEANUP_DELETE",
    "HOTPLUG_SNAPSHOT", "HOTPLUG_NIC", "HOTPLUG_SAVEAS", "HOTPLUG_SAVEAS_POWEROFF", "HOTPLUG_SAVEAS_SUSPENDED",
    "SHUTDOWN_UNDEPLOY", "EPILOG_UNDEPLOY", "PROLOG_UNDEPLOY", "BOOT_UNDEPLOY", "HOTPLUG_PROLOG_POWEROFF",
    "HOTPLUG_EPILOG_POWEROFF", "BOOT_MIGRATE", "BOOT_FAILURE", "BOOT_MIGRATE_FAILURE", "PROLOG_MIGRATE_FAILURE",
    "PROLOG_FAILURE", "EPILOG_FAILURE", "EPILOG_STOP_FAILURE", "EPILOG_UNDEPLOY_FAILURE", "PROLOG_MIGRATE_POWEROFF",
    "PROLOG_MIGRATE_POWEROFF_FAILURE", "PROLOG_MIGRATE_SUSPEND", "PROLOG_MIGRATE_SUSPEND_FAILURE",
    "BOOT_UNDEPLOY_FAILURE", "BOOT_STOPPED_FAILURE", "PROLOG_RESUME_FAILURE", "PROLOG_UNDEPLOY_FAILURE",
    "DISK_SNAPSHOT_POWEROFF", "DISK_SNAPSHOT_REVERT_POWEROFF", "DISK_SNAPSHOT_DELETE_POWEROFF",
    "DISK_SNAPSHOT_SUSPENDED", "DISK_SNAPSHOT_REVERT_SUSPENDED", "DISK_SNAPSHOT_DELETE_SUSPENDED", "DISK_SNAPSHOT",
    "DISK_SNAPSHOT_REVERT", "DISK_SNAPSHOT_DELETE", "PROLOG_MIGRATE_UNKNOWN", "PROLOG_MIGRATE_UNKNOWN_FAILURE",
    "DISK_RESIZE", "DISK_RESIZE_POWEROFF", "DISK_RESIZE_UNDEPLOYED", "HOTPLUG_NIC_POWEROFF", "HOTPLUG_RESIZE",
    "HOTPLUG_SAVEAS_UNDEPLOYED", "HOTPLUG_SAVEAS_STOPPED", "BACKUP", "BACKUP_POWEROFF",
)
#: Stable phases by VM state (ACTIVE is RUNNING, UNKNOWN or on its way somewhere).
STABLE = {2: "hold", 4: "stopped", 5: "suspended", 6: "done", 8: "poweroff", 9: "undeployed"}
#: Where a transient ACTIVE LCM state is heading (any other transient one returns to running).
HEADING = {
    "SHUTDOWN_POWEROFF": "poweroff", "SHUTDOWN_UNDEPLOY": "undeployed", "EPILOG_UNDEPLOY": "undeployed",
    "EPILOG": "done", "SHUTDOWN": "done", "CLEANUP_DELETE": "done", "SAVE_STOP": "stopped", "EPILOG_STOP": "stopped",
    "SAVE_SUSPEND": "suspended", "HOTPLUG_SAVEAS_POWEROFF": "poweroff", "HOTPLUG_PROLOG_POWEROFF": "poweroff",
    "HOTPLUG_EPILOG_POWEROFF": "poweroff", "DISK_SNAPSHOT_POWEROFF": "poweroff",
    "DISK_SNAPSHOT_REVERT_POWEROFF": "poweroff", "DISK_SNAPSHOT_DELETE_POWEROFF": "poweroff",
    "DISK_RESIZE_POWEROFF": "poweroff", "HOTPLUG_NIC_POWEROFF": "poweroff", "BACKUP_POWEROFF": "poweroff",
    "DISK_RESIZE_UNDEPLOYED": "undeployed", "HOTPLUG_SAVEAS_UNDEPLOYED": "undeployed",
    "HOTPLUG_SAVEAS_STOPPED": "stopped", "HOTPLUG_SAVEAS_SUSPENDED": "suspended",
    "DISK_SNAPSHOT_SUSPENDED": "suspended",
    "DISK_SNAPSHOT_REVERT_SUSPENDED": "suspended", "DISK_SNAPSHOT_DELETE_SUSPENDED": "suspended",
}
#: The action that moves a VM from a stable phase towards a target (None: wait for the scheduler/driver).
NEXT_ACTION = {
    "running": {"hold": "release", "poweroff": "resume", "undeployed": "resume", "stopped": "resume",
                "suspended": "resume"},
    "poweroff": {"running": "poweroff", "hold": "release", "undeployed": "resume", "stopped": "resume",
                 "suspended": "resume"},
    "undeployed": {"running": "undeploy", "poweroff": "undeploy", "hold": "release", "stopped": "resume",
                   "suspended": "resume"},
}
HARD_ACTIONS = ("poweroff", "undeploy", "terminate")
#: backup_config suboptions -> BACKUP_CONFIG keys
BACKUP_CONFIG_KEYS = {"mode": "MODE", "keep_last": "KEEP_LAST", "fs_freeze": "FS_FREEZE",
                      "backup_volatile": "BACKUP_VOLATILE", "increment_mode": "INCREMENT_MODE"}
#: Declared keys that only matter when the VM is created.
#: The vectors one.vm.updateconf sets (src/vm/VirtualMachine.cc updateconf, 6.10 and 7.0), CONTEXT aside.
UPDATECONF_VECTORS = ("OS", "FEATURES", "INPUT", "GRAPHICS", "VIDEO", "RAW", "CPU_MODEL")
CREATE_ONLY = ("template", "cpu", "vcpu", "memory", "disks", "nics", "context", "graphics", "os", "features", "inputs")


def state_names(vm: Any) -> tuple[str, str]:
    """The VM's state and LCM state names."""
    state, lcm = int(vm.STATE), int(vm.LCM_STATE)
    return (VM_STATES[state] if state < len(VM_STATES) else str(state),
            LCM_STATES[lcm] if lcm < len(LCM_STATES) else str(lcm))


def phase_of(vm: Any) -> tuple[str, str]:
    """``(phase, heading)``: a stable phase heads to itself; ``transient`` phases head where OpenNebula takes them.

    Failures (``FAILED``, ``CLONING_FAILURE``, ``*_FAILURE`` and ``UNKNOWN``) are the phase ``failure``.
    """
    state, lcm = state_names(vm)
    if state in ("FAILED", "CLONING_FAILURE") or (state == "ACTIVE" and (lcm.endswith("FAILURE") or lcm == "UNKNOWN")):
        return "failure", "failure"
    if state == "ACTIVE":
        if lcm == "RUNNING":
            return "running", "running"
        return "transient", HEADING.get(lcm, "running")
    if int(vm.STATE) in STABLE:
        return STABLE[int(vm.STATE)], STABLE[int(vm.STATE)]
    if state == "CLONING":  # its disk images are being made: oned then puts it on HOLD if it was created on hold
        on_hold = str(one_template.from_pyone(vm.TEMPLATE).get("SUBMIT_ON_HOLD", "")).upper() in ("YES", "TRUE")
        return "transient", "hold" if on_hold else "running"
    return "transient", "running"  # INIT, PENDING: the scheduler deploys it


def vm_failure(vm: Any) -> str | None:
    """A clear message when the VM is in a failure state, else None."""
    if phase_of(vm)[0] != "failure":
        return None
    state, lcm = state_names(vm)
    shown = lcm if state == "ACTIVE" else state
    return f"the VM is in state {shown}; recover it (onevm recover) before managing it"


class VmModule(OneObjectModule):
    kind = KINDS["vm"]
    fact_name = "vm"
    batchable = True
    ownable = True
    states = ("present", "running", "poweroff", "undeployed", "absent")
    argument_spec = {
        **VM_SPEC_ARGSPEC,
        "template": {"type": "str"},
        "attributes": {"type": "dict"},
        "labels": {"type": "list", "elements": "str"},
        "secret_context": {"type": "dict", "no_log": True},
        "secret_context_state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "apply_context": {"type": "bool", "default": False},
        "backup_config": {"type": "dict", "options": {
            "mode": {"type": "str", "choices": ["FULL", "INCREMENT"]},
            "keep_last": {"type": "int"},
            "fs_freeze": {"type": "str", "choices": ["NONE", "AGENT", "SUSPEND"]},
            "backup_volatile": {"type": "bool"},
            "increment_mode": {"type": "str", "choices": ["CBT", "SNAPSHOT"]},
        }},
        "hold": {"type": "bool", "default": False},
        "hard": {"type": "bool", "default": False},
        "exact_count": {"type": "int", "aliases": ["count"]},
        "wait": {"type": "bool", "default": True},
        "wait_timeout": {"type": "int", "default": 300},
    }

    @property
    def create_only(self) -> tuple[str, ...]:  # type: ignore[override]
        """The declared keys only used at creation; ``context`` is not one of them with ``apply_context``."""
        return tuple(key for key in CREATE_ONLY if key != "context" or not self.params["apply_context"])

    # ------------------------------------------------------------------ input
    def validate(self) -> None:
        p = self.params
        if p["exact_count"] is not None and p["exact_count"] < 0:
            raise OneError(f"exact_count: {p['exact_count']} is negative; expected a number of VMs (0 or more)")
        if p["wait_timeout"] < 0:
            raise OneError(f"wait_timeout: {p['wait_timeout']} is negative; expected a number of seconds")
        if p["hold"] and p["state"] in ("running", "poweroff", "undeployed"):
            raise OneError(f"hold: a VM created on hold is not deployed, so it cannot be {p['state']}; use "
                           f"state: present with hold, then state: {p['state']} to release it")
        if (p["backup_config"] or {}).get("keep_last") is not None and p["backup_config"]["keep_last"] < 1:
            raise OneError(f"backup_config.keep_last: {p['backup_config']['keep_last']} must be at least 1",
                           kind="input")
        if p["state"] != "absent":
            validate_vm_spec(p)
            one_template.normalize(p["attributes"], "attributes")
            one_template.normalize(p["secret_context"], "secret_context")

    def lookup(self, name: str) -> Any | None:
        obj = super().lookup(name)
        if obj is None:
            if self.params["state"] != "absent":
                if not self.params["template"]:
                    raise OneError(f"template: required to create VM '{name}' (name or id of a VM template)")
                self.check_creatable(name)
            return None
        return self.info(int(obj.ID))  # the pool lists a short template only

    def check_creatable(self, name: str) -> None:
        """Before any write: the template exists and, merged with the declared definition, gives the VM what oned
        requires (a VM without CPU or MEMORY is refused by instantiate)."""
        p = self.params
        template_id = self.id_of("template", p["template"], "template")
        if template_id < 0:
            return  # check mode, the template only predicted by an earlier task: nothing to read yet
        merged = {**one_template.from_pyone(self.call("template.info", template_id).TEMPLATE),
                  **one_template.normalize(p["attributes"], "attributes"), **vm_spec_template(self, p)}
        problem = capacity_error(merged, name, str(p["template"]))
        if problem:
            raise OneError(problem)

    # ------------------------------------------------------------------ views
    def desired(self) -> dict[str, Any]:
        p = self.params
        view: dict[str, Any] = {"state": p["state"]}
        if p["attributes"] is not None:
            view["attributes"] = one_template.normalize(p["attributes"], "attributes")
        if p["labels"] is not None:
            view["labels"] = labels_of(p["labels"])
        if backup_config_of(p["backup_config"]):
            view["backup_config"] = backup_config_of(p["backup_config"])
        if p["template"] is not None:
            view["template"] = p["template"]
        if p["secret_context"] and p["secret_context_state"] == "absent":
            view["secret_context"] = []  # the names of the secret keys still in the VM's context
        spec = vm_spec_template(self, p)
        for option, key in (("cpu", "CPU"), ("vcpu", "VCPU"), ("memory", "MEMORY"), ("context", "CONTEXT"),
                            ("graphics", "GRAPHICS"), ("os", "OS"), ("features", "FEATURES"), ("inputs", "INPUT")):
            if key in spec:
                view[option] = spec[key]
        if "context" in view:  # a $VARIABLE is resolved by oned at creation: never compared, never set again
            view["context"] = {k: v for k, v in view["context"].items() if "$" not in str(v)}
        if "NIC" in spec:
            view["nics"] = [self.ref_name(nic, "NETWORK", "vn") for nic in as_list(spec["NIC"])]
        if "DISK" in spec:
            view["disks"] = [self.ref_name(disk, "IMAGE", "image") for disk in as_list(spec["DISK"])]
        return view

    def ref_name(self, vector: dict[str, Any], attr: str, api: str) -> str:
        """The name of the network of a NIC or the image of a disk (``volatile`` for a disk without image)."""
        if vector.get(attr):
            return str(vector[attr])
        if str(vector.get(f"{attr}_ID", "")).isdigit():
            return self.names_of(api, [int(vector[f"{attr}_ID"])])[0]
        return "volatile" if attr == "IMAGE" else str(vector.get("NETWORK_MODE", ""))

    def current(self, obj: Any) -> dict[str, Any]:
        template = one_template.from_pyone(obj.TEMPLATE)
        user = one_template.from_pyone(obj.USER_TEMPLATE)
        phase, heading = phase_of(obj)
        view: dict[str, Any] = {
            "state": heading if phase == "transient" and heading == self.params["state"] else phase,
            "attributes": user,
            "labels": labels_of(user.get("LABELS")),
            "backup_config": current_backup_config(obj),
            "cpu": template.get("CPU"), "vcpu": template.get("VCPU"), "memory": template.get("MEMORY"),
            "context": {k: v for k, v in (template.get("CONTEXT") or {}).items() if "$" not in str(v)},
            "graphics": template.get("GRAPHICS"), "os": template.get("OS"), "features": template.get("FEATURES"),
            "inputs": template.get("INPUT"),
            "nics": [self.ref_name(nic, "NETWORK", "vn") for nic in as_list(template.get("NIC"))],
            "disks": [self.ref_name(disk, "IMAGE", "image") for disk in as_list(template.get("DISK"))],
            "secret_context": sorted(set(self.secret_keys()) & set(template.get("CONTEXT") or {})),
        }
        if self.params["template"] is not None and str(template.get("TEMPLATE_ID", "")).isdigit():
            template_id = int(template["TEMPLATE_ID"])
            name = self.names_of("template", [template_id])[0]
            # a template deleted since is no difference worth a warning
            view["template"] = self.params["template"] if name == str(template_id) else \
                ref_view(self.params["template"], template_id, name)
        return view

    def secret_keys(self) -> list[str]:
        return list(one_template.normalize(self.params["secret_context"], "secret_context"))

    def same(self, key: str, desired: Any, current: Any) -> bool:
        if key == "state":
            return desired == "present" or desired == current
        if key == "context":
            return all(one_template.same_value(v, (current or {}).get(k)) for k, v in desired.items())
        if key in ("nics", "disks"):
            return desired == current
        if key == "backup_config":
            return all(one_template.same_value(v, (current or {}).get(k)) for k, v in desired.items())
        return super().same(key, desired, current)

    def facts(self, obj: Any) -> dict[str, Any]:
        template = one_template.from_pyone(obj.TEMPLATE)
        user = one_template.from_pyone(obj.USER_TEMPLATE)
        state, lcm = state_names(obj)
        nics = [{"nic_id": int(nic.get("NIC_ID", index)), "network": nic.get("NETWORK", ""), "ip": nic.get("IP", ""),
                 "mac": nic.get("MAC", "")} for index, nic in enumerate(as_list(template.get("NIC")))]
        return {
            "id": int(obj.ID),
            "name": obj.NAME,
            "state": state,
            "lcm_state": lcm,
            "phase": phase_of(obj)[0],
            "ips": [nic["ip"] for nic in nics if nic["ip"]],
            "nics": nics,
            "host": _last_host(obj),
            "template_id": int(template["TEMPLATE_ID"]) if str(template.get("TEMPLATE_ID", "")).isdigit() else -1,
            "attributes": self.declared_template(user),
            "labels": labels_of(user.get("LABELS")),
            "backup_config": current_backup_config(obj),
            **owner_facts(obj),
        }

    # ------------------------------------------------------------------ writes
    def create(self, desired: dict[str, Any]) -> int:
        p = self.params
        template_id = self.id_of("template", p["template"], "template")
        extra = {**one_template.normalize(p["attributes"], "attributes"), **vm_spec_template(self, p)}
        if "labels" in desired:
            extra["LABELS"] = ",".join(desired["labels"])
        if "backup_config" in desired:
            extra["BACKUP_CONFIG"] = desired["backup_config"]
        secrets = one_template.normalize(p["secret_context"], "secret_context") \
            if p["secret_context_state"] == "present" else {}
        if "CONTEXT" in extra or secrets:  # instantiate replaces vectors: merge over the template's context
            source = one_template.from_pyone(self.call("template.info", template_id).TEMPLATE)
            extra["CONTEXT"] = {**(source.get("CONTEXT") or {}), **extra.get("CONTEXT", {}), **secrets}
        return int(self.call("template.instantiate", template_id, self.name, p["hold"],
                             one_template.render(extra), False))

    def after_create(self, object_id: int) -> Any:
        if self.params["state"] == "present":
            vm = self.info(object_id)
            if self.params["hold"] and self.params["wait"] and phase_of(vm) == ("transient", "hold"):
                return self.wait_phase(object_id, "hold")  # CLONING until its images are ready
            return vm
        return self.reach(object_id, self.params["state"])

    def settle(self, obj: Any) -> Any:
        phase, heading = phase_of(obj)
        if self.params["wait"] and phase == "transient" and heading == self.params["state"]:
            return self.reach(int(obj.ID), heading)
        return obj

    def apply(self, obj: Any, changes: dict[str, Any], desired: dict[str, Any]) -> None:
        attributes = dict(changes.get("attributes", {}))
        if "labels" in changes:
            attributes["LABELS"] = ",".join(changes["labels"])
        update_template(self, int(obj.ID), attributes)
        if "backup_config" in changes:  # merge mode: only BACKUP_CONFIG's declared keys change
            self.call("vm.updateconf", int(obj.ID), one_template.render({"BACKUP_CONFIG": changes["backup_config"]}), 1)
        if "secret_context" in changes or "context" in changes:
            self.update_context(obj, changes.get("context") or {},
                                self.secret_keys() if "secret_context" in changes else [])
        if "state" in changes:
            self.reach(int(obj.ID), changes["state"])

    def update_context(self, obj: Any, values: dict[str, Any], removed: list[str]) -> None:
        """``one.vm.updateconf`` in replace mode: the VM's context with ``values`` set and ``removed`` left out;
        every other vector updateconf takes is sent back as it is (replace mode erases those left out)."""
        template = one_template.from_pyone(obj.TEMPLATE)
        conf = {key: template[key] for key in UPDATECONF_VECTORS if template.get(key)}
        context = {k: v for k, v in (template.get("CONTEXT") or {}).items() if k not in removed}
        context.update(values)
        conf["CONTEXT"] = context
        self.call("vm.updateconf", int(obj.ID), one_template.render(conf), 0)

    def delete(self, obj: Any) -> None:
        self.call("vm.action", self.action("terminate"), int(obj.ID))
        if self.params["wait"]:
            self.wait_state(int(obj.ID), lambda vm: int(vm.STATE) == 6, f"VM '{obj.NAME}' (id {obj.ID}) to be DONE")

    # ------------------------------------------------------------------ state transitions
    def action(self, name: str) -> str:
        return f"{name}-hard" if self.params["hard"] and name in HARD_ACTIONS else name

    def reach(self, vm_id: int, target: str) -> Any:
        """Act and wait until the VM is in the ``target`` phase (the last wait only with ``wait``)."""
        vm = self.info(vm_id)
        for _attempt in range(8):
            problem = vm_failure(vm)
            if problem:
                raise OneError(f"VM '{vm.NAME}' (id {vm_id}): {problem}", kind="state")
            phase, heading = phase_of(vm)
            if phase == target:
                return vm
            if phase == "transient":
                if heading == target and not self.params["wait"]:
                    return vm
                vm = self.wait_phase(vm_id, heading if heading in (target, "done") else "stable")
                continue
            action = NEXT_ACTION[target].get(phase)
            if action is None:
                raise OneError(f"VM '{vm.NAME}' (id {vm_id}) is {phase}; it cannot be brought to {target}")
            self.call("vm.action", self.action(action), vm_id)
            # oned's life-cycle manager acts asynchronously: a read right after the call may still show the phase
            # acted on (real oned; a second action there is refused or doubled), so wait until the VM has left it.
            vm = self.wait_state(vm_id, lambda now, acted_on=phase: phase_of(now)[0] != acted_on,
                                 f"VM '{vm.NAME}' (id {vm_id}) to leave {phase} after '{action}'", failed=vm_failure)
            if not self.params["wait"] and phase_of(vm)[1] == target:
                return vm
        raise OneError(f"VM '{vm.NAME}' (id {vm_id}) did not reach {target} (now {phase_of(vm)[0]})")

    def wait_phase(self, vm_id: int, phase: str) -> Any:
        """Wait for a phase (``stable``: any phase that is not transient); fail on a failure state."""
        def ready(vm: Any) -> bool:
            now = phase_of(vm)[0]
            return now == phase or (phase == "stable" and now not in ("transient", "failure"))

        what = f"VM '{self.name}' (id {vm_id}) to be {phase.upper() if phase != 'stable' else 'in a stable state'}"
        return self.wait_state(vm_id, ready, what, failed=vm_failure)

    # ------------------------------------------------------------------ several VMs
    def _converge(self) -> dict[str, Any]:
        count = self.params["exact_count"]
        if count is None:
            result = self.converge_object(self.params["name"])
            result["vms"] = [result["vm"]] if result["vm"] else []
            return result
        prefix = self.params["name"]
        pattern = re.compile(rf"^{re.escape(prefix)}-(\d+)$")
        indexes = sorted({int(m.group(1)) for vm in self.pool(self.kind) if (m := pattern.match(vm.NAME))})
        keep = [] if self.params["state"] == "absent" else list(range(1, count + 1))
        results = [self.converge_object(f"{prefix}-{i}") for i in keep]
        state = self.params["state"]
        self.params["state"] = "absent"
        results += [self.converge_object(f"{prefix}-{i}") for i in indexes if i not in keep]
        self.params["state"] = state
        diff = {"before": {}, "after": {}}
        for result in results:
            for side in ("before", "after"):
                part = result.get("diff", {}).get(side)
                if part:
                    diff[side][str(part.get("name") or result["vm"].get("name"))] = part
        outcome: dict[str, Any] = {
            "changed": any(r["changed"] for r in results),
            "vm": {},
            "vms": [r["vm"] for r in results if r["vm"]],
            "diff": diff,
        }
        skipped = sorted({key for r in results for key in r.get("not_applied", [])})
        if skipped:
            outcome["not_applied"] = skipped
        return outcome


def backup_config_of(declared: dict[str, Any] | None) -> dict[str, str]:
    """The declared backup_config as BACKUP_CONFIG attributes (only the keys given)."""
    out = {}
    for option, key in BACKUP_CONFIG_KEYS.items():
        value = (declared or {}).get(option)
        if value is not None:
            out[key] = ("YES" if value else "NO") if isinstance(value, bool) else str(value)
    return out


def current_backup_config(vm: Any) -> dict[str, str]:
    """The VM's BACKUP_CONFIG (in its BACKUPS element), for the keys the module manages."""
    config = getattr(getattr(vm, "BACKUPS", None), "BACKUP_CONFIG", None)
    values = {key: getattr(config, key, None) for key in BACKUP_CONFIG_KEYS.values()}
    return {key: str(value) for key, value in values.items() if value not in (None, "")}


def _last_host(vm: Any) -> str:
    records = getattr(getattr(vm, "HISTORY_RECORDS", None), "HISTORY", None) or []
    records = records if isinstance(records, list) else [records]
    return str(records[-1].HOSTNAME) if records else ""


def main() -> None:
    VmModule().run()


if __name__ == "__main__":
    main()
