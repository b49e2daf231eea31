#!/usr/bin/env bash
# Set-up command (README): installs everything the collection and its tests need on a fresh Debian 12 machine.
#   apt packages (podman, runc, debootstrap, ...), the Python venv with pinned packages (requirements/python.txt),
#   this checkout linked as the eole.hapy collection, real OpenNebula oned builds (6.10.5, 7.0.2, cached),
#   podman configured for this kernel, the molecule base image.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

log() { printf '\n== %s\n' "$*"; }

if [[ $(id -u) -eq 0 ]]; then SUDO=""; else SUDO="sudo"; fi

log "apt packages (requirements/apt.txt)"
mapfile -t apt_packages < <(grep -v '^\s*#' requirements/apt.txt | grep -v '^\s*$')
missing=()
for p in "${apt_packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if ((${#missing[@]})); then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "ok: ${#apt_packages[@]} packages"

log "python venv (.venv) with requirements/python.txt"
PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 needed"'
[[ -x .venv/bin/python ]] || "$PYTHON" -m venv .venv
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -r requirements/python.txt
.venv/bin/pip check >/dev/null || .venv/bin/pip check
echo "ok: $(.venv/bin/ansible --version | head -1)"

log "collection eole.hapy linked into .collections/"
mkdir -p .collections/ansible_collections/eole
ln -sfn "$repo" .collections/ansible_collections/eole/hapy
.venv/bin/ansible-doc -l eole.hapy >/dev/null
echo ok

log "real OpenNebula oned 6.10.5 and 7.0.2 (scripts/build-oned.sh; cached outside the clone by archive sha256)"
for version in ${HAPY_ONED_VERSIONS:-6.10.5 7.0.2}; do
  t0=$SECONDS
  prefix=$(bash scripts/build-oned.sh "$version" | tail -1)
  echo "ok: oned $version in $prefix ($((SECONDS - t0)) s)"
done

log "molecule base image"
bash scripts/build-image.sh

log "stand-in OpenNebula apt repository for molecule (.cache/opennebula-repo)"
bash molecule/resources/opennebula-repo/build.sh

log "podman runtime for this kernel (runc, rlimits), see ../shared/TESTBED.md"
bash scripts/configure-podman.sh

log "set-up complete"
