"""XML bodies shaped like oned's ``to_xml`` (element order of share/doc/xsd/*.xsd)."""

from __future__ import annotations

import ipaddress
import time

from . import template as T
from .acl import rule_string
from .store import (
    ACTIVE,
    DONE,
    IMG_READY,
    IMG_USED,
    IMG_USED_PERS,
    POWEROFF,
    SUSPENDED,
    Store,
)
from .xmlutil import cdata_el, el, ids, lock, perms

QUOTAS = ("<DATASTORE_QUOTA></DATASTORE_QUOTA><NETWORK_QUOTA></NETWORK_QUOTA>"
          "<VM_QUOTA></VM_QUOTA><IMAGE_QUOTA></IMAGE_QUOTA>")


def owner(o: dict) -> str:
    """ID, UID, GID, UNAME, GNAME, NAME."""
    return (el("ID", o["ID"]) + el("UID", o["UID"]) + el("GID", o["GID"])
            + el("UNAME", o["UNAME"]) + el("GNAME", o["GNAME"]) + el("NAME", o["NAME"]))


# ------------------------------------------------------------------ derived
def vm_alive(vm: dict) -> bool:
    """VM not in DONE."""
    return vm["STATE"] != DONE


def host_vms(store: Store, hid: int) -> list:
    """VMs placed on a host (ACTIVE, POWEROFF, SUSPENDED keep their host)."""
    return [vm["ID"] for vm in store.objs("vm").values()
            if vm["HISTORY"] and vm["HISTORY"][-1]["HID"] == hid
            and vm["STATE"] in (ACTIVE, POWEROFF, SUSPENDED)]


def backup_vms(tmpl: list) -> list:
    """VM ids of a backup job's BACKUP_VMS, in order."""
    return [int(v) for v in (T.get(tmpl, "BACKUP_VMS") or "").split(",") if v.strip().isdigit()]


def vm_backup_job(store: Store, vm_id: int, skip: int | None = None) -> int:
    """Id of the backup job holding a VM (a VM belongs to one job at most), or -1."""
    for bj in sorted(store.objs("backupjob").values(), key=lambda b: b["ID"]):
        if bj["ID"] != skip and vm_id in backup_vms(bj["TEMPLATE"]):
            return bj["ID"]
    return -1


def image_vms(store: Store, iid: int) -> list:
    """VMs with a DISK using an image."""
    return [vm["ID"] for vm in store.objs("vm").values() if vm_alive(vm) and any(
        isinstance(d, dict) and d.get("IMAGE_ID") == str(iid) for d in T.get_all(vm["TEMPLATE"], "DISK"))]


def image_state(store: Store, img: dict) -> int:
    """READY images in use show USED (or USED_PERS)."""
    if img["STATE"] == IMG_READY and image_vms(store, img["ID"]):
        return IMG_USED_PERS if img["PERSISTENT"] else IMG_USED
    return img["STATE"]


def ar_leases(store: Store, vnid: int, ar: dict) -> dict:
    """index → ("VM" | "VNET", id) of the addresses taken from an address range
    (by VM NICs, or by reservations: networks whose ARs point to this one)."""
    out = {}
    base = mac_to_int(ar["MAC"])
    for vm in store.objs("vm").values():
        if not vm_alive(vm):
            continue
        for nic in T.get_all(vm["TEMPLATE"], "NIC"):
            if isinstance(nic, dict) and nic.get("NETWORK_ID") == str(vnid) \
                    and nic.get("AR_ID") == ar["AR_ID"] and "MAC" in nic:
                out[mac_to_int(nic["MAC"]) - base] = ("VM", vm["ID"])
    for child in store.objs("vn").values():
        if child["PARENT_NETWORK_ID"] != vnid:
            continue
        for rar in child["AR_POOL"]:
            if rar.get("PARENT_NETWORK_AR_ID") == ar["AR_ID"]:
                start = mac_to_int(rar["MAC"]) - base
                for idx in range(start, start + int(rar["SIZE"])):
                    out[idx] = ("VNET", child["ID"])
    return out


