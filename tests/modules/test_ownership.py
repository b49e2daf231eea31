"""Owner, group and permissions, handled by the engine for every owned kind (here a network)."""

from __future__ import annotations

from tests.modules import api
from tests.modules.lifecycle import check_bad_input

VNET = {"name": "CR_pedago", "vn_mad": "bridge", "bridge": "br-pedago"}


def test_created_with_owner_group_and_permissions(run_module, oned):
    run_module("one_group", name="etb_a")
    run_module("one_user", name="site-a", password="pw", group="etb_a")
    predicted = run_module("one_vnet", check=True, owner="site-a", group="etb_a", permissions="640", **VNET)
    assert predicted.writes == {} and predicted["diff"]["after"]["owner"] == "site-a"
    created = run_module("one_vnet", owner="site-a", group="etb_a", permissions="640", **VNET)
    assert set(created.writes) == {"one.vn.allocate", "one.vn.chown", "one.vn.chmod"}
    vnet = created["vnet"]
    assert (vnet["owner"], vnet["group"], vnet["permissions"]) == ("site-a", "etb_a", "640")
    stored = api.xml(oned, "one.vn.info", vnet["id"])
    perms = [int(e.text) for e in stored.find("PERMISSIONS")]
    owner = (stored.findtext("UNAME"), stored.findtext("GNAME"))
    assert (*owner, perms) == ("site-a", "etb_a", [1, 1, 0, 1, 0, 0, 0, 0, 0])
    again = run_module("one_vnet", owner="site-a", group="etb_a", permissions="640", **VNET)
    assert again["changed"] is False and again.writes == {}


def test_changed_one_at_a_time(run_module):
    run_module("one_vnet", **VNET)
    group = run_module("one_vnet", group="users", **VNET)
    assert group["changes"] == ["group"] and group.writes == {"one.vn.chown": 1}
    assert group["diff"] == {"before": {"name": "CR_pedago", "group": "oneadmin"},
                             "after": {"name": "CR_pedago", "group": "users"}}
    perms = run_module("one_vnet", group="users", permissions="664", **VNET)
    assert perms["changes"] == ["permissions"] and perms.writes == {"one.vn.chmod": 1}
    by_id = run_module("one_vnet", owner="0", group="1", permissions="664", **VNET)
    assert by_id["changed"] is False and by_id.writes == {}


def test_bad_ownership(run_module, oned):
    check_bad_input(run_module, oned, "one_vnet", {**VNET, "permissions": "888"}, "permissions")
    check_bad_input(run_module, oned, "one_vnet", {**VNET, "owner": "nobody"}, "owner")
    check_bad_input(run_module, oned, "one_vnet", {**VNET, "group": "nogroup"}, "group")
