#!/usr/bin/env bash
# Build the local OpenNebula apt repository used by the molecule scenarios.
#
# OpenNebula's packages come only from downloads.opennebula.io, unreachable here. The scenarios install packages with
# the real names, versions, user, system paths and systemd units instead, made from the REAL OpenNebula builds of
# scripts/build-oned.sh (install.sh -d trees cached in ${HAPY_ONED_CACHE:-/var/cache/eole-hapy/oned}/VERSION),
# relocated to OpenNebula's system layout (no ONE_LOCATION), with dpkg-deb:
#   opennebula           the real oned, onedb, monitord, drivers (lib/mads), remotes, /etc/one (conffiles, stock
#                        oned.conf: SQLite), share/ (schemas, pre_cleanup, ...); 6.x also mm_sched and
#                        opennebula-scheduler.service. opennebula.service = upstream's unit (share/pkgs) with
#                        Type=simple (built without systemd notify). postinst: oneadmin (uid/gid 9869, home
#                        /var/lib/one), ownership and modes of /etc/one /var/lib/one /var/log/one, tmpfiles
#                        (/var/lock/one, /run/one), a random one_auth if there is none (as the real postinst).
#                        Depends: the shared libraries of the ELF files (dpkg-shlibdeps) and the tools the drivers use.
#   opennebula-libs      the Ruby OpenNebula Cloud API (lib/ruby/opennebula*) used by drivers and CLI
#   opennebula-tools     the one* command line tools (bin/one*, lib/ruby/cli, /etc/one/cli)
#   opennebula-rubygems  no gems of its own: Depends on the Debian ruby-* packages the drivers require; on 7.x (which
#                        restricts RubyGems to /usr/share/one/gems) its postinst links Debian's gem dirs there.
# and, still stand-ins (no GUI is built; the node package has the real one's Depends, no files of its own):
#   opennebula-node-kvm  oneadmin user/group, depends on libvirt-daemon-system + qemu, oneadmin in libvirt/kvm groups,
#                        qemu.conf user/group = oneadmin like the real postinst
#   opennebula-fireedge  opennebula-fireedge.service: trivial HTTP listener on 2616
#   opennebula-sunstone  opennebula-sunstone.service: trivial HTTP listener on 9869 (6.x only, as 7.0 dropped it)
# Several OpenNebula versions go into the same repository (HAPY_ONE_VERSIONS, default one per cached build) so that
# version pinning is exercised. Every description says how the package was made.
#
# Usage: molecule/resources/opennebula-repo/build.sh [--force] [OUTPUT_DIR]     (default .cache/opennebula-repo)
# Cached: nothing is rebuilt unless this script, a build (its source key) or the version list changed.
# Containers mount OUTPUT_DIR at /srv/opennebula-repo and use:  deb [trusted=yes] file:/srv/opennebula-repo ./
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo_root=$(cd "$here/../../.." && pwd)
force=0
if [[ "${1:-}" == "--force" ]]; then force=1; shift; fi
out=${1:-$repo_root/.cache/opennebula-repo}
oned_cache=${HAPY_ONED_CACHE:-/var/cache/eole-hapy/oned}
versions=${HAPY_ONE_VERSIONS:-"6.10.5-1 7.0.2-1"}

for tool in dpkg-deb dpkg-scanpackages dpkg-shlibdeps strip gzip sha256sum md5sum; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install dpkg-dev binutils)" >&2; exit 1; }
done

# ---------------------------------------------------------------- the real builds: one per version, or a clear stop
declare -A prefix_of
missing=()
for version in $versions; do
  upstream=${version%%-*}
  p=$oned_cache/$upstream
  if [[ -e $p && -f $(readlink -f "$p")/.complete && -x $p/bin/oned ]]; then
    prefix_of[$version]=$(readlink -f "$p")
  else
    missing+=("$upstream")
  fi