def mac_to_int(mac: str) -> int:
    """``02:00:0a:00:00:01`` → int."""
    return int(mac.replace(":", ""), 16)


def ip6_eui64(prefix: str, mac: int) -> str:
    """IPv6 address from a /64 prefix and a MAC (EUI-64), as ``AddressRange::ip6_to_s``."""
    net = int(ipaddress.IPv6Address(prefix)) >> 64 << 64
    raw = mac.to_bytes(6, "big")
    eui = bytes([raw[0] ^ 0x02]) + raw[1:3] + b"\xff\xfe" + raw[3:]
    return str(ipaddress.IPv6Address(net | int.from_bytes(eui, "big")))


def int_to_mac(value: int) -> str:
    """int → ``02:00:0a:00:00:01``."""
    raw = f"{value & 0xFFFFFFFFFFFF:012x}"
    return ":".join(raw[i:i + 2] for i in range(0, 12, 2))


# ------------------------------------------------------------------ kinds
def r_user(store: Store, u: dict, full: bool) -> str:
    """``<USER>`` (with quotas when ``full``)."""
    body = (el("ID", u["ID"]) + el("GID", u["GID"]) + ids("GROUPS", u["GROUPS"])
            + el("GNAME", store.objs("group")[u["GID"]]["NAME"] if u["GID"] in store.objs("group") else "")
            + el("NAME", u["NAME"]) + el("PASSWORD", u["PASSWORD"])
            + el("AUTH_DRIVER", u["AUTH_DRIVER"]) + el("ENABLED", u["ENABLED"])
            + "<LOGIN_TOKEN></LOGIN_TOKEN>" + T.to_xml(u["TEMPLATE"]))
    if full:
        body += QUOTAS + "<DEFAULT_USER_QUOTAS>" + QUOTAS + "</DEFAULT_USER_QUOTAS>"
    return f"<USER>{body}</USER>"


def r_group(store: Store, g: dict, full: bool) -> str:
    """``<GROUP>`` (with quotas when ``full``)."""
    users = [u["ID"] for u in store.objs("user").values() if g["ID"] in u["GROUPS"]]
    body = (el("ID", g["ID"]) + el("NAME", g["NAME"]) + T.to_xml(g["TEMPLATE"])
            + ids("USERS", users) + ids("ADMINS", g["ADMINS"]))
    if full:
        body += QUOTAS + "<DEFAULT_GROUP_QUOTAS>" + QUOTAS + "</DEFAULT_GROUP_QUOTAS>"
    return f"<GROUP>{body}</GROUP>"


def r_vdc(store: Store, v: dict, full: bool) -> str:
    """``<VDC>``."""
    def pairs(tag: str, sub: str, key: str, values: list) -> str:
        inner = "".join(f"<{sub}>{el('ZONE_ID', z)}{el(key, i)}</{sub}>" for z, i in values)
        return f"<{tag}>{inner}</{tag}>"
    return ("<VDC>" + el("ID", v["ID"]) + el("NAME", v["NAME"]) + ids("GROUPS", v["GROUPS"])
            + pairs("CLUSTERS", "CLUSTER", "CLUSTER_ID", v["CLUSTERS"])
            + pairs("HOSTS", "HOST", "HOST_ID", v["HOSTS"])
            + pairs("DATASTORES", "DATASTORE", "DATASTORE_ID", v["DATASTORES"])
            + pairs("VNETS", "VNET", "VNET_ID", v["VNETS"])
            + T.to_xml(v["TEMPLATE"]) + "</VDC>")


def r_cluster(store: Store, c: dict, full: bool) -> str:
    """``<CLUSTER>``; members derived from hosts, datastores and networks."""
    cid = c["ID"]
    hosts = [h["ID"] for h in store.objs("host").values() if h["CLUSTER_ID"] == cid]
    dss = [d["ID"] for d in store.objs("datastore").values() if cid in d["CLUSTERS"]]
    vns = [n["ID"] for n in store.objs("vn").values() if cid in n["CLUSTERS"]]
    return ("<CLUSTER>" + el("ID", cid) + el("NAME", c["NAME"]) + ids("HOSTS", hosts)
            + ids("DATASTORES", dss) + ids("VNETS", vns) + T.to_xml(c["TEMPLATE"]) + "</CLUSTER>")


