"""An OpenNebula HA zone for tests: real oneds as one Raft zone, each in a network namespace on one bridge.

Layout (all names start with ``ha`` and a per-zone tag, so that two zones and other work on the machine do not meet):

* a Linux bridge ``ha<tag>br`` in the root namespace, with the subnet's first address: the controller's way in
  (ansible-playbook and the tests reach the servers and the floating address through it);
* one network namespace ``ha<tag>s<i>`` per server, whose ``eth0`` (a veth on the bridge) holds the server's address;
* oned started inside its namespace, configured with the frontend role's rendered ``oned.conf``/``monitord.conf``
  (``FEDERATION``, ``RAFT``, ``RAFT_LEADER_HOOK``/``RAFT_FOLLOWER_HOOK`` running the role's ``raft/hapy-vip.sh``,
  which raises/lowers the floating address on ``eth0``, sends gratuitous ARP and then runs OpenNebula's
  ``raft/vip.sh``), so that the hooks' ``ip address`` and ``arping`` act on that server's interface only;
* the servers share one datastore directory, as HA frontends share their datastores (NFS, GFS2).

:meth:`RaftZone.bootstrap` follows OpenNebula's documented procedure, as the role's ``tasks/ha.yml`` does on real
hosts: the first server boots its database solo, is added to zone 0 and restarted with its SERVER_ID (it elects
itself); then, one server at a time, the server is added to the zone on the leader, the leader's database is
dumped (``onedb backup``) and restored on it (``onedb restore``), the leader's ``var/.one`` credentials are copied
to it, and it starts as a follower. :meth:`RaftZone.fail` takes a server off the network at once (SIGKILL of every
process it runs, its link down): what a server that dies looks like to the others.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import shutil
import subprocess
import tempfile
import time
import xmlrpc.client
from pathlib import Path

from .instance import OnedInstance

RAFT_STATES = {0: "solo", 1: "candidate", 2: "follower", 3: "leader"}


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check, timeout=30)


def _free_subnet() -> ipaddress.IPv4Network:
    """A /24 of 10.213.0.0/16 that no route of this machine overlaps."""
    routes = _ip("-4", "route", "show", "table", "all").stdout
    used = [ipaddress.ip_network(m, strict=False) for m in re.findall(r"^(?:\S+\s+)?(\d+\.\d+\.\d+\.\d+/\d+)",
                                                                       routes, re.MULTILINE)]
    for third in secrets.SystemRandom().sample(range(256), 256):
        subnet = ipaddress.ip_network(f"10.213.{third}.0/24")
        if not any(subnet.overlaps(net) for net in used):
            return subnet
    raise RuntimeError("no free /24 in 10.213.0.0/16 for the HA test network")


class ZoneNetwork:
    """The bridge and one namespace per server; ``create()``, ``destroy()`` (everything, also after a failure)."""

    def __init__(self, count: int) -> None:
        self.tag = "ha" + secrets.token_hex(2)
        self.subnet = _free_subnet()
        hosts = list(self.subnet.hosts())
        self.gateway = str(hosts[0])  # the bridge: the controller's address on the zone's LAN
        self.vip = str(hosts[9])  # .10, and the servers .11, .12, .13: Hâpy's 4 addresses in one subnet
        self.addresses = [str(hosts[10 + i]) for i in range(count)]
        self.bridge = f"{self.tag}br"
        self.namespaces = [f"{self.tag}s{i}" for i in range(count)]

    @property
    def prefix(self) -> int:
        return self.subnet.prefixlen

    def create(self) -> ZoneNetwork:
        try:
            _ip("link", "add", self.bridge, "type", "bridge")
            _ip("addr", "add", f"{self.gateway}/{self.prefix}", "dev", self.bridge)
            _ip("link", "set", self.bridge, "up")
            for i, (ns, address) in enumerate(zip(self.namespaces, self.addresses, strict=True)):
                _ip("netns", "add", ns)
                _ip("link", "add", f"{self.tag}v{i}", "type", "veth", "peer", "name", "eth0", "netns", ns)
                _ip("link", "set", f"{self.tag}v{i}", "master", self.bridge, "up")
                _ip("-n", ns, "addr", "add", f"{address}/{self.prefix}", "dev", "eth0")
                _ip("-n", ns, "link", "set", "eth0", "up")
                _ip("-n", ns, "link", "set", "lo", "up")
        except BaseException:
            self.destroy()
            raise
        return self

    def destroy(self) -> None:
        """Remove the namespaces (their veth ends go with them) and the bridge; what does not exist is skipped."""
        for i, ns in enumerate(self.namespaces):
            _ip("link", "del", f"{self.tag}v{i}", check=False)
            _ip("netns", "del", ns, check=False)
        _ip("link", "del", self.bridge, check=False)

    def addresses_of(self, server: int) -> list[str]:
        """IPv4 addresses on the server's eth0."""
        out = _ip("-n", self.namespaces[server], "-4", "-o", "addr", "show", "dev", "eth0", check=False).stdout
        return re.findall(r"inet (\d+\.\d+\.\d+\.\d+)/", out)

    def mac_of(self, server: int) -> str:
        """The MAC address of the server's eth0."""
        out = _ip("-n", self.namespaces[server], "-o", "link", "show", "dev", "eth0").stdout
        return re.search(r"link/ether ([0-9a-f:]{17})", out).group(1)

    def neighbour_mac(self, address: str) -> str | None:
        """The MAC the controller's side of the bridge has for ``address`` (its ARP cache), if any."""
        out = _ip("neigh", "show", address, "dev", self.bridge, check=False).stdout
        match = re.search(r"lladdr ([0-9a-f:]{17})", out)
        return match.group(1) if match else None

    def set_link(self, server: int, up: bool) -> None:
        _ip("link", "set", f"{self.tag}v{server}", "up" if up else "down")


