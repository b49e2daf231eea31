"""A school's OpenNebula moved from SQLite to MariaDB, then upgraded 6.10.5 -> 7.0.2, on real oned.

The demo school's cloud level (``site.yml`` on ``inventories/demo``) is converged on a real oned 6.10.5 on SQLite; its
database then goes through the frontend role's own helper (``roles/frontend/files/hapy_onedb_migrate.py``: the
decisions, ``oned -i`` + ``onedb sqlite2mysql`` with the row counts compared, ``onedb upgrade``), each change after
the backups role's archive (``roles/backups/files/hapy_onedb_backup.py``); oned starts on the result, every object is
compared kind by kind with what was served before, and the demo's second run changes nothing. MariaDB is a
``mariadbd`` of this module's own (temporary datadir, loopback port), stopped at the end. The other order (upgrade on
SQLite, then the move, where 7.0's leftover ``vm_import`` table matters) runs in ``molecule/upgrade``.

What stands in for the role's Ansible glue, which only runs in a container (``molecule/upgrade``):
``systemctl stop/start opennebula`` (the harness stops and starts the instance), ``apt`` (``switch_release``: the
instance gets 7.0.2's binaries, drivers and stock configuration, keeps its var/), and ``config.yml`` rendering the
MySQL ``DB`` vector into oned.conf (``use_mysql`` writes the same vector).
"""
from __future__ import annotations

import collections
import json
import os
import re
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.oned import is_write
from tests.playbooks.playbook_runner import ROOT, run_lock_writes, run_playbook
from tests.real_oned import endpoints
from tests.real_oned.endpoint import RealOnedEndpoint
from tests.real_oned.instance import free_ports

# the roles install both behind "#!/usr/bin/python3" (standard library only): run them with that interpreter
HOST_PYTHON = "/usr/bin/python3"
MIGRATE = ROOT / "roles" / "frontend" / "files" / "hapy_onedb_migrate.py"
BACKUP = ROOT / "roles" / "backups" / "files" / "hapy_onedb_backup.py"
DEMO_PASSWORD = "demo-oneadmin"
DEMO_IMAGES = ("eole-2.9-amon", "eole-2.9-scribe")
KINDS = ("cluster", "host", "vn", "datastore", "image", "template", "vm", "user", "group", "acl", "vdc", "secgroup",
         "backupjob", "document")
# What changes by itself between two reads (monitoring, capacities, quota usage, times of monitoring and login).
VOLATILE_TAGS = {"LAST_MON_TIME", "MONITORING", "HOST_SHARE", "TOTAL_MB", "FREE_MB", "USED_MB", "VM_QUOTA",
                 "DATASTORE_QUOTA", "NETWORK_QUOTA", "IMAGE_QUOTA", "DEFAULT_USER_QUOTAS", "DEFAULT_GROUP_QUOTAS",
                 "LOGIN_TOKEN", "LAST_POLL"}
# What 7.0's migrators (src/onedb/local/6.10.0_to_7.0.0.rb) and 7.0's oned add on purpose, path by path (index-free):
# nothing else may differ. Every entry was seen on the demo database.
ADDED_BY_70 = {
    "image": {"IMAGE/MODTIME"},  # feature 7067: MODTIME = REGTIME
    "vm": {"VM/HISTORY_RECORDS/HISTORY/PLAN_ID", "VM/HISTORY_RECORDS/HISTORY/ACTION_ID"},  # feature 1550 (DRS)
}
CHANGED_BY_70: dict[str, set[str]] = {}
REMOVED_BY_70: dict[str, set[str]] = {}


# ---------------------------------------------------------------------------------------------- helpers
def flatten(element: ET.Element, path: str = "") -> dict[str, str]:
    """``{'VM[1]/TEMPLATE[1]/NIC[2]/IP[1]': '10.99.2.10', ...}`` of an object, without its volatile parts."""
    path = path or element.tag
    out: dict[str, str] = {}
    seen: collections.Counter = collections.Counter()
    for child in element:
        if child.tag in VOLATILE_TAGS:
            continue
        seen[child.tag] += 1
        key = f"{path}/{child.tag}[{seen[child.tag]}]"
        if len(child):
            out.update(flatten(child, key))
        else:
            out[key] = (child.text or "").strip()
    return out


def generic(path: str) -> str:
    return re.sub(r"\[\d+\]", "", path)


