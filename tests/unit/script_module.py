"""Load a role's Python script (installed on hosts behind an interpreter line) as a module, for unit tests."""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path
from types import ModuleType

ROLES = Path(__file__).resolve().parents[2] / "roles"


def load_script(role_file: str, name: str) -> ModuleType:
    """``load_script("backups/files/hapy_onedb_backup.py", "hapy_onedb_backup")``."""
    loader = importlib.machinery.SourceFileLoader(name, str(ROLES / role_file))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module
