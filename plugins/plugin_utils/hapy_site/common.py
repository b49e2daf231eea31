# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every subject of the site model shares: the error type, value checks, academy settings, school names."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from ansible_collections.eole.hapy.plugins.module_utils.one_template import TemplateError, check_name, check_value

Site = Mapping[str, Any]
Network = dict[str, Any]
Errors = list[str]


class HapySiteError(ValueError):
    """The inventory cannot produce a plan or a guest configuration (run ``validation.validate_site`` first)."""


def _netaddr_missing(*args: Any, **kwargs: Any) -> Any:
    # not a ValueError: the value checks below must not read it as a bad address
    raise ModuleNotFoundError("the Python package netaddr is missing on the controller: pip install netaddr (an AWX "
                              "execution environment built from execution-environment.yml has it)")


# All address math of the site model uses netaddr, imported here only. Without it the plugins still load (ansible-doc,
# ansible-test's import check); the first address computed then says what is missing.
try:
    # IPSet is imported for plan and guests  # pylint: disable-next=unused-import
    from netaddr import AddrFormatError, IPAddress, IPNetwork, IPRange, IPSet
except ImportError:
    AddrFormatError = ValueError
    IPAddress = IPNetwork = IPRange = IPSet = _netaddr_missing


UAI_RE = re.compile(r"^[0-9]{7}[A-Za-z]$")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,14}$")
HOST_RE = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
ACADEMY_RE = re.compile(r"^[a-z][a-z0-9-]*$")
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")
BRIDGE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$")
EOLE_VAR_RE = re.compile(r"^[a-z][a-z0-9_]*$")
IQN_RE = re.compile(r"^iqn\.[0-9]{4}-[0-9]{2}\.[a-z0-9.-]+(:.+)?$")
WWID_RE = re.compile(r"^[0-9a-fA-F]{16,40}$")
CRON_RE = re.compile(r"^(\S+\s+){4}\S+$")
URL_RE = re.compile(r"^https?://[^\s/]+(/\S*)?$")

# Academy-wide defaults (``hapy_academy`` keys); see docs/inventory.md.
ACADEMY_DEFAULTS: dict[str, Any] = {
    "base": "10.0.0.0/8",  # school blocks are cut from here by hapy_school.index
    "school_prefix": 16,  # size of one school block
    "network_prefix": 24,  # size of one standard network inside the block
    "phydev": "eth1",  # host NIC carrying the VLAN trunk
    "vn_mad": "bridge",
    "dns": [],  # upstream resolvers (the wan DNS, the Amon's forwarders)
    "ntp": [],
    "update_servers": ["eole.ac-dijon.fr"],
    "time_zone": None,  # None: from the academy name (TIME_ZONES), else Europe/Paris
    "proxy": None,  # upstream proxy {address, port} for the Amon; LAN guests use their Amon
    "zephir": None,  # {address, user, password}
    "eole_release": None,  # the guests' EOLE release (releases.DEFAULT_RELEASE when no scope declares one)
    "era_models": [],  # the site's own ERA firewall models (type_amon), added to those EOLE ships
    "admin_networks": [],  # networks allowed to reach the guests' SSH and EAD (ip_ssh_eth0, ip_admin_eth0)
    "smtp_relay": None,  # the guests' mail relay (exim_relay_smtp)
    "mail_to": None,  # where the guests' system mail goes (system_mail_to)
    "uai_check_letter": True,  # false for example inventories whose UAIs are fictional
}

TIME_ZONES = {
    "ac-reunion": "Indian/Reunion",
    "ac-mayotte": "Indian/Mayotte",
    "ac-guadeloupe": "America/Guadeloupe",
    "ac-martinique": "America/Martinique",
    "ac-guyane": "America/Cayenne",
}
DEFAULT_TIME_ZONE = "Europe/Paris"


def ip4(value: Any) -> IPAddress | None:
    """``value`` as an IPv4 address, or None when it is not one."""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9.]+", value):
        return None
    try:
        addr = IPAddress(value, version=4)
    except (AddrFormatError, ValueError, TypeError):
        return None
    return addr if str(addr) == value else None


def net4(value: Any) -> IPNetwork | None:
    """``value`` as an IPv4 network ``a.b.c.d/nn`` (host bits clear), or None."""
    if not isinstance(value, str) or "/" not in value:
        return None
    addr, _sep, prefix = value.partition("/")
    if ip4(addr) is None or not prefix.isdigit() or not 0 <= int(prefix) <= 32:
        return None
    net = IPNetwork(value, version=4)
    return net if net.ip == net.network else None


