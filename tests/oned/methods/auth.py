"""Users, groups, VDCs and ACL rules."""

from __future__ import annotations

import time
from collections.abc import Callable

from .. import errors
from ..acl import VDC_ALL_RESOURCES, VDC_RULES, parse_hex, vdc_rules
from ..engine import (
    DELETE_CHECKS,
    HANDLERS,
    Ctx,
    check_unique,
    get,
    method,
    new_obj,
    parse_template,
    take_name,
)
from ..render import render_pool
from ..store import (
    Store,
    check_name,
    password_hash,
)


@method("one.user.allocate")
def user_allocate(ctx: Ctx, name: str, password: str, driver: str = "",
                  groups: list | None = None) -> int:
    """``one.user.allocate(name, password, driver, groups)``: new user id."""
    name = check_name(name)
    check_unique(ctx, "user", name, -1)
    # no group given: the creator's group, or "users" when the creator is in oneadmin
    groups = [int(g) for g in (groups or [])] or [1 if ctx.gid == 0 else ctx.gid]
    for gid in groups:
        get(ctx, "group", gid)
    driver = driver or "core"
    if not password:
        raise errors.internal("Invalid password, it cannot be empty")
    if any(ch in password for ch in " \t\n\v\f\r"):
        raise errors.internal("Invalid password, it cannot contain spaces")
    return new_obj(ctx, "user", {
        "ID": ctx.store.new_id("user"), "NAME": name, "GID": groups[0],
        "GROUPS": sorted(set(groups)), "AUTH_DRIVER": driver, "ENABLED": 1,
        "TEMPLATE": [("TOKEN_PASSWORD", password_hash(f"{name}{time.time()}"))],
        "PASSWORD": password_hash(password) if driver == "core" else password})


@method("one.user.passwd")
def user_passwd(ctx: Ctx, uid: int, password: str) -> int:
    """``one.user.passwd(id, password)``."""
    user = get(ctx, "user", uid)
    user["PASSWORD"] = password_hash(password) if user["AUTH_DRIVER"] == "core" else password
    return user["ID"]


@method("one.user.chauth")
def user_chauth(ctx: Ctx, uid: int, driver: str, password: str = "") -> int:
    """``one.user.chauth(id, driver, password)``."""
    user = get(ctx, "user", uid)
    user["AUTH_DRIVER"] = driver
    if password:
        user["PASSWORD"] = password_hash(password) if driver == "core" else password
    return user["ID"]


@method("one.user.chgrp")
def user_chgrp(ctx: Ctx, uid: int, gid: int) -> int:
    """``one.user.chgrp(id, gid)``: new primary group (the old one is left)."""
    user, group = get(ctx, "user", uid), get(ctx, "group", gid)
    old = user["GID"]
    user["GROUPS"] = sorted((set(user["GROUPS"]) - {old}) | {group["ID"]})
    user["GID"] = group["ID"]
    return user["ID"]


@method("one.user.addgroup")
def user_addgroup(ctx: Ctx, uid: int, gid: int) -> int:
    """``one.user.addgroup(id, gid)``: secondary group."""
    user, group = get(ctx, "user", uid), get(ctx, "group", gid)
    if group["ID"] in user["GROUPS"]:
        raise errors.action("User is already in this group")
    user["GROUPS"] = sorted(set(user["GROUPS"]) | {group["ID"]})
    return user["ID"]


@method("one.user.delgroup")
def user_delgroup(ctx: Ctx, uid: int, gid: int) -> int:
    """``one.user.delgroup(id, gid)``: the primary group cannot be removed."""
    user, group = get(ctx, "user", uid), get(ctx, "group", gid)
    if group["ID"] == user["GID"]:
        raise errors.action("Cannot remove user from the primary group")
    if group["ID"] not in user["GROUPS"]:
        raise errors.action("User is not part of this group")
    user["GROUPS"] = [g for g in user["GROUPS"] if g != group["ID"]]
    return user["ID"]


@method("one.user.enable")
def user_enable(ctx: Ctx, uid: int, enable: bool) -> int:
    """``one.user.enable(id, enable)``."""
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
    """``one.group.allocate(name)``: new group, also added to the default VDC."""
    name = check_name(name)
    check_unique(ctx, "group", name, -1)
    gid = new_obj(ctx, "group", {"ID": ctx.store.new_id("group"), "NAME": name,
                                 "TEMPLATE": [], "ADMINS": []})
    vdc = ctx.store.find("vdc", 0)
    if vdc is not None and gid not in vdc["GROUPS"]:
        vdc["GROUPS"].append(gid)
        vdc_group_rules(ctx.store, vdc, gid, True)
    return gid


