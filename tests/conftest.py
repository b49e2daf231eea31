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
from tests.real_oned import endpoints

ONEADMIN = ("oneadmin", "opennebula")
RESTART_REASONS = pytest.StashKey[dict]()  # version -> why the shared real oned had to be started afresh


#: The lanes scripts/test.sh runs side by side (``--lane``): one per real oned version, and ``main`` for the rest.
LANES = ("main", *(endpoints.version_of(p) for p in endpoints.ALL if p != endpoints.STANDIN))


def pytest_addoption(parser):
    parser.addoption("--lane", choices=LANES, default=None,
                     help="run only the tests of one lane: a real oned version (the tests parametrised with it, or "
                          "marked lane(version)), or main (every other test)")


def pytest_configure(config):
    config.addinivalue_line("markers", "standin_only(reason): runs on the stand-in endpoint alone (says why)")
    config.addinivalue_line("markers", "lane(name): the lane of a test that is not parametrised with one real oned "
                                       "version but needs one (e.g. lane('7.0.2')); see --lane")


def lane_of(item) -> str:
    """The lane of a test: its ``lane`` marker, else the real oned version it is parametrised with, else main."""
    marker = item.get_closest_marker("lane")
    if marker is not None:
        return str(marker.args[0])
    params = getattr(getattr(item, "callspec", None), "params", {})
    for value in params.values():
        if isinstance(value, str) and value in endpoints.ALL and value != endpoints.STANDIN:
            return endpoints.version_of(value)
    return "main"


def pytest_collection_modifyitems(config, items):
    lane = config.getoption("--lane")
    if lane is None:
        return
    deselected = [item for item in items if lane_of(item) != lane]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if lane_of(item) == lane]


@pytest.fixture(scope="session")
def real_onedes(request):
    """The session's real oned instances, one per version, started on first use and stopped at the end."""
    pool = endpoints.SessionPool(password=ONEADMIN[1])
    yield pool
    request.config.stash[RESTART_REASONS] = {v: e.restart_reasons for v, e in pool.running.items()}
    pool.stop_all()


@pytest.fixture
def oned(request):
    """The OpenNebula endpoint of a test: the stand-in by default (fresh per test), or, when the test is
    parametrised with ``oned-<version>``, the session's real oned of that version cleaned to its bootstrap state."""
    param = getattr(request, "param", endpoints.STANDIN)
    if param == endpoints.STANDIN:
        server = OnedServer(host="127.0.0.1", port=0, credentials=":".join(ONEADMIN)).start()
        yield server
        server.stop()
        return
    yield request.getfixturevalue("real_onedes").get(endpoints.version_of(param))


@pytest.fixture
def run_module(oned, monkeypatch):
    """Run an eole.hapy module in-process against the test endpoint: ``run_module("one_vnet", name=..., ...)``."""
    monkeypatch.setenv("ONE_URL", oned.url)
    monkeypatch.setenv("ONE_USERNAME", ONEADMIN[0])
    monkeypatch.setenv("ONE_PASSWORD", ONEADMIN[1])
    return ModuleRunner(oned)


def pytest_terminal_summary(terminalreporter):
    """Time spent per endpoint (stand-in, each real oned version), set-up and clean-up included."""
    totals: dict[str, list[float]] = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            nodeid = getattr(report, "nodeid", "")
            param = next((p for p in endpoints.ALL if f"[{p}" in nodeid or f"-{p}" in nodeid), None)
            if param is not None and getattr(report, "when", None) in ("setup", "call", "teardown"):
                entry = totals.setdefault(param, [0, 0.0])
                entry[0] += report.when == "call"
                entry[1] += report.duration
    if totals:
        terminalreporter.write_sep("-", "time per endpoint (parametrised tests)")
        for param, (count, seconds) in totals.items():
            terminalreporter.write_line(f"{param:>14}: {count:4d} tests  {seconds:7.1f} s")
    for version, reasons in terminalreporter.config.stash.get(RESTART_REASONS, {}).items():
        terminalreporter.write_line(f"oned {version}: {len(reasons)} fresh restarts between tests")
        for reason in reasons:
            terminalreporter.write_line(f"    {reason[:200]}")
