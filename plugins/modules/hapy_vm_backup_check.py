#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check an OpenNebula VM backup's files before restoring them."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hapy_vm_backup_check
short_description: Check the files of an OpenNebula VM backup (rsync backup datastore) before a restore
description:
  - Runs on the host that keeps the backup (C(RSYNC_HOST) of the backup datastore, usually the frontend) and only
    reads. For each backup directory (RV(eole.hapy.one_backup_info#module:backups[].paths)) it checks that
    C(vm.xml) decodes to the VM's description, that every backed-up disk has its file
    C(disk.<disk id>.<increment>), and that each disk file is a sound qcow2 image - C(qemu-img check) finds no
    corruption (a truncated or overwritten file has clusters beyond its end or a broken header) and its virtual size
    is the disk's size recorded in C(vm.xml).
  - Fails, naming each problem, when anything is wrong, so that a playbook stops before restoring a damaged backup.
  - OpenNebula's rsync driver records no checksum of the data - a changed byte inside a data cluster of an otherwise
    sound qcow2 file is not detected.
version_added: 0.1.0
author: eole.hapy contributors
options:
  paths:
    description: The backup's directories, oldest increment first (one for a full backup).
    type: list
    elements: path
    required: true
  disk_ids:
    description: The disks the backup must hold (C(BACKUP_DISK_IDS)); by default those C(vm.xml) lists.
    type: list
    elements: int
  qemu_img:
    description: The C(qemu-img) command.
    type: path
    default: qemu-img
attributes:
  check_mode:
    support: full
    description: Reads only; runs the same in check mode.
  diff_mode:
    support: none
requirements:
  - qemu-img (Debian package qemu-utils) on the backup host
seealso:
  - module: eole.hapy.one_backup_info
  - module: eole.hapy.one_backup_restore
"""

EXAMPLES = r"""
- name: Check the backup's files on the backup host
  eole.hapy.hapy_vm_backup_check:
    paths: "{{ chosen_backup.paths }}"
    disk_ids: "{{ chosen_backup.disk_ids }}"
  delegate_to: "{{ chosen_backup.host }}"
"""

RETURN = r"""
vm:
  description: The backed-up VM as C(vm.xml) describes it (C(id), C(name), C(disks) - disk id to size in MB).
  returned: success
  type: dict
  sample: {id: 4, name: amon, disks: {"0": 10240}}
files:
  description: Each disk file checked (C(path), C(disk_id), C(bytes), C(format), C(virtual_size)).
  returned: success
  type: list
  elements: dict
problems:
  description: What is wrong (empty on success).
  returned: always
  type: list
  elements: str
"""

import base64
import binascii
import json
import os
import re
import xml.etree.ElementTree as ET
from typing import Any

from ansible.module_utils.basic import AnsibleModule

MIB = 1024 * 1024


def read_vm_xml(path: str) -> tuple[dict[str, Any] | None, str | None]:
    """The VM of a backup's ``vm.xml`` (base64 of the VM's XML, as the transfer driver writes it)."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        return None, f"{path}: cannot be read ({exc.strerror})"
    try:
        text = base64.b64decode(b"".join(raw.split()), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        text = raw.decode(errors="replace")  # a plain XML vm.xml
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        return None, f"{path}: not the VM's description ({exc})"
    if root.tag != "VM" or root.findtext("ID") is None:
        return None, f"{path}: not the VM's description (no VM/ID)"
    disks = {d.findtext("DISK_ID"): int(d.findtext("SIZE") or 0) for d in root.findall("TEMPLATE/DISK")}
    return {"id": int(root.findtext("ID")), "name": root.findtext("NAME") or "", "disks": disks}, None


def check_disk(module: AnsibleModule, path: str, size_mb: int | None) -> tuple[dict[str, Any], list[str]]:
    """``qemu-img info`` and ``check`` of one disk file."""
    qemu_img = module.params["qemu_img"]
    entry: dict[str, Any] = {"path": path, "bytes": os.path.getsize(path)}
    rc, out, err = module.run_command([qemu_img, "info", "--output=json", path])
    if rc != 0:
        return entry, [f"{path}: qemu-img cannot read it ({err.strip() or out.strip()})"]
    info = json.loads(out)
    entry.update(format=info.get("format"), virtual_size=int(info.get("virtual-size", 0)))
    problems = []
    if entry["format"] != "qcow2":
        problems.append(f"{path}: format {entry['format']}, expected qcow2 (header damaged?)")
    else:
        rc, out, err = module.run_command([qemu_img, "check", "-f", "qcow2", "--output=json", path])
        report = json.loads(out) if out.strip().startswith("{") else {}
        errors = int(report.get("corruptions", 0)) + int(report.get("check-errors", 0))
        if rc in (1, 2) or errors:
            problems.append(f"{path}: qemu-img check found {report.get('corruptions', 0)} corruptions and "
                            f"{report.get('check-errors', 0)} errors (truncated or damaged file)"
                            + (f": {err.strip().splitlines()[0]}" if err.strip() else ""))
    # OpenNebula records a disk's size in MB, rounded up
    if size_mb and entry.get("virtual_size") and -(-entry["virtual_size"] // MIB) != size_mb:
        problems.append(f"{path}: virtual size {entry['virtual_size']} bytes, but the VM's disk has {size_mb} MB")
    return entry, problems


def main() -> None:
    module = AnsibleModule(
        argument_spec={"paths": {"type": "list", "elements": "path", "required": True},
                       "disk_ids": {"type": "list", "elements": "int"},
                       "qemu_img": {"type": "path", "default": "qemu-img"}},
        supports_check_mode=True,
    )
    paths = module.params["paths"]
    if not paths:
        module.fail_json(msg="paths: empty; expected the backup's directories (one_backup_info's backups[].paths)",
                         problems=["no path"])
    problems: list[str] = []
    files: list[dict[str, Any]] = []
    vm = None
    for directory in paths:
        if not os.path.isdir(directory):
            problems.append(f"{directory}: no such backup directory")
            continue
        described, problem = read_vm_xml(os.path.join(directory, "vm.xml"))
        if problem:
            problems.append(problem)
        vm = described or vm
    if vm is not None:
        wanted = [str(d) for d in module.params["disk_ids"]] if module.params["disk_ids"] is not None \
            else sorted(vm["disks"])
        for directory in (p for p in paths if os.path.isdir(p)):
            found = {m.group(1): os.path.join(directory, name) for name in sorted(os.listdir(directory))
                     if (m := re.fullmatch(r"disk\.(\d+)\.\d+", name))}
            for disk_id in wanted:
                if disk_id not in found:
                    problems.append(f"{directory}: disk {disk_id} has no file (disk.{disk_id}.*)")
                    continue
                entry, disk_problems = check_disk(module, found[disk_id], vm["disks"].get(disk_id))
                files.append({"disk_id": int(disk_id), **entry})
                problems += disk_problems
    if problems:
        module.fail_json(msg="backup refused: " + "; ".join(problems), problems=problems, files=files, vm=vm or {})
    module.exit_json(changed=False, vm=vm, files=files, problems=[])


if __name__ == "__main__":
    main()
