"""The real-oned harness: two oneds on one machine (scripts/test.sh runs a lane per version side by side) must not
disturb each other's hosts. OpenNebula's dummy probes assume one host per machine; see
``OnedInstance._isolate_dummy_monitoring``."""

from __future__ import annotations

import subprocess
import time
import xmlrpc.client
from pathlib import Path

import pytest

from tests.real_oned.instance import OnedInstance

PASSWORD = "side-by-side"


def monitored_host(instance: OnedInstance, name: str, timeout: float = 120.0) -> int:
    """Allocate a dummy host ``name`` and wait until it is MONITORED (its monitord client then runs)."""
    api = xmlrpc.client.ServerProxy(instance.url)
    ok, host_id, *_ = api.one.host.allocate(f"oneadmin:{PASSWORD}", name, "dummy", "dummy", -1)
    assert ok, host_id
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = int(api.one.host.info(f"oneadmin:{PASSWORD}", host_id)[1].split("<STATE>")[1].split("<")[0])
        if state == 2:  # MONITORED
            return host_id
        time.sleep(0.5)
    raise AssertionError(f"host {name} of oned {instance.root} not monitored in {timeout:.0f} s")


def clients_of(instance: OnedInstance) -> list[int]:
    """Pids of the monitord clients started from this instance's drivers."""
    marker = f"{instance.root}/var/remotes/im/dummy.d/monitord-client.rb".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker in (entry / "cmdline").read_bytes():
                pids.append(int(entry.name))
        except OSError:
            pass
    return pids


@pytest.mark.lane("7.0.2")
def test_the_beacon_of_one_oned_leaves_the_monitoring_client_of_another_alone():
    first, second = OnedInstance("7.0.2", password=PASSWORD), OnedInstance("7.0.2", password=PASSWORD)
    try:
        first.start()
        second.start()
        assert monitored_host(first, "node1") == monitored_host(second, "node1") == 0, "same id, same name"
        assert clients_of(first) and clients_of(second)
        # the second oned's beacon probe (its shepherd), as monitord runs it every BEACON_HOST seconds; before the
        # fix it killed the first oned's client (the same host id and name, not the pid in the shared pid file)
        shepherd = second.root / "var/remotes/im/dummy-probes.d/host/beacon/monitord-client-shepherd_local.sh"
        subprocess.run(["bash", str(shepherd), "dummy", "0", "node1"], input="", text=True, check=True,
                       cwd=shepherd.parent, timeout=30)
        time.sleep(0.5)  # a kill signal is delivered asynchronously
        assert clients_of(first), "the first oned's monitord client was killed by the second oned's probe"
        assert clients_of(second)
    finally:
        first.remove()
        second.remove()
