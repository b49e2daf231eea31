# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""hapy-onedb-backup: dated, checksummed archives of the OpenNebula database and configuration.

Installed by the eole.hapy ``backups`` role and run by ``hapy-onedb-backup.service`` (started by its timer).
Settings come from a JSON file (default ``/etc/hapy/onedb-backup.json``, written by the role); the database
credentials from a MariaDB option file (mode 0600) named there.

  hapy-onedb-backup                 make one archive, write its checksum, apply the retention policy
  hapy-onedb-backup --verify FILE   check an archive before a restore (checksum, complete gzip/tar, complete dump)
  hapy-onedb-backup --latest        print the newest archive

One archive ``opennebula-YYYYmmdd-HHMMSS.tar.gz`` (UTC time) holds:
  onedb/opennebula-YYYYmmdd-HHMMSS.sql.gz   mariadb-dump --single-transaction --routines --triggers (MySQL backend)
  onedb/opennebula-YYYYmmdd-HHMMSS.db       a copy made with SQLite's online backup API (SQLite backend)
  etc/one/...                               OpenNebula's configuration
  var/lib/one/.ssh/...                      oneadmin's SSH keys
and ``opennebula-YYYYmmdd-HHMMSS.tar.gz.sha256`` next to it (``sha256sum -c`` format).
Exit status: 0 ok, 1 backup failed, 2 archive refused by --verify, 3 bad settings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import time

DEFAULT_CONFIG = "/etc/hapy/onedb-backup.json"
ARCHIVE_RE = re.compile(r"^opennebula-(\d{8}-\d{6})\.tar\.gz$")
DUMP_TRAILER = b"-- Dump completed"
CHUNK = 1024 * 1024
UTC = dt.timezone.utc  # noqa: UP017 - the script also runs on Python 3.10 hosts (Ubuntu jammy)
DUMP_RE = re.compile(r"onedb/opennebula-\d{8}-\d{6}\.(sql\.gz|db)")


class Refused(Exception):
    """An archive that must not be restored."""


def log(message: str) -> None:
    """One line to stdout, which systemd sends to the journal."""
    print(message, flush=True)