def objects(endpoint: RealOnedEndpoint) -> dict[str, dict[str, dict[str, str]]]:
    """kind -> 'name (id)' -> flattened object, for every kind the demo has (and those it should not have)."""
    out = {}
    for kind in KINDS:
        out[kind] = {}
        for obj in endpoint.pool(kind):
            if kind == "vm":  # the pool leaves the history records out: the VM's own document has them
                obj = ET.fromstring(endpoint.call("one.vm.info", int(obj.findtext("ID"))))
            label = f"{obj.findtext('NAME') or obj.findtext('USER') or ''} ({obj.findtext('ID')})"
            out[kind][label] = flatten(obj)
    return out


def differences(before: dict, after: dict) -> dict[str, dict[str, set[str]]]:
    """kind -> {'added'|'removed'|'changed': generic paths}; objects missing or new are reported by label."""
    out: dict[str, dict[str, set[str]]] = {}
    for kind in KINDS:
        found: dict[str, set[str]] = collections.defaultdict(set)
        for label in before[kind].keys() ^ after[kind].keys():
            found["objects " + ("lost" if label in before[kind] else "new")].add(label)
        for label in before[kind].keys() & after[kind].keys():
            old, new = before[kind][label], after[kind][label]
            found["added"] |= {generic(p) for p in new.keys() - old.keys()}
            found["removed"] |= {generic(p) for p in old.keys() - new.keys()}
            found["changed"] |= {generic(p) for p in old.keys() & new.keys() if old[p] != new[p]}
        out[kind] = {k: v for k, v in found.items() if v}
    return {k: v for k, v in out.items() if v}


def expected_70_differences() -> dict[str, dict[str, set[str]]]:
    out: dict[str, dict[str, set[str]]] = collections.defaultdict(dict)
    for name, table in (("added", ADDED_BY_70), ("changed", CHANGED_BY_70), ("removed", REMOVED_BY_70)):
        for kind, paths in table.items():
            out[kind][name] = paths
    return dict(out)


