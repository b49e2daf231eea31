"""roles/backups/files/hapy_onedb_backup.py: retention rules, archive verification, SQLite backend (no MariaDB needed).

The MariaDB path (mariadb-dump, restore) runs for real in ``molecule test -s backups``.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import os
import sqlite3
import tarfile
from pathlib import Path

import pytest

from tests.unit.script_module import load_script

UTC = dt.timezone.utc  # noqa: UP017

hob = load_script("backups/files/hapy_onedb_backup.py", "hapy_onedb_backup")


def touch_archive(directory: Path, stamp: str) -> str:
    name = f"opennebula-{stamp}.tar.gz"
    (directory / name).write_bytes(b"x")
    (directory / f"{name}.sha256").write_text("x\n")
    return name


@pytest.mark.parametrize(
    ("keep_last", "keep_days", "kept"),
    [
        (3, 0, ["20261126-010000", "20261125-010000", "20261124-010000"]),
        (0, 2, ["20261126-010000", "20261125-010000"]),  # younger than 2 days at 2026-11-26 12:00
        (1, 2, ["20261126-010000", "20261125-010000"]),  # either rule keeps
        (0, 0, ["20261126-010000", "20261125-010000", "20261124-010000", "20261101-010000", "20251126-010000"]),
        (0, 1, ["20261126-010000"]),
    ],
)
def test_rotation(tmp_path, keep_last, keep_days, kept):
    stamps = ["20251126-010000", "20261101-010000", "20261124-010000", "20261125-010000", "20261126-010000"]
    for stamp in stamps:
        touch_archive(tmp_path, stamp)
    (tmp_path / "unrelated.tar.gz").write_bytes(b"keep me")
    now = dt.datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    hob.rotate({"dump_dir": str(tmp_path), "keep_last": keep_last, "keep_days": keep_days}, now)
    left = sorted(p.name for p in tmp_path.iterdir())
    expected = sorted([f"opennebula-{s}.tar.gz" for s in kept] + [f"opennebula-{s}.tar.gz.sha256" for s in kept]
                      + ["unrelated.tar.gz"])
    assert left == expected


def test_newest_is_always_kept(tmp_path):
    touch_archive(tmp_path, "20200101-000000")
    hob.rotate({"dump_dir": str(tmp_path), "keep_last": 0, "keep_days": 1}, dt.datetime(2026, 1, 1, tzinfo=UTC))
    assert (tmp_path / "opennebula-20200101-000000.tar.gz").exists()


@pytest.fixture
def sqlite_site(tmp_path):
    db = tmp_path / "one.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE vm_pool (oid INTEGER PRIMARY KEY, body TEXT)")
    conn.executemany("INSERT INTO vm_pool VALUES (?, ?)", [(i, f"<VM><ID>{i}</ID></VM>") for i in range(5000)])
    conn.commit()
    conn.close()
    etc = tmp_path / "etc-one"
    etc.mkdir()
    (etc / "oned.conf").write_text('DB = [ BACKEND = "sqlite" ]\n')
    dumps = tmp_path / "onedb"
    dumps.mkdir()
    config = {"backend": "sqlite", "sqlite_path": str(db), "dump_dir": str(dumps), "include": [str(etc)],
              "keep_last": 2, "keep_days": 0}
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(config))
    return config, path


def test_sqlite_backup(sqlite_site, tmp_path):
    config, settings = sqlite_site
    assert hob.main(["--config", str(settings)]) == 0
    [archive] = sorted(Path(config["dump_dir"]).glob("opennebula-*.tar.gz"))
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    assert (Path(config["dump_dir"]) / f"{archive.name}.sha256").read_text().split()[0] == hob.sha256_of(str(archive))
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        [dump] = [n for n in names if hob.DUMP_RE.fullmatch(n)]
        tar.extract(dump, tmp_path / "out")
    assert dump.endswith(".db")
    assert any(n.endswith("etc-one/oned.conf") for n in names)
    copy = sqlite3.connect(tmp_path / "out" / dump)
    assert copy.execute("SELECT COUNT(*) FROM vm_pool").fetchone() == (5000,)


def make_mysql_like_archive(tmp_path: Path, sql: bytes) -> Path:
    stamp = "20261126-010000"
    archive = tmp_path / f"opennebula-{stamp}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        data = gzip.compress(sql)
        member = tarfile.TarInfo(f"onedb/opennebula-{stamp}.sql.gz")
        member.size = len(data)
        tar.addfile(member, io.BytesIO(data))
        conf = b"DB = []\n"
        member = tarfile.TarInfo("etc/one/oned.conf")
        member.size = len(conf)
        tar.addfile(member, io.BytesIO(conf))
    (tmp_path / f"{archive.name}.sha256").write_text(f"{hob.sha256_of(str(archive))}  {archive.name}\n")
    return archive


def test_verify_accepts_a_complete_archive(tmp_path):
    archive = make_mysql_like_archive(tmp_path, b"INSERT INTO t VALUES (1);\n-- Dump completed on 2026-11-26\n")
    assert hob.main(["--verify", str(archive)]) == 0


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("truncate", "truncated or corrupted"),
        ("flip", "SHA-256 mismatch"),
        ("no-sum", "checksum file"),
        ("incomplete", "is incomplete"),
    ],
)
def test_verify_refuses(tmp_path, damage, message, capsys):
    sql = b"INSERT INTO t VALUES (1);\n" * 20000
    archive = make_mysql_like_archive(tmp_path, sql + (b"" if damage == "incomplete" else b"-- Dump completed\n"))
    if damage == "truncate":
        data = archive.read_bytes()[: archive.stat().st_size // 2]
        archive.write_bytes(data)
        (tmp_path / f"{archive.name}.sha256").write_text(f"{hob.sha256_of(str(archive))}  {archive.name}\n")
    elif damage == "flip":
        data = bytearray(archive.read_bytes())
        data[100] ^= 0xFF
        archive.write_bytes(bytes(data))
    elif damage == "no-sum":
        os.remove(tmp_path / f"{archive.name}.sha256")
    assert hob.main(["--verify", str(archive)]) == 2
    assert message in capsys.readouterr().err