def _group_delete_check(ctx: Ctx, group: dict) -> None:
    if group["ID"] < 100:
        raise errors.action("System Groups (ID < 100) cannot be deleted.")
    if any(group["ID"] in u["GROUPS"] for u in ctx.store.objs("user").values()):
        raise errors.action("Group " + str(group["ID"]) + " is not empty.")
    for vdc in ctx.store.objs("vdc").values():
        if group["ID"] in vdc["GROUPS"]:
            vdc_group_rules(ctx.store, vdc, group["ID"], False)
        vdc["GROUPS"] = [g for g in vdc["GROUPS"] if g != group["ID"]]


DELETE_CHECKS["group"] = _group_delete_check


@method("one.group.addadmin")
def group_addadmin(ctx: Ctx, gid: int, uid: int) -> int:
    """``one.group.addadmin(gid, uid)``."""
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
    """``one.group.deladmin(gid, uid)``."""
    group, user = get(ctx, "group", gid), get(ctx, "user", uid)
    if user["ID"] not in group["ADMINS"]:
        raise errors.action(f"User {user['ID']} is not an administrator of Group {group['ID']}.")
    group["ADMINS"].remove(user["ID"])
    return group["ID"]


@method("one.vdc.allocate")
def vdc_allocate(ctx: Ctx, text: str) -> int:
    """``one.vdc.allocate(template)``."""
    tmpl = parse_template(text)
    name = take_name(tmpl)
    check_unique(ctx, "vdc", name, -1)
    return new_obj(ctx, "vdc", {"ID": ctx.store.new_id("vdc"), "NAME": name, "TEMPLATE": tmpl,
                                "GROUPS": [], "CLUSTERS": [], "HOSTS": [], "DATASTORES": [],
                                "VNETS": []})


@method("one.vdc.addgroup", "one.vdc.delgroup")
def vdc_group(ctx: Ctx, vid: int, gid: int) -> int:
    """``one.vdc.addgroup/delgroup(id, gid)``."""
    vdc, group = get(ctx, "vdc", vid), get(ctx, "group", gid)
    if ctx.method.endswith("addgroup"):
        if group["ID"] in vdc["GROUPS"]:
            raise errors.action(f"Group {group['ID']} is already in the VDC {vdc['ID']}.")
        vdc["GROUPS"].append(group["ID"])
        vdc_group_rules(ctx.store, vdc, group["ID"], True)
    else:
        if group["ID"] not in vdc["GROUPS"]:
            raise errors.action(f"Group {group['ID']} is not part of the VDC {vdc['ID']}.")
        vdc["GROUPS"].remove(group["ID"])
        vdc_group_rules(ctx.store, vdc, group["ID"], False)
    return vdc["ID"]


def rule_ids(store: Store, values: list) -> list:
    """Ids of the ACL rules whose [user, resource, rights, zone] are ``values`` (oned keeps each rule once)."""
    return [r["ID"] for r in store.objs("acl").values() if [r["USER"], r["RESOURCE"], r["RIGHTS"], r["ZONE"]] == values]


def vdc_resource_rules(store: Store, gids: list, field: str, pair: list, add: bool) -> None:
    """Add (or delete) the ACL rules a VDC gives its groups ``gids`` on one resource (oned's ResourceSet)."""
    for gid in gids:
        for rule in vdc_rules(gid, field, *pair):
            same = rule_ids(store, [rule["USER"], rule["RESOURCE"], rule["RIGHTS"], rule["ZONE"]])
            if add and not same:  # oned logs "Rule already exists" and goes on
                rule["ID"] = store.new_id("acl")
                store.add("acl", rule)
            elif not add:
                for oid in same:
                    store.objs("acl").pop(oid)


def vdc_group_rules(store: Store, vdc: dict, gid: int, add: bool) -> None:
    """The rules of every resource of ``vdc`` for group ``gid``, added or deleted."""
    for field in VDC_RULES:
        for pair in vdc[field]:
            vdc_resource_rules(store, [gid], field, pair, add)


