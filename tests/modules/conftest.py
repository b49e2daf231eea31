"""The module contract suite runs on every endpoint: the stand-in and each real oned version.

A test that needs what only the stand-in can do (inspect its store, inject a fault, freeze its drivers) is marked
``@pytest.mark.standin_only("why")`` and runs on the stand-in alone.
"""

from __future__ import annotations

from tests.real_oned import endpoints


def pytest_generate_tests(metafunc):
    if "oned" not in metafunc.fixturenames:
        return
    standin_only = metafunc.definition.get_closest_marker("standin_only") is not None
    metafunc.parametrize("oned", [endpoints.STANDIN] if standin_only else endpoints.ALL, indirect=True)
