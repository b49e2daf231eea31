"""one_secgroup against the OpenNebula test endpoint."""

from __future__ import annotations

import pytest

from tests.modules import api
from tests.modules.lifecycle import check_bad_input, check_lifecycle

RULES = [
    {"protocol": "TCP", "rule_type": "inbound", "range": "22,4200", "network": "CR_admin"},
    {"protocol": "ICMP", "rule_type": "inbound", "icmp_type": 8},
    {"protocol": "all", "rule_type": "outbound"},
]


@pytest.fixture(autouse=True)
def network(run_module):
    result = run_module("one_vnet", name="CR_admin", vn_mad="bridge", bridge="br-admin")
    assert not result.failed
    return result["vnet"]["id"]  # not always 0: real oned does not reuse the ids of deleted objects


def test_lifecycle(run_module, network):
    facts = check_lifecycle(
        run_module, "one_secgroup", "secgroup",
        {"name": "hapy-admin", "description": "SSH and EAD", "rules": RULES},
        {"rules": RULES[:2] + [{"protocol": "TCP", "rule_type": "inbound", "range": "80,443", "ip": "10.20.0.0",
                                "size": 256}]},
        "rules", {"one.secgroup.update"})
    assert {"PROTOCOL": "TCP", "RULE_TYPE": "INBOUND", "RANGE": "22,4200", "NETWORK_ID": str(network)} in facts["rules"]
    assert len(facts["rules"]) == 3 and facts["template"] == {"DESCRIPTION": "SSH and EAD"}


def test_rule_order_does_not_matter_and_other_attributes_are_kept(run_module, oned):
    run_module("one_secgroup", name="sg", rules=RULES, attributes={"SITE": "9740001A"})
    same = run_module("one_secgroup", name="sg", rules=list(reversed(RULES)))
    assert same["changed"] is False and same.writes == {}
    emptied = run_module("one_secgroup", name="sg", rules=[])
    assert emptied["changed"] and emptied["secgroup"]["rules"] == []
    assert emptied["diff"]["after"]["rules"] == [] and len(emptied["diff"]["before"]["rules"]) == 3
    stored = api.xml(oned, "one.secgroup.info", emptied["secgroup"]["id"])
    assert stored.findtext("TEMPLATE/SITE") == "9740001A"
    desc = run_module("one_secgroup", name="sg", description="admin")
    assert desc["changes"] == ["template"] and desc["secgroup"]["rules"] == []


@pytest.mark.parametrize(("rule", "field"), [
    ({"protocol": "SCTP", "rule_type": "inbound"}, "rules[0].protocol"),
    ({"protocol": "TCP", "rule_type": "in"}, "rules[0].rule_type"),
    ({"protocol": "TCP", "rule_type": "inbound", "range": "22-80"}, "rules[0].range"),
    ({"protocol": "ICMP", "rule_type": "inbound", "range": "22"}, "rules[0].range"),
    ({"protocol": "TCP", "rule_type": "inbound", "ip": "10.0.0.300", "size": 2}, "rules[0].ip"),
    ({"protocol": "TCP", "rule_type": "inbound", "ip": "10.0.0.0"}, "rules[0].size"),
    ({"protocol": "TCP", "rule_type": "inbound", "network": "nope"}, "rules[0].network"),
])
def test_bad_input(run_module, oned, rule, field):
    check_bad_input(run_module, oned, "one_secgroup", {"name": "sg", "rules": [rule]}, field)
