#!/usr/bin/env bash
# Quick start without an OpenNebula of your own: start the bundled OpenNebula API test endpoint on 127.0.0.1,
# deploy the demo school's cloud level (cluster, host, networks, datastores, guests) twice; the second run
# must report changed=0. Needs scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH" ANSIBLE_CONFIG="$PWD/ansible.cfg"
port="${HAPY_DEMO_PORT:-2633}"
python -m tests.oned --listen 127.0.0.1 --port "$port" --credentials oneadmin:demo-oneadmin &
endpoint=$!
trap 'kill $endpoint 2>/dev/null || true' EXIT
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

for run in first second; do
  echo "== $run run"
  ansible-playbook -i inventories/demo site.yml -e "hapy_one_api_url=http://127.0.0.1:$port/RPC2" | tee "/tmp/hapy-quickstart-$run.log" \
    | sed -n '/PLAY RECAP/,$p'
done
grep -Eq 'changed=0 +unreachable=0 +failed=0' /tmp/hapy-quickstart-second.log && echo "second run: changed=0"
