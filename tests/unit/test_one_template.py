"""OpenNebula template syntax: rendering, parsing, normalisation and comparison."""

from __future__ import annotations

import pytest
from ansible_collections.eole.hapy.plugins.module_utils import one_template as t

from tests.hostile_values import HOSTILE_VALUES
from tests.oned import template as oned_template


def test_render_scalars_vectors_and_repeats():
    text = t.render({"name": "net", "vlan_id": 20, "filter_ip_spoofing": True,
                     "ar": [{"type": "IP4", "ip": "10.0.0.1", "size": 10}, {"type": "ETHER", "size": 4}]})
    assert text == (
        'NAME = "net"\nVLAN_ID = "20"\nFILTER_IP_SPOOFING = "YES"\n'
        'AR = [\n  TYPE = "IP4",\n  IP = "10.0.0.1",\n  SIZE = "10" ]\n'
        'AR = [\n  TYPE = "ETHER",\n  SIZE = "4" ]\n'
    )


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=range(len(HOSTILE_VALUES)))
def test_hostile_values_parse_back_verbatim_and_alone(value):
    text = t.render({"BEFORE": "1", "VALUE": value, "VEC": {"A": value, "B": "2"}, "AFTER": "3"})
    assert oned_template.parse_text(text) == [("BEFORE", "1"), ("VALUE", value), ("VEC", {"A": value, "B": "2"}),
                                              ("AFTER", "3")]


def test_backslashes_are_not_doubled():
    """oned unescapes only \\" (a doubled backslash is stored doubled, so a re-run would write again)."""
    assert t.quote("a\\b") == '"a\\b"'
    assert t.quote('a"b') == '"a\\"b"'
    assert t.quote("C:\\dir\\") == "C:\\dir\\", "a final backslash is written bare"


@pytest.mark.parametrize("value, message", [
    ("a value\\", "ending in a backslash must be a single word"),
    ("C:\\Program Files\\", "ending in a backslash"),
    ("end]]>", "']]>' cannot be stored"),
    ("bell\x07", "control character U\\+0007"),
    ("dos\r\nline", "control character U\\+000D"),
])
def test_values_oned_cannot_store_verbatim_are_refused_naming_the_field(value, message):
    with pytest.raises(t.TemplateError, match=rf"^attributes\.DESCRIPTION: .*{message}"):
        t.normalize({"DESCRIPTION": value})
    with pytest.raises(t.TemplateError, match=rf"^attributes\.CONTEXT\.NOTE: .*{message}"):
        t.normalize({"CONTEXT": {"NOTE": value}})


@pytest.mark.parametrize("key", ["bad key", "A-B", "A.B", "É"])
def test_attribute_names_follow_oned_variables(key):
    with pytest.raises(t.TemplateError, match="invalid attribute name"):
        t.normalize({key: 1})


def test_invalid_attribute_name_names_the_field():
    with pytest.raises(t.TemplateError, match=r"attributes: invalid attribute name 'bad key'"):
        t.normalize({"bad key": 1})
    with pytest.raises(t.TemplateError, match=r"attributes\.CONTEXT\.X: a vector attribute holds only scalars"):
        t.normalize({"CONTEXT": {"X": {"nested": 1}}})


def test_normalize_single_item_list_is_the_item():
    assert t.normalize({"nic": [{"network": "a"}]}) == {"NIC": {"NETWORK": "a"}}
    assert t.normalize({"x": 1.0, "y": None, "z": False}) == {"X": "1", "Y": "", "Z": "NO"}


def test_differences_compare_declared_keys_and_subkeys_only():
    current = {"A": "1", "B": "2", "V": {"X": "1", "COMPUTED": "9"},
               "L": [{"P": "1", "ID": "0"}, {"P": "2", "ID": "1"}]}
    assert t.differences({"A": "1", "V": {"X": "1"}, "L": [{"P": "1"}, {"P": "2"}]}, current) == {}
    assert t.differences({"A": "2"}, current) == {"A": "2"}
    assert t.differences({"V": {"X": "2"}}, current) == {"V": {"X": "2"}}
    assert t.differences({"L": [{"P": "1"}]}, current) == {"L": [{"P": "1"}]}
    assert t.differences({"NEW": ""}, current) == {}, "an empty declared value equals an absent one"


def test_from_pyone_shapes():
    parsed = {"TEMPLATE": {"@xmlns": "x", "DNS": "10.0.0.1", "EMPTY": None, "NIC": [{"NETWORK": "a"}],
                           "CONTEXT": {"NETWORK": "YES"}}}
    assert t.from_pyone(parsed) == {"DNS": "10.0.0.1", "EMPTY": "", "NIC": {"NETWORK": "a"},
                                    "CONTEXT": {"NETWORK": "YES"}}
    assert t.from_pyone(None) == {}
