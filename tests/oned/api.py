"""The ``one.*`` XML-RPC methods of the fake oned.

A generic engine (:class:`Kind` + the ``info/delete/update/rename/chmod/chown/
pool.info`` handlers) serves every object kind; kind-specific behaviour lives in
the ``allocate`` handlers and a few hooks.  Handlers run under the store lock
and raise :class:`~tests.oned.errors.OnedError` on failure.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from . import errors
from . import template as T
from .acl import parse_hex
from .render import (
    ar_leases,
    host_vms,
    image_state,
    image_vms,
    int_to_mac,
    mac_to_int,
    render,
    render_pool,
)
from .store import (
    ACTIVE,
    DONE,
    HOLD,
    HOST_DISABLED,
    HOST_INIT,
    HOST_MONITORED,
    HOST_OFFLINE,
    IMG_DISABLED,
    IMG_LOCKED,
    IMG_READY,
    LCM_STATES,
    PENDING,
    POWEROFF,
    STOPPED,
    SUSPENDED,
    UNDEPLOYED,
    VM_STATES,
    Store,
    check_name,
    new_datastore,
    password_hash,
)
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
    get(ctx, "cluster", cid)
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
        old = obj[field]
        obj[field] = T.merge(old, new) if int(utype) == 1 else new
        POST_UPDATE.get(kind, lambda o, old: None)(obj, old)
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

    def handler(ctx: Ctx, flag: int = -2, start: int = -1, end: int = -1) -> str:
        return render_pool(ctx.store, kind, tag, filter_objs(ctx, kind, flag, start, end))
    return handler


DELETE_CHECKS: dict[str, Callable] = {}
POST_UPDATE: dict[str, Callable] = {}


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
        if kind != "vm":
            HANDLERS[k.pool] = _pool_info(kind)


# ======================================================================
# system
# ======================================================================
@method("one.system.version")
def system_version(ctx: Ctx) -> str:
    return ctx.store.version


@method("one.system.config")
def system_config(ctx: Ctx) -> str:
    return ("<OPENNEBULA_CONFIGURATION><DEFAULT_UMASK>177</DEFAULT_UMASK>"
            "<MAC_PREFIX>02:00</MAC_PREFIX><PORT>2633</PORT>"
            "<VM_SUBMIT_ON_HOLD>NO</VM_SUBMIT_ON_HOLD></OPENNEBULA_CONFIGURATION>")


ZONE_XML = ("<ZONE><ID>0</ID><NAME>OpenNebula</NAME><STATE>0</STATE><TEMPLATE>"
            "<ENDPOINT><![CDATA[http://localhost:2633/RPC2]]></ENDPOINT></TEMPLATE>"
            "<SERVER_POOL></SERVER_POOL></ZONE>")


@method("one.zone.info")
def zone_info(ctx: Ctx, zid: int, *_flags: object) -> str:
    if int(zid) != 0:
        raise errors.no_exists("zone", int(zid))
    return ZONE_XML


@method("one.zonepool.info")
def zonepool_info(ctx: Ctx) -> str:
    return f"<ZONE_POOL>{ZONE_XML}</ZONE_POOL>"


@method("one.zone.raftstatus")
def zone_raftstatus(ctx: Ctx) -> str:
    """A solo (non-HA) oned."""
    return ("<RAFT><SERVER_ID>-1</SERVER_ID><STATE>0</STATE><TERM>0</TERM>"
            "<VOTEDFOR>-1</VOTEDFOR><COMMIT>0</COMMIT><LOG_INDEX>0</LOG_INDEX>"
            "<LOG_TERM>0</LOG_TERM><FEDLOG_INDEX>-1</FEDLOG_INDEX></RAFT>")


# ======================================================================
# users, groups, VDCs, ACLs
# ======================================================================
@method("one.user.allocate")
def user_allocate(ctx: Ctx, name: str, password: str, driver: str = "",
                  groups: list | None = None) -> int:
    name = check_name(name)
    check_unique(ctx, "user", name, -1)
    groups = [int(g) for g in (groups or [])] or [1]
    for gid in groups:
        get(ctx, "group", gid)
    driver = driver or "core"
    if driver == "core" and not password:
        raise errors.internal("Invalid password, it cannot be empty")
    return new_obj(ctx, "user", {
        "ID": ctx.store.new_id("user"), "NAME": name, "GID": groups[0],
        "GROUPS": sorted(set(groups)), "AUTH_DRIVER": driver, "ENABLED": 1, "TEMPLATE": [],
        "PASSWORD": password_hash(password) if driver == "core" else password})


@method("one.user.passwd")
def user_passwd(ctx: Ctx, uid: int, password: str) -> int:
    user = get(ctx, "user", uid)
    user["PASSWORD"] = password_hash(password) if user["AUTH_DRIVER"] == "core" else password
    return user["ID"]


@method("one.user.chauth")
def user_chauth(ctx: Ctx, uid: int, driver: str, password: str = "") -> int:
    user = get(ctx, "user", uid)
    user["AUTH_DRIVER"] = driver
    if password:
        user["PASSWORD"] = password_hash(password) if driver == "core" else password
    return user["ID"]


@method("one.user.chgrp")
def user_chgrp(ctx: Ctx, uid: int, gid: int) -> int:
    user, group = get(ctx, "user", uid), get(ctx, "group", gid)
    old = user["GID"]
    user["GROUPS"] = sorted((set(user["GROUPS"]) - {old}) | {group["ID"]})
    user["GID"] = group["ID"]
    return user["ID"]


@method("one.user.addgroup")
def user_addgroup(ctx: Ctx, uid: int, gid: int) -> int:
    user, group = get(ctx, "user", uid), get(ctx, "group", gid)
    if group["ID"] in user["GROUPS"]:
        raise errors.action("User is already in this group")
    user["GROUPS"] = sorted(set(user["GROUPS"]) | {group["ID"]})
    return user["ID"]


@method("one.user.delgroup")
def user_delgroup(ctx: Ctx, uid: int, gid: int) -> int:
    user, group = get(ctx, "user", uid), get(ctx, "group", gid)
    if group["ID"] == user["GID"]:
        raise errors.action("Cannot remove user from the primary group")
    if group["ID"] not in user["GROUPS"]:
        raise errors.action("User is not part of this group")
    user["GROUPS"] = [g for g in user["GROUPS"] if g != group["ID"]]
    return user["ID"]


@method("one.user.enable")
def user_enable(ctx: Ctx, uid: int, enable: bool) -> int:
    user = get(ctx, "user", uid)
    user["ENABLED"] = 1 if enable else 0
    return user["ID"]


def _user_delete_check(ctx: Ctx, user: dict) -> None:
    if user["ID"] == 0:
        raise errors.action("oneadmin cannot be deleted.")
    for group in ctx.store.objs("group").values():
        group["ADMINS"] = [a for a in group["ADMINS"] if a != user["ID"]]


DELETE_CHECKS["user"] = _user_delete_check


@method("one.group.allocate")
def group_allocate(ctx: Ctx, name: str) -> int:
    name = check_name(name)
    check_unique(ctx, "group", name, -1)
    gid = new_obj(ctx, "group", {"ID": ctx.store.new_id("group"), "NAME": name,
                                 "TEMPLATE": [], "ADMINS": []})
    vdc = ctx.store.find("vdc", 0)
    if vdc is not None and gid not in vdc["GROUPS"]:
        vdc["GROUPS"].append(gid)
    return gid


def _group_delete_check(ctx: Ctx, group: dict) -> None:
    if group["ID"] < 100:
        raise errors.action("System Groups (ID < 100) cannot be deleted.")
    if any(group["ID"] in u["GROUPS"] for u in ctx.store.objs("user").values()):
        raise errors.action("Group " + str(group["ID"]) + " is not empty.")
    for vdc in ctx.store.objs("vdc").values():
        vdc["GROUPS"] = [g for g in vdc["GROUPS"] if g != group["ID"]]


DELETE_CHECKS["group"] = _group_delete_check


@method("one.group.addadmin")
def group_addadmin(ctx: Ctx, gid: int, uid: int) -> int:
    group, user = get(ctx, "group", gid), get(ctx, "user", uid)
    if group["ID"] not in user["GROUPS"]:
        raise errors.action(f"User {user['ID']} is not part of Group {group['ID']}.")
    if user["ID"] in group["ADMINS"]:
        raise errors.action(f"User {user['ID']} is already an administrator of Group "
                            f"{group['ID']}.")
    group["ADMINS"].append(user["ID"])
    return group["ID"]


@method("one.group.deladmin")
def group_deladmin(ctx: Ctx, gid: int, uid: int) -> int:
    group, user = get(ctx, "group", gid), get(ctx, "user", uid)
    if user["ID"] not in group["ADMINS"]:
        raise errors.action(f"User {user['ID']} is not an administrator of Group {group['ID']}.")
    group["ADMINS"].remove(user["ID"])
    return group["ID"]


@method("one.vdc.allocate")
def vdc_allocate(ctx: Ctx, text: str) -> int:
    tmpl = parse_template(text)
    name = take_name(tmpl)
    check_unique(ctx, "vdc", name, -1)
    return new_obj(ctx, "vdc", {"ID": ctx.store.new_id("vdc"), "NAME": name, "TEMPLATE": tmpl,
                                "GROUPS": [], "CLUSTERS": [], "HOSTS": [], "DATASTORES": [],
                                "VNETS": []})


@method("one.vdc.addgroup", "one.vdc.delgroup")
def vdc_group(ctx: Ctx, vid: int, gid: int) -> int:
    vdc, group = get(ctx, "vdc", vid), get(ctx, "group", gid)
    if ctx.method.endswith("addgroup"):
        if group["ID"] in vdc["GROUPS"]:
            raise errors.action(f"Group {group['ID']} is already in the VDC {vdc['ID']}.")
        vdc["GROUPS"].append(group["ID"])
    else:
        if group["ID"] not in vdc["GROUPS"]:
            raise errors.action(f"Group {group['ID']} is not part of the VDC {vdc['ID']}.")
        vdc["GROUPS"].remove(group["ID"])
    return vdc["ID"]


VDC_RESOURCES = {"cluster": ("CLUSTERS", "Cluster"), "host": ("HOSTS", "Host"),
                 "datastore": ("DATASTORES", "Datastore"), "vnet": ("VNETS", "Virtual Network")}


def _vdc_resource(res: str, add: bool) -> Callable:
    field, label = VDC_RESOURCES[res]

    def handler(ctx: Ctx, vid: int, zone: int, oid: int) -> int:
        vdc = get(ctx, "vdc", vid)
        pair = [int(zone), int(oid)]
        if int(zone) != 0:
            raise errors.no_exists("zone", int(zone))
        if int(oid) != -10:
            get(ctx, "vn" if res == "vnet" else res, oid)
        if add:
            if pair in vdc[field]:
                raise errors.action(f"{label} {oid} from zone {zone} is already assigned "
                                    f"to the VDC {vdc['ID']}")
            vdc[field].append(pair)
        else:
            if pair not in vdc[field]:
                raise errors.action(f"{label} {oid} from zone {zone} is not part of the "
                                    f"VDC {vdc['ID']}")
            vdc[field].remove(pair)
        return vdc["ID"]
    return handler


for _res in VDC_RESOURCES:
    HANDLERS[f"one.vdc.add{_res}"] = _vdc_resource(_res, True)
    HANDLERS[f"one.vdc.del{_res}"] = _vdc_resource(_res, False)


@method("one.acl.addrule")
def acl_addrule(ctx: Ctx, user: str, resource: str, rights: str, zone: str = "") -> int:
    try:
        values = [parse_hex(v) for v in (user, resource, rights)]
        zone_v = parse_hex(zone) if zone not in ("", None) else 0x100000000
    except ValueError as exc:
        raise errors.internal(f"Error parsing rule: {exc}") from exc
    for rule in ctx.store.objs("acl").values():
        if [rule["USER"], rule["RESOURCE"], rule["RIGHTS"], rule["ZONE"]] == values + [zone_v]:
            raise errors.internal("Rule already exists")
    oid = ctx.store.new_id("acl")
    return new_obj(ctx, "acl", {"ID": oid, "USER": values[0], "RESOURCE": values[1],
                                "RIGHTS": values[2], "ZONE": zone_v})


@method("one.acl.delrule")
def acl_delrule(ctx: Ctx, oid: int) -> int:
    if ctx.store.objs("acl").pop(int(oid), None) is None:
        raise errors.internal(f"Rule {oid} does not exist")
    return int(oid)


@method("one.acl.info")
def acl_info(ctx: Ctx) -> str:
    rules = sorted(ctx.store.objs("acl").values(), key=lambda r: r["ID"])
    return render_pool(ctx.store, "acl", "ACL_POOL", rules)


# ======================================================================
# clusters and hosts
# ======================================================================
@method("one.cluster.allocate")
def cluster_allocate(ctx: Ctx, name: str) -> int:
    name = check_name(name)
    check_unique(ctx, "cluster", name, -1)
    return new_obj(ctx, "cluster", {"ID": ctx.store.new_id("cluster"), "NAME": name,
                                    "TEMPLATE": [("RESERVED_CPU", ""), ("RESERVED_MEM", "")]})


def _cluster_delete_check(ctx: Ctx, cluster: dict) -> None:
    cid = cluster["ID"]
    if cid < 100:
        raise errors.action("System Clusters (ID < 100) cannot be deleted.")
    for what, count in (
        ("hosts", sum(h["CLUSTER_ID"] == cid for h in ctx.store.objs("host").values())),
        ("datastores", sum(cid in d["CLUSTERS"] for d in ctx.store.objs("datastore").values())),
        ("vnets", sum(cid in n["CLUSTERS"] for n in ctx.store.objs("vn").values())),
    ):
        if count:
            raise errors.action(f"Cluster {cid} is not empty, it contains {count} {what}.")


DELETE_CHECKS["cluster"] = _cluster_delete_check


def _cluster_member(kind: str, add: bool) -> Callable:
    def handler(ctx: Ctx, cid: int, oid: int) -> int:
        cluster, obj = get(ctx, "cluster", cid), get(ctx, kind, oid)
        if kind == "host":
            obj["CLUSTER_ID"] = cluster["ID"] if add else 0
        elif add and cluster["ID"] not in obj["CLUSTERS"]:
            obj["CLUSTERS"] = sorted(obj["CLUSTERS"] + [cluster["ID"]])
        elif not add:
            obj["CLUSTERS"] = [c for c in obj["CLUSTERS"] if c != cluster["ID"]]
        return cluster["ID"]
    return handler


for _kind, _word in (("host", "host"), ("datastore", "datastore"), ("vn", "vnet")):
    HANDLERS[f"one.cluster.add{_word}"] = _cluster_member(_kind, True)
    HANDLERS[f"one.cluster.del{_word}"] = _cluster_member(_kind, False)


@method("one.host.allocate")
def host_allocate(ctx: Ctx, name: str, im_mad: str, vm_mad: str, cluster_id: int = -1) -> int:
    cid = cluster_arg(ctx, cluster_id)
    name = check_name(name)
    check_unique(ctx, "host", name, -1)
    hid = ctx.store.new_id("host")
    host = {"ID": hid, "NAME": name, "STATE": HOST_INIT, "PREV_STATE": HOST_INIT,
            "IM_MAD": im_mad, "VM_MAD": vm_mad, "CLUSTER_ID": cid, "MONITORED": False,
            "TEMPLATE": [("IM_MAD", im_mad), ("VM_MAD", vm_mad)]}
    ctx.store.schedule("host", host, [{"STATE": HOST_MONITORED, "PREV_STATE": HOST_INIT}])
    return new_obj(ctx, "host", host)


def _host_delete_check(ctx: Ctx, host: dict) -> None:
    if host_vms(ctx.store, host["ID"]):
        raise errors.action("Can not remove a host with running VMs")


DELETE_CHECKS["host"] = _host_delete_check


@method("one.host.status")
def host_status(ctx: Ctx, hid: int, status: int) -> int:
    host = get(ctx, "host", hid)
    status = int(status)
    if status not in (0, 1, 2):
        raise errors.api("Wrong status code")
    prev = host["STATE"]
    host.pop("_SCHED", None)
    if status == 0:
        if prev in (HOST_DISABLED, HOST_OFFLINE):
            host.update(STATE=HOST_INIT, PREV_STATE=prev)
            ctx.store.schedule("host", host, [{"STATE": HOST_MONITORED, "PREV_STATE": HOST_INIT}])
    else:
        host.update(STATE=HOST_DISABLED if status == 1 else HOST_OFFLINE, PREV_STATE=prev)
        if status == 2:
            host["MONITORED"] = False
    return host["ID"]


def host_monitored(store: Store, host: dict) -> None:
    """What the dummy IM driver reports on the first monitoring."""
    host["MONITORED"] = True
    host["LAST_MON"] = int(time.time())
    tmpl = [(k, v) for k, v in host["TEMPLATE"] if k not in HOST_PROBES]
    host["TEMPLATE"] = tmpl + [
        ("ARCH", "x86_64"), ("CPUSPEED", "2200"), ("HOSTNAME", host["NAME"]),
        ("HYPERVISOR", "dummy"), ("MODELNAME", "Intel(R) Xeon(R) CPU (dummy)"),
        ("RESERVED_CPU", ""), ("RESERVED_MEM", "")]


HOST_PROBES = ("ARCH", "CPUSPEED", "HOSTNAME", "HYPERVISOR", "MODELNAME", "RESERVED_CPU",
               "RESERVED_MEM")


# ======================================================================
# datastores and images
# ======================================================================
TM_DEFAULTS = {
    "ssh": [("CLONE_TARGET", "SYSTEM"), ("DISK_TYPE", "FILE"), ("LN_TARGET", "SYSTEM")],
    "shared": [("CLONE_TARGET", "SYSTEM"), ("DISK_TYPE", "FILE"), ("LN_TARGET", "NONE")],
    "qcow2": [("CLONE_TARGET", "SYSTEM"), ("DISK_TYPE", "FILE"), ("LN_TARGET", "NONE")],
    "local": [("CLONE_TARGET", "SYSTEM"), ("DISK_TYPE", "FILE"), ("LN_TARGET", "SYSTEM")],
    "ceph": [("CLONE_TARGET", "SELF"), ("DISK_TYPE", "RBD"), ("LN_TARGET", "NONE")],
}


@method("one.datastore.allocate")
def datastore_allocate(ctx: Ctx, text: str, cluster_id: int = -1) -> int:
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


def _datastore_post_update(ds: dict, old: list) -> None:
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
    tmpl = parse_template(text)
    ds = get(ctx, "datastore", ds_id)
    if ds["TYPE"] in (1, 3):
        raise errors.allocate("image", "New images can only be allocated in a files or "
                                       "image datastore.")
    size = T.get(tmpl, "SIZE")
    path = T.get(tmpl, "PATH") or ""
    if not size and path:
        size = "0"
        if "://" not in path and os.path.isfile(path):
            size = str(max(1, -(-os.path.getsize(path) // (1024 * 1024))))
    size = size or ""
    if not re.fullmatch(r"\d+", size.strip()):
        raise errors.internal(f"Cannot parse image SIZE: {size}")
    size_mb = int(size)
    used = sum(i["SIZE"] for i in ctx.store.objs("image").values() if i["DATASTORE_ID"] == ds["ID"])
    if check_capacity and size_mb > ds["TOTAL_MB"] - used:
        raise errors.action("Not enough space in datastore")
    T.replace(tmpl, "SIZE", str(size_mb))
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
    ctx.store.schedule("image", img, [{"STATE": IMG_READY, "SOURCE": source}])
    return new_obj(ctx, "image", img)


def _image_delete_check(ctx: Ctx, img: dict) -> None:
    if image_vms(ctx.store, img["ID"]):
        raise errors.action("Cannot delete image, it is being used by VMs")


DELETE_CHECKS["image"] = _image_delete_check


IMAGE_STATES = ["INIT", "READY", "USED", "DISABLED", "LOCKED", "ERROR", "CLONE", "DELETE",
                "USED_PERS", "LOCKED_USED", "LOCKED_USED_PERS"]


@method("one.image.persistent")
def image_persistent(ctx: Ctx, iid: int, persistent: bool) -> int:
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


# ======================================================================
# virtual networks
# ======================================================================
BRIDGE_TYPES = {"ovswitch": "openvswitch", "ovswitch_vxlan": "openvswitch",
                "vcenter": "vcenter_port_groups"}


def _yes(value: str | None) -> bool:
    return (value or "").strip().upper() in ("YES", "TRUE", "1")


def make_ar(vec: dict, ar_id: int) -> dict:
    """Validate an AR vector like ``AddressRange::from_attr``; returns its attributes."""
    ar = {k: str(v) for k, v in vec.items()
          if k not in ("ALLOCATED", "USED_LEASES", "LEASES", "PARENT_NETWORK_AR_ID",
                       "PARENT_NETWORK", "MAC_END", "IP_END", "IP6_END")}
    ar_type = ar.get("TYPE", "").upper()
    if ar_type not in ("ETHER", "IP4", "IP6", "IP6_STATIC", "IP4_6", "IP4_6_STATIC"):
        raise errors.internal("Unknown or missing address range TYPE.")
    ar["TYPE"] = ar_type
    ip_int = None
    if ar_type in ("IP4", "IP4_6", "IP4_6_STATIC"):
        try:
            ip_int = int(ipaddress.IPv4Address(ar.get("IP", "")))
        except ValueError as exc:
            raise errors.internal("Wrong or empty IP attribute") from exc
    else:
        ar.pop("IP", None)
    if ar_type in ("IP6_STATIC", "IP4_6_STATIC"):
        try:
            ipaddress.IPv6Address(ar.get("IP6", ""))
        except ValueError as exc:
            raise errors.internal("Wrong or empty IP6 attribute") from exc
    if "MAC" in ar:
        if not re.fullmatch(r"([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}", ar["MAC"]):
            raise errors.internal("Wrong format for MAC attribute")
        ar["MAC"] = ar["MAC"].lower()
    else:
        low = ip_int if ip_int is not None else int.from_bytes(os.urandom(4), "big")
        ar["MAC"] = int_to_mac((0x0200 << 32) | low)
    if not re.fullmatch(r"\d+", ar.get("SIZE", "").strip()):
        raise errors.internal("Wrong SIZE for address range")
    ar["AR_ID"] = str(ar_id)
    return ar


def _vlan(n: dict, tmpl: list, key: str, auto_key: str) -> tuple[str, bool]:
    value = T.get(tmpl, key) or ""
    if value:
        T.erase(tmpl, auto_key)
        return value, False
    auto = _yes(T.get(tmpl, auto_key))
    T.erase(tmpl, auto_key)
    return "", auto


@method("one.vn.allocate")
def vn_allocate(ctx: Ctx, text: str, cluster_id: int = -1) -> int:
    tmpl = parse_template(text)
    cid = cluster_arg(ctx, cluster_id)
    name = take_name(tmpl, "No NAME in template for Virtual Network.")
    check_unique(ctx, "vn", name, ctx.uid)
    vn_mad = T.get(tmpl, "VN_MAD") or ""
    if not vn_mad:
        raise errors.internal("No VN_MAD in template for Virtual Network.")
    oid = ctx.store.new_id("vn")
    phydev = T.get(tmpl, "PHYDEV") or ""
    bridge = T.get(tmpl, "BRIDGE") or ""
    T.erase(tmpl, "BRIDGE")
    vlan_id, vlan_auto = _vlan({}, tmpl, "VLAN_ID", "AUTOMATIC_VLAN_ID")
    outer_id, outer_auto = _vlan({}, tmpl, "OUTER_VLAN_ID", "AUTOMATIC_OUTER_VLAN_ID")
    if vn_mad in ("802.1Q", "vxlan") and not phydev:
        raise errors.internal(f"PHYDEV is mandatory for driver {vn_mad}")
    if vn_mad == "dummy" and not bridge:
        raise errors.internal(f"BRIDGE is mandatory for driver {vn_mad}")
    if vn_mad in ("802.1Q", "vxlan") and not vlan_auto and not vlan_id:
        raise errors.internal(f"VLAN_ID (or AUTOMATIC_VLAN_ID) is mandatory for driver {vn_mad}")
    if vn_mad == "ovswitch_vxlan" and not outer_auto and not outer_id:
        raise errors.internal(f"OUTER_VLAN_ID (or AUTOMATIC) is mandatory for driver {vn_mad}")
    if vlan_auto and vn_mad in ("802.1Q", "ovswitch", "ovswitch_vxlan", "vcenter"):
        vlan_id = str(2 + oid % (4095 - 2))
    elif vlan_auto and vn_mad == "vxlan":
        vlan_id = str(2 + oid)
    if outer_auto and vn_mad == "ovswitch_vxlan":
        outer_id = str(2 + oid)
    bridge_type = T.get(tmpl, "BRIDGE_TYPE") or BRIDGE_TYPES.get(vn_mad, "linux")
    T.replace(tmpl, "BRIDGE_TYPE", bridge_type)
    if not bridge:
        bridge = f"onebr.{vlan_id}" if vlan_id else f"onebr{oid}"
    T.replace(tmpl, "BRIDGE", bridge)
    T.replace(tmpl, "PHYDEV", phydev)
    if vlan_id and not vlan_auto:
        T.replace(tmpl, "VLAN_ID", vlan_id)
    sgs = sorted({int(s) for s in (T.get(tmpl, "SECURITY_GROUPS") or "").split(",") if s.strip()}
                 | {0})
    T.replace(tmpl, "SECURITY_GROUPS", ",".join(map(str, sgs)))
    ars = [make_ar(vec, i) for i, vec in enumerate(v for v in T.erase(tmpl, "AR")
                                                     if isinstance(v, dict))]
    vn = owned_fields(ctx, oid, name)
    vn.update({
        "CLUSTERS": [cid], "BRIDGE": bridge, "BRIDGE_TYPE": bridge_type, "STATE": 1,
        "PREV_STATE": 0, "PARENT_NETWORK_ID": "", "TEMPLATE_ID": T.get(tmpl, "TEMPLATE_ID") or -1,
        "VN_MAD": vn_mad, "PHYDEV": phydev, "VLAN_ID": vlan_id, "OUTER_VLAN_ID": outer_id,
        "VLAN_ID_AUTOMATIC": vlan_auto, "OUTER_VLAN_ID_AUTOMATIC": outer_auto,
        "TEMPLATE": tmpl, "AR_POOL": ars, "NEXT_AR": len(ars)})
    return new_obj(ctx, "vn", vn)


def _vn_post_update(vn: dict, old: list) -> None:
    tmpl = vn["TEMPLATE"]
    for key, field in (("VN_MAD", "VN_MAD"), ("PHYDEV", "PHYDEV"), ("BRIDGE", "BRIDGE"),
                       ("BRIDGE_TYPE", "BRIDGE_TYPE")):
        new = T.get(tmpl, key)
        if new:
            vn[field] = new
        T.replace(tmpl, key, vn[field])
    T.erase(tmpl, "AUTOMATIC_VLAN_ID")
    T.erase(tmpl, "AUTOMATIC_OUTER_VLAN_ID")
    for key in ("VLAN_ID", "OUTER_VLAN_ID"):
        if vn[f"{key}_AUTOMATIC"]:
            T.erase(tmpl, key)
        else:
            vn[key] = T.get(tmpl, key) or vn[key]
            if vn[key]:
                T.replace(tmpl, key, vn[key])


def _vn_delete_check(ctx: Ctx, vn: dict) -> None:
    if any(ar_leases(ctx.store, vn["ID"], ar) for ar in vn["AR_POOL"]):
        raise errors.action("Can not remove a virtual network with leases in use")


POST_UPDATE["vn"] = _vn_post_update
DELETE_CHECKS["vn"] = _vn_delete_check


def _ar_vector(text: str) -> dict:
    vecs = [v for v in T.get_all(parse_template(text), "AR") if isinstance(v, dict)]
    if not vecs:
        raise errors.action("Wrong AR definition. AR vector attribute is missing.")
    return vecs[0]


@method("one.vn.add_ar")
def vn_add_ar(ctx: Ctx, vid: int, text: str) -> int:
    vn = get(ctx, "vn", vid)
    vec = _ar_vector(text)
    try:
        ar = make_ar(vec, vn["NEXT_AR"])
    except errors.OnedError as exc:
        raise errors.action(exc.message) from exc
    vn["NEXT_AR"] += 1
    vn["AR_POOL"].append(ar)
    return vn["ID"]


@method("one.vn.rm_ar", "one.vn.rm_ar_force")
def vn_rm_ar(ctx: Ctx, vid: int, ar_id: int) -> int:
    vn = get(ctx, "vn", vid)
    ar = next((a for a in vn["AR_POOL"] if a["AR_ID"] == str(int(ar_id))), None)
    if ar is None:
        raise errors.action("Address Range does not exist")
    if not ctx.method.endswith("force") and ar_leases(ctx.store, vn["ID"], ar):
        raise errors.action("Address Range has leases in use")
    vn["AR_POOL"].remove(ar)
    return vn["ID"]


@method("one.vn.update_ar")
def vn_update_ar(ctx: Ctx, vid: int, text: str) -> int:
    vn = get(ctx, "vn", vid)
    vec = _ar_vector(text)
    if not re.fullmatch(r"\d+", str(vec.get("AR_ID", "")).strip()):
        raise errors.action("AR/AR_ID attribute is missing.")
    ar = next((a for a in vn["AR_POOL"] if a["AR_ID"] == vec["AR_ID"].strip()), None)
    if ar is None:
        raise errors.action(f"Address Range with ID {vec['AR_ID'].strip()} was not found.")
    new = {k: str(v) for k, v in vec.items()
           if k not in ("TYPE", "MAC", "IP", "IP6", "AR_ID", "USED_LEASES", "LEASES",
                        "MAC_END", "IP_END", "IP6_END", "IP6_ULA", "IP6_ULA_END",
                        "IP6_GLOBAL", "IP6_GLOBAL_END", "ALLOCATED")}
    size = new.get("SIZE", ar["SIZE"])
    if not re.fullmatch(r"\d+", size.strip()):
        raise errors.action("Unable to read the SIZE attribute, it must be number >= 0")
    if any(idx >= int(size) for idx in ar_leases(ctx.store, vn["ID"], ar)):
        raise errors.action("New SIZE cannot be applied. There are used leases that would "
                            "fall outside the range.")
    kept = {k: ar[k] for k in ("TYPE", "MAC", "IP", "IP6", "AR_ID") if k in ar}
    ar.clear()
    ar.update(new)
    ar.update(kept)
    ar["SIZE"] = size.strip()
    return vn["ID"]


# ======================================================================
# security groups, VM templates, backup jobs
# ======================================================================
@method("one.secgroup.allocate")
def secgroup_allocate(ctx: Ctx, text: str) -> int:
    tmpl = parse_template(text)
    name = take_name(tmpl)
    check_unique(ctx, "secgroup", name, ctx.uid)
    for rule in T.get_all(tmpl, "RULE"):
        if not isinstance(rule, dict) or not rule.get("PROTOCOL") or not rule.get("RULE_TYPE"):
            raise errors.internal("Invalid RULE: PROTOCOL and RULE_TYPE are mandatory")
    oid = ctx.store.new_id("secgroup")
    obj = owned_fields(ctx, oid, name)
    obj["TEMPLATE"] = tmpl
    return new_obj(ctx, "secgroup", obj)


def _secgroup_delete_check(ctx: Ctx, sg: dict) -> None:
    if sg["ID"] == 0:
        raise errors.action("The default security group (ID 0) cannot be deleted.")


DELETE_CHECKS["secgroup"] = _secgroup_delete_check


def _vdc_delete_check(ctx: Ctx, vdc: dict) -> None:
    if vdc["ID"] < 100:
        raise errors.action("System VDCs (ID < 100) cannot be deleted.")


DELETE_CHECKS["vdc"] = _vdc_delete_check


@method("one.template.allocate")
def template_allocate(ctx: Ctx, text: str) -> int:
    tmpl = parse_template(text)
    name = take_name(tmpl)
    check_unique(ctx, "template", name, ctx.uid)
    oid = ctx.store.new_id("template")
    obj = owned_fields(ctx, oid, name)
    obj.update(REGTIME=int(time.time()), TEMPLATE=tmpl)
    return new_obj(ctx, "template", obj)


@method("one.template.clone")
def template_clone(ctx: Ctx, tid: int, name: str, recursive: bool = False) -> int:
    src = get(ctx, "template", tid)
    name = check_name(name)
    check_unique(ctx, "template", name, ctx.uid)
    oid = ctx.store.new_id("template")
    obj = owned_fields(ctx, oid, name)
    obj.update(REGTIME=int(time.time()), TEMPLATE=[(k, v) for k, v in src["TEMPLATE"]])
    return new_obj(ctx, "template", obj)


@method("one.template.instantiate")
def template_instantiate(ctx: Ctx, tid: int, name: str = "", hold: bool = False,
                         extra: str = "", persistent: bool = False) -> int:
    src = get(ctx, "template", tid)
    tmpl = [(k, v) for k, v in src["TEMPLATE"]]
    if extra:
        tmpl = T.merge(tmpl, parse_template(extra))
    T.erase(tmpl, "NAME")
    T.replace(tmpl, "TEMPLATE_ID", str(src["ID"]))
    from .vm import create_vm

    return create_vm(ctx, tmpl, bool(hold), name or None, f"{src['NAME']}-")


def _backup_vms(tmpl: list) -> list:
    return [int(v) for v in (T.get(tmpl, "BACKUP_VMS") or "").split(",") if v.strip().isdigit()]


def _backupjob_sched(ctx: Ctx, tmpl: list) -> list:
    out = []
    pool = ctx.store.pools["backupjob"]
    for vec in T.erase(tmpl, "SCHED_ACTION"):
        if not isinstance(vec, dict):
            continue
        sa = {k: str(v) for k, v in vec.items()}
        sa_id = pool.get("sa_next", 0)
        pool["sa_next"] = sa_id + 1
        sa.update(ID=str(sa_id), PARENT_ID="-1", TYPE="BACKUPJOB", ACTION="backup",
                  DONE=sa.get("DONE", "-1"), MESSAGE=sa.get("MESSAGE", ""))
        out.append(sa)
    return out


@method("one.backupjob.allocate")
def backupjob_allocate(ctx: Ctx, text: str) -> int:
    tmpl = parse_template(text)
    name = take_name(tmpl)
    prio = T.get(tmpl, "PRIORITY") or "50"
    if not prio.isdigit() or not 0 <= int(prio) <= 99:
        raise errors.internal("Wrong PRIORITY value, it must be an integer between 0 and 99")
    T.erase(tmpl, "PRIORITY")
    oid = ctx.store.new_id("backupjob")
    obj = owned_fields(ctx, oid, name)
    obj.update(PRIORITY=int(prio), LAST_BACKUP_TIME=0, LAST_BACKUP_DURATION=0,
               SCHED=_backupjob_sched(ctx, tmpl), UPDATED_VMS=[],
               OUTDATED_VMS=_backup_vms(tmpl), BACKING_UP_VMS=[], ERROR_VMS=[], TEMPLATE=tmpl)
    return new_obj(ctx, "backupjob", obj)


def _backupjob_post_update(bj: dict, old: list) -> None:
    tmpl = bj["TEMPLATE"]
    prio = T.get(tmpl, "PRIORITY")
    if prio and prio.isdigit():
        bj["PRIORITY"] = int(prio)
    T.erase(tmpl, "PRIORITY")
    T.erase(tmpl, "SCHED_ACTION")
    vms = _backup_vms(tmpl)
    bj["UPDATED_VMS"] = [v for v in bj["UPDATED_VMS"] if v in vms]
    bj["OUTDATED_VMS"] = [v for v in vms if v not in bj["UPDATED_VMS"]]


POST_UPDATE["backupjob"] = _backupjob_post_update


@method("one.backupjob.backup", "one.backupjob.retry", "one.backupjob.cancel")
def backupjob_action(ctx: Ctx, bid: int) -> int:
    bj = get(ctx, "backupjob", bid)
    action = ctx.method.rsplit(".", 1)[1]
    if action == "cancel":
        bj["OUTDATED_VMS"] = sorted(set(bj["OUTDATED_VMS"]) | set(bj["BACKING_UP_VMS"]))
        bj["BACKING_UP_VMS"] = []
        return bj["ID"]
    vms = _backup_vms(bj["TEMPLATE"]) if action == "backup" else bj["ERROR_VMS"]
    bj["ERROR_VMS"] = [v for v in bj["ERROR_VMS"] if v not in vms]
    bj["UPDATED_VMS"] = sorted(set(bj["UPDATED_VMS"]) | set(vms))
    bj["OUTDATED_VMS"] = [v for v in bj["OUTDATED_VMS"] if v not in vms]
    bj["LAST_BACKUP_TIME"] = int(time.time())
    return bj["ID"]


# ======================================================================
# VMs (state machine in vm.py)
# ======================================================================
@method("one.vmpool.info", "one.vmpool.infoextended")
def vmpool_info(ctx: Ctx, flag: int = -2, start: int = -1, end: int = -1,
                state: int = -1, *_query: object) -> str:
    state = int(state)
    if state < -2 or state > 11:
        raise errors.api("Incorrect filter_flag, state")
    vms = [vm for vm in filter_objs(ctx, "vm", flag, start, end)
           if state == -2 or (state == -1 and vm["STATE"] != DONE) or vm["STATE"] == state]
    full = ctx.method.endswith("infoextended")
    return render_pool(ctx.store, "vm", "VM_POOL", vms, full)


def state_str(vm: dict) -> str:
    """``VirtualMachine::state_str``: the LCM state for ACTIVE VMs."""
    if vm["STATE"] == ACTIVE:
        return LCM_STATES.get(vm["LCM_STATE"], str(vm["LCM_STATE"]))
    return VM_STATES[vm["STATE"]]


__all__ = [
    "HANDLERS",
    "HOLD",
    "KINDS",
    "PENDING",
    "POWEROFF",
    "STOPPED",
    "SUSPENDED",
    "UNDEPLOYED",
    "Ctx",
    "host_monitored",
    "mac_to_int",
    "register_generic",
    "state_str",
]
