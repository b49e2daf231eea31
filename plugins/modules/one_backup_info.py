#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""List OpenNebula VM backups."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: one_backup_info
short_description: List the backups of OpenNebula VMs (backup images), newest first
description:
  - Reads the backup images (images of type C(BACKUP)) that OpenNebula's VM backups and backup jobs made, with the
    VM each one belongs to, its mode (full or incremental, with its increments), its size, its date and where its
    files are in the backup datastore (for the C(rsync) driver, C(<BASE_PATH>/<vm id>/<backup id>) on C(RSYNC_HOST)).
  - Changes nothing; a terminated VM's backups are still listed, by the VM's name while OpenNebula keeps its record.
version_added: 0.1.0
author: eole.hapy contributors
options:
  vm:
    description: Only the backups of this VM, by name or id.
    type: str
  backup:
    description: Only this backup image, by id.
    type: int
extends_documentation_fragment:
  - eole.hapy.one_connection
attributes:
  check_mode:
    support: full
    description: Reads only; runs the same in check mode.
  diff_mode:
    support: none
notes:
  - Runs on the host that reaches the OpenNebula XML-RPC endpoint (usually the controller); needs C(pyone).
seealso:
  - module: eole.hapy.one_backup_restore
  - module: eole.hapy.one_backupjob
  - name: OpenNebula VM backups
    description: Backup datastores, backup images and their restore.
    link: https://docs.opennebula.io/6.10/management_and_operations/backups/operations.html
"""

EXAMPLES = r"""
- name: The backups of the Amon, newest first
  eole.hapy.one_backup_info:
    vm: amon
  register: amon_backups
  delegate_to: localhost

- name: Show them
  ansible.builtin.debug:
    msg: "{{ amon_backups.backups | map(attribute='date') | list }}"
"""

RETURN = r"""
backups:
  description: The backups, newest first.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Id of the backup image (what a restore takes).
      type: int
      sample: 12
    name:
      description: Name OpenNebula gave the backup image (C(<vm id> <date>)).
      type: str
      sample: "4 06-Dec 01.36.18"
    vm_id:
      description: Id of the backed-up VM.
      type: int
      sample: 4
    vm_name:
      description: Name of the backed-up VM (empty when OpenNebula no longer keeps its record).
      type: str
      sample: amon
    datastore:
      description: Backup datastore name.
      type: str
      sample: sauvegardes
    datastore_id:
      description: Backup datastore id.
      type: int
      sample: 102
    datastore_driver:
      description: The backup datastore's driver (C(DS_MAD)), e.g. C(rsync).
      type: str
      sample: rsync
    host:
      description: The host keeping the files (C(RSYNC_HOST) of an rsync datastore).
      type: str
      sample: 10.1.0.2
    paths:
      description: Directories of the backup's files on RV(backups[].host), one per increment (one for a full backup).
      type: list
      elements: str
      sample: [/var/lib/one/datastores/102/4/4cb43f]
    source:
      description: OpenNebula's C(SOURCE) of the backup image (the backup id).
      type: str
      sample: 4cb43f
    mode:
      description: C(FULL), or C(INCREMENT) when the backup has increments.
      type: str
      sample: FULL
    increments:
      description: The increments of an incremental backup (C(id), C(type), C(source), C(size_mb), C(date)).
      type: list
      elements: dict
      sample: []
    disk_ids:
      description: The VM disks in the backup.
      type: list
      elements: int
      sample: [0]
    size_mb:
      description: Size of the backup in MB, as the driver measured it.
      type: int
      sample: 2
    format:
      description: C(FORMAT) of the backup image.
      type: str
      sample: raw
    time:
      description: When the backup was registered (epoch).
      type: int
      sample: 1796520978
    date:
      description: The same, ISO 8601 in UTC.
      type: str
      sample: "2026-12-06T01:36:18+00:00"
    backup_job_id:
      description: The backup job that made it (-1 for a one-off backup).
      type: int
      sample: 0
    state:
      description: State of the backup image (C(READY) once complete).
      type: str
      sample: READY
api_calls:
  description: XML-RPC calls the task made, in total and writes only (always 0).
  returned: always
  type: dict
  sample: {total: 3, writes: 0}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.eole.hapy.plugins.module_utils.one_backup import list_backups
from ansible_collections.eole.hapy.plugins.module_utils.one_client import (
    CONNECTION_ARGSPEC,
    Credentials,
    OneClient,
    OneError,
)


def main() -> None:
    module = AnsibleModule(
        argument_spec={"vm": {"type": "str"}, "backup": {"type": "int"}, **CONNECTION_ARGSPEC},
        supports_check_mode=True,
    )
    client = None
    try:
        client = OneClient(Credentials.resolve(module.params))
        backups = list_backups(client.call, module.params["vm"], module.params["backup"])
    except OneError as exc:
        calls = sum(client.calls.values()) if client else 0
        module.fail_json(msg=str(exc), error_kind=exc.kind, api_calls={"total": calls, "writes": 0})
    module.exit_json(changed=False, backups=backups,
                     api_calls={"total": sum(client.calls.values()), "writes": client.writes})


if __name__ == "__main__":
    main()
