"""Probes for known defects outside the tests' own code, so that tests xfail while (and only while) they exist."""

from __future__ import annotations

import pytest

from tests.modules.module_runner import ModuleRunner
from tests.oned import OnedServer


def check_mode_needs_existing_images() -> bool:
    """one_template (module_utils/one_vmspec.py, _reference): in check mode, a disk image or NIC network that an
    earlier task of the run only predicted fails the task instead of being assumed, as one_module.id_of does."""
    server = OnedServer(host="127.0.0.1", port=0, credentials="oneadmin:probe").start()
    try:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("ONE_URL", server.url)
            env.setenv("ONE_USERNAME", "oneadmin")
            env.setenv("ONE_PASSWORD", "probe")
            result = ModuleRunner(server)("one_template", check=True, name="probe", memory=64,
                                          disks=[{"image": "not-yet"}])
        return result.failed
    finally:
        server.stop()


CHECK_MODE_DEFECT = "one_template defect: in check mode it fails on an image the same run would register"
