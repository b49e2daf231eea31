#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Declarative OpenNebula image."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: one_image
short_description: Manage an OpenNebula image (OS disk, CD-ROM, empty data block, kernel, context file)
description:
  - Declarative, name-keyed management of an OpenNebula image (C(one.image.*) XML-RPC methods).
  - An image is registered once, from O(path) (read by the datastore driver on the frontend) or as an empty
    C(DATABLOCK) of O(size) MB. It is B(never re-uploaded) - when it exists, a different O(path) or O(size) is
    reported as a warning (and in RV(not_applied)), never acted upon. Delete it (O(state=absent)) to register it again.
  - Its type, persistence, enabled state, C(DEV_PREFIX), C(DESCRIPTION) and free template attributes are kept in
    line with the declaration; only the declared attributes are compared.
  - With O(wait), the task returns once the image is C(READY) and fails with OpenNebula's error message when the
    datastore driver puts it in C(ERROR).
  - A second run with the same arguments makes no write call. Check mode predicts the changes; diff mode shows them
    attribute by attribute.
version_added: 0.1.0
author: eole.hapy contributors (!UNKNOWN)
options:
  name:
    description: Name of the image (unique for its owner).
    type: str
  state:
    description: C(present) registers or updates the image, C(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  datastore:
    description:
      - Name (or id) of the image datastore holding the image. Cannot change once the image exists.
    type: str
    default: default
  path:
    description:
      - Where the datastore driver reads the image from when it is registered, an absolute path on the
        OpenNebula frontend, or a URL (C(http://), C(https://), C(s3://), ...).
      - Required to create an image, unless O(size) declares an empty C(DATABLOCK).
      - Only used at creation; a different value for an existing image is a warning.
    type: str
  size:
    description:
      - Size in MB of an empty C(DATABLOCK) image (O(type) defaults to C(DATABLOCK) when O(size) is given without
        O(path)). With O(path), the size the image is given (e.g. to grow it).
      - Only used at creation; a different value for an existing image is a warning.
    type: int
  type:
    description:
      - Image type. Defaults to C(OS) (C(DATABLOCK) for an empty image). Changed in place with C(one.image.chtype).
    type: str
    choices: [OS, CDROM, DATABLOCK, KERNEL, RAMDISK, CONTEXT]
  persistent:
    description: Whether the image is persistent (VMs write to it) or cloned for each VM (C(one.image.persistent)).
    type: bool
  dev_prefix:
    description: Device prefix of the disks made from this image, e.g. C(vd) (virtio), C(sd) (SCSI/SATA), C(hd).
    type: str
  description:
    description: The C(DESCRIPTION) attribute of the image.
    type: str
  attributes:
    description:
      - Further template attributes, e.g. C(DRIVER), C(FORMAT) hints or site labels. Keys are case-insensitive;
        only declared attributes are compared and merged.
    type: dict
  enabled:
    description: C(false) disables the image (no new VM can use it), C(true) enables it again.
    type: bool
  wait:
    description: Wait until the image is C(READY) (registration copies the file, which can take minutes).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for C(READY) before failing.
    type: int
    default: 600
extends_documentation_fragment:
  - eole.hapy.one_objects
  - eole.hapy.one_connection
  - eole.hapy.one_ownership
notes:
  - Runs on the host that reaches the OpenNebula XML-RPC endpoint (usually the controller); needs C(pyone).
  - O(path) is read by the OpenNebula frontend, not by the host running the task.
  - Deleting an image used by VMs fails with OpenNebula's own error.
seealso:
  - module: eole.hapy.one_template
  - module: eole.hapy.one_datastore
  - name: OpenNebula image template reference
    description: Attributes of image templates.
    link: https://docs.opennebula.io/6.10/management_and_operations/storage_management/images.html
"""

EXAMPLES = r"""
- name: The EOLE 2.10 Amon system disk, registered from the frontend
  eole.hapy.one_image:
    name: eole-2.10-amon
    datastore: default
    path: /var/lib/one/import/eole-2.10-amon.qcow2
    type: OS
    dev_prefix: vd
    description: EOLE 2.10 Amon (firewall/proxy)
    wait_timeout: 1800
  delegate_to: localhost

- name: A persistent, empty 20 GB data disk for the Scribe file server
  eole.hapy.one_image:
    name: scribe-data-9740001a
    size: 20480
    persistent: true
    dev_prefix: vd
    owner: site-9740001a
    group: etb_9740001a
    permissions: "660"
  delegate_to: localhost

- name: Disable an old image so no new VM uses it
  eole.hapy.one_image:
    name: eole-2.9-amon
    enabled: false
  delegate_to: localhost

- name: Remove an image
  eole.hapy.one_image:
    name: eole-2.8-amon
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
image:
  description: The image after the task (empty when absent). In check mode, the declared state.
  returned: always
  type: dict
  contains:
    id:
      description: OpenNebula id of the image.
      type: int
      sample: 4
    name:
      description: Name of the image.
      type: str
      sample: eole-2.10-amon
    type:
      description: Image type.
      type: str
      sample: OS
    datastore:
      description: Name of the datastore holding the image.
      type: str
      sample: default
    datastore_id:
      description: Id of the datastore holding the image.
      type: int
      sample: 1
    state:
      description: Image state (C(READY), C(USED), C(LOCKED) while being copied, C(DISABLED), C(ERROR), ...).
      type: str
      sample: READY
    persistent:
      description: Whether the image is persistent.
      type: bool
      sample: false
    enabled:
      description: Whether the image is enabled (not C(DISABLED)).
      type: bool
      sample: true
    size:
      description: Size in MB.
      type: int
      sample: 10240
    path:
      description: Where the image was registered from.
      type: str
      sample: /var/lib/one/import/eole-2.10-amon.qcow2
    source:
      description: Where the datastore keeps the image.
      type: str
      sample: /var/lib/one//datastores/1/0cb3d2d3d1b4f5e6
    template:
      description: The declared template attributes with their current values (upper-case keys).
      type: dict
      sample: {DEV_PREFIX: vd, DESCRIPTION: EOLE 2.10 Amon (firewall/proxy)}
    running_vms:
      description: Number of VMs using the image.
      type: int
      sample: 0
    owner:
      description: Owner of the image (user name).
      type: str
      sample: oneadmin
    group:
      description: Group of the image.
      type: str
      sample: oneadmin
    permissions:
      description: Permissions in octal form (owner, group, others; USE=4, MANAGE=2, ADMIN=1).
      type: str
      sample: "600"
changes:
  description: The keys of the declaration that differed (C(type), C(persistent), C(template), C(enabled), ...).
  returned: when changed and the image existed
  type: list
  elements: str
  sample: [persistent]
not_applied:
  description: Declared keys that differ but are only used at creation (C(path), C(size)); a warning is emitted.
  returned: when such a difference exists
  type: list
  elements: str
  sample: [path]
api_calls:
  description: XML-RPC calls the task made, in total and writes only.
  returned: always
  type: dict
  sample: {total: 2, writes: 0}
"""

import re
from typing import Any

from ansible_collections.eole.hapy.plugins.module_utils import one_template
from ansible_collections.eole.hapy.plugins.module_utils.one_client import OneError
from ansible_collections.eole.hapy.plugins.module_utils.one_module import (
    KINDS,
    OneObjectModule,
    owner_facts,
    ref_view,
    update_template,
)

#: ImageType of include/Image.h, by value.
IMAGE_TYPES = ("OS", "CDROM", "DATABLOCK", "KERNEL", "RAMDISK", "CONTEXT", "BACKUP")
#: ImageState of include/Image.h, by value.
IMAGE_STATES = ("INIT", "READY", "USED", "DISABLED", "LOCKED", "ERROR", "CLONE", "DELETE", "USED_PERS",
                "LOCKED_USED", "LOCKED_USED_PERS")
DISABLED = 3
ERROR = 5
USABLE = (1, 2, 8)  # READY, USED, USED_PERS


class ImageModule(OneObjectModule):
    kind = KINDS["image"]
    fact_name = "image"
    batchable = True
    ownable = True
    immutable = ("datastore",)
    create_only = ("path", "size")
    references = {"datastore": "datastore"}
    argument_spec = {
        "datastore": {"type": "str", "default": "default"},
        "path": {"type": "str"},
        "size": {"type": "int"},
        "type": {"type": "str", "choices": list(IMAGE_TYPES[:6])},
        "persistent": {"type": "bool"},
        "dev_prefix": {"type": "str"},
        "description": {"type": "str"},
        "attributes": {"type": "dict"},
        "enabled": {"type": "bool"},
        "wait": {"type": "bool", "default": True},
        "wait_timeout": {"type": "int", "default": 600},
    }

    # ------------------------------------------------------------------ input
    def validate(self) -> None:
        p = self.params
        if p["state"] == "absent":
            return
        path = p["path"]
        if path is not None and not (path.startswith("/") or re.match(r"^[a-z][a-z0-9+.-]*://\S+$", path)):
            raise OneError(f"path: {path!r} is neither an absolute path on the frontend nor a URL; expected e.g. "
                           f"/var/lib/one/import/disk.qcow2 or https://host/disk.qcow2")
        if p["size"] is not None and p["size"] < 1:
            raise OneError(f"size: {p['size']} is not a size; expected a positive number of MB")
        if path is None and p["size"] is not None and p["type"] not in (None, "DATABLOCK"):
            raise OneError(f"type: an image without path is an empty DATABLOCK, not {p['type']}; give path to "
                           f"register a {p['type']} image")
        if p["dev_prefix"] is not None and not re.fullmatch(r"[a-z]{1,4}", p["dev_prefix"]):
            raise OneError(f"dev_prefix: {p['dev_prefix']!r} is not a device prefix; expected e.g. vd, sd or hd")
        if p["wait_timeout"] < 0:
            raise OneError(f"wait_timeout: {p['wait_timeout']} is negative; expected a number of seconds")

    def lookup(self, name: str) -> Any | None:
        obj = super().lookup(name)
        if obj is None and self.params["state"] == "present" and not self.params["path"] and not self.params["size"]:
            raise OneError(f"path: required to register image '{name}' (or size, in MB, for an empty DATABLOCK)")
        return obj

    # ------------------------------------------------------------------ views
    def _image_type(self) -> str | None:
        p = self.params
        if p["type"]:
            return p["type"]
        return "DATABLOCK" if p["path"] is None and p["size"] is not None else None

    def declared_attributes(self) -> dict[str, Any]:
        """The declared template attributes: ``attributes`` plus DEV_PREFIX and DESCRIPTION."""
        p = self.params
        template = one_template.normalize(p["attributes"], "attributes")
        for key, value in (("DEV_PREFIX", p["dev_prefix"]), ("DESCRIPTION", p["description"])):
            if value is not None:
                template[key] = value
        return template

    def desired(self) -> dict[str, Any]:
        p = self.params
        template = self.declared_attributes()
        view: dict[str, Any] = {"datastore": p["datastore"]}
        optional = {"type": self._image_type(), "persistent": p["persistent"], "enabled": p["enabled"],
                    "path": p["path"], "size": p["size"]}
        view.update({k: v for k, v in optional.items() if v is not None})
        if template:
            view["template"] = template
        return view

    def current(self, obj: Any) -> dict[str, Any]:
        return {
            "datastore": ref_view(self.params["datastore"], obj.DATASTORE_ID, obj.DATASTORE),
            "type": IMAGE_TYPES[int(obj.TYPE)] if int(obj.TYPE) < len(IMAGE_TYPES) else str(obj.TYPE),
            "persistent": bool(int(obj.PERSISTENT)),
            "enabled": int(obj.STATE) != DISABLED,
            "path": obj.PATH or None,
            "size": int(obj.SIZE),
            "template": one_template.from_pyone(obj.TEMPLATE),
        }

    def facts(self, obj: Any) -> dict[str, Any]:
        current = self.current(obj)
        state = int(obj.STATE)
        return {
            "id": int(obj.ID),
            "name": obj.NAME,
            "type": current["type"],
            "datastore": obj.DATASTORE,
            "datastore_id": int(obj.DATASTORE_ID),
            "state": IMAGE_STATES[state] if state < len(IMAGE_STATES) else str(state),
            "persistent": current["persistent"],
            "enabled": current["enabled"],
            "size": current["size"],
            "path": obj.PATH or "",
            "source": obj.SOURCE or "",
            "template": self.declared_template(current["template"], self.declared_attributes()),
            "running_vms": int(obj.RUNNING_VMS or 0),
            **owner_facts(obj),
        }

    def same(self, key: str, desired: Any, current: Any) -> bool:
        if key in ("persistent", "enabled", "size"):
            return desired == current
        return super().same(key, desired, current)

    # ------------------------------------------------------------------ writes
    def create(self, desired: dict[str, Any]) -> int:
        p = self.params
        template: dict[str, Any] = {"NAME": self.name, **desired.get("template", {})}
        for key, value in (("PATH", p["path"]), ("SIZE", p["size"]), ("TYPE", desired.get("type")),
                           ("PERSISTENT", p["persistent"])):
            if value is not None:
                template[key] = value
        datastore_id = self.id_of("datastore", p["datastore"], "datastore")
        return int(self.call("image.allocate", one_template.render(template), datastore_id))

    def after_create(self, object_id: int) -> Any:
        if self.params["enabled"] is False:
            self.wait_ready(object_id)
            self.call("image.enable", object_id, False)
            return self.info(object_id)
        return self.wait_ready(object_id) if self.params["wait"] else self.info(object_id)

    def settle(self, obj: Any) -> Any:
        if self.params["wait"] and int(obj.STATE) not in (*USABLE, DISABLED):
            return self.wait_ready(int(obj.ID))
        return obj

    def delete(self, obj: Any) -> None:
        """oned removes an image asynchronously (DELETE state while the driver removes its file): with ``wait``,
        return once it is gone, so that a next task neither sees it nor finds its name taken."""
        super().delete(obj)
        if self.params["wait"]:
            self.wait_state(int(obj.ID), lambda img: img is None, f"image '{self.name}' (id {obj.ID}) to be deleted",
                            fetch=self.info_or_none)

    def wait_ready(self, image_id: int) -> Any:
        """Wait for READY (or in use); fail with OpenNebula's message on ERROR."""
        return self.wait_state(image_id, lambda img: int(img.STATE) in (*USABLE, DISABLED),
                               f"image '{self.name}' (id {image_id}) to be READY", failed=image_error)

    def apply(self, obj: Any, changes: dict[str, Any], desired: dict[str, Any]) -> None:
        image_id = int(obj.ID)
        if "template" in changes:
            current = one_template.from_pyone(obj.TEMPLATE)
            update_template(self, image_id, one_template.differences(changes["template"], current))
        if "type" in changes:
            self.call("image.chtype", image_id, changes["type"])
        if "persistent" in changes:
            self.call("image.persistent", image_id, changes["persistent"])
        if "enabled" in changes:
            self.call("image.enable", image_id, changes["enabled"])


def image_error(obj: Any) -> str | None:
    """OpenNebula's error for an image in ERROR state (the ``ERROR`` template attribute), else None."""
    if obj is None or int(obj.STATE) != ERROR:
        return None
    message = one_template.from_pyone(obj.TEMPLATE).get("ERROR") or "no error message from the datastore driver"
    return f"the image is in ERROR state: {message}"


def main() -> None:
    ImageModule().run()


if __name__ == "__main__":
    main()
