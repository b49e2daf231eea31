"""one_vm against every OpenNebula test endpoint: VMs on a dummy-driver host really reach RUNNING (real oned's
dummy drivers; the stand-in's sped up); what oned holds is read back through the API."""

from __future__ import annotations

import xmlrpc.client

import pytest

from tests.modules import api
from tests.modules.lifecycle import check_bad_input, fast_endpoint, make_site, quiesce, snapshot, warnings_of

__all__ = ["fast_endpoint"]


@pytest.fixture(autouse=True)
def site(run_module, fast_endpoint):
    make_site(run_module, fast_endpoint, host=True)
    result = run_module("one_template", name="amon", cpu=1, memory=1024, disks=[{"image": "eole-amon"}],
                        nics=[{"network": "CR_pedago"}], context={"NETWORK": True, "SET_HOSTNAME": "amon"})
    assert not result.failed, result


def vm_state(oned, vm_id) -> int:
    """The VM's STATE number as oned answers it (6: DONE)."""
    return int(api.xml(oned, "one.vm.info", vm_id).findtext("STATE"))


def context_of(oned, method: str, object_id: int) -> dict[str, str]:
    """The CONTEXT vector of a VM (``one.vm.info``) or template (``one.template.info``) as name -> text."""
    return {e.tag: e.text or "" for e in api.xml(oned, method, object_id).find("TEMPLATE/CONTEXT")}


def live_vm_names(oned) -> list[str]:
    """Names of the VMs oned lists, all but DONE."""
    return [v.findtext("NAME") for v in api.xml(oned, "one.vmpool.info", -2, -1, -1, -1).findall("VM")]


def test_create_running_then_idempotent(run_module, oned):
    predicted = run_module("one_vm", check=True, name="amon-1", template="amon", state="running")
    assert predicted["changed"] and predicted.writes == {}
    assert predicted["diff"]["after"]["state"] == "running"

    result = run_module("one_vm", name="amon-1", template="amon", state="running",
                        attributes={"HAPY_ROLE": "amon"}, labels=["hapy"],
                        nics=[{"network": "CR_pedago", "ip": "10.20.0.20"}], context={"SET_HOSTNAME": "amon1"})
    assert result["changed"], result
    vm = result["vm"]
    assert (vm["state"], vm["lcm_state"], vm["phase"]) == ("ACTIVE", "RUNNING", "running")
    assert vm["ips"] == ["10.20.0.20"] and vm["nics"][0]["network"] == "CR_pedago"
    assert vm["host"] == "node1" and vm["attributes"] == {"HAPY_ROLE": "amon"} and vm["labels"] == ["hapy"]
    assert result["vms"] == [vm]
    assert result.writes == {"one.template.instantiate": 1}
    context = context_of(oned, "one.vm.info", vm["id"])
    assert context["SET_HOSTNAME"] == "amon1" and context["NETWORK"] == "YES"  # merged over the template's

    again = run_module("one_vm", name="amon-1", template="amon", state="running",
                       attributes={"HAPY_ROLE": "amon"}, labels=["hapy"],
                       nics=[{"network": "CR_pedago", "ip": "10.20.0.20"}], context={"SET_HOSTNAME": "amon1"})
    assert again["changed"] is False and again.writes == {}, again.get("diff")