def helper(endpoint: RealOnedEndpoint, *args: str, env: dict | None = None) -> tuple[int, dict]:
    """The role's hapy-onedb-migrate on this instance (its ONE_LOCATION); onedb's "is oned running" check asks
    this instance's own port."""
    full_env = {**endpoint.instance.environment(), "ONE_XMLRPC": endpoint.instance.url, **(env or {})}
    proc = subprocess.run([HOST_PYTHON, str(MIGRATE), *args], env=full_env, capture_output=True, text=True, timeout=600)
    assert proc.stdout.strip(), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def backup_archive(endpoint: RealOnedEndpoint, dump_dir: Path, mysql: dict | None = None) -> str:
    """The backups role's archive of the database (SQLite, or MariaDB through an option file as the backups role
    writes it), taken as the frontend role takes it before a change."""
    settings = {"backend": "sqlite", "sqlite_path": str(endpoint.instance.db_path), "dump_dir": str(dump_dir),
                "include": [str(endpoint.instance.root / "etc")], "keep_last": 7}
    if mysql:
        option_file = dump_dir / "onedb-backup.cnf"
        option_file.write_text(f"[client]\nuser={mysql['user']}\npassword=\"{mysql['password']}\"\n"
                               f"host={mysql['server']}\nport={mysql['port']}\n")
        settings.update(backend="mysql", database=mysql["name"], option_file=str(option_file))
    (dump_dir / "onedb-backup.json").write_text(json.dumps(settings))
    made = subprocess.run([HOST_PYTHON, str(BACKUP), "--config", str(dump_dir / "onedb-backup.json")],
                          capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    archive = re.search(r"archive (\S+):", made.stdout).group(1)
    with tarfile.open(archive) as tar:  # (--verify wants etc/one: the instance's etc is elsewhere)
        assert [m.name for m in tar.getmembers() if m.name.startswith("onedb/")], "the database is archived"
    return archive


def demo_run(endpoint: RealOnedEndpoint):
    import_dir = endpoint.instance.root / "var" / "import"
    return run_playbook("site.yml", "inventories/demo", "-e", f"hapy_one_api_url={endpoint.url}",
                        "-e", f"hapy_one_import_dir={import_dir}")


def writes(endpoint: RealOnedEndpoint) -> dict[str, int]:
    return {m: n for m, n in endpoint.calls.items() if is_write(m)}


def restart(endpoint: RealOnedEndpoint) -> float:
    """systemctl start opennebula on the instance's database; seconds until the API answers and drivers settle."""
    started = time.monotonic()
    endpoint.instance.start(fresh=False)
    endpoint.settle()
    return time.monotonic() - started


# ---------------------------------------------------------------------------------------------- fixtures
class DemoSite:
    """The demo school on a real oned (behind its counting proxy), and what each step measured."""

    def __init__(self, endpoint: RealOnedEndpoint) -> None:
        self.endpoint = endpoint
        self.converged: dict = {}  # objects after the first run on 6.10.5 / SQLite
        self.on_mysql = False
        self.times: dict[str, float] = {}


@pytest.fixture(scope="module")
def mariadb():
    """A MariaDB server of this module alone: temporary datadir, its own socket, a free loopback port; the database
    and user oned.conf will name (as the role's mariadb.yml creates them). Stopped and removed at the end."""
    for tool in ("/usr/sbin/mariadbd", "/usr/bin/mariadb-install-db", "/usr/bin/mariadb"):
        if not Path(tool).exists():
            pytest.fail(f"{tool} is missing: scripts/setup.sh installs requirements/apt.txt (mariadb-server-core)")
    base = Path(tempfile.mkdtemp(prefix="upgrade-mariadb-", dir="/var/tmp"))
    data, sock, port = base / "data", base / "mysqld.sock", free_ports(1)[0]
    subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={data}", "--user=root",
                    "--auth-root-authentication-method=normal", "--skip-test-db"],
                   check=True, capture_output=True)
    server = subprocess.Popen(
        ["/usr/sbin/mariadbd", "--no-defaults", f"--datadir={data}", f"--socket={sock}", f"--port={port}",
         "--bind-address=127.0.0.1", "--user=root", f"--pid-file={base / 'mariadbd.pid'}",
         f"--log-error={base / 'error.log'}", "--transaction-isolation=READ-COMMITTED", "--skip-log-bin"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        root = ["mariadb", "--no-defaults", f"--socket={sock}", "-uroot"]
        deadline = time.monotonic() + 60
        while subprocess.run([*root, "-e", "SELECT 1"], capture_output=True).returncode != 0:
            assert server.poll() is None and time.monotonic() < deadline, (base / "error.log").read_text()[-2000:]
            time.sleep(0.2)
        password = "upgrade-Db-pw#1,x]"  # oned.conf must keep '#', ',' and ']' inside the quoted value
        subprocess.run([*root, "-e", "CREATE DATABASE opennebula; "
                        f"CREATE USER 'oneadmin'@'127.0.0.1' IDENTIFIED BY '{password}'; "
                        "GRANT ALL PRIVILEGES ON opennebula.* TO 'oneadmin'@'127.0.0.1';"], check=True)
        yield {"server": "127.0.0.1", "port": port, "user": "oneadmin", "name": "opennebula", "password": password}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(5)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def demo_610(mariadb):
    """A real oned 6.10.5 on SQLite on which the demo school was converged (its first run of site.yml)."""
    endpoints.require_built("6.10.5")
    endpoints.require_built("7.0.2")
    endpoint = endpoints.fresh("6.10.5", password=DEMO_PASSWORD)
    try:
        import_dir = endpoint.instance.root / "var" / "import"
        for image in DEMO_IMAGES:
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(import_dir / f"{image}.qcow2"), "1G"],
                           check=True)
        first = demo_run(endpoint)
        assert first.returncode == 0, first.output[-3000:]
        endpoint.settle()
        site = DemoSite(endpoint)
        site.converged = objects(endpoint)
        yield site
    finally:
        endpoint.stop()


# ---------------------------------------------------------------------------------------------- SQLite -> MariaDB
def use_mysql(endpoint: RealOnedEndpoint, db: dict) -> None:
    """oned.conf's DB vector as the role's config.yml renders it for the mysql backend."""
    conf = endpoint.instance.root / "etc" / "oned.conf"
    vector = (f'DB = [ BACKEND = "mysql",\n       SERVER  = "{db["server"]}",\n       PORT    = {db["port"]},\n'
              f'       USER    = "{db["user"]}",\n       PASSWD  = "{db["password"]}",\n'
              f'       DB_NAME = "{db["name"]}",\n       CONNECTIONS = 25,\n       COMPARE_BINARY = "no" ]')
    text, n = re.subn(r'^DB\s*=\s*\[\s*BACKEND\s*=\s*"sqlite"[^\]]*\]', vector, conf.read_text(), count=1,
                      flags=re.MULTILINE)
    assert n == 1
    conf.write_text(text)


