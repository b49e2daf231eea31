# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The academy's schools checked against each other (UAIs, indexes, frontends, API URLs, subnets, passwords)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.common import Errors, IPNetwork, Site, ip4
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.plan import validate_networks
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.validation import validate_school

PASSWORD_DIGESTS = (("root_password_digest", "hapy_eole_root_password", "root password"),
                    ("addc_password_digest", "hapy_eole_addc_password", "AD administrator password"))
"""The guests' passwords that must differ from school to school: (digest key of a site, variable, what it is)."""


def _is_loopback_url(url: str) -> bool:
    host = urlsplit(str(url)).hostname or ""
    address = ip4(host)
    return host == "localhost" or (address is not None and address.is_loopback())


def validate_academy(sites: Mapping[str, Site], frontends: Mapping[str, list[str]] | None = None) -> Errors:
    """Errors across the schools of an academy (``{school group: its hapy_* variables}``).

    Each school is routed through the academy and converged through its own OpenNebula: two schools must not
    share a UAI, a school index, any subnet, a frontend address (``frontends``: ``{school group: [addresses]}``)
    or an OpenNebula API URL, nor their guests' root or AD administrator password (``root_password_digest``,
    ``addc_password_digest``: digests of ``hapy_eole_root_password``, ``hapy_eole_addc_password``). Schools whose
    own inventory is invalid are skipped (:func:`validate_site` reports them).
    """
    errors: Errors = []
    owners: dict[tuple[str, str], str] = {}  # (what, value) -> the first group using it
    password_owners: dict[tuple[str, str], str] = {}  # (kind, digest of a password) -> the first group using it

    def unique(group: str, what: str, value: Any, hint: str) -> None:
        first = owners.setdefault((what, str(value)), group)
        if first != group:
            errors.append(f"{group}: {what} {value} already used by {first}; expected {hint}")

    spans: list[tuple[int, int, str, str]] = []
    for group, site in sorted(sites.items()):
        school = site.get("hapy_school")
        if validate_school(school):
            continue
        unique(group, "hapy_school.uai", str(school["uai"]).upper(), "one group per school")
        if school.get("index") is not None:
            unique(group, "hapy_school.index", school["index"], "one index per school")
        for address in sorted(set((frontends or {}).get(group, []))):
            unique(group, "frontend address", address, "one OpenNebula frontend per school")
        api_url = (site.get("hapy_one") or {}).get("api_url") if isinstance(site.get("hapy_one"), Mapping) else None
        if api_url and not _is_loopback_url(api_url):  # a loopback URL is per controller (a tunnel, a test bed)
            unique(group, "hapy_one.api_url", api_url, "one OpenNebula per school")
        for key, variable, what in PASSWORD_DIGESTS:
            digest = site.get(key)
            sharing = password_owners.setdefault((key, digest), group) if digest else group
            if sharing != group:
                errors.append(f"{group}: {variable} is the same as {sharing}'s; expected one {what} per school "
                              "(from the vault), never one academy-wide password")
        _errors, plan = validate_networks(site)
        spans += [(IPNetwork(n["cidr"]).first, IPNetwork(n["cidr"]).last, group, n["cidr"]) for n in plan]
    spans.sort()
    widest: tuple[int, int, str, str] | None = None  # the span reaching furthest so far
    for span in spans:
        if widest and span[0] <= widest[1] and span[2] != widest[2]:
            errors.append(f"{span[2]}: network {span[3]} overlaps {widest[3]} of {widest[2]}; "
                          "expected disjoint school subnets (check hapy_school.index/block)")
        if widest is None or span[1] > widest[1]:
            widest = span
    return errors