def test_state_transitions(run_module, oned):
    args = {"name": "amon-1", "template": "amon"}
    vm_id = run_module("one_vm", state="running", **args)["vm"]["id"]

    predicted = run_module("one_vm", check=True, state="poweroff", **args)
    assert predicted["changes"] == ["state"] and predicted.writes == {}
    assert predicted["diff"] == {"before": {"name": "amon-1", "state": "running"},
                                 "after": {"name": "amon-1", "state": "poweroff"}}
    assert vm_state(oned, vm_id) == 3

    off = run_module("one_vm", state="poweroff", **args)
    assert off["vm"]["state"] == "POWEROFF" and off.writes == {"one.vm.action": 1}
    assert run_module("one_vm", state="poweroff", **args).writes == {}

    on = run_module("one_vm", state="running", **args)
    assert not on.failed, on["msg"]
    assert on["vm"]["lcm_state"] == "RUNNING" and on.writes == {"one.vm.action": 1}

    undeployed = run_module("one_vm", state="undeployed", **args)
    assert undeployed["vm"]["state"] == "UNDEPLOYED" and undeployed["vm"]["phase"] == "undeployed"
    assert run_module("one_vm", state="undeployed", **args)["changed"] is False

    # undeployed -> poweroff needs it running first: resume, wait RUNNING, poweroff
    off = run_module("one_vm", state="poweroff", hard=True, **args)
    assert off["vm"]["state"] == "POWEROFF" and off.writes == {"one.vm.action": 2}

    gone = run_module("one_vm", state="absent", **args)
    assert gone["changed"] and gone["vm"] == {} and gone["diff"]["before"]["id"] == vm_id
    assert vm_state(oned, vm_id) == 6  # DONE
    assert run_module("one_vm", state="absent", **args)["changed"] is False


def test_present_leaves_the_run_state_alone(run_module):
    run_module("one_vm", name="amon-1", template="amon", state="poweroff")
    result = run_module("one_vm", name="amon-1", template="amon")
    assert result["changed"] is False and result["vm"]["state"] == "POWEROFF"


def test_hold_then_release(run_module, oned):
    held = run_module("one_vm", name="horus", template="amon", hold=True)
    assert held["vm"]["state"] == "HOLD" and held["vm"]["phase"] == "hold"
    assert run_module("one_vm", name="horus", template="amon", hold=True)["changed"] is False
    released = run_module("one_vm", name="horus", template="amon", state="running")
    assert released["diff"]["before"]["state"] == "hold"
    assert released["vm"]["lcm_state"] == "RUNNING" and released.writes == {"one.vm.action": 1}


def test_no_wait_then_settle(run_module):
    started = run_module("one_vm", name="amon-1", template="amon", state="running", wait=False)
    assert started["vm"]["phase"] == "transient"
    settled = run_module("one_vm", name="amon-1", template="amon", state="running")
    assert settled["changed"] is False and settled.writes == {}
    assert settled["vm"]["lcm_state"] == "RUNNING"


def test_user_attributes_update_and_not_applied(run_module):
    args = {"name": "amon-1", "template": "amon", "state": "running", "attributes": {"HAPY_ROLE": "amon"}}
    run_module("one_vm", **args)
    result = run_module("one_vm", **{**args, "attributes": {"HAPY_ROLE": "scribe"}, "memory": 4096,
                                     "labels": ["hapy"]})
    assert result["changes"] == ["attributes", "labels"]
    assert result.writes == {"one.vm.update": 1}
    assert result["not_applied"] == ["memory"]
    assert any("memory differs" in w and "only used at creation" in w for w in warnings_of(result))
    assert result["vm"]["attributes"] == {"HAPY_ROLE": "scribe"} and result["vm"]["labels"] == ["hapy"]
    assert result["diff"]["after"]["attributes"] == {"HAPY_ROLE": "scribe"}


def test_exact_count(run_module, oned):
    args = {"name": "eleve", "template": "amon", "state": "running"}
    predicted = run_module("one_vm", check=True, exact_count=2, **args)
    assert predicted["changed"] and predicted.writes == {} and set(predicted["diff"]["after"]) == {"eleve-1",
                                                                                                 "eleve-2"}
    result = run_module("one_vm", count=2, **args)
    assert [vm["name"] for vm in result["vms"]] == ["eleve-1", "eleve-2"]
    assert all(vm["lcm_state"] == "RUNNING" for vm in result["vms"])
    assert len({vm["ips"][0] for vm in result["vms"]}) == 2
    assert run_module("one_vm", exact_count=2, **args).writes == {}

    fewer = run_module("one_vm", exact_count=1, **args)
    assert fewer["changed"] and [vm["name"] for vm in fewer["vms"]] == ["eleve-1"]
    assert fewer.writes == {"one.vm.action": 1} and list(fewer["diff"]["before"]) == ["eleve-2"]

    none = run_module("one_vm", name="eleve", state="absent", exact_count=5)
    assert none["changed"] and none["vms"] == []
    assert live_vm_names(oned) == []


