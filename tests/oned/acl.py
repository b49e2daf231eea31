"""ACL rule encoding (include/AclRule.h, include/PoolObjectSQL.h)."""

from __future__ import annotations

INDIVIDUAL, GROUP, ALL, CLUSTER = 0x100000000, 0x200000000, 0x400000000, 0x800000000
RESOURCES = {
    "VM": 0x1000000000, "HOST": 0x2000000000, "NET": 0x4000000000, "IMAGE": 0x8000000000,
    "USER": 0x10000000000, "TEMPLATE": 0x20000000000, "GROUP": 0x40000000000,
    "DATASTORE": 0x100000000000, "CLUSTER": 0x200000000000, "DOCUMENT": 0x400000000000,
    "ZONE": 0x800000000000, "SECGROUP": 0x1000000000000, "VDC": 0x2000000000000,
    "VROUTER": 0x4000000000000, "MARKETPLACE": 0x8000000000000,
    "MARKETPLACEAPP": 0x10000000000000, "VMGROUP": 0x20000000000000,
    "VNTEMPLATE": 0x40000000000000, "HOOK": 0x80000000000000, "BACKUPJOB": 0x100000000000000,
}
RIGHTS = {"USE": 0x1, "MANAGE": 0x2, "ADMIN": 0x4, "CREATE": 0x8}
ID_MASK = 0xFFFFFFFF


def _who(value: int) -> str:
    oid = value & ID_MASK
    if value & INDIVIDUAL:
        return f"#{oid}"
    if value & GROUP:
        return f"@{oid}"
    if value & CLUSTER:
        return f"%{oid}"
    if value & ALL:
        return "*"
    return "??"


def rule_string(user: int, resource: int, rights: int, zone: int) -> str:
    """Human form, as ``AclRule::to_str``: ``@1 VM+NET/* CREATE #0``."""
    res = "+".join(name for name, bit in RESOURCES.items() if resource & bit)
    right = "+".join(name for name, bit in RIGHTS.items() if rights & bit)
    return f"{_who(user)} {res}/{_who(resource)} {right} {_who(zone)}"


def default_rules() -> list:
    """The rules a fresh oned creates."""
    users_create = sum(RESOURCES[k] for k in (
        "VM", "NET", "IMAGE", "TEMPLATE", "DOCUMENT", "SECGROUP", "VROUTER", "VMGROUP",
        "VNTEMPLATE", "BACKUPJOB"))
    return [
        {"USER": GROUP | 1, "RESOURCE": users_create | ALL, "RIGHTS": RIGHTS["CREATE"],
         "ZONE": INDIVIDUAL | 0},
        {"USER": ALL, "RESOURCE": RESOURCES["ZONE"] | ALL, "RIGHTS": RIGHTS["USE"], "ZONE": ALL},
        {"USER": ALL, "RESOURCE": RESOURCES["MARKETPLACE"] | RESOURCES["MARKETPLACEAPP"] | ALL,
         "RIGHTS": RIGHTS["USE"], "ZONE": ALL},
    ]


# oned.conf's DEFAULT_VDC_*_ACL: what the groups of a VDC get on each resource it offers (ResourceSet, src/vdc/Vdc.cc)
VDC_RULES = {"CLUSTERS": (("HOST", "MANAGE"), ("NET", "USE"), ("DATASTORE", "USE")),
             "HOSTS": (("HOST", "MANAGE"),), "DATASTORES": (("DATASTORE", "USE"),), "VNETS": (("NET", "USE"),)}
VDC_ALL_RESOURCES = -10


def vdc_rules(gid: int, field: str, zone: int, oid: int) -> list[dict]:
    """The rules ``ResourceSet::add_rule`` gives group ``gid`` for resource ``oid`` (``-10``: all) of a VDC's
    ``field`` (CLUSTERS, HOSTS, DATASTORES, VNETS) in ``zone``."""
    if oid == VDC_ALL_RESOURCES:
        target = ALL
    else:
        target = (CLUSTER if field == "CLUSTERS" else INDIVIDUAL) | oid
    return [{"USER": GROUP | gid, "RESOURCE": RESOURCES[kind] | target, "RIGHTS": RIGHTS[right],
             "ZONE": INDIVIDUAL | zone} for kind, right in VDC_RULES[field]]


def parse_hex(value: object) -> int:
    """oned takes the ACL fields as hex strings (``"0x200000001"`` or ``"200000001"``)."""
    if isinstance(value, int):
        return value
    return int(str(value).strip(), 16)
