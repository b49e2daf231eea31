"""one_acl against the OpenNebula test endpoint."""

from __future__ import annotations

import pytest
from ansible_collections.eole.hapy.plugins.modules.one_acl import rule_string

from tests.modules import api
from tests.modules.lifecycle import check_bad_input


@pytest.fixture(autouse=True)
def site(run_module):
    """(group id, cluster id, vnet id): 100, 100, 0 on a fresh oned; higher on the session's shared real oned,
    which does not reuse the ids of objects earlier tests deleted."""
    group = run_module("one_group", name="etb_a")
    cluster = run_module("one_cluster", name="hapy-a")
    vnet = run_module("one_vnet", name="CR_pedago", vn_mad="bridge", bridge="br0")
    assert not (group.failed or cluster.failed or vnet.failed)
    return group["group"]["id"], cluster["cluster"]["id"], vnet["vnet"]["id"]


def acl_rules(oned):
    return {rule_string(*rule[1:]) for rule in api.acl_rules(oned)}


def test_create_idempotent_and_delete(run_module, oned, site):
    group, _cluster, _vnet = site
    rule = "@etb_a VM+NET+IMAGE+TEMPLATE/* CREATE"
    stored = f"@{group} VM+NET+IMAGE+TEMPLATE/* CREATE #0"
    predicted = run_module("one_acl", check=True, rule=rule)
    assert predicted["changed"] and predicted.writes == {}
    assert predicted["diff"]["after"]["rule"] == stored

    created = run_module("one_acl", rule=rule)
    assert created["changed"] and created.writes == {"one.acl.addrule": 1}
    assert created["acl"]["rule"] == stored
    assert created["acl"]["user"] == f"{0x200000000 | group:x}" and created["acl"]["rights"] == "8"
    assert stored in acl_rules(oned)

    for same in (rule, f"@{group} TEMPLATE+IMAGE+NET+VM/* create #0"):
        again = run_module("one_acl", rule=same)
        assert again["changed"] is False and again.writes == {}

    gone = run_module("one_acl", rule=stored, state="absent")
    assert gone["changed"] and gone.writes == {"one.acl.delrule": 1}
    assert gone["diff"]["before"]["rule"] == stored
    assert run_module("one_acl", rule=rule, state="absent").writes == {}


def test_hex_arguments(run_module, oned, site):
    group, cluster, vnet = site
    before = set(api.acl_rules(oned))
    created = run_module("one_acl", rule="#0 HOST+NET/%hapy-a USE+MANAGE *")
    assert created.get("changed"), created
    (new,) = set(api.acl_rules(oned)) - before
    assert new[1:] == (
        0x100000000, 0x2000000000 | 0x4000000000 | 0x800000000 | cluster, 0x3, 0x400000000)
    run_module("one_acl", rule="@etb_a NET/#CR_pedago USE")
    assert f"@{group} NET/#{vnet} USE #0" in acl_rules(oned)


def test_default_rule_is_found(run_module):
    result = run_module("one_acl", rule="* ZONE/* USE *")
    assert result["changed"] is False and result["acl"]["id"] == 1


@pytest.mark.parametrize(("rule", "expected"), [
    ("@100 VM USE", "is not an ACL rule"),
    ("@100 VMS/* USE", "unknown resource type(s) VMS"),
    ("@100 VM/* READ", "are not rights"),
    ("@100 VM/* USE zone0", "is not a zone"),
    ("%100 VM/* USE", "not valid for the user part"),
    ("@nope VM/* USE", "no group named 'nope'"),
    ("@100 VM+NET/#CR_pedago USE", "must be an id"),
    # oned's AclRule::malformed (real oned refused HOST+VM/%cluster; the stand-in accepted it)
    ("#0 HOST+VM/%hapy-a USE", "a cluster (%) target applies only to DATASTORE, HOST and NET, not VM"),
    ("@100 HOST/@100 USE", "a group (@) target does not apply to HOST, GROUP, CLUSTER, ZONE or VDC, not HOST"),
])
def test_bad_input(run_module, oned, rule, expected):
    message = check_bad_input(run_module, oned, "one_acl", {"rule": rule}, "rule")
    assert expected in message
