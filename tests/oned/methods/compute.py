"""Virtual machines and VM templates: creation (NIC leases, DISK images), actions and the
dummy-driver life cycle (PENDING → PROLOG → BOOT → RUNNING ...).

Transitions are queued on the VM (``Store.schedule``) and applied lazily by
``Store.tick``; :func:`on_change` is the hook run after each applied step and
:func:`schedule_pending` plays the scheduler (deploys PENDING VMs on the first
enabled, monitored host whose cluster fits the VM's networks).
"""

from __future__ import annotations

import ipaddress
import re
import time

from .. import errors
from .. import template as T
from ..engine import (
    DRIVER_HOOKS,
    Ctx,
    check_unique,
    filter_objs,
    get,
    method,
    new_obj,
    on_driver_step,
    owned_fields,
    parse_template,
    take_name,
)
from ..render import ar_leases, int_to_mac, ip6_eui64, mac_to_int, render_pool
from ..store import (
    ACTIVE,
    DONE,
    HOLD,
    HOST_MONITORED,
    LCM_STATES,
    PENDING,
    POWEROFF,
    STOPPED,
    SUSPENDED,
    UNDEPLOYED,
    VM_STATES,
    Store,
    check_name,
)
from ..xmlutil import umask_perms

# Attributes kept in the VM TEMPLATE; everything else goes to USER_TEMPLATE.
SYSTEM_ATTRS = {
    "AUTOMATIC_DS_REQUIREMENTS", "AUTOMATIC_NIC_REQUIREMENTS", "AUTOMATIC_REQUIREMENTS",
    "BACKUP_CONFIG", "CLONING_TEMPLATE_ID", "CONTEXT", "CPU", "CPU_COST", "CPU_MODEL", "DISK",
    "DISK_COST", "EMULATOR", "FEATURES", "GRAPHICS", "HYPERV_OPTIONS", "INPUT", "MEMORY",
    "MEMORY_COST", "MEMORY_MAX", "MEMORY_RESIZE_MODE", "MEMORY_SLOTS", "NIC", "NIC_ALIAS",
    "NIC_DEFAULT", "NUMA_NODE", "OS", "PCI", "RAW", "SECURITY_GROUP_RULE", "SPICE_OPTIONS",
    "SUBMIT_ON_HOLD", "TEMPLATE_ID", "TM_MAD_SYSTEM", "TOPOLOGY", "TPM", "VCPU", "VCPU_MAX",
    "VIDEO", "VMGROUP", "VMID",
}


def _history(vm: dict, host: dict, ds_id: int, tm_mad: str) -> dict:
    now = int(time.time())
    return {"OID": vm["ID"], "SEQ": len(vm["HISTORY"]), "HOSTNAME": host["NAME"],
            "HID": host["ID"], "CID": host["CLUSTER_ID"], "STIME": now, "ETIME": 0,
            "VM_MAD": host["VM_MAD"], "TM_MAD": tm_mad, "DS_ID": ds_id, "PLAN_ID": -1,
            "ACTION_ID": -1, "PSTIME": now, "PETIME": 0, "RSTIME": 0, "RETIME": 0, "ESTIME": 0,
            "EETIME": 0, "ACTION": 0, "UID": -1, "GID": -1, "REQUEST_ID": "-1"}


def _find_by_name(ctx: Ctx, kind: str, vec: dict, prefix: str) -> dict | None:
    oid = vec.get(f"{prefix}_ID")
    if oid not in (None, ""):
        return ctx.store.find(kind, int(oid)) if str(oid).isdigit() else None
    name = vec.get(prefix)
    uname = vec.get(f"{prefix}_UNAME")
    uid = vec.get(f"{prefix}_UID")
    for obj in ctx.store.objs(kind).values():
        if obj["NAME"] != name:
            continue
        if (uid not in (None, "") and str(obj["UID"]) == str(uid)) or \
           (uname and obj["UNAME"] == uname) or (not uid and not uname and obj["UID"] == ctx.uid):
            return obj
    return None


