"""Which endpoints a test runs on, and the session's shared real oned instances.

The module contract suite runs on ``stand-in`` and on every real version (``oned-6.10.5``, ``oned-7.0.2``).
A real version that was not built fails the test (CI builds both in scripts/setup.sh); for a quick local run,
``HAPY_REAL_ONED=skip`` skips them instead.
"""

from __future__ import annotations

import os

import pytest

from .endpoint import RealOnedEndpoint
from .instance import VERSIONS, install_prefix

STANDIN = "stand-in"
ALL = [STANDIN, *(f"oned-{v}" for v in VERSIONS)]


def version_of(param: str) -> str:
    return param.removeprefix("oned-")


def require_built(version: str) -> None:
    """Fail (or skip, with HAPY_REAL_ONED=skip) when OpenNebula ``version`` is not built."""
    if install_prefix(version) is None:
        message = f"real oned {version} is not built: run scripts/build-oned.sh {version} (or scripts/setup.sh)"
        if os.environ.get("HAPY_REAL_ONED") == "skip":
            pytest.skip(message)
        pytest.fail(message)


class SessionPool:
    """One real oned per version for the whole session; ``get()`` hands it out cleaned."""

    def __init__(self, password: str) -> None:
        self.password = password
        self.running: dict[str, RealOnedEndpoint] = {}

    def get(self, version: str) -> RealOnedEndpoint:
        require_built(version)
        endpoint = self.running.get(version)
        if endpoint is None:
            endpoint = self.running[version] = RealOnedEndpoint(version, password=self.password).start(restorable=True)
        else:
            endpoint.clean()
        return endpoint

    def stop_all(self) -> None:
        for endpoint in self.running.values():
            endpoint.stop()
        self.running.clear()


def fresh(version: str, password: str = "opennebula", **instance_args) -> RealOnedEndpoint:
    """A real oned of its own (a test that needs a whole oned, e.g. one per school); the caller stops it."""
    require_built(version)
    endpoint = RealOnedEndpoint(version, password=password, **instance_args)
    try:
        return endpoint.start()
    except BaseException:
        endpoint.stop()  # a start that failed leaves no process and no instance directory behind
        raise
