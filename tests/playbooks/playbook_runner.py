"""Run ansible-playbook against the test endpoint and read its recap."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RECAP_RE = re.compile(
    r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)",
    re.MULTILINE,
)


#: TYPE of the run lock documents (eole.hapy.one_run_lock)
RUN_LOCK_TYPE = 9740


def run_lock_writes(schools: int) -> dict[str, int]:
    """The writes of a run that changes nothing: each school's run lock taken (a document) and released."""
    return {"one.document.allocate": schools, "one.document.delete": schools}


@dataclass
class PlaybookRun:
    returncode: int
    output: str
    recap: dict[str, dict[str, int]]

    @property
    def changed(self) -> int:
        return sum(host["changed"] for host in self.recap.values())

    @property
    def failed(self) -> int:
        return sum(host["failed"] + host["unreachable"] for host in self.recap.values())


def run_playbook(playbook: str, inventory: str, *args: str, env: dict[str, str] | None = None) -> PlaybookRun:
    """ansible-playbook from the repository root with the project's ansible.cfg and venv."""
    venv_bin = str(Path(sys.executable).parent)
    full_env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_FORCE_COLOR": "0",
                "ANSIBLE_NOCOLOR": "1", "PATH": f"{venv_bin}:{os.environ.get('PATH', '')}", **(env or {})}
    proc = subprocess.run(
        [f"{venv_bin}/ansible-playbook", "-i", inventory, playbook, *args],
        cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=1800,
    )
    output = proc.stdout + proc.stderr
    recap = {m["host"]: {k: int(m[k]) for k in ("ok", "changed", "unreachable", "failed")}
             for m in RECAP_RE.finditer(proc.stdout)}
    return PlaybookRun(proc.returncode, output, recap)