def _nic(ctx: Ctx, vm_id: int, nic_id: int, vec: dict) -> dict:
    nic = dict(vec)
    nic["NIC_ID"] = str(nic_id)
    if not nic.get("NETWORK_ID") and not nic.get("NETWORK"):
        return nic
    vn = _find_by_name(ctx, "vn", nic, "NETWORK")
    if vn is None:
        if nic.get("NETWORK_ID"):
            raise errors.internal(f"Virtual network with ID: {nic['NETWORK_ID']} does not exist")
        raise errors.internal(f"User {ctx.uid} does not own a network with name: "
                              f"{nic.get('NETWORK')} . Set NETWORK_UNAME or NETWORK_UID of "
                              f"owner in NIC.")
    if sum(bool(nic.get(k)) for k in ("IP", "IP6", "MAC")) > 1:
        raise errors.internal(f"Cannot get IP/MAC lease from virtual network {vn['ID']}.")
    lease = _lease(ctx, vn, nic.get("IP"), nic.get("MAC"))
    if lease is None:
        raise errors.internal(f"Cannot get IP/MAC lease from virtual network {vn['ID']}.")
    ar, idx = lease
    sgs = {int(x) for x in (nic.get("SECURITY_GROUPS", "") + ","
                            + (T.get(vn["TEMPLATE"], "SECURITY_GROUPS") or "") + ","
                            + ar.get("SECURITY_GROUPS", "")).split(",") if x.strip().isdigit()}
    nic.update(AR_ID=ar["AR_ID"], BRIDGE=vn["BRIDGE"], BRIDGE_TYPE=vn["BRIDGE_TYPE"],
               CLUSTER_ID=",".join(map(str, sorted(vn["CLUSTERS"]))),
               MAC=int_to_mac(mac_to_int(ar["MAC"]) + idx), NAME=f"NIC{nic_id}",
               NETWORK=vn["NAME"], NETWORK_ID=str(vn["ID"]), NETWORK_UNAME=vn["UNAME"],
               SECURITY_GROUPS=",".join(map(str, sorted(sgs))), VN_MAD=vn["VN_MAD"])
    nic.setdefault("TARGET", f"one-{vm_id}-{nic_id}")
    if "IP" in ar:
        nic["IP"] = str(ipaddress.IPv4Address(ar["IP"]) + idx)
    if ar["TYPE"] in ("IP6", "IP4_6"):  # AddressRange::set_ip6 (EUI-64 from the MAC)
        mac = mac_to_int(nic["MAC"])
        nic["IP6_LINK"] = ip6_eui64("fe80::", mac)
        for prefix, key in (("ULA_PREFIX", "IP6_ULA"), ("GLOBAL_PREFIX", "IP6_GLOBAL")):
            if ar.get(prefix):
                nic[key] = ip6_eui64(ar[prefix], mac)
    if ar["TYPE"] in ("IP6_STATIC", "IP4_6_STATIC") and ar.get("IP6"):
        nic["IP6"] = str(ipaddress.IPv6Address(ar["IP6"]) + idx)
    for key in ("PHYDEV", "VLAN_ID", "OUTER_VLAN_ID"):
        if vn[key]:
            nic[key] = str(vn[key])
    if vn["PARENT_NETWORK_ID"] != -1:
        nic["PARENT_NETWORK_ID"] = str(vn["PARENT_NETWORK_ID"])
    return nic


def _lease(ctx: Ctx, vn: dict, ip: str | None, mac: str | None) -> tuple | None:
    """First free address of the network (or the requested IP/MAC): (AR, index)."""
    for ar in vn["AR_POOL"]:
        taken = ar_leases(ctx.store, vn["ID"], ar)
        size = int(ar["SIZE"])
        if ip or mac:
            if ip and "IP" not in ar:
                continue
            try:
                idx = (int(ipaddress.IPv4Address(ip)) - int(ipaddress.IPv4Address(ar["IP"])) if ip
                       else mac_to_int(mac) - mac_to_int(ar["MAC"]))
            except ValueError:
                continue
            if 0 <= idx < size and idx not in taken:
                return ar, idx
            continue
        idx = next((i for i in range(size) if i not in taken), None)
        if idx is not None:
            return ar, idx
    return None


