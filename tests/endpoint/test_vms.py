"""VM life cycle with the dummy drivers, NIC leases, state errors, state file."""

from __future__ import annotations

import pyone
import pytest

from tests.oned import OnedServer

from .conftest import poll

RUNNING = (3, 3)


def _state(one: pyone.OneServer, vid: int) -> tuple:
    vm = one.vm.info(vid)
    return vm.STATE, vm.LCM_STATE


@pytest.fixture
def infra(one: pyone.OneServer, settled) -> dict:
    hid = one.host.allocate("node1", "dummy", "dummy", -1)
    settled(lambda: one.host.info(hid).STATE, lambda s: s == 2)
    vnid = one.vn.allocate('NAME="lan"\nVN_MAD="bridge"\nAR=[TYPE="IP4",IP="10.1.0.1",SIZE="3"]', -1)
    tid = one.template.allocate(
        f'NAME="small"\nCPU="1"\nMEMORY="256"\nNIC=[NETWORK_ID="{vnid}"]\nLABELS="x"')
    return {"host": hid, "vnet": vnid, "template": tid}


def test_vm_reaches_running(one: pyone.OneServer, infra: dict, settled) -> None:
    vid = one.template.instantiate(infra["template"], "", False, "", False)
    assert _state(one, vid) == (1, 0)
    settled(lambda: _state(one, vid), lambda s: s == RUNNING)
    vm = one.vm.info(vid)
    assert vm.NAME == f"small-{vid}"
    assert vm.TEMPLATE["NIC"]["IP"] == "10.1.0.1" and vm.TEMPLATE["NIC"]["MAC"] == "02:00:0a:01:00:01"
    assert vm.TEMPLATE["TEMPLATE_ID"] == str(infra["template"])
    assert vm.USER_TEMPLATE["LABELS"] == "x"
    hist = vm.HISTORY_RECORDS.HISTORY[-1]
    assert (hist.HID, hist.HOSTNAME, hist.VM_MAD) == (infra["host"], "node1", "dummy")
    assert one.host.info(infra["host"]).VMS.ID == [vid]
    ar = one.vn.info(infra["vnet"]).AR_POOL.AR[0]
    assert ar.USED_LEASES == "1" and ar.LEASES.LEASE[0].VM == vid
    pool = one.vmpool.info(-2, -1, -1, -1)
    assert [v.ID for v in pool.VM] == [vid] and pool.VM[0].TEMPLATE["NIC"]["IP"] == "10.1.0.1"
    assert one.vmpool.infoextended(-2, -1, -1, -1).VM[0].USER_TEMPLATE["LABELS"] == "x"
    # vmpool.info gives oned's short body: few USER_TEMPLATE keys, short NIC/DISK
    one.vm.update(vid, 'NOTE="kept"', 1)
    short = one.vmpool.info(-2, -1, -1, -1).VM[0]
    assert short.USER_TEMPLATE == {"LABELS": "x"}
    assert "BRIDGE" not in short.TEMPLATE["NIC"] and short.TEMPLATE["NIC"]["MAC"] == "02:00:0a:01:00:01"
    assert one.vmpool.infoextended(-2, -1, -1, -1).VM[0].USER_TEMPLATE["NOTE"] == "kept"


def test_vm_stays_pending_without_hosts(one: pyone.OneServer, settled) -> None:
    vid = one.vm.allocate('NAME="lonely"\nCPU="1"\nMEMORY="64"', False)
    assert _state(one, vid) == (1, 0)
    hid = one.host.allocate("late", "dummy", "dummy", -1)
    one.vm.deploy(vid, hid, False, -1, "")
    settled(lambda: _state(one, vid), lambda s: s == RUNNING)


def test_hold_release_and_wrong_state(one: pyone.OneServer, infra: dict, settled) -> None:
    vid = one.template.instantiate(infra["template"], "held", True, "", False)
    assert _state(one, vid) == (2, 0)
    with pytest.raises(pyone.OneActionException) as exc:
        one.vm.action("poweroff", vid)
    assert str(exc.value) == ('[one.vm.action] Error performing action "poweroff": '
                              "This action is not available for state HOLD")
    one.vm.action("release", vid)
    settled(lambda: _state(one, vid), lambda s: s == RUNNING)
    with pytest.raises(pyone.OneActionException, match="not available for state RUNNING"):
        one.vm.action("release", vid)


def test_poweroff_resume_undeploy_terminate(one: pyone.OneServer, infra: dict, settled) -> None:
    vid = one.template.instantiate(infra["template"], "web", False, 'MEMORY="512"', False)
    settled(lambda: _state(one, vid), lambda s: s == RUNNING)
    assert one.vm.info(vid).TEMPLATE["MEMORY"] == "512"
    one.vm.action("poweroff", vid)
    assert _state(one, vid) == (3, 18)
    settled(lambda: _state(one, vid), lambda s: s == (8, 0))
    one.vm.action("resume", vid)
    settled(lambda: _state(one, vid), lambda s: s == RUNNING)
    one.vm.action("undeploy", vid)
    settled(lambda: _state(one, vid), lambda s: s == (9, 0))
    assert one.host.info(infra["host"]).VMS.ID == []
    one.vm.action("resume", vid)
    settled(lambda: _state(one, vid), lambda s: s == RUNNING)
    one.vm.action("terminate-hard", vid)
    settled(lambda: _state(one, vid), lambda s: s == (6, 0))
    assert [v.ID for v in one.vmpool.info(-2, -1, -1, -1).VM] == []
    assert [v.ID for v in one.vmpool.info(-2, -1, -1, 6).VM] == [vid]
    assert one.vn.info(infra["vnet"]).AR_POOL.AR[0].USED_LEASES == "0"
    with pytest.raises(pyone.OneActionException, match='Action "explode" is not supported'):
        one.vm.action("explode", vid)