VDC_RESOURCES = {"cluster": ("CLUSTERS", "Cluster"), "host": ("HOSTS", "Host"),
                 "datastore": ("DATASTORES", "Datastore"), "vnet": ("VNETS", "Virtual Network")}


def _vdc_resource(res: str, add: bool) -> Callable:
    field, label = VDC_RESOURCES[res]

    def handler(ctx: Ctx, vid: int, zone: int, oid: int) -> int:
        vdc = get(ctx, "vdc", vid)
        pair = [int(zone), int(oid)]
        if int(zone) != 0:
            raise errors.no_exists("zone", int(zone))
        if int(oid) != VDC_ALL_RESOURCES:
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
        vdc_resource_rules(ctx.store, vdc["GROUPS"], field, pair, add)
        return vdc["ID"]
    return handler


for _res in VDC_RESOURCES:
    HANDLERS[f"one.vdc.add{_res}"] = _vdc_resource(_res, True)
    HANDLERS[f"one.vdc.del{_res}"] = _vdc_resource(_res, False)


@method("one.acl.addrule")
def acl_addrule(ctx: Ctx, user: str, resource: str, rights: str, zone: str = "") -> int:
    """``one.acl.addrule(user, resource, rights[, zone])`` (hex strings)."""
    try:
        values = [parse_hex(v) for v in (user, resource, rights)]
        zone_v = parse_hex(zone) if zone not in ("", None) else 0x100000000
    except ValueError as exc:
        raise errors.internal(f"Error parsing rule: {exc}") from exc
    _refuse_malformed_target(values[1])
    if rule_ids(ctx.store, values + [zone_v]):
        raise errors.internal("Rule already exists")
    oid = ctx.store.new_id("acl")
    return new_obj(ctx, "acl", {"ID": oid, "USER": values[0], "RESOURCE": values[1],
                                "RIGHTS": values[2], "ZONE": zone_v})


# AclRule::INVALID_CLUSTER_OBJECTS / INVALID_GROUP_OBJECTS (src/acl/AclRule.cc), PoolObjectSQL type bits
_ACL_CLUSTER_ID, _ACL_GROUP_ID = 0x800000000, 0x200000000
_NOT_BY_CLUSTER = (0x1000000000 | 0x8000000000 | 0x10000000000 | 0x20000000000 | 0x40000000000 | 0x80000000000
                   | 0x200000000000 | 0x400000000000 | 0x800000000000 | 0x1000000000000 | 0x2000000000000
                   | 0x4000000000000 | 0x8000000000000 | 0x10000000000000 | 0x20000000000000 | 0x40000000000000)
_NOT_BY_GROUP = 0x2000000000 | 0x40000000000 | 0x200000000000 | 0x800000000000 | 0x2000000000000


def _refuse_malformed_target(resource: int) -> None:
    """What oned's ``AclRule::malformed`` says of a cluster or group target on the wrong resource types."""
    if resource & _ACL_CLUSTER_ID and resource & _NOT_BY_CLUSTER:
        raise errors.internal("Rule is malformed: [resource] CLUSTER(%) selector can be applied only to "
                              "DATASTORE, HOST and NET types")
    if resource & _ACL_GROUP_ID and resource & _NOT_BY_GROUP:
        raise errors.internal("Rule is malformed: [resource] GROUP(@) selector cannot be applied to "
                              "HOST, GROUP, CLUSTER, ZONE or VDC types")


@method("one.acl.delrule")
def acl_delrule(ctx: Ctx, oid: int) -> int:
    """``one.acl.delrule(id)``."""
    if ctx.store.objs("acl").pop(int(oid), None) is None:
        raise errors.internal(f"Rule {oid} does not exist")
    return int(oid)


@method("one.acl.info")
def acl_info(ctx: Ctx) -> str:
    """``one.acl.info()``: the ACL_POOL."""
    rules = sorted(ctx.store.objs("acl").values(), key=lambda r: r["ID"])
    return render_pool(ctx.store, "acl", "ACL_POOL", rules)


def _vdc_delete_check(ctx: Ctx, vdc: dict) -> None:
    """System VDCs stay; a VDC that goes takes the ACL rules of its groups with it (``Vdc::drop``)."""
    if vdc["ID"] < 100:
        raise errors.action("System VDCs (ID < 100) cannot be deleted.")
    for gid in vdc["GROUPS"]:
        vdc_group_rules(ctx.store, vdc, gid, False)


DELETE_CHECKS["vdc"] = _vdc_delete_check