def r_host(store: Store, h: dict, full: bool) -> str:
    """``<HOST>`` with HOST_SHARE and MONITORING from the dummy IM."""
    vms = host_vms(store, h["ID"])
    monitored = h.get("MONITORED", False)
    cpu = mem = 0
    for vid in vms:
        vt = store.objs("vm")[vid]["TEMPLATE"]
        cpu += int(float(T.get(vt, "CPU", "0") or 0) * 100)
        mem += int(float(T.get(vt, "MEMORY", "0") or 0) * 1024)
    total_cpu, total_mem = (800, 16777216) if monitored else (0, 0)
    share = ("<HOST_SHARE>" + el("MEM_USAGE", mem) + el("CPU_USAGE", cpu)
             + el("TOTAL_MEM", total_mem) + el("TOTAL_CPU", total_cpu)
             + el("MAX_MEM", total_mem) + el("MAX_CPU", total_cpu)
             + el("RUNNING_VMS", len(vms)) + el("VMS_THREAD", 0)
             + "<DATASTORES>" + el("DISK_USAGE", 0) + el("FREE_DISK", 0) + el("MAX_DISK", 0)
             + el("USED_DISK", 0) + "</DATASTORES><PCI_DEVICES></PCI_DEVICES>"
             + "<NUMA_NODES></NUMA_NODES></HOST_SHARE>")
    if monitored:
        monitoring = ("<MONITORING>" + el("TIMESTAMP", h["LAST_MON"]) + el("ID", h["ID"])
                      + "<CAPACITY>" + el("FREE_CPU", total_cpu - cpu)
                      + el("FREE_MEMORY", total_mem - mem) + el("USED_CPU", cpu)
                      + el("USED_MEMORY", mem) + "</CAPACITY><SYSTEM>" + el("NETRX", 0)
                      + el("NETTX", 0) + "</SYSTEM></MONITORING>")
    else:
        monitoring = "<MONITORING></MONITORING>"
    cluster = store.objs("cluster").get(h["CLUSTER_ID"], {}).get("NAME", "")
    return ("<HOST>" + el("ID", h["ID"]) + el("NAME", h["NAME"]) + el("STATE", h["STATE"])
            + el("PREV_STATE", h["PREV_STATE"]) + el("IM_MAD", h["IM_MAD"])
            + el("VM_MAD", h["VM_MAD"]) + el("CLUSTER_ID", h["CLUSTER_ID"])
            + el("CLUSTER", cluster) + share + ids("VMS", vms) + T.to_xml(h["TEMPLATE"])
            + monitoring + "</HOST>")


def r_datastore(store: Store, d: dict, full: bool) -> str:
    """``<DATASTORE>``; IMAGES and capacity derived from the images."""
    images = [i for i in store.objs("image").values() if i["DATASTORE_ID"] == d["ID"]]
    used = sum(i["SIZE"] for i in images)
    total = d["TOTAL_MB"]
    return ("<DATASTORE>" + owner(d) + perms(d["PERMS"]) + el("DS_MAD", d["DS_MAD"])
            + el("TM_MAD", d["TM_MAD"]) + el("BASE_PATH", d["BASE_PATH"])
            + el("TYPE", d["TYPE"]) + el("DISK_TYPE", d["DISK_TYPE"]) + el("STATE", d["STATE"])
            + ids("CLUSTERS", d["CLUSTERS"]) + el("TOTAL_MB", total)
            + el("FREE_MB", max(total - used, 0)) + el("USED_MB", used)
            + ids("IMAGES", [i["ID"] for i in images]) + T.to_xml(d["TEMPLATE"]) + "</DATASTORE>")


