#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restore an OpenNebula VM backup as a VM template and its disk images."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: one_backup_restore
short_description: Restore an OpenNebula VM backup as a named VM template with its disk images
description:
  - Restores a backup image (C(one.image.restore)) into an image datastore - OpenNebula's restore creates one image
    per backed-up disk, copied from the backup datastore (C(<name>-disk-<n>)), and a VM template O(name) that uses
    them, with the backed-up VM's capacity and attributes. Instantiate it with M(eole.hapy.one_vm) (for example
    powered off, as Hâpy restored VMs).
  - Name-keyed and idempotent - when a template O(name) exists, nothing is restored again; when it was restored from
    another backup, the difference is a warning (RV(not_applied)), never a second restore.
  - The restored template records its backup in C(HAPY_RESTORED_FROM) (the backup image id).
  - Check the backup's files first (M(eole.hapy.hapy_vm_backup_check) on the backup host); OpenNebula's restore copies
    them as they are.
version_added: 0.1.0
author: eole.hapy contributors
options:
  name:
    description: Name of the restored VM template; the images are named C(<name>-disk-<disk id>).
    type: str
    required: true
  state:
    description: Only C(present) (a restore is undone by deleting the template and its images).
    type: str
    choices: [present]
    default: present
  backup:
    description: Id of the backup image to restore (see M(eole.hapy.one_backup_info)).
    type: int
    required: true
  datastore:
    description: Image datastore (name or id) receiving the restored disk images.
    type: str
    required: true
  increment:
    description: For an incremental backup, the increment to restore (default the last one).
    type: int
  no_nic:
    description: Restore the template without the VM's network interfaces (C(NO_NIC)).
    type: bool
    default: false
  no_ip:
    description: Keep the interfaces but not their fixed addresses (C(NO_IP)).
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for the restored images to be C(READY).
    type: int
    default: 600
extends_documentation_fragment:
  - eole.hapy.one_connection
notes:
  - Runs on the host that reaches the OpenNebula XML-RPC endpoint (usually the controller); needs C(pyone).
  - OpenNebula 6.10 answers once the images are copied, 7.0 while they are still C(LOCKED); the module waits for
    C(READY) on both.
seealso:
  - module: eole.hapy.one_backup_info
  - module: eole.hapy.one_vm
  - name: Restoring OpenNebula backups
    description: What a restore creates.
    link: https://docs.opennebula.io/6.10/management_and_operations/backups/operations.html
"""

EXAMPLES = r"""
- name: Restore the newest backup of the Amon as template amon-restored
  eole.hapy.one_backup_restore:
    name: amon-restored
    backup: "{{ amon_backups.backups[0].id }}"
    datastore: images-disques
  delegate_to: localhost

- name: The restored VM, powered off
  eole.hapy.one_vm:
    name: amon-restored
    template: amon-restored
    state: poweroff
  delegate_to: localhost
"""

RETURN = r"""
template:
  description: The restored template (in check mode, the declaration).
  returned: always
  type: dict
  contains:
    id:
      description: Template id.
      type: int
      sample: 7
    name:
      description: Template name.
      type: str
      sample: amon-restored
    backup:
      description: The backup image it was restored from (C(HAPY_RESTORED_FROM); -1 if unknown).
      type: int
      sample: 12
    images:
      description: Its disk images (C(id), C(name), C(state), C(datastore)).
      type: list
      elements: dict
      sample: [{id: 14, name: amon-restored-disk-0, state: READY, datastore: images-disques}]
changes:
  description: Keys that differed.
  returned: when changed and the template existed
  type: list
  elements: str
not_applied:
  description: Declared keys that differ on an existing restore and are not applied (C(backup), C(datastore)).
  returned: when any
  type: list
  elements: str
api_calls:
  description: XML-RPC calls the task made, in total and writes only.
  returned: always
  type: dict
  sample: {total: 6, writes: 2}
