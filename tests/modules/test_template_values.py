"""Hostile template values round-trip on every endpoint; values oned cannot keep are refused before any call."""

from __future__ import annotations

import pytest

from tests.hostile_values import HOSTILE_VALUES
from tests.modules.api import xml

NET = {"vn_mad": "bridge", "bridge": "br-hostile"}


def stored_template(oned, vnet_id: int) -> dict:
    """The vnet's TEMPLATE as oned keeps it: {NAME: text} and {NAME: {SUB: text}} for vectors."""
    template = xml(oned, "one.vn.info", vnet_id, False).find("TEMPLATE")
    return {child.tag: ({sub.tag: sub.text or "" for sub in child} if len(child) else child.text or "")
            for child in template}


def test_hostile_values_are_stored_verbatim_alone_and_rewrite_nothing(run_module, oned):
    attributes = {f"V{i}": value for i, value in enumerate(HOSTILE_VALUES)}
    attributes["VEC"] = {f"A{i}": value for i, value in enumerate(HOSTILE_VALUES)}
    baseline = run_module("one_vnet", name="plain", **NET)
    created = run_module("one_vnet", name="hostile", **NET, attributes=attributes)
    assert created["changed"], created

    plain = stored_template(oned, baseline["vnet"]["id"])
    stored = stored_template(oned, created["vnet"]["id"])
    assert set(stored) - set(plain) == set(attributes), "no attribute appears that was not declared"
    assert stored["VN_MAD"] == "bridge" and stored["BRIDGE"] == "br-hostile"
    for key, value in attributes.items():
        assert stored[key] == value, f"{key} not stored verbatim"

    again = run_module("one_vnet", name="hostile", **NET, attributes=attributes)
    assert not again["changed"] and again.writes == {}, again.get("changes")


def test_updating_to_hostile_values_then_back_converges(run_module):
    run_module("one_vnet", name="edited", **NET, attributes={"NOTE": "plain"})
    for value in ('end quote "', "C:\\dir\\", "line\nbreak", "plain"):
        updated = run_module("one_vnet", name="edited", **NET, attributes={"NOTE": value})
        assert updated["changed"] and updated.writes == {"one.vn.update": 1}, value
        assert updated["vnet"]["template"]["NOTE"] == value
        assert run_module("one_vnet", name="edited", **NET, attributes={"NOTE": value}).writes == {}


@pytest.mark.parametrize("attributes, field", [
    ({"NOTE": 'escape \\'}, "attributes.NOTE: a value ending in a backslash"),
    ({"CONTEXT": {"SCRIPT": "end]]>"}}, "attributes.CONTEXT.SCRIPT: the sequence ']]>'"),
    ({"NOTE": "bell\x07"}, "attributes.NOTE: control character U+0007"),
    ({"BAD-KEY": "x"}, "attributes: invalid attribute name 'BAD-KEY'"),
])
def test_values_oned_cannot_keep_are_refused_before_any_call(run_module, attributes, field):
    result = run_module("one_vnet", name="refused", **NET, attributes=attributes)
    assert result.failed and result["msg"].startswith(field), result["msg"]
    assert result.calls == {}


@pytest.mark.parametrize("module, args, message", [
    ("one_vnet", {"name": 'net"x', **NET}, "name: 'net\"x' contains '\"'"),
    ("one_vnet", {"name": "net;rm", **NET}, "name: 'net;rm' contains ';'"),
    ("one_template", {"name": "tpl$HOME"}, "name: 'tpl$HOME' contains '$'"),
    ("one_group", {"name": "x" * 129}, "name: 129 characters; OpenNebula names are at most 128"),
    ("one_user", {"name": "site admin", "password": "s3cret"}, "name: 'site admin' contains ' '"),
    ("one_image", {"name": "", "datastore": "default"}, "name: an OpenNebula name cannot be empty"),
])
def test_names_oned_refuses_fail_before_any_call(run_module, module, args, message):
    result = run_module(module, **args)
    assert result.failed and result["msg"].startswith(message), result["msg"]
    assert result.calls == {}