def r_image(store: Store, i: dict, full: bool) -> str:
    """``<IMAGE>``; VMS/RUNNING_VMS derived from the VMs' disks."""
    vms = image_vms(store, i["ID"])
    ds = store.objs("datastore").get(i["DATASTORE_ID"], {}).get("NAME", "")
    return ("<IMAGE>" + owner(i) + lock(i.get("LOCK")) + perms(i["PERMS"])
            + el("TYPE", i["TYPE"]) + el("DISK_TYPE", i["DISK_TYPE"])
            + el("PERSISTENT", i["PERSISTENT"]) + el("REGTIME", i["REGTIME"])
            + el("MODTIME", i["REGTIME"]) + el("SOURCE", i["SOURCE"]) + el("PATH", i["PATH"])
            + el("FORMAT", i["FORMAT"]) + el("FS", i["FS"]) + el("SIZE", i["SIZE"])
            + el("STATE", image_state(store, i)) + el("PREV_STATE", i["PREV_STATE"])
            + el("RUNNING_VMS", len(vms)) + el("CLONING_OPS", 0) + el("CLONING_ID", -1)
            + el("TARGET_SNAPSHOT", -1) + el("DATASTORE_ID", i["DATASTORE_ID"])
            + el("DATASTORE", ds) + ids("VMS", vms) + ids("CLONES", []) + ids("APP_CLONES", [])
            + T.to_xml(i["TEMPLATE"]) + "<SNAPSHOTS>" + el("ALLOW_ORPHANS", "NO")
            + el("CURRENT_BASE", -1) + el("NEXT_SNAPSHOT", 0) + "</SNAPSHOTS></IMAGE>")


def r_template(store: Store, t: dict, full: bool) -> str:
    """``<VMTEMPLATE>``."""
    return ("<VMTEMPLATE>" + owner(t) + lock(t.get("LOCK")) + perms(t["PERMS"])
            + el("REGTIME", t["REGTIME"]) + T.to_xml(t["TEMPLATE"]) + "</VMTEMPLATE>")


def r_secgroup(store: Store, s: dict, full: bool) -> str:
    """``<SECURITY_GROUP>``."""
    return ("<SECURITY_GROUP>" + owner(s) + perms(s["PERMS"]) + ids("UPDATED_VMS", [])
            + ids("OUTDATED_VMS", []) + ids("UPDATING_VMS", []) + ids("ERROR_VMS", [])
            + T.to_xml(s["TEMPLATE"]) + "</SECURITY_GROUP>")


def r_document(store: Store, d: dict, full: bool) -> str:
    """``<DOCUMENT>`` (src/document/Document.cc: no REGTIME, a TYPE)."""
    return ("<DOCUMENT>" + owner(d) + el("TYPE", d["TYPE"]) + perms(d["PERMS"]) + lock(d.get("LOCK"))
            + T.to_xml(d["TEMPLATE"]) + "</DOCUMENT>")


SA_ORDER = ("ID", "PARENT_ID", "TYPE", "ACTION", "ARGS", "TIME", "REPEAT", "DAYS", "END_TYPE",
            "END_VALUE", "DONE", "MESSAGE", "WARNING")


def r_backupjob(store: Store, b: dict, full: bool) -> str:
    """``<BACKUPJOB>``; scheduled actions inside TEMPLATE for ``*.info`` only."""
    tmpl = T.to_xml(b["TEMPLATE"])
    if full and b["SCHED"]:
        sched = "".join("<SCHED_ACTION>" + "".join(el(k, sa.get(k, "")) for k in SA_ORDER)
                        + "</SCHED_ACTION>" for sa in b["SCHED"])
        tmpl = ("<TEMPLATE>" if tmpl == "<TEMPLATE/>" else tmpl[:-len("</TEMPLATE>")]) + sched + "</TEMPLATE>"
    return ("<BACKUPJOB>" + owner(b) + lock(b.get("LOCK")) + perms(b["PERMS"])
            + el("PRIORITY", b["PRIORITY"]) + el("LAST_BACKUP_TIME", b["LAST_BACKUP_TIME"])
            + el("LAST_BACKUP_DURATION", b["LAST_BACKUP_DURATION"])
            + ids("SCHED_ACTIONS", [int(sa["ID"]) for sa in b["SCHED"]])
            + ids("UPDATED_VMS", b["UPDATED_VMS"]) + ids("OUTDATED_VMS", b["OUTDATED_VMS"])
            + ids("BACKING_UP_VMS", b["BACKING_UP_VMS"]) + ids("ERROR_VMS", b["ERROR_VMS"])
            + tmpl + "</BACKUPJOB>")


