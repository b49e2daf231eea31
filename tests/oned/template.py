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


_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r]+)
  | (?P<nl>\n)
  | (?P<comment>\#[^\n]*)
  | (?P<eq>=)
  | (?P<lbr>\[)
  | (?P<rbr>\])
  | (?P<comma>,)
  | (?P<quoted>"(?:\\.|[^"\\])*")
  | (?P<word>[^\s=\[\],"\#]+)
    """,
    re.VERBOSE | re.DOTALL,
)


def _unescape(quoted: str) -> str:
    body = quoted[1:-1]
    return re.sub(r"\\(.)", lambda m: m.group(1) if m.group(1) in '"\\' else m.group(0), body, flags=re.DOTALL)


def _tokens(text: str) -> list[tuple[str, str, int, int]]:
    out = []
    pos, line, col = 0, 1, 1
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise TemplateError(
                f"Parse error: syntax error, unexpected $undefined, at line {line}, columns {col}:{col + 1}"
            )
        kind, val = m.lastgroup, m.group()
        if kind not in ("ws", "comment"):
            out.append((kind, val, line, col))
        nl = val.count("\n")
        if nl:
            line += nl
            col = len(val) - val.rfind("\n")
        else:
            col += len(val)
        pos = m.end()
    return out


def _syntax_error(tok: tuple[str, str, int, int] | None) -> TemplateError:
    if tok is None:
        return TemplateError("Parse error: syntax error, unexpected $end")
    kind, val, line, col = tok
    names = {"eq": "EQUAL", "lbr": "OBRACKET", "rbr": "CBRACKET", "comma": "COMMA",
             "quoted": "STRING", "word": "VARIABLE", "nl": "EOL"}
    return TemplateError(
        f"Parse error: syntax error, unexpected {names.get(kind, kind)}, "
        f"expecting VARIABLE at line {line}, columns {col}:{col + len(val)}"
    )


def parse_text(text: str) -> Template:
    """Parse oned's ``KEY = value`` / ``KEY = [ a = b, ... ]`` syntax."""
    toks = _tokens(text)
    out: Template = []
    i = 0

    def peek(k: int = 0) -> tuple[str, str, int, int] | None:
        return toks[i + k] if i + k < len(toks) else None

    def value_of(tok: tuple[str, str, int, int]) -> str:
        return _unescape(tok[1]) if tok[0] == "quoted" else tok[1]

    while i < len(toks):
        tok = toks[i]
        if tok[0] in ("nl", "comma"):
            i += 1
            continue
        if tok[0] != "word":
            raise _syntax_error(tok)
        name = tok[1].upper()
        i += 1
        if peek() is None or peek()[0] != "eq":
            raise _syntax_error(peek())
        i += 1
        nxt = peek()
        if nxt is None or nxt[0] == "nl":
            out.append((name, ""))
            continue
        if nxt[0] in ("quoted", "word"):
            parts = [value_of(nxt)]
            i += 1
            # unquoted values may contain blanks up to the end of the line
            while nxt[0] == "word" and peek() is not None and peek()[0] == "word":
                parts.append(peek()[1])
                i += 1
            out.append((name, " ".join(parts)))
            continue
        if nxt[0] != "lbr":
            raise _syntax_error(nxt)
        i += 1
        vec: dict[str, str] = {}
        while True:
            t = peek()
            if t is None:
                raise _syntax_error(None)
            if t[0] in ("nl", "comma"):
                i += 1
                continue
            if t[0] == "rbr":
                i += 1
                break
            if t[0] != "word":
                raise _syntax_error(t)
            key = t[1].upper()
            i += 1
            if peek() is None or peek()[0] != "eq":
                raise _syntax_error(peek())
            i += 1
            v = peek()
            if v is not None and v[0] in ("quoted", "word"):
                vec[key] = value_of(v)
                i += 1
            else:
                vec[key] = ""
        out.append((name, vec))
    return out


def parse_xml(text: str) -> Template:
    """Parse an XML template (``<TEMPLATE><KEY>v</KEY>...</TEMPLATE>``)."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise TemplateError(f"Error parsing XML Template: {exc}") from exc
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
    stripped = text.lstrip()
    if stripped.startswith("<"):
        return parse_xml(stripped)
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
