"""Small helpers to write oned-shaped XML."""

from __future__ import annotations

from collections.abc import Iterable
from xml.sax.saxutils import escape


def el(tag: str, value: object) -> str:
    """``<TAG>escaped value</TAG>``."""
    return f"<{tag}>{escape(str(value))}</{tag}>"


def cdata_el(tag: str, value: object) -> str:
    """``<TAG><![CDATA[value]]></TAG>``."""
    text = str(value).replace("]]>", "]]]]><![CDATA[>")
    return f"<{tag}><![CDATA[{text}]]></{tag}>"


def ids(tag: str, values: Iterable[int]) -> str:
    """An oned ObjectCollection: ``<TAG><ID>1</ID>...</TAG>``."""
    return f"<{tag}>" + "".join(f"<ID>{v}</ID>" for v in sorted(values)) + f"</{tag}>"


PERM_KEYS = ("OWNER_U", "OWNER_M", "OWNER_A", "GROUP_U", "GROUP_M", "GROUP_A",
             "OTHER_U", "OTHER_M", "OTHER_A")


def perms(values: list) -> str:
    """``<PERMISSIONS>`` block from 9 ints."""
    return "<PERMISSIONS>" + "".join(el(k, v) for k, v in zip(PERM_KEYS, values, strict=True)) + "</PERMISSIONS>"


def lock(value: dict | None) -> str:
    """``<LOCK>`` block, omitted when the object is not locked (as oned does)."""
    if not value:
        return ""
    return ("<LOCK>" + el("LOCKED", value["LOCKED"]) + el("OWNER", value["OWNER"])
            + el("TIME", value["TIME"]) + el("REQ_ID", value.get("REQ_ID", -1)) + "</LOCK>")


def umask_perms(umask: int = 0o177) -> list:
    """Permissions oned gives a new object for a umask (default 177 → ``um- --- ---``)."""
    mode = 0o777 & ~umask
    bits = []
    for shift in (6, 3, 0):
        part = (mode >> shift) & 0o7
        bits += [1 if part & 4 else 0, 1 if part & 2 else 0, 1 if part & 1 else 0]
    return bits
