"""Without netaddr on the controller the plugins still load (ansible-doc, ansible-test's import check) and the first
address computed says what is missing, instead of reading every address as invalid."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
import sys
class NoNetaddr:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "netaddr":
            raise ModuleNotFoundError("No module named 'netaddr'")
sys.meta_path.insert(0, NoNetaddr())
sys.path.insert(0, sys.argv[1])
from ansible_collections.eole.hapy.plugins.filter import hapy  # loads: ansible-doc can document it
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site import plan
try:
    school = {"uai": "9740001A", "name": "x", "academy": "ac-reunion", "domain": "lan", "index": 1}
    plan.network_plan(school, None, None)
except ModuleNotFoundError as exc:
    print("MISSING", exc)
"""


def test_the_plugins_load_and_say_netaddr_is_missing():
    result = subprocess.run([sys.executable, "-c", PROGRAM, str(ROOT / ".collections")], capture_output=True,
                            text=True, check=True)
    assert result.stdout.startswith("MISSING the Python package netaddr is missing on the controller"), result