def _disk(ctx: Ctx, disk_id: int, vec: dict) -> dict:
    disk = dict(vec)
    disk["DISK_ID"] = str(disk_id)
    img = None
    if disk.get("IMAGE_ID") or disk.get("IMAGE"):
        img = _find_by_name(ctx, "image", disk, "IMAGE")
        if img is None:
            ref = disk.get("IMAGE_ID") or disk.get("IMAGE")
            raise errors.internal(f"Error getting image [{ref}].")
    prefix = disk.get("DEV_PREFIX") or (T.get(img["TEMPLATE"], "DEV_PREFIX") if img else None) or "sd"
    disk["DEV_PREFIX"] = prefix
    disk.setdefault("TARGET", prefix + "abcdefghijklmnopqrstuvwxyz"[disk_id % 26])
    if img is None:
        return disk
    ds = ctx.store.find("datastore", img["DATASTORE_ID"]) or {"NAME": "", "TM_MAD": ""}
    disk.update(CLONE="NO" if img["PERSISTENT"] else "YES", DATASTORE=ds["NAME"],
                DATASTORE_ID=str(img["DATASTORE_ID"]), DISK_TYPE="FILE", IMAGE=img["NAME"],
                IMAGE_ID=str(img["ID"]), IMAGE_UNAME=img["UNAME"], ORIGINAL_SIZE=str(img["SIZE"]),
                READONLY="NO", SAVE="YES" if img["PERSISTENT"] else "NO",
                SIZE=disk.get("SIZE", str(img["SIZE"])), SOURCE=img["SOURCE"],
                TM_MAD=ds["TM_MAD"], TYPE="FILE", FORMAT=img["FORMAT"])
    return disk


# VirtualMachine::NETWORK_CONTEXT / NETWORK6_CONTEXT: ETH<n>_<name> from NIC/AR/VNET attribute
NETWORK_CONTEXT = (("IP", "IP"), ("MAC", "MAC"), ("MASK", "NETWORK_MASK"),
                   ("NETWORK", "NETWORK_ADDRESS"), ("GATEWAY", "GATEWAY"), ("DNS", "DNS"),
                   ("SEARCH_DOMAIN", "SEARCH_DOMAIN"), ("MTU", "GUEST_MTU"), ("VLAN_ID", "VLAN_ID"),
                   ("VROUTER_IP", "VROUTER_IP"), ("VROUTER_MANAGEMENT", "VROUTER_MANAGEMENT"),
                   ("IP6", "IP6_GLOBAL"), ("IP6_ULA", "IP6_ULA"), ("GATEWAY6", "GATEWAY6"),
                   ("CONTEXT_FORCE_IPV4", "CONTEXT_FORCE_IPV4"), ("VROUTER_IP6", "VROUTER_IP6_GLOBAL"))
_VARIABLE = re.compile(r"\$([A-Za-z0-9_]+)(?:\[([A-Za-z0-9_]+)\])?")


_VAR_TOKENS = (("EQUAL", re.compile(r"[ \t]*=[ \t]*")), ("COMMA", re.compile(r"[ \t]*,[ \t]*")),
               ("OBRACKET", re.compile(r"\[[ \t]*")), ("CBRACKET", re.compile(r"[ \t]*\]")),
               ("VARIABLE", re.compile(r"[A-Za-z0-9_]+")))
#: vm_var_syntax.y: what may follow each prefix of a variable (the three forms of vm_variable)
_VAR_FORMS = (("VARIABLE", "EOA"), ("VARIABLE", "OBRACKET", "VARIABLE", "CBRACKET", "EOA"),
              ("VARIABLE", "OBRACKET", "VARIABLE", "COMMA", "VARIABLE", "EQUAL", "STRING", "CBRACKET", "EOA"))


def _var_tokens(value: str) -> list[list[str]]:
    """vm_var_parser.l: the token lists of the variables of a value (text outside variables, and ``\\$``, skipped)."""
    variables: list[list[str]] = []
    i, n = 0, len(value)
    while i < n:
        if value[i] == "\\":
            i += 2
            continue
        if value[i] != "$":
            i += 1
            continue
        i += 1
        tokens: list[str] = []
        while True:  # VAR state
            if i >= n:
                tokens.append("EOA")
                break
            if tokens and tokens[-1] == "EQUAL":  # VALUE state
                m = re.compile(r'"[^"]*"|[A-Za-z0-9]+').match(value, i)
                if m:
                    tokens.append("STRING")
                    i = m.end()
                    continue
            name, m = next(((t, r.match(value, i)) for t, r in _VAR_TOKENS if r.match(value, i)), ("", None))
            if m:
                tokens.append(name)
                i = m.end()
                continue
            tokens.append("EOA")
            i += 1
            if value[i - 1] != "$":  # any other character ends the variable (back to plain text)
                break
            variables.append(tokens)  # "$": this variable ends, the next one starts at once
            tokens = []
        variables.append(tokens)
    return variables


