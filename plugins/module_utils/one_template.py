# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenNebula template syntax: render, read back (from pyone) and normalise attribute dictionaries.

OpenNebula templates are lines of ``KEY = "value"`` and vector attributes ``KEY = [ A = "x", B = "y" ]``;
a key may repeat (several ``AR``, ``NIC``, ``DISK``). In Python a template is a dict whose keys are upper-case,
scalar values are strings, vectors are dicts and repeated keys are lists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

Template = dict[str, Any]

# oned's lexer (src/parsers/template_parser.l): a VARIABLE is [[:alnum:]_]+; a bare value is any run of
# characters but blanks, new lines, '=', '#', ',', '[' and ']'; in a quoted value only \" is an escape
# (template_syntax.y unescape() turns \" into " and leaves every other backslash as it is).
_KEY_RE = re.compile(r"^[A-Za-z0-9_]+$")
_BARE_RE = re.compile(r'^[^=#\s,\[\]"]+$')
# What cannot reach oned's stored XML intact: XML 1.0 refuses C0 controls but tab and new line (a carriage
# return is turned into a new line by the XML parser), and oned keeps values in CDATA sections.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class TemplateError(ValueError):
    """A template value cannot be rendered or parsed."""


# src/pool/PoolObjectSQL.cc: INVALID_NAME_CHARS, and names are at most 128 characters.
ONE_INVALID_NAME_CHARS = "&|:\\\";/'#{}$<>\t\n\v\f\r"
ONE_NAME_MAX_LENGTH = 128


def check_name(name: str, field: str, invalid_chars: str = ONE_INVALID_NAME_CHARS) -> str:
    """``name`` if oned accepts it as an object NAME, else a TemplateError naming ``field`` and the rule."""
    if not name:
        raise TemplateError(f"{field}: an OpenNebula name cannot be empty")
    bad = next((ch for ch in name if ch in invalid_chars), None)
    if bad is not None:
        shown = "".join(ch for ch in invalid_chars if ch.isprintable() and ch != " ")
        blanks = "spaces, tabs or new lines" if " " in invalid_chars else "tabs or new lines"
        raise TemplateError(f"{field}: {name!r} contains {bad!r}; OpenNebula names cannot contain any of {shown} "
                            f"nor {blanks}")
    if len(name) > ONE_NAME_MAX_LENGTH:
        raise TemplateError(f"{field}: {len(name)} characters; OpenNebula names are at most {ONE_NAME_MAX_LENGTH}")
    return name


def scalar(value: Any) -> str:
    """The OpenNebula string form of a scalar: booleans are YES/NO, None is empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "YES" if value else "NO"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def check_value(text: str, where: str) -> str:
    """``text`` if oned can store it verbatim, else a TemplateError naming ``where`` and what is refused."""
    bad = _CONTROL_RE.search(text)
    if bad:
        raise TemplateError(f"{where}: control character U+{ord(bad.group()):04X} cannot be stored in an OpenNebula "
                            "template; expected printable text (tabs and new lines are allowed)")
    if "]]>" in text:
        raise TemplateError(f"{where}: the sequence ']]>' cannot be stored in an OpenNebula template "
                            "(oned keeps values in XML CDATA sections)")
    if text.endswith("\\") and not _BARE_RE.match(text):
        raise TemplateError(f"{where}: a value ending in a backslash must be a single word without quotes or any of "
                            "= # , [ ] (OpenNebula's template lexer reads a final \\\" as an escaped quote)")
    return text


def quote(value: Any, where: str = "value") -> str:
    """A scalar as oned's lexer reads it back verbatim: quoted with only ``"`` escaped, or bare when it ends
    in a backslash (which a closing quote would turn into an escaped quote)."""
    text = check_value(scalar(value), where)
    if text.endswith("\\"):
        return text
    escaped = text.replace('"', '\\"')
    return f'"{escaped}"'


def _check_key(key: str, where: str) -> str:
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise TemplateError(f"{where}: invalid attribute name {key!r}; expected letters, digits and '_'")
    return key.upper()


def normalize(attrs: Mapping[str, Any] | None, where: str = "attributes") -> Template:
    """Canonical form of an attribute dict: upper-case keys, string scalars, dict vectors, lists for repeats.

    One-element lists stay lists only for keys given as lists, so that a declaration compares equal to what
    OpenNebula returns (a single NIC comes back as a dict, several as a list).
    """
    result: Template = {}
    for key, value in (attrs or {}).items():
        name = _check_key(key, where)
        result[name] = _normalize_value(value, f"{where}.{key}")
    return result


def _normalize_value(value: Any, where: str) -> Any:
    if isinstance(value, Mapping):
        vector = {}
        for key, item in value.items():
            if isinstance(item, (Mapping, list, tuple)):
                raise TemplateError(f"{where}.{key}: a vector attribute holds only scalars, got {type(item).__name__}")
            vector[_check_key(key, where)] = check_value(scalar(item), f"{where}.{key}")
        return vector
    if isinstance(value, (list, tuple)):
        items = [_normalize_value(item, f"{where}[{i}]") for i, item in enumerate(value)]
        if any(isinstance(item, list) for item in items):
            raise TemplateError(f"{where}: nested lists cannot be expressed in an OpenNebula template")
        return items[0] if len(items) == 1 else items
    return check_value(scalar(value), where)


def render(attrs: Mapping[str, Any]) -> str:
    """Render an attribute dict as OpenNebula template text (one attribute per line)."""
    lines: list[str] = []
    for key, value in normalize(attrs).items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                inner = ",\n  ".join(f"{k} = {quote(v)}" for k, v in item.items())
                lines.append(f"{key} = [\n  {inner} ]")
            else:
                lines.append(f"{key} = {quote(item)}")
    return "\n".join(lines) + ("\n" if lines else "")


def from_pyone(template: Any) -> Template:
    """Canonical dict from a TEMPLATE parsed by pyone (xmltodict: OrderedDicts, None for empty elements)."""
    if template is None:
        return {}
    if hasattr(template, "_root"):
        template = template._root
    if not isinstance(template, Mapping):
        return {}
    if len(template) == 1 and set(template) <= {"TEMPLATE", "USER_TEMPLATE"}:  # pyone keeps the root element
        template = next(iter(template.values())) or {}
    result: Template = {}
    for key, value in template.items():
        if key.startswith("@"):
            continue
        result[key.upper()] = _from_pyone_value(value)
    return result


def _from_pyone_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k.upper(): scalar(v) for k, v in value.items() if not k.startswith("@") and not isinstance(v, Mapping)}
    if isinstance(value, list):
        items = [_from_pyone_value(v) for v in value]
        return items[0] if len(items) == 1 else items
    return scalar(value)


def differences(desired: Template, current: Template) -> dict[str, Any]:
    """The declared attributes whose current value differs: ``{KEY: desired_value}``.

    Keys that are not declared are not compared (OpenNebula adds its own). Vectors compare on their
    declared sub-attributes only, so computed sub-attributes (e.g. ``AR_ID``) do not count as drift.
    """
    return {key: value for key, value in desired.items() if not same_value(value, current.get(key))}


def same_value(desired: Any, current: Any) -> bool:
    """Whether a declared value is already in place (vectors: declared sub-keys only; lists: same length, pairwise)."""
    if isinstance(desired, dict):
        return isinstance(current, dict) and all(same_value(v, current.get(k)) for k, v in desired.items())
    if isinstance(desired, list):
        return (
            isinstance(current, list)
            and len(desired) == len(current)
            and all(same_value(d, c) for d, c in zip(desired, current, strict=True))
        )
    if current is None:
        return desired == ""
    return desired == current
