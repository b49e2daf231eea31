"""The contract every foundation module keeps, checked against the OpenNebula test endpoint.

For each module: create, idempotent re-run without any write call, check mode predicting the first run with no
write, diff of a one-attribute update that writes only that attribute, delete, and bad input failing with a
message naming the field while nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest


@dataclass
class Case:
    module: str
    fact: str
    args: dict[str, Any]
    update: dict[str, Any]  # one changed attribute
    updated_key: str  # the view key the update changes
    bad: dict[str, Any]  # bad input
    bad_field: str  # the field the error must name
    setup: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    emptied: dict[str, Any] = field(default_factory=dict)  # what to declare before a delete OpenNebula would refuse


CASES = [
    Case(
        module="one_vnet",
        fact="vnet",
        args={"name": "CR_pedago", "vn_mad": "802.1Q", "phydev": "eth0", "vlan_id": 20, "bridge": "br-pedago",
              "attributes": {"GATEWAY": "10.20.0.1", "DNS": "10.20.0.1"},
              "address_ranges": [{"type": "IP4", "ip": "10.20.0.10", "size": 100}], "clusters": ["hapy-test"]},
        update={"attributes": {"GATEWAY": "10.20.0.254", "DNS": "10.20.0.1"}},
        updated_key="template",
        bad={"vlan_id": 5000},
        bad_field="vlan_id",
        setup=[("one_cluster", {"name": "hapy-test"})],
    ),
    Case(
        module="one_cluster",
        fact="cluster",
        args={"name": "hapy-test", "attributes": {"DESCRIPTION": "Lycée test", "RESERVED_CPU": 10},
              "datastores": ["default", "system"]},
        update={"attributes": {"DESCRIPTION": "Lycée renamed", "RESERVED_CPU": 10}},
        updated_key="template",
        bad={"datastores": ["no-such-datastore"]},
        bad_field="datastores",
        emptied={"datastores": []},
    ),
    Case(
        module="one_host",
        fact="host",
        args={"name": "node1", "cluster": "hapy-test", "attributes": {"RESERVED_MEM": 1048576}},
        update={"status": "disabled"},
        updated_key="status",
        bad={"cluster": "no-such-cluster"},
        bad_field="cluster",
        setup=[("one_cluster", {"name": "hapy-test"})],
    ),
    Case(
        module="one_datastore",
        fact="datastore",
        args={"name": "images-disques", "type": "image", "ds_mad": "fs", "tm_mad": "shared",
              "attributes": {"SAFE_DIRS": "/var/tmp"}, "clusters": ["hapy-test"]},
        update={"tm_mad": "ssh"},
        updated_key="tm_mad",
        bad={"attributes": {"TM_MAD": "ssh"}},
        bad_field="attributes",
        setup=[("one_cluster", {"name": "hapy-test"})],
    ),
]

ids = [case.module for case in CASES]


def _setup(run_module, case: Case) -> None:
    for module, args in case.setup:
        assert not run_module(module, **args).failed


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_create_then_idempotent(run_module, case):
    _setup(run_module, case)
    first = run_module(case.module, **case.args)
    assert first["changed"] is True, first
    assert first[case.fact]["id"] >= 0
    assert first[case.fact]["name"] == case.args["name"]
    assert first.writes, "creation must write"

    second = run_module(case.module, **case.args)
    assert second["changed"] is False, second
    assert second.writes == {}, f"no-change run wrote: {second.writes}"
    assert second[case.fact]["id"] == first[case.fact]["id"]
    assert second["api_calls"]["writes"] == 0


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_check_mode_predicts_and_writes_nothing(run_module, case):
    _setup(run_module, case)
    predicted = run_module(case.module, check=True, **case.args)
    assert predicted["changed"] is True
    assert predicted.writes == {}
    assert predicted["diff"]["before"] == {}
    assert predicted["diff"]["after"]["name"] == case.args["name"]
    real = run_module(case.module, **case.args)
    assert real["changed"] is predicted["changed"]
    assert real["diff"] == predicted["diff"]
    again = run_module(case.module, check=True, **case.args)
    assert again["changed"] is False and again.writes == {}, again.get("diff")


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_update_one_attribute_shows_diff(run_module, case):
    _setup(run_module, case)
    run_module(case.module, **case.args)
    changed_args = {**case.args, **case.update}

    predicted = run_module(case.module, check=True, **changed_args)
    assert predicted["changed"] is True and predicted.writes == {}
    assert predicted["changes"] == [case.updated_key]

    updated = run_module(case.module, **changed_args)
    assert updated["changed"] is True
    assert updated["changes"] == [case.updated_key]
    assert set(updated["diff"]["before"]) == {"name", case.updated_key}
    assert updated["diff"]["before"][case.updated_key] != updated["diff"]["after"][case.updated_key]
    assert sum(updated.writes.values()) == 1, updated.writes

    assert run_module(case.module, **changed_args)["changed"] is False


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_delete(run_module, case):
    _setup(run_module, case)
    created = run_module(case.module, **case.args)
    name = case.args["name"]
    if case.emptied:
        assert run_module(case.module, **{**case.args, **case.emptied})["changed"] is True
    predicted = run_module(case.module, check=True, name=name, state="absent")
    assert predicted["changed"] is True and predicted.writes == {}
    deleted = run_module(case.module, name=name, state="absent")
    assert deleted["changed"] is True
    assert deleted["diff"]["before"]["id"] == created[case.fact]["id"]
    assert list(deleted.writes) == [f"one.{_api(case.module)}.delete"]
    gone = run_module(case.module, name=name, state="absent")
    assert gone["changed"] is False and gone.writes == {}


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_bad_input_names_field_and_changes_nothing(run_module, case):
    _setup(run_module, case)
    result = run_module(case.module, **{**case.args, **case.bad})
    assert result.failed, result
    assert result["msg"].startswith(case.bad_field), result["msg"]
    assert result.writes == {}


def test_bad_credentials_are_a_clear_failure(run_module, monkeypatch):
    monkeypatch.setenv("ONE_PASSWORD", "wrong")
    result = run_module("one_cluster", name="x")
    assert result.failed
    assert "refused the credentials" in result["msg"]
    assert result["error_kind"] == "authentication"


def test_password_never_in_result(run_module, oned):
    result = run_module("one_cluster", name="x", api_url=oned.url, api_username="oneadmin", api_password="opennebula")
    assert not result.failed
    assert "opennebula" not in repr({k: v for k, v in result.items() if k != "invocation"})
    assert result["invocation"]["module_args"]["api_password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_cluster_with_members_is_not_deleted(run_module):
    run_module("one_cluster", name="busy", datastores=["default"])
    result = run_module("one_cluster", name="busy", state="absent")
    assert result.failed
    assert "cluster.delete" in result["msg"]


def _api(module: str) -> str:
    return {"one_vnet": "vn"}.get(module, module.removeprefix("one_"))
