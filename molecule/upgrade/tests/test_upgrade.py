"""frontend role: a 6.10 SQLite site upgraded to 7.0.2 and moved to MariaDB by converge (real packages of the local
repository, real oned, real MariaDB, systemd), the second run idempotent, a downgrade refused (side_effect).

Expected values come from the scenario inventory (molecule.yml) and from what prepare.yml created."""

import json
import shlex

import pytest
import testinfra


@pytest.fixture(scope="module")
def box(host):
    """The container through `podman exec` (see molecule/frontend/tests/test_frontend.py)."""
    return testinfra.get_host(f"podman://{host.backend.get_hostname()}")


@pytest.fixture(scope="module")
def inv(host):
    v = host.ansible.get_variables()
    return {"version": str(v["hapy_one"]["version"]), "oneadmin": v["vault_hapy_oneadmin_password"],
            "db_password": v["vault_hapy_db_password"]}


def xmlrpc(box, method, session, *args):
    script = ("import json, sys, xmlrpc.client\n"
              "a = json.loads(sys.argv[1])\n"
              "p = xmlrpc.client.ServerProxy('http://127.0.0.1:2633/RPC2')\n"
              "print(json.dumps(getattr(p, a[0])(*a[1:])))\n")
    return json.loads(box.check_output(f"python3 -c {shlex.quote(script)} "
                                       f"{shlex.quote(json.dumps([method, session, *args]))}"))


def test_packages_are_the_new_release_and_sunstone_is_gone(box, inv):
    for name in ("opennebula", "opennebula-tools", "opennebula-libs", "opennebula-rubygems", "opennebula-fireedge"):
        assert box.package(name).version.startswith(inv["version"] + "."), name
    assert not box.package("opennebula-sunstone").is_installed, "7.0 has no Ruby Sunstone: removed by the upgrade"
    assert "Pin: version 7.0.*" in box.file("/etc/apt/preferences.d/opennebula").content_string


def test_the_api_answers_the_new_release_with_the_old_objects(box, inv):
    session = f"oneadmin:{inv['oneadmin']}"
    ok, version = xmlrpc(box, "one.system.version", session)[:2]
    assert ok and version == "7.0.2"
    ok, hosts = xmlrpc(box, "one.hostpool.info", session)[:2]
    assert ok and "<NAME>hapy-upgrade-host</NAME>" in hosts, "the host created on 6.10 / SQLite is still there"
    ok, users = xmlrpc(box, "one.userpool.info", session)[:2]
    assert "<NAME>oneadmin</NAME>" in users and "<NAME>serveradmin</NAME>" in users


def test_the_database_is_in_mariadb_at_the_new_schema(box, inv):
    conf = box.file("/etc/one/oned.conf").content_string
    assert 'BACKEND = "mysql"' in conf
    rows = box.check_output("mysql -NBe 'SELECT COUNT(*) FROM host_pool; SELECT version FROM db_versioning "
                            "ORDER BY oid DESC LIMIT 1; SELECT COUNT(*) FROM user_pool' opennebula").split()
    assert rows == ["1", "7.0.0", "2"], rows
    password = shlex.quote(inv["db_password"])
    version = box.run(f"runuser -u oneadmin -- env HOME=/var/lib/one ONE_DB_PASSWORD={password} onedb version "
                      "-S localhost -u oneadmin -d opennebula")
    assert version.rc == 0 and "Shared: 7.0.0" in version.stdout, version.stdout + version.stderr


def test_the_sqlite_file_is_set_aside_once_migrated(box):
    assert not box.file("/var/lib/one/one.db").exists
    assert not box.file("/var/lib/one/one.db.hapy-to-mysql").exists, "the migration marker is gone once verified"
    moved = box.check_output("ls /var/lib/one/ | grep -c '^one.db.migrated-to-mysql-'")
    assert moved == "1"


def test_one_archive_was_taken_before_the_change(box):
    archives = box.check_output("ls /mnt/sauvegardes/onedb/").split()
    tarballs = [a for a in archives if a.endswith(".tar.gz")]
    assert len(tarballs) == 1 and tarballs[0] + ".sha256" in archives, archives
    members = box.check_output(f"tar -tzf /mnt/sauvegardes/onedb/{tarballs[0]}")
    assert "onedb/" in members and ".db" in members, "the SQLite database as it was before the upgrade"
    verified = box.run(f"/usr/local/sbin/hapy-onedb-backup --verify /mnt/sauvegardes/onedb/{tarballs[0]}")
    assert verified.rc == 0, verified.stderr


def test_services_run_the_new_release(box):
    assert box.service("opennebula").is_running and box.service("opennebula").is_enabled
    assert box.service("opennebula-fireedge").is_running
    assert box.service("mariadb").is_running
