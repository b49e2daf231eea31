# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""hapy-onedb-migrate: what an OpenNebula front-end needs before it can run the release and database backend of
its inventory, and the database steps that get it there (OpenNebula's own ``onedb`` and ``oned -i``).

Installed and run by the eole.hapy ``frontend`` role (tasks/upgrade.yml, tasks/sqlite2mysql.yml), as root; the
OpenNebula commands run as oneadmin (when root runs this and oneadmin exists). Paths follow OpenNebula's rule:
``$ONE_LOCATION/{bin,etc,var}`` when ONE_LOCATION is set, else the system layout (``/usr/bin``, ``/etc/one``,
``/var/lib/one``). Every command prints one JSON document on stdout.

  hapy-onedb-migrate status --target-version 7.0 --target-backend mysql
      read only: installed release (``oned -v``), database backend in oned.conf, schema version when the release
      is the inventory's (``onedb version``), and the decisions: ``version_action`` none | upgrade | db-upgrade |
      refuse-downgrade | refuse-db-newer, ``backend_action`` none | sqlite2mysql | refuse-mysql-to-sqlite |
      refuse-mysql-not-empty | refuse-password-quote. Exit 0 (a refusal is a decision, read ``refusal``).
  hapy-onedb-migrate upgrade
      ``onedb upgrade`` of the database oned.conf names (oned must be stopped; onedb takes its own backup first
      and restores it when a migrator fails); nothing when the schema is already the installed release's.
  hapy-onedb-migrate sqlite2mysql [--sqlite PATH]
      oned.conf must already name the MariaDB/MySQL database (oned stopped): ``oned -i`` creates its schema,
      ``onedb sqlite2mysql`` copies every table of the SQLite database into it (from a working copy whose empty
      tables unknown to the installed release are dropped: 7.0's upgrade keeps an empty ``vm_import`` table that
      7.0's schema no longer has), every table's row count is compared, then the SQLite file is renamed
      ``<db>.migrated-to-mysql-<UTC time>`` so that it is never used again. Re-runnable after a failure.
Exit status: 0 done (or nothing to do), 1 failed (the JSON says where), 3 bad settings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pwd
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

UTC = dt.timezone.utc  # noqa: UP017 - the script also runs on Python 3.10 hosts (Ubuntu jammy)
MARKER_SUFFIX = ".hapy-to-mysql"  # next to the SQLite file while a migration to MySQL is under way
VERSION_RE = re.compile(r"OpenNebula (\d+)\.(\d+)(?:\.(\d+))?")
DB_START_RE = re.compile(r"^\s*DB\s*=\s*\[", re.MULTILINE)
DB_PAIR_RE = re.compile(r'(\w+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s\]]+)')


class Failure(Exception):
    """A step failed; ``details`` go into the JSON answer."""

    def __init__(self, message: str, **details) -> None:
        super().__init__(message)
        self.details = details


# --------------------------------------------------------------------------- where OpenNebula is
def location(kind: str) -> str:
    """bin, etc or var of this OpenNebula (``ONE_LOCATION`` layout or the system one)."""
    root = os.environ.get("ONE_LOCATION")
    if root:
        return os.path.join(root, kind)
    return {"bin": "/usr/bin", "etc": "/etc/one", "var": "/var/lib/one"}[kind]


def oned_conf_path() -> str:
    return os.path.join(location("etc"), "oned.conf")


def default_sqlite_path() -> str:
    return os.path.join(location("var"), "one.db")


def release(version: str | None) -> tuple[int, int] | None:
    """``(major, minor)`` of ``6.10``, ``6.10.5``, ``OpenNebula 7.0.2 ()``; None for None."""
    if version is None:
        return None
    match = re.search(r"(\d+)\.(\d+)", version)
    if not match:
        raise ValueError(f"not a release: {version!r}")
    return int(match.group(1)), int(match.group(2))


def installed_version() -> str | None:
    """The version ``oned -v`` prints (``6.10.5``), None when oned is not installed."""
    oned = os.path.join(location("bin"), "oned")
    if not os.path.exists(oned):
        return None
    out = subprocess.run([oned, "-v"], capture_output=True, text=True, check=False).stdout
    match = VERSION_RE.search(out)
    if not match:
        raise Failure(f"{oned} -v printed no OpenNebula version: {out.strip()[:200]!r}")
    return ".".join(g for g in match.groups() if g is not None)


def unquoted_index(text: str, start: int, stop: str) -> int:
    """Index of the first ``stop`` character from ``start`` that is outside a quoted value (``\\"`` escapes a quote
    inside one), or -1."""
    quoted = escaped = False
    for index in range(start, len(text)):
        char = text[index]
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == stop and not quoted:
            return index
    return -1


def vector_body(text: str, start: int) -> str:
    """The text of a ``[ ... ]`` vector from ``start`` (after its ``[``) to its closing ``]`` outside quotes."""
    end = unquoted_index(text, start, "]")
    return text[start:] if end < 0 else text[start:end]


def uncommented(line: str) -> str:
    """The line up to a ``#`` that is not inside a quoted value."""
    end = unquoted_index(line, 0, "#")
    return line if end < 0 else line[:end]


def read_db_config(path: str) -> dict | None:
    """The ``DB = [ ... ]`` vector of oned.conf as a dict (keys upper case, quotes removed), None without a file."""
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as handle:
        text = "\n".join(uncommented(line) for line in handle.read().splitlines())
    start = DB_START_RE.search(text)
    if start is None:
        return {"BACKEND": "sqlite"}  # oned's default when DB is absent
    config = {}
    for key, value in DB_PAIR_RE.findall(vector_body(text, start.end())):
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        config[key.upper()] = value
    config["BACKEND"] = config.get("BACKEND", "sqlite").lower()
    return config


# --------------------------------------------------------------------------- running OpenNebula's tools
def run_as() -> str | None:
    """oneadmin when root runs this and oneadmin exists (onedb and oned -i must not create root-owned files)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("oneadmin")
    except KeyError:
        return None
    return "oneadmin"


def tool_env(db: dict | None) -> dict:
    env = dict(os.environ)
    user = run_as()
    if user:
        home = pwd.getpwnam(user).pw_dir
        env.update(HOME=home, USER=user, LOGNAME=user)
        env.setdefault("ONE_AUTH", os.path.join(home, ".one", "one_auth"))
    if db and db.get("BACKEND") == "mysql":
        env["ONE_DB_PASSWORD"] = db.get("PASSWD", "")  # onedb reads it there: never on a command line
    return env


def run_tool(argv: list[str], db: dict | None) -> subprocess.CompletedProcess:
    user = run_as()
    kwargs = {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []} if user else {}
    return subprocess.run(argv, env=tool_env(db), capture_output=True, text=True, check=False,
                          cwd=location("var") if os.path.isdir(location("var")) else None, **kwargs)


def onedb_args(db: dict, sqlite_path: str | None = None) -> list[str]:
    """onedb's connection options for the database of oned.conf (the password goes through ONE_DB_PASSWORD)."""
    if db["BACKEND"] == "sqlite":
        return ["--sqlite", sqlite_path or default_sqlite_path()]
    args = ["--server", db.get("SERVER", "localhost"), "--username", db.get("USER", "oneadmin"),
            "--dbname", db.get("DB_NAME", "opennebula")]
    if int(db.get("PORT", 0) or 0):
        args += ["--port", str(db["PORT"])]
    return args


def onedb(command: list[str], db: dict, sqlite_path: str | None = None) -> subprocess.CompletedProcess:
    return run_tool([os.path.join(location("bin"), "onedb"), *command, *onedb_args(db, sqlite_path)], db)


def schema_version(db: dict) -> dict:
    """``onedb version``: shared/local schema versions, the installed release's, and onedb's verdict
    (rc 0 up to date, 2 upgrade needed, 3 database newer than the installed release)."""
    proc = onedb(["version"], db)
    found: dict[str, str] = {}
    for key, value in re.findall(r"^(Shared|Local|Required shared version|Required local version):\s*(\S+)",
                                 proc.stdout, re.MULTILINE):
        found.setdefault(key, value)  # the first ones: "Update required" repeats the expected versions after
    if proc.returncode not in (0, 2, 3) or "Shared" not in found:
        raise Failure("onedb version failed", rc=proc.returncode, output=(proc.stdout + proc.stderr)[-2000:])
    return {"shared": found.get("Shared"), "local": found.get("Local"),
            "required_shared": found.get("Required shared version"),
            "required_local": found.get("Required local version"), "verdict": proc.returncode}


# --------------------------------------------------------------------------- MySQL side (mariadb client)
class MySQL:
    """The MariaDB/MySQL database of oned.conf, through the mariadb/mysql client (credentials in a 0600 file)."""

    def __init__(self, db: dict) -> None:
        self.db = db
        self.client = shutil.which("mariadb") or shutil.which("mysql")
        if self.client is None:
            raise Failure("neither the mariadb nor the mysql client is installed")

    def query(self, sql: str) -> list[list[str]]:
        with tempfile.NamedTemporaryFile("w", prefix="hapy-onedb-", suffix=".cnf") as options:
            os.chmod(options.name, 0o600)
            lines = ["[client]", f"user={self.db.get('USER', 'oneadmin')}",
                     'password="{}"'.format(self.db.get("PASSWD", "").replace("\\", "\\\\").replace('"', '\\"'))]
            server = self.db.get("SERVER", "localhost")
            lines.append(f"host={server}")
            if int(self.db.get("PORT", 0) or 0):
                lines.append(f"port={self.db['PORT']}")
            options.write("\n".join(lines) + "\n")
            options.flush()
            proc = subprocess.run([self.client, f"--defaults-extra-file={options.name}", "--batch",
                                   "--skip-column-names", "--database", self.db.get("DB_NAME", "opennebula"),
                                   "-e", sql], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise Failure(f"query on the MySQL database failed: {proc.stderr.strip()[-500:]}")
        return [line.split("\t") for line in proc.stdout.splitlines()]

    def tables(self) -> list[str]:
        return [row[0] for row in self.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()")]

    def count(self, table: str) -> int:
        return int(self.query(f"SELECT COUNT(*) FROM `{table}`")[0][0])


def sqlite_tables(path: str) -> dict[str, int]:
    """table -> row count of a SQLite database (read only)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "AND name NOT LIKE 'sqlite_%'")]
        return {name: conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] for name in names}


# --------------------------------------------------------------------------- decisions
def decide(installed: str | None, target: str, conf_backend: str | None, target_backend: str,
           sqlite_present: bool, marker_present: bool, schema: dict | None = None,
           mysql_users: int | None = None, quote_in_password: bool = False) -> dict:
    """What the front-end needs, from what is there (pure: every input is given)."""
    answer = {"version_action": "none", "backend_action": "none", "refusal": None}
    have, want = release(installed), release(target)
    if have is not None and want is not None:
        if have > want:
            answer["version_action"] = "refuse-downgrade"
            answer["refusal"] = (
                f"OpenNebula {installed} is installed and the inventory asks for {target}: a downgrade is refused "
                f"(OpenNebula's database cannot go back to an older release). Nothing was changed. Set "
                f"hapy_one.version to {have[0]}.{have[1]} (or restore an older front-end from its backups).")
        elif have < want:
            answer["version_action"] = "upgrade"
        elif schema is not None and schema["verdict"] == 2:
            answer["version_action"] = "db-upgrade"  # the packages are there, the schema is not (interrupted run)
        elif schema is not None and schema["verdict"] == 3:
            answer["version_action"] = "refuse-db-newer"
            answer["refusal"] = (
                f"the OpenNebula database is at schema {schema['shared']}/{schema['local']}, newer than the "
                f"installed OpenNebula {installed} expects ({schema['required_shared']}): refused, nothing was "
                "changed. Install the release that wrote this database.")
    if answer["refusal"]:
        return answer
    if target_backend == "sqlite" and (conf_backend == "mysql" or marker_present):
        answer["backend_action"] = "refuse-mysql-to-sqlite"
        answer["refusal"] = (
            "hapy_db.backend is sqlite but this front-end's database is in MariaDB/MySQL: moving back to SQLite is "
            "refused (OpenNebula has no tool for it and SQLite is for labs). Nothing was changed. Set "
            "hapy_db.backend: mysql.")
    elif target_backend == "mysql" and (marker_present or (conf_backend == "sqlite" and sqlite_present)):
        if quote_in_password:
            answer["backend_action"] = "refuse-password-quote"
            answer["refusal"] = (
                "the SQLite database must move to MariaDB/MySQL but hapy_db.password contains a single quote ('): "
                "onedb sqlite2mysql hands the password to mysqldump inside single quotes on a shell command line, "
                "where it breaks. Refused, nothing was changed: choose a password without ' for the migration.")
        elif mysql_users and not marker_present:
            answer["backend_action"] = "refuse-mysql-not-empty"
            answer["refusal"] = (
                f"the SQLite database must move to MariaDB/MySQL but the MySQL database already holds an OpenNebula "
                f"database ({mysql_users} users): refused, nothing was changed. Give hapy_db.name an empty database, "
                "or move the SQLite file aside if the MySQL one is the database in use.")
        else:
            answer["backend_action"] = "sqlite2mysql"
    return answer


def target_mysql_users(args: argparse.Namespace) -> int:
    """Users in the MySQL database the inventory names (``--db-*``, password in HAPY_DB_PASSWORD): 0 when it
    is empty or not there yet (the role creates it later in the run)."""
    target = {"BACKEND": "mysql", "SERVER": args.db_server, "PORT": args.db_port, "USER": args.db_user,
              "DB_NAME": args.db_name, "PASSWD": os.environ.get("HAPY_DB_PASSWORD", "")}
    try:
        mysql = MySQL(target)
        return mysql.count("user_pool") if "user_pool" in mysql.tables() else 0
    except Failure:
        return 0


def status(args: argparse.Namespace) -> dict:
    installed = installed_version()
    conf = read_db_config(oned_conf_path())
    conf_backend = conf["BACKEND"] if conf else None
    sqlite_path = args.sqlite or default_sqlite_path()
    sqlite_present = os.path.exists(sqlite_path) and os.path.getsize(sqlite_path) > 0
    marker_present = os.path.exists(sqlite_path + MARKER_SUFFIX)
    schema = None
    if installed and conf and release(installed) == release(args.target_version) and (
            conf_backend == "mysql" or sqlite_present):
        schema = schema_version(conf)
    mysql_users = None
    if args.target_backend == "mysql" and sqlite_present and not marker_present and conf_backend == "sqlite":
        mysql_users = target_mysql_users(args)
    answer = decide(installed, args.target_version, conf_backend, args.target_backend, sqlite_present,
                    marker_present, schema, mysql_users, "'" in os.environ.get("HAPY_DB_PASSWORD", ""))
    answer.update(installed=installed, target=args.target_version, backend=conf_backend,
                  target_backend=args.target_backend, sqlite=sqlite_path if sqlite_present else None,
                  migration_marker=marker_present, schema=schema)
    return answer


# --------------------------------------------------------------------------- actions
def upgrade(_args: argparse.Namespace) -> dict:
    conf = read_db_config(oned_conf_path())
    if conf is None:
        raise Failure(f"{oned_conf_path()} does not exist")
    before = schema_version(conf)
    if before["verdict"] == 0:
        return {"changed": False, "schema": before, "message": "the database schema is the installed release's"}
    if before["verdict"] == 3:
        raise Failure("the database is newer than the installed OpenNebula: refused", schema=before)
    started = time.monotonic()
    # onedb's own MySQL backup runs mysqldump with -p'<password>' through a shell: impossible with a ' in the
    # password; the backups role's archive taken just before is then the only backup (no automatic rollback)
    own_backup = not (conf["BACKEND"] == "mysql" and "'" in conf.get("PASSWD", ""))
    proc = onedb(["upgrade", "--verbose", *([] if own_backup else ["--no-backup"])], conf)
    seconds = round(time.monotonic() - started, 2)
    backup = re.search(r"(?:backup|dump) stored in (\S+)", proc.stdout)
    if proc.returncode != 0:
        raise Failure("onedb upgrade failed (onedb restores its own backup when a migrator fails)",
                      rc=proc.returncode, output=(proc.stdout + proc.stderr)[-3000:],
                      onedb_backup=backup.group(1) if backup else None)
    after = schema_version(conf)
    if after["verdict"] != 0:
        raise Failure("onedb upgrade ended but the schema is still not the installed release's", schema=after)
    return {"changed": True, "from": before, "to": after, "seconds": seconds,
            "onedb_backup": backup.group(1) if backup else None, "onedb_backup_skipped": not own_backup,
            "migrators": re.findall(r"Running migrator (\S+)", proc.stdout)}


def sqlite2mysql(args: argparse.Namespace) -> dict:
    conf = read_db_config(oned_conf_path())
    if not conf or conf["BACKEND"] != "mysql":
        raise Failure(f"{oned_conf_path()} must name the MySQL database first (DB = [ BACKEND = \"mysql\", ... ])")
    sqlite_path = args.sqlite or default_sqlite_path()
    marker = sqlite_path + MARKER_SUFFIX
    if "'" in conf.get("PASSWD", ""):
        raise Failure("onedb sqlite2mysql cannot use a MySQL password with a single quote ('): refused")
    if not os.path.exists(sqlite_path):
        raise Failure(f"no SQLite database at {sqlite_path}")
    started = time.monotonic()
    mysql = MySQL(conf)
    if not os.path.exists(marker) and "user_pool" in mysql.tables() and mysql.count("user_pool"):
        raise Failure(f"the MySQL database {conf.get('DB_NAME')} already holds an OpenNebula database: refused, "
                      "nothing was changed")
    with open(marker, "w", encoding="utf-8") as handle:
        handle.write(f"migration of {sqlite_path} to MySQL started {dt.datetime.now(UTC).isoformat()}\n")
    if "db_versioning" not in mysql.tables():
        proc = run_tool([os.path.join(location("bin"), "oned"), "-i"], conf)  # schema only: no user, no auth file
        if proc.returncode != 0 or "db_versioning" not in mysql.tables():
            raise Failure("oned -i could not create the OpenNebula schema in MySQL", rc=proc.returncode,
                          output=(proc.stdout + proc.stderr)[-2000:])
    source = sqlite_tables(sqlite_path)
    target_tables = set(mysql.tables())
    unknown = {t: n for t, n in source.items() if t not in target_tables}
    if any(unknown.values()):
        raise Failure("the SQLite database has rows in tables the installed release's schema does not have",
                      tables={t: n for t, n in unknown.items() if n})
    work = f"{sqlite_path}.hapy-copy"
    with sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True) as src, sqlite3.connect(work) as copy:
        src.backup(copy)
        for table in unknown:
            copy.execute(f'DROP TABLE "{table}"')
    if run_as():
        shutil.chown(work, user=run_as())
    dump = os.path.join(os.path.dirname(sqlite_path), ".hapy-mysql-before-sqlite2mysql.sql")
    if os.path.exists(dump):  # onedb refuses to overwrite its dump (of the MySQL side, empty but for oned -i)
        os.remove(dump)
    try:
        proc = onedb(["sqlite2mysql", "--backup", dump, "--sqlite", work], conf)
        if proc.returncode != 0:
            raise Failure("onedb sqlite2mysql failed", rc=proc.returncode, output=(proc.stdout + proc.stderr)[-3000:])
        counts = {t: (n, mysql.count(t)) for t, n in source.items() if t not in unknown}
        differ = {t: c for t, c in counts.items() if c[0] != c[1]}
        if differ:
            raise Failure("row counts differ between SQLite and MySQL after the copy", tables=differ)
    finally:
        os.remove(work)
    stamp = dt.datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    moved = f"{sqlite_path}.migrated-to-mysql-{stamp}"
    os.rename(sqlite_path, moved)
    os.remove(marker)
    return {"changed": True, "tables": len(counts), "rows": sum(c[0] for c in counts.values()),
            "dropped_empty_tables": sorted(unknown), "sqlite_moved_to": moved,
            "seconds": round(time.monotonic() - started, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("status", help="read what is there and decide (read only)")
    check.add_argument("--target-version", required=True, help="the inventory's release, like 7.0")
    check.add_argument("--target-backend", required=True, choices=["mysql", "sqlite"])
    check.add_argument("--sqlite", help="SQLite database (default <var>/one.db)")
    for option, default in (("server", "localhost"), ("port", "0"), ("user", "oneadmin"), ("name", "opennebula")):
        check.add_argument(f"--db-{option}", default=default,
                           help=f"the inventory's MySQL database {option} (checked empty before a migration)")
    sub.add_parser("upgrade", help="onedb upgrade of oned.conf's database (oned stopped)")
    move = sub.add_parser("sqlite2mysql", help="copy the SQLite database into oned.conf's MySQL one (oned stopped)")
    move.add_argument("--sqlite", help="SQLite database (default <var>/one.db)")
    args = parser.parse_args(argv)
    try:
        if args.command == "status":
            release(args.target_version)
        answer = {"status": status, "upgrade": upgrade, "sqlite2mysql": sqlite2mysql}[args.command](args)
    except ValueError as exc:
        print(json.dumps({"failed": True, "msg": str(exc)}))
        return 3
    except (Failure, OSError, sqlite3.Error, subprocess.SubprocessError) as exc:
        print(json.dumps({"failed": True, "msg": str(exc), **getattr(exc, "details", {})}))
        return 1
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
