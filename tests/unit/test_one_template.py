"""OpenNebula template syntax: rendering, parsing, normalisation and comparison."""

from __future__ import annotations

import pytest
from ansible_collections.eole.hapy.plugins.module_utils import one_template as t


def test_render_scalars_vectors_and_repeats():
    text = t.render({"name": "net", "vlan_id": 20, "filter_ip_spoofing": True,
                     "ar": [{"type": "IP4", "ip": "10.0.0.1", "size": 10}, {"type": "ETHER", "size": 4}]})
    assert text == (
        'NAME = "net"\nVLAN_ID = "20"\nFILTER_IP_SPOOFING = "YES"\n'
        'AR = [\n  TYPE = "IP4",\n  IP = "10.0.0.1",\n  SIZE = "10" ]\n'
        'AR = [\n  TYPE = "ETHER",\n  SIZE = "4" ]\n'
    )


def test_quotes_and_backslashes_are_escaped_and_round_trip():
    value = 'say "hi" C:\\temp\\ and a newline\nhere'
    text = t.render({"DESCRIPTION": value, "CONTEXT": {"START_SCRIPT": 'echo "x" \\ y'}})
    assert '\\"hi\\"' in text and "C:\\\\temp" in text
    assert t.parse(text) == {"DESCRIPTION": value, "CONTEXT": {"START_SCRIPT": 'echo "x" \\ y'}}


def test_parse_oned_forms():
    text = """
    # a comment
    NAME = bare_value
    dns="10.0.0.1"
    AR=[TYPE="IP4",IP="10.0.0.2",SIZE="5"]
    AR = [ TYPE = "ETHER", SIZE = "1" ]
    EMPTY =
    LAST = "x"
    """
    assert t.parse(text) == {
        "NAME": "bare_value",
        "DNS": "10.0.0.1",
        "AR": [{"TYPE": "IP4", "IP": "10.0.0.2", "SIZE": "5"}, {"TYPE": "ETHER", "SIZE": "1"}],
        "EMPTY": "",
        "LAST": "x",
    }


@pytest.mark.parametrize("text", ['NAME = "unterminated', "= value", "AR = [ TYPE = \"IP4\""])
def test_parse_errors_are_clear(text):
    with pytest.raises(t.TemplateError, match="template syntax error|expected"):
        t.parse(text)


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
