"""In-memory object pools of the fake oned, with lazy "driver" transitions.

Every pool keeps its own id counter (never reusing a deleted id).  State
changes that real drivers perform asynchronously (dummy IM monitoring a host,
fs datastore copying an image, dummy VMM booting a VM, the scheduler deploying
a pending VM) are queued with a due time and applied lazily, under the lock,
at the beginning of every request: no background thread is needed and the
same code works after a restart from the state file.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable

from . import errors
from . import template as T
from .xmlutil import umask_perms

# VM states / LCM states (include/VirtualMachine.h)
VM_STATES = ["INIT", "PENDING", "HOLD", "ACTIVE", "STOPPED", "SUSPENDED", "DONE", "FAILED",
             "POWEROFF", "UNDEPLOYED", "CLONING", "CLONING_FAILURE"]
LCM_STATES = {
    0: "LCM_INIT", 1: "PROLOG", 2: "BOOT", 3: "RUNNING", 4: "MIGRATE", 5: "SAVE_STOP",
    6: "SAVE_SUSPEND", 7: "SAVE_MIGRATE", 8: "PROLOG_MIGRATE", 9: "PROLOG_RESUME",
    10: "EPILOG_STOP", 11: "EPILOG", 12: "SHUTDOWN", 15: "CLEANUP_RESUBMIT", 16: "UNKNOWN",
    17: "HOTPLUG", 18: "SHUTDOWN_POWEROFF", 19: "BOOT_UNKNOWN", 20: "BOOT_POWEROFF",
    21: "BOOT_SUSPENDED", 22: "BOOT_STOPPED", 23: "CLEANUP_DELETE", 29: "SHUTDOWN_UNDEPLOY",
    30: "EPILOG_UNDEPLOY", 31: "PROLOG_UNDEPLOY", 32: "BOOT_UNDEPLOY",
}
PENDING, HOLD, ACTIVE, STOPPED, SUSPENDED, DONE, POWEROFF, UNDEPLOYED = 1, 2, 3, 4, 5, 6, 8, 9

# Host states (include/Host.h)
HOST_INIT, HOST_MONITORED, HOST_ERROR, HOST_DISABLED, HOST_OFFLINE = 0, 2, 3, 4, 8

# Image states (include/Image.h)
IMG_READY, IMG_USED, IMG_DISABLED, IMG_LOCKED, IMG_USED_PERS = 1, 2, 3, 4, 8
IMG_ERROR = 5

DRIVEN = ("host", "image", "vm", "backupjob")  # kinds with timed driver steps
POOL_KEYS = ("user", "group", "vdc", "cluster", "host", "datastore", "vn", "image",
             "template", "vm", "secgroup", "backupjob", "acl", "document")


def password_hash(password: str) -> str:
    """oned stores ``core`` passwords as a SHA-256 hex digest."""
    return hashlib.sha256(password.encode()).hexdigest()


class Store:
    """All pools, their id counters and the pending (timed) transitions."""

    def __init__(self, credentials: str = "oneadmin:opennebula", step: float = 0.3,
                 state_file: str | None = None, version: str = "6.10.0") -> None:
        self.lock = threading.RLock()
        self.step = step
        self.version = version
        self.state_file = state_file
        self.credentials = credentials
        self.pools: dict[str, dict] = {}
        if state_file and os.path.exists(state_file):
            with open(state_file, encoding="utf-8") as fh:
                self.pools = json.load(fh)["pools"]
            for pool in self.pools.values():
                pool["objs"] = {int(k): v for k, v in pool["objs"].items()}
        else:
            self._bootstrap()

    # ------------------------------------------------------------------ ids
    def new_id(self, kind: str) -> int:
        """Next id of a pool; deleted ids are never reused."""
        pool = self.pools[kind]
        oid = pool["next"]
        pool["next"] = oid + 1
        return oid

    def objs(self, kind: str) -> dict[int, dict]:
        """The id → object map of a pool."""
        return self.pools[kind]["objs"]

    def find(self, kind: str, oid: int) -> dict | None:
        """Object or None."""
        return self.pools[kind]["objs"].get(oid)

    def add(self, kind: str, obj: dict) -> dict:
        """Insert an object (its ``ID`` must be set)."""
        self.pools[kind]["objs"][obj["ID"]] = obj
        return obj

    # ----------------------------------------------------------- persistence
    def save(self) -> None:
        """Write the JSON state file, if any (atomic rename)."""
        if not self.state_file:
            return
        os.makedirs(os.path.dirname(os.path.abspath(self.state_file)), exist_ok=True)
        tmp = f"{self.state_file}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({"pools": self.pools}, fh)
        os.replace(tmp, self.state_file)

    # ------------------------------------------------------------- bootstrap
    def _bootstrap(self) -> None:
        for key in POOL_KEYS:
            self.pools[key] = {"next": 0, "objs": {}}
        user, password = self.credentials.split(":", 1)
        now = int(time.time())
        self.add("group", {"ID": 0, "NAME": "oneadmin", "TEMPLATE": [], "ADMINS": []})
        self.add("group", {"ID": 1, "NAME": "users", "TEMPLATE": [], "ADMINS": []})
        self.pools["group"]["next"] = 100
        self.add("user", {"ID": 0, "NAME": user, "GID": 0, "GROUPS": [0],
                          "PASSWORD": password_hash(password), "AUTH_DRIVER": "core",
                          "ENABLED": 1, "TEMPLATE": [("TOKEN_PASSWORD", password_hash(str(now)))]})
        self.add("user", {"ID": 1, "NAME": "serveradmin", "GID": 0, "GROUPS": [0],
                          "PASSWORD": password_hash(f"serveradmin{now}"),
                          "AUTH_DRIVER": "server_cipher", "ENABLED": 1, "TEMPLATE": []})
        self.pools["user"]["next"] = 2
        self.add("cluster", {"ID": 0, "NAME": "default",
                             "TEMPLATE": [("RESERVED_CPU", ""), ("RESERVED_MEM", "")]})
        self.pools["cluster"]["next"] = 100
        self.add("vdc", {"ID": 0, "NAME": "default", "TEMPLATE": [], "GROUPS": [1],
                         "CLUSTERS": [[0, -10]], "HOSTS": [], "DATASTORES": [], "VNETS": []})
        self.pools["vdc"]["next"] = 100
        common = [("ALLOW_ORPHANS", "NO"), ("RESTRICTED_DIRS", "/"), ("SAFE_DIRS", "/var/tmp"),
                  ("TM_MAD", "ssh")]
        for oid, name, tmpl in (
            (0, "system", [("DISK_TYPE", "FILE"), ("DS_MIGRATE", "YES"), ("SHARED", "NO"),
                           ("TYPE", "SYSTEM_DS")]),
            (1, "default", [("CLONE_TARGET", "SYSTEM"), ("DISK_TYPE", "FILE"), ("DS_MAD", "fs"),
                            ("LN_TARGET", "SYSTEM"), ("TYPE", "IMAGE_DS")]),
            (2, "files", [("CLONE_TARGET", "SYSTEM"), ("DS_MAD", "fs"), ("LN_TARGET", "SYSTEM"),
                          ("TYPE", "FILE_DS")]),
        ):
            self.add("datastore", new_datastore(oid, name, 0, 0, user, "oneadmin",
                                                umask_perms(0o137), common + tmpl, [0]))
        self.pools["datastore"]["next"] = 100
        self.add("secgroup", {
            "ID": 0, "NAME": "default", "UID": 0, "GID": 0, "UNAME": user, "GNAME": "oneadmin",
            "PERMS": umask_perms(0o177), "TEMPLATE": [
                ("DESCRIPTION", ("The default security group is added to every network. "
                                 "Use it to add default filter rules for your networks. "
                                 "You may remove any rule from this security group.")),
                ("RULE", {"PROTOCOL": "ALL", "RULE_TYPE": "OUTBOUND"}),
                ("RULE", {"PROTOCOL": "ALL", "RULE_TYPE": "INBOUND"})]})
        self.pools["secgroup"]["next"] = 100
        # Default ACLs of a fresh oned (AclManager bootstrap), see acl.py.
        from .acl import VDC_ALL_RESOURCES, default_rules, vdc_rules

        # then the default VDC's (VdcPool bootstrap: group users, every cluster of zone 0)
        for rule in default_rules() + vdc_rules(1, "CLUSTERS", 0, VDC_ALL_RESOURCES):
            rule["ID"] = self.new_id("acl")
            self.add("acl", rule)

    # ----------------------------------------------------------- transitions
    def schedule(self, kind: str, obj: dict, steps: list, delay: float | None = None) -> None:
        """Queue ``steps`` (dicts of fields to set) one ``step`` apart."""
        delay = self.step if delay is None else delay
        base = max([t for t, _ in obj.get("_SCHED", [])] + [time.time()])
        obj["_SCHED"] = obj.get("_SCHED", []) + [
            [base + delay * (i + 1), step] for i, step in enumerate(steps)]

    def tick(self, on_change: Callable[[str, dict, dict], None]) -> None:
        """Apply every due transition; ``on_change(kind, obj, fields)`` is called after each."""
        now = time.time()
        for kind in DRIVEN:
            for obj in list(self.objs(kind).values()):
                sched = obj.get("_SCHED")
                while sched and sched[0][0] <= now:
                    _, fields = sched.pop(0)
                    obj.update(fields)
                    on_change(kind, obj, fields)
                if not sched:
                    obj.pop("_SCHED", None)


def new_datastore(oid: int, name: str, uid: int, gid: int, uname: str, gname: str,
                  perms: list, tmpl: list, clusters: list) -> dict:
    """Datastore record (fields from the template, as Datastore::insert does)."""
    tmpl = list(tmpl)
    ds_type = T.get(tmpl, "TYPE", "IMAGE_DS").upper()
    return {
        "ID": oid, "NAME": name, "UID": uid, "GID": gid, "UNAME": uname, "GNAME": gname,
        "PERMS": perms, "DS_MAD": T.get(tmpl, "DS_MAD", "-") if ds_type != "SYSTEM_DS" else "-",
        "TM_MAD": T.get(tmpl, "TM_MAD", "-"), "BASE_PATH": f"/var/lib/one//datastores/{oid}",
        "TYPE": ["IMAGE_DS", "SYSTEM_DS", "FILE_DS", "BACKUP_DS"].index(ds_type),
        "DISK_TYPE": 0, "STATE": 0, "CLUSTERS": clusters, "TOTAL_MB": 1048576,
        "TEMPLATE": tmpl,
    }


def check_name(name: str) -> str:
    """``PoolObjectSQL::name_is_valid`` (after trimming)."""
    name = name.strip()
    if not name:
        raise errors.internal("Invalid NAME, it cannot be empty")
    for ch in name:
        if ch in "&|:\\\";/'#{}$<>":
            raise errors.internal(f"Invalid NAME, char '{ch}' is not allowed")
    if len(name) > 128:
        raise errors.internal("Invalid NAME, max length is 128 chars")
    return name
