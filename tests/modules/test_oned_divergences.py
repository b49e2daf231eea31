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


def instantiate_with_context(oned, values: list[str]):
    """A template whose CONTEXT holds ``values`` (one key each), instantiated on hold: oned's answer."""
    context = ",".join(f'V{n}="{v.replace(chr(34), chr(92) + chr(34))}"' for n, v in enumerate(values))
    template = raw(oned, "one.template.allocate", f'NAME="ctx-grammar"\nMEMORY="64"\nCPU="0.1"\nCONTEXT=[{context}]\n')
    assert template[0] is True, template
    return raw(oned, "one.template.instantiate", template[1], "ctx-grammar-vm", True, "", False)


# src/parsers/vm_var_parser.l + vm_var_syntax.y: a VM's CONTEXT values are parsed for $VARIABLES when the VM is
# created. The stand-in once took any '$' text, so a raw crypt hash in a guest's context passed it; real oned
# refuses the instantiation (found by the quick start on real oned).
@pytest.mark.parametrize("value", [
    "$6$rounds=100000$salt$hash",  # a raw SHA-512 crypt hash: "unexpected EQUAL, expecting OBRACKET or EOA"
    "$USER[",
])
def test_vm_context_value_breaking_oneds_variable_grammar_is_refused(oned, value):
    answer = instantiate_with_context(oned, [value])
    assert answer[0] is False and "syntax error" in answer[1], answer


def test_vm_context_values_in_oneds_variable_grammar_are_accepted(oned):
    """One VM for all (a VM left on the shared real oned costs its clean-up a restart)."""
    answer = instantiate_with_context(oned, ["$6$salt$hash", "$USER[SSH_PUBLIC_KEY]", '$NIC[IP, NETWORK="CR_pedago"]',
                                             "plain text, no variable"])
    assert answer[0] is True, answer