def r_acl(store: Store, a: dict, full: bool) -> str:
    """``<ACL>`` with hex fields and the rule string."""
    return ("<ACL>" + el("ID", a["ID"]) + el("USER", f"{a['USER']:x}")
            + el("RESOURCE", f"{a['RESOURCE']:x}") + el("RIGHTS", f"{a['RIGHTS']:x}")
            + el("ZONE", f"{a['ZONE']:x}")
            + el("STRING", rule_string(a["USER"], a["RESOURCE"], a["RIGHTS"], a["ZONE"])) + "</ACL>")


OBJECT_BITS = {"VM": 0x1000000000, "VNET": 0x4000000000}  # PoolObjectSQL types in ALLOCATED


def _ar_xml(store: Store, vnid: int, ar: dict, full: bool) -> str:
    """``AddressRange::to_xml`` (info) or the raw AR template (pool listing)."""
    attrs = {k: v for k, v in ar.items() if not k.startswith("_")}
    leases = ar_leases(store, vnid, ar)
    if not full:
        if leases:
            attrs["ALLOCATED"] = "".join(f" {i} {OBJECT_BITS[kind] | oid}"
                                         for i, (kind, oid) in sorted(leases.items()))
        return "<AR>" + "".join(cdata_el(k, v) for k, v in sorted(attrs.items())) + "</AR>"
    out = "".join(el(k, v) for k, v in sorted(attrs.items()))
    size = int(ar["SIZE"])
    base_mac = mac_to_int(ar["MAC"])
    out += el("MAC_END", int_to_mac(base_mac + size - 1))
    if ar["TYPE"] in ("IP4", "IP4_6", "IP4_6_STATIC") and "IP" in ar:
        out += el("IP_END", str(ipaddress.IPv4Address(ar["IP"]) + size - 1))
    if ar["TYPE"] in ("IP6", "IP4_6"):
        for key, tag in (("ULA_PREFIX", "IP6_ULA"), ("GLOBAL_PREFIX", "IP6_GLOBAL")):
            if ar.get(key):
                out += el(tag, ip6_eui64(ar[key], base_mac))
                out += el(f"{tag}_END", ip6_eui64(ar[key], base_mac + size - 1))
    if ar["TYPE"] in ("IP6_STATIC", "IP4_6_STATIC") and "IP6" in ar:
        out += el("IP6_END", str(ipaddress.IPv6Address(ar["IP6"]) + size - 1))
    out += el("USED_LEASES", len(leases))
    inner = ""
    for idx, (kind, oid) in sorted(leases.items()):
        lease = {"MAC": int_to_mac(base_mac + idx), kind: oid}
        if "IP" in ar:
            lease["IP"] = str(ipaddress.IPv4Address(ar["IP"]) + idx)
        inner += "<LEASE>" + "".join(el(k, v) for k, v in sorted(lease.items())) + "</LEASE>"
    out += f"<LEASES>{inner}</LEASES>"
    return f"<AR>{out}</AR>"


