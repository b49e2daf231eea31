"""frontend role: real MariaDB, real apt/dpkg, real config files and systemd services, and a REAL oned: the opennebula
packages of molecule/resources/opennebula-repo are OpenNebula built from source (scripts/build-oned.sh) and relocated
to the system layout; only the web UIs and the KVM node package are stand-ins.

Expected values come from the scenario inventory (molecule.yml), never from constants here."""

import json
import re
import shlex

import pytest
import testinfra


@pytest.fixture(scope="module")
def box(host):
    """The same container through `podman exec`.

    Molecule's inventory uses the containers.podman connection, which testinfra only drives through one ad-hoc
    `ansible` run per command (seconds each on a loaded 2-core machine); testinfra's podman backend runs the very
    same checks in the very same container directly. `host` stays the source of the inventory variables."""
    return testinfra.get_host(f"podman://{host.backend.get_hostname()}")


@pytest.fixture(scope="module")
def inv(host):
    """The host's inventory variables, with the model values the role derives its defaults from."""
    v = host.ansible.get_variables()
    db = v.get("hapy_db", {})
    return {
        "version": str(v["hapy_one"]["version"]),
        "oneadmin_password": v["vault_hapy_oneadmin_password"],
        "backend": db.get("backend", "mysql"),
        "db_name": db.get("name"),
        "db_user": db.get("user"),
        "db_password": v["vault_hapy_db_password"] if db.get("backend", "mysql") == "mysql" else None,
        "sunstone": v.get("frontend_sunstone_enabled", True),
    }


def sql(host, query, user=None, password=None, database=""):
    """Run a query with the mysql client: as root over the unix socket, or as a user with a password."""
    env = f"MYSQL_PWD={shlex.quote(password)} " if password is not None else ""
    who = f"-u {shlex.quote(user)} --protocol=socket" if user else ""
    return host.run(f"{env}mysql {who} -NBe {shlex.quote(query)} {database}")


def oned_conf(host):
    """Top-level values and vectors of oned.conf, comment lines dropped (oned's syntax: KEY = value, KEY = [ ... ])."""
    text = "\n".join(line for line in host.file("/etc/one/oned.conf").content_string.splitlines()
                     if not line.lstrip().startswith("#"))
    vectors = {}
    for m in re.finditer(r"^([A-Z_]+)\s*=\s*\[(.*?)\]", text, re.M | re.S):
        pairs = re.findall(r'([A-Z_]+)\s*=\s*("[^"]*"|[^,\s\]]+)', m.group(2))
        vectors.setdefault(m.group(1), []).append({k: val.strip('"') for k, val in pairs})
    values = {m.group(1): m.group(2).strip('"')
              for m in re.finditer(r'^([A-Z_]+)\s*=\s*("[^"\n]*"|[^\[\s][^\n]*?)\s*$', text, re.M)}
    return values, vectors


def xmlrpc(host, method, session, *args):
    """Call the OpenNebula XML-RPC API from inside the container; returns the decoded answer list."""
    script = ("import json, sys, xmlrpc.client\n"
              "a = json.loads(sys.argv[1])\n"
              "p = xmlrpc.client.ServerProxy('http://127.0.0.1:2633/RPC2')\n"
              "print(json.dumps(getattr(p, a[0])(*a[1:])))\n")
    out = host.check_output(f"python3 -c {shlex.quote(script)} {shlex.quote(json.dumps([method, session, *args]))}")
    return json.loads(out)


# ------------------------------------------------------------------ packages and repository
def test_packages_pinned_to_the_inventory_version(box, inv):
    # the local repository holds 6.10.x and 7.0.x: only the pin makes apt take the inventory's release
    for name in ("opennebula", "opennebula-tools", "opennebula-rubygems"):
        pkg = box.package(name)
        assert pkg.is_installed, name
        assert pkg.version.startswith(inv["version"] + "."), (name, pkg.version)
    pref = box.file("/etc/apt/preferences.d/opennebula")
    assert pref.is_file and f"Pin: version {inv['version']}.*" in pref.content_string


def test_apt_source_is_the_local_repository(box):
    src = box.file("/etc/apt/sources.list.d/opennebula.sources")
    assert src.is_file
    assert "URIs: file:/srv/opennebula-repo" in src.content_string
    policy = box.check_output("apt-cache policy opennebula")
    assert "file:/srv/opennebula-repo ./ Packages" in policy


