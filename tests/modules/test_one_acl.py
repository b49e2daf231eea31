"""one_acl against the OpenNebula test endpoint."""

from __future__ import annotations

import pytest
from ansible_collections.eole.hapy.plugins.modules.one_acl import rule_string

from tests.modules.lifecycle import check_bad_input


@pytest.fixture(autouse=True)
def site(run_module):
    assert not run_module("one_group", name="etb_a").failed  # id 100
    assert not run_module("one_cluster", name="hapy-a").failed  # id 100
    assert not run_module("one_vnet", name="CR_pedago", vn_mad="bridge", bridge="br0").failed  # id 0


def acl_rules(oned):
    return {rule_string(r["USER"], r["RESOURCE"], r["RIGHTS"], r["ZONE"]) for r in oned.store.objs("acl").values()}


def test_create_idempotent_and_delete(run_module, oned):
    rule = "@etb_a VM+NET+IMAGE+TEMPLATE/* CREATE"
    predicted = run_module("one_acl", check=True, rule=rule)
    assert predicted["changed"] and predicted.writes == {}
    assert predicted["diff"]["after"]["rule"] == "@100 VM+NET+IMAGE+TEMPLATE/* CREATE #0"

    created = run_module("one_acl", rule=rule)
    assert created["changed"] and created.writes == {"one.acl.addrule": 1}
    assert created["acl"]["rule"] == "@100 VM+NET+IMAGE+TEMPLATE/* CREATE #0"
    assert created["acl"]["user"] == "200000064" and created["acl"]["rights"] == "8"
    assert "@100 VM+NET+IMAGE+TEMPLATE/* CREATE #0" in acl_rules(oned)

    for same in (rule, "@100 TEMPLATE+IMAGE+NET+VM/* create #0"):
        again = run_module("one_acl", rule=same)
        assert again["changed"] is False and again.writes == {}

    gone = run_module("one_acl", rule="@100 VM+NET+IMAGE+TEMPLATE/* CREATE #0", state="absent")
    assert gone["changed"] and gone.writes == {"one.acl.delrule": 1}
    assert gone["diff"]["before"]["rule"] == "@100 VM+NET+IMAGE+TEMPLATE/* CREATE #0"
    assert run_module("one_acl", rule=rule, state="absent").writes == {}


def test_hex_arguments(run_module, oned):
    run_module("one_acl", rule="#0 HOST+VM/%hapy-a USE+MANAGE *")
    new = max(oned.store.objs("acl").values(), key=lambda r: r["ID"])
    assert (new["USER"], new["RESOURCE"], new["RIGHTS"], new["ZONE"]) == (
        0x100000000, 0x2000000000 | 0x1000000000 | 0x800000000 | 100, 0x3, 0x400000000)
    run_module("one_acl", rule="@etb_a NET/#CR_pedago USE")
    assert "@100 NET/#0 USE #0" in acl_rules(oned)


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
])
def test_bad_input(run_module, oned, rule, expected):
    message = check_bad_input(run_module, oned, "one_acl", {"rule": rule}, "rule")
    assert expected in message
