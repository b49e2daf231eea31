# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja2 filters exposing the school site model (``plugins/plugin_utils/hapy_site/``) to playbooks.

Documentation of each filter lives in the sidecar ``plugins/filter/<filter name>.yml``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site import academy, context, eole_config, guests, plan
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.common import HapySiteError
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.validation import SITE_VARS, validate_site


def _plain(value: Any) -> Any:
    """Ansible's lazy/tagged containers (hostvars, tagged dicts) as plain dicts and lists."""
    if isinstance(value, Mapping):
        return {key: _plain(value[key]) for key in value}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _wrap(func: Callable[..., Any]) -> Callable[..., Any]:
    """Plain inputs in, :class:`AnsibleFilterError` out instead of :class:`HapySiteError`."""
    def filter_(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*map(_plain, args), **{k: _plain(v) for k, v in kwargs.items()})
        except HapySiteError as exc:
            raise AnsibleFilterError(f"{func.__name__}: {exc}") from exc
    filter_.__name__ = func.__name__
    filter_.__doc__ = func.__doc__
    return filter_


def _site_vars(host_vars: Mapping[str, Any]) -> dict[str, Any]:
    """The ``hapy_*`` variables of one host, read from (lazy) hostvars without templating anything else."""
    return {key: _plain(host_vars[key]) for key in SITE_VARS if key in host_vars}


def _academy_view(host_vars: Mapping[str, Any]) -> dict[str, Any]:
    """What the academy-wide checks read of a school (not its hapy_one password, hapy_db, hapy_san or guests; its
    guests' root and AD administrator passwords as digests)."""
    view = {key: _plain(host_vars[key]) for key in ("hapy_school", "hapy_networks", "hapy_academy")
            if key in host_vars}
    try:  # a URL that does not resolve for a school outside the run (a variable it lacks) is not compared
        one = host_vars.get("hapy_one")
        if isinstance(one, Mapping) and "api_url" in one:
            view["hapy_one"] = {"api_url": str(_plain(one["api_url"]))}
    except Exception:  # Ansible raises several undefined-variable errors; the school's own check reports them
        pass
    for key, variable, _what in academy.PASSWORD_DIGESTS:
        try:  # compared as a digest only: the check must tell that two schools share a password, never which
            password = host_vars.get(variable)
            if password:
                view[key] = hashlib.sha256(str(_plain(password)).encode("utf-8")).hexdigest()
        except Exception:  # an undefined vault variable: the school's own run reports it
            pass
    return view


def hapy_validate_site(site: Mapping[str, Any]) -> list[str]:
    """Errors of one school's inventory: pass ``hostvars[inventory_hostname]`` or a dict of ``hapy_*`` variables."""
    return validate_site(_site_vars(site))


def hapy_validate_academy(hostvars: Mapping[str, Any], groups: Mapping[str, list[str]]) -> list[str]:
    """Errors across schools: duplicate UAIs, indexes, frontends or API URLs, overlapping subnets.

    Pass ``hostvars`` and ``groups`` (the whole inventory, whatever ``--limit`` is)."""
    schools = {group: hosts for group, hosts in groups.items() if group.startswith("etb_") and hosts}
    sites = {group: _academy_view(hostvars[hosts[0]]) for group, hosts in schools.items()}
    frontend_hosts = set(groups.get("hapy_frontends", []))
    frontends = {group: [str(_plain(hostvars[host].get("ansible_host", host))) for host in hosts
                         if host in frontend_hosts]
                 for group, hosts in schools.items()}
    return academy.validate_academy(sites, frontends)


class FilterModule:
    """eole.hapy site filters."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "hapy_network_plan": _wrap(plan.network_plan),
            "hapy_ovs_switches": _wrap(plan.ovs_switches),
            "hapy_validate_site": hapy_validate_site,  # reads only hapy_* keys of (lazy) hostvars
            "hapy_validate_academy": hapy_validate_academy,
            "hapy_resolve_guests": _wrap(guests.resolve_guests),
            "hapy_eole_config": _wrap(eole_config.eole_config),
            "hapy_eole_config_check": _wrap(eole_config.check_eole_config),
            "hapy_guest_context": _wrap(context.guest_context),
        }
