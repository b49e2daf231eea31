"""Virtual networks, address ranges and security groups."""

from __future__ import annotations

import ipaddress
import os
import re

from .. import errors
from .. import template as T
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
from ..render import ar_leases, int_to_mac, mac_to_int
from ..store import Store

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


def _vlan(tmpl: list, key: str, auto_key: str) -> tuple[str, bool]:
    """``VirtualNetwork::parse_vlan_id``: (VLAN id, automatic?)."""
    value = T.get(tmpl, key) or ""
    if value:
        T.erase(tmpl, auto_key)
        return value, False
    auto = _yes(T.get(tmpl, auto_key))
    T.erase(tmpl, auto_key)
    return "", auto


@method("one.vn.allocate")
def vn_allocate(ctx: Ctx, text: str, cluster_id: int = -1) -> int:
    """``one.vn.allocate(template, cluster_id)``."""
    tmpl = parse_template(text)
    cid = cluster_arg(ctx, cluster_id)
    return create_vn(ctx, tmpl, [cid])


def create_vn(ctx: Ctx, tmpl: list, clusters: list, parent: dict | None = None) -> int:
    """``VirtualNetworkPool::allocate`` + ``VirtualNetwork::insert`` (``parent``: reservations)."""
    name = take_name(tmpl, "No NAME in template for Virtual Network.")
    check_unique(ctx, "vn", name, ctx.uid)
    vn_mad = T.get(tmpl, "VN_MAD") or ""
    if not vn_mad:
        raise errors.internal("No VN_MAD in template for Virtual Network.")
    oid = ctx.store.new_id("vn")
    phydev = T.get(tmpl, "PHYDEV") or ""
    bridge = T.get(tmpl, "BRIDGE") or ""
    T.erase(tmpl, "BRIDGE")
    vlan_id, vlan_auto = _vlan(tmpl, "VLAN_ID", "AUTOMATIC_VLAN_ID")
    outer_id, outer_auto = _vlan(tmpl, "OUTER_VLAN_ID", "AUTOMATIC_OUTER_VLAN_ID")
    if parent is not None:  # a reservation lives on its parent's link
        vlan_id, outer_id = parent["VLAN_ID"], parent["OUTER_VLAN_ID"]
        vlan_auto = outer_auto = False
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
        "CLUSTERS": sorted(clusters), "BRIDGE": bridge, "BRIDGE_TYPE": bridge_type, "STATE": 1,
        "PREV_STATE": 0, "PARENT_NETWORK_ID": -1 if parent is None else parent["ID"],
        "TEMPLATE_ID": T.get(tmpl, "TEMPLATE_ID") or -1,
        "VN_MAD": vn_mad, "PHYDEV": phydev, "VLAN_ID": vlan_id, "OUTER_VLAN_ID": outer_id,
        "VLAN_ID_AUTOMATIC": vlan_auto, "OUTER_VLAN_ID_AUTOMATIC": outer_auto,
        "TEMPLATE": tmpl, "AR_POOL": ars, "NEXT_AR": len(ars)})
    return new_obj(ctx, "vn", vn)


def _vn_post_update(store: Store, vn: dict, old: list) -> None:
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
    """``one.vn.add_ar(id, template)``: AR ids keep growing, never reused."""
    vn = get(ctx, "vn", vid)
    vec = _ar_vector(text)
    try:
        ar = make_ar(vec, vn["NEXT_AR"])
    except errors.OnedError as exc:
        raise errors.action(exc.message) from exc
    vn["NEXT_AR"] += 1
    vn["AR_POOL"].append(ar)
    return vn["ID"]


@method("one.vn.rm_ar")
def vn_rm_ar(ctx: Ctx, vid: int, ar_id: int, force: bool = False) -> int:
    """``one.vn.rm_ar(id, ar_id[, force])``: ``force`` ignores used leases (``AddressRangePool::rm_ar``)."""
    vn = get(ctx, "vn", vid)
    ar = next((a for a in vn["AR_POOL"] if a["AR_ID"] == str(int(ar_id))), None)
    if ar is None:
        raise errors.action("Address Range does not exist")
    if not force and ar_leases(ctx.store, vn["ID"], ar):
        raise errors.action("Address Range has leases in use")
    vn["AR_POOL"].remove(ar)
    return vn["ID"]