done
if ((${#missing[@]})); then
  {
    echo "opennebula-repo: no complete OpenNebula build for ${missing[*]} in $oned_cache"
    echo "  (expected $oned_cache/VERSION -> an install.sh -d tree with .complete, made by scripts/build-oned.sh)."
    for v in "${missing[@]}"; do echo "  build it first: bash scripts/build-oned.sh $v"; done
    echo "  scripts/setup.sh does this before building the repository; HAPY_ONE_VERSIONS selects other versions."
  } >&2
  exit 1
fi

# ---------------------------------------------------------------- cache key: every input of the build
inputs_hash() {
  {
    echo "versions=$versions"
    sha256sum "$0"
    for version in $versions; do echo "$version $(cat "${prefix_of[$version]}/.source-key" 2>/dev/null)"; done
  } | sha256sum | cut -c1-16
}
hash=$(inputs_hash)
# Scenarios may run this concurrently: one build at a time.
mkdir -p "$(dirname "$out")"
exec 9>"$out.lock"
flock 9
if ((!force)) && [[ -f $out/Packages && "$(cat "$out/.inputs-hash" 2>/dev/null)" == "$hash" ]]; then
  echo "opennebula repository $out is up to date (inputs $hash)"
  exit 0
fi

work=$(mktemp -d /var/tmp/hapy-one-repo.XXXXXX)
trap 'rm -rf "$work"' EXIT
pool=$work/repo
mkdir -p "$pool"
export SOURCE_DATE_EPOCH=1764115200   # reproducible .deb timestamps

STANDIN_NOTE="Test stand-in built by eole.hapy (molecule/resources/opennebula-repo/build.sh): not OpenNebula."
REAL_NOTE="OpenNebula built from its source by eole.hapy (scripts/build-oned.sh) and packaged by
molecule/resources/opennebula-repo/build.sh for the molecule tests: not OpenNebula Systems' official package."

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

# pkg NAME VERSION ARCH "DEPENDS" "SHORT DESCRIPTION" [real]  — builds from $work/pkg/NAME (DEBIAN/ scripts there)
pkg() {
  local name=$1 version=$2 arch=$3 depends=$4 summary=$5 kind=${6:-standin} root=$work/pkg/$1
  mkdir -p "$root/DEBIAN" "$root/usr/share/doc/$name"
  {
    echo "Package: $name"
    echo "Version: $version"
    echo "Architecture: $arch"
    echo "Maintainer: eole.hapy test harness <hapy-tests@example.invalid>"
    [[ -n $depends ]] && echo "Depends: $depends"
    echo "Section: admin"
    echo "Priority: optional"
    echo "Homepage: https://opennebula.io"
    if [[ $kind == real ]]; then
      printf '%s\n' "$REAL_NOTE" > "$root/usr/share/doc/$name/README.hapy-build"
      echo "Description: $summary (eole.hapy test build of OpenNebula ${version%%-*})"
      echo " OpenNebula ${version%%-*} built from its source (Apache License 2.0) by the eole.hapy"
      echo " test harness, relocated to OpenNebula's system layout, for the molecule scenarios."
      echo " Not OpenNebula Systems' official package."
    else
      printf '%s\n' "$STANDIN_NOTE" > "$root/usr/share/doc/$name/README.hapy-standin"
      echo "Description: $summary (TEST STAND-IN, not OpenNebula)"
      echo " Test stand-in package with the name, version, users, paths and systemd units"
      echo " of the OpenNebula package it replaces, for the eole.hapy molecule scenarios."
      echo " It does not contain OpenNebula."
    fi
  } > "$root/DEBIAN/control"
  if [[ -d $root/etc ]]; then (cd "$root" && find etc -type f -printf '/%p\n' | LC_ALL=C sort) > "$root/DEBIAN/conffiles"; fi
  [[ -s $root/DEBIAN/conffiles ]] || rm -f "$root/DEBIAN/conffiles"
  find "$root" -type d -exec chmod 0755 {} +
  chmod 0755 "$root"/DEBIAN/{postinst,postrm,preinst,prerm} 2>/dev/null || true
  dpkg-deb --root-owner-group -Zxz --build "$root" "$pool/${name}_${version}_${arch}.deb" >/dev/null
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

# ---------------------------------------------------------------- the real OpenNebula, relocated
# install.sh -d PREFIX (ONE_LOCATION layout) -> OpenNebula's system layout (install.sh without -d):
#   bin -> /usr/bin   lib -> /usr/lib/one   etc -> /etc/one   var -> /var/lib/one   share -> /usr/share/one
#   var/lock, var/run -> /var/lock/one, /run/one (tmpfiles)   logs -> /var/log/one
# Nothing in the tree embeds its prefix (oned, the drivers and the CLI choose their paths at run time from
# ONE_LOCATION, and use the system layout without it), so the files are copied unchanged; ELF files lose their
# debug sections only.

# place PREFIX PKGROOT REL...: copy PREFIX/REL to its system location under PKGROOT
place() {
  local prefix=$1 root=$2 rel dest; shift 2
  for rel in "$@"; do
    [[ -e $prefix/$rel ]] || continue
    case $rel in
      bin/*) dest=usr/bin/${rel#bin/} ;;
      sbin/*) dest=usr/sbin/${rel#sbin/} ;;
      lib/*) dest=usr/lib/one/${rel#lib/} ;;
      etc/*) dest=etc/one/${rel#etc/} ;;
      var/*) dest=var/lib/one/${rel#var/} ;;
      share/man/*) dest=usr/share/man/${rel#share/man/} ;;
      share/*) dest=usr/share/one/${rel#share/} ;;
      *) echo "place: no system location for $rel" >&2; exit 1 ;;
    esac
    mkdir -p "$root/$(dirname "$dest")"
    cp -a "$prefix/$rel" "$root/$dest"
  done
}

strip_elves() {  # strip_elves ROOT: drop debug sections (the builds are not stripped: 68 MB of bin/)
  local f
  while IFS= read -r -d '' f; do
    if [[ $(head -c4 "$f" | od -An -c | tr -d ' ') == 177ELF ]]; then strip --strip-debug "$f"; fi
  done < <(find "$1" -type f -perm -u+x -print0)
}

shlib_depends() {  # shlib_depends ROOT: the Depends of the ELF files of ROOT, from Debian's shlibs/symbols
  local root=$1 d=$work/shlibdeps f elves=()
  mkdir -p "$d/debian"
  printf 'Source: opennebula\n\nPackage: opennebula\nArchitecture: any\n' > "$d/debian/control"
  while IFS= read -r -d '' f; do
    [[ $(head -c4 "$f" | od -An -c | tr -d ' ') == 177ELF ]] && elves+=("$f")
  done < <(find "$root" -type f -perm -u+x -print0)
  (cd "$d" && dpkg-shlibdeps -O "${elves[@]}" 2>/dev/null) | sed -n 's/^shlibs:Depends=//p'
}

# Debian packages for what the drivers, onedb and the CLI `require` (measured: without treetop, parse-cron and
# ipaddress the Ruby drivers end in "Driver initialization failed"; without activesupport `onezone show --json`, which
# the frontend role's HA tasks read, ends in "cannot load such file -- active_support"; upstream's gems include it),
# and the commands the frontend's drivers run.
RUBY_DEPENDS="ruby, ruby-xmlrpc, ruby-nokogiri, ruby-sqlite3, ruby-mysql2, ruby-sequel, ruby-ffi-rzmq, ruby-treetop, \
ruby-parse-cron, ruby-ipaddress, ruby-activesupport"
TOOL_DEPENDS="openssh-client, rsync, qemu-utils, genisoimage, file, curl"

oned_unit() {  # oned_unit MAJOR: upstream's share/pkgs/services/systemd/opennebula.service, minus what is not built
  local major=$1
  cat <<UNIT
[Unit]
Description=OpenNebula Cloud Controller Daemon
After=syslog.target network.target remote-fs.target
After=mariadb.service mysql.service
$( ((major < 7)) && echo "Wants=opennebula-scheduler.service")

[Service]
# upstream: Type=notify; this build has no systemd notify support (scons systemd=no)
Type=simple
Group=oneadmin
User=oneadmin
Environment="PATH=/usr/lib/one/sh/override:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ExecStartPre=-/usr/sbin/logrotate -f /etc/logrotate.d/opennebula -s /var/lib/one/.logrotate.status
ExecStartPre=/usr/share/one/pre_cleanup
ExecStart=/usr/bin/oned -f
ExecStopPost=/usr/share/one/follower_cleanup
StartLimitInterval=60
StartLimitBurst=3
Restart=on-failure
RestartSec=5
SyslogIdentifier=opennebula

[Install]
WantedBy=multi-user.target
UNIT
}

sched_unit() {  # 6.x: mm_sched is its own daemon (upstream's opennebula-scheduler.service)
  cat <<'UNIT'
[Unit]
Description=OpenNebula Cloud Scheduler Daemon
After=syslog.target network.target remote-fs.target
After=opennebula.service
AssertFileNotEmpty=/var/lib/one/.one/one_auth

[Service]
Type=simple
Group=oneadmin
User=oneadmin
ExecStart=/usr/bin/mm_sched
StartLimitInterval=60
StartLimitBurst=3
Restart=on-failure
RestartSec=5
SyslogIdentifier=opennebula-scheduler

[Install]
WantedBy=multi-user.target
UNIT
}

for version in $versions; do
  major=${version%%.*}
  P=${prefix_of[$version]}
  gems_restricted=0
  grep -qs '^Gem.use_paths' "$P/lib/ruby/load_opennebula_paths.rb" && gems_restricted=1

  # ------------------------------------------------------------ opennebula (oned, drivers, remotes, config)
  r=$work/pkg/opennebula
  mkdir -p "$r/lib/systemd/system" "$r/usr/lib/tmpfiles.d" "$r/etc/logrotate.d"
  place "$P" "$r" bin/oned bin/onedb bin/mm_sched lib/mads lib/sh lib/ruby var/remotes \
    share/conf share/context share/schemas share/ssh share/start-scripts share/onetoken.sh \
    share/pre_cleanup share/follower_cleanup share/examples
  rm -rf "$r/usr/lib/one/ruby/cli" "$r/usr/lib/one/ruby/opennebula" "$r/usr/lib/one/ruby/opennebula.rb" \
    "$r/usr/lib/one/ruby/load_opennebula_paths.rb"
  for e in "$P"/etc/*; do
    case ${e##*/} in
      cli|fireedge*|oneflow*|onegate*|onehem*|prometheus|alertmanager|sunstone*|guacd) ;;  # other packages / not built
      *) place "$P" "$r" "etc/${e##*/}" ;;
    esac
  done
  mkdir -p "$r/var/lib/one/datastores" "$r/var/lib/one/vms" "$r/var/log/one"
  strip_elves "$r"
  oned_unit "$major" > "$r/lib/systemd/system/opennebula.service"
  [[ -x $r/usr/bin/mm_sched ]] && sched_unit > "$r/lib/systemd/system/opennebula-scheduler.service"
  cat > "$r/usr/lib/tmpfiles.d/opennebula-common.conf" <<'TMP'
d /var/lock/one          0755 oneadmin oneadmin -
d /run/one               0750 oneadmin oneadmin -
d /run/one/ssh-socks     0700 oneadmin oneadmin -
x /var/tmp/one/*
TMP
  cat > "$r/etc/logrotate.d/opennebula" <<'ROT'
/var/log/one/oned.log /var/log/one/monitor.log /var/log/one/sched.log {
    dateext
    dateformat -%Y%m%d-%s
    weekly
    rotate 52
    missingok
    notifempty
    compress
    copytruncate
}
ROT
  shlibs=$(shlib_depends "$r")
  [[ -n $shlibs ]] || { echo "dpkg-shlibdeps found no shared libraries for oned $version" >&2; exit 1; }
  postinst opennebula "$ONEADMIN_SH
for d in /var/lib/one/.one /var/lib/one/datastores /var/lib/one/vms /var/lib/one/remotes /var/log/one \\
         /var/lock/one /run/one; do
  mkdir -p \$d; chown -R oneadmin:oneadmin \$d
done
chmod 0700 /var/lib/one/.one
chmod 0750 /run/one
# /etc/one: root:oneadmin, readable by oned (group), not by others
chown -R root:oneadmin /etc/one
chmod -R g+rX,g-w,o-rwx /etc/one
if [ ! -e /var/lib/one/.one/one_auth ]; then
  ( umask 077; echo \"oneadmin:\$(od -An -N16 -tx1 /dev/urandom | tr -d ' \\n')\" > /var/lib/one/.one/one_auth )
  chown oneadmin:oneadmin /var/lib/one/.one/one_auth
fi
if [ -d /run/systemd/system ]; then systemd-tmpfiles --create /usr/lib/tmpfiles.d/opennebula-common.conf || true; fi
$daemon_reload"
  pkg opennebula "$version" amd64 "$shlibs, passwd, $TOOL_DEPENDS, opennebula-libs (= $version), \
opennebula-tools (= $version), opennebula-rubygems (= $version)" "OpenNebula Cloud Controller Daemon" real

  # ------------------------------------------------------------ opennebula-libs (Ruby OCA)
  r=$work/pkg/opennebula-libs
  place "$P" "$r" lib/ruby/opennebula lib/ruby/opennebula.rb lib/ruby/load_opennebula_paths.rb
  if [[ -f $r/usr/lib/one/ruby/load_opennebula_paths.rb ]]; then
    # 7.x: every driver and command starts with `require 'load_opennebula_paths'` (a line upstream's packaging
    # rewrites); on Debian's load path it is found without RUBYLIB
    mkdir -p "$r/usr/lib/ruby/vendor_ruby"
    ln -s /usr/lib/one/ruby/load_opennebula_paths.rb "$r/usr/lib/ruby/vendor_ruby/load_opennebula_paths.rb"
  fi
  pkg opennebula-libs "$version" all "ruby, ruby-nokogiri, ruby-xmlrpc, opennebula-rubygems (= $version)" \
    "OpenNebula Ruby libraries (OCA)" real

  # ------------------------------------------------------------ opennebula-tools (CLI)
  r=$work/pkg/opennebula-tools
  for b in "$P"/bin/one*; do
    case ${b##*/} in
      one|oned|onedb|oneflow-server|onegate-server|onehem-server) ;;
      *) place "$P" "$r" "bin/${b##*/}" ;;
    esac
  done
  place "$P" "$r" lib/ruby/cli etc/cli share/man
  pkg opennebula-tools "$version" all "ruby, opennebula-libs (= $version)" "OpenNebula command line tools" real

  # ------------------------------------------------------------ opennebula-rubygems (Debian's gems)
  r=$work/pkg/opennebula-rubygems
  mkdir -p "$r/DEBIAN"
  if ((gems_restricted)); then
    # 7.x restricts RubyGems to /usr/share/one/gems (load_opennebula_paths.rb: Gem.use_paths): expose Debian's gem
    # directories there, as scripts/build-oned.sh does for its trees (upstream ships its own gems in that folder)
    postinst opennebula-rubygems "rm -rf /usr/share/one/gems
