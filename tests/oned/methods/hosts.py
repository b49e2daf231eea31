"""Clusters and hosts (dummy IM driver)."""

from __future__ import annotations

import time
from collections.abc import Callable

from .. import errors
from ..engine import (
    DELETE_CHECKS,
    DRIVER_HOOKS,
    HANDLERS,
    Ctx,
    check_unique,
    cluster_arg,
    get,
    method,
    new_obj,
)
from ..render import host_vms
from ..store import (
    HOST_DISABLED,
    HOST_INIT,
    HOST_MONITORED,
    HOST_OFFLINE,
    Store,
    check_name,
)


@method("one.cluster.allocate")
def cluster_allocate(ctx: Ctx, name: str) -> int:
    """``one.cluster.allocate(name)``."""
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
    """``one.host.allocate(name, im_mad, vm_mad, cluster_id)``: INIT, then MONITORED."""
    cid = cluster_arg(ctx, cluster_id)
    name = check_name(name)
    if not im_mad:
        raise errors.internal("IM_MAD name cannot be empty.")
    if not vm_mad:
        raise errors.internal("VMM_MAD name cannot be empty.")
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
    """``one.host.status(id, status)``: 0 enable, 1 disable, 2 offline."""
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


def host_monitored(store: Store, host: dict, fields: dict) -> None:
    """What the dummy IM driver reports on the first monitoring."""
    if fields.get("STATE") != HOST_MONITORED:
        return
    host["MONITORED"] = True
    host["LAST_MON"] = int(time.time())
    tmpl = [(k, v) for k, v in host["TEMPLATE"] if k not in HOST_PROBES]
    host["TEMPLATE"] = tmpl + [
        ("ARCH", "x86_64"), ("CPUSPEED", "2200"), ("HOSTNAME", host["NAME"]),
        ("HYPERVISOR", "dummy"), ("MODELNAME", "Intel(R) Xeon(R) CPU (dummy)"),
        ("RESERVED_CPU", ""), ("RESERVED_MEM", "")]


HOST_PROBES = ("ARCH", "CPUSPEED", "HOSTNAME", "HYPERVISOR", "MODELNAME", "RESERVED_CPU",
               "RESERVED_MEM")


DRIVER_HOOKS.setdefault("host", []).append(host_monitored)
