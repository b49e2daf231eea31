"""oned template syntax: parser (text and XML), merge, and XML rendering.

A template is a list of ``(NAME, value)`` pairs where ``value`` is a ``str``
(single attribute) or a ``dict[str, str]`` (vector attribute).  Repeated
names are allowed (several ``AR``, ``NIC``, ``DISK``...).  Like oned's
``Template`` (a ``std::multimap``) attributes render sorted by name, keeping
insertion order among equal names; vector members render sorted by name.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

Value = str | dict
Template = list  # list[tuple[str, Value]]


class TemplateError(ValueError):
    """Raised on a template that oned's parser would reject."""


# Tokens of oned's flex scanner (src/parsers/template_parser.l).  ``INITIAL``
# rules, then ``VALUE`` rules (the state entered after ``=``); flex takes the
# longest match, the first rule on ties; unmatched characters are dropped.
_INITIAL = [
    ("skip", re.compile(r"[ \t]*#.*\n")),
    ("skip", re.compile(r"[ \t\n]+")),
    ("VARIABLE", re.compile(r"[A-Za-z0-9_]+")),
    ("EQUAL", re.compile(r"[ \t]*=[ \t]*")),
    ("EQUAL_EMPTY", re.compile(r"[ \t]*=[ \t]*\n")),
    ("COMMA", re.compile(r"[ \t\n]*,[ \t\n]*")),
    ("CBRACKET", re.compile(r"[ \t\n]*\][ \t\n]*")),
]
_VALUE = [
    ("OBRACKET", re.compile(r"[ \t]*\[[ \t\n]*")),
    ("CCDATA", re.compile(r".*\]\]>.*")),
    ("STRING", re.compile(r'"(?:\\"|[^"])*"')),
    ("STRING", re.compile(r"[^=#\s,\[\]]+")),
]
# What bison (YYERROR_VERBOSE) says is expected after each kind of token.
_EXPECT = {
    None: "$end or VARIABLE", "attr": "$end or VARIABLE", "VARIABLE": "EQUAL or EQUAL_EMPTY",
    "EQUAL": "OBRACKET or CCDATA or STRING", "OBRACKET": "CBRACKET or VARIABLE",
    "vVARIABLE": "EQUAL", "vEQUAL": "STRING", "vSTRING": "COMMA or CBRACKET", "COMMA": "VARIABLE",
}


def _scan(text: str) -> list[tuple[str, str, int, int]]:
    """Tokens as (kind, text, line, first_column); columns count from 1 over the whole text,
    as the scanner's YY_USER_ACTION does (it never resets them at new lines)."""
    out, pos, line, value_state = [], 0, 1, False
    while pos < len(text):
        best = None
        for kind, rx in (_VALUE if value_state else _INITIAL):
            m = rx.match(text, pos)
            if m and m.end() > pos and (best is None or m.end() > best[1].end()):
                best = (kind, m)
        if best is None:
            pos += 1
            continue
        kind, m = best
        if kind != "skip":
            out.append((kind, m.group(), line, pos + 1))
        value_state = kind == "EQUAL"
        line += m.group().count("\n")
        pos = m.end()
    return out


def _unescape(token: str) -> str:
    """Quoted values lose their quotes and ``\"`` becomes ``"`` (nothing else is unescaped)."""
    if token.startswith('"') and token.endswith('"') and len(token) >= 2:
        token = token[1:-1]
    return token.replace('\\"', '"')


