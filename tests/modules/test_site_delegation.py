"""A school's site delegated to its group: oneadmin shares the network and image, the site's user builds its VMs."""

from __future__ import annotations

from ansible_collections.eole.hapy.plugins.modules.one_acl import rule_string

from tests.modules import api
from tests.modules.lifecycle import fast_endpoint, make_site

__all__ = ["fast_endpoint"]

SITE_USER = {"api_username": "admin-9740001a", "api_password": "Site-Pw-1"}


def test_site_user_builds_its_guests_on_shared_resources(run_module, fast_endpoint):
    make_site(run_module, fast_endpoint, host=True)  # cluster vm-tests: a dummy host, system and image datastores
    setup = [
        ("one_group", {"name": "etb_9740001a"}),
        ("one_user", {"name": "admin-9740001a", "password": "Site-Pw-1", "group": "etb_9740001a"}),
        ("one_acl", {"rule": "@etb_9740001a VM+TEMPLATE+IMAGE/* CREATE"}),
        ("one_vdc", {"name": "vdc-9740001a", "groups": ["etb_9740001a"], "clusters": ["vm-tests"]}),
        # oneadmin's network and image, shared with the school's group
        ("one_vnet", {"name": "CR_pedago", "vn_mad": "bridge", "bridge": "br-pedago", "group": "etb_9740001a",
                      "permissions": "640", "clusters": ["vm-tests"],
                      "address_ranges": [{"type": "IP4", "ip": "10.20.0.10", "size": 50}]}),
        ("one_image", {"name": "eole-amon", "size": 100, "dev_prefix": "vd", "datastore": "images-dummy",
                       "group": "etb_9740001a", "permissions": "640"}),
    ]
    for module, args in setup:
        result = run_module(module, **args)
        assert not result.failed, (module, result["msg"])

    guest = {"name": "amon", "cpu": 1, "memory": 1024, "disks": [{"image": "eole-amon"}],
             "nics": [{"network": "CR_pedago"}], "group": "etb_9740001a", "permissions": "660", **SITE_USER}
    template = run_module("one_template", **guest)
    assert not template.failed, template["msg"]
    assert template["template"]["owner"] == "admin-9740001a"
    # the network and image belong to oneadmin: the template names their owner, so the site's user finds them
    assert template["template"]["template"]["NIC"]["NETWORK_UNAME"] == "oneadmin"
    assert template["template"]["template"]["DISK"]["IMAGE_UNAME"] == "oneadmin"

    vm = run_module("one_vm", name="amon", template="amon", state="running", group="etb_9740001a", **SITE_USER)
    assert not vm.failed, vm["msg"]
    assert vm["vm"]["lcm_state"] == "RUNNING" and vm["vm"]["ips"] == ["10.20.0.10"]
    assert vm["vm"]["owner"] == "admin-9740001a"

    for module, args in (("one_template", guest), ("one_vm", {"name": "amon", "template": "amon", "state": "running",
                                                               "group": "etb_9740001a", **SITE_USER})):
        again = run_module(module, **args)
        assert again["changed"] is False and again.writes == {}, (module, again.get("diff"))


def test_a_new_group_uses_every_network_until_it_leaves_the_default_vdc(run_module, fast_endpoint):
    """Divergence (real oned: GroupAllocate adds every new group to the default VDC, whose ResourceSet gives it the
    DEFAULT_VDC_CLUSTER_*_ACL rules: USE of every network and datastore, MANAGE of every host of the zone); the
    stand-in added the group to the VDC without those rules, so a school's user seemed unable to see oneadmin's
    networks. Once the school's group leaves the default VDC, what it may not see is named, writing nothing."""
    gid = run_module("one_group", name="etb_9740001a")["group"]["id"]
    assert f"@{gid} NET/* USE #0" in {rule_string(*rule[1:]) for rule in api.acl_rules(fast_endpoint)}
    run_module("one_user", name="admin-9740001a", password="Site-Pw-1", group="etb_9740001a")
    run_module("one_acl", rule="@etb_9740001a TEMPLATE/* CREATE")
    run_module("one_vnet", name="CR_pedago", vn_mad="bridge", bridge="br-pedago")  # oneadmin's, mode 600
    template = {"name": "amon", "memory": 512, "nics": [{"network": "CR_pedago"}], **SITE_USER}
    predicted = run_module("one_template", check=True, **template)
    assert not predicted.failed and predicted["changed"], predicted.get("msg")  # the default VDC lets it use the vnet

    left = run_module("one_vdc", name="default", groups=["users"])
    assert left["changed"] and not left.failed, left.get("msg")
    assert f"@{gid} NET/* USE #0" not in {rule_string(*rule[1:]) for rule in api.acl_rules(fast_endpoint)}
    result = run_module("one_template", **template)
    assert result.failed and result.writes == {}
    assert result["msg"] == ("nics[0].network: no virtual network named 'CR_pedago' exists in OpenNebula "
                             "(or user 'admin-9740001a' is not allowed to see it)")
