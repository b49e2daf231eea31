#!/usr/bin/env bash
# Configure podman for this kind of machine (see ../shared/TESTBED.md), in a drop-in containers.conf:
# - crun fails on hybrid cgroups here: use runc;
# - podman's default nofile/nproc limits are above what runc may set here ("error setting rlimit type 6/7"):
#   give containers the highest limits that actually start, probed with the local image.
set -euo pipefail
IMAGE="${HAPY_IMAGE:-localhost/hapy-systemd:bookworm}"
CONF=/etc/containers/containers.conf.d/50-hapy.conf
mkdir -p "$(dirname "$CONF")"

write_conf() {
  cat > "$CONF" <<CONF
# Written by eole.hapy scripts/configure-podman.sh
[containers]
default_ulimits = ["nofile=$1:$1", "nproc=$2:$2"]
[engine]
runtime = "runc"
CONF
}

nofile_hard=$(ulimit -Hn); [[ $nofile_hard == unlimited ]] && nofile_hard=1048576
nproc_hard=$(ulimit -Hu); [[ $nproc_hard == unlimited ]] && nproc_hard=4194304
for nofile in "$nofile_hard" 20000 4096; do
  for nproc in "$nproc_hard" 32768 32000 16384 4096; do
    (( nofile <= nofile_hard && nproc <= nproc_hard )) || continue
    write_conf "$nofile" "$nproc"
    if podman run --rm "$IMAGE" true >/dev/null 2>&1; then
      echo "ok: runc, nofile=$nofile nproc=$nproc"
      exit 0
    fi
  done
done
echo "podman cannot start $IMAGE with any tried rlimit; last error:" >&2
podman run --rm "$IMAGE" true
exit 1
