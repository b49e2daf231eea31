"""one_image against the OpenNebula test endpoint."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.modules.lifecycle import check_bad_input, check_lifecycle, fast_endpoint, quiesce, snapshot, warnings_of

pytestmark = pytest.mark.usefixtures("fast_endpoint")
__all__ = ["fast_endpoint"]


@pytest.fixture
def disk():
    """A real 1 MiB file under /var/tmp, which the default image datastore's SAFE_DIRS allows (its RESTRICTED_DIRS
    is "/": real oned refuses any other directory, and a path that does not exist)."""
    folder = Path(tempfile.mkdtemp(prefix="hapy-images-", dir="/var/tmp"))
    path = folder / "amon.qcow2"
    path.write_bytes(b"\0" * (1024 * 1024))
    yield str(path)
    shutil.rmtree(folder, ignore_errors=True)


def test_lifecycle(run_module, disk):
    facts = check_lifecycle(
        run_module, "one_image", "image",
        {"name": "eole-amon", "path": disk, "type": "OS", "dev_prefix": "vd",
         "description": "EOLE Amon"},
        {"description": "EOLE Amon 2.10"}, "template", {"one.image.update"})
    assert facts["state"] == "READY" and facts["type"] == "OS" and facts["datastore"] == "default"
    assert facts["template"] == {"DEV_PREFIX": "vd", "DESCRIPTION": "EOLE Amon"}
    assert facts["path"] == disk and facts["source"]


def test_empty_datablock_waits_ready(run_module, oned):
    result = run_module("one_image", name="data", size=20, persistent=True)
    assert result["changed"], result
    image = result["image"]
    assert image["state"] == "READY" and image["type"] == "DATABLOCK" and image["persistent"] is True
    assert image["size"] == 20
    assert result.calls.get("one.image.info", 0) >= 2  # polled until READY


def test_no_wait_returns_locked_then_next_run_waits(run_module):
    result = run_module("one_image", name="data", size=20, wait=False)
    assert result["image"]["state"] == "LOCKED"
    again = run_module("one_image", name="data", size=20)
    assert again["changed"] is False and again.writes == {}
    assert again["image"]["state"] == "READY"


def test_never_reuploaded(run_module, disk):
    run_module("one_image", name="amon", path=disk)
    result = run_module("one_image", name="amon", path="/srv/amon-v2.qcow2", size=4096)
    assert result["changed"] is False and result.writes == {}
    assert result["not_applied"] == ["path", "size"]
    assert any("path differs" in w and "only used at creation" in w for w in warnings_of(result))
    assert result["image"]["path"] == disk


def test_persistent_type_enabled_and_ownership(run_module, disk):
    run_module("one_image", name="amon", path=disk)
    result = run_module("one_image", name="amon", persistent=True, type="DATABLOCK", enabled=False,
                        group="users", permissions="640")
    assert result["changes"] == ["enabled", "group", "permissions", "persistent", "type"], result
    assert set(result.writes) == {"one.image.persistent", "one.image.chtype", "one.image.enable",
                                  "one.image.chown", "one.image.chmod"}
    image = result["image"]
    assert (image["persistent"], image["type"], image["enabled"], image["state"]) == (True, "DATABLOCK", False,
                                                                                      "DISABLED")
    assert (image["group"], image["permissions"]) == ("users", "640")
    assert result["diff"]["before"]["permissions"] == "600" and result["diff"]["after"]["enabled"] is False
    again = run_module("one_image", name="amon", persistent=True, type="DATABLOCK", enabled=False,
                       group="users", permissions="640")
    assert again["changed"] is False and again.writes == {}


def test_created_disabled_and_owned(run_module):
    result = run_module("one_image", name="old", size=10, enabled=False, owner="oneadmin", group="users")
    assert result["image"]["state"] == "DISABLED" and result["image"]["group"] == "users"
    assert set(result.writes) == {"one.image.allocate", "one.image.enable", "one.image.chown"}


def test_error_state_fails_with_driver_message(run_module, tmp_path):
    restricted = tmp_path / "broken.qcow2"  # an existing file the datastore's RESTRICTED_DIRS ("/") refuses
    restricted.write_bytes(b"\0" * 1024)
    failed = run_module("one_image", name="broken", path=str(restricted))
    assert failed.failed
    assert "ERROR state" in failed["msg"] and f"Not allowed to copy image from {restricted}" in failed["msg"]
    again = run_module("one_image", name="broken", path=str(restricted))
    assert again.failed and "ERROR state" in again["msg"] and again.writes == {}


def test_missing_file_fails_naming_it(run_module, oned):
    quiesce(oned)
    before = snapshot(oned)
    result = run_module("one_image", name="x", path="/var/tmp/no-such-disk.qcow2")
    assert result.failed and "cannot access '/var/tmp/no-such-disk.qcow2'" in result["msg"], result
    assert result.writes == {"one.image.allocate": 1}  # oned refuses it: the file is on oned's side
    assert snapshot(oned) == before


def test_deleted_image_is_gone_when_absent_returns(run_module, oned, disk):
    """oned deletes an image asynchronously: with wait, state=absent returns once it has left the pool."""
    run_module("one_image", name="amon", path=disk)
    gone = run_module("one_image", name="amon", state="absent")
    assert gone["changed"] and gone.writes == {"one.image.delete": 1}
    assert run_module("one_image", name="amon", path=disk)["changed"]  # the name is free again


@pytest.mark.standin_only("freezes the stand-in's drivers (store.step) so that the image stays LOCKED")
def test_wait_timeout(run_module, oned):
    oned.store.step = 30
    result = run_module("one_image", name="slow", size=10, wait_timeout=1)
    assert result.failed and "timed out after 1s waiting for image 'slow'" in result["msg"], result


def test_datastore_cannot_change(run_module, disk):
    run_module("one_image", name="amon", path=disk)
    result = run_module("one_image", name="amon", datastore="files")
    assert result.failed and "cannot change datastore" in result["msg"] and result.writes == {}


@pytest.mark.parametrize(("args", "field"), [
    ({"name": "x"}, "path"),
    ({"name": "x", "path": "relative/disk.qcow2"}, "path"),
    ({"name": "x", "size": 0}, "size"),
    ({"name": "x", "size": 10, "type": "OS"}, "type"),
    ({"name": "x", "size": 10, "dev_prefix": "virtio0"}, "dev_prefix"),
    ({"name": "x", "size": 10, "datastore": "nope"}, "datastore"),
    ({"name": "x", "size": 10, "permissions": "rw-"}, "permissions"),
    ({"name": "x", "size": 10, "owner": "nobody"}, "owner"),
])
def test_bad_input(run_module, oned, args, field):
    check_bad_input(run_module, oned, "one_image", args, field)