def test_wait_timeout_without_host(run_module, oned):
    assert not run_module("one_host", name="node1", im_mad="dummy", vm_mad="dummy", status="disabled").failed
    result = run_module("one_vm", name="amon-1", template="amon", state="running", wait_timeout=1)
    assert result.failed and "timed out after 1s waiting for VM 'amon-1'" in result["msg"], result
    assert "to be RUNNING" in result["msg"]


@pytest.mark.standin_only("injects a failure state into the stand-in's store")
def test_failure_state_is_named(run_module, oned):
    vm_id = run_module("one_vm", name="amon-1", template="amon", state="running")["vm"]["id"]
    oned.store.find("vm", vm_id).update(LCM_STATE=36)  # BOOT_FAILURE
    result = run_module("one_vm", name="amon-1", template="amon", state="poweroff")
    assert result.failed and "BOOT_FAILURE" in result["msg"] and result.writes == {}, result


def test_ownership(run_module):
    result = run_module("one_vm", name="amon-1", template="amon", group="users", permissions="660")
    assert (result["vm"]["group"], result["vm"]["permissions"]) == ("users", "660")
    assert run_module("one_vm", name="amon-1", template="amon", group="users", permissions="660").writes == {}


BAD_INPUTS = [
    ({"name": "x"}, "template"),
    ({"name": "x", "template": "no-such-template"}, "template"),
    ({"name": "x", "template": "amon", "hold": True, "state": "running"}, "hold"),
    ({"name": "x", "template": "amon", "exact_count": -1}, "exact_count"),
    ({"name": "x", "template": "amon", "nics": [{"network": "nope"}]}, "nics[0].network"),
    ({"name": "x", "template": "amon", "memory": 0}, "memory"),
]


def test_bad_input(run_module, oned):
    for args, field in BAD_INPUTS:  # one site for all cases: each must fail naming its field, writing nothing
        check_bad_input(run_module, oned, "one_vm", args, field)


def test_a_vm_without_cpu_is_refused_before_any_write(run_module, oned):
    """Divergence (real oned's VirtualMachine::insert): a VM needs a positive CPU and MEMORY; the stand-in accepted
    one without CPU. oned refuses to instantiate such a template; one_vm names the missing option, writing nothing."""
    template = run_module("one_template", name="no-cpu", memory=512, disks=[{"image": "eole-amon"}])
    assert not template.failed, template["msg"]
    template_id = template["template"]["id"]
    answer = xmlrpc.client.ServerProxy(oned.url).one.template.instantiate(api.ONEADMIN, template_id, "x", True, "",
                                                                          False)
    assert answer[0] is False and "CPU attribute must be a positive float or integer value." in answer[1], answer
    quiesce(oned)
    before = snapshot(oned)
    for check in (True, False):
        result = run_module("one_vm", check=check, name="amon-1", template="no-cpu")
        assert result.failed and result.writes == {}, result
        assert result["msg"].startswith("cpu: required to create VM 'amon-1': template 'no-cpu' has no CPU"), result
    assert snapshot(oned) == before
    created = run_module("one_vm", name="amon-1", template="no-cpu", cpu=0.5, hold=True)  # the option completes it
    assert not created.failed and created.writes == {"one.template.instantiate": 1}, created


def test_duplicate_names_fail(run_module, oned):
    run_module("one_vm", name="dup", template="amon", hold=True)
    answer = xmlrpc.client.ServerProxy(oned.url).one.vm.allocate(api.ONEADMIN, 'NAME = "dup"\nMEMORY = "128"\n'
                                                                 'CPU = "0.1"\n', True)
    assert answer[0], answer[1]  # oned does not keep VM names unique
    quiesce(oned)
    before = snapshot(oned)
    result = run_module("one_vm", name="dup", template="amon", state="absent")
    assert result.failed and "several virtual machines are named 'dup'" in result["msg"]
    assert snapshot(oned) == before


