#!/usr/bin/env bash
# Build the local stand-in OpenNebula apt repository used by every molecule scenario.
#
# OpenNebula's packages come only from downloads.opennebula.io, which is unreachable here, so the scenarios install
# small stand-in packages with the real package names, versions, users, paths and systemd units instead:
#   opennebula           oneadmin user/group (9869, home /var/lib/one), /etc/one/oned.conf (0640 root:oneadmin),
#                        /var/lib/one/.one/one_auth (random on install, as the real postinst), /var/log/one,
#                        /usr/bin/oned + opennebula.service: reads PORT, LISTEN_ADDRESS and DB from oned.conf, checks
#                        the database like oned's bootstrap (MySQL/MariaDB login + version table, or SQLite file), then
#                        runs the test XML-RPC endpoint tests/oned (copied into /usr/lib/one/hapy-oned) with the
#                        oneadmin credentials from one_auth.
#   opennebula-tools     placeholder (the real one holds the one* CLI)
#   opennebula-rubygems  empty
#   opennebula-node-kvm  oneadmin user/group, depends on libvirt-daemon-system + qemu, oneadmin in libvirt/kvm groups,
#                        qemu.conf user/group = oneadmin like the real postinst
#   opennebula-fireedge  opennebula-fireedge.service: trivial HTTP listener on 2616
#   opennebula-sunstone  opennebula-sunstone.service: trivial HTTP listener on 9869 (6.x only, as 7.0 dropped it)
# Several OpenNebula versions go into the same repository (HAPY_ONE_VERSIONS) so that version pinning is exercised.
# Every package description says it is a test stand-in.
#
# Usage: molecule/resources/opennebula-repo/build.sh [--force] [OUTPUT_DIR]     (default .cache/opennebula-repo)
# Cached: nothing is rebuilt unless this script, tests/oned or the version list changed.
# Containers mount OUTPUT_DIR at /srv/opennebula-repo and use:  deb [trusted=yes] file:/srv/opennebula-repo ./
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo_root=$(cd "$here/../../.." && pwd)
force=0
if [[ "${1:-}" == "--force" ]]; then force=1; shift; fi
out=${1:-$repo_root/.cache/opennebula-repo}
versions=${HAPY_ONE_VERSIONS:-"6.10.0-1 7.0.0-1"}
oned_src=$repo_root/tests/oned

for tool in dpkg-deb dpkg-scanpackages gzip sha256sum md5sum; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install dpkg-dev)" >&2; exit 1; }
done

# ---------------------------------------------------------------- cache key: every input of the build
inputs_hash() {
  {
    echo "versions=$versions"
    sha256sum "$0"
    if [[ -d $oned_src ]]; then
      (cd "$repo_root" && find tests/oned -type f -name '*.py' -not -path '*/__pycache__/*' -print0 \
        | LC_ALL=C sort -z | xargs -0 -r sha256sum)
    fi
  } | sha256sum | cut -c1-16
}
hash=$(inputs_hash)
# Scenarios may run this concurrently: one build at a time.
mkdir -p "$(dirname "$out")"
exec 9>"$out.lock"
flock 9
if ((!force)) && [[ -f $out/Packages && "$(cat "$out/.inputs-hash" 2>/dev/null)" == "$hash" ]]; then
  echo "opennebula stand-in repository $out is up to date (inputs $hash)"
  exit 0
fi

work=$(mktemp -d /var/tmp/hapy-one-repo.XXXXXX)
trap 'rm -rf "$work"' EXIT
pool=$work/repo
mkdir -p "$pool"
export SOURCE_DATE_EPOCH=1764115200   # reproducible .deb timestamps

STANDIN_NOTE="Test stand-in built by eole.hapy (molecule/resources/opennebula-repo/build.sh): not OpenNebula."

# common shell for postinst scripts: the oneadmin user/group as the real packages create it (uid/gid 9869)
read -r -d '' ONEADMIN_SH <<'SH' || true
if ! getent group oneadmin >/dev/null; then
  groupadd --system --gid 9869 oneadmin 2>/dev/null || groupadd --system oneadmin
fi
if ! getent passwd oneadmin >/dev/null; then
  useradd --system --uid 9869 --gid oneadmin --home-dir /var/lib/one --shell /bin/bash oneadmin 2>/dev/null \
    || useradd --system --gid oneadmin --home-dir /var/lib/one --shell /bin/bash oneadmin
