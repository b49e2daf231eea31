"""Generic engine of the fake oned's ``one.*`` methods.

One :class:`Kind` declaration per object kind drives the generic handlers
(``info``, ``update``, ``delete``, ``rename``, ``chmod``, ``chown`` and the pool
``info``); the modules of :mod:`tests.oned.methods` register the
kind-specific methods (``allocate`` and extras) and the delete/update hooks.
Handlers run under the store lock and raise
:class:`~tests.oned.errors.OnedError` on failure.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

from . import errors
from . import template as T
from .authz import allowed, require
from .render import render, render_pool
from .store import Store, check_name
from .xmlutil import umask_perms


@dataclass
class Ctx:
    """The authenticated caller of one request."""

    store: Store
    method: str
    uid: int
    gid: int
    uname: str
    gname: str
    groups: list

    @property
    def admin(self) -> bool:
        """Members of the oneadmin group bypass ACLs in oned."""
        return self.uid == 0 or 0 in self.groups


@dataclass(frozen=True)
class Kind:
    """Declaration of one object kind for the generic handlers."""

    key: str          # store pool key
    prefix: str       # "one.vn"
    pool: str         # "one.vnpool.info"
    pool_tag: str     # "VNET_POOL"
    obj_name: str     # used in "Error getting <obj_name> [id]."
    taken: str = ""   # "NET" in "NAME is already taken by NET 3." ("" = names not unique)
    scope: str = ""   # "owner" (unique per owner) or "global"
    owned: bool = True


KINDS = {k.key: k for k in (
    Kind("vn", "one.vn", "one.vnpool.info", "VNET_POOL", "virtual network", "NET", "owner"),
    Kind("datastore", "one.datastore", "one.datastorepool.info", "DATASTORE_POOL", "datastore",
         "DATASTORE", "global"),
    Kind("image", "one.image", "one.imagepool.info", "IMAGE_POOL", "image", "IMAGE", "owner"),
    Kind("template", "one.template", "one.templatepool.info", "VMTEMPLATE_POOL",
         "virtual machine template", "TEMPLATE", "owner"),
    Kind("vm", "one.vm", "one.vmpool.info", "VM_POOL", "virtual machine"),
    Kind("secgroup", "one.secgroup", "one.secgrouppool.info", "SECURITY_GROUP_POOL",
         "security group", "SECGROUP", "owner"),
    Kind("backupjob", "one.backupjob", "one.backupjobpool.info", "BACKUPJOB_POOL", "backup job"),
    Kind("host", "one.host", "one.hostpool.info", "HOST_POOL", "host", "HOST", "global", False),
    Kind("cluster", "one.cluster", "one.clusterpool.info", "CLUSTER_POOL", "cluster", "CLUSTER",
         "global", False),
    Kind("user", "one.user", "one.userpool.info", "USER_POOL", "user", "USER", "global", False),
    Kind("group", "one.group", "one.grouppool.info", "GROUP_POOL", "group", "GROUP", "global",
         False),
    Kind("vdc", "one.vdc", "one.vdcpool.info", "VDC_POOL", "VDC", "VDC", "global", False),
    Kind("document", "one.document", "one.documentpool.info", "DOCUMENT_POOL", "document"),
)}

HANDLERS: dict[str, Callable] = {}


def method(*names: str) -> Callable:
    """Register a handler under one or more XML-RPC method names."""
    def deco(fn: Callable) -> Callable:
        for name in names:
            HANDLERS[name] = fn
        return fn
    return deco


# ======================================================================
# Generic helpers
# ======================================================================
def get(ctx: Ctx, kind: str, oid: int) -> dict:
    """Object or NO_EXISTS."""
    obj = ctx.store.find(kind, int(oid))
    if obj is None:
        raise errors.no_exists(KINDS[kind].obj_name if kind in KINDS else kind, int(oid))
    return obj


def exist(store: Store, kind: str, name: str, uid: int, skip: int | None = None) -> int:
    """Id of an object with that name (per owner or global), or -1."""
    scope = KINDS[kind].scope
    for obj in store.objs(kind).values():
        if obj["ID"] != skip and obj["NAME"] == name and (scope == "global" or obj["UID"] == uid):
            return obj["ID"]
    return -1


def check_unique(ctx: Ctx, kind: str, name: str, uid: int) -> None:
    """``NAME is already taken by <KIND> <id>.``"""
    if not KINDS[kind].taken:
        return
    other = exist(ctx.store, kind, name, uid)
    if other != -1:
        raise errors.internal(f"NAME is already taken by {KINDS[kind].taken} {other}.")


def parse_template(text: str) -> list:
    """Template string (oned syntax or XML) or INTERNAL parse error."""
    try:
        return T.parse(text)
    except T.TemplateError as exc:
        raise errors.internal(str(exc)) from exc


def take_name(tmpl: list, missing: str = "No NAME in template.") -> str:
    """Erase NAME from a template and validate it."""
    names = T.erase(tmpl, "NAME")
    name = names[0] if names and isinstance(names[0], str) else ""
    if not name.strip():
        raise errors.internal(missing)
    return check_name(name)


def owned_fields(ctx: Ctx, oid: int, name: str) -> dict:
    """ID, NAME, owner and default permissions (umask 177) of a new object."""
    return {"ID": oid, "NAME": name, "UID": ctx.uid, "GID": ctx.gid, "UNAME": ctx.uname,
            "GNAME": ctx.gname, "PERMS": umask_perms(0o177)}


def cluster_arg(ctx: Ctx, cluster_id: int) -> int:
    """Allocate's cluster argument: -1 means the default cluster 0."""
    cid = 0 if int(cluster_id) == -1 else int(cluster_id)
    require(ctx, "cluster", get(ctx, "cluster", cid), "ADMIN")
    return cid


