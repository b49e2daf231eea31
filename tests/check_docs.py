"""Every module and plugin of the collection renders with ansible-doc (DOCUMENTATION/EXAMPLES/RETURN valid).

Run by scripts/test.sh; exits non-zero naming each plugin whose documentation does not render.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def plugins(kind: str, folder: str, suffix: str) -> list[str]:
    base = ROOT / "plugins" / folder
    if not base.exists():
        return []
    return sorted(f"eole.hapy.{p.stem}" for p in base.glob(f"*{suffix}") if not p.name.startswith("_"))


def main() -> int:
    failures = []
    checks = [("module", name) for name in plugins("module", "modules", ".py")]
    checks += [("filter", name) for name in plugins("filter", "filter", ".yml")]
    checks += [(kind, name) for kind in ("inventory", "callback") for name in plugins(kind, kind, ".py")]
    for kind, name in checks:
        proc = subprocess.run(["ansible-doc", "-t", kind, "--json", name], capture_output=True, text=True, cwd=ROOT)
        doc = json.loads(proc.stdout or "{}").get(name, {}) if proc.returncode == 0 else {}
        if not doc.get("doc") or (kind == "module" and (not doc.get("examples") or doc.get("return") is None)):
            failures.append(f"{kind} {name}: {proc.stderr.strip() or 'missing DOCUMENTATION/EXAMPLES/RETURN'}")
        else:
            print(f"ok  {kind:6} {name}")
    for failure in failures:
        print(f"FAIL {failure}")
    print(f"{len(checks) - len(failures)} rendered, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
