"""The README's quick start: the demo school's cloud level, twice, against the OpenNebula test endpoint."""

from __future__ import annotations

import pytest

from tests.oned import OnedServer, is_write
from tests.playbooks.playbook_runner import run_playbook

DEMO_PASSWORD = "demo-oneadmin"  # inventories/demo/group_vars/all/site.yml


@pytest.fixture
def demo_oned():
    server = OnedServer(host="127.0.0.1", port=0, credentials=f"oneadmin:{DEMO_PASSWORD}").start()
    yield server
    server.stop()


def writes(server) -> dict[str, int]:
    return {m: n for m, n in server.calls.items() if is_write(m)}


def test_demo_site_converges_then_changes_nothing(demo_oned):
    url = f"-e hapy_one_api_url={demo_oned.url}"
    first = run_playbook("site.yml", "inventories/demo", *url.split())
    assert first.returncode == 0, first.output[-3000:]
    assert first.changed > 0
    first_writes = writes(demo_oned)
    assert first_writes.get("one.vn.allocate") == 3, "wan, admin and pedago networks (the demo has no DMZ)"
    assert first_writes.get("one.cluster.allocate") == 1
    assert first_writes.get("one.host.allocate") == 1

    demo_oned.reset_calls()
    second = run_playbook("site.yml", "inventories/demo", *url.split())
    assert second.returncode == 0, second.output[-3000:]
    assert second.changed == 0, second.output[-3000:]
    assert writes(demo_oned) == {}, "a second run must not write anything"


def test_demo_check_mode_predicts_first_run(demo_oned):
    args = ["-e", f"hapy_one_api_url={demo_oned.url}"]
    predicted = run_playbook("site.yml", "inventories/demo", "--check", "--diff", *args)
    assert predicted.returncode == 0, predicted.output[-3000:]
    assert writes(demo_oned) == {}, "check mode must not write"
    real = run_playbook("site.yml", "inventories/demo", *args)
    assert real.returncode == 0, real.output[-3000:]
    assert predicted.changed == real.changed
