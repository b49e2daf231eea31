"""Fixtures: an in-process fake oned on a free port and pyone clients for it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pyone
import pytest

from tests.oned import OnedServer

STEP = 0.05


@pytest.fixture
def oned() -> Iterator[OnedServer]:
    """A fresh endpoint (fast driver steps) per test."""
    srv = OnedServer(host="127.0.0.1", port=0, credentials="oneadmin:opennebula", step=STEP)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def one(oned: OnedServer) -> pyone.OneServer:
    """pyone client logged in as oneadmin."""
    return pyone.OneServer(oned.url, session="oneadmin:opennebula")


@pytest.fixture
def wait() -> Callable:
    """``wait(fn, pred, timeout)``: poll ``fn()`` until ``pred(value)``; returns the value."""
    def _wait(fn: Callable, pred: Callable, timeout: float = 5.0) -> object:
        deadline = time.monotonic() + timeout
        while True:
            value = fn()
            if pred(value):
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not reached, last value: {value!r}")
            time.sleep(STEP / 2)
    return _wait
