"""Datastores and images (fs/ssh-like drivers, dummy copy)."""

from __future__ import annotations

import hashlib
import os
import re
import time

from .. import errors
from .. import template as T
from ..authz import require
from ..engine import (
    DELETE_CHECKS,
    POST_UPDATE,
    Ctx,
    check_unique,
    cluster_arg,
    get,
    method,
    new_obj,
    owned_fields,
    parse_template,
    take_name,
)
from ..render import image_state, image_vms
from ..store import IMG_DISABLED, IMG_ERROR, IMG_LOCKED, IMG_READY, Store, new_datastore
from ..xmlutil import umask_perms

TM_DEFAULTS = {
    "ssh": [("CLONE_TARGET", "SYSTEM"), ("DISK_TYPE", "FILE"), ("LN_TARGET", "SYSTEM")],
    "shared": [("CLONE_TARGET", "SYSTEM"), ("DISK_TYPE", "FILE"), ("LN_TARGET", "NONE")],
    "qcow2": [("CLONE_TARGET", "SYSTEM"), ("DISK_TYPE", "FILE"), ("LN_TARGET", "NONE")],
    "local": [("CLONE_TARGET", "SYSTEM"), ("DISK_TYPE", "FILE"), ("LN_TARGET", "SYSTEM")],
    "ceph": [("CLONE_TARGET", "SELF"), ("DISK_TYPE", "RBD"), ("LN_TARGET", "NONE")],
}


@method("one.datastore.allocate")
def datastore_allocate(ctx: Ctx, text: str, cluster_id: int = -1) -> int:
    """``one.datastore.allocate(template, cluster_id)``."""
    tmpl = parse_template(text)
    cid = cluster_arg(ctx, cluster_id)
    name = take_name(tmpl)
    check_unique(ctx, "datastore", name, -1)
    ds_type = (T.get(tmpl, "TYPE") or "IMAGE_DS").upper()
    if ds_type not in ("IMAGE_DS", "SYSTEM_DS", "FILE_DS", "BACKUP_DS"):
        raise errors.internal(f"Invalid DATASTORE TYPE: {ds_type}.")
    T.replace(tmpl, "TYPE", ds_type)
    if ds_type != "SYSTEM_DS" and not T.get(tmpl, "DS_MAD"):
        raise errors.internal("No DS_MAD in template.")
    if not T.get(tmpl, "TM_MAD"):
        if ds_type != "BACKUP_DS":
            raise errors.internal("No TM_MAD in template.")
        T.replace(tmpl, "TM_MAD", "-")
    for key, val in TM_DEFAULTS.get(T.get(tmpl, "TM_MAD") or "", []):
        if T.get(tmpl, key) is None:
            tmpl.append((key, val))
    oid = ctx.store.new_id("datastore")
    return new_obj(ctx, "datastore", new_datastore(
        oid, name, ctx.uid, ctx.gid, ctx.uname, ctx.gname, umask_perms(0o177), tmpl, [cid]))


def _datastore_delete_check(ctx: Ctx, ds: dict) -> None:
    if any(i["DATASTORE_ID"] == ds["ID"] for i in ctx.store.objs("image").values()):
        raise errors.action(f"Datastore {ds['ID']} is not empty.")


def _datastore_post_update(store: Store, ds: dict, old: list) -> None:
    for key in ("DS_MAD", "TM_MAD"):
        new = T.get(ds["TEMPLATE"], key)
        if new:
            ds[key] = new
        else:
            T.replace(ds["TEMPLATE"], key, ds[key])
    T.replace(ds["TEMPLATE"], "TYPE", ["IMAGE_DS", "SYSTEM_DS", "FILE_DS", "BACKUP_DS"][ds["TYPE"]])


DELETE_CHECKS["datastore"] = _datastore_delete_check
POST_UPDATE["datastore"] = _datastore_post_update

IMAGE_TYPES = ["OS", "CDROM", "DATABLOCK", "KERNEL", "RAMDISK", "CONTEXT", "BACKUP"]


