"""The batched form (``objects``): several objects of a kind in one module run, with the contract of one object
per object (check mode predicting exactly, diff, idempotence with zero writes, update, delete, bad input naming
the object before any write, a failing object in the middle), and one pool read per kind for all of them."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ONEADMIN

NETS = [{"name": f"CR_net{i}", "bridge": f"br-net{i}",
         "address_ranges": [{"type": "IP4", "ip": f"10.7.{i}.10", "size": 20}]} for i in range(3)]
SHARED = {"vn_mad": "bridge", "clusters": ["batch"]}


def pool_reads(result) -> dict[str, int]:
    return {m: n for m, n in result.calls.items() if m.endswith("pool.info")}


def by_name(result) -> dict[str, dict]:
    return {entry["name"]: entry for entry in result["objects"]}


def test_objects_check_create_idempotent_update_delete(run_module):
    run_module("one_cluster", name="batch")

    predicted = run_module("one_vnet", check=True, objects=NETS, **SHARED)
    assert not predicted.failed, predicted
    assert predicted["changed"] and predicted.writes == {}
    assert [e["changed"] for e in predicted["objects"]] == [True, True, True]
    assert [d["before_header"] for d in predicted["diff"]] == [f"virtual network CR_net{i}" for i in range(3)]

    created = run_module("one_vnet", objects=NETS, **SHARED)
    assert not created.failed, created
    assert created.writes == {"one.vn.allocate": 3}, "each network allocated in its cluster, nothing else"
    assert pool_reads(created) == {"one.vnpool.info": 1, "one.clusterpool.info": 1}, "one pool read per kind"
    assert [e["diff"] for e in created["objects"]] == [e["diff"] for e in predicted["objects"]], \
        "check mode predicted each object's diff exactly"
    for entry in created["objects"]:
        assert entry["vnet"]["clusters"] == ["batch"] and entry["api_calls"]["writes"] == 1
    assert created["api_calls"]["writes"] == 3

    again = run_module("one_vnet", objects=NETS, **SHARED)
    assert not again["changed"] and again.writes == {}
    assert pool_reads(again) == {"one.vnpool.info": 1, "one.clusterpool.info": 1}
    assert "diff" not in again

    cluster_id = created["objects"][0]["vnet"]["cluster_ids"][0]
    by_id = run_module("one_vnet", objects=NETS, vn_mad="bridge", clusters=[str(cluster_id)])
    assert not by_id["changed"] and by_id.writes == {}
    assert "one.clusterpool.info" not in by_id.calls, "clusters declared by id are compared without a lookup"

    changed = [NETS[0], {**NETS[1], "attributes": {"GATEWAY": "10.7.1.1"}}, NETS[2]]
    updated = run_module("one_vnet", objects=changed, **SHARED)
    assert [e["changed"] for e in updated["objects"]] == [False, True, False]
    assert updated.writes == {"one.vn.update": 1}
    assert updated["diff"] == [{"before": {"name": "CR_net1", "template": {"GATEWAY": None}},
                                "after": {"name": "CR_net1", "template": {"GATEWAY": "10.7.1.1"}},
                                "before_header": "virtual network CR_net1",
                                "after_header": "virtual network CR_net1"}]

    deleted = run_module("one_vnet", objects=[{"name": n["name"]} for n in NETS], state="absent")
    assert deleted["changed"] and deleted.writes == {"one.vn.delete": 3}
    gone = run_module("one_vnet", check=True, objects=[{"name": n["name"]} for n in NETS], state="absent")
    assert not gone["changed"]


def test_objects_bad_input_names_the_object_and_changes_nothing(run_module):
    run_module("one_cluster", name="batch")
    bad = [NETS[0], {**NETS[1], "vlan_id": "many"}, {**NETS[2], "vn_mad": "802.1Q"}]
    result = run_module("one_vnet", objects=bad, **SHARED)
    assert result.failed and result.calls == {}, "options checked before any call"
    assert "objects[1] (CR_net1): argument 'vlan_id'" in result["msg"]
    assert "objects[2] (CR_net2): phydev: required when vn_mad is 802.1Q" in result["msg"]

    missing = run_module("one_vnet", objects=[NETS[0], {**NETS[1], "clusters": ["nowhere"]}], **SHARED)
    assert missing.failed and missing.writes == {}, "what the objects name is resolved before any write"
    assert "objects[1] (CR_net1): clusters: no cluster named 'nowhere'" in missing["msg"]

    twice = run_module("one_vnet", objects=[NETS[0], NETS[0]], **SHARED)
    assert twice.failed and twice.calls == {} and "declared twice" in twice["msg"]

    both = run_module("one_vnet", name="CR_x", objects=NETS, **SHARED)
    assert both.failed and both.calls == {} and "mutually exclusive" in both["msg"]


def test_objects_a_failing_object_is_named_and_the_others_converge(run_module):
    run_module("one_cluster", name="batch")
    # the middle one passes the input checks but cannot be created (no driver): it fails when its turn comes
    declared = [{**NETS[0], "vn_mad": "bridge"}, {"name": "CR_nodriver", "bridge": "br-x"},
                {**NETS[2], "vn_mad": "bridge"}]
    result = run_module("one_vnet", objects=declared, clusters=["batch"])
    assert result.failed
    assert result["msg"].startswith("1 of 3 virtual networks failed: virtual network 'CR_nodriver': vn_mad")
    entries = by_name(result)
    assert entries["CR_nodriver"]["failed"] and not entries["CR_nodriver"]["changed"]
    assert entries["CR_net0"]["changed"] and entries["CR_net2"]["changed"], "the objects after it still converge"
    assert result["changed"] and result.writes == {"one.vn.allocate": 2}
    # the earlier and later objects are in place: a re-run of them changes nothing
    again = run_module("one_vnet", objects=[declared[0], declared[2]], clusters=["batch"])
    assert not again["changed"] and again.writes == {}


def test_objects_of_another_kind_share_options_and_return_facts(run_module):
    """Datastores (the site's three in one run): shared drivers and cluster, one datastore pool read."""
    run_module("one_cluster", name="batch")
    declared = [{"name": "system-batch", "type": "system"},
                {"name": "images-batch", "type": "image", "ds_mad": "fs"},
                {"name": "iso-batch", "type": "image", "ds_mad": "fs", "tm_mad": "ssh"}]
    created = run_module("one_datastore", objects=declared, tm_mad="dummy", clusters=["batch"])
    assert not created.failed, created
    facts = {e["name"]: e["datastore"] for e in created["objects"]}
    assert facts["system-batch"]["type"] == "system" and facts["system-batch"]["tm_mad"] == "dummy"
    assert facts["iso-batch"]["tm_mad"] == "ssh", "an entry's own option wins over the shared one"
    again = run_module("one_datastore", objects=declared, tm_mad="dummy", clusters=["batch"])
    assert not again["changed"] and again.writes == {}
    assert pool_reads(again) == {"one.datastorepool.info": 1, "one.clusterpool.info": 1}
    run_module("one_datastore", objects=[{"name": d["name"]} for d in declared], state="absent")


@pytest.mark.standin_only("reads the engine's pool cache itself, endpoint-independent")
def test_the_pool_cache_follows_the_writes_of_the_run(oned, monkeypatch):
    """An object created earlier in a run is found by later lookups, a deleted one is gone, without a new pool read."""
    from ansible.module_utils import basic
    from ansible_collections.eole.hapy.plugins.module_utils.one_client import Credentials, OneClient
    from ansible_collections.eole.hapy.plugins.modules.one_vnet import VnetModule

    declared = [{**NETS[0], "vn_mad": "bridge"}]
    args = {"objects": declared, "api_url": oned.url, "api_username": "oneadmin", "api_password": ONEADMIN[1],
            "_ansible_check_mode": False}
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode())
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy")
    module = VnetModule()
    module.client = OneClient(Credentials.resolve(module.module.params))
    module.select(module.object_params(declared[0]))
    assert module.lookup("CR_net0") is None
    created = module.converge_object("CR_net0")
    found = module.lookup("CR_net0")
    assert found is not None and int(found.ID) == created["vnet"]["id"]
    assert module.id_of("vn", "CR_net0", "nics") == created["vnet"]["id"]
    module.select({**module.params, "state": "absent"})
    assert module.converge_object("CR_net0")["changed"]
    assert module.lookup("CR_net0") is None
    assert module.client.calls["vnpool.info"] == 1, "one pool read for the whole run"


@pytest.mark.standin_only("no_log masking is Ansible's, endpoint-independent")
def test_objects_keep_secrets_out_of_the_result(run_module):
    secret = "s3cret-Zephir-pw"
    result = run_module("one_vm", objects=[{"name": "amon", "template": "missing",
                                            "secret_context": {"ZEPHIR_PASSWORD": secret}}])
    assert result.failed and "virtual machine 'amon': template: no VM template named 'missing'" in result["msg"]
    shown = json.dumps(result["invocation"], default=str)
    assert secret not in json.dumps(result, default=str), "an entry's no_log option is masked like the module's own"
    assert '"ZEPHIR_PASSWORD": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"' in shown
