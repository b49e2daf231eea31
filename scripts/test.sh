#!/usr/bin/env bash
# Test command (README): lint, unit + module + playbook tests, then every molecule scenario.
#   scripts/test.sh              everything
#   scripts/test.sh --fast       lint + pytest only (no molecule)
# Exits non-zero on the first failing stage; prints a summary of stage times.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
export ANSIBLE_CONFIG="$PWD/ansible.cfg"
export ANSIBLE_COLLECTIONS_PATH="$PWD/.collections"

MOLECULE_SCENARIOS=(${HAPY_MOLECULE_SCENARIOS:-})
fast=0; [[ "${1:-}" == "--fast" ]] && fast=1

declare -a summary=()
failed=0
stage() {
  local name=$1; shift
  local t0=$SECONDS
  printf '\n== %s\n' "$name"
  if "$@"; then summary+=("ok    $(printf '%5d' $((SECONDS - t0)))s  $name")
  else summary+=("FAIL  $(printf '%5d' $((SECONDS - t0)))s  $name"); failed=1; fi
}

stage "ruff" ruff check .
stage "ansible-lint" ansible-lint --offline -q
stage "ansible-doc renders every module" python tests/check_docs.py
stage "pytest" python -m pytest -q tests
if ((!fast)); then
  if ((${#MOLECULE_SCENARIOS[@]} == 0)); then
    mapfile -t MOLECULE_SCENARIOS < molecule/scenarios.txt
  fi
  for s in "${MOLECULE_SCENARIOS[@]}"; do
    [[ -z "$s" || "$s" == \#* ]] && continue
    stage "molecule test -s $s" molecule test -s "$s"
  done
fi

printf '\n== summary\n'; printf '%s\n' "${summary[@]}"
exit $failed
