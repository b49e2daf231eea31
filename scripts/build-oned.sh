#!/usr/bin/env bash
# Gives a self-contained real OpenNebula `oned` install for one version, for the tests and the quick start.
#
#   scripts/build-oned.sh VERSION [SOURCE]      e.g. scripts/build-oned.sh 7.0.2
#
# SOURCE (optional) is one of
#   - a source archive path (default: opennebula-VERSION.tar.gz found by default_archive below),
#   - a git URL with a tag, URL#TAG (e.g. https://github.com/OpenNebula/one.git#release-7.0.2),
#   - "installed": an OpenNebula installed from its packages (oned on PATH), wrapped as a tree of links.
# Without SOURCE an installed oned of that version is used when present, else the default archive.
#
# The install is cached outside the clone, keyed by the archive's sha256 (or the git commit):
#   ${HAPY_ONED_CACHE:-/var/cache/eole-hapy/oned}/VERSION-KEY/     (install tree: bin/ lib/ etc/ share/ var/)
#   ${HAPY_ONED_CACHE:-/var/cache/eole-hapy/oned}/VERSION -> VERSION-KEY   (the one the tests use)
# A second run rebuilds nothing. Prints the install prefix on its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
version=${1:?usage: build-oned.sh VERSION [SOURCE]}
source=${2:-}
cache=${HAPY_ONED_CACHE:-/var/cache/eole-hapy/oned}
jobs=${HAPY_BUILD_JOBS:-$(nproc)}
log() { printf '[build-oned %s] %s\n' "$version" "$*" >&2; }
if [[ $(id -u) -eq 0 ]]; then SUDO=""; else SUDO="sudo"; fi