def r_vn(store: Store, n: dict, full: bool) -> str:
    """``<VNET>``; AR_POOL in info (extended) or raw (pool) form."""
    ars = "".join(_ar_xml(store, n["ID"], ar, full) for ar in n["AR_POOL"])
    used = sum(len(ar_leases(store, n["ID"], ar)) for ar in n["AR_POOL"])
    return ("<VNET>" + owner(n) + lock(n.get("LOCK")) + perms(n["PERMS"])
            + ids("CLUSTERS", n["CLUSTERS"]) + el("BRIDGE", n["BRIDGE"])
            + el("BRIDGE_TYPE", n["BRIDGE_TYPE"]) + el("STATE", n["STATE"])
            + el("PREV_STATE", n["PREV_STATE"])
            + el("PARENT_NETWORK_ID", "" if n["PARENT_NETWORK_ID"] == -1 else n["PARENT_NETWORK_ID"])
            + el("TEMPLATE_ID", n["TEMPLATE_ID"]) + el("VN_MAD", n["VN_MAD"])
            + el("PHYDEV", n["PHYDEV"]) + el("VLAN_ID", n["VLAN_ID"])
            + el("OUTER_VLAN_ID", n["OUTER_VLAN_ID"])
            + el("VLAN_ID_AUTOMATIC", int(n["VLAN_ID_AUTOMATIC"]))
            + el("OUTER_VLAN_ID_AUTOMATIC", int(n["OUTER_VLAN_ID_AUTOMATIC"]))
            + el("USED_LEASES", used) + ids("VROUTERS", []) + ids("UPDATED_VMS", [])
            + ids("OUTDATED_VMS", []) + ids("UPDATING_VMS", []) + ids("ERROR_VMS", [])
            + T.to_xml(n["TEMPLATE"]) + f"<AR_POOL>{ars}</AR_POOL></VNET>")


HISTORY_FULL = ("OID", "SEQ", "HOSTNAME", "HID", "CID", "STIME", "ETIME", "VM_MAD", "TM_MAD",
                "DS_ID", "PLAN_ID", "ACTION_ID", "PSTIME", "PETIME", "RSTIME", "RETIME",
                "ESTIME", "EETIME", "ACTION", "UID", "GID", "REQUEST_ID")
HISTORY_SHORT = ("OID", "SEQ", "HOSTNAME", "HID", "CID", "DS_ID", "VM_MAD", "TM_MAD", "ACTION")
# VirtualMachineDisk/Nic::to_xml_short and VirtualMachineTemplate::to_xml_short
DISK_SHORT = ("DISK_ID", "DATASTORE", "DATASTORE_ID", "IMAGE", "IMAGE_ID", "SIZE", "TYPE", "CLONE",
              "CLONE_TARGET", "LN_TARGET", "DISK_SNAPSHOT_TOTAL_SIZE")
NIC_SHORT_OPTIONAL = ("IP", "EXTERNAL_IP", "IP6", "IP6_ULA", "IP6_LINK", "IP6_GLOBAL", "NETWORK_MODE",
                      "SCHED_REQUIREMENTS", "SCHED_RANK")
NIC_SHORT = ("MAC", "NETWORK", "NETWORK_ID", "NIC_ID", "SECURITY_GROUPS")
USER_SHORT = ("LABELS", "ERROR", "SCHED_MESSAGE", "SCHED_RANK", "SCHED_DS_RANK", "SCHED_REQUIREMENTS",
              "SCHED_DS_REQUIREMENTS", "USER_PRIORITY")


def _vm_short_template(v: dict) -> str:
    tmpl = v["TEMPLATE"]
    out = el("CPU", T.get(tmpl, "CPU", "")) + el("MEMORY", T.get(tmpl, "MEMORY", ""))
    for disk in T.get_all(tmpl, "DISK"):
        out += "<DISK>" + "".join(el(k, disk.get(k, "")) for k in DISK_SHORT) + "</DISK>"
    for nic in T.get_all(tmpl, "NIC") + T.get_all(tmpl, "NIC_ALIAS"):
        out += ("<NIC>" + "".join(el(k, nic[k]) for k in NIC_SHORT_OPTIONAL if nic.get(k))
                + "".join(el(k, nic.get(k, "")) for k in NIC_SHORT) + "</NIC>")
    graphics = [(k, g) for k, g in tmpl if k == "GRAPHICS"][:1]
    if graphics:
        out += T.to_xml(graphics)[len("<TEMPLATE>"):-len("</TEMPLATE>")]
    return f"<TEMPLATE>{out}</TEMPLATE>"


