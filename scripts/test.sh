#!/usr/bin/env bash
# Test command (README): lint, then unit + module + playbook tests and every molecule scenario, in parallel lanes.
#   scripts/test.sh              everything
#   scripts/test.sh --fast       lint + pytest only (no molecule)
# Exits non-zero when a stage or lane failed; prints a summary of stage and lane times.
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
# The long stages run side by side in lanes (2 cores; the real-oned tests mostly wait on oned's state machines):
#   pytest main (unit, roles, stand-in, playbooks without a real oned) | pytest oned-6.10.5 | pytest oned-7.0.2 |
#   molecule (its scenarios one after another). HAPY_TEST_LANES=serial runs them one after another instead.
# Each lane's output is kept in .cache/lanes/<lane>.log and printed whole once the lanes are done, so that a CI log
# shows every lane in one piece; the summary, the last lines a CI log shows, names the failed tests and scenarios.
lanes_dir=.cache/lanes
rm -rf "$lanes_dir"; mkdir -p "$lanes_dir"
lane_names=()
run_lane() {  # run_lane NAME COMMAND...: in the background (or at once when serial), output to the lane's log
  local name=$1; shift
  lane_names+=("$name")
  if [[ "${HAPY_TEST_LANES:-parallel}" == serial ]]; then
    lane_body "$name" "$@"
  else
    lane_body "$name" "$@" &
  fi
}
lane_body() {
  local name=$1; shift
  local t0=$SECONDS rc=0
  "$@" >"$lanes_dir/$name.log" 2>&1 || rc=$?
  printf '%s %s\n' "$rc" $((SECONDS - t0)) >"$lanes_dir/$name.rc"
}
run_pytest_lane() { python -m pytest -q -rfE -p no:cacheprovider --lane "$1" tests; }
run_molecule_lane() {  # every scenario, even after a failure; one summary line each
  local s t0 rc=0
  for s in "${MOLECULE_SCENARIOS[@]}"; do
    [[ -z "$s" || "$s" == \#* ]] && continue
    t0=$SECONDS
    printf '\n== molecule test -s %s\n' "$s"
    if molecule test -s "$s"; then
      printf 'ok    %5ds  molecule test -s %s\n' $((SECONDS - t0)) "$s" >>"$lanes_dir/molecule.summary"
    else
      printf 'FAIL  %5ds  molecule test -s %s\n' $((SECONDS - t0)) "$s" >>"$lanes_dir/molecule.summary"; rc=1
    fi
  done
  return $rc
}

if ((!fast)) && ((${#MOLECULE_SCENARIOS[@]} == 0)); then
  mapfile -t MOLECULE_SCENARIOS < molecule/scenarios.txt
fi
printf '\n== lanes (%s): pytest main, pytest oned-6.10.5, pytest oned-7.0.2%s\n' "${HAPY_TEST_LANES:-parallel}" \
  "$( ((fast)) || echo ', molecule')"
lanes_t0=$SECONDS
((fast)) || run_lane molecule run_molecule_lane
run_lane pytest-oned-7.0.2 run_pytest_lane 7.0.2
run_lane pytest-oned-6.10.5 run_pytest_lane 6.10.5
run_lane pytest-main run_pytest_lane main
wait
for name in "${lane_names[@]}"; do
  printf '\n== lane %s\n' "$name"
  cat "$lanes_dir/$name.log"
  read -r rc secs <"$lanes_dir/$name.rc" || { rc=1; secs=0; }
  if [[ $rc == 0 ]]; then summary+=("ok    $(printf '%5d' "$secs")s  lane $name")
  else summary+=("FAIL  $(printf '%5d' "$secs")s  lane $name"); failed=1; fi
done
summary+=("      $(printf '%5d' $((SECONDS - lanes_t0)))s  all lanes (wall)")
[[ -f "$lanes_dir/molecule.summary" ]] && mapfile -t -O "${#summary[@]}" summary <"$lanes_dir/molecule.summary"

printf '\n== summary\n'; printf '%s\n' "${summary[@]}"
grep -hE '^(FAILED|ERROR) ' "$lanes_dir"/pytest-*.log 2>/dev/null | cut -c1-300
exit $failed