class RaftZone:
    """``count`` real oneds of ``version`` as zone 0, configured with the role's files.

    ``confs[i]`` is server i's ``{"solo": oned.conf (SERVER_ID -1), "member": oned.conf (its zone SERVER_ID),
    "monitord": monitord.conf}`` as the frontend role renders them (tests/roles/frontend_render.yml); ``programs``
    are added to every server (the role's hook script, at the path the role installs it in ``var/remotes``).
    """

    def __init__(self, version: str, network: ZoneNetwork, confs: list[dict[str, str]], password: str,
                 names: list[str], programs: dict[str, str] | None = None) -> None:
        self.version = version
        self.network = network
        self.password = password
        self.names = names
        self.root = Path(tempfile.mkdtemp(prefix=f"{network.tag}-zone-{version}-"))
        self.confs = confs
        self.servers = [
            OnedInstance(version, password=password, workdir=self.root / f"s{i}", netns=network.namespaces[i],
                         address=network.addresses[i], oned_conf=conf["solo"], monitord_conf=conf["monitord"],
                         datastores=self.root / "datastores", programs=programs)
            for i, conf in enumerate(confs)]
        self.down: set[int] = set()
        self.timings: dict[str, float] = {}

    @property
    def vip_url(self) -> str:
        return f"http://{self.network.vip}:{self.servers[0].port}/RPC2"

    # ---------------------------------------------------------------- the API of one server
    def call(self, url: str, method: str, *args, timeout: float = 10.0):
        """One XML-RPC call as oneadmin; raises on an oned error answer."""
        transport = _Transport(timeout)
        answer = getattr(xmlrpc.client.ServerProxy(url, transport=transport), method)(
            f"oneadmin:{self.password}", *args)
        if not answer[0]:
            raise RuntimeError(f"{method}{args} at {url}: {answer[1]}")
        return answer[1]

    def raft_state(self, server: int) -> tuple[str, int]:
        """(state name, SERVER_ID) that server ``server`` reports (``one.zone.raftstatus``)."""
        status = self.call(self.servers[server].url, "one.zone.raftstatus", timeout=3)
        state = int(re.search(r"<STATE>(\d+)</STATE>", status).group(1))
        return RAFT_STATES[state], int(re.search(r"<SERVER_ID>(-?\d+)</SERVER_ID>", status).group(1))

    def leader(self) -> int:
        """The server that reports itself leader (exactly one among those up), else raises."""
        leaders = []
        for i in range(len(self.servers)):
            if i in self.down:
                continue
            try:
                if self.raft_state(i)[0] == "leader":
                    leaders.append(i)
            except (OSError, xmlrpc.client.Error, RuntimeError):
                continue
        if len(leaders) != 1:
            raise LookupError(f"leaders: {leaders}")
        return leaders[0]

    def wait_state(self, server: int, *states: str, timeout: float = 120.0) -> float:
        """Wait until ``server`` reports one of ``states``; the seconds it took."""
        start = time.monotonic()
        last = None
        while time.monotonic() - start < timeout:
            try:
                last = self.raft_state(server)[0]
                if last in states:
                    return time.monotonic() - start
            except (OSError, xmlrpc.client.Error, RuntimeError) as exc:
                last = exc
            time.sleep(0.1)
        raise TimeoutError(f"server {server} not {' or '.join(states)} after {timeout:.0f} s (last: {last}):\n"
                           f"{self.servers[server].log_tail()}")

    def wait_leader(self, timeout: float = 120.0) -> int:
        """Wait until exactly one server up reports itself leader; that server."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.leader()
            except LookupError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def vip_holders(self) -> list[int]:
        """The servers whose eth0 holds the floating address."""
        return [i for i in range(len(self.servers)) if self.network.vip in self.network.addresses_of(i)]

    def wait_vip_only_on(self, server: int, timeout: float = 90.0) -> None:
        """Wait until, among the servers up, only ``server`` holds the floating address (a server that led for a
        moment during an election lowers it when its hook runs, a few seconds later)."""
        deadline = time.monotonic() + timeout
        while True:
            holders = [i for i in self.vip_holders() if i not in self.down]
            if holders == [server]:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"floating address on {holders}, expected on server {server} only")
            time.sleep(0.2)

    def wait_vip_answers(self, server: int, timeout: float = 120.0) -> float:
        """Wait until the floating address answers ``one.zone.raftstatus`` as leader ``server``; seconds taken."""
        start = time.monotonic()
        expected = self.servers[server].oned_conf
        server_id = int(re.search(r"SERVER_ID\s*=\s*(-?\d+)", expected).group(1))
        last = None
        while time.monotonic() - start < timeout:
            try:
                status = self.call(self.vip_url, "one.zone.raftstatus", timeout=0.5)
                if f"<SERVER_ID>{server_id}</SERVER_ID>" in status and "<STATE>3</STATE>" in status:
                    return time.monotonic() - start
                last = status
            except (OSError, xmlrpc.client.Error, RuntimeError) as exc:
                last = exc
            time.sleep(0.05)
        raise TimeoutError(f"{self.vip_url} does not answer as server {server} after {timeout:.0f} s "
                           f"(last: {last}); VIP on {self.vip_holders()}")

    # ---------------------------------------------------------------- life cycle
    def add_server(self, leader_url: str, server: int) -> int:
        """``one.zone.addserver`` on the leader; the id the zone gives the new server."""
        endpoint = self.servers[server].url
        self.call(leader_url, "one.zone.addserver", 0,
                  f'SERVER=[NAME="{self.names[server]}", ENDPOINT="{endpoint}"]')
        return self.zone_ids(leader_url)[self.names[server]]

    def zone_ids(self, url: str) -> dict[str, int]:
        """Zone 0's server ids by name, as the API at ``url`` lists them."""
        info = self.call(url, "one.zone.info", 0)
        return {name: int(sid) for sid, name in re.findall(
            r"<SERVER>.*?<ID><!\[CDATA\[(\d+)\]\]></ID>.*?<NAME><!\[CDATA\[([^\]]*)\]\]></NAME>.*?</SERVER>",
            info, re.DOTALL)}

    def bootstrap(self) -> RaftZone:
        """Servers 0..n-1 joined in order (see the module docstring); ``timings`` says how long each step took."""
        first = self.servers[0]
        start = time.monotonic()
        first.start(timeout=180, attempts=3)
        self.timings["first solo start"] = time.monotonic() - start
        if self.add_server(first.url, 0) != 0:
            raise AssertionError("the first server of a new zone did not get id 0")
        first.stop()
        self._use(0, "member")
        start = time.monotonic()
        first.start(fresh=False, timeout=180, attempts=3)
        self.wait_state(0, "leader")
        self.timings["first election (start to leader)"] = time.monotonic() - start
        for i in range(1, len(self.servers)):
            self.join(i)
        return self

    def join(self, server: int) -> None:
        """Add ``server`` to the zone on the leader, seed it with the leader's database and credentials, start it
        as a follower (the role's order: the server is a member before its database is copied, so that it never
        starts from a zone that lacks it)."""
        leader = self.servers[self.leader()]
        joining = self.servers[server]
        expected = int(re.search(r"SERVER_ID\s*=\s*(-?\d+)", self.confs[server]["member"]).group(1))
        start = time.monotonic()
        got = self.add_server(leader.url, server)
        if got != expected:
            raise AssertionError(f"zone gave id {got} to {self.names[server]}, the role rendered {expected}")
        seed = self.root / f"seed-{server}.sql"
        leader.onedb("backup", "-f", str(seed))
        joining.oned_conf = self.confs[server]["member"]
        joining.lay_out()
        joining.onedb("restore", "-f", str(seed))
        seed.unlink()
        shutil.rmtree(joining.root / "var" / ".one", ignore_errors=True)
        shutil.copytree(leader.root / "var" / ".one", joining.root / "var" / ".one")
        joining.start(fresh=False, timeout=180, attempts=3)
        # A follower, or the leader: on a loaded machine oned opens its API more than 15 s + ELECTION_TIMEOUT_MS
        # after its Raft timer starts, hears no heartbeat in time and calls an election, which it may win (it holds
        # the whole log): a legitimate change of leader, the floating address follows it.
        self.wait_state(server, "follower", "leader")
        self.timings[f"join {self.names[server]}"] = time.monotonic() - start
        self.wait_leader()

    def _use(self, server: int, conf: str) -> None:
        instance = self.servers[server]
        instance.oned_conf = self.confs[server][conf]
        instance.write_config()

    def fail(self, server: int) -> None:
        """The server dies: every process it runs killed at once (SIGKILL), its link down."""
        self.servers[server].stop(timeout=0)
        self.network.set_link(server, up=False)
        self.down.add(server)

    def revive(self, server: int) -> None:
        """The server comes back: link up, oned started on its database (it rejoins as follower)."""
        self.network.set_link(server, up=True)
        self.down.discard(server)
        self.servers[server].start(fresh=False, timeout=180, attempts=3)

    def stop(self) -> None:
        """Stop every oned, remove the network and the zone's directory (also after a failed test)."""
        try:
            for instance in self.servers:
                instance.stop(timeout=0)
        finally:
            self.network.destroy()
            shutil.rmtree(self.root, ignore_errors=True)


class _Transport(xmlrpc.client.Transport):
    """A transport with a socket time-out (a dead server's address must not hang a call)."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def make_connection(self, host):
        connection = super().make_connection(host)
        connection.timeout = self.timeout
        return connection