def test_oneadmin_account(box):
    user = box.user("oneadmin")
    assert user.exists and user.home == "/var/lib/one" and user.group == "oneadmin"


# ------------------------------------------------------------------ credentials
def test_one_auth(box, inv):
    auth = box.file("/var/lib/one/.one/one_auth")
    assert auth.user == "oneadmin" and auth.group == "oneadmin" and auth.mode == 0o600
    assert auth.content_string == f"oneadmin:{inv['oneadmin_password']}\n"
    assert box.file("/var/lib/one/.one").mode == 0o700


# ------------------------------------------------------------------ oned.conf
def test_oned_conf_file(box):
    conf = box.file("/etc/one/oned.conf")
    assert conf.user == "root" and conf.group == "oneadmin" and conf.mode == 0o640
    assert box.file("/etc/one").group == "oneadmin"


def test_oned_conf_db_section(box, inv):
    values, vectors = oned_conf(box)
    assert len(vectors["DB"]) == 1
    db = vectors["DB"][0]
    assert db["BACKEND"] == inv["backend"]
    if inv["backend"] == "mysql":
        assert db["SERVER"] == "localhost" and db["PORT"] == "0"
        assert db["USER"] == inv["db_user"] and db["PASSWD"] == inv["db_password"]
        assert db["DB_NAME"] == inv["db_name"] and int(db["CONNECTIONS"]) > 0
    else:
        assert set(db) == {"BACKEND", "TIMEOUT"}
    assert values["PORT"] == "2633" and values["LISTEN_ADDRESS"] == "0.0.0.0"
    assert vectors["VNC_PORTS"][0]["START"] == "5900"


def test_oned_conf_drivers_are_consistent(box):
    _, vectors = oned_conf(box)
    tm_names = [c["NAME"] for c in vectors["TM_MAD_CONF"]]
    ds_names = [c["NAME"] for c in vectors["DS_MAD_CONF"]]
    assert vectors["TM_MAD"][0]["ARGUMENTS"].endswith("-d " + ",".join(tm_names))
    assert "-d " + ",".join(ds_names) + " -s " in vectors["DATASTORE_MAD"][0]["ARGUMENTS"]
    assert {"kvm", "qemu"} <= {m["NAME"] for m in vectors["VM_MAD"]}
    assert {"bridge", "802.1Q", "vxlan", "ovswitch"} <= {c["NAME"] for c in vectors["VN_MAD_CONF"]}


# ------------------------------------------------------------------ database
def test_mariadb(box, inv):
    service = box.service("mariadb")
    if inv["backend"] != "mysql":
        # lab: the role leaves MariaDB alone (the test image has it pre-installed and running from boot)
        assert not box.file("/etc/mysql/mariadb.conf.d/60-opennebula.cnf").exists
        if service.is_running:
            assert sql(box, "SHOW DATABASES LIKE 'opennebula'").stdout.strip() == ""
            assert sql(box, "SELECT user FROM mysql.user WHERE user = 'oneadmin'").stdout.strip() == ""
        return
    assert service.is_running and service.is_enabled
    assert sql(box, "SELECT 1").stdout.strip() == "1"
    assert sql(box, "SELECT @@GLOBAL.tx_isolation").stdout.strip() == "READ-COMMITTED"


def test_opennebula_database_and_user(box, inv):
    if inv["backend"] != "mysql":
        pytest.skip("SQLite backend on this host: covered by test_sqlite_database")
    assert sql(box, f"SHOW DATABASES LIKE '{inv['db_name']}'").stdout.strip() == inv["db_name"]
    users = sql(box, f"SELECT host FROM mysql.user WHERE user = '{inv['db_user']}'").stdout.split()
    assert users == ["localhost"]
    login = sql(box, "SELECT CURRENT_USER()", user=inv["db_user"], password=inv["db_password"],
                database=inv["db_name"])
    assert login.rc == 0, login.stderr
    assert login.stdout.strip() == f"{inv['db_user']}@localhost"
    wrong = sql(box, "SELECT 1", user=inv["db_user"], password=inv["db_password"] + "x", database=inv["db_name"])
    assert wrong.rc != 0 and "Access denied" in wrong.stderr
    # the real oned bootstrapped its schema in that database with those credentials: version tables, and the
    # oneadmin user (id 0) created from one_auth
    creds = {"user": inv["db_user"], "password": inv["db_password"], "database": inv["db_name"]}
    version = sql(box, "SELECT version FROM local_db_versioning ORDER BY oid DESC LIMIT 1", **creds)
    assert re.fullmatch(r"\d+\.\d+\.\d+", version.stdout.strip()), version.stdout + version.stderr
    assert sql(box, "SELECT name FROM user_pool WHERE oid = 0", **creds).stdout.strip() == "oneadmin"