def check_vm_vars(value: str) -> None:
    """Bison's error for a value whose variables break vm_var_syntax.y (real oned refuses the VM)."""
    for tokens in _var_tokens(value):
        for k, token in enumerate(tokens):
            expected = sorted({form[k] for form in _VAR_FORMS if len(form) > k and form[:k] == tuple(tokens[:k])},
                              key=lambda t: t == "EOA")  # bison names EOA last: "expecting OBRACKET or EOA"
            if token not in expected:
                raise errors.internal(f"Error parsing CONTEXT: syntax error, unexpected {token}, expecting "
                                      f"{' or '.join(expected)}")


def _context(ctx: Ctx, context: dict, tmpl: list, nics: list, vm_id: int, vm_name: str) -> None:
    """``VirtualMachine::parse_context``: $VARIABLES, then ETH<n>_* when NETWORK=YES."""
    user = ctx.store.find("user", ctx.uid) or {"TEMPLATE": []}
    specials = {"UID": str(ctx.uid), "UNAME": ctx.uname, "GID": str(ctx.gid), "GNAME": ctx.gname,
                "VMID": str(vm_id), "NAME": vm_name}

    def resolve(match: re.Match) -> str:
        var, attr = match.group(1).upper(), (match.group(2) or "").upper()
        if var == "USER" and attr:
            return T.get(user["TEMPLATE"], attr, "") or ""
        if not attr:
            return specials.get(var) or T.get(tmpl, var, "") or ""
        vec = next((v for k, v in tmpl if k == var and isinstance(v, dict)), {})
        return vec.get(attr, "")

    for key, value in list(context.items()):
        check_vm_vars(value)
        context[key] = _VARIABLE.sub(resolve, value)
    if (context.get("NETWORK") or "").upper() not in ("YES", "TRUE", "1"):
        return
    for nic in nics:
        vn = ctx.store.find("vn", int(nic["NETWORK_ID"])) if nic.get("NETWORK_ID") else None
        ar = next((a for a in vn["AR_POOL"] if a["AR_ID"] == nic.get("AR_ID")), {}) if vn else {}
        for name, attr in NETWORK_CONTEXT:
            value = nic.get(attr) or ar.get(attr) or (T.get(vn["TEMPLATE"], attr, "") if vn else "")
            context[f"ETH{nic['NIC_ID']}_{name}"] = value or ""


_INT_PREFIX = re.compile(r"\s*[+-]?\d+")
_FLOAT_PREFIX = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _number(value, pattern: re.Pattern, kind: type) -> float | int | None:
    """oned's ``Template::get`` of a number: an ``istringstream >>`` reading, so the leading number of the value."""
    match = pattern.match(value) if isinstance(value, str) else None
    return kind(match.group(0)) if match else None


def _check_capacity(tmpl: list, obj_name: str) -> None:
    """``VirtualMachine::insert``: MEMORY (integer) and CPU (float) are required and positive, VCPU when given is a
    positive integer; checked before any NIC lease or disk image is taken."""
    memory = _number(T.get(tmpl, "MEMORY"), _INT_PREFIX, int)
    if memory is None or memory <= 0:
        raise errors.allocate(obj_name, "MEMORY attribute must be a positive integer value.")
    cpu = _number(T.get(tmpl, "CPU"), _FLOAT_PREFIX, float)
    if cpu is None or cpu <= 0:
        raise errors.allocate(obj_name, "CPU attribute must be a positive float or integer value.")
    vcpu = T.get(tmpl, "VCPU")
    if vcpu not in (None, ""):
        vcpus = _number(vcpu, _INT_PREFIX, int)
        if vcpus is None or vcpus <= 0:
            raise errors.allocate(obj_name, "VCPU attribute must be a positive integer value.")


