"""OpenNebula VM backups that really run, and their restore, on real oned 6.10.5 and 7.0.2.

A fresh real oned per version with an ssh node (tests/real_oned/ssh_node.py: real sshd on loopback, real
OpenNebula drivers): the guest's disk is a real qcow2 file copied to the node by the ssh transfer driver. The
backup job runs OpenNebula's own backup (transfer driver prebackup: backup_qcow2.rb and qemu-img on the node over
ssh; rsync datastore driver: rsync over ssh into the backup datastore; postbackup) and registers a backup image;
playbooks/restore-vm.yml then refuses without confirmation, refuses a truncated backup file, restores the VM
powered off, and has nothing to do on a second run. The restored disk equals the backed-up one (qemu-img compare),
marker included. Only the VM actions' hypervisor scripts are no-ops (no KVM here), so backups are non-live.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
import xmlrpc.client
from pathlib import Path

import pytest

from tests.oned import is_write
from tests.playbooks.playbook_runner import run_playbook
from tests.real_oned import endpoints

PASSWORD = "vmbackup-test"
VERSIONS = [p for p in endpoints.ALL if p != endpoints.STANDIN]
MARKER = "hapy-vmbackup-marker"


@pytest.fixture(params=VERSIONS)
def site(request, tmp_path):
    """A real oned with an ssh node, the guest 'amon' powered off with a marker written on its disk by the node."""
    server = endpoints.fresh(endpoints.version_of(request.param), password=PASSWORD, ssh_node="vmbackup")
    try:
        import_dir = tmp_path / "import"
        import_dir.mkdir()
        disk = import_dir / "amon.qcow2"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "64M"], check=True)
        subprocess.run(["qemu-io", "-c", "write -P 0x41 0 1M", str(disk)], check=True, capture_output=True)
        node = f"vmbackup-node-{server.instance.port}"  # distinct from any other oned's host names
        run = run_playbook("tests/playbooks/vm_backup_site.yml", "localhost,", *connection(server),
                           "-e", f"import_dir={import_dir}", "-e", f"node_name={node}")
        assert run.returncode == 0, run.output[-4000:]
        yield server
    finally:
        server.stop()


def connection(server) -> list[str]:
    return ["-e", f"api_url={server.url}", "-e", f"api_password={PASSWORD}",
            "-e", f"ansible_python_interpreter={sys.executable}"]


def api(server, method: str, *args) -> ET.Element | str:
    ok, answer, *_ = getattr(xmlrpc.client.ServerProxy(server.url), method)(f"oneadmin:{PASSWORD}", *args)
    assert ok, answer
    return ET.fromstring(answer) if isinstance(answer, str) and answer.startswith("<") else answer


def named(server, pool: str, name: str) -> ET.Element | None:
    extra = (-1,) if pool == "one.vmpool.info" else ()  # VMs in any state but DONE
    return next((o for o in api(server, pool, -2, -1, -1, *extra) if o.findtext("NAME") == name), None)


def writes(server) -> dict[str, int]:
    return {m: n for m, n in server.calls.items() if is_write(m)}


def wait(what: str, probe, timeout: float = 300.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def restore(server, *extra: str):
    return run_playbook("playbooks/restore-vm.yml", "localhost,", "-c", "local", "-e", "restore_hosts=all",
                        "-e", f"restore_api_url={server.url}", "-e", f"restore_api_password={PASSWORD}",
                        "-e", f"ansible_python_interpreter={sys.executable}", "-e", "restore_vm=amon", *extra)


def test_backup_job_then_restore_refusals_restore_and_nothing_to_do(site):
    server = site
    vm = named(server, "one.vmpool.info", "amon")
    vm_id = int(vm.findtext("ID"))
    assert vm.findtext("STATE") == "8"  # POWEROFF
    system_ds = api(server, "one.vm.info", vm_id).findall("HISTORY_RECORDS/HISTORY")[-1].findtext("DS_ID")
    vm_disk = server.instance.root / "var" / "datastores" / system_ds / str(vm_id) / "disk.0"
    assert vm_disk.exists()  # copied to the node by the ssh transfer driver
    # what the guest wrote since its image was made: the backup must carry it
    subprocess.run(["qemu-io", "-c", "write -P 0x5a 2M 64k", str(vm_disk)], check=True, capture_output=True)
    marker = vm_disk.parent / "marker"
    marker.write_text(MARKER)
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", f"write -s {marker} 3M {len(MARKER)}", str(vm_disk)],
                   check=True, capture_output=True)

    [job] = api(server, "one.backupjobpool.info", -2, -1, -1).findall("BACKUPJOB")
    assert job.findtext("TEMPLATE/BACKUP_VMS") == str(vm_id)  # the labelled guest
    started = time.monotonic()
    api(server, "one.backupjob.backup", int(job.findtext("ID")))

    def backed_up():
        now = api(server, "one.vm.info", vm_id)
        done = now.findtext("STATE") == "8" and now.findall("BACKUPS/BACKUP_IDS/ID")
        return now if done else None
    backed = wait("the backup", backed_up)
    backup_seconds = time.monotonic() - started
    [backup_id] = [int(i.text) for i in backed.findall("BACKUPS/BACKUP_IDS/ID")]
    image = api(server, "one.image.info", backup_id, False)
    assert image.findtext("TYPE") == "6" and image.findtext("STATE") in ("1", "2")  # BACKUP, READY/USED
    assert image.findtext("SOURCE") != "dummy-backup-id"  # the dummy VMM's stand-in answer
    backup_ds = api(server, "one.datastore.info", int(image.findtext("DATASTORE_ID")), False)
    backup_dir = Path(backup_ds.findtext("BASE_PATH")) / str(vm_id) / image.findtext("SOURCE")
    backup_file = backup_dir / "disk.0.0"
    assert subprocess.run(["qemu-img", "compare", str(vm_disk), str(backup_file)]).returncode == 0

    server.reset_calls()
    refused = restore(server)
    assert refused.returncode != 0 and "Not confirmed" in refused.output, refused.output[-3000:]
    assert f"backup {backup_id} of VM amon" in refused.output
    assert writes(server) == {}

    saved = backup_file.with_suffix(".saved")
    shutil.copy2(backup_file, saved)
    with open(backup_file, "r+b") as handle:
        handle.truncate(backup_file.stat().st_size // 2)
    damaged = restore(server, "-e", "restore_confirm=true")
    assert damaged.returncode != 0 and f"Backup {backup_id} refused, nothing was changed" in damaged.output, \
        damaged.output[-3000:]
    assert "qemu-img check found" in damaged.output
    assert writes(server) == {} and named(server, "one.templatepool.info", "amon-restored") is None
    shutil.move(saved, backup_file)

    started = time.monotonic()
    restored = restore(server, "-e", "restore_confirm=true")
    restore_seconds = time.monotonic() - started
    assert restored.returncode == 0, restored.output[-4000:]
    new_vm = named(server, "one.vmpool.info", "amon-restored")
    assert new_vm is not None and new_vm.findtext("STATE") == "8"  # POWEROFF, as Hâpy restored VMs
    template = named(server, "one.templatepool.info", "amon-restored")
    assert template.findtext("TEMPLATE/HAPY_RESTORED_FROM") == str(backup_id)
    restored_image = api(server, "one.image.info", int(template.findtext("TEMPLATE/DISK/IMAGE_ID")), False)
    assert restored_image.findtext("NAME") == "amon-restored-disk-0" and restored_image.findtext("STATE") in "12"
    source = restored_image.findtext("SOURCE")
    assert subprocess.run(["qemu-img", "compare", str(vm_disk), source]).returncode == 0
    raw = vm_disk.parent / "restored.raw"
    subprocess.run(["qemu-img", "convert", "-O", "raw", source, str(raw)], check=True)
    with open(raw, "rb") as handle:
        handle.seek(3 * 1024 * 1024)
        assert handle.read(len(MARKER)).decode() == MARKER
    raw.unlink()

    server.reset_calls()
    again = restore(server, "-e", "restore_confirm=true")
    assert again.returncode == 0 and again.changed == 0, again.output[-3000:]
    assert "exists already, restored from backup" in again.output
    assert writes(server) == {}
    report = next((line.strip() for line in restored.output.splitlines() if "then the VM" in line), "")
    print(f"\n[vm backup] oned {server.version}: backup job {backup_seconds:.1f} s, "
          f"restore playbook {restore_seconds:.1f} s ({report})")
