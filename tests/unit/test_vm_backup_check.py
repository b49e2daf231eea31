"""eole.hapy.hapy_vm_backup_check on backup directories laid out as OpenNebula's rsync driver writes them
(``vm.xml`` in base64, ``disk.<disk id>.<increment>`` qcow2 files), made here with the real qemu-img."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest

from tests.modules.module_runner import ModuleRunner

VM_XML = ("<VM><ID>4</ID><NAME>amon</NAME><TEMPLATE><DISK><DISK_ID>0</DISK_ID><SIZE>64</SIZE></DISK>"
          "</TEMPLATE></VM>")


class NoEndpoint:
    """The module talks to no OpenNebula: nothing to count."""

    calls: dict[str, int] = {}

    def reset_calls(self) -> None:
        pass


@pytest.fixture
def check():
    return lambda **args: ModuleRunner(NoEndpoint())("hapy_vm_backup_check", **args)


@pytest.fixture
def backup(tmp_path) -> Path:
    """A sound full backup of VM 4's disk 0 (64 MiB, some data written)."""
    directory = tmp_path / "4" / "a1b2c3"
    directory.mkdir(parents=True)
    (directory / "vm.xml").write_text(base64.b64encode(VM_XML.encode()).decode() + "\n")
    disk = directory / "disk.0.0"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "64M"], check=True)
    subprocess.run(["qemu-io", "-c", "write -P 0x41 0 2M", str(disk)], check=True, capture_output=True)
    return directory


def test_a_sound_backup_passes(check, backup):
    result = check(paths=[str(backup)], disk_ids=[0])
    assert not result.failed, result
    assert result["vm"] == {"id": 4, "name": "amon", "disks": {"0": 64}}
    [disk] = result["files"]
    assert (disk["disk_id"], disk["format"], disk["virtual_size"]) == (0, "qcow2", 64 * 1024 * 1024)
    assert result["problems"] == [] and result["changed"] is False


def test_a_truncated_disk_file_is_refused(check, backup):
    disk = backup / "disk.0.0"
    with open(disk, "r+b") as handle:
        handle.truncate(disk.stat().st_size // 2)
    result = check(paths=[str(backup)])
    assert result.failed and result["msg"].startswith("backup refused: ")
    assert "qemu-img check found" in result["msg"] and "corruptions" in result["msg"]


def test_an_overwritten_header_is_refused(check, backup):
    with open(backup / "disk.0.0", "r+b") as handle:
        handle.write(b"\0" * 512)
    result = check(paths=[str(backup)])
    assert result.failed and "expected qcow2" in result["msg"]


def test_a_missing_disk_or_description_or_directory_is_refused(check, backup):
    assert "disk 1 has no file" in check(paths=[str(backup)], disk_ids=[0, 1])["msg"]
    (backup / "vm.xml").write_text("not base64 nor XML")
    assert "not the VM's description" in check(paths=[str(backup)])["msg"]
    assert "no such backup directory" in check(paths=[str(backup.parent / "gone")])["msg"]
    assert "paths: empty" in check(paths=[])["msg"]


def test_a_disk_of_another_size_is_refused(check, backup):
    subprocess.run(["qemu-img", "resize", "-q", str(backup / "disk.0.0"), "128M"], check=True)
    result = check(paths=[str(backup)])
    assert result.failed and "virtual size 134217728 bytes, but the VM's disk has 64 MB" in result["msg"]
