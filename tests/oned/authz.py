"""Authorization of non-oneadmin callers: object permissions plus ACL rules.

A simplified ``AuthManager``/``AclManager``: members of the oneadmin group may
do anything; other users need the USE/MANAGE/ADMIN bit of the object's
permissions (owner, group or others) or an ACL rule granting the right; object
creation needs a CREATE rule (the default rule lets group ``users`` create VMs,
networks, images, templates...).  The operation of each method follows
``auth_op`` in oned's request classes (``info`` USE, changes MANAGE,
infrastructure deletions and cluster/VDC membership ADMIN).
"""

from __future__ import annotations

from . import errors
from .acl import ALL, CLUSTER, GROUP, INDIVIDUAL, RESOURCES, RIGHTS

ACL_TYPES = {"vm": "VM", "host": "HOST", "vn": "NET", "image": "IMAGE", "user": "USER",
             "template": "TEMPLATE", "group": "GROUP", "datastore": "DATASTORE",
             "cluster": "CLUSTER", "secgroup": "SECGROUP", "vdc": "VDC", "backupjob": "BACKUPJOB"}
PREFIXES = {"vm": "vm", "host": "host", "vn": "vn", "image": "image", "user": "user",
            "template": "template", "group": "group", "datastore": "datastore",
            "cluster": "cluster", "secgroup": "secgroup", "vdc": "vdc", "backupjob": "backupjob"}
INFRA = {"host", "cluster", "datastore", "user", "group", "vdc"}
READS = {"info", "instantiate", "clone"}  # USE operations
ADMIN_ACTIONS = {"addhost", "delhost", "adddatastore", "deldatastore", "addvnet", "delvnet",
                 "addgroup", "delgroup", "addcluster", "delcluster", "addadmin", "deladmin",
                 "chauth", "enable", "deploy"}


def _owner_bits(kind: str, obj: dict) -> tuple[int, int, list]:
    if kind == "user":
        return obj["ID"], obj["GID"], [1, 1, 0, 0, 0, 0, 0, 0, 0]
    if kind == "group":
        return -1, obj["ID"], [0, 0, 0, 1, 0, 0, 0, 0, 0]
    if "PERMS" in obj:
        return obj["UID"], obj["GID"], obj["PERMS"]
    return 0, 0, [1, 1, 1, 0, 0, 0, 0, 0, 0]


def _who_matches(value: int, ctx: object) -> bool:
    oid = value & 0xFFFFFFFF
    if value & INDIVIDUAL:
        return oid == ctx.uid
    if value & GROUP:
        return oid in ctx.groups
    return bool(value & ALL)


def _resource_matches(rule: int, kind: str, obj: dict | None) -> bool:
    if not rule & RESOURCES[ACL_TYPES[kind]]:
        return False
    if rule & ALL:
        return True
    if obj is None:
        return False
    oid = rule & 0xFFFFFFFF
    if rule & INDIVIDUAL:
        return obj["ID"] == oid
    if rule & GROUP:
        return obj.get("GID") == oid
    if rule & CLUSTER:
        return oid in obj.get("CLUSTERS", []) or obj.get("CLUSTER_ID") == oid
    return False


def allowed(ctx: object, kind: str, obj: dict | None, op: str) -> bool:
    """Whether the caller may perform ``op`` (USE/MANAGE/ADMIN/CREATE) on ``obj``."""
    if ctx.admin or kind not in ACL_TYPES:
        return True
    if obj is not None and op != "CREATE":
        uid, gid, perms = _owner_bits(kind, obj)
        bit = ("USE", "MANAGE", "ADMIN").index(op)
        if (uid == ctx.uid and perms[bit]) or (gid in ctx.groups and perms[3 + bit]) or perms[6 + bit]:
            return True
    for rule in ctx.store.objs("acl").values():
        if (_who_matches(rule["USER"], ctx) and _resource_matches(rule["RESOURCE"], kind, obj)
                and rule["RIGHTS"] & RIGHTS[op]
                and (rule["ZONE"] & ALL or rule["ZONE"] == INDIVIDUAL | 0)):
            return True
    return False


def require(ctx: object, kind: str, obj: dict | None, op: str) -> None:
    """Raise oned's AUTHORIZATION error unless :func:`allowed`."""
    if not allowed(ctx, kind, obj, op):
        what = f"{op} {ACL_TYPES[kind]}" + (f" [{obj['ID']}]" if obj is not None and op != "CREATE" else "")
        raise errors.OnedError(errors.AUTHORIZATION,
                               f"User [{ctx.uid}] : Not authorized to perform {what}.")


def check_call(ctx: object, method: str, params: tuple) -> None:
    """Authorize one ``one.<kind>.<action>`` call before it runs (non-admin callers only)."""
    if ctx.admin:
        return
    parts = method.split(".")
    if method in ("one.acl.addrule", "one.acl.delrule"):  # ACL rules are oneadmin's business
        raise errors.OnedError(errors.AUTHORIZATION,
                               f"User [{ctx.uid}] : Not authorized to perform MANAGE ACL.")
    if len(parts) != 3 or parts[1] not in PREFIXES:
        return
    kind, action = parts[1], parts[2]
    if action == "allocate":
        require(ctx, kind, None, "CREATE")
        return
    if method == "one.vm.action":  # (action, id)
        params = params[1:]
    if not params or not isinstance(params[0], int) or isinstance(params[0], bool):
        return
    obj = ctx.store.find(kind, params[0])
    if obj is None:
        return
    if action in READS:
        op = "USE"
    elif action in ADMIN_ACTIONS or (action == "delete" and kind in INFRA):
        op = "ADMIN"
    else:
        op = "MANAGE"
    require(ctx, kind, obj, op)
    if action == "instantiate":
        require(ctx, "vm", None, "CREATE")
    if action == "clone":
        require(ctx, kind, None, "CREATE")
