#!/usr/bin/env bash
# Build the local systemd container image used by every molecule scenario.
# No container registry is reachable here, so the image is made with debootstrap and imported into podman.
# Cached: nothing is done when the image already exists with the same recipe hash (pass --force to rebuild).
set -euo pipefail
IMAGE="${HAPY_IMAGE:-localhost/hapy-systemd:bookworm}"
SUITE=bookworm
# Mirror: the one this machine's apt uses (the containers must reach the same mirror).
MIRROR="${HAPY_MIRROR:-$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
# Base: systemd as PID 1, python3 for Ansible, python3-apt for the apt module.
BASE_PACKAGES=systemd,systemd-sysv,dbus,python3,python3-apt,sudo,iproute2,ca-certificates,gnupg,procps,less
# Heavy packages pre-installed so that CI (2 cores, 90 min) does not download them in every scenario.
# The roles still declare them (apt state=present), which is a no-op here; see README "test matrix".
PREBAKED_PACKAGES=(
  mariadb-server python3-pymysql
  libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils
  openssh-server openssh-client rsync
  corosync dlm-controld lvm2-lockd gfs2-utils open-iscsi multipath-tools
  bridge-utils
  tgt libiscsi-bin
)
recipe_hash=$(printf '%s\n' "$SUITE" "$BASE_PACKAGES" "${PREBAKED_PACKAGES[@]}" "$(sha256sum "$0" | cut -c1-16)" | sha256sum | cut -c1-12)

if [[ "${1:-}" != "--force" ]] && podman image exists "$IMAGE" \
   && [[ "$(podman image inspect -f '{{ index .Labels "hapy.recipe" }}' "$IMAGE" 2>/dev/null)" == "$recipe_hash" ]]; then
  echo "image $IMAGE is up to date (recipe $recipe_hash)"
  exit 0
fi

start=$(date +%s)
work=$(mktemp -d /var/tmp/hapy-image.XXXXXX)
trap 'umount -l "$work/rootfs/proc" 2>/dev/null || true; rm -rf "$work"' EXIT
rootfs="$work/rootfs"
debootstrap --variant=minbase --include="$BASE_PACKAGES" "$SUITE" "$rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
  || { tail -30 "$work/debootstrap.log"; exit 1; }

# Install the heavy packages inside the chroot without starting any service.
printf '#!/bin/sh\nexit 101\n' > "$rootfs/usr/sbin/policy-rc.d"; chmod +x "$rootfs/usr/sbin/policy-rc.d"
cat > "$rootfs/etc/apt/sources.list" <<SRC
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
SRC
mount -t proc proc "$rootfs/proc"
chroot "$rootfs" apt-get update -qq
DEBIAN_FRONTEND=noninteractive chroot "$rootfs" apt-get install -y -qq --no-install-recommends "${PREBAKED_PACKAGES[@]}" >"$work/apt.log" 2>&1 \
  || { tail -30 "$work/apt.log"; exit 1; }
umount "$rootfs/proc"
chroot "$rootfs" apt-get clean
rm -f "$rootfs/usr/sbin/policy-rc.d"
rm -rf "$rootfs/var/lib/apt/lists/"*
# Container-friendly systemd: no getty, no udev-triggered waits.
for unit in getty@tty1.service serial-getty@ttyS0.service systemd-udevd.service systemd-udev-trigger.service; do
  ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
done
echo 'hapy-container' > "$rootfs/etc/hostname"

tar -C "$rootfs" -c . | podman import \
  --change 'CMD ["/sbin/init"]' --change 'STOPSIGNAL SIGRTMIN+3' \
  --change "LABEL hapy.recipe=$recipe_hash" - "$IMAGE" >/dev/null
echo "built $IMAGE (recipe $recipe_hash) in $(( $(date +%s) - start ))s, $(podman image inspect -f '{{ .Size }}' "$IMAGE") bytes"