@method("one.image.allocate")
def image_allocate(ctx: Ctx, text: str, ds_id: int, check_capacity: bool = True) -> int:
    """``one.image.allocate(template, ds_id[, check_capacity])``: LOCKED, then READY."""
    tmpl = parse_template(text)
    ds = get(ctx, "datastore", ds_id)
    require(ctx, "datastore", ds, "USE")
    if ds["TYPE"] in (1, 3):
        raise errors.allocate("image", "New images can only be allocated in a files or "
                                       "image datastore.")
    size = T.get(tmpl, "SIZE")
    path = T.get(tmpl, "PATH") or ""
    if not size and path:
        size = "0"
        if "://" not in path:  # the DS_MAD stat action reads the file's size before the image exists
            if not os.path.exists(path):
                raise errors.internal(f"Cannot parse image SIZE: cannot access '{path}' (No such file or directory)")
            size = str(max(1, -(-os.path.getsize(path) // (1024 * 1024))))
    size = size or ""
    if not re.fullmatch(r"\d+", size.strip()):
        raise errors.internal(f"Cannot parse image SIZE: {size}")
    size_mb = int(size)
    used = sum(i["SIZE"] for i in ctx.store.objs("image").values() if i["DATASTORE_ID"] == ds["ID"])
    if check_capacity and size_mb > ds["TOTAL_MB"] - used:
        raise errors.action("Not enough space in datastore")
    T.replace(tmpl, "SIZE", str(size_mb))
    try:  # ImagePool::allocate / Image::insert failures are ALLOCATE errors
        name, itype, path = _image_insert_checks(ctx, tmpl, ds, path)
    except errors.OnedError as exc:
        raise errors.allocate("image", exc.message) from exc
    T.erase(tmpl, "TYPE")
    persistent = (T.get(tmpl, "PERSISTENT") or "").upper() in ("YES", "TRUE", "1")
    T.erase(tmpl, "PERSISTENT")
    oid = ctx.store.new_id("image")
    img = owned_fields(ctx, oid, name)
    img.update({
        "TYPE": IMAGE_TYPES.index(itype), "DISK_TYPE": 0, "PERSISTENT": int(persistent),
        "REGTIME": int(time.time()), "SOURCE": T.get(tmpl, "SOURCE") or "", "PATH": path,
        "FORMAT": T.get(tmpl, "FORMAT") or "raw", "FS": T.get(tmpl, "FS") or "",
        "SIZE": size_mb, "STATE": IMG_LOCKED, "PREV_STATE": 0, "DATASTORE_ID": ds["ID"],
        "TEMPLATE": [(k, v) for k, v in tmpl if k not in ("SOURCE", "PATH", "FORMAT", "FS", "SIZE")],
    })
    if not img["SOURCE"]:
        digest = hashlib.md5(f"{oid}{time.time()}".encode()).hexdigest()
        source = f"{ds['BASE_PATH']}/{digest}"
    else:
        source = img["SOURCE"]
    if path and "://" not in path and _restricted(ds, path):  # the fs driver's cp refuses it: image in ERROR
        error = (f"{time.strftime('%a %b %e %H:%M:%S %Y')} : Error copying image in the datastore: "
                 f"Not allowed to copy image from {path}, check RESTRICTED_DIRS in your datastore")
        ctx.store.schedule("image", img, [{"STATE": IMG_ERROR, "FORMAT": "",
                                           "TEMPLATE": [*img["TEMPLATE"], ("ERROR", error)]}])
    else:
        ctx.store.schedule("image", img, [{"STATE": IMG_READY, "SOURCE": source}])
    return new_obj(ctx, "image", img)


def _restricted(ds: dict, path: str) -> bool:
    """``check_restricted`` of the fs drivers' libfs.sh: SAFE_DIRS first, then RESTRICTED_DIRS (plus oneadmin's
    home, which the drivers always add), as regular-expression prefixes of the resolved path."""
    real = os.path.realpath(path)
    safe = (T.get(ds["TEMPLATE"], "SAFE_DIRS") or "").split()
    restricted = [*(T.get(ds["TEMPLATE"], "RESTRICTED_DIRS") or "").split(), os.path.expanduser("~") + "/"]
    if any(re.match(d, real) for d in safe):
        return False
    return any(re.match(d, real) for d in restricted)


def _image_insert_checks(ctx: Ctx, tmpl: list, ds: dict, path: str) -> tuple[str, str, str]:
    """NAME, TYPE, PATH/SOURCE rules of ``ImagePool::allocate`` and ``Image::insert``."""
    name = take_name(tmpl)
    check_unique(ctx, "image", name, ctx.uid)
    itype = (T.get(tmpl, "TYPE") or ("CONTEXT" if ds["TYPE"] == 2 else "OS")).upper()
    if itype not in IMAGE_TYPES:
        raise errors.internal(f"Unknown type {itype}")
    source = T.get(tmpl, "SOURCE") or ""
    if not source and not path and itype not in ("DATABLOCK", "OS"):
        raise errors.internal("No PATH nor SOURCE in template.")
    if source and path:
        raise errors.internal("Template malformed, PATH and SOURCE are mutually exclusive.")
    if itype in ("OS", "DATABLOCK", "CDROM") and T.get(tmpl, "DEV_PREFIX") is None:
        tmpl.append(("DEV_PREFIX", "hd" if itype == "CDROM" else "sd"))
    return name, itype, path


def _image_delete_check(ctx: Ctx, img: dict) -> None:
    if image_vms(ctx.store, img["ID"]):
        raise errors.action("Cannot delete image, it is being used by VMs")


DELETE_CHECKS["image"] = _image_delete_check


IMAGE_STATES = ["INIT", "READY", "USED", "DISABLED", "LOCKED", "ERROR", "CLONE", "DELETE",
                "USED_PERS", "LOCKED_USED", "LOCKED_USED_PERS"]


@method("one.image.persistent")
def image_persistent(ctx: Ctx, iid: int, persistent: bool) -> int:
    """``one.image.persistent(id, persistent)``."""
    img = get(ctx, "image", iid)
    if img["TYPE"] in (3, 4, 5):
        raise errors.action("KERNEL, RAMDISK and CONTEXT must be non-persistent")
    if img["TYPE"] == 6:
        raise errors.action("BACKUP images must be persistent")
    state = image_state(ctx.store, img)
    if state not in (IMG_READY, IMG_DISABLED, IMG_LOCKED):
        what = "persistent" if persistent else "non-persistent"
        raise errors.internal(f"Could not make image {what}: Image cannot be in state "
                              f"{IMAGE_STATES[state]}.")
    img["PERSISTENT"] = 1 if persistent else 0
    return img["ID"]


@method("one.image.enable")
def image_enable(ctx: Ctx, iid: int, enable: bool) -> int:
    """``one.image.enable(id, enable)``."""
    img = get(ctx, "image", iid)
    state = image_state(ctx.store, img)
    if state not in (IMG_READY, IMG_DISABLED, 5):
        what = "enable" if enable else "disable"
        raise errors.internal(f"Could not {what} image: Image cannot be in state "
                              f"{IMAGE_STATES[state]}.")
    img["STATE"] = IMG_READY if enable else IMG_DISABLED
    return img["ID"]


@method("one.image.chtype")
def image_chtype(ctx: Ctx, iid: int, itype: str) -> int:
    """``one.image.chtype(id, type)``."""
    img = get(ctx, "image", iid)
    new = itype.upper()
    disk_like, file_like = {"OS", "DATABLOCK", "CDROM"}, {"KERNEL", "RAMDISK", "CONTEXT"}
    current = IMAGE_TYPES[img["TYPE"]]
    if current == "BACKUP":
        raise errors.action("Cannot change type for BACKUP images.")
    if (current in disk_like and new not in disk_like) or (current in file_like and new not in file_like):
        raise errors.action("Cannot change image type to an incompatible type for the current "
                            "datastore.")
    img["TYPE"] = IMAGE_TYPES.index(new)
    return img["ID"]
