"""Fixtures: an in-process fake oned on a free port and pyone clients for it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pyone
import pytest

from tests.oned import OnedServer

STEP = 60.0  # driver steps never happen by themselves: tests call settled() (deterministic)


@pytest.fixture
def oned() -> Iterator[OnedServer]:
    """A fresh endpoint per test; its driver steps only happen through ``settle()``."""
    srv = OnedServer(host="127.0.0.1", port=0, credentials="oneadmin:opennebula", step=STEP)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def one(oned: OnedServer) -> pyone.OneServer:
    """pyone client logged in as oneadmin."""
    return pyone.OneServer(oned.url, session="oneadmin:opennebula")


@pytest.fixture
def settled(oned: OnedServer) -> Callable:
    """``settled(fn, pred)``: let every pending driver step happen, then check ``pred(fn())``."""
    def _settled(fn: Callable, pred: Callable) -> object:
        oned.settle()
        value = fn()
        assert pred(value), f"unexpected value after settle: {value!r}"
        return value
    return _settled


def poll(fn: Callable, pred: Callable, timeout: float = 10.0, every: float = 0.02) -> object:
    """Poll ``fn()`` until ``pred(value)`` (real time); returns the value."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if pred(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached, last value: {value!r}")
        time.sleep(every)
