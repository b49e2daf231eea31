# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenNebula template syntax: render, parse and normalise attribute dictionaries.

OpenNebula templates are lines of ``KEY = "value"`` and vector attributes ``KEY = [ A = "x", B = "y" ]``;
a key may repeat (several ``AR``, ``NIC``, ``DISK``). In Python a template is a dict whose keys are upper-case,
scalar values are strings, vectors are dicts and repeated keys are lists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

Template = dict[str, Any]

_KEY_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-.]*$")


class TemplateError(ValueError):
    """A template value cannot be rendered or parsed."""


def scalar(value: Any) -> str:
    """The OpenNebula string form of a scalar: booleans are YES/NO, None is empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "YES" if value else "NO"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def quote(value: Any) -> str:
    """Quote a scalar for a template, escaping backslashes and double quotes."""
    text = scalar(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


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
            vector[_check_key(key, where)] = scalar(item)
        return vector
    if isinstance(value, (list, tuple)):
        items = [_normalize_value(item, f"{where}[{i}]") for i, item in enumerate(value)]
        if any(isinstance(item, list) for item in items):
            raise TemplateError(f"{where}: nested lists cannot be expressed in an OpenNebula template")
        return items[0] if len(items) == 1 else items
    return scalar(value)


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


_TOKEN_RE = re.compile(
    r"""
    (?P<space>[ \t\r\n]+|\#[^\n]*)
  | (?P<quoted>"(?:[^"\\]|\\.)*")
  | (?P<punct>[=\[\],])
  | (?P<bare>[^\s=\[\],"#]+)
    """,
    re.VERBOSE | re.DOTALL,
)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            raise TemplateError(f"template syntax error at offset {pos}: {text[pos:pos + 20]!r}")
        kind = match.lastgroup or ""
        if kind == "quoted":
            raw = match.group()[1:-1]
            tokens.append(("value", re.sub(r"\\(.)", r"\1", raw, flags=re.DOTALL)))
        elif kind == "bare":
            tokens.append(("value", match.group()))
        elif kind == "punct":
            tokens.append((match.group(), match.group()))
        pos = match.end()
    return tokens


def parse(text: str) -> Template:
    """Parse OpenNebula template text into the canonical dict form (the inverse of :func:`render`)."""
    tokens = _tokens(text)
    result: Template = {}
    i = 0

    def expect(kind: str) -> str:
        nonlocal i
        if i >= len(tokens) or tokens[i][0] != kind:
            found = tokens[i][1] if i < len(tokens) else "end of template"
            raise TemplateError(f"template syntax error: expected {kind!r}, found {found!r}")
        i += 1
        return tokens[i - 1][1]

    while i < len(tokens):
        key = _check_key(expect("value"), "template")
        expect("=")
        if i < len(tokens) and tokens[i][0] == "[":
            i += 1
            vector: dict[str, str] = {}
            while i < len(tokens) and tokens[i][0] != "]":
                sub = _check_key(expect("value"), f"template.{key}")
                expect("=")
                vector[sub] = expect("value") if i < len(tokens) and tokens[i][0] == "value" else ""
                if i < len(tokens) and tokens[i][0] == ",":
                    i += 1
            expect("]")
            value: Any = vector
        elif i < len(tokens) and tokens[i][0] == "value" and not _is_next_key(tokens, i):
            value = expect("value")
        else:
            value = ""
        _append(result, key, value)
    return result


def _is_next_key(tokens: list[tuple[str, str]], i: int) -> bool:
    """True when tokens[i] starts the next ``KEY =`` (so the current attribute had an empty bare value)."""
    return i + 1 < len(tokens) and tokens[i + 1][0] == "="


def _append(result: Template, key: str, value: Any) -> None:
    if key not in result:
        result[key] = value
    elif isinstance(result[key], list):
        result[key].append(value)
    else:
        result[key] = [result[key], value]


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