def load_config(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        config = json.load(handle)
    config.setdefault("backend", "mysql")
    config.setdefault("database", "opennebula")
    config.setdefault("include", ["/etc/one", "/var/lib/one/.ssh"])
    config.setdefault("keep_last", 7)
    config.setdefault("keep_days", 0)
    if "dump_dir" not in config:
        raise ValueError("dump_dir is missing")
    return config


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def fsync_path(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- dump
def dump_mysql(config: dict, target: str) -> None:
    """Consistent dump of the database (InnoDB snapshot, no lock), gzipped, checked complete."""
    tool = shutil.which("mariadb-dump") or shutil.which("mysqldump")
    if tool is None:
        raise RuntimeError("neither mariadb-dump nor mysqldump is installed")
    command = [tool]
    if config.get("option_file"):
        command.append(f"--defaults-extra-file={config['option_file']}")
    # no --databases: the dump carries no CREATE DATABASE/USE, so it can be loaded into a staging schema
    command += ["--single-transaction", "--quick", "--routines", "--triggers", "--events", "--hex-blob",
                "--default-character-set=utf8mb4", config["database"]]
    with open(target, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6) as out:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None
        tail = b""
        for block in iter(lambda: proc.stdout.read(CHUNK), b""):
            out.write(block)
            tail = (tail + block)[-4096:]
        stderr = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
        if proc.wait() != 0:
            raise RuntimeError(f"{os.path.basename(tool)} failed (exit {proc.returncode}): {stderr}")
    if DUMP_TRAILER not in tail:
        raise RuntimeError(f"{os.path.basename(tool)} output has no '{DUMP_TRAILER.decode()}' trailer")


def dump_sqlite(config: dict, target: str) -> None:
    """Copy of the SQLite database through SQLite's online backup API (what ``sqlite3 .backup`` does)."""
    source = sqlite3.connect(f"file:{config['sqlite_path']}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        (ok,) = copy.execute("PRAGMA integrity_check").fetchone()
        if ok != "ok":
            raise RuntimeError(f"integrity check of the copy failed: {ok}")
    finally:
        copy.close()
        source.close()


def make_archive(config: dict) -> str:
    dump_dir = config["dump_dir"]
    stamp = dt.datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    name = f"opennebula-{stamp}.tar.gz"
    final = os.path.join(dump_dir, name)
    if os.path.exists(final):
        raise RuntimeError(f"{final} already exists")
    work = os.path.join(dump_dir, f".work-{stamp}")
    os.makedirs(work, mode=0o700)
    try:
        started = time.monotonic()
        if config["backend"] == "sqlite":
            dump_name = f"opennebula-{stamp}.db"
            dump_sqlite(config, os.path.join(work, dump_name))
        else:
            dump_name = f"opennebula-{stamp}.sql.gz"
            dump_mysql(config, os.path.join(work, dump_name))
        dump_size = os.path.getsize(os.path.join(work, dump_name))
        log(f"database dump {dump_name}: {dump_size} bytes in {time.monotonic() - started:.2f}s")

        partial = os.path.join(work, name)
        with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
            tar.add(os.path.join(work, dump_name), arcname=f"onedb/{dump_name}")
            for path in config["include"]:
                if os.path.exists(path):
                    tar.add(path, arcname=path.lstrip("/"))
                else:
                    log(f"warning: {path} does not exist, not archived")
        fsync_path(partial)
        checksum = sha256_of(partial)
        os.rename(partial, final)
        with open(final + ".sha256.part", "w", encoding="utf-8") as handle:
            handle.write(f"{checksum}  {name}\n")
        os.rename(final + ".sha256.part", final + ".sha256")
        fsync_path(dump_dir)
        log(f"archive {final}: {os.path.getsize(final)} bytes, sha256 {checksum}, "
            f"total {time.monotonic() - started:.2f}s")
        return final
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------- retention
def archives(dump_dir: str) -> list[str]:
    """Archive names, newest first (the dated names sort chronologically)."""
    return sorted((n for n in os.listdir(dump_dir) if ARCHIVE_RE.match(n)), reverse=True)


def rotate(config: dict, now: dt.datetime | None = None) -> list[str]:
    """Remove archives no retention rule keeps; the newest archive is always kept.

    ``keep_last`` N keeps the N newest archives; ``keep_days`` D keeps archives younger than D days.
    With both set an archive is kept when either rule keeps it; 0 disables a rule.
    """
    now = now or dt.datetime.now(UTC)
    keep_last, keep_days = int(config["keep_last"]), int(config["keep_days"])
    if keep_last <= 0 and keep_days <= 0:
        return []
    removed = []
    for index, name in enumerate(archives(config["dump_dir"])):
        stamp = dt.datetime.strptime(ARCHIVE_RE.match(name).group(1), "%Y%m%d-%H%M%S").replace(tzinfo=UTC)
        kept = (
            index == 0
            or (keep_last > 0 and index < keep_last)
            or (keep_days > 0 and now - stamp < dt.timedelta(days=keep_days))
        )
        if not kept:
            for path in (name, name + ".sha256"):
                full = os.path.join(config["dump_dir"], path)
                if os.path.exists(full):
                    os.remove(full)
            removed.append(name)
            log(f"retention: removed {name}")
    return removed


# --------------------------------------------------------------------------- verification
def verify(path: str) -> dict:
    """Refuse (raise :class:`Refused`) an archive that is not exactly what the backup wrote."""
    if not os.path.isfile(path):
        raise Refused(f"{path}: no such archive")
    sum_file = path + ".sha256"
    if not os.path.isfile(sum_file):
        raise Refused(f"{path}: checksum file {sum_file} is missing")
    with open(sum_file, encoding="utf-8") as handle:
        fields = handle.read().split()
    if not fields or not re.fullmatch(r"[0-9a-f]{64}", fields[0]):
        raise Refused(f"{sum_file}: not a SHA-256 checksum file")
    actual = sha256_of(path)
    if actual != fields[0]:
        raise Refused(f"{path}: SHA-256 mismatch (expected {fields[0]} from {sum_file}, found {actual}); "
                      "the archive is damaged or was changed")
    try:
        with tarfile.open(path, "r:gz") as tar:
            members = tar.getmembers()  # reads the whole gzip stream: a truncated file fails here
            dumps = [m for m in members if m.isfile() and DUMP_RE.fullmatch(m.name)]
            if len(dumps) != 1:
                raise Refused(f"{path}: expected exactly one database dump under onedb/, found {len(dumps)}")
            if not any(m.name == "etc/one" or m.name.startswith("etc/one/") for m in members):
                raise Refused(f"{path}: the archive holds no etc/one configuration")
            unsafe = [m.name for m in members if m.name.startswith("/") or ".." in m.name.split("/")]
            if unsafe:
                raise Refused(f"{path}: unsafe member paths {unsafe[:3]}")
            handle = tar.extractfile(dumps[0])
            assert handle is not None
            if dumps[0].name.endswith(".sql.gz"):
                tail = b""
                with gzip.GzipFile(fileobj=handle) as sql:
                    for block in iter(lambda: sql.read(CHUNK), b""):
                        tail = (tail + block)[-4096:]
                if DUMP_TRAILER not in tail:
                    raise Refused(
                        f"{path}: the SQL dump {dumps[0].name} is incomplete (no '{DUMP_TRAILER.decode()}' line)"
                    )
    except (tarfile.TarError, EOFError, OSError, gzip.BadGzipFile, ValueError) as exc:
        raise Refused(f"{path}: the archive is truncated or corrupted ({type(exc).__name__}: {exc})") from exc
    return {"archive": path, "sha256": actual, "dump": dumps[0].name, "members": len(members)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--config", default=DEFAULT_CONFIG)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--verify", metavar="ARCHIVE", help="check an archive and print its description as JSON")
    group.add_argument("--latest", action="store_true", help="print the path of the newest archive")
    args = parser.parse_args(argv)
    os.umask(0o077)  # archives hold oneadmin's private keys and the database
    if args.verify:
        try:
            print(json.dumps(verify(args.verify)))
        except Refused as exc:
            print(f"REFUSED: {exc}", file=sys.stderr)
            return 2
        return 0
    try:
        config = load_config(args.config)
    except (OSError, ValueError) as exc:
        print(f"hapy-onedb-backup: cannot read settings {args.config}: {exc}", file=sys.stderr)
        return 3
    if args.latest:
        names = archives(config["dump_dir"])
        if not names:
            print(f"no archive in {config['dump_dir']}", file=sys.stderr)
            return 1
        print(os.path.join(config["dump_dir"], names[0]))
        return 0
    try:
        make_archive(config)
        rotate(config)
    except (OSError, RuntimeError, sqlite3.Error) as exc:
        print(f"hapy-onedb-backup: backup FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
