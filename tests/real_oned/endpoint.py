"""A real oned as a test endpoint: the instance, its counting proxy, and what tests ask of any endpoint.

Tests see the same surface from the stand-in (``tests.oned.OnedServer``) and from this class: ``url``,
``calls`` (method -> count since ``reset_calls()``), ``reset_calls()``, ``settle()`` (wait until drivers are
quiet) and ``snapshot()`` (the whole state, to assert that a failing task changed nothing). A session shares one
instance per version: ``clean()`` deletes what a test created and, when a default object was changed, starts the
instance on its saved bootstrap database so that every test begins from a just-bootstrapped oned.
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
import xmlrpc.client
from pathlib import Path
from typing import Any

from .instance import OnedInstance
from .proxy import CountingProxy

# (kind, pool method, extra arguments, delete call) in the order objects must be deleted.
POOLS: list[tuple[str, str, tuple, str]] = [
    ("backupjob", "one.backupjobpool.info", (-2, -1, -1), "one.backupjob.delete"),
    ("vm", "one.vmpool.info", (-2, -1, -1, -2), "vm-recover-delete"),
    ("template", "one.templatepool.info", (-2, -1, -1), "one.template.delete"),
    ("image", "one.imagepool.info", (-2, -1, -1), "one.image.delete"),
    ("secgroup", "one.secgrouppool.info", (-2, -1, -1), "one.secgroup.delete"),
    ("vn", "one.vnpool.info", (-2, -1, -1), "one.vn.delete"),
    ("host", "one.hostpool.info", (), "one.host.delete"),
    ("datastore", "one.datastorepool.info", (), "one.datastore.delete"),
    ("cluster", "one.clusterpool.info", (), "one.cluster.delete"),
    ("vdc", "one.vdcpool.info", (), "one.vdc.delete"),
    ("user", "one.userpool.info", (), "one.user.delete"),
    ("group", "one.grouppool.info", (), "one.group.delete"),
    ("document", "one.documentpool.info", (-2, -1, -1, 9740), "one.document.delete"),  # one_run_lock's TYPE
    ("acl", "one.acl.info", (), "one.acl.delrule"),
]
# Elements that change by themselves (monitoring, capacities, quota usage counters, times).
VOLATILE = re.compile(
    r"<(LAST_MON_TIME|MONITORING|HOST_SHARE|TOTAL_MB|FREE_MB|USED_MB|VM_QUOTA|DATASTORE_QUOTA|NETWORK_QUOTA|"
    r"IMAGE_QUOTA|DEFAULT_USER_QUOTAS|DEFAULT_GROUP_QUOTAS|LOGIN_TOKEN|PREV_STATE|PREV_LCM_STATE|STIME|ETIME|"
    r"LOCK|OUTDATED_VMS|UPDATING_VMS|ERROR_VMS|LAST_EXECUTION_TIME)>.*?</\1>|<(\w+)/>",
    re.DOTALL,
)
HOST_STABLE = {2, 3, 4, 8}  # MONITORED, ERROR, DISABLED, OFFLINE
IMAGE_BUSY = {0, 4, 6, 7, 9, 10}  # INIT, LOCKED, CLONE, DELETE, LOCKED_USED, LOCKED_USED_PERS
VNET_BUSY = {0, 2, 3}  # INIT, LOCK_CREATE, LOCK_DELETE (6.10/7.0 vnets go through the network driver)
VM_STABLE = {2, 4, 5, 6, 8, 9}  # HOLD, STOPPED, SUSPENDED, DONE, POWEROFF, UNDEPLOYED (+ ACTIVE/RUNNING)


class OnedApi:
    """What tests read from a real oned's API at ``api_url`` (one oned, or an HA zone's floating address), as
    oneadmin: pools, the whole state without its volatile parts, waits on driver states."""

    def __init__(self, api_url: str, password: str, version: str) -> None:
        self.api_url = api_url
        self.password = password
        self.version = version

    def call(self, method: str, *args: Any) -> Any:
        """One call straight to oned (not counted); raises on an oned error answer."""
        server = xmlrpc.client.ServerProxy(self.api_url)
        answer = getattr(server, method)(f"oneadmin:{self.password}", *args)
        if not answer[0]:
            raise RuntimeError(f"{method}{args}: {answer[1]}")
        return answer[1]

    def pool(self, kind: str) -> list[ET.Element]:
        """Every object of ``kind`` as XML elements (VMs: all but DONE)."""
        _kind, method, extra, _delete = next(p for p in POOLS if p[0] == kind)
        root = ET.fromstring(self.call(method, *extra))
        # the pool's own objects only: user and group pools also list a QUOTAS element per object (with its ID)
        # and DEFAULT_*_QUOTAS
        objects = [obj for obj in root if obj.find("ID") is not None and obj.tag != "QUOTAS"]
        if kind == "vm":  # a deleted VM stays listed as DONE (6) under state -2 for a while on 7.0: it is gone
            objects = [obj for obj in objects if obj.findtext("STATE") != "6"]
        return objects

    def state(self) -> dict[str, dict[int, str]]:
        """kind -> id -> object XML without its volatile parts."""
        out: dict[str, dict[int, str]] = {}
        for kind, *_ in POOLS:
            out[kind] = {}
            for obj in self.pool(kind):
                text = ET.tostring(obj, encoding="unicode")
                out[kind][int(obj.findtext("ID"))] = VOLATILE.sub("", text)
        return out

    def snapshot(self) -> str:
        """The whole state as one comparable string (``settle()`` first)."""
        return repr(sorted(self.state().items()))

    def settle(self, timeout: float = 60.0) -> None:
        """Wait until hosts are monitored, vnets/images out of their driver states and VMs out of transient ones."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            hosts = [int(h.findtext("STATE")) for h in self.pool("host")]
            images = [int(i.findtext("STATE")) for i in self.pool("image")]
            vms = [(int(v.findtext("STATE")), int(v.findtext("LCM_STATE"))) for v in self.pool("vm")]
            vnets = [int(n.findtext("STATE") or 1) for n in self.pool("vn")]
            monitored = any(h == 2 for h in hosts)
            busy = (any(h not in HOST_STABLE for h in hosts) or any(i in IMAGE_BUSY for i in images)
                    or any(n in VNET_BUSY for n in vnets)
                    or any(not (s in VM_STABLE or (s == 3 and lcm == 3) or (s == 1 and not monitored))
                           for s, lcm in vms))
            if not busy:
                return
            time.sleep(0.2)
        raise TimeoutError(f"oned {self.version} did not settle in {timeout:.0f} s")

    def wait_datastores_monitored(self, timeout: float = 90.0) -> None:
        """Wait for the first monitoring of the image and file datastores (about 15 s after start): until then
        their TOTAL_MB is 0 and ``one.image.allocate`` fails with "Not enough space in datastore"."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(int(ds.findtext("TOTAL_MB") or 0) > 0 for ds in self.pool("datastore")
                   if ds.findtext("TYPE") in ("0", "2")):
                return
            time.sleep(0.5)
        raise TimeoutError(f"oned {self.version}: image datastores not monitored in {timeout:.0f} s")


class RealOnedEndpoint(OnedApi):
    """A real ``oned`` of ``version`` behind a counting proxy; ``url`` is the proxy's (``api_url`` oned's own)."""

    kind = "real"

    def __init__(self, version: str, password: str = "opennebula", **instance_args: Any) -> None:
        self.instance = OnedInstance(version, password=password, **instance_args)
        super().__init__(self.instance.url, password, version)
        self.proxy: CountingProxy | None = None
        self.baseline: dict[str, dict[int, str]] = {}
        self.restart_reasons: list[str] = []  # why clean() had to start afresh, for the session summary

    # ---------------------------------------------------------------- life cycle
    def start(self, restorable: bool = False) -> RealOnedEndpoint:
        """Start oned and its proxy; ``restorable``: also save the bootstrapped database (one more oned restart,
        a few seconds) so that ``restart_fresh()`` is a restore instead of a new bootstrap."""
        self.instance.start()
        self.proxy = CountingProxy(("127.0.0.1", self.instance.port)).start()
        self.settle()
        self.wait_datastores_monitored()
        if restorable:
            self.instance.save_db(self.bootstrap_db)
        self.baseline = self.state()
        return self

    def stop(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
            self.proxy = None
        self.instance.remove()

    @property
    def bootstrap_db(self) -> Path:
        """The database as bootstrapped and first monitored, saved by ``start()``."""
        return self.instance.root / "bootstrap.db"

    def restart_fresh(self) -> None:
        """Back to the bootstrapped database (saved by ``start(restorable=True)``, else a new bootstrap) on the
        same ports."""
        if self.bootstrap_db.exists():
            self.instance.restore_db(self.bootstrap_db)
        else:
            self.instance.stop()
            self.instance.start(fresh=True)
        self.settle()
        self.wait_datastores_monitored()
        self.baseline = self.state()

    # ---------------------------------------------------------------- the endpoint surface of tests
    @property
    def url(self) -> str:
        assert self.proxy is not None, "endpoint not started"
        return self.proxy.url

    @property
    def calls(self) -> dict[str, int]:
        assert self.proxy is not None
        return self.proxy.counter.snapshot()

    def reset_calls(self) -> None:
        assert self.proxy is not None
        self.proxy.counter.reset()

    # ---------------------------------------------------------------- between tests
    def clean(self) -> None:
        """Delete every object a test created; start afresh if a bootstrap object was changed."""
        try:
            self._delete_created()
            changed = self._changed_kinds()
            if changed:
                self.restart_reasons.append(f"changed: {', '.join(changed)}")
                self.restart_fresh()
        except Exception as error:  # an object that would not go away: a fresh start always works
            self.restart_reasons.append(f"{type(error).__name__}: {error}")
            self.restart_fresh()
        self.reset_calls()

    def _changed_kinds(self) -> list[str]:
        """Which kinds differ from the baseline, as ``kind id`` strings."""
        now = self.state()
        return [f"{kind} {oid}" for kind in now
                for oid in sorted(set(now[kind]) | set(self.baseline.get(kind, {})))
                if now[kind].get(oid) != self.baseline.get(kind, {}).get(oid)]

    def _delete_created(self) -> None:
        self.settle()  # an image still being copied (LOCKED) cannot be deleted
        for cluster in self.pool("cluster"):  # a created cluster lets go of bootstrap objects (default datastores)
            cid = int(cluster.findtext("ID"))
            if cid in self.baseline["cluster"]:
                continue
            for member, kind, method in (("HOSTS", "host", "one.cluster.delhost"),
                                         ("VNETS", "vn", "one.cluster.delvnet"),
                                         ("DATASTORES", "datastore", "one.cluster.deldatastore")):
                for ref in cluster.findall(f"{member}/ID"):
                    if int(ref.text) in self.baseline[kind]:
                        self.call(method, cid, int(ref.text))
        for kind, _method, _extra, delete in POOLS:
            created = [int(o.findtext("ID")) for o in self.pool(kind)
                       if int(o.findtext("ID")) not in self.baseline.get(kind, {})]
            for oid in created:
                if delete == "vm-recover-delete":
                    self.call("one.vm.recover", oid, 3)
                else:
                    self.call(delete, oid)
            if created and kind in ("vm", "image", "vn", "datastore"):  # asynchronous removals (vn: LOCK_DELETE)
                self._wait_gone(kind, set(created))

    def _wait_gone(self, kind: str, ids: set[int], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not ids & {int(o.findtext("ID")) for o in self.pool(kind)}:
                return
            time.sleep(0.2)
        raise TimeoutError(f"{kind} {sorted(ids)} still there after {timeout:.0f} s")