fi
mkdir -p /var/lib/one
chown oneadmin:oneadmin /var/lib/one
SH

# pkg NAME VERSION "DEPENDS" "SHORT DESCRIPTION"  — builds from $work/pkg/NAME (DEBIAN/ scripts already there)
pkg() {
  local name=$1 version=$2 depends=$3 summary=$4 root=$work/pkg/$1
  mkdir -p "$root/DEBIAN" "$root/usr/share/doc/$name"
  printf '%s\n' "$STANDIN_NOTE" > "$root/usr/share/doc/$name/README.hapy-standin"
  {
    echo "Package: $name"
    echo "Version: $version"
    echo "Architecture: all"
    echo "Maintainer: eole.hapy test harness <hapy-tests@example.invalid>"
    [[ -n $depends ]] && echo "Depends: $depends"
    echo "Section: admin"
    echo "Priority: optional"
    echo "Homepage: https://opennebula.io"
    echo "Description: $summary (TEST STAND-IN, not OpenNebula)"
    echo " Test stand-in package with the name, version, users, paths and systemd units"
    echo " of the OpenNebula package it replaces, for the eole.hapy molecule scenarios."
    echo " It does not contain OpenNebula."
  } > "$root/DEBIAN/control"
  find "$root" -type d -exec chmod 0755 {} +
  chmod 0755 "$root"/DEBIAN/{postinst,postrm,preinst,prerm} 2>/dev/null || true
  dpkg-deb --root-owner-group -Zxz --build "$root" "$pool/${name}_${version}_all.deb" >/dev/null
  rm -rf "$root"
}

postinst() {  # postinst NAME BODY
  mkdir -p "$work/pkg/$1/DEBIAN"
  printf '#!/bin/sh\nset -e\n[ "$1" = configure ] || exit 0\n%s\n' "$2" > "$work/pkg/$1/DEBIAN/postinst"
}

daemon_reload='if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi'

http_listener() {  # a trivial HTTP listener used by the UI stand-ins
  cat <<'PY'
#!/usr/bin/python3
"""Trivial HTTP listener standing in for an OpenNebula web UI (eole.hapy test stand-in)."""
import http.server
import sys

NAME, PORT = sys.argv[1], int(sys.argv[2])


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = f"{NAME} (eole.hapy test stand-in)\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stderr.write(fmt % args + "\n")


http.server.ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()
PY
}

ui_unit() {  # ui_unit DESCRIPTION NAME PORT
  cat <<UNIT
[Unit]
Description=$1 (eole.hapy test stand-in)
After=network.target

[Service]
Type=simple
User=oneadmin
Group=oneadmin
ExecStart=/usr/bin/python3 /usr/lib/one/hapy-standin/$2-listener $2 $3
Restart=on-failure
RestartSec=2

[Install]
WantedBy=multi-user.target
UNIT
}

oned_conf_default() {  # the package's default oned.conf: same structure and defaults as the real one (SQLite)
  cat <<'CONF'
#*******************************************************************************
#                       OpenNebula Configuration file
#   (eole.hapy test stand-in: the default file of the stand-in opennebula package)
#*******************************************************************************

LOG = [
  SYSTEM      = "file",
  DEBUG_LEVEL = 3
]

MONITORING_INTERVAL_MARKET    = 600
MONITORING_INTERVAL_DATASTORE = 300
MONITORING_INTERVAL_DB_UPDATE = 0

SCRIPTS_REMOTE_DIR=/var/tmp/one

PORT = 2633

LISTEN_ADDRESS = "0.0.0.0"

DB = [ BACKEND = "sqlite",
       TIMEOUT = 2500 ]

# Sample configuration for MySQL
# DB = [ BACKEND = "mysql",
#        SERVER  = "localhost",
#        PORT    = 0,
#        USER    = "oneadmin",
#        PASSWD  = "oneadmin",
#        DB_NAME = "opennebula",
#        CONNECTIONS = 25,
#        COMPARE_BINARY = "no" ]

VNC_PORTS = [
    START    = 5900
]
CONF
}

