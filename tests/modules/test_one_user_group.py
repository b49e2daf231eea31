"""one_user and one_group against the OpenNebula test endpoint."""

from __future__ import annotations

import hashlib

import pytest

from tests.modules import api
from tests.modules.lifecycle import check_bad_input, check_lifecycle

SECRET = "s3cret-Vault"


def stored_user(oned, name):
    user = next(u for u in api.xml(oned, "one.userpool.info").findall("USER") if u.findtext("NAME") == name)
    return {"PASSWORD": user.findtext("PASSWORD"), "GID": int(user.findtext("GID")),
            "GROUPS": [int(g.text) for g in user.findall("GROUPS/ID")]}


def test_group_lifecycle(run_module):
    facts = check_lifecycle(run_module, "one_group", "group",
                            {"name": "etb_9740001a", "attributes": {"DESCRIPTION": "Lycée Leconte de Lisle"}},
                            {"attributes": {"DESCRIPTION": "Lycée Roland Garros"}}, "template", {"one.group.update"})
    assert facts["template"] == {"DESCRIPTION": "Lycée Leconte de Lisle"} and facts["admins"] == []


def test_user_lifecycle(run_module, oned):
    run_module("one_group", name="etb")
    facts = check_lifecycle(run_module, "one_user", "user",
                            {"name": "admin-etb", "password": SECRET, "group": "etb", "groups": ["users"],
                             "attributes": {"EMAIL": "ce@ac-reunion.fr"}},
                            {"groups": []}, "groups", {"one.user.delgroup"})
    assert (facts["group"], facts["groups"], facts["auth_driver"], facts["enabled"]) == ("etb", ["users"], "core",
                                                                                        True)
    assert "password" not in facts


def test_password_set_on_create_only_unless_always(run_module, oned):
    created = run_module("one_user", name="u", password=SECRET)
    assert SECRET not in str(created)
    assert stored_user(oned, "u")["PASSWORD"] == hashlib.sha256(SECRET.encode()).hexdigest()
    kept = run_module("one_user", name="u", password="other-password")
    assert kept["changed"] is False and kept.writes == {}
    same = run_module("one_user", name="u", password=SECRET, update_password="always")
    assert same["changed"] is False and same.writes == {}
    changed = run_module("one_user", name="u", password="other-password", update_password="always")
    assert changed["changes"] == ["password"] and changed.writes == {"one.user.passwd": 1}
    assert "other-password" not in str(changed["diff"])
    assert stored_user(oned, "u")["PASSWORD"] == hashlib.sha256(b"other-password").hexdigest()


def test_primary_and_secondary_groups(run_module, oned):
    etb_a = run_module("one_group", name="etb_a")["group"]["id"]
    run_module("one_group", name="etb_b")
    run_module("one_user", name="u", password=SECRET, groups=["etb_a", "users"])
    user = stored_user(oned, "u")
    # the first declared group is the primary one (ids: a shared real oned does not reuse deleted groups' ids)
    assert user["GID"] == etb_a and user["GROUPS"] == sorted([1, etb_a])
    assert run_module("one_user", name="u", groups=["users", "etb_a"]).writes == {}
    moved = run_module("one_user", name="u", group="etb_b", groups=["users"])
    assert set(moved.writes) == {"one.user.chgrp"} and moved["user"]["group"] == "etb_b"
    assert moved["user"]["groups"] == ["users"]
    assert run_module("one_user", name="u", group="etb_b", groups=["users"]).writes == {}


def test_disabled_user_and_auth_driver(run_module):
    created = run_module("one_user", name="ldapuser", auth_driver="ldap", password="-", enabled=False)
    assert created["user"]["enabled"] is False and created["user"]["auth_driver"] == "ldap"
    enabled = run_module("one_user", name="ldapuser", auth_driver="core", password=SECRET,
                         update_password="always", enabled=True)
    assert set(enabled.writes) == {"one.user.chauth", "one.user.enable"}
    assert run_module("one_user", name="ldapuser", auth_driver="core", password=SECRET,
                      update_password="always", enabled=True).writes == {}


def test_group_admins(run_module):
    run_module("one_group", name="etb")
    refused = run_module("one_group", name="etb", admins=["oneadmin"])
    assert refused.failed and "admins: oneadmin not member(s) of group 'etb'" in refused["msg"]
    assert refused.writes == {}
    run_module("one_user", name="chef", password=SECRET, group="etb")
    result = run_module("one_group", name="etb", admins=["chef"])
    assert result["changes"] == ["admins"] and result.writes == {"one.group.addadmin": 1}
    assert result["group"]["admins"] == ["chef"] and result["group"]["users"] == ["chef"]
    assert result["diff"] == {"before": {"name": "etb", "admins": []}, "after": {"name": "etb", "admins": ["chef"]}}
    assert run_module("one_group", name="etb", admins=["chef"]).writes == {}
    assert run_module("one_group", name="etb", admins=[]).writes == {"one.group.deladmin": 1}


@pytest.mark.parametrize(("module", "args", "field"), [
    ("one_user", {"name": "u"}, "password"),
    ("one_user", {"name": "u", "password": "with space"}, "password"),
    ("one_user", {"name": "u", "password": SECRET, "group": "nope"}, "group"),
    ("one_user", {"name": "u", "password": SECRET, "groups": ["nope"]}, "groups"),
    ("one_user", {"name": "u", "password": SECRET, "attributes": {"bad key": 1}}, "attributes"),
    ("one_group", {"name": "g", "admins": ["nobody"]}, "admins"),
    ("one_group", {"name": "g", "admins": ["oneadmin"]}, "admins"),
])
def test_bad_input(run_module, oned, module, args, field):
    message = check_bad_input(run_module, oned, module, args, field)
    assert SECRET not in message