mkdir -p /usr/share/one/gems
for d in \$(ruby -e 'puts Gem.path'); do
  if [ -d \"\$d\" ]; then cp -rs --remove-destination \"\$d/.\" /usr/share/one/gems/; fi
done"
    printf '#!/bin/sh\nset -e\nif [ "$1" = remove ] || [ "$1" = purge ]; then rm -rf /usr/share/one/gems; fi\n' \
      > "$r/DEBIAN/postrm"
    # refresh the links when Debian's Ruby packages change
    printf 'interest-noawait /usr/lib/ruby/vendor_ruby\ninterest-noawait /usr/share/rubygems-integration\n' \
      > "$r/DEBIAN/triggers"
    sed -i 's/^\[ "\$1" = configure \] || exit 0$/[ "$1" = configure ] || [ "$1" = triggered ] || exit 0/' \
      "$r/DEBIAN/postinst"
  fi
  pkg opennebula-rubygems "$version" all "$RUBY_DEPENDS" "Ruby dependencies for OpenNebula (Debian's)" real

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
  pkg opennebula-node-kvm "$version" all "passwd, libvirt-daemon-system, libvirt-clients, qemu-system-x86 | qemu-kvm, \
ruby, ruby-sqlite3, ruby-nokogiri, rsync, qemu-utils, pciutils" \
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
    pkg "$name" "$version" all "python3, passwd" "$desc"
  done
done

# ---------------------------------------------------------------- flat repository index
(
  cd "$pool"
  dpkg-scanpackages --multiversion . /dev/null 2>/dev/null > Packages
  gzip -9n -k Packages
  {
    echo "Origin: eole.hapy test build"
    echo "Label: OpenNebula built from source for eole.hapy tests (not official packages)"
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
echo "built opennebula repository $out (inputs $hash): $(cd "$out" && ls ./*.deb | wc -l) packages for $versions"