def is_int(value: Any) -> bool:
    """An int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_text(value: Any) -> bool:
    """A non-empty string (vaulted values count: they render as strings)."""
    return value is not None and not isinstance(value, (bool, int, float, list, dict)) and str(value) != ""


def as_list(value: Any) -> list[Any]:
    """None as [], a scalar as [scalar], a sequence as a list."""
    return [] if value is None else list(value) if isinstance(value, (list, tuple)) else [value]


def ip_range(spec: str) -> IPRange:
    """``a.b.c.d`` or ``a.b.c.d-e.f.g.h`` as an IPRange (spec already validated)."""
    first, _sep, last = spec.partition("-")
    return IPRange(first, last or first)


def ar_range(net: Mapping[str, Any]) -> IPRange:
    """The OpenNebula address range of a network of the plan (``ar``: first address and size)."""
    return IPRange(net["ar"]["ip"], str(IPAddress(net["ar"]["ip"]) + (net["ar"]["size"] - 1)))


def one_name_errors(value: Any, path: str) -> Errors:
    """``[]`` when OpenNebula accepts ``value`` as an object name, else the error naming ``path``."""
    if not isinstance(value, str):
        return [f"{path}: {value!r}; expected an OpenNebula name (text)"]
    try:
        check_name(value, path)
    except TemplateError as exc:
        return [str(exc)]
    return []


def one_text_errors(value: Any, path: str) -> Errors:
    """``[]`` when ``value`` can be stored verbatim in an OpenNebula template attribute, else the error."""
    try:
        check_value(str(value), path)
    except TemplateError as exc:
        return [str(exc)]
    return []


# The UAI (ex-RNE) check letter: the 7 digits modulo 23, as a letter of the alphabet without I, O and Q.
UAI_CHECK_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


def uai_check_letter(digits: str) -> str:
    """The check letter of a UAI's first 7 characters (``0750654`` -> ``D``)."""
    return UAI_CHECK_LETTERS[int(digits) % 23]


def unknown_keys(item: Mapping[str, Any], allowed: set[str], path: str) -> Errors:
    """One error per key of ``item`` outside ``allowed`` (typos such as ``vlan`` for ``vlan_id``)."""
    return [
        f"{path}.{key}: unknown key; expected one of {', '.join(sorted(allowed))}"
        for key in item if key not in allowed
    ]


def academy_settings(academy: Mapping[str, Any] | None) -> dict[str, Any]:
    """``hapy_academy`` merged over :data:`ACADEMY_DEFAULTS`."""
    merged = copy.deepcopy(ACADEMY_DEFAULTS)
    merged.update({k: v for k, v in (academy or {}).items() if v is not None})
    return merged


def time_zone(academy: Mapping[str, Any] | None, academy_name: str | None = None) -> str:
    """The guests' time zone: ``hapy_academy.time_zone``, else from the academy name, else Europe/Paris."""
    settings = academy_settings(academy)
    name = academy_name or settings.get("name") or ""
    return settings["time_zone"] or TIME_ZONES.get(name, DEFAULT_TIME_ZONE)


def local_domain(school: Mapping[str, Any]) -> str:
    """EOLE ``nom_domaine_local``: ``hapy_school.domain``; a single label (``lan``) becomes ``<uai>.<academy>.lan``."""
    domain = str(school["domain"]).lower()
    if "." in domain:
        return domain
    return f"{str(school['uai']).lower()}.{school['academy']}.{domain}"


ONE_API_PORT = 2633


def api_url(hapy_one: Mapping[str, Any] | None, hapy_one_api_url: str | None, frontend: str,
            hapy_ha: Mapping[str, Any] | None = None) -> str:
    """The school's OpenNebula XML-RPC API: ``hapy_one.api_url``, else ``hapy_one_api_url``, else port 2633 of an
    HA school's floating address (``hapy_ha.vip``, held by the zone's leader), else the frontend's (the one place
    this is derived; ``eole.hapy.hapy_site_check`` returns it)."""
    explicit = (hapy_one or {}).get("api_url") or hapy_one_api_url
    if explicit:
        return str(explicit)
    host = str(hapy_ha["vip"]).partition("/")[0] if hapy_ha and hapy_ha.get("vip") else frontend
    return f"http://{host}:{ONE_API_PORT}/RPC2"


def cluster_name(school: Mapping[str, Any]) -> str:
    """The school's OpenNebula cluster: ``hapy-<uai>``."""
    return f"hapy-{str(school['uai']).lower()}"
