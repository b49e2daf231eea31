"""Wire protocol: answer arrays, error codes/texts, authentication, call counting."""

from __future__ import annotations

import xmlrpc.client

import pyone
import pytest

from tests.oned import WRITE_METHODS, OnedServer, is_write


def test_version_and_config(one: pyone.OneServer) -> None:
    assert one.system.version() == "6.10.0"
    conf = one.system.config()
    assert type(conf).__name__.startswith("OPENNEBULA_CONFIGURATION")


def test_raw_success_array(oned: OnedServer) -> None:
    proxy = xmlrpc.client.ServerProxy(oned.url)
    ok = proxy.one.vn.allocate("oneadmin:opennebula", 'NAME="n"\nVN_MAD="bridge"', -1)
    assert ok == [True, 0, 0]


def test_raw_failure_array(oned: OnedServer) -> None:
    proxy = xmlrpc.client.ServerProxy(oned.url)
    answer = proxy.one.vn.info("oneadmin:opennebula", 12)
    assert answer[:4] == [False, "[one.vn.info] Error getting virtual network [12].", 0x0400, 12]
    assert len(answer) == 5


def test_authentication_failure(oned: OnedServer) -> None:
    bad = pyone.OneServer(oned.url, session="oneadmin:wrong")
    with pytest.raises(pyone.OneAuthenticationException) as exc:
        bad.zone.raftstatus()
    assert str(exc.value) == "[one.zone.raftstatus] User couldn't be authenticated, aborting call."
    raw = xmlrpc.client.ServerProxy(oned.url).one.vnpool.info("nobody:x", -2, -1, -1)
    assert raw[0] is False and raw[2] == 0x0100


def test_custom_credentials() -> None:
    srv = OnedServer(port=0, credentials="admin:s3cret").start()
    try:
        assert pyone.OneServer(srv.url, session="admin:s3cret").user.info(-1).NAME == "admin"
        with pytest.raises(pyone.OneAuthenticationException):
            pyone.OneServer(srv.url, session="oneadmin:opennebula").system.version()
    finally:
        srv.stop()


def test_unknown_method_is_a_fault(oned: OnedServer) -> None:
    with pytest.raises(xmlrpc.client.Fault) as exc:
        xmlrpc.client.ServerProxy(oned.url).one.nothing.here("oneadmin:opennebula")
    assert exc.value.faultCode == -506


def test_no_exists_and_action_errors(one: pyone.OneServer) -> None:
    with pytest.raises(pyone.OneNoExistsException, match=r"^\[one.host.info\] Error getting host \[7\]\.$"):
        one.host.info(7)
    with pytest.raises(pyone.OneNoExistsException, match=r"Error getting virtual machine template \[3\]"):
        one.template.info(3, False, False)
    with pytest.raises(pyone.OneNoExistsException, match=r"Error getting cluster \[55\]"):
        one.vn.allocate('NAME="x"\nVN_MAD="bridge"', 55)


def test_call_counting_in_process_and_remote(oned: OnedServer, one: pyone.OneServer) -> None:
    one.vnpool.info(-2, -1, -1)
    one.vnpool.info(-2, -1, -1)
    one.system.version()
    assert oned.calls["one.vnpool.info"] == 2
    proxy = xmlrpc.client.ServerProxy(oned.url)
    assert proxy.sim.calls() == {"one.vnpool.info": 2, "one.system.version": 1}
    assert proxy.sim.reset_calls() is True
    assert oned.calls == {}
    one.vn.allocate('NAME="a"\nVN_MAD="bridge"', -1)
    writes = [m for m in oned.calls if is_write(m)]
    assert writes == ["one.vn.allocate"]


def test_write_classification() -> None:
    for name in ("one.vn.info", "one.vnpool.info", "one.system.version", "one.system.config",
                 "one.vmpool.infoextended", "one.acl.info", "one.template.info"):
        assert not is_write(name)
        assert name not in WRITE_METHODS
    for name in ("one.vn.allocate", "one.vn.update", "one.vn.add_ar", "one.vm.action",
                 "one.template.instantiate", "one.acl.addrule", "one.host.status"):
        assert is_write(name)
        assert name in WRITE_METHODS
    assert not is_write("sim.calls")


def test_zero_write_calls_for_reads(oned: OnedServer, one: pyone.OneServer) -> None:
    oned.reset_calls()
    one.vnpool.info(-2, -1, -1)
    one.hostpool.info()
    one.datastorepool.info(-2, -1, -1)
    assert not [m for m, n in oned.calls.items() if is_write(m) and n]


def test_authorization_for_regular_users(oned: OnedServer, one: pyone.OneServer) -> None:
    admin_tmpl = one.template.allocate('NAME="admins"')
    uid = one.user.allocate("alice", "pw", "core", [])
    alice = pyone.OneServer(oned.url, session="alice:pw")
    own = alice.template.allocate('NAME="mine"')  # default ACL: group users may CREATE templates
    alice.template.update(own, 'A="1"', 1)
    with pytest.raises(pyone.OneAuthorizationException) as exc:
        alice.template.info(admin_tmpl, False, False)
    assert str(exc.value) == (f"[one.template.info] User [{uid}] : Not authorized to perform "
                              f"USE TEMPLATE [{admin_tmpl}].")
    assert [t.ID for t in alice.templatepool.info(-2, -1, -1).VMTEMPLATE] == [own]
    one.template.chmod(admin_tmpl, -1, -1, -1, -1, -1, -1, 1, 0, 0)
    assert alice.template.info(admin_tmpl, False, False).NAME == "admins"
    with pytest.raises(pyone.OneAuthorizationException, match=r"MANAGE TEMPLATE \[0\]"):
        alice.template.rename(admin_tmpl, "x")
    with pytest.raises(pyone.OneAuthorizationException, match=r"Not authorized to perform CREATE CLUSTER\.$"):
        alice.cluster.allocate("c")
    with pytest.raises(pyone.OneAuthorizationException, match=r"ADMIN CLUSTER \[0\]\.$"):
        alice.vn.allocate('NAME="n"\nVN_MAD="bridge"', -1)
    one.acl.addrule(f"{0x100000000 | uid:x}", "0x200100000000", "0x4")  # #uid CLUSTER/#0 ADMIN
    assert alice.vn.allocate('NAME="n"\nVN_MAD="bridge"', -1) == 0
    assert alice.user.info(-1).NAME == "alice"


def test_vm_actions_need_manage(oned: OnedServer, one: pyone.OneServer) -> None:
    vid = one.vm.allocate('CPU="1"\nMEMORY="8"', True)
    one.user.allocate("bob", "pw", "core", [])
    bob = pyone.OneServer(oned.url, session="bob:pw")
    with pytest.raises(pyone.OneAuthorizationException, match=rf"MANAGE VM \[{vid}\]"):
        bob.vm.action("release", vid)
    mine = bob.vm.allocate('CPU="1"\nMEMORY="8"', True)
    assert bob.vm.action("release", mine) == mine
