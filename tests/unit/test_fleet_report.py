"""Unit tests of plugins/plugin_utils/fleet_report.py: the result contract (single object, Ansible loop, batched
results), statuses, API calls counted once, the page."""

from __future__ import annotations

from ansible_collections.eole.hapy.plugins.plugin_utils import fleet_report as fr

VNET_UPDATE = {"changed": True, "changes": ["template"], "api_calls": {"total": 3, "writes": 1},
               "diff": {"before": {"name": "CR_pedago", "template": {"DESCRIPTION": "old"}},
                        "after": {"name": "CR_pedago", "template": {"DESCRIPTION": "new"}}},
               "vnet": {"id": 4, "name": "CR_pedago"}}
CREATE = {"changed": True, "diff": {"before": {}, "after": {"name": "amon"}}, "api_calls": {"total": 4, "writes": 2}}
DELETE = {"changed": True, "diff": {"before": {"name": "old-vm"}, "after": {}}, "api_calls": {"total": 2, "writes": 1}}
UNCHANGED = {"changed": False, "vnet": {"name": "CR_wan"}, "api_calls": {"total": 1, "writes": 0}}


def test_one_object_result_nested_attributes_create_and_delete():
    assert fr.object_changes("eole.hapy.one_vnet", "vnets", VNET_UPDATE) == [
        {"task": "vnets", "kind": "vnet", "object": "CR_pedago", "action": "update",
         "attributes": ["template.DESCRIPTION"]}]
    assert fr.object_changes("eole.hapy.one_vm", "vms", CREATE)[0] | {"task": None} == {
        "task": None, "kind": "vm", "object": "amon", "action": "create", "attributes": []}
    assert fr.object_changes("eole.hapy.one_vm", "vms", DELETE)[0]["action"] == "delete"
    assert fr.object_changes("eole.hapy.one_vnet", "vnets", UNCHANGED) == []
    assert fr.api_calls(VNET_UPDATE) == (3, 1)


def test_an_ansible_loop_and_a_batched_module_read_alike():
    """A loop's ``results`` and a batched module's ``results``/``objects`` hold per-object results; API calls count
    once: the batch's own total when it has one, else the sum of its entries'."""
    created = {"changed": True, "diff": {"before": {}, "after": {"a": 1}}, "api_calls": {"total": 4, "writes": 2}}
    loop = {"changed": True, "results": [VNET_UPDATE, UNCHANGED, {**created, "_ansible_item_label": "CR_dmz"}]}
    batch = {"changed": True, "api_calls": {"total": 5, "writes": 3},
             "objects": [{**VNET_UPDATE, "api_calls": {"total": 99, "writes": 99}}, UNCHANGED,
                         {**created, "kind": "vnet", "name": "CR_dmz"}]}
    expected = [("vnet", "CR_pedago", "update", ["template.DESCRIPTION"]), ("vnet", "CR_dmz", "create", [])]
    for result in (loop, batch):
        assert [(c["kind"], c["object"], c["action"], c["attributes"])
                for c in fr.object_changes("eole.hapy.one_vnet", "t", result)] == expected
    assert fr.api_calls(loop) == (3 + 1 + 4, 1 + 0 + 2)
    assert fr.api_calls(batch) == (5, 3)
    assert fr.object_changes("eole.hapy.one_vnet", "t", {"changed": True, "changes": ["vlan_id"], "name": "CR_x"}) \
        == [{"task": "t", "kind": "vnet", "object": "CR_x", "action": "update", "attributes": ["vlan_id"]}]


def test_hidden_results_files_and_failures():
    censored = {"changed": True, "censored": "the output has been hidden due to no_log"}
    assert fr.object_changes("eole.hapy.one_template", "t", censored)[0]["hidden"] is True
    copied = {"changed": True, "diff": [{"before_header": "/etc/one/oned.conf", "after_header": "/etc/one/oned.conf",
                                         "before": "a", "after": "b"}]}
    assert fr.object_changes("ansible.builtin.template", "t", copied)[0]["attributes"] == ["/etc/one/oned.conf"]
    failed_loop = {"failed": True, "results": [UNCHANGED, {"failed": True, "msg": "no such image"}]}
    assert fr.failure_messages(failed_loop) == ["no such image"]
    assert fr.failure_messages({"failed": True, "msg": "boom"}) == ["boom"]


def test_statuses_order_and_page():
    report = fr.FleetReport({"id": "r1", "playbook": "site.yml", "check_mode": True})
    report.task_started("etb_9740001a", "hapy-9740001a", 10.0)
    report.task_result("etb_9740001a", "hapy-9740001a", "ok", "eole.hapy.one_vnet", "vnets", UNCHANGED, 12.5)
    report.task_started("etb_9740002b", "hapy-9740002b", 10.0)
    report.task_result("etb_9740002b", "hapy-9740002b", "changed", "eole.hapy.one_vnet", "vnets", VNET_UPDATE, 11.0)
    report.task_result("etb_9740003c", "hapy-9740003c", "unreachable", "ansible.builtin.setup", "facts",
                       {"unreachable": True, "msg": "ssh: no route"}, 11.0)
    report.task_result(None, "localhost", "failed", "ansible.builtin.assert", "schools", {"msg": "none"}, 11.0)
    document = report.as_dict()
    assert [(s["uai"], s["status"]) for s in document["schools"]] == [
        ("9740003C", "failed"), ("9740002B", "drifted"), ("9740001A", "converged")]
    assert document["schools"][2]["duration"] == 2.5 and document["schools"][2]["api_calls"] == {"total": 1,
                                                                                                  "writes": 0}
    assert document["totals"] | {"api_calls": None} == {"schools": 3, "converged": 1, "drifted": 1, "failed": 1,
                                                          "changes": 1, "api_calls": None}
    assert document["other_failures"] == [{"host": "localhost", "task": "schools", "msg": "none"}]
    page = fr.render_html(document)
    assert "would change template.DESCRIPTION" in page and "ssh: no route" in page
    assert "<script" not in page and "http" not in page.split("<body>", 1)[1], "no script, no external asset"
    report.run["check_mode"] = False
    assert report.as_dict()["schools"][1]["status"] == "converged", "a run that applied changes converged"


def test_the_page_escapes_what_it_shows():
    report = fr.FleetReport({"id": "<r>", "playbook": "x"})
    report.task_result("etb_9740001a", "h", "failed", "eole.hapy.one_vm", "t", {"msg": "<img src=x>"}, 1.0)
    page = fr.render_html(report.as_dict())
    assert "<img src=x>" not in page and "&lt;img src=x&gt;" in page


def test_only_results_that_ran_count_as_hidden():
    """A skipped no_log task (a role's block for a school without guests) is censored by Ansible but hides nothing;
    the CI of stop 19 counted it and reported a hidden result on every guest-less school."""
    censored = {"censored": "the output has been hidden due to no_log"}
    report = fr.FleetReport({"id": "r1", "playbook": "site.yml", "check_mode": False})
    report.task_started("etb_9740001a", "hapy-9740001a", 10.0)
    report.task_result("etb_9740001a", "hapy-9740001a", "skipped", "eole.hapy.one_template", "t",
                       censored | {"skipped": True}, 11.0)
    assert report.as_dict()["schools"][0]["hidden_results"] == 0
    report.task_result("etb_9740001a", "hapy-9740001a", "changed", "eole.hapy.one_template", "t",
                       censored | {"changed": True}, 12.0)
    assert report.as_dict()["schools"][0]["hidden_results"] == 1