def test_instantiating_leaves_the_template_unchanged(run_module):
    run_module("one_vm", name="amon-1", template="amon", state="running")
    template = run_module("one_template", name="amon", cpu=1, memory=1024, disks=[{"image": "eole-amon"}],
                          nics=[{"network": "CR_pedago"}], context={"NETWORK": True, "SET_HOSTNAME": "amon"})
    assert template["changed"] is False and template.writes == {}, template.get("diff")


def test_existing_vm_does_not_need_its_template(run_module):
    run_module("one_vm", name="amon-1", template="amon", hold=True)
    assert not run_module("one_template", name="amon", state="absent").failed
    result = run_module("one_vm", name="amon-1", template="amon", hold=True)
    assert result["changed"] is False and not result.failed and result.writes == {}
    assert "not_applied" not in result


def test_secret_context_is_for_the_vm_only_then_removed(run_module, oned):
    """A registration password given to the VM at instantiation, never to its template; removed later with
    one.vm.updateconf (check mode predicts it, the diff names the key only, a third run writes nothing)."""
    secret = {"ZEPHIR_PASSWORD_BASE64": "c2VjcmV0"}
    created = run_module("one_vm", name="amon-1", template="amon", state="running", secret_context=secret)
    assert created["changed"] and "c2VjcmV0" not in repr(created), created
    vm_context = context_of(oned, "one.vm.info", created["vm"]["id"])
    assert vm_context["ZEPHIR_PASSWORD_BASE64"] == "c2VjcmV0" and vm_context["SET_HOSTNAME"] == "amon"
    template_id = next(int(t.findtext("ID")) for t in api.xml(oned, "one.templatepool.info", -2, -1, -1)
                       if t.findtext("NAME") == "amon")
    assert "ZEPHIR_PASSWORD_BASE64" not in context_of(oned, "one.template.info", template_id)
    kept = run_module("one_vm", name="amon-1", template="amon", state="running", secret_context=secret)
    assert kept["changed"] is False and kept.writes == {}, "present: never compared on an existing VM"

    args = {"name": "amon-1", "template": "amon", "state": "running", "secret_context": secret,
            "secret_context_state": "absent"}
    predicted = run_module("one_vm", check=True, **args)
    assert predicted["changed"] and predicted.writes == {}
    assert predicted["diff"]["before"]["secret_context"] == ["ZEPHIR_PASSWORD_BASE64"]
    assert predicted["diff"]["after"]["secret_context"] == []
    removed = run_module("one_vm", **args)
    assert removed["changed"] and removed.writes == {"one.vm.updateconf": 1}, removed
    vm_context = context_of(oned, "one.vm.info", created["vm"]["id"])
    assert "ZEPHIR_PASSWORD_BASE64" not in vm_context
    assert vm_context["SET_HOSTNAME"] == "amon", "the rest of the context is kept"
    again = run_module("one_vm", **args)
    assert again["changed"] is False and again.writes == {}


def test_apply_context_sets_keys_on_an_existing_vm_with_the_secrets_removal(run_module, oned):
    """A boot stage switch (NETCFG_TYPE=none) on an existing, powered-off VM: without apply_context only reported;
    with it, one one.vm.updateconf that also removes the secret keys; check mode predicts it; the diff names the
    changed keys only; $VMID (resolved at creation) is never sent back; a second run writes nothing."""
    secret = {"ZEPHIR_PASSWORD_BASE64": "c2VjcmV0"}
    install = {"NETCFG_TYPE": "netplan", "HAPY_HALT": "YES", "VM_ID": "$VMID"}
    created = run_module("one_vm", name="amon-1", template="amon", state="poweroff", secret_context=secret,
                         context=install)
    vm_id = created["vm"]["id"]
    assert context_of(oned, "one.vm.info", vm_id)["VM_ID"] == str(vm_id), "oned resolved $VMID at creation"

    run = {"NETCFG_TYPE": "none", "HAPY_HALT": "NO", "VM_ID": "$VMID"}
    args = {"name": "amon-1", "template": "amon", "state": "running", "context": run, "secret_context": secret,
            "secret_context_state": "absent"}
    reported = run_module("one_vm", **{**args, "secret_context_state": "present", "state": "poweroff"})
    assert reported["not_applied"] == ["context"] and reported.writes == {}
    predicted = run_module("one_vm", check=True, apply_context=True, **args)
    assert predicted["changed"] and predicted.writes == {}
    assert predicted["diff"]["before"]["context"] == {"NETCFG_TYPE": "netplan", "HAPY_HALT": "YES"}
    assert predicted["diff"]["after"]["context"] == {"NETCFG_TYPE": "none", "HAPY_HALT": "NO"}
    applied = run_module("one_vm", apply_context=True, **args)
    assert applied["changes"] == ["context", "secret_context", "state"]
    assert applied.writes == {"one.vm.updateconf": 1, "one.vm.action": 1}, applied.writes
    vm_context = context_of(oned, "one.vm.info", vm_id)
    assert (vm_context["NETCFG_TYPE"], vm_context["HAPY_HALT"], vm_context["VM_ID"]) == ("none", "NO", str(vm_id))
    assert "ZEPHIR_PASSWORD_BASE64" not in vm_context and vm_context["SET_HOSTNAME"] == "amon"
    assert applied["vm"]["phase"] == "running", "the context was changed before the VM booted again"
    again = run_module("one_vm", apply_context=True, **args)
    assert again["changed"] is False and again.writes == {}


