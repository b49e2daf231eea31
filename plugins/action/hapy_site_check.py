# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action eole.hapy.hapy_site_check: validate the school's inventory on the controller (documented in the module)."""

from __future__ import annotations

from typing import Any

from ansible.plugins.action import ActionBase
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.common import api_url, cluster_name
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.guests import resolve_guests
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.plan import network_plan
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.validation import SITE_VARS, validate_site


class ActionModule(ActionBase):
    """Fails with every validation error of the site; on success returns the derived site facts (computed here only):
    the plan, the resolved guests, the API URL and the cluster name."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("site",))

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        site = self._task.args.get("site")
        if site is None:
            site = {key: self._templar.template(task_vars[key]) for key in SITE_VARS
                    if key in task_vars}
        elif not isinstance(site, dict):
            return {**result, "failed": True, "msg": "site: expected a dict of hapy_* variables"}
        errors = validate_site(site)
        result.update(changed=False, errors=errors)
        if errors:
            result.update(failed=True, msg=f"{len(errors)} error(s) in the site inventory:\n" + "\n".join(errors))
            return result
        plan = network_plan(site["hapy_school"], site.get("hapy_networks"), site.get("hapy_academy"))
        frontend = self._templar.template(task_vars.get("ansible_host", task_vars.get("inventory_hostname", "")))
        result.update(msg="site inventory is valid", plan=plan,
                      guests=resolve_guests(site.get("hapy_guests") or [], plan),
                      api_url=api_url(site.get("hapy_one"), self._templar.template(task_vars.get("hapy_one_api_url")),
                                      frontend),
                      cluster=cluster_name(site["hapy_school"]))
        return result