"""

from typing import Any

from ansible_collections.eole.hapy.plugins.module_utils import one_template
from ansible_collections.eole.hapy.plugins.module_utils.one_backup import BACKUP_IMAGE_TYPE, IMAGE_STATES
from ansible_collections.eole.hapy.plugins.module_utils.one_client import OneError
from ansible_collections.eole.hapy.plugins.module_utils.one_module import KINDS, OneObjectModule, ref_view

RESTORED_FROM = "HAPY_RESTORED_FROM"


def _disks(template: dict[str, Any]) -> list[dict[str, Any]]:
    disks = template.get("DISK") or []
    return [d for d in (disks if isinstance(disks, list) else [disks]) if isinstance(d, dict)]


class BackupRestoreModule(OneObjectModule):
    kind = KINDS["template"]
    fact_name = "template"
    states = ("present",)
    create_only = ("backup", "datastore")
    argument_spec = {
        "backup": {"type": "int", "required": True},
        "datastore": {"type": "str", "required": True},
        "increment": {"type": "int"},
        "no_nic": {"type": "bool", "default": False},
        "no_ip": {"type": "bool", "default": False},
        "wait_timeout": {"type": "int", "default": 600},
    }

    def validate(self) -> None:
        if self.params["wait_timeout"] < 0:
            raise OneError(f"wait_timeout: {self.params['wait_timeout']} is negative; expected seconds", kind="input")

    def _backup_image(self) -> Any:
        backup = self.params["backup"]
        image = self.info_or_none_of("image", backup)
        if image is None:
            raise OneError(f"backup: no image with id {backup} exists in OpenNebula", kind="input")
        if int(image.TYPE) != BACKUP_IMAGE_TYPE:
            raise OneError(f"backup: image {backup} ('{image.NAME}') is not a backup (type BACKUP)", kind="input")
        if int(image.STATE) not in (1, 2):  # READY, USED (a backup in use by its VM's record)
            state = IMAGE_STATES[int(image.STATE)] if int(image.STATE) < len(IMAGE_STATES) else image.STATE
            raise OneError(f"backup: image {backup} is {state}; only a complete (READY) backup can be restored",
                           kind="input")
        return image

    def info_or_none_of(self, api: str, object_id: int) -> Any | None:
        try:
            return self.call(f"{api}.info", object_id)
        except OneError as exc:
            if exc.kind == "not_found":
                return None
            raise

    def _datastore_id(self) -> int:
        ds_id = self.id_of("datastore", self.params["datastore"], "datastore")
        if ds_id >= 0:
            ds = next(d for d in self.pool(KINDS["datastore"]) if int(d.ID) == ds_id)
            if int(ds.TYPE) != 0:
                raise OneError(f"datastore: '{ds.NAME}' (id {ds_id}) is not an image datastore", kind="input")
        return ds_id

    # ------------------------------------------------------------------ views
    def desired(self) -> dict[str, Any]:
        self._backup_image()
        ds_id = self._datastore_id()
        return {"backup": self.params["backup"],
                "datastore": ref_view(self.params["datastore"], ds_id, self.names_of("datastore", [ds_id])[0])}

    def current(self, obj: Any) -> dict[str, Any]:
        template = one_template.from_pyone(obj.TEMPLATE)
        images = [self.info_or_none_of("image", int(d["IMAGE_ID"])) for d in _disks(template)
                  if str(d.get("IMAGE_ID", "")).isdigit()]
        datastores = sorted({(int(i.DATASTORE_ID), str(i.DATASTORE)) for i in images if i is not None})
        return {"backup": int(template.get(RESTORED_FROM, -1) or -1),
                "datastore": ref_view(self.params["datastore"], *datastores[0]) if len(datastores) == 1 else None}

    def lookup(self, name: str) -> Any | None:
        obj = super().lookup(name)
        return self.info(int(obj.ID)) if obj is not None else None

    def facts(self, obj: Any) -> dict[str, Any]:
        template = one_template.from_pyone(obj.TEMPLATE)
        images = []
        for disk in _disks(template):
            if str(disk.get("IMAGE_ID", "")).isdigit():
                image = self.info_or_none_of("image", int(disk["IMAGE_ID"]))
                if image is not None:
                    state = int(image.STATE)
                    images.append({"id": int(image.ID), "name": str(image.NAME), "datastore": str(image.DATASTORE),
                                   "state": IMAGE_STATES[state] if state < len(IMAGE_STATES) else str(state)})
        return {"id": int(obj.ID), "name": obj.NAME, "backup": int(template.get(RESTORED_FROM, -1) or -1),
                "images": images}

    # ------------------------------------------------------------------ writes
    def create(self, desired: dict[str, Any]) -> int:
        p = self.params
        options = {"NAME": self.name, "NO_NIC": "YES" if p["no_nic"] else "NO", "NO_IP": "YES" if p["no_ip"] else "NO"}
        if p["increment"] is not None:
            options["INCREMENT_ID"] = str(p["increment"])
        answer = str(self.call("image.restore", p["backup"], self._datastore_id(), one_template.render(options)))
        ids = [int(x) for x in answer.split()]
        if not ids or ids[0] < 0:
            raise OneError(f"OpenNebula restored backup {p['backup']} without a VM template (answer {answer!r}); "
                           f"restored images: {ids[1:]}")
        template_id, image_ids = ids[0], ids[1:]
        self.call("template.update", template_id, one_template.render({RESTORED_FROM: str(p["backup"])}), 1)
        for image_id in image_ids:
            self.wait_state(image_id, lambda image: int(image.STATE) == 1, f"restored image {image_id} to be READY",
                            failed=lambda image: "ERROR" if int(image.STATE) == 5 else None,
                            fetch=lambda object_id: self.call("image.info", object_id))
        return template_id

    def apply(self, obj: Any, changes: dict[str, Any], desired: dict[str, Any]) -> None:
        raise AssertionError("every key is create-only")  # pragma: no cover


def main() -> None:
    BackupRestoreModule().run()


if __name__ == "__main__":
    main()