def backup_config_of(oned, vm_id) -> dict[str, str]:
    """The VM's BACKUP_CONFIG as oned answers it (kept in BACKUPS, not in its TEMPLATE)."""
    vm = api.xml(oned, "one.vm.info", vm_id)
    assert vm.find("TEMPLATE/BACKUP_CONFIG") is None
    return {e.tag: e.text or "" for e in vm.find("BACKUPS/BACKUP_CONFIG")}


def test_backup_config_at_creation_then_merged_in_any_state(run_module, oned):
    args = {"name": "amon-1", "template": "amon", "state": "poweroff"}
    created = run_module("one_vm", backup_config={"mode": "FULL", "keep_last": 7}, **args)
    assert not created.failed, created
    assert created.writes == {"one.template.instantiate": 1, "one.vm.action": 1}
    vm_id = created["vm"]["id"]
    # oned fills its defaults in once the mode is given
    config = backup_config_of(oned, vm_id)
    assert {k: config.get(k) for k in ("MODE", "KEEP_LAST", "BACKUP_VOLATILE", "FS_FREEZE")} == {
        "MODE": "FULL", "KEEP_LAST": "7", "BACKUP_VOLATILE": "NO", "FS_FREEZE": "NONE"}
    assert created["vm"]["backup_config"]["KEEP_LAST"] == "7"
    assert run_module("one_vm", backup_config={"mode": "FULL", "keep_last": 7}, **args).writes == {}

    changed = {"keep_last": 3, "backup_volatile": True}
    predicted = run_module("one_vm", check=True, backup_config=changed, **args)
    assert predicted["changes"] == ["backup_config"] and predicted.writes == {}
    assert predicted["diff"]["after"]["backup_config"] == {"KEEP_LAST": "3", "BACKUP_VOLATILE": "YES"}
    assert predicted["diff"]["before"]["backup_config"] == {"KEEP_LAST": "7", "BACKUP_VOLATILE": "NO"}

    updated = run_module("one_vm", backup_config=changed, **args)
    assert updated["changes"] == ["backup_config"] and updated.writes == {"one.vm.updateconf": 1}
    config = backup_config_of(oned, vm_id)
    assert (config["MODE"], config["KEEP_LAST"], config["BACKUP_VOLATILE"]) == ("FULL", "3", "YES")  # merged
    assert vm_state(oned, vm_id) == 8  # still POWEROFF
    assert run_module("one_vm", backup_config=changed, **args).writes == {}


def test_backup_config_bad_input_writes_nothing(run_module, oned):
    run_module("one_vm", name="amon-1", template="amon", state="present", hold=True)
    check_bad_input(run_module, oned, "one_vm", {"name": "amon-1", "backup_config": {"keep_last": 0}},
                    "backup_config.keep_last")
    check_bad_input(run_module, oned, "one_vm", {"name": "amon-1", "backup_config": {"mode": "SOMETIMES"}},
                    "mode")
