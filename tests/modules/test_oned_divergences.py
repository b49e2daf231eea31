"""Behaviour where the stand-in once differed from real oned, checked on every endpoint (real oned is right)."""

from __future__ import annotations

import xmlrpc.client

import pytest

SESSION = "oneadmin:opennebula"


def raw(oned, method: str, *args):
    return getattr(xmlrpc.client.ServerProxy(oned.url), method)(SESSION, *args)


@pytest.mark.parametrize("method, args", [
    ("one.templatepool.info", (-2, -1, -1, -1)),      # community.general one_vm's call
    ("one.vmpool.info", (-2, -1, -1, -1, "")),        # 5th argument: a filter string
    ("one.vnpool.info", (-2, -1, -1, 0)),
])
def test_pool_methods_ignore_trailing_arguments(oned, method, args):
    answer = raw(oned, method, *args)
    assert answer[0] is True, answer


def test_vnet_creation_and_deletion_pass_through_lock_states_then_settle(oned):
    """oned 6.10/7.0 create and delete vnets through the network driver: the module must wait (one_vnet does)."""
    template = 'NAME="div-net"\nVN_MAD="bridge"\nBRIDGE="br-div"\nAR=[TYPE="IP4",IP="10.9.0.10",SIZE="5"]\n'
    answer = raw(oned, "one.vn.allocate", template, -1)
    assert answer[0] is True, answer
    oned.settle()
    info = raw(oned, "one.vn.info", answer[1], False)[1]
    assert "<STATE><![CDATA[1]]></STATE>" in info or "<STATE>1</STATE>" in info, info[:400]
    assert "<AR_ID>" in info, "once READY the address range is in AR_POOL"


@pytest.mark.parametrize("resource", [
    0x2000000000 | 0x1000000000 | 0x800000000 | 100,  # HOST+VM/%100: a cluster target for VMs
    0x2000000000 | 0x200000000 | 100,                 # HOST/@100: a group target for hosts
])
def test_acl_rule_with_a_target_oned_calls_malformed_is_refused(oned, resource):
    """AclRule::malformed: the stand-in once stored these rules; real oned answers "Rule ... is malformed"."""
    answer = raw(oned, "one.acl.addrule", "100000000", f"{resource:x}", "1", "100000000")
    assert answer[0] is False, answer
    assert "malformed" in answer[1], answer
