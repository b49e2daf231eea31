"""Backups scenario: the role's real state, then dump -> damage -> restore -> every row back, and refusals.

The tests run in file order and share the container's state: the restore tests damage the database and the
restore playbook brings it back; each refusal test proves the database and the services were left untouched.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))
SCENARIO = Path(__file__).resolve().parents[1]
DUMP_DIR = "/mnt/sauvegardes/onedb"
DB = "opennebula"
TIMINGS = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/tmp")) / "backups-timings.txt"


def sql(host, query: str) -> list[list[str]]:
    out = host.check_output("mariadb -N -B -e %s", query)
    return [line.split("\t") for line in out.splitlines() if line]


def db_state(host) -> dict[str, tuple[int, str]]:
    """Every table of the OpenNebula database: (row count, CHECKSUM TABLE)."""
    query = f"SELECT table_name FROM information_schema.tables WHERE table_schema='{DB}' ORDER BY 1"
    tables = [r[0] for r in sql(host, query)]
    state = {}
    for table in tables:
        (count,) = sql(host, f"SELECT COUNT(*) FROM `{DB}`.`{table}`")[0]
        (_name, checksum) = sql(host, f"CHECKSUM TABLE `{DB}`.`{table}` EXTENDED")[0]
        state[table] = (int(count), checksum)
    return state


def etc_one_state(host) -> str:
    return host.check_output("cd /etc/one && find . -type f -print0 | sort -z | xargs -0 sha256sum")


def playbook(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update(ANSIBLE_CONFIG=str(PROJECT / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(PROJECT / ".collections"),
               ANSIBLE_ROLES_PATH=str(PROJECT / "roles"), ANSIBLE_FORCE_COLOR="false", ANSIBLE_NOCOLOR="1")
    return subprocess.run(["ansible-playbook", "-i", INVENTORY, *args], cwd=PROJECT, env=env,
                          capture_output=True, text=True, timeout=900)


def restore(*extra: str) -> subprocess.CompletedProcess:
    return playbook(str(PROJECT / "playbooks" / "restore.yml"), "-e", "restore_hosts=all", *extra)


def record(line: str) -> None:
    print(line)
    with TIMINGS.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def archives(host) -> list[str]:
    return sorted(host.check_output(f"ls -1 {DUMP_DIR}").split())


def newest_archive(host) -> str:
    return f"{DUMP_DIR}/" + [n for n in archives(host) if n.endswith(".tar.gz")][-1]


def damage(host) -> None:
    host.check_output(f"mariadb {DB} -e 'DROP TABLE IF EXISTS vm_pool; DELETE FROM image_pool WHERE oid % 3 = 0; "
                      "UPDATE host_pool SET body = \"<HOST/>\" WHERE oid <= 10'")
    host.check_output("echo 'DAMAGED = yes' >> /etc/one/oned.conf && rm -f /etc/one/sched.conf "
                      "&& touch /etc/one/stray.conf")


# ------------------------------------------------------------------------------------------ the role's state
def test_database_has_at_least_100k_rows(host):
    state = db_state(host)
    assert state["vm_pool"][0] == 100000
    assert sum(count for count, _ in state.values()) >= 100000


def test_backup_disk_created_once_with_label_and_mounted_by_label(host):
    device = host.file("/etc/hapy-test-disk-device").content_string.strip()
    assert host.check_output(f"blkid -p -o value -s TYPE {device}") == "ext4"
    assert host.check_output(f"blkid -p -o value -s LABEL {device}") == "SAUVEGARDES"
    mount = host.mount_point("/mnt/sauvegardes")
    assert mount.exists and mount.filesystem == "ext4"
    assert mount.device == device
    fstab = [line.split() for line in host.file("/etc/fstab").content_string.splitlines() if "/mnt/sauvegardes" in line]
    assert fstab and fstab[0][0] == "LABEL=SAUVEGARDES" and fstab[0][2] == "ext4"


def test_directories(host):
    assert host.file("/mnt/sauvegardes/one").is_directory
    assert host.file("/mnt/sauvegardes/one").user == "oneadmin"
    assert host.file(DUMP_DIR).is_directory and host.file(DUMP_DIR).mode == 0o700


def test_timer_enabled_persistent_on_inventory_schedule(host):
    timer = host.service("hapy-onedb-backup.timer")
    assert timer.is_enabled and timer.is_running
    assert host.check_output("systemctl show -P Persistent hapy-onedb-backup.timer") == "yes"
    unit = host.file("/etc/systemd/system/hapy-onedb-backup.timer").content_string
    assert "OnCalendar=*-*-* 01:30:00" in unit  # from hapy_backup.schedule "30 1 * * *"
    assert "hapy-onedb-backup.service" in host.check_output("systemctl list-timers --all --no-pager")


def test_credentials_file_is_root_only(host):
    cnf = host.file("/etc/hapy/onedb-backup.cnf")
    assert cnf.mode == 0o600 and cnf.user == "root"
    assert 'password="molecule-db-secret"' in cnf.content_string


def test_archive_made_by_the_service_is_complete_and_checksummed(host):
    path = newest_archive(host)
    assert re.fullmatch(rf"{DUMP_DIR}/opennebula-\d{{8}}-\d{{6}}\.tar\.gz", path)
    assert host.file(path).mode == 0o600
    host.check_output(f"cd {DUMP_DIR} && sha256sum -c {os.path.basename(path)}.sha256")
    listing = host.check_output(f"tar -tzf {path}").split()
    dumps = [m for m in listing if re.fullmatch(r"onedb/opennebula-\d{8}-\d{6}\.sql\.gz", m)]
    assert len(dumps) == 1
    assert "etc/one/oned.conf" in listing and "var/lib/one/.ssh/id_ed25519" in listing
    head = host.check_output(f"tar -xzOf {path} {dumps[0]} | zcat | grep -c 'INSERT INTO `vm_pool`'")
    assert int(head) >= 1
    trailer = host.check_output(f"tar -xzOf {path} {dumps[0]} | zcat | tail -n 1")
    assert trailer.startswith("-- Dump completed")
    journal = host.check_output("journalctl -u hapy-onedb-backup.service --no-pager -o cat")
    match = re.search(r"database dump \S+: (\d+) bytes in ([\d.]+)s", journal)
    total = re.search(r"archive \S+: (\d+) bytes, sha256 \w+, total ([\d.]+)s", journal)
    assert match and total, journal
    rows = sum(c for c, _ in db_state(host).values())
    record(f"dump of the {rows}-row database: mariadb-dump|gzip {match.group(2)}s "
           f"({match.group(1)} bytes), whole archive {total.group(2)}s ({total.group(1)} bytes)")


def test_retention_keeps_the_newest(host):
    """keep_last=3: older archives (and their checksum files) go, the newest stay."""
    for day in range(1, 5):
        host.check_output(f"cd {DUMP_DIR} && touch opennebula-2020010{day}-000000.tar.gz && "
                          f"echo x > opennebula-2020010{day}-000000.tar.gz.sha256")
    before = [n for n in archives(host) if n.endswith(".tar.gz")]
    host.check_output("systemctl start hapy-onedb-backup.service")
    after = [n for n in archives(host) if n.endswith(".tar.gz")]
    expected = sorted((before + [n for n in after if n not in before]), reverse=True)[:3]
    assert sorted(after) == sorted(expected)
    assert all(n + ".sha256" in archives(host) for n in after)
    sums = [n for n in archives(host) if n.endswith(".sha256")]
    assert sorted(n[: -len(".sha256")] for n in sums) == sorted(after)  # removed archives took their checksum along
    # leave only real archives for the restore tests
    host.check_output(f"rm -f {DUMP_DIR}/opennebula-2020*")


def test_refuses_a_device_holding_another_filesystem(host):
    device = host.file("/etc/hapy-test-other-device").content_string.strip()
    result = playbook(str(SCENARIO / "refuse_other_fs.yml"))
    assert result.returncode != 0
    assert f"Refusing to use {device} as the backup disk: it holds a ext2" in result.stdout
    assert host.check_output(f"blkid -p -o value -s TYPE {device}") == "ext2"
    assert host.check_output(f"blkid -p -o value -s LABEL {device}") == "NOT-BACKUPS"
    assert not host.mount_point("/mnt/other").exists


# ------------------------------------------------------------------------------------------ restore
def test_restore_without_confirmation_changes_nothing(host):
    before, etc_before = db_state(host), etc_one_state(host)
    pid = host.check_output("systemctl show -P MainPID opennebula")
    result = restore()
    assert result.returncode != 0
    assert "Not confirmed: restoring" in result.stdout and "would OVERWRITE the OpenNebula" in result.stdout
    assert "restore_confirm=true" in result.stdout
    assert db_state(host) == before and etc_one_state(host) == etc_before
    assert host.check_output("systemctl show -P MainPID opennebula") == pid


ORIGINAL: dict[str, object] = {}


def test_restore_brings_every_row_back(host):
    before, etc_before = db_state(host), etc_one_state(host)
    ORIGINAL.update(db=before, etc=etc_before)
    damage(host)
    damaged = db_state(host)
    assert "vm_pool" not in damaged and damaged["image_pool"][0] < before["image_pool"][0]
    assert damaged["host_pool"][1] != before["host_pool"][1]
    assert etc_one_state(host) != etc_before
    started = time.monotonic()
    result = restore("-e", "restore_confirm=true")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    after = db_state(host)
    assert after == before  # same tables, same row counts, same CHECKSUM TABLE
    assert etc_one_state(host) == etc_before
    assert host.service("opennebula").is_running and host.service("opennebula-scheduler").is_running
    assert not [r for r in sql(host, "SHOW DATABASES") if r[0].startswith(f"{DB}_")]
    durations = re.search(r"Restored .*?total [\d.]+s", result.stdout.replace("\n", " "))
    assert durations, result.stdout
    record(f"restore of the {sum(c for c, _ in after.values())}-row database: {durations.group(0)}; "
           f"whole playbook {elapsed:.1f}s")


def _refused_with_db_untouched(host, archive: str, message: str) -> None:
    damage(host)
    damaged, etc_damaged = db_state(host), etc_one_state(host)
    pid = host.check_output("systemctl show -P MainPID opennebula")
    result = restore("-e", "restore_confirm=true", "-e", f"restore_archive={archive}")
    assert result.returncode != 0
    assert "Archive refused, nothing was changed and no service was stopped" in result.stdout
    assert message in result.stdout, result.stdout
    assert db_state(host) == damaged and etc_one_state(host) == etc_damaged
    assert host.check_output("systemctl show -P MainPID opennebula") == pid  # never stopped


def test_truncated_archive_is_refused(host):
    """Truncated after the checksum was (re)computed: only the gzip/tar completeness check can catch it."""
    good = newest_archive(host)
    bad = "/root/truncated.tar.gz"
    size = int(host.check_output(f"stat -c %s {good}"))
    host.check_output(f"head -c {size * 2 // 3} {good} > {bad} && "
                      "cd /root && sha256sum truncated.tar.gz > truncated.tar.gz.sha256")
    _refused_with_db_untouched(host, bad, "the archive is truncated or corrupted")


def test_archive_with_a_wrong_checksum_is_refused(host):
    good = newest_archive(host)
    bad = "/root/tampered.tar.gz"
    host.check_output(f"cp {good} {bad} && cp {good}.sha256 {bad}.sha256 && "
                      f"printf 'X' | dd of={bad} bs=1 seek=5000 conv=notrunc status=none")
    _refused_with_db_untouched(host, bad, "SHA-256 mismatch")


def test_incomplete_dump_inside_a_well_formed_archive_is_refused(host):
    """A dump cut short (no '-- Dump completed'), repacked with a matching checksum, is refused too."""
    good = newest_archive(host)
    host.check_output(
        "rm -rf /root/cut && mkdir /root/cut && cd /root/cut && tar -xzf " + good + " && "
        "f=$(ls onedb/*.sql.gz) && zcat $f | head -n 40 | gzip > cut.gz && mv cut.gz $f && "
        "tar -czf /root/cut.tar.gz onedb etc var && cd /root && sha256sum cut.tar.gz > cut.tar.gz.sha256")
    _refused_with_db_untouched(host, "/root/cut.tar.gz", "is incomplete")


def test_after_the_refusals_the_latest_archive_still_restores_everything(host):
    assert ORIGINAL, "test_restore_brings_every_row_back must run first"
    result = restore("-e", "restore_confirm=true")
    assert result.returncode == 0, result.stdout + result.stderr
    assert db_state(host) == ORIGINAL["db"]
    assert etc_one_state(host) == ORIGINAL["etc"]
    assert host.service("opennebula").is_running