def parse_text(text: str) -> Template:
    """Parse oned's template syntax (src/parsers/template_syntax.y)."""
    toks = _scan(text)
    out: Template = []
    i, state = 0, None

    def fail(tok: tuple | None) -> TemplateError:
        if tok is None:
            got, where = "$end", ""
        else:
            got, where = tok[0], f" at line {tok[2]}, columns {tok[3]}:{tok[3] + len(tok[1])}"
        return TemplateError(f"Parse error: syntax error, unexpected {got}, expecting "
                             f"{_EXPECT[state]}{where}")

    def take(*kinds: str) -> tuple:
        nonlocal i
        tok = toks[i] if i < len(toks) else None
        if tok is None or tok[0] not in kinds:
            raise fail(tok)
        i += 1
        return tok

    while i < len(toks):
        state = "attr" if out else None
        name = take("VARIABLE")[1].upper()
        state = "VARIABLE"
        if take("EQUAL", "EQUAL_EMPTY")[0] == "EQUAL_EMPTY":
            out.append((name, ""))
            continue
        state = "EQUAL"
        tok = take("STRING", "OBRACKET", "CCDATA")
        if tok[0] == "CCDATA":
            raise TemplateError("Parse error.")
        if tok[0] == "STRING":
            out.append((name, _unescape(tok[1])))
            continue
        vec: dict[str, str] = {}
        state = "OBRACKET"
        if take("VARIABLE", "CBRACKET")[0] == "VARIABLE":
            i -= 1
            while True:
                key = take("VARIABLE")[1].upper()
                state = "vVARIABLE"
                take("EQUAL")
                state = "vEQUAL"
                vec.setdefault(key, _unescape(take("STRING")[1]))
                state = "vSTRING"
                if take("COMMA", "CBRACKET")[0] == "CBRACKET":
                    break
                state = "COMMA"
        out.append((name, vec))
    return out


def parse_xml(text: str) -> Template:
    """Parse an XML template (``<TEMPLATE><KEY>v</KEY>...</TEMPLATE>``)."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise TemplateError("Error parsing XML Template") from exc
    out: Template = []
    for child in root:
        name = child.tag.upper()
        if len(child):
            out.append((name, {sub.tag.upper(): (sub.text or "") for sub in child}))
        else:
            out.append((name, child.text or ""))
    return out


def parse(text: str) -> Template:
    """Parse a template string or XML document, as oned's ``parse_str_or_xml``."""
    if text.startswith("<"):
        return parse_xml(text)
    return parse_text(text)


def get(tmpl: Template, name: str, default: str | None = None) -> str | None:
    """First single value named ``name``."""
    for key, val in tmpl:
        if key == name and isinstance(val, str):
            return val
    return default


def get_all(tmpl: Template, name: str) -> list:
    """All values named ``name``."""
    return [val for key, val in tmpl if key == name]


def erase(tmpl: Template, name: str) -> list:
    """Remove and return every attribute named ``name``."""
    removed = [val for key, val in tmpl if key == name]
    tmpl[:] = [(key, val) for key, val in tmpl if key != name]
    return removed


def replace(tmpl: Template, name: str, value: Value) -> None:
    """Set a single attribute, dropping previous ones with that name."""
    erase(tmpl, name)
    tmpl.append((name, value))


def merge(base: Template, new: Template) -> Template:
    """oned's ``Template::merge``: attributes in ``new`` replace those of ``base`` by name."""
    names = {key for key, _ in new}
    return [(k, v) for k, v in base if k not in names] + [(k, v) for k, v in new]


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def to_xml(tmpl: Template, tag: str = "TEMPLATE") -> str:
    """Render like oned: sorted names, CDATA values, vectors as nested elements."""
    parts = [f"<{tag}>"]
    for name, val in sorted(tmpl, key=lambda kv: kv[0]):
        if isinstance(val, dict):
            inner = "".join(f"<{k}>{_cdata(str(v))}</{k}>" for k, v in sorted(val.items()))
            parts.append(f"<{name}>{inner}</{name}>")
        else:
            parts.append(f"<{name}>{_cdata(str(val))}</{name}>")
    parts.append(f"</{tag}>")
    return "".join(parts) if len(parts) > 2 else f"<{tag}/>"


def to_json(tmpl: Template) -> list:
    """JSON-friendly form (for the state file)."""
    return [[k, v] for k, v in tmpl]


def from_json(data: list) -> Template:
    """Inverse of :func:`to_json`."""
    return [(k, v) for k, v in data]