def test_vm_update_rename_chmod(one: pyone.OneServer, infra: dict) -> None:
    vid = one.template.instantiate(infra["template"], "", True, "", False)
    one.vm.update(vid, 'NOTE="hello"', 1)
    assert one.vm.info(vid).USER_TEMPLATE["NOTE"] == "hello"
    one.vm.rename(vid, "renamed")
    one.vm.chmod(vid, 1, 1, 0, 1, 0, 0, 0, 0, 0)
    vm = one.vm.info(vid)
    assert vm.NAME == "renamed" and vm.PERMISSIONS.GROUP_U == 1


def test_lease_exhaustion(one: pyone.OneServer, infra: dict) -> None:
    for _ in range(3):
        one.template.instantiate(infra["template"], "", True, "", False)
    with pytest.raises(pyone.OneInternalException,
                       match=f"Cannot get IP/MAC lease from virtual network {infra['vnet']}"):
        one.template.instantiate(infra["template"], "", True, "", False)
    with pytest.raises(pyone.OneActionException, match="Address Range has leases in use"):
        one.vn.rm_ar(infra["vnet"], 0)


def test_state_file_survives_restart(tmp_path) -> None:
    state = tmp_path / "oned.json"
    srv = OnedServer(port=0, state_file=str(state)).start()
    one = pyone.OneServer(srv.url, session="oneadmin:opennebula")
    vid = one.vn.allocate('NAME="keep"\nVN_MAD="bridge"\nAR=[TYPE="ETHER",SIZE="2"]', -1)
    one.vn.delete(one.vn.allocate('NAME="gone"\nVN_MAD="bridge"', -1))
    srv.stop()
    srv = OnedServer(port=0, state_file=str(state)).start()
    try:
        one = pyone.OneServer(srv.url, session="oneadmin:opennebula")
        assert one.vn.info(vid).NAME == "keep"
        assert one.vn.allocate('NAME="next"\nVN_MAD="bridge"', -1) == vid + 2
    finally:
        srv.stop()


def test_settle_runs_pending_driver_steps(oned: OnedServer, one: pyone.OneServer) -> None:
    hid = one.host.allocate("h", "dummy", "dummy", -1)
    vid = one.vm.allocate('CPU="1"\nMEMORY="64"', False)
    iid = one.image.allocate('NAME="i"\nTYPE="DATABLOCK"\nSIZE="1"', 1)
    oned.settle()
    assert (one.host.info(hid).STATE, _state(one, vid), one.image.info(iid).STATE) == (2, RUNNING, 1)


def test_driver_steps_happen_over_time() -> None:
    """Without settle(): the dummy drivers move on by themselves, one step apart."""
    srv = OnedServer(port=0, step=0.05).start()
    try:
        one = pyone.OneServer(srv.url, session="oneadmin:opennebula")
        hid = one.host.allocate("h", "dummy", "dummy", -1)
        poll(lambda: one.host.info(hid).STATE, lambda s: s == 2)
        vid = one.vm.allocate('CPU="1"\nMEMORY="64"', False)
        seen = set()
        poll(lambda: seen.add(_state(one, vid)) or _state(one, vid), lambda s: s == RUNNING)
        assert seen <= {(1, 0), (3, 1), (3, 2), (3, 3)}
        iid = one.image.allocate('NAME="i"\nTYPE="DATABLOCK"\nSIZE="1"', 1)
        poll(lambda: one.image.info(iid).STATE, lambda s: s == 1)
    finally:
        srv.stop()


def test_network_context(one: pyone.OneServer) -> None:
    one.user.update(0, 'SSH_PUBLIC_KEY="ssh-ed25519 KEY"', 1)
    vnid = one.vn.allocate('NAME="lan"\nVN_MAD="bridge"\nGATEWAY="10.2.0.254"\nNETWORK_MASK="255.255.255.0"\n'
                           'AR=[TYPE="IP4_6",IP="10.2.0.1",SIZE="5",GLOBAL_PREFIX="2001:db8::",DNS="10.2.0.53"]',
                           -1)
    vid = one.vm.allocate(f'NAME="web"\nCPU="1"\nMEMORY="64"\nNIC=[NETWORK_ID="{vnid}"]\n'
                          'CONTEXT=[NETWORK="YES",SSH_PUBLIC_KEY="$USER[SSH_PUBLIC_KEY]",SET_HOSTNAME="$NAME"]',
                          True)
    vm = one.vm.info(vid)
    context, nic = vm.TEMPLATE["CONTEXT"], vm.TEMPLATE["NIC"]
    assert (context["ETH0_IP"], context["ETH0_MASK"], context["ETH0_GATEWAY"], context["ETH0_DNS"]) == (
        "10.2.0.1", "255.255.255.0", "10.2.0.254", "10.2.0.53")
    assert context["ETH0_IP6"] == nic["IP6_GLOBAL"] == "2001:db8::aff:fe02:1"
    assert "ETH0_SEARCH_DOMAIN" in context  # every ETH0_* variable is set, empty when unknown
    assert (context["SSH_PUBLIC_KEY"], context["SET_HOSTNAME"]) == ("ssh-ed25519 KEY", "web")
    assert (context["DISK_ID"], context["TARGET"]) == ("0", "hda")