def migrate(site: DemoSite, db: dict, dump_dir: Path) -> dict:
    """The role's SQLite -> MariaDB move, step by step, on the running 6.10.5 instance; what each step answered."""
    endpoint = site.endpoint
    db_args = ["--db-server", db["server"], "--db-port", str(db["port"]), "--db-user", db["user"],
               "--db-name", db["name"]]
    steps: dict = {}
    endpoint.instance.stop()  # systemctl stop opennebula (upgrade_stop.yml)
    steps["status_quote"] = helper(endpoint, "status", "--target-version", "6.10", "--target-backend", "mysql",
                                   *db_args, env={"HAPY_DB_PASSWORD": "it's"})
    steps["status"] = helper(endpoint, "status", "--target-version", "6.10", "--target-backend", "mysql", *db_args,
                             env={"HAPY_DB_PASSWORD": db["password"]})
    steps["archive"] = backup_archive(endpoint, dump_dir)  # upgrade_backup.yml (SQLite)
    use_mysql(endpoint, db)  # config.yml
    started = time.monotonic()
    steps["sqlite2mysql"] = helper(endpoint, "sqlite2mysql")  # sqlite2mysql.yml
    site.times["SQLite -> MariaDB (helper: oned -i, onedb sqlite2mysql, counts)"] = time.monotonic() - started
    site.times["oned 6.10.5 start on MariaDB"] = restart(endpoint)  # services.yml, check.yml
    steps["status_after"] = helper(endpoint, "status", "--target-version", "6.10", "--target-backend", "mysql",
                                   *db_args, env={"HAPY_DB_PASSWORD": db["password"]})
    site.on_mysql = True
    return steps


def test_sqlite_to_mariadb_keeps_every_object_and_refuses_going_back(demo_610, mariadb, tmp_path):
    """hapy_db.backend sqlite -> mysql on the 6.10.5 demo: the helper decides the migration (refused first with a
    ' in the password), oned -i + onedb sqlite2mysql copy every table (row counts compared), oned serves exactly the
    same objects from MariaDB, the SQLite file is set aside, going back to SQLite is refused, and the demo's second
    run changes and writes nothing."""
    site = demo_610
    endpoint = site.endpoint
    steps = migrate(site, mariadb, tmp_path)

    rc, refused = steps["status_quote"]
    assert refused["backend_action"] == "refuse-password-quote", "onedb's mysqldump command line cannot take a '"
    rc, status = steps["status"]
    assert rc == 0 and (status["version_action"], status["backend_action"]) == ("none", "sqlite2mysql"), status
    assert status["backend"] == "sqlite" and status["sqlite"] == str(endpoint.instance.db_path)
    rc, moved = steps["sqlite2mysql"]
    assert rc == 0 and moved["changed"] is True, moved
    assert moved["dropped_empty_tables"] == [], "6.10.5's SQLite tables are all in 6.10.5's MySQL schema"
    assert moved["rows"] > 50 and moved["tables"] >= 35, moved
    assert not endpoint.instance.db_path.exists() and Path(moved["sqlite_moved_to"]).is_file()
    assert not Path(f"{endpoint.instance.db_path}.hapy-to-mysql").exists()
    rc, status = steps["status_after"]
    assert (status["backend"], status["version_action"], status["backend_action"]) == ("mysql", "none", "none")

    after = objects(endpoint)
    assert {k: len(v) for k, v in after.items()} == {k: len(v) for k, v in site.converged.items()}
    assert differences(site.converged, after) == {}, "MariaDB serves exactly what SQLite served"
    rc, refused = helper(endpoint, "status", "--target-version", "6.10", "--target-backend", "sqlite")
    assert refused["backend_action"] == "refuse-mysql-to-sqlite" and "refused" in refused["refusal"], refused

    endpoint.reset_calls()
    second = demo_run(endpoint)
    assert second.returncode == 0, second.output[-3000:]
    assert second.changed == 0, second.output[-3000:]
    assert writes(endpoint) == run_lock_writes(1)
    print(f"\nSQLite -> MariaDB of the demo database ({moved['tables']} tables, {moved['rows']} rows):",
          ", ".join(f"{k} {v:.2f} s" for k, v in site.times.items()))


