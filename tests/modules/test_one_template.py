"""one_template against the OpenNebula test endpoint."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
import xmlrpc.client

import pytest

from tests.modules.lifecycle import check_bad_input, check_lifecycle, fast_endpoint, make_site

AMON = {
    "name": "amon",
    "cpu": 0.5,
    "vcpu": 2,
    "memory": 2048,
    "disks": [{"image": "eole-amon", "size": 20480}],
    "nics": [{"network": "CR_pedago", "ip": "10.20.0.1", "model": "virtio", "security_groups": ["default"]}],
    "context": {"NETWORK": True, "SET_HOSTNAME": "amon",
                "START_SCRIPT_BASE64": base64.b64encode(b"#!/bin/sh\necho ok\n").decode()},
    "graphics": {"type": "VNC", "listen": "0.0.0.0"},
    "os": {"arch": "x86_64", "machine": "q35", "firmware": "UEFI"},
    "features": {"acpi": "yes"},
    "inputs": [{"type": "tablet", "bus": "usb"}],
    "labels": ["hapy", "9740001A"],
    "description": "EOLE Amon",
}


__all__ = ["fast_endpoint"]


@pytest.fixture(autouse=True)
def site(run_module, fast_endpoint):
    make_site(run_module, fast_endpoint)


def test_lifecycle(run_module):
    facts = check_lifecycle(run_module, "one_template", "template", AMON, {"memory": 4096}, "template",
                            {"one.template.update"})
    template = facts["template"]
    assert template["DISK"] == {"IMAGE": "eole-amon", "IMAGE_UNAME": "oneadmin", "SIZE": "20480"}
    assert template["NIC"] == {"NETWORK": "CR_pedago", "NETWORK_UNAME": "oneadmin", "IP": "10.20.0.1",
                               "MODEL": "virtio", "SECURITY_GROUPS": "0"}
    assert template["OS"] == {"ARCH": "x86_64", "MACHINE": "q35", "FIRMWARE": "UEFI"}
    assert template["CONTEXT"]["NETWORK"] == "YES"
    assert template["INPUT"] == {"TYPE": "tablet", "BUS": "usb"}
    assert (template["CPU"], template["VCPU"], template["MEMORY"]) == ("0.5", "2", "2048")
    assert facts["labels"] == ["9740001A", "hapy"]


def test_update_writes_only_the_changed_attribute(run_module, oned):
    run_module("one_template", **AMON)
    result = run_module("one_template", **{**AMON, "memory": 4096})
    assert result["diff"] == {"before": {"name": "amon", "template": {"MEMORY": "2048"}},
                              "after": {"name": "amon", "template": {"MEMORY": "4096"}}}
    ok, xml, *_ = xmlrpc.client.ServerProxy(oned.url).one.template.info("oneadmin:opennebula",
                                                                       result["template"]["id"], False)
    assert ok, xml
    stored = ET.fromstring(xml).find("TEMPLATE")  # what oned holds, read back through the API
    assert stored.findtext("MEMORY") == "4096" and stored.findtext("CPU") == "0.5"


def test_vectors_are_replaced(run_module, oned):
    run_module("one_template", **AMON, attributes={"SCHED_REQUIREMENTS": 'HYPERVISOR="kvm"'})
    nics = [{"network": "CR_pedago"}, {"network": "CR_pedago", "model": "e1000"}]
    result = run_module("one_template", **{**AMON, "nics": nics})
    assert result["changes"] == ["template"]
    template = result["template"]["template"]
    assert template["NIC"] == [{"NETWORK": "CR_pedago", "NETWORK_UNAME": "oneadmin"},
                               {"NETWORK": "CR_pedago", "NETWORK_UNAME": "oneadmin", "MODEL": "e1000"}]
    assert template["SCHED_REQUIREMENTS"] == 'HYPERVISOR="kvm"' and template["MEMORY"] == "2048"
    # a sub-attribute removed from a vector is drift, too
    fewer = run_module("one_template", **{**AMON, "nics": nics, "graphics": {"type": "VNC"}})
    assert fewer["changed"] and fewer["template"]["template"]["GRAPHICS"] == {"TYPE": "VNC"}
    assert fewer["diff"]["before"]["template"] == {"GRAPHICS": {"TYPE": "VNC", "LISTEN": "0.0.0.0"}}
    assert fewer["diff"]["after"]["template"] == {"GRAPHICS": {"TYPE": "VNC"}}
    assert run_module("one_template", **{**AMON, "nics": nics, "graphics": {"type": "VNC"}})["changed"] is False


def test_labels_compare_as_a_set(run_module):
    run_module("one_template", **AMON)
    same = run_module("one_template", **{**AMON, "labels": ["9740001A", "hapy", "hapy"]})
    assert same["changed"] is False and same.writes == {}
    more = run_module("one_template", **{**AMON, "labels": ["hapy", "9740001A", "amon"]})
    assert more["changes"] == ["labels"] and more["template"]["labels"] == ["9740001A", "amon", "hapy"]


def test_ids_and_ownership(run_module):
    result = run_module("one_template", name="t", memory=512, disks=[{"image": "0"}], nics=[{"network": 0}],
                        group="users", permissions="640")
    assert result["template"]["template"]["DISK"] == {"IMAGE_ID": "0"}
    assert result["template"]["template"]["NIC"] == {"NETWORK_ID": "0"}
    assert (result["template"]["group"], result["template"]["permissions"]) == ("users", "640")
    assert set(result.writes) == {"one.template.allocate", "one.template.chown", "one.template.chmod"}


BAD_INPUTS = [
    ({"memory": 0}, "memory"),
    ({"cpu": -1}, "cpu"),
    ({"disks": [{"image": "no-such-image"}]}, "disks[0].image"),
    ({"disks": [{"dev_prefix": "vd"}]}, "disks[0]"),
    ({"nics": [{"model": "virtio"}]}, "nics[0].network"),
    ({"nics": [{"network": "no-such-net"}]}, "nics[0].network"),
    ({"nics": [{"network": "CR_pedago", "ip": "10.20.0.300"}]}, "nics[0].ip"),
    ({"nics": [{"network": "CR_pedago", "security_groups": ["nope"]}]}, "nics[0].security_groups"),
    ({"context": {"START_SCRIPT_BASE64": "echo not base64!"}}, "context.START_SCRIPT_BASE64"),
    ({"os": {"arch": ["x86_64"]}}, "os"),
]


def test_bad_input(run_module, oned):
    for args, field in BAD_INPUTS:  # one site for all cases: each must fail naming its field, writing nothing
        check_bad_input(run_module, oned, "one_template", {**AMON, **args}, field)
