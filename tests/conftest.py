"""Shared pytest set-up: the collection on sys.path, an OpenNebula test endpoint, an in-process module runner."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COLLECTIONS = ROOT / ".collections"
if not (COLLECTIONS / "ansible_collections" / "eole" / "hapy").exists():
    raise RuntimeError(f"{COLLECTIONS}/ansible_collections/eole/hapy is missing: run scripts/setup.sh first")
sys.path.insert(0, str(COLLECTIONS))
sys.path.insert(0, str(ROOT))

from tests.modules.module_runner import ModuleRunner
from tests.oned import OnedServer

ONEADMIN = ("oneadmin", "opennebula")


@pytest.fixture
def oned():
    """A fresh OpenNebula test endpoint on a free loopback port, stopped after the test."""
    server = OnedServer(host="127.0.0.1", port=0, credentials=":".join(ONEADMIN)).start()
    yield server
    server.stop()


@pytest.fixture
def run_module(oned, monkeypatch):
    """Run an eole.hapy module in-process against the test endpoint: ``run_module("one_vnet", name=..., ...)``."""
    monkeypatch.setenv("ONE_URL", oned.url)
    monkeypatch.setenv("ONE_USERNAME", ONEADMIN[0])
    monkeypatch.setenv("ONE_PASSWORD", ONEADMIN[1])
    return ModuleRunner(oned)