def create_vm(ctx: Ctx, tmpl: list, hold: bool, name: str | None = None,
              default_prefix: str = "one-", obj_name: str = "virtual machine") -> int:
    """Allocate a VM from a template (``one.vm.allocate`` / ``one.template.instantiate``); ``obj_name`` is the
    object oned's allocation errors name (``virtual machine template`` when instantiating)."""
    store = ctx.store
    tmpl = [(k, v) for k, v in tmpl]
    names = T.erase(tmpl, "NAME")
    given = name or (names[0] if names and isinstance(names[0], str) else "")
    _check_capacity(tmpl, obj_name)
    vm_id = store.pools["vm"]["next"]
    nics = [_nic(ctx, vm_id, i, v) for i, v in enumerate(
        v for v in T.erase(tmpl, "NIC") if isinstance(v, dict))]
    disks = [_disk(ctx, i, v) for i, v in enumerate(
        v for v in T.erase(tmpl, "DISK") if isinstance(v, dict))]
    vm_name = check_name(given) if given.strip() else f"{default_prefix}{vm_id}"
    store.new_id("vm")
    tmpl += [("DISK", d) for d in disks] + [("NIC", n) for n in nics]
    ctx_vec = next((v for k, v in tmpl if k == "CONTEXT" and isinstance(v, dict)), None)
    if ctx_vec is not None:
        _context(ctx, ctx_vec, tmpl, nics, vm_id, given.strip() or f"{default_prefix}{vm_id}")
        ctx_vec["DISK_ID"] = str(len(disks))
        ctx_vec.setdefault("TARGET", "hda")
    backup_configs = [v for v in T.erase(tmpl, "BACKUP_CONFIG") if isinstance(v, dict)]
    clusters = {0} | {c["ID"] for c in store.objs("cluster").values()}
    for nic in nics:
        if "NETWORK_ID" in nic:
            clusters &= set(store.objs("vn")[int(nic["NETWORK_ID"])]["CLUSTERS"])
    req = "!(PUBLIC_CLOUD = YES) & !(PIN_POLICY = PINNED)"
    if any("NETWORK_ID" in n for n in nics):
        req = "(" + " | ".join(f"CLUSTER_ID = {c}" for c in sorted(clusters)) + ") & " + req
        T.replace(tmpl, "AUTOMATIC_NIC_REQUIREMENTS",
                  " | ".join(f'("CLUSTERS/ID" @> {c})' for c in sorted(clusters)))
        T.replace(tmpl, "AUTOMATIC_DS_REQUIREMENTS",
                  " | ".join(f'("CLUSTERS/ID" @> {c})' for c in sorted(clusters)))
    T.replace(tmpl, "AUTOMATIC_REQUIREMENTS", req)
    T.replace(tmpl, "VMID", str(vm_id))
    on_hold = hold or (T.get(tmpl, "SUBMIT_ON_HOLD") or "").upper() == "YES"
    now = int(time.time())
    vm = {"ID": vm_id, "NAME": vm_name, "UID": ctx.uid, "GID": ctx.gid, "UNAME": ctx.uname,
          "GNAME": ctx.gname, "PERMS": umask_perms(0o177),
          "STATE": HOLD if on_hold else PENDING, "LCM_STATE": 0, "PREV_STATE": 0,
          "PREV_LCM_STATE": 0, "STIME": now, "ETIME": 0, "DEPLOY_ID": "", "HISTORY": [],
          "TEMPLATE": [(k, v) for k, v in tmpl if k in SYSTEM_ATTRS],
          "USER_TEMPLATE": [(k, v) for k, v in tmpl if k not in SYSTEM_ATTRS],
          "BACKUP_CONFIG": backup_config({}, backup_configs[0] if backup_configs else {}),
          "PENDING_SINCE": time.time(), "CLUSTERS": sorted(clusters)}
    store.add("vm", vm)
    return vm_id


@method("one.vm.allocate")
def vm_allocate(ctx: Ctx, text: str, hold: bool = False) -> int:
    """``one.vm.allocate(template[, hold])``."""
    return create_vm(ctx, parse_template(text), bool(hold))


# --------------------------------------------------------------- scheduling
def _set(vm: dict, state: int, lcm: int) -> dict:
    return {"STATE": state, "LCM_STATE": lcm}


def _requirements_ok(vm: dict, host: dict) -> bool:
    """Cluster of the VM's networks, then a simple reading of SCHED_REQUIREMENTS: ``|`` of ``&``
    of ``ID``/``HOSTNAME``/``NAME``/``CLUSTER_ID`` equalities (other terms are ignored)."""
    if host["CLUSTER_ID"] not in vm.get("CLUSTERS", [host["CLUSTER_ID"]]):
        return False
    req = T.get(vm["USER_TEMPLATE"], "SCHED_REQUIREMENTS") or ""
    if not req.strip():
        return True
    for alternative in req.split("|"):
        terms = re.findall(r'\b(ID|HOSTNAME|NAME|CLUSTER_ID)\s*=\s*"?([^"&|)\s]+)"?', alternative)
        if all(str(host[{"HOSTNAME": "NAME"}.get(key, key)]) == val for key, val in terms):
            return True
    return False