@method("one.vn.update_ar")
def vn_update_ar(ctx: Ctx, vid: int, text: str) -> int:
    """``one.vn.update_ar(id, template)`` (``AddressRange::update_attributes``)."""
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


@method("one.secgroup.allocate")
def secgroup_allocate(ctx: Ctx, text: str) -> int:
    """``one.secgroup.allocate(template)``."""
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


@method("one.vn.reserve")
def vn_reserve(ctx: Ctx, vid: int, text: str) -> int:
    """``one.vn.reserve(id, template)``: SIZE addresses moved to a (new or existing) reservation."""
    try:
        tmpl = parse_template(text)
    except errors.OnedError as exc:
        raise errors.action(exc.message) from exc
    size = (T.get(tmpl, "SIZE") or "").strip()
    if not size.isdigit() or int(size) <= 0:
        raise errors.action("Reservation SIZE must be a greater than 0")
    target = (T.get(tmpl, "NETWORK_ID") or "").strip()
    rvn = None
    if target:
        if not target.lstrip("-").isdigit() or int(target) < 0:
            raise errors.action("NETWORK_ID must be equal or greater than 0")
        if int(target) == int(vid):
            raise errors.action("Cannot add a reservation from the same network")
        rvn = get(ctx, "vn", int(target))
        if rvn["PARENT_NETWORK_ID"] == -1:
            raise errors.action("Cannot add reservations to a non-reservation VNET")
        if rvn["PARENT_NETWORK_ID"] != int(vid):
            raise errors.action(f"New reservations for virtual network {rvn['ID']} have to be from "
                                f"network {rvn['PARENT_NETWORK_ID']}")
    name = T.get(tmpl, "NAME") or ""
    if not name and rvn is None:
        raise errors.action("NAME for reservation has to be set")
    ar_id = (T.get(tmpl, "AR_ID") or "").strip()
    if ar_id and (not ar_id.lstrip("-").isdigit() or int(ar_id) < 0):
        raise errors.action("AR_ID must be equal or greater than 0")
    start = {k: T.get(tmpl, k) for k in ("IP", "MAC") if T.get(tmpl, k)}
    if start and not ar_id:
        raise errors.action("AR_ID must be specified for IP/MAC based reservations")
    parent = get(ctx, "vn", vid)
    if parent["PARENT_NETWORK_ID"] != -1:
        raise errors.action("Cannot reserve addresses from a reserved VNET")
    if rvn is None:
        clone = [(k, v) for k, v in parent["TEMPLATE"]] + [("NAME", name)]
        rvn = get(ctx, "vn", create_vn(ctx, clone, parent["CLUSTERS"], parent))
    found = _free_block(ctx, parent, int(size), ar_id, start)
    if found is None:
        raise errors.action("Not enough free addresses in an address range" if not ar_id else
                            f"Not enough free addresses in address range {ar_id}")
    par, idx = found
    rar = {k: v for k, v in par.items() if k not in ("AR_ID", "IPAM_MAD")}
    rar.update(MAC=int_to_mac(mac_to_int(par["MAC"]) + idx), SIZE=size,
               PARENT_NETWORK_AR_ID=par["AR_ID"], AR_ID=str(rvn["NEXT_AR"]))
    if "IP" in par:
        rar["IP"] = str(ipaddress.IPv4Address(par["IP"]) + idx)
    rvn["NEXT_AR"] += 1
    rvn["AR_POOL"].append(rar)
    return rvn["ID"]


def _free_block(ctx: Ctx, vn: dict, size: int, ar_id: str, start: dict) -> tuple | None:
    """First run of ``size`` free addresses: (parent AR, first index)."""
    for ar in vn["AR_POOL"]:
        if ar_id and ar["AR_ID"] != ar_id:
            continue
        taken = ar_leases(ctx.store, vn["ID"], ar)
        total = int(ar["SIZE"])
        if "IP" in start:
            candidates = [int(ipaddress.IPv4Address(start["IP"])) - int(ipaddress.IPv4Address(ar["IP"]))] \
                if "IP" in ar else []
        elif "MAC" in start:
            candidates = [mac_to_int(start["MAC"]) - mac_to_int(ar["MAC"])]
        else:
            candidates = range(total)
        for first in candidates:
            if 0 <= first and first + size <= total and not any(i in taken for i in range(first, first + size)):
                return ar, first
    return None