def _vm_short_user_template(v: dict) -> str:
    tmpl = v["USER_TEMPLATE"]
    if not tmpl:
        return "<USER_TEMPLATE/>"
    out = ""
    for key in USER_SHORT:
        value = T.get(tmpl, key)
        if value is not None and (value or key not in ("LABELS", "ERROR", "SCHED_MESSAGE")):
            out += el(key, value)
    for key in ("PUBLIC_CLOUD", "SCHED_ACTION"):
        vectors = [(k, vec) for k, vec in tmpl if k == key and isinstance(vec, dict)]
        if vectors:
            out += T.to_xml(vectors)[len("<TEMPLATE>"):-len("</TEMPLATE>")]
    return f"<USER_TEMPLATE>{out}</USER_TEMPLATE>"


def _vm_backups(store: Store, v: dict) -> str:
    job = vm_backup_job(store, v["ID"]) if v["STATE"] != DONE else -1
    config = {**v.get("BACKUP_CONFIG", {}), **({"BACKUP_JOB_ID": str(job)} if job != -1 else {})}
    config = "".join(cdata_el(k, config[k]) for k in sorted(config))
    return f"<BACKUPS><BACKUP_CONFIG>{config}</BACKUP_CONFIG><BACKUP_IDS></BACKUP_IDS></BACKUPS>"


def r_vm(store: Store, v: dict, full: bool) -> str:
    """``<VM>``: full (``*.info``, infoextended) or short (``vmpool.info``) body."""
    last_poll = int(time.time()) if v["STATE"] == ACTIVE else 0
    head = owner(v) + (perms(v["PERMS"]) if full else "") + el("LAST_POLL", last_poll)
    head += el("STATE", v["STATE"]) + el("LCM_STATE", v["LCM_STATE"])
    if full:
        head += el("PREV_STATE", v["PREV_STATE"]) + el("PREV_LCM_STATE", v["PREV_LCM_STATE"])
    head += (el("RESCHED", 0) + el("STIME", v["STIME"]) + el("ETIME", v["ETIME"])
             + el("DEPLOY_ID", v["DEPLOY_ID"]) + lock(v.get("LOCK")))
    monitoring = "<MONITORING></MONITORING>"
    if full:
        history = "".join("<HISTORY>" + "".join(el(k, h[k]) for k in HISTORY_FULL) + "</HISTORY>"
                          for h in v["HISTORY"])
        body = (head + monitoring + ids("SCHED_ACTIONS", []) + T.to_xml(v["TEMPLATE"])
                + T.to_xml(v["USER_TEMPLATE"], "USER_TEMPLATE")
                + f"<HISTORY_RECORDS>{history}</HISTORY_RECORDS>"
                + _vm_backups(store, v))
    else:
        history = "<HISTORY_RECORDS/>"
        if v["HISTORY"]:
            h = v["HISTORY"][-1]
            history = ("<HISTORY_RECORDS><HISTORY>" + "".join(el(k, h[k]) for k in HISTORY_SHORT)
                       + "</HISTORY></HISTORY_RECORDS>")
        body = head + _vm_short_template(v) + monitoring + _vm_short_user_template(v) + history
    return f"<VM>{body}</VM>"


RENDER = {
    "user": r_user, "group": r_group, "vdc": r_vdc, "cluster": r_cluster, "host": r_host,
    "datastore": r_datastore, "image": r_image, "template": r_template, "vn": r_vn,
    "vm": r_vm, "secgroup": r_secgroup, "backupjob": r_backupjob, "acl": r_acl,
    "document": r_document,
}


def render(store: Store, kind: str, obj: dict, full: bool = True) -> str:
    """One object document (``full`` = ``*.info`` form, else pool-listing form)."""
    return RENDER[kind](store, obj, full)


def render_pool(store: Store, kind: str, tag: str, objs: list, full: bool = False) -> str:
    """A ``*_POOL`` document, including the QUOTAS blocks of users and groups."""
    body = "".join(render(store, kind, o, full) for o in objs)
    if kind in ("user", "group"):
        body += "".join(f"<QUOTAS>{el('ID', o['ID'])}{QUOTAS}</QUOTAS>" for o in objs)
        tag_q = "DEFAULT_USER_QUOTAS" if kind == "user" else "DEFAULT_GROUP_QUOTAS"
        body += f"<{tag_q}>{QUOTAS}</{tag_q}>"
    return f"<{tag}>{body}</{tag}>"
