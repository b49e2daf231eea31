"""Read an object straight from the endpoint's API (stand-in or real oned alike), as oneadmin."""

from __future__ import annotations

import xml.etree.ElementTree as ET
import xmlrpc.client
from typing import Any

ONEADMIN = "oneadmin:opennebula"


def xml(oned: Any, method: str, *args: Any) -> ET.Element:
    """The XML document answered by ``method``; fails the test on an error answer."""
    answer = getattr(xmlrpc.client.ServerProxy(oned.url), method)(ONEADMIN, *args)
    assert answer[0], f"{method}{args}: {answer[1]}"
    return ET.fromstring(answer[1])


def acl_rules(oned: Any) -> list[tuple[int, int, int, int, int]]:
    """Every ACL rule as (id, user, resource, rights, zone), the numbers oned keeps (hex in its XML)."""
    return [(int(r.findtext("ID")), *(int(r.findtext(f), 16) for f in ("USER", "RESOURCE", "RIGHTS", "ZONE")))
            for r in xml(oned, "one.acl.info").findall("ACL")]
