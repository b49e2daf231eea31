"""HA frontends on real oned: three servers as one Raft zone, the floating address on the leader, failover.

Network namespaces on one bridge (``tests/real_oned/ha.py``), not molecule containers: each oned runs in a namespace
of its own with the address the inventory gives its server and the frontend role's rendered ``oned.conf`` and
``monitord.conf`` (the role's ``FEDERATION``/``RAFT`` and its ``RAFT_LEADER_HOOK``/``RAFT_FOLLOWER_HOOK``, which run
the role's ``raft/hapy-vip.sh``: ``ip address add|del`` of the floating address on ``eth0`` and gratuitous ARP as
OpenNebula's ``raft/vip.sh`` does, by the server's Raft state when it runs, then ``vip.sh`` for its services).
The controller (this process, ansible-playbook) sits on the bridge, as a school's controller sits on its LAN.

One scenario per oned version, in the order a school lives it: the zone is bootstrapped in order and elects the
first server; the floating address answers the API on the leader only; the demo school's cloud level converges
through it (its API URL derived from ``hapy_ha.vip``); the leader dies (every process SIGKILLed, its link down);
another server is elected and takes the floating address; the cloud level, run again through the floating address,
changes nothing (``changed=0``, no write but its run lock, the objects listed before and after are the same); the
dead server comes back as a follower and its stale floating address is lowered by its follower hook. The figures
(election, failover, converge times) are printed, never asserted.
"""

from __future__ import annotations

import difflib
import time

import pytest

from tests.ha.demo_zone import PASSWORD, demo_zone, wait_new_leader
from tests.oned import is_write
from tests.playbooks.playbook_runner import run_lock_writes, run_playbook
from tests.real_oned.endpoint import OnedApi
from tests.real_oned.proxy import CountingProxy

# each version in its own lane of scripts/test.sh (the lane of its single real oned)
VERSIONS = [pytest.param(version, marks=pytest.mark.lane(version)) for version in ("7.0.2", "6.10.5")]


@pytest.fixture(params=VERSIONS)
def zone(request, tmp_path):
    """A bootstrapped three-server zone of the version and the HA demo school's inventory; removed afterwards."""
    with demo_zone(request.param, tmp_path) as made:
        yield made


def report(what: str, seconds: float) -> None:
    print(f"\n[ha] {what}: {seconds:.1f} s", flush=True)


def test_leader_failover_keeps_the_floating_address_and_the_site(zone):
    zone, inventory = zone
    for step, seconds in zone.timings.items():
        report(f"oned {zone.version} {step}", seconds)

    # a leader elected, the others follow it; each server has the id the zone gave it (hapy_ha.servers order)
    leader = zone.leader()
    assert [zone.raft_state(i) for i in range(3)] == [
        ("leader" if i == leader else "follower", i) for i in range(3)]
    assert zone.zone_ids(zone.servers[leader].url) == {name: i for i, name in enumerate(zone.names)}
    # the floating address is raised on the leader only, and answers the API as the leader
    assert zone.vip_holders() == [leader]
    zone.wait_vip_answers(leader, timeout=5)

    # the demo school's cloud level through the floating address (its API URL derived from hapy_ha.vip)
    start = time.monotonic()
    first = run_playbook("site.yml", str(inventory))
    report(f"oned {zone.version} first converge through the VIP", time.monotonic() - start)
    assert first.returncode == 0, first.output[-3000:]
    assert first.changed > 0
    api = OnedApi(zone.vip_url, PASSWORD, zone.version)
    api.settle()
    before = api.state()
    assert {h.findtext("NAME") for h in api.pool("host")} == set(zone.names)
    assert {v.findtext("NAME") for v in api.pool("vm")} == {"amon", "scribe"}

    # the controller's ARP cache has the leader's MAC for the floating address (it just used it)
    assert zone.network.neighbour_mac(zone.network.vip) == zone.network.mac_of(leader)

    # the leader dies: another server is elected and takes the floating address
    killed = time.monotonic()
    zone.fail(leader)
    new_leader = wait_new_leader(zone, old=leader)
    failover = time.monotonic() - killed
    report(f"oned {zone.version} failover (leader killed -> VIP answers the API as server {new_leader})", failover)
    # the new leader's gratuitous ARP (arping -U/-A) updated the controller's cache at once: without it the
    # old entry would stay until Linux re-resolves it (reachable time 15-45 s, then probes)
    assert zone.network.neighbour_mac(zone.network.vip) == zone.network.mac_of(new_leader)
    # only the leader keeps it (a server that led for a moment during the election lowered it again)
    zone.wait_vip_only_on(new_leader)

    # the cloud level through the floating address, now on the new leader: nothing to change, nothing written
    proxy = CountingProxy((zone.network.vip, 2633)).start()
    try:
        start = time.monotonic()
        again = run_playbook("site.yml", str(inventory), "-e", f"hapy_one_api_url={proxy.url}")
        report(f"oned {zone.version} converge through the VIP after failover", time.monotonic() - start)
        calls = proxy.counter.snapshot()
    finally:
        proxy.stop()
    assert again.returncode == 0, again.output[-3000:]
    assert again.changed == 0, again.output[-3000:]
    assert {m: n for m, n in calls.items() if is_write(m)} == run_lock_writes(1)
    api.settle()
    assert state_changes(before, api.state()) == [], "the objects are the same on the new leader"

    # the dead server comes back: a follower (its log is behind: it cannot lead), its stale floating address lowered
    # by its follower hook, the address on the leader only (the leader may change once more if the returning
    # server calls an election before it hears the leader: Raft then elects one of the up-to-date servers)
    start = time.monotonic()
    zone.revive(leader)
    zone.wait_state(leader, "follower")
    report(f"oned {zone.version} old leader back as follower", time.monotonic() - start)
    final_leader = zone.wait_leader()
    assert final_leader != leader
    zone.wait_vip_only_on(final_leader)
    zone.wait_vip_answers(final_leader, timeout=10)
    for i, server in enumerate(zone.servers):
        if server.restarts:  # oned exited at start (a driver's init time-out under load) and was started again
            print(f"[ha] server {i} restarted {len(server.restarts)} time(s): {server.restarts}")


def state_changes(before: dict, after: dict) -> list[str]:
    """``kind id: -old +new`` for every object whose XML (volatile parts stripped) differs."""
    changes = []
    for kind in sorted(set(before) | set(after)):
        for oid in sorted(set(before.get(kind, {})) | set(after.get(kind, {}))):
            old, new = before.get(kind, {}).get(oid, ""), after.get(kind, {}).get(oid, "")
            if old != new:
                lines = difflib.ndiff(old.replace("><", ">\n<").splitlines(), new.replace("><", ">\n<").splitlines())
                changes.append(f"{kind} {oid}: " + " ".join(line for line in lines if line[:1] in "+-"))
    return changes
