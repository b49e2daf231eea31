"""Run a module of the collection in-process, the way Ansible does, and capture its result.

The module reads its arguments from ``ansible.module_utils.basic._ANSIBLE_ARGS`` (as when Ansible runs it) and
its result goes through the real ``exit_json``/``fail_json`` path, including ``no_log`` masking. While it runs, the
process is marked as a module's, not the controller's: once any controller code was imported in the test process
(an action or inventory plugin, ansible-runner), ansible-core would otherwise display the module's warnings on the
controller instead of returning them in its result.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

from ansible.module_utils import _internal, basic

from tests.oned import is_write


class ModuleResult(dict):
    """The module's result dict, plus the endpoint calls it made."""

    calls: dict[str, int]

    @property
    def writes(self) -> dict[str, int]:
        return {m: n for m, n in self.calls.items() if is_write(m)}

    @property
    def failed(self) -> bool:
        return bool(self.get("failed"))


class ModuleRunner:
    def __init__(self, server: Any):
        self.server = server

    def __call__(self, module: str, check: bool = False, diff: bool = True, **args: Any) -> ModuleResult:
        payload = {"ANSIBLE_MODULE_ARGS": {**args, "_ansible_check_mode": check, "_ansible_diff": diff}}
        captured: dict[str, Any] = {}
        saved = basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE, basic.AnsibleModule._record_module_result
        saved_is_controller = _internal.is_controller
        _internal.is_controller = False
        basic._ANSIBLE_ARGS = json.dumps(payload).encode()
        basic._ANSIBLE_PROFILE = "legacy"
        basic.AnsibleModule._record_module_result = lambda _self, result: captured.update(result)
        self.server.reset_calls()
        try:
            mod = importlib.import_module(f"ansible_collections.eole.hapy.plugins.modules.{module}")
            try:
                mod.main()
            except SystemExit:
                pass
        finally:
            basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE, basic.AnsibleModule._record_module_result = saved
            _internal.is_controller = saved_is_controller
        result = ModuleResult(captured)
        result.calls = dict(self.server.calls)
        return result
