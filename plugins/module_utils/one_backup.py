# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenNebula VM backups as the API shows them: backup images (``TYPE`` BACKUP) and where their files are.

A VM backup is an image of type BACKUP (6) in a backup datastore, named ``<vm id> <date>``, listing the VM in
``VMS`` while the VM exists, its backed-up disks in ``BACKUP_DISK_IDS``, and, for incremental backups, its chain in
``BACKUP_INCREMENTS``. The rsync driver keeps each backup (and each increment) in
``<datastore BASE_PATH>/<vm id>/<SOURCE>/`` on ``RSYNC_HOST``: ``vm.xml`` (the VM, base64) and ``disk.<disk
id>.<increment id>`` qcow2 files. Used by the ``one_backup_info`` and ``one_backup_restore`` modules.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ansible_collections.eole.hapy.plugins.module_utils import one_template
from ansible_collections.eole.hapy.plugins.module_utils.one_client import OneError

BACKUP_IMAGE_TYPE = 6  # Image::BACKUP
IMAGE_STATES = ("INIT", "READY", "USED", "DISABLED", "LOCKED", "ERROR", "CLONE", "DELETE", "USED_PERS",
                "LOCKED_USED", "LOCKED_USED_PERS")


def _ids(element: Any) -> list[int]:
    ids = getattr(element, "ID", None) if element is not None else None
    if ids is None:
        return []
    return [int(i) for i in (ids if isinstance(ids, list) else [ids])]


def _increments(image: Any) -> list[dict[str, Any]]:
    """The increments of an incremental backup (empty for a full one)."""
    increments = getattr(getattr(image, "BACKUP_INCREMENTS", None), "INCREMENT", None) or []
    out = []
    for inc in increments if isinstance(increments, list) else [increments]:
        out.append({"id": int(inc.ID), "type": str(inc.TYPE), "source": str(inc.SOURCE),
                    "size_mb": int(inc.SIZE or 0), "date": int(inc.DATE or 0)})
    return out


def vm_id_of(image: Any) -> int | None:
    """The backed-up VM: ``VMS`` while it exists, else the leading id of the image's name (``<vm id> <date>``)."""
    ids = _ids(getattr(image, "VMS", None))
    if ids:
        return ids[0]
    match = re.match(r"(\d+) ", str(image.NAME))
    return int(match.group(1)) if match else None


def describe(image: Any, datastore: Any | None, vm_name: str) -> dict[str, Any]:
    """A backup image as the modules return it (see one_backup_info's RETURN)."""
    increments = _increments(image)
    vm_id = vm_id_of(image)
    ds_template = one_template.from_pyone(getattr(datastore, "TEMPLATE", None)) if datastore is not None else {}
    base = str(getattr(datastore, "BASE_PATH", "") or "").rstrip("/")
    sources = [inc["source"] for inc in increments] or [str(image.SOURCE)]
    state = int(image.STATE)
    return {
        "id": int(image.ID),
        "name": str(image.NAME),
        "vm_id": vm_id,
        "vm_name": vm_name,
        "datastore_id": int(image.DATASTORE_ID),
        "datastore": str(image.DATASTORE),
        "datastore_driver": str(getattr(datastore, "DS_MAD", "") or ""),
        "host": str(ds_template.get("RSYNC_HOST", "")),
        "paths": [f"{base}/{vm_id}/{source}" for source in sources] if base and vm_id is not None else [],
        "source": str(image.SOURCE),
        "mode": "INCREMENT" if increments else "FULL",
        "increments": increments,
        "disk_ids": _ids(getattr(image, "BACKUP_DISK_IDS", None)),
        "size_mb": int(image.SIZE or 0),
        "format": str(image.FORMAT or ""),
        "time": int(image.REGTIME),
        "date": dt.datetime.fromtimestamp(int(image.REGTIME), tz=dt.timezone.utc).isoformat(),  # noqa: UP017
        "backup_job_id": int(one_template.from_pyone(image.TEMPLATE).get("BACKUP_JOB_ID", -1) or -1),
        "state": IMAGE_STATES[state] if state < len(IMAGE_STATES) else str(state),
    }


def list_backups(call: Any, vm: str | None = None, backup: int | None = None) -> list[dict[str, Any]]:
    """Backups (newest first), of the VM named or numbered ``vm`` and/or the backup image ``backup`` only.

    ``call`` is the module's API call (``call("imagepool.info", ...)``). A VM is matched by id, or by the name it
    has (or had: a terminated VM keeps its name while oned keeps its record).
    """
    images = [i for i in call("imagepool.info", -2, -1, -1).IMAGE if int(i.TYPE) == BACKUP_IMAGE_TYPE]
    if backup is not None:
        images = [i for i in images if int(i.ID) == backup]
    datastores = {int(d.ID): d for d in call("datastorepool.info").DATASTORE}
    names: dict[int, str] = {}
    out = []
    for image in images:
        vm_id = vm_id_of(image)
        if vm_id is not None and vm_id not in names:
            try:
                names[vm_id] = str(call("vm.info", vm_id).NAME)
            except OneError:
                names[vm_id] = ""  # the VM's record is gone (onedb purge-done)
        vm_name = names.get(vm_id, "") if vm_id is not None else ""
        if vm is not None and str(vm) not in (vm_name, str(vm_id)):
            continue
        out.append(describe(image, datastores.get(int(image.DATASTORE_ID)), vm_name))
    return sorted(out, key=lambda b: (b["time"], b["id"]), reverse=True)