def test_sqlite_database(box, inv):
    if inv["backend"] != "sqlite":
        pytest.skip("MySQL backend on this host")
    db = box.file("/var/lib/one/one.db")
    assert db.exists and db.user == "oneadmin"
    # the real oned's schema, with oneadmin (id 0) created from one_auth
    query = "import sqlite3; print(sqlite3.connect('/var/lib/one/one.db').execute(" \
            "'SELECT name FROM user_pool WHERE oid = 0').fetchone()[0])"
    assert box.check_output(f"python3 -c {shlex.quote(query)}") == "oneadmin"


# ------------------------------------------------------------------ services and API
def test_opennebula_service(box):
    service = box.service("opennebula")
    assert service.is_running and service.is_enabled
    assert box.socket("tcp://0.0.0.0:2633").is_listening


def test_api_answers_oneadmin(box, inv):
    ok, version, code = xmlrpc(box, "one.system.version", f"oneadmin:{inv['oneadmin_password']}")[:3]
    assert ok is True and code == 0
    assert version == box.package("opennebula").version.split("-")[0]


def test_oned_is_the_real_daemon(box, inv):
    """oned of the package runs as oneadmin with its drivers and monitord (the real ones, not a stand-in)."""
    oned = box.process.get(comm="oned")
    assert oned.user == "oneadmin" and oned.args == "/usr/bin/oned -f"
    assert box.process.filter(comm="onemonitord"), "monitord not started by oned"
    assert box.file("/usr/bin/oned").content[:4] == b"\x7fELF"
    assert box.file("/etc/one/monitord.conf").group == "oneadmin"
    log = box.file("/var/log/one/oned.log").content_string
    assert "Request Manager started" in log and "[E]: Could not load driver" not in log
    sched = "opennebula-scheduler" if inv["version"].split(".")[0] < "7" else None
    if sched:  # 6.x: mm_sched is its own service; 7.x: oned runs one_sched itself
        assert box.service(sched).is_running, sched


def test_dummy_host_gets_monitored(box, inv):
    """The role's drivers really work: a host on the dummy IM/VMM drivers reaches MONITORED (state 2)."""
    session = f"oneadmin:{inv['oneadmin_password']}"
    name = f"molecule-dummy-{inv['version']}"
    found = [h for h in re.findall(r"<ID>(\d+)</ID><NAME>([^<]*)</NAME>", xmlrpc(box, "one.hostpool.info", session)[1])
             if h[1] == name]
    if found:
        host_id = int(found[0][0])
    else:
        ok, host_id = xmlrpc(box, "one.host.allocate", session, name, "dummy", "dummy", -1)[:2]
        assert ok, host_id
    state = None
    for _ in range(60):
        info = xmlrpc(box, "one.host.info", session, host_id)
        state = re.search(r"<STATE>(\d+)</STATE>", info[1]).group(1)
        if state == "2":
            break
        box.run("sleep 1")
    assert state == "2", f"dummy host in state {state}"
    assert xmlrpc(box, "one.host.delete", session, host_id)[0] is True


def test_api_refuses_a_wrong_password(box, inv):
    answer = xmlrpc(box, "one.system.version", f"oneadmin:{inv['oneadmin_password']}-wrong")
    assert answer[0] is False and answer[2] == 0x0100  # AUTHENTICATION
    assert "authenticated" in answer[1]


def test_web_ui_switch(box, inv):
    uis = {"opennebula-fireedge": 2616}
    if inv["version"].split(".")[0] < "7":
        uis["opennebula-sunstone"] = 9869
    for name, port in uis.items():
        if inv["sunstone"]:
            assert box.package(name).is_installed, name
            assert box.service(name).is_running and box.service(name).is_enabled, name
            body = box.check_output(f"python3 -c \"import urllib.request; "
                                     f"print(urllib.request.urlopen('http://127.0.0.1:{port}/').read().decode())\"")
            assert name in body
        else:
            assert not box.package(name).is_installed, name
            assert not box.socket(f"tcp://0.0.0.0:{port}").is_listening, name