[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { log "VERSION must look like 7.0.2, got '$version'"; exit 2; }
mkdir -p "$cache"

install_apt_requirements() {
  local -a wanted missing=()
  mapfile -t wanted < <(grep -v '^\s*#' "$here/requirements/apt-oned.txt" | grep -v '^\s*$')
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "apt: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# Ruby gems: OpenNebula's programs restrict RubyGems to share/gems. 7.0 always does (lib/ruby/
# load_opennebula_paths.rb), so share/gems becomes a tree of links to every Debian gem directory (specifications,
# gems, compiled extensions); 6.10 does it only when the folder exists (and then drops Debian's vendor_ruby), so
# there it must not exist. Either way the drivers load Debian's ruby-* packages (requirements/apt-oned.txt).
expose_debian_gems() {
  local prefix=$1 dir
  rm -rf "$prefix/share/gems"
  grep -qs '^Gem.use_paths' "$prefix/lib/ruby/load_opennebula_paths.rb" || return 0
  mkdir -p "$prefix/share/gems"
  for dir in $(ruby -e 'puts Gem.path'); do
    [[ -d $dir ]] && cp -rs --remove-destination "$dir/." "$prefix/share/gems/"
  done
  return 0
}

installed_oned_version() {
  command -v oned >/dev/null 2>&1 || return 1
  oned --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -1
}

publish() {  # publish KEYDIR: make VERSION point at it, print the prefix
  ln -sfn "$(basename "$1")" "$cache/$version.tmp" && mv -T "$cache/$version.tmp" "$cache/$version"
  echo "$cache/$version"
}

# --- installed OpenNebula (packages): a ONE_LOCATION-style tree of links to the system paths -------------------
wrap_installed() {
  local key="$cache/$version-installed"
  if [[ ! -f $key/.complete ]]; then
    rm -rf "$key"; mkdir -p "$key"/lib "$key"/share
    ln -s /usr/bin "$key/bin"
    for d in /usr/lib/one/*; do ln -s "$d" "$key/lib/"; done
    for d in /usr/share/one/*; do ln -s "$d" "$key/share/"; done
    cp -a /etc/one "$key/etc"
    mkdir -p "$key/var/remotes"; cp -a /var/lib/one/remotes/. "$key/var/remotes/"
    touch "$key/.complete"
  fi
  log "using the installed OpenNebula $version"
  publish "$key"
}

# --- source: archive or git tag ---------------------------------------------------------------------------------
# The default archive: in $HAPY_ONED_SOURCES, else shared/opennebula/ beside this checkout, beside the repository
# it was cloned from (a fresh clone elsewhere), or in this workplace's /work/shared.
default_archive() {
  local name="opennebula-$version.tar.gz" origin dir
  local -a dirs=()
  [[ -n ${HAPY_ONED_SOURCES:-} ]] && dirs+=("$HAPY_ONED_SOURCES")
  dirs+=("$here/../shared/opennebula")
  origin=$(git -C "$here" config --get remote.origin.url 2>/dev/null || true)
  [[ -n $origin && -d $origin ]] && dirs+=("$origin/../shared/opennebula")
  dirs+=(/work/shared/opennebula)
  for dir in "${dirs[@]}"; do
    [[ -f $dir/$name ]] && { echo "$(cd "$dir" && pwd)/$name"; return 0; }
  done
  log "source archive $name not found in: ${dirs[*]}"
  return 1
}
if [[ -z $source ]]; then
  if [[ $(installed_oned_version || true) == "$version" ]]; then source=installed
  elif ! source=$(default_archive); then
    if [[ -f $cache/$version/.complete ]]; then  # built before from an archive no longer here
      log "using the cached build $(readlink -f "$cache/$version") (key $(cat "$cache/$version/.source-key" 2>/dev/null))"
      echo "$cache/$version"; exit 0
    fi
    log "give SOURCE (an archive, URL#TAG or 'installed') or set HAPY_ONED_SOURCES to the archives' folder"; exit 1
  fi
fi
if [[ $source == installed ]]; then
  [[ $(installed_oned_version || true) == "$version" ]] || { log "no installed oned $version on PATH"; exit 1; }
  wrap_installed; exit 0
fi

work=$(mktemp -d "$cache/.build-$version.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [[ $source == *"#"* || $source == *.git ]]; then
  url=${source%%#*}; tag=${source#*#}; [[ $tag == "$source" ]] && tag="release-$version"
  log "git clone $url at $tag"
  git clone -q --depth 1 --branch "$tag" "$url" "$work/src"
  key=$(git -C "$work/src" rev-parse HEAD)
else
  [[ -f $source ]] || { log "source archive not found: $source"; exit 1; }
  key=$(sha256sum "$source" | cut -d' ' -f1)
fi
prefix="$cache/$version-${key:0:16}"
if [[ -f $prefix/.complete ]]; then
  log "cached: $prefix (key $key)"
  publish "$prefix"; exit 0
fi

install_apt_requirements
if [[ ! -d $work/src ]]; then
  mkdir -p "$work/src"; tar -C "$work/src" --strip-components=1 -xzf "$source"
fi
log "scons -j$jobs (core only: oned, scheduler, SQLite + MySQL, no GUI) — about 8 min on 2 idle cores"
t0=$SECONDS
(cd "$work/src" && scons -j"$jobs" sqlite=yes mysql=yes new_xmlrpc=yes systemd=no sunstone=no fireedge=no \
   svncterm=no parsers=no context=no rubygems=no download=no >"$work/scons.log" 2>&1) \
  || { tail -40 "$work/scons.log" >&2; log "build failed (log above)"; exit 1; }
log "built in $((SECONDS - t0)) s"
rm -rf "$prefix"
(cd "$work/src" && ./install.sh -d "$prefix" >"$work/install.log" 2>&1) \
  || { grep -v 'cannot stat' "$work/install.log" | tail -20 >&2; log "install.sh failed"; exit 1; }
expose_debian_gems "$prefix"
mkdir -p "$prefix/var/vms"
echo "$key" >"$prefix/.source-key"
touch "$prefix/.complete"
log "installed in $prefix ($(du -sh "$prefix" | cut -f1))"
publish "$prefix"
