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
# pytest's output is kept so that the summary, the last lines a CI log shows, names the failed tests too.
pytest_log=.cache/pytest.log
run_pytest() { mkdir -p .cache; python -m pytest -q -rfE tests 2>&1 | tee "$pytest_log"; return "${PIPESTATUS[0]}"; }
stage "pytest" run_pytest
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
grep -E '^(FAILED|ERROR) ' "$pytest_log" 2>/dev/null | cut -c1-300
exit $failed
