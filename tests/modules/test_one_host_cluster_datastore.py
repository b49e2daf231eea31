"""one_host, one_cluster, one_datastore: behaviour beyond the shared contract."""

from __future__ import annotations

from tests.modules.lifecycle import RSYNC_BACKUP_ATTRIBUTES


def test_host_drivers_cannot_change_in_place(run_module):
    run_module("one_host", name="node1")
    result = run_module("one_host", name="node1", vm_mad="qemu")
    assert result.failed
    assert "cannot change vm_mad" in result["msg"] and "state: absent" in result["msg"]
    assert result.writes == {}


def test_host_status_cycle(run_module):
    run_module("one_host", name="node1")
    for status in ("disabled", "offline", "enabled"):
        result = run_module("one_host", name="node1", status=status)
        assert result["changed"] and result["host"]["status"] == status
        assert result.writes == {"one.host.status": 1}


def test_host_created_disabled(run_module):
    result = run_module("one_host", name="node1", status="disabled")
    assert result["host"]["status"] == "disabled"
    assert not run_module("one_host", name="node1", status="disabled")["changed"]


def test_host_wait_until_monitored(run_module):
    result = run_module("one_host", name="node1", im_mad="dummy", vm_mad="dummy", wait=True, wait_timeout=30)
    assert result["host"]["state"] == "MONITORED"


def test_host_moves_cluster(run_module):
    run_module("one_cluster", name="a")
    run_module("one_cluster", name="b")
    run_module("one_host", name="node1", cluster="a")
    moved = run_module("one_host", name="node1", cluster="b")
    assert moved["changed"] and moved["host"]["cluster"] == "b"
    assert run_module("one_cluster", name="a", hosts=[])["cluster"]["hosts"] == []
    assert run_module("one_cluster", name="b", hosts=["node1"])["changed"] is False


def test_cluster_membership_exact_per_declared_list(run_module):
    run_module("one_host", name="node1")
    run_module("one_host", name="node2")
    run_module("one_vnet", name="net", vn_mad="bridge")
    created = run_module("one_cluster", name="site", hosts=["node1", "node2"], vnets=["net"])
    assert created["cluster"]["hosts"] == ["node1", "node2"]
    assert created["cluster"]["vnets"] == ["net"]
    shrunk = run_module("one_cluster", name="site", hosts=["node2"])
    assert shrunk.writes == {"one.cluster.delhost": 1}, "vnets not declared: left alone"
    assert shrunk["cluster"]["vnet_ids"] == created["cluster"]["vnet_ids"]


def test_cluster_members_by_id_are_equivalent(run_module):
    run_module("one_host", name="node1")
    created = run_module("one_cluster", name="site", hosts=["node1"])
    host_id = created["cluster"]["host_ids"][0]
    assert run_module("one_cluster", name="site", hosts=[str(host_id)]).writes == {}


def test_datastore_type_is_immutable(run_module):
    run_module("one_datastore", name="iso-images", type="image", ds_mad="fs", tm_mad="ssh")
    result = run_module("one_datastore", name="iso-images", type="system", tm_mad="ssh")
    assert result.failed and "cannot change type" in result["msg"]
    assert result.writes == {}


def test_system_datastore_has_no_ds_mad(run_module):
    result = run_module("one_datastore", name="system-default", type="system", ds_mad="fs", tm_mad="shared")
    assert result.failed and result["msg"].startswith("ds_mad:")
    assert result.calls == {}


def test_backup_datastore(run_module):
    result = run_module("one_datastore", name="sauvegardes", type="backup", ds_mad="rsync",
                        attributes=RSYNC_BACKUP_ATTRIBUTES)
    assert result["datastore"]["type"] == "backup"
    assert result["datastore"]["ds_mad"] == "rsync"
    assert result["datastore"]["template"] == RSYNC_BACKUP_ATTRIBUTES


def test_datastore_create_needs_drivers(run_module):
    missing_tm = run_module("one_datastore", name="images", type="image", ds_mad="fs")
    assert missing_tm.failed and missing_tm["msg"].startswith("tm_mad:")
    missing_type = run_module("one_datastore", name="images", ds_mad="fs", tm_mad="ssh")
    assert missing_type.failed and missing_type["msg"].startswith("type:")
    assert missing_type.writes == {}
