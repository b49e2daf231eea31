#!/usr/bin/env bash
# Quick start without an OpenNebula of your own: start a real OpenNebula oned on 127.0.0.1 (built by
# scripts/build-oned.sh; 7.0.2, or HAPY_DEMO_ONED=6.10.5) behind the tests' counting proxy, put the demo's guest disk
# images (real qcow2 files) in its import directory, and deploy the demo school's cloud level (cluster, dummy host,
# networks, datastores, images, templates, RUNNING VMs) twice; the second run must report changed=0 and make no
# write call. --standin uses the bundled stand-in endpoint (tests/oned) instead. Needs scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH" ANSIBLE_CONFIG="$PWD/ansible.cfg"
port="${HAPY_DEMO_PORT:-2633}"
version="${HAPY_DEMO_ONED:-7.0.2}"
password=demo-oneadmin   # inventories/demo/group_vars/all/site.yml
standin=false
case "${1:-}" in
  --standin) standin=true ;;
  "") ;;
  *) echo "usage: $0 [--standin]" >&2; exit 2 ;;
esac

work="$(mktemp -d /tmp/hapy-quickstart.XXXXXX)"
endpoint=""
cleanup() {
  if [ -n "$endpoint" ]; then kill -TERM "$endpoint" 2>/dev/null || true; wait "$endpoint" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

if $standin; then
  echo "== OpenNebula: the stand-in endpoint (tests/oned) on 127.0.0.1:$port"
  python -m tests.oned --listen 127.0.0.1 --port "$port" --credentials "oneadmin:$password" &
  endpoint=$!
  import_dir="$work/import"; mkdir -p "$import_dir"
  wait_s=50
else
  echo "== OpenNebula: real oned $version on 127.0.0.1:$port (instance in $work/oned)"
  python -m tests.real_oned --version "$version" --port "$port" --password "$password" --workdir "$work/oned" \
    > "$work/oned.out" 2>&1 &
  endpoint=$!
  import_dir="$work/oned/var/import"
  wait_s=1200   # oned's first bootstrap takes a few seconds (more on a loaded machine)
fi
for _ in $(seq "$wait_s"); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 "$endpoint" 2>/dev/null || { cat "$work/oned.out" 2>/dev/null; echo "endpoint did not start" >&2; exit 1; }
  sleep 0.1
done

# The demo guests' disk images: real (empty, sparse) qcow2 files, registered by eole.hapy.eole_vms.
for image in eole-2.9-amon eole-2.9-scribe; do
  qemu-img create -q -f qcow2 "$import_dir/$image.qcow2" 1G
done

extra=(-e "hapy_one_api_url=http://127.0.0.1:$port/RPC2" -e "hapy_one_import_dir=$import_dir")
for run in first second; do
  echo "== $run run"
  python -m tests.real_oned.calls "http://127.0.0.1:$port/RPC2" reset
  start=$(date +%s)
  ansible-playbook -i inventories/demo site.yml "${extra[@]}" | tee "/tmp/hapy-quickstart-$run.log" \
    | sed -n '/PLAY RECAP/,$p'
  echo "$run run: $(( $(date +%s) - start )) s, $(python -m tests.real_oned.calls "http://127.0.0.1:$port/RPC2")"
done
grep -Eq 'changed=0 +unreachable=0 +failed=0' /tmp/hapy-quickstart-second.log && echo "second run: changed=0"
