"""Shared steps of the module tests: the declarative life cycle every one_* module keeps, and a small site.

``check_lifecycle`` runs, for one module: check mode predicting the creation (no write), creation, idempotent
re-run (no write at all), check mode predicting a one-attribute update (no write), the update (only the expected
write methods), diff content naming the changed key, deletion and idempotent deletion.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from ansible_collections.eole.hapy.plugins.module_utils.one_module import OneObjectModule

# An rsync backup datastore's driver attributes. The host is loopback: oned's rsync monitor runs
# `ssh RSYNC_HOST df` with no time-out (OpenNebula's scripts put /usr/bin first on PATH, so no wrapper helps), and
# this machine accepts TCP to any other address without ever answering (measured on 10.1.0.2:22): each monitor
# cycle then stuck a driver thread, and on 6.10.5 a later image registration in the same oned failed with
# "Cannot parse image SIZE: Request timeout". On loopback ssh is refused at once and the monitor just fails.
RSYNC_BACKUP_ATTRIBUTES = {"RSYNC_HOST": "127.0.0.1", "RSYNC_USER": "oneadmin"}


@pytest.fixture
def fast_endpoint(oned: Any, monkeypatch: Any) -> Any:
    """Polling every 0.05 s (and, on the stand-in, drivers 6 times faster than the dummy ones): waits cost little."""
    if hasattr(oned, "store"):
        oned.store.step = 0.05
    monkeypatch.setattr(OneObjectModule, "poll_interval", 0.05)
    return oned


def quiesce(oned: Any) -> None:
    """Let the endpoint apply its pending driver transitions (image copies, VM boots), so its state is stable."""
    oned.settle()


def snapshot(oned: Any) -> str:
    """The endpoint's whole state, to assert that a failing task changed nothing."""
    if not hasattr(oned, "store"):
        return oned.snapshot()  # a real oned: every pool read back, volatile monitoring fields left out
    pools = {k: {**v, "objs": {i: {f: x for f, x in o.items() if f != "_SCHED"} for i, o in v["objs"].items()}}
             for k, v in oned.store.pools.items()}
    return json.dumps(pools, sort_keys=True, default=str)


def check_lifecycle(run_module: Any, module: str, fact: str, args: dict[str, Any], update: dict[str, Any],
                    updated_key: str, update_writes: set[str]) -> dict[str, Any]:
    """Run the life cycle of one object; return the facts after creation."""
    predicted = run_module(module, check=True, **args)
    assert predicted["changed"] and not predicted.failed, predicted
    assert predicted.writes == {}
    assert predicted["diff"]["before"] == {}

    created = run_module(module, **args)
    assert created["changed"] and not created.failed, created
    assert created.writes, created.calls
    facts = created[fact]
    assert facts["name"] == args.get("name", facts["name"])

    again = run_module(module, **args)
    assert not again.failed, again
    assert again["changed"] is False, again.get("diff")
    assert again.writes == {}

    changed_args = {**args, **update}
    predicted = run_module(module, check=True, **changed_args)
    assert predicted["changed"] and predicted["changes"] == [updated_key], predicted
    assert predicted.writes == {}
    assert updated_key in predicted["diff"]["after"] and updated_key in predicted["diff"]["before"]

    updated = run_module(module, **changed_args)
    assert updated["changed"] and updated["changes"] == [updated_key], updated
    assert set(updated.writes) == update_writes, updated.writes
    assert run_module(module, **changed_args)["changed"] is False

    gone = run_module(module, name=facts["name"], state="absent") if "name" in args else None
    if gone is not None:
        assert gone["changed"] and gone[fact] == {}, gone
        assert gone["diff"]["before"]["id"] == facts["id"]
        again = run_module(module, name=facts["name"], state="absent")
        assert again["changed"] is False and again.writes == {}
    return facts


def check_bad_input(run_module: Any, oned: Any, module: str, args: dict[str, Any], field: str) -> str:
    """The task fails with a message naming ``field``, and the endpoint is unchanged (no write)."""
    quiesce(oned)
    before = snapshot(oned)
    result = run_module(module, **args)
    assert result.failed, result
    assert field in result["msg"], result["msg"]
    assert result.writes == {}
    assert snapshot(oned) == before
    return result["msg"]


def make_site(run_module: Any, oned: Any, host: bool = False) -> None:
    """What guests need: a bridged network with addresses and a data block image; with ``host``, a place where
    VMs really run on any endpoint: a cluster of its own holding a dummy-driver host, a system and an image
    datastore with the dummy transfer driver (the bootstrap datastores' ssh driver fails the prolog on a dummy
    host of a real oned: PROLOG_FAILURE), the network and the image."""
    clusters = {}
    datastore = {}
    if host:
        clusters = {"clusters": ["vm-tests"]}
        datastore = {"datastore": "images-dummy"}
        for module, args in (("one_cluster", {"name": "vm-tests"}),
                             ("one_datastore", {"name": "system-dummy", "type": "system", "tm_mad": "dummy",
                                                **clusters}),
                             # a new datastore has FREE_MB 0 until its first monitoring (~15 s on real oned):
                             # no capacity check, so images register at once (Datastore::get_avail_mb)
                             ("one_datastore", {"name": "images-dummy", "type": "image", "ds_mad": "fs",
                                                "tm_mad": "dummy", "attributes": {"DATASTORE_CAPACITY_CHECK": "NO"},
                                                **clusters}),
                             # dummy drivers: a real oned monitors it and runs VMs on it without a hypervisor
                             ("one_host", {"name": "node1", "im_mad": "dummy", "vm_mad": "dummy",
                                           "cluster": "vm-tests", "wait": True})):
            result = run_module(module, **args)
            assert not result.failed, (module, result)
    result = run_module("one_vnet", name="CR_pedago", vn_mad="bridge", bridge="br-pedago",
                        address_ranges=[{"type": "IP4", "ip": "10.20.0.10", "size": 50}], **clusters)
    assert not result.failed, result
    result = run_module("one_image", name="eole-amon", size=100, dev_prefix="vd", wait=False, **datastore)
    assert not result.failed, result


def warnings_of(result: dict[str, Any]) -> list[str]:
    """The warning texts of a module result (ansible-core 2.19 keeps them as summaries)."""
    return [getattr(getattr(w, "event", None), "msg", None) or str(w) for w in result.get("warnings", [])]
