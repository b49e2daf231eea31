"""one_vdc against the OpenNebula test endpoint."""

from __future__ import annotations

import pytest

from tests.modules import api
from tests.modules.lifecycle import check_bad_input, check_lifecycle


@pytest.fixture(autouse=True)
def site(run_module):
    for module, args in (("one_group", {"name": "etb_a"}), ("one_group", {"name": "etb_b"}),
                         ("one_cluster", {"name": "hapy-a"}),
                         ("one_vnet", {"name": "CR_pedago", "vn_mad": "bridge", "bridge": "br0"})):
        assert not run_module(module, **args).failed


def test_lifecycle(run_module, oned):
    facts = check_lifecycle(run_module, "one_vdc", "vdc",
                            {"name": "vdc-a", "groups": ["etb_a"], "clusters": ["hapy-a"],
                             "attributes": {"DESCRIPTION": "Lycée A"}},
                            {"clusters": ["hapy-a", "default"]}, "clusters", {"one.vdc.addcluster"})
    assert (facts["groups"], facts["clusters"], facts["vnets"]) == (["etb_a"], ["hapy-a"], [])
    assert facts["template"] == {"DESCRIPTION": "Lycée A"}


def test_memberships_are_exact(run_module, oned):
    run_module("one_vdc", name="vdc-a", groups=["etb_a"], clusters=["hapy-a"])
    result = run_module("one_vdc", name="vdc-a", groups=["etb_b"], clusters=[], vnets=["CR_pedago"],
                        datastores=["ALL"], hosts=[])
    assert result["changes"] == ["clusters", "datastores", "groups", "vnets"]
    assert result.writes == {"one.vdc.addgroup": 1, "one.vdc.delgroup": 1, "one.vdc.delcluster": 1,
                             "one.vdc.addvnet": 1, "one.vdc.adddatastore": 1}
    vdc = result["vdc"]
    assert (vdc["groups"], vdc["clusters"], vdc["vnets"], vdc["datastores"]) == (["etb_b"], [], ["CR_pedago"],
                                                                                 ["ALL"])
    stored = api.xml(oned, "one.vdc.info", vdc["id"])
    assert [(d.findtext("ZONE_ID"), d.findtext("DATASTORE_ID")) for d in stored.findall("DATASTORES/DATASTORE")] == [
        ("0", "-10")]
    assert result["diff"]["before"]["groups"] == ["etb_a"] and result["diff"]["after"]["groups"] == ["etb_b"]
    again = run_module("one_vdc", name="vdc-a", groups=["etb_b"], clusters=[], vnets=["CR_pedago"],
                       datastores=["ALL"], hosts=[])
    assert again["changed"] is False and again.writes == {}
    # omitted lists are left alone
    assert run_module("one_vdc", name="vdc-a")["vdc"]["vnets"] == ["CR_pedago"]


def test_default_vdc_reads(run_module):
    result = run_module("one_vdc", name="default", clusters=["ALL"])
    assert result["changed"] is False and result["vdc"]["clusters"] == ["ALL"]


@pytest.mark.parametrize(("args", "field"), [
    ({"groups": ["nope"]}, "groups"),
    ({"clusters": ["nope"]}, "clusters"),
    ({"vnets": ["nope"]}, "vnets"),
    ({"hosts": ["nope"]}, "hosts"),
    ({"attributes": {"bad key": 1}}, "attributes"),
])
def test_bad_input(run_module, oned, args, field):
    check_bad_input(run_module, oned, "one_vdc", {"name": "vdc-a", **args}, field)