def deploy(store: Store, vm: dict, host: dict) -> None:
    """Start the PROLOG → BOOT → RUNNING sequence on ``host`` (as the scheduler does)."""
    ds = next((d for d in sorted(store.objs("datastore").values(), key=lambda d: d["ID"])
               if d["TYPE"] == 1 and host["CLUSTER_ID"] in d["CLUSTERS"]),
              {"ID": 0, "TM_MAD": "ssh"})
    vm["HISTORY"].append(_history(vm, host, ds["ID"], ds["TM_MAD"]))
    resume = vm.pop("RESUME_FROM", None)
    prolog, boot = {UNDEPLOYED: (31, 32), STOPPED: (9, 22)}.get(resume, (1, 2))
    vm.update(PREV_STATE=vm["STATE"], PREV_LCM_STATE=vm["LCM_STATE"], STATE=ACTIVE,
              LCM_STATE=prolog)
    store.schedule("vm", vm, [_set(vm, ACTIVE, boot), _set(vm, ACTIVE, 3)])


def schedule_pending(store: Store) -> None:
    """The scheduler: deploy PENDING VMs waiting for at least one step."""
    hosts = [h for h in sorted(store.objs("host").values(), key=lambda h: h["ID"])
             if h["STATE"] == HOST_MONITORED]
    now = time.time()
    for vm in store.objs("vm").values():
        if vm["STATE"] != PENDING or vm.get("_SCHED") or now - vm["PENDING_SINCE"] < store.step:
            continue
        host = next((h for h in hosts if _requirements_ok(vm, h)), None)
        if host is not None:
            deploy(store, vm, host)


def on_change(store: Store, obj: dict, fields: dict) -> None:
    """Side effects of an applied VM step (history times, deploy id, end time)."""
    now = int(time.time())
    hist = obj["HISTORY"][-1] if obj["HISTORY"] else None
    if fields.get("LCM_STATE") == 3 and hist is not None:
        hist["PETIME"] = hist["PETIME"] or now
        hist["RSTIME"] = hist["RSTIME"] or now
        obj["DEPLOY_ID"] = obj["DEPLOY_ID"] or f"one-{obj['ID']}"
    if fields.get("STATE") == DONE:
        obj["ETIME"] = now
        if hist is not None:
            hist["ETIME"] = hist["ETIME"] or now
            hist["RETIME"] = hist["RETIME"] or now
    if fields.get("STATE") == PENDING:
        obj["PENDING_SINCE"] = time.time()


# ------------------------------------------------------------------ actions
def _not_available(vm: dict) -> errors.OnedError:
    return errors.action(f"This action is not available for state {state_str(vm)}")


def _steps(store: Store, vm: dict, *steps: tuple) -> None:
    vm["PREV_STATE"], vm["PREV_LCM_STATE"] = vm["STATE"], vm["LCM_STATE"]
    first, rest = steps[0], steps[1:]
    vm.update(STATE=first[0], LCM_STATE=first[1])
    on_driver_step(store, "vm", vm, {"STATE": first[0], "LCM_STATE": first[1]})
    store.schedule("vm", vm, [{"STATE": s, "LCM_STATE": lcm} for s, lcm in rest])


