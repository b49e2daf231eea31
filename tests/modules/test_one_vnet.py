"""one_vnet: address ranges and clusters converge to the declaration; driver input checks."""

from __future__ import annotations

from tests.modules.api import xml

BASE = {"name": "CR_admin", "vn_mad": "bridge", "bridge": "br-admin"}


def ars(result):
    return [(ar["TYPE"], ar.get("IP"), ar["SIZE"]) for ar in result["vnet"]["address_ranges"]]


def test_address_ranges_added_updated_removed(run_module):
    run_module("one_vnet", **BASE, address_ranges=[{"type": "IP4", "ip": "10.1.0.10", "size": 50},
                                                  {"type": "IP4", "ip": "10.1.0.100", "size": 10}])
    created = run_module("one_vnet", **BASE)
    first_ids = [ar["AR_ID"] for ar in created["vnet"]["address_ranges"]]

    # grow the first range, drop the second, add a third
    desired = [{"type": "IP4", "ip": "10.1.0.10", "size": 60}, {"type": "IP4", "ip": "10.1.0.200", "size": 5}]
    result = run_module("one_vnet", **BASE, address_ranges=desired)
    assert result["changed"] and result["changes"] == ["address_ranges"]
    assert result.writes == {"one.vn.rm_ar": 1, "one.vn.update_ar": 1, "one.vn.add_ar": 1}
    assert sorted(ars(result)) == [("IP4", "10.1.0.10", "60"), ("IP4", "10.1.0.200", "5")]
    kept = next(ar for ar in result["vnet"]["address_ranges"] if ar["IP"] == "10.1.0.10")
    assert kept["AR_ID"] == first_ids[0], "an updated range keeps its id (and its leases)"
    assert run_module("one_vnet", **BASE, address_ranges=desired).writes == {}


def test_empty_list_removes_every_range_and_omitted_leaves_them(run_module):
    run_module("one_vnet", **BASE, address_ranges=[{"type": "ETHER", "size": 16}])
    untouched = run_module("one_vnet", **BASE)
    assert not untouched["changed"] and len(untouched["vnet"]["address_ranges"]) == 1
    emptied = run_module("one_vnet", **BASE, address_ranges=[])
    assert emptied["changed"] and emptied["vnet"]["address_ranges"] == []


def test_ether_range_without_start_matches_existing(run_module):
    run_module("one_vnet", **BASE, address_ranges=[{"type": "ETHER", "size": 16}])
    again = run_module("one_vnet", **BASE, address_ranges=[{"type": "ETHER", "size": 16}])
    assert not again["changed"] and again.writes == {}


def test_clusters_membership_is_exact(run_module):
    for name in ("c1", "c2"):
        run_module("one_cluster", name=name)
    created = run_module("one_vnet", **BASE, clusters=["c1", "c2"])
    assert created["vnet"]["clusters"] == ["c1", "c2"]
    moved = run_module("one_vnet", **BASE, clusters=["c2"])
    assert moved["changed"] and moved["vnet"]["clusters"] == ["c2"]
    assert moved.writes == {"one.cluster.delvnet": 1}
    cluster = run_module("one_cluster", name="c1", vnets=[])
    assert cluster["cluster"]["vnets"] == []


def test_8021q_needs_phydev(run_module):
    result = run_module("one_vnet", name="CR_x", vn_mad="802.1Q", vlan_id=30)
    assert result.failed and result["msg"].startswith("phydev:")
    assert result.calls == {}


def test_bad_address_range_names_item(run_module):
    result = run_module("one_vnet", **BASE, address_ranges=[{"type": "IP4", "ip": "10.1.0.10", "size": 5},
                                                           {"type": "IP4", "ip": "10.1.0.300", "size": 5}])
    assert result.failed and result["msg"].startswith("address_ranges[1].ip:")
    bad_type = run_module("one_vnet", **BASE, address_ranges=[{"type": "IPX", "size": 5}])
    assert bad_type["msg"].startswith("address_ranges[0].type:") and "IP4" in bad_type["msg"]


def test_create_needs_driver(run_module):
    result = run_module("one_vnet", name="CR_nodriver", bridge="br0")
    assert result.failed and result["msg"].startswith("vn_mad:")
    assert result.writes == {}


def test_template_merge_keeps_undeclared_attributes(run_module):
    run_module("one_vnet", **BASE, attributes={"DESCRIPTION": "admin", "DNS": "10.1.0.1"})
    result = run_module("one_vnet", **BASE, attributes={"DNS": "10.1.0.2"})
    assert result["changed"]
    assert result["diff"] == {"before": {"name": "CR_admin", "template": {"DNS": "10.1.0.1"}},
                              "after": {"name": "CR_admin", "template": {"DNS": "10.1.0.2"}}}
    state = run_module("one_vnet", **BASE, attributes={"DESCRIPTION": "admin", "DNS": "10.1.0.2"})
    assert not state["changed"], "DESCRIPTION survived the merge"


def test_ovswitch_network_on_the_hapy_switch(run_module, oned):
    """Hâpy's networks on Open vSwitch, as cloud_site declares them: VN_MAD ovswitch on the switch vswitch, the
    network's VLAN, VLANs trunked to its VMs (VLAN_TAGGED_ID), no PHYDEV (the networks role owns the switch's
    uplinks). oned keeps them as declared, an Open vSwitch bridge type; a re-run writes nothing."""
    decl = {"name": "CR_dmz", "vn_mad": "ovswitch", "bridge": "vswitch", "vlan_id": 40,
            "attributes": {"VLAN_TAGGED_ID": "110,120"},
            "address_ranges": [{"type": "IP4", "ip": "10.1.3.1", "size": 10}]}
    created = run_module("one_vnet", **decl)
    assert created["changed"] and not created.failed
    template = created["vnet"]["template"]
    assert {k: template.get(k) for k in ("VN_MAD", "BRIDGE", "VLAN_ID", "VLAN_TAGGED_ID")} == \
        {"VN_MAD": "ovswitch", "BRIDGE": "vswitch", "VLAN_ID": "40", "VLAN_TAGGED_ID": "110,120"}
    vnet = xml(oned, "one.vn.info", created["vnet"]["id"])
    assert [vnet.findtext(field) for field in ("PHYDEV", "BRIDGE_TYPE", "VLAN_ID")] == ["", "openvswitch", "40"]
    assert run_module("one_vnet", **decl).writes == {}
    retagged = run_module("one_vnet", **{**decl, "vlan_id": 41, "attributes": {"VLAN_TAGGED_ID": "110-112"}})
    assert retagged["changed"] and retagged.writes == {"one.vn.update": 1}
    assert xml(oned, "one.vn.info", created["vnet"]["id"]).findtext("VLAN_ID") == "41"