oned_wrapper() {  # /usr/bin/oned of the stand-in package
  cat <<'PY'
#!/usr/bin/python3
"""oned -- eole.hapy TEST STAND-IN for OpenNebula's daemon (not OpenNebula).

Does what the tests need from a real oned start, then serves the test XML-RPC endpoint (tests/oned):
  * reads PORT, LISTEN_ADDRESS and the DB = [ ... ] section of /etc/one/oned.conf;
  * bootstraps the database like oned: with BACKEND = "mysql" it logs in with SERVER/PORT/USER/PASSWD/DB_NAME
    (SERVER "localhost" means the unix socket, as libmysqlclient) and creates its version tables, failing like oned
    when it cannot; with "sqlite" it uses /var/lib/one/one.db;
  * takes the oneadmin credentials from $ONE_AUTH or ~/.one/one_auth, writing a random one if there is none;
  * runs: python3 -m tests.oned --listen LISTEN_ADDRESS --port PORT --credentials oneadmin:PASSWORD
          --state-file /var/lib/one/oned-state.json
"""
import os
import re
import secrets
import sys
import time

CONF = os.environ.get("HAPY_ONED_CONF", "/etc/one/oned.conf")
VAR = "/var/lib/one"
AUTH = os.environ.get("ONE_AUTH", os.path.join(VAR, ".one", "one_auth"))
STATE = os.path.join(VAR, "oned-state.json")
LIB = "/usr/lib/one/hapy-oned"
LOG = "/var/log/one/oned.log"
VERSION = "@VERSION@"


def log(msg):
    line = f"{time.strftime('%a %b %d %H:%M:%S %Y')} [Z0][ONE][I]: {msg}"
    print(line, flush=True)
    try:
        with open(LOG, "a", encoding="utf-8") as f:
            f.write(line + "\n")
    except OSError:
        pass


def fail(msg):
    log(msg)
    sys.exit(1)


def config(path):
    """Top-level KEY = value pairs and KEY = [ ... ] vectors of an oned.conf (comment lines dropped)."""
    with open(path, encoding="utf-8") as f:
        text = "\n".join(line for line in f.read().splitlines() if not line.lstrip().startswith("#"))
    values, vectors = {}, {}
    for m in re.finditer(r"^\s*([A-Z_]+)\s*=\s*\[(.*?)\]", text, re.M | re.S):
        vec = {}
        for k, v in re.findall(r'([A-Z_]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s\]]+)', m.group(2)):
            vec[k] = v[1:-1].replace('\\"', '"') if v.startswith('"') else v
        vectors.setdefault(m.group(1), vec)
    for m in re.finditer(r'^\s*([A-Z_]+)\s*=\s*("[^"\n]*"|[^\[\s][^\n]*?)\s*$', text, re.M):
        v = m.group(2)
        values.setdefault(m.group(1), v[1:-1] if v.startswith('"') else v)
    return values, vectors


SCHEMA = ("CREATE TABLE IF NOT EXISTS {t} (oid INTEGER PRIMARY KEY, version VARCHAR(256), "
          "timestamp INTEGER, comment VARCHAR(256){extra})")


def bootstrap_db(db):
    backend = db.get("BACKEND", "sqlite")
    tables = (("db_versioning", ""), ("local_db_versioning", ", is_slave BOOLEAN"))
    if backend == "sqlite":
        import sqlite3
        con = sqlite3.connect(os.path.join(VAR, "one.db"))
        cur = con.cursor()
        ph = "?"
    elif backend == "mysql":
        try:
            import pymysql
        except ImportError:
            fail("Stand-in needs python3-pymysql to check the MySQL backend.")
        server, port = db.get("SERVER", "localhost"), int(db.get("PORT", "0") or 0)
        kw = {"user": db.get("USER", "oneadmin"), "password": db.get("PASSWD", ""),
              "database": db.get("DB_NAME", "opennebula"), "connect_timeout": 10}
        if server == "localhost" and port == 0:
            kw["unix_socket"] = "/run/mysqld/mysqld.sock"
        else:
            kw.update(host=server, port=port or 3306)
        try:
            con = pymysql.connect(**kw)
        except Exception as exc:  # noqa: BLE001 - report any driver error like oned
            fail(f"Could not open connect to database server: {exc}")
        cur = con.cursor()
        ph = "%s"
    else:
        fail(f"DB BACKEND {backend!r} not supported, use sqlite or mysql.")
    for table, extra in tables:
        cur.execute(SCHEMA.format(t=table, extra=extra))
        cur.execute(f"SELECT COUNT(*) FROM {table}")
        if cur.fetchone()[0] == 0:
            row = (0, VERSION.split("-")[0], int(time.time()), "eole.hapy stand-in bootstrap")
            cols = "oid, version, timestamp, comment" + (", is_slave" if extra else "")
            vals = ", ".join([ph] * (5 if extra else 4))
            cur.execute(f"INSERT INTO {table} ({cols}) VALUES ({vals})", row + ((0,) if extra else ()))
    con.commit()
    con.close()
    log(f"Database bootstrap done ({backend}).")


def credentials():
    if not os.path.exists(AUTH):
        os.makedirs(os.path.dirname(AUTH), mode=0o700, exist_ok=True)
        fd = os.open(AUTH, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(f"oneadmin:{secrets.token_hex(16)}\n")
        log(f"Created {AUTH} with a random password.")
    with open(AUTH, encoding="utf-8") as f:
        cred = f.readline().strip()
    if ":" not in cred:
        fail(f"Wrong format in {AUTH}: expected user:password.")
    return cred


def main():
    values, vectors = config(CONF)
    port = values.get("PORT", "2633")
    listen = values.get("LISTEN_ADDRESS", "0.0.0.0")
    bootstrap_db(vectors.get("DB", {"BACKEND": "sqlite"}))
    cred = credentials()
    if not os.path.exists(os.path.join(LIB, "tests", "oned", "__main__.py")):
        fail(f"The test endpoint was not built into this stand-in package ({LIB}/tests/oned has no __main__.py).")
    log(f"Starting OpenNebula {VERSION} stand-in endpoint on {listen}:{port}")
    os.chdir(LIB)
    env = dict(os.environ, PYTHONPATH=LIB, PYTHONDONTWRITEBYTECODE="1")
    argv = [sys.executable, "-m", "tests.oned", "--listen", listen, "--port", str(port),
            "--credentials", cred, "--state-file", STATE, "--version", VERSION.split("-")[0]]
    os.execve(sys.executable, argv, env)


if __name__ == "__main__":
    main()
PY
}

oned_unit() {
  cat <<'UNIT'
[Unit]
Description=OpenNebula Cloud Controller Daemon (eole.hapy test stand-in)
After=syslog.target network.target remote-fs.target
After=mariadb.service mysql.service

[Service]
Type=simple
Group=oneadmin
User=oneadmin
ExecStart=/usr/bin/oned -f
StartLimitInterval=60
StartLimitBurst=5
Restart=on-failure
RestartSec=3
SyslogIdentifier=opennebula

[Install]
WantedBy=multi-user.target
UNIT
}

for version in $versions; do
  major=${version%%.*}
  # ------------------------------------------------------------ opennebula
  r=$work/pkg/opennebula
  mkdir -p "$r/DEBIAN" "$r/etc/one" "$r/usr/bin" "$r/lib/systemd/system" "$r/usr/lib/one/hapy-oned/tests"
  oned_conf_default > "$r/etc/one/oned.conf"
  echo /etc/one/oned.conf > "$r/DEBIAN/conffiles"
  oned_wrapper | sed "s/@VERSION@/$version/" > "$r/usr/bin/oned"; chmod 0755 "$r/usr/bin/oned"
  oned_unit > "$r/lib/systemd/system/opennebula.service"
  : > "$r/usr/lib/one/hapy-oned/tests/__init__.py"
  if [[ -d $oned_src ]]; then
    mkdir -p "$r/usr/lib/one/hapy-oned/tests/oned"
    (cd "$oned_src" && find . -type f -name '*.py' -not -path '*/__pycache__/*' -print0 \
      | xargs -0 -r -I{} cp --parents {} "$r/usr/lib/one/hapy-oned/tests/oned/")
  fi
  find "$r/usr/lib/one/hapy-oned" -type f -exec chmod 0644 {} +
  postinst opennebula "$ONEADMIN_SH
for d in /var/lib/one/.one /var/lib/one/datastores /var/log/one /var/lock/one /var/run/one; do
  mkdir -p \$d; chown oneadmin:oneadmin \$d
done
chmod 0700 /var/lib/one/.one
chown root:oneadmin /etc/one /etc/one/oned.conf
chmod 0750 /etc/one
chmod 0640 /etc/one/oned.conf
if [ ! -e /var/lib/one/.one/one_auth ]; then
  ( umask 077; echo \"oneadmin:\$(od -An -N16 -tx1 /dev/urandom | tr -d ' \\n')\" > /var/lib/one/.one/one_auth )
  chown oneadmin:oneadmin /var/lib/one/.one/one_auth
fi
$daemon_reload"
  pkg opennebula "$version" "python3, passwd, opennebula-tools (= $version), opennebula-rubygems (= $version)" \
    "OpenNebula Cloud Controller Daemon"

  # ------------------------------------------------------------ opennebula-tools, opennebula-rubygems
  pkg opennebula-tools "$version" "" "OpenNebula command line tools"
  pkg opennebula-rubygems "$version" "" "Ruby dependencies for OpenNebula"

  # ------------------------------------------------------------ opennebula-node-kvm
  postinst opennebula-node-kvm "$ONEADMIN_SH
for g in libvirt kvm; do
  if getent group \$g >/dev/null; then usermod -a -G \$g oneadmin; fi
done
# as the real package: qemu runs as oneadmin, no dynamic ownership
conf=/etc/libvirt/qemu.conf
if [ -f \$conf ] && ! grep -q '^# opennebula-node-kvm' \$conf; then
  printf '%s\n' '# opennebula-node-kvm (eole.hapy test stand-in)' 'user = \"oneadmin\"' 'group = \"oneadmin\"' \
    'dynamic_ownership = 0' >> \$conf
fi"
  pkg opennebula-node-kvm "$version" "passwd, libvirt-daemon-system, libvirt-clients, qemu-system-x86 | qemu-kvm" \
    "Services for OpenNebula KVM node"

  # ------------------------------------------------------------ opennebula-fireedge (+ opennebula-sunstone on 6.x)
  uis=("opennebula-fireedge|OpenNebula FireEdge Server|2616")
  ((major < 7)) && uis+=("opennebula-sunstone|OpenNebula Sunstone Web Interface|9869")
  for ui in "${uis[@]}"; do
    IFS='|' read -r name desc port <<<"$ui"
    r=$work/pkg/$name
    mkdir -p "$r/lib/systemd/system" "$r/usr/lib/one/hapy-standin"
    http_listener > "$r/usr/lib/one/hapy-standin/$name-listener"; chmod 0755 "$r/usr/lib/one/hapy-standin/$name-listener"
    ui_unit "$desc" "$name" "$port" > "$r/lib/systemd/system/$name.service"
    postinst "$name" "$ONEADMIN_SH
$daemon_reload"
    pkg "$name" "$version" "python3, passwd" "$desc"
  done
done

# ---------------------------------------------------------------- flat repository index
(
  cd "$pool"
  dpkg-scanpackages --multiversion . /dev/null 2>/dev/null > Packages
  gzip -9n -k Packages
  {
    echo "Origin: eole.hapy test stand-in"
    echo "Label: OpenNebula stand-in (not OpenNebula)"
    echo "Date: $(LC_ALL=C date -u -d "@$SOURCE_DATE_EPOCH" '+%a, %d %b %Y %H:%M:%S UTC')"
    echo "MD5Sum:"
    for f in Packages Packages.gz; do printf ' %s %s %s\n' "$(md5sum < $f | cut -d' ' -f1)" "$(stat -c%s $f)" "$f"; done
    echo "SHA256:"
    for f in Packages Packages.gz; do printf ' %s %s %s\n' "$(sha256sum < $f | cut -d' ' -f1)" "$(stat -c%s $f)" "$f"; done
  } > Release
  echo "$hash" > .inputs-hash
  chmod 0644 ./*.deb Packages Packages.gz Release .inputs-hash
)
# Update in place: running containers bind-mount this very directory (a new directory would hide it from them).
mkdir -p "$out"; chmod 0755 "$out"
cp -a "$pool"/*.deb "$out"/
for f in "$out"/*.deb; do [[ -e $pool/$(basename "$f") ]] || rm -f "$f"; done
cp -a "$pool"/Packages "$pool"/Packages.gz "$pool"/Release "$out"/
cp -a "$pool"/.inputs-hash "$out"/
echo "built opennebula stand-in repository $out (inputs $hash): $(cd "$out" && ls ./*.deb | wc -l) packages for $versions"