def vm_action_apply(ctx: Ctx, vm: dict, action: str) -> None:
    """Apply one ``one.vm.action`` like DispatchManager; raises the ACTION errors."""
    store, state, lcm = ctx.store, vm["STATE"], vm["LCM_STATE"]
    running = state == ACTIVE and lcm in (3, 16)
    if action in ("terminate", "terminate-hard"):
        if state in (SUSPENDED, POWEROFF, STOPPED, UNDEPLOYED):
            _steps(store, vm, (ACTIVE, 11), (DONE, 0))
        elif state in (0, PENDING, HOLD, 10, 11):
            _steps(store, vm, (DONE, 0))
        elif state == DONE:
            return
        elif running or (action == "terminate-hard" and lcm == 12):
            _steps(store, vm, (ACTIVE, 12), (ACTIVE, 11), (DONE, 0))
        else:
            raise errors.action(f"Could not terminate VM {vm['ID']}, wrong state "
                                f"{state_str(vm)}.")
    elif action in ("poweroff", "poweroff-hard"):
        if not (running or (action == "poweroff-hard" and state == ACTIVE and lcm == 18)):
            raise _not_available(vm)
        _steps(store, vm, (ACTIVE, 18), (POWEROFF, 0))
    elif action in ("undeploy", "undeploy-hard"):
        if state == POWEROFF:
            _steps(store, vm, (ACTIVE, 30), (UNDEPLOYED, 0))
        elif running or (action == "undeploy-hard" and state == ACTIVE and lcm == 29):
            _steps(store, vm, (ACTIVE, 29), (ACTIVE, 30), (UNDEPLOYED, 0))
        else:
            raise _not_available(vm)
    elif action == "resume":
        if state in (STOPPED, UNDEPLOYED):
            vm["RESUME_FROM"] = state
            _steps(store, vm, (PENDING, 0))
        elif state == SUSPENDED:
            _steps(store, vm, (ACTIVE, 21), (ACTIVE, 3))
        elif state == POWEROFF:
            _steps(store, vm, (ACTIVE, 20), (ACTIVE, 3))
        elif state == ACTIVE and lcm == 16:
            _steps(store, vm, (ACTIVE, 19), (ACTIVE, 3))
        else:
            raise _not_available(vm)
    elif action == "hold":
        if state != PENDING:
            raise _not_available(vm)
        _steps(store, vm, (HOLD, 0))
    elif action == "release":
        if state != HOLD:
            raise _not_available(vm)
        _steps(store, vm, (PENDING, 0))
    elif action in ("reboot", "reboot-hard"):
        if not running:
            raise _not_available(vm)
    elif action == "suspend":
        if not running:
            raise _not_available(vm)
        _steps(store, vm, (ACTIVE, 6), (SUSPENDED, 0))
    elif action == "stop":
        if state == SUSPENDED:
            _steps(store, vm, (ACTIVE, 10), (STOPPED, 0))
        elif state == ACTIVE and lcm == 3:
            _steps(store, vm, (ACTIVE, 5), (ACTIVE, 10), (STOPPED, 0))
        else:
            raise _not_available(vm)
    else:
        raise errors.action(f'Action "{action}" is not supported')


VM_ACTIONS = ("terminate", "terminate-hard", "undeploy", "undeploy-hard", "hold", "release",
              "stop", "suspend", "resume", "reboot", "reboot-hard", "poweroff", "poweroff-hard")


@method("one.vm.action")
def vm_action(ctx: Ctx, action: str, vid: int) -> int:
    """``one.vm.action(action, id)``."""
    vm = get(ctx, "vm", vid)
    if action not in VM_ACTIONS:
        raise errors.action(f'Action "{action}" is not supported')
    try:
        vm_action_apply(ctx, vm, action)
    except errors.OnedError as exc:
        raise errors.action(f'Error performing action "{action}": {exc.message}') from exc
    return vm["ID"]


UPDATECONF_VECTORS = ("OS", "FEATURES", "INPUT", "GRAPHICS", "VIDEO", "RAW", "CPU_MODEL")
# What oned fills in a VM's BACKUP_CONFIG once its MODE is given (read back from real 6.10 and 7.0 after allocate,
# instantiate and one.vm.updateconf). INCREMENT_MODE=CBT is added with MODE=INCREMENT; with MODE=FULL real oned
# added it to a VM without disks and not to one with a datablock disk: the stand-in adds it with INCREMENT only.
BACKUP_CONFIG_DEFAULTS = {"BACKUP_VOLATILE": "NO", "FS_FREEZE": "NONE", "INCREMENTAL_BACKUP_ID": "-1",
                          "LAST_INCREMENT_ID": "-1"}


def backup_config(current: dict, given: dict) -> dict:
    """A VM's BACKUP_CONFIG (kept in its BACKUPS, not its TEMPLATE) after ``given``: keys merged, oned's defaults
    added when the MODE is given; an unknown MODE is ignored as oned ignores it."""
    given = {k: str(v) for k, v in given.items() if not (k == "MODE" and str(v) not in ("FULL", "INCREMENT"))}
    merged = {**current, **given}
    if "MODE" in given:
        increment = {"INCREMENT_MODE": "CBT"} if given["MODE"] == "INCREMENT" else {}
        merged = {**BACKUP_CONFIG_DEFAULTS, **increment, **merged}
    return merged