def new_obj(ctx: Ctx, kind: str, obj: dict) -> int:
    """Insert an object allocated in a request; returns its id."""
    ctx.store.add(kind, obj)
    return obj["ID"]


# ======================================================================
# Generic methods
# ======================================================================
def _info(kind: str) -> Callable:
    def handler(ctx: Ctx, oid: int, *_flags: object) -> str:
        oid = int(oid)
        if oid == -1 and kind in ("user", "group"):
            oid = ctx.uid if kind == "user" else ctx.gid
        return render(ctx.store, kind, get(ctx, kind, oid), True)
    return handler


def _delete(kind: str) -> Callable:
    def handler(ctx: Ctx, oid: int, *_flags: object) -> int:
        obj = get(ctx, kind, oid)
        try:
            DELETE_CHECKS.get(kind, lambda c, o: None)(ctx, obj)
        except errors.OnedError as exc:
            raise errors.action(f"Cannot delete {KINDS[kind].obj_name}. {exc.message}") from exc
        del ctx.store.objs(kind)[obj["ID"]]
        return obj["ID"]
    return handler


def _update(kind: str) -> Callable:
    def handler(ctx: Ctx, oid: int, text: str, utype: int = 0) -> int:
        obj = get(ctx, kind, oid)
        if int(utype) not in (0, 1):
            raise errors.api("Wrong update type")
        new = parse_template(text)
        field = "USER_TEMPLATE" if kind == "vm" else "TEMPLATE"
        backup = copy.deepcopy(obj)
        old = obj[field]
        obj[field] = T.merge(old, new) if int(utype) == 1 else new
        try:
            POST_UPDATE.get(kind, lambda store, o, old: None)(ctx.store, obj, old)
        except errors.OnedError:
            obj.clear()
            obj.update(backup)
            raise
        return obj["ID"]
    return handler


def _rename(kind: str) -> Callable:
    def handler(ctx: Ctx, oid: int, name: str) -> int:
        obj = get(ctx, kind, oid)
        if obj["NAME"] == name:
            return obj["ID"]
        if KINDS[kind].taken:
            other = exist(ctx.store, kind, name.strip(), obj.get("UID", -1), skip=obj["ID"])
            if other != -1:
                oname = KINDS[kind].obj_name
                raise errors.action(f"{oname} cannot be renamed to {name} because it "
                                    f"collides with {oname} {other}")
        try:
            obj["NAME"] = check_name(name)
        except errors.OnedError as exc:
            raise errors.action(exc.message) from exc
        return obj["ID"]
    return handler


