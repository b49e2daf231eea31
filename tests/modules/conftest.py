"""The module contract suite runs on every endpoint: the stand-in and each real oned version.

A test that needs what only the stand-in can do (inspect its store, inject a fault, freeze its drivers) is marked
``@pytest.mark.standin_only("why")`` and runs on the stand-in alone.
"""

from __future__ import annotations

from tests.real_oned import endpoints

# Files not yet proven on real oned run on the stand-in alone until they are (README's test matrix says so):
# the site delegation (image space and NIC visibility differ on real oned; its site fixture predates make_site's
# cluster/datastore layout).
NOT_YET_ON_REAL_ONED = {"test_site_delegation.py"}

def pytest_generate_tests(metafunc):
    if "oned" not in metafunc.fixturenames:
        return
    standin_only = (metafunc.definition.get_closest_marker("standin_only") is not None
                    or metafunc.definition.path.name in NOT_YET_ON_REAL_ONED)
    metafunc.parametrize("oned", [endpoints.STANDIN] if standin_only else endpoints.ALL, indirect=True)