@method("one.vm.updateconf")
def vm_updateconf(ctx: Ctx, vid: int, text: str, utype: int = 0) -> int:
    """``one.vm.updateconf(id, template, type)`` (VirtualMachine::updateconf): replace mode (0) erases the vectors
    left out, merge mode (1) keeps them; CONTEXT is replaced by the one given (TARGET/DISK_ID kept)."""
    vm = get(ctx, "vm", vid)
    if int(utype) not in (0, 1):
        raise errors.api("Wrong update type")
    if vm["STATE"] in (DONE, SUSPENDED, STOPPED):
        raise errors.internal(f"configuration cannot be updated in state {state_str(vm)}")
    new = parse_template(text)
    tmpl = vm["TEMPLATE"]
    for name in UPDATECONF_VECTORS:
        given = T.get_all(new, name)
        if given:
            T.replace(tmpl, name, given[0])
        elif int(utype) == 0:
            T.erase(tmpl, name)
    backup = [v for v in T.get_all(new, "BACKUP_CONFIG") if isinstance(v, dict)]
    if backup:  # replace mode replaces the whole vector, merge mode merges its keys
        vm["BACKUP_CONFIG"] = backup_config(vm.get("BACKUP_CONFIG", {}) if int(utype) == 1 else {}, backup[0])
    context = T.get_all(new, "CONTEXT")
    if context:
        old = T.get_all(tmpl, "CONTEXT")
        if not old:
            raise errors.internal("Virtual machine does not have context, cannot add a new one.")
        kept = {k: old[0][k] for k in ("TARGET", "DISK_ID") if k in old[0]}
        T.replace(tmpl, "CONTEXT", {**dict(context[0]), **kept})
    return vm["ID"]


@method("one.vm.deploy")
def vm_deploy(ctx: Ctx, vid: int, hid: int, enforce: bool = False, ds_id: int = -1,
              *_nics: object) -> int:
    """``one.vm.deploy(id, host, enforce, ds[, nics])``: deploy now, as the scheduler would."""
    vm = get(ctx, "vm", vid)
    host = get(ctx, "host", hid)
    if vm["STATE"] not in (PENDING, HOLD, STOPPED, UNDEPLOYED):
        raise errors.action(f"Deploy action is not available for state {state_str(vm)}")
    if vm["STATE"] in (STOPPED, UNDEPLOYED):
        vm["RESUME_FROM"] = vm["STATE"]
    vm.pop("_SCHED", None)
    deploy(ctx.store, vm, host)
    return vm["ID"]


@method("one.template.allocate")
def template_allocate(ctx: Ctx, text: str) -> int:
    """``one.template.allocate(template)``."""
    tmpl = parse_template(text)
    name = take_name(tmpl)
    check_unique(ctx, "template", name, ctx.uid)
    oid = ctx.store.new_id("template")
    obj = owned_fields(ctx, oid, name)
    obj.update(REGTIME=int(time.time()), TEMPLATE=tmpl)
    return new_obj(ctx, "template", obj)


@method("one.template.clone")
def template_clone(ctx: Ctx, tid: int, name: str, recursive: bool = False) -> int:
    """``one.template.clone(id, name[, recursive])``."""
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
    """``one.template.instantiate(id, name, hold, extra, persistent)``: new VM id."""
    src = get(ctx, "template", tid)
    tmpl = [(k, dict(v) if isinstance(v, dict) else v) for k, v in src["TEMPLATE"]]  # the VM owns copies
    if extra:
        tmpl = T.merge(tmpl, parse_template(extra))
    T.erase(tmpl, "NAME")
    T.replace(tmpl, "TEMPLATE_ID", str(src["ID"]))
    return create_vm(ctx, tmpl, bool(hold), name or None, f"{src['NAME']}-", "virtual machine template")


@method("one.vmpool.info", "one.vmpool.infoextended")
def vmpool_info(ctx: Ctx, flag: int = -2, start: int = -1, end: int = -1,
                state: int = -1, *_query: object) -> str:
    """``one.vmpool.info/infoextended(filter, start, end, state)``."""
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


DRIVER_HOOKS.setdefault("vm", []).append(on_change)