def _chmod(kind: str) -> Callable:
    def handler(ctx: Ctx, oid: int, *bits: int) -> int:
        obj = get(ctx, kind, oid)
        if len(bits) != 9:
            raise errors.api("Wrong number of permission arguments")
        obj["PERMS"] = [old if int(b) == -1 else int(b) for old, b in zip(obj["PERMS"], bits, strict=True)]
        return obj["ID"]
    return handler


def _chown(kind: str) -> Callable:
    def handler(ctx: Ctx, oid: int, uid: int, gid: int) -> int:
        obj = get(ctx, kind, oid)
        uid, gid = int(uid), int(gid)
        user = get(ctx, "user", uid) if uid > -1 else None
        group = get(ctx, "group", gid) if gid > -1 else None
        if user is not None:
            if KINDS[kind].taken:
                other = exist(ctx.store, kind, obj["NAME"], uid, skip=obj["ID"])
                if other != -1:
                    raise errors.action(
                        f"There is already a {KINDS[kind].obj_name} called {obj['NAME']} "
                        f"owned by user {user['NAME']}: {KINDS[kind].obj_name} {other}")
            obj["UID"], obj["UNAME"] = uid, user["NAME"]
        if group is not None:
            obj["GID"], obj["GNAME"] = gid, group["NAME"]
        return obj["ID"]
    return handler


def filter_objs(ctx: Ctx, kind: str, flag: int, start: int, end: int) -> list:
    """oned's pool filter flags (-4 group, -3 mine, -2 all, -1 mine+groups, >=0 uid) and id range."""
    flag, start, end = int(flag), int(start), int(end)
    if flag < -4:
        raise errors.api("Incorrect filter_flag.")
    out = []
    for obj in sorted(ctx.store.objs(kind).values(), key=lambda o: o["ID"]):
        if KINDS[kind].owned:
            uid, gid = obj["UID"], obj["GID"]
            if flag == -4 and gid != ctx.gid:
                continue
            if flag == -3 and uid != ctx.uid:
                continue
            if flag == -1 and not ctx.admin and uid != ctx.uid and gid not in ctx.groups:
                continue
            if flag >= 0 and uid != flag:
                continue
        if not allowed(ctx, kind, obj, "USE"):
            continue
        if start != -1 and obj["ID"] < start:
            continue
        if end >= 0 and obj["ID"] > end:
            continue
        out.append(obj)
    if end < -1:
        out = out[:-end]
    return out


def _pool_info(kind: str) -> Callable:
    tag = KINDS[kind].pool_tag

    def handler(ctx: Ctx, flag: int = -2, start: int = -1, end: int = -1, *_ignored: object) -> str:
        # real oned ignores trailing arguments (community.general's one_vm sends templatepool.info(-2,-1,-1,-1))
        return render_pool(ctx.store, kind, tag, filter_objs(ctx, kind, flag, start, end))
    return handler


DELETE_CHECKS: dict[str, Callable] = {}
POST_UPDATE: dict[str, Callable] = {}
DRIVER_HOOKS: dict[str, list] = {}


def on_driver_step(store: Store, kind: str, obj: dict, fields: dict) -> None:
    """Run the hooks registered for an applied driver step (``fields`` just set on ``obj``)."""
    for hook in DRIVER_HOOKS.get(kind, []):
        hook(store, obj, fields)


def register_generic() -> None:
    """Create the generic methods of every kind."""
    for kind, k in KINDS.items():
        HANDLERS[f"{k.prefix}.info"] = _info(kind)
        HANDLERS[f"{k.prefix}.update"] = _update(kind)
        if kind != "vm":
            HANDLERS[f"{k.prefix}.delete"] = _delete(kind)
        if kind not in ("user", "group"):
            HANDLERS[f"{k.prefix}.rename"] = _rename(kind)
        if k.owned:
            HANDLERS[f"{k.prefix}.chmod"] = _chmod(kind)
            HANDLERS[f"{k.prefix}.chown"] = _chown(kind)
        if kind not in ("vm", "document"):  # their pool methods have a filter of their own
            HANDLERS[k.pool] = _pool_info(kind)