# ---------------------------------------------------------------------------------------------- the upgrade
def upgrade(site: DemoSite, db: dict, dump_dir: Path) -> dict:
    """The role's upgrade, step by step, on the running 6.10.5 instance (on MariaDB); what each step answered."""
    endpoint = site.endpoint
    steps: dict = {}
    endpoint.instance.stop()  # systemctl stop opennebula (upgrade_stop.yml)
    steps["status_610"] = helper(endpoint, "status", "--target-version", "7.0", "--target-backend", "mysql")
    steps["archive"] = backup_archive(endpoint, dump_dir, mysql=db)  # upgrade_backup.yml (MariaDB)
    endpoint.instance.switch_release("7.0.2")  # apt: the 7.0 packages
    use_mysql(endpoint, db)  # config.yml renders 7.0's oned.conf with the same DB vector
    steps["status_packages"] = helper(endpoint, "status", "--target-version", "7.0", "--target-backend", "mysql")
    started = time.monotonic()
    steps["upgrade"] = helper(endpoint, "upgrade")
    site.times["upgrade (helper, onedb upgrade on MariaDB included)"] = time.monotonic() - started
    steps["upgrade_again"] = helper(endpoint, "upgrade")
    steps["status_70"] = helper(endpoint, "status", "--target-version", "7.0", "--target-backend", "mysql")
    site.times["oned 7.0.2 start on the upgraded database"] = restart(endpoint)  # systemctl start, API check
    return steps


def test_upgrade_610_to_70_keeps_every_object_and_changes_nothing_after(demo_610, mariadb, tmp_path):
    """hapy_one.version 6.10 -> 7.0 on the demo's MariaDB database: the helper decides an upgrade, onedb upgrades
    the database once (a second call does nothing), oned 7.0.2 serves every object and attribute 6.10.5 served (7.0's
    own additions listed in ADDED_BY_70), a downgrade is refused, and the demo's second run on 7.0.2 changes and
    writes nothing."""
    site = demo_610
    endpoint = site.endpoint
    if not site.on_mysql:  # this test alone: the first one's move comes first
        migrate(site, mariadb, tmp_path / "migration")
    before = objects(endpoint)
    steps = upgrade(site, mariadb, tmp_path)

    rc, status = steps["status_610"]
    assert rc == 0 and status["version_action"] == "upgrade" and status["installed"] == "6.10.5", status
    assert (status["backend"], status["backend_action"], status["refusal"]) == ("mysql", "none", None)
    assert Path(steps["archive"]).is_file()
    rc, status = steps["status_packages"]
    assert rc == 0 and status["version_action"] == "db-upgrade", "7.0 installed on a 6.10 schema: the DB comes next"
    assert status["schema"]["shared"] == "6.10.0" and status["schema"]["required_shared"] == "7.0.0"
    rc, done = steps["upgrade"]
    assert rc == 0 and done["changed"] is True, done
    assert (done["from"]["shared"], done["from"]["local"]) == ("6.10.0", "6.10.0")
    assert (done["to"]["shared"], done["to"]["local"]) == ("7.0.0", "7.0.0")
    assert any(m.endswith("local/6.10.0_to_7.0.0.rb") for m in done["migrators"]), done["migrators"]
    assert done["onedb_backup"] and not done["onedb_backup_skipped"], "onedb's own dump, for its own rollback"
    assert steps["upgrade_again"] == (0, {"changed": False, "schema": done["to"],
                                          "message": "the database schema is the installed release's"})
    rc, status = steps["status_70"]
    assert (status["version_action"], status["backend_action"], status["refusal"]) == ("none", "none", None)

    assert endpoint.call("one.system.version") == "7.0.2"
    after = objects(endpoint)
    counts = {kind: (len(before[kind]), len(after[kind])) for kind in KINDS}
    assert all(old == new for old, new in counts.values()), counts
    # the demo school's objects: 2 guests, 4 networks (wan, admin, pedago, dmz: its Amon has 4 zones), 2 images
    assert counts["vm"] == (2, 2) and counts["vn"] == (4, 4) and counts["image"] == (2, 2), counts
    assert differences(before, after) == expected_70_differences()
    for vm in endpoint.pool("vm"):
        assert (vm.findtext("STATE"), vm.findtext("LCM_STATE")) == ("3", "3"), "the guests are still RUNNING"

    rc, refused = helper(endpoint, "status", "--target-version", "6.10", "--target-backend", "mysql")
    assert rc == 0 and refused["version_action"] == "refuse-downgrade", refused
    assert "OpenNebula 7.0.2 is installed and the inventory asks for 6.10: a downgrade is refused" in refused["refusal"]

    endpoint.reset_calls()
    started = time.monotonic()
    second = demo_run(endpoint)
    site.times["demo site.yml on 7.0.2 (second run)"] = time.monotonic() - started
    assert second.returncode == 0, second.output[-3000:]
    assert second.changed == 0, second.output[-3000:]
    assert writes(endpoint) == run_lock_writes(1), "nothing but the run lock is written after the upgrade"
    print("\nupgrade 6.10.5 -> 7.0.2 of the demo database on MariaDB:",
          ", ".join(f"{k} {v:.2f} s" for k, v in site.times.items()), f"(onedb's own figure: {done['seconds']} s)")
