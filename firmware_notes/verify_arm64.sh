#!/usr/bin/env bash
# Prove the device install on an arm64 Debian bookworm userland (the base of Raspberry Pi OS
# 64-bit) from an x86-64 machine, under qemu user-mode emulation:
#   1. qemu-user-static + binfmt-support + debootstrap (Debian packages; installed if missing)
#   2. debootstrap --arch=arm64 bookworm, cached in $EDGE_SEG_ARM64_CACHE between runs
#   3. inside it, as a user on a Pi would: a venv, pip install of this package's wheel with the
#      base dependencies only (no TensorFlow), edge-seg info, edge-seg segment on a real photo
#   4. the arm64 mask compared with the x86 one: PASS when >= 99.9 % of pixels agree
# Needs root (debootstrap, chroot, binfmt) and, on the host, an environment where this package
# and scikit-image are installed (the photo is skimage.data.retina()). Not run by CI.
# Usage: firmware_notes/verify_arm64.sh            (about 6 minutes the first time)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${EDGE_SEG_ARM64_CACHE:-$HOME/.cache/edge-seg-arm64}
root=$cache/bookworm-arm64
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
python=${PYTHON:-python3}
work=$(mktemp -d)
results=()

say() { printf '== %s\n' "$*"; }
# run in the arm64 userland with a clean environment, as a fresh login on a Pi would have, plus
# the host's CA bundle so that pip also works behind a TLS-inspecting proxy
in_arm64() {
  chroot "$root" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root LANG=C.UTF-8 \
    PIP_CERT=/tmp/edge-seg/host-ca.crt "$@"
}
record() { results+=("$1"); printf '%s\n' "$1"; }
cleanup() {
  for mount in "$root/proc" "$root/dev"; do
    mountpoint -q "$mount" 2>/dev/null && umount -l "$mount"
  done
  rm -rf "$work"
}
trap cleanup EXIT
summary() {
  echo
  echo "== summary (arm64 bookworm under qemu-user)"
  printf '%s\n' "${results[@]}"
  if printf '%s\n' "${results[@]}" | grep -q '^FAIL'; then echo "RESULT: FAIL"; exit 1; fi
  echo "RESULT: PASS"
}

[ "$(id -u)" -eq 0 ] || { echo "FAIL: run as root (debootstrap, chroot, binfmt)"; exit 1; }

say "host tools"
missing=()
for tool in debootstrap qemu-aarch64-static update-binfmts; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static binfmt-support debootstrap
fi
mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
if grep -q enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null; then
  record "PASS  qemu-aarch64 binfmt handler enabled"
else
  record "FAIL  qemu-aarch64 binfmt handler not enabled"; summary
fi

say "arm64 userland ($root)"
started=$SECONDS
if [ ! -f "$root/.complete" ]; then
  rm -rf "$root"
  mkdir -p "$cache"
  debootstrap --arch=arm64 --variant=minbase \
    --include=python3,python3-venv,python3-pip,ca-certificates bookworm "$root" "$mirror" \
    > "$cache/debootstrap.log" 2>&1 || { record "FAIL  debootstrap (see $cache/debootstrap.log)"; summary; }
  touch "$root/.complete"
  record "PASS  debootstrap arm64 bookworm in $((SECONDS - started)) s"
else
  record "PASS  arm64 bookworm userland from cache"
fi
record "INFO  $(in_arm64 uname -m) userland, $(in_arm64 python3 --version)"

say "wheel and photo on the host"
"$python" -m pip wheel --quiet --no-deps -w "$work/wheel" "$repo" >/dev/null
wheel=$(ls "$work"/wheel/*.whl)
"$python" - "$work/retina.jpg" <<'PY'
import sys
from PIL import Image
from skimage.data import retina
Image.fromarray(retina()).save(sys.argv[1], quality=95)
PY
"$python" -m edge_runtime.cli.main segment "$work/retina.jpg" -o "$work/x86" > /dev/null 2>&1
record "PASS  x86 mask: $work/x86/retina_mask.png ($(basename "$wheel"))"

say "install in the arm64 userland, as on a Pi"
mkdir -p "$root/dev" "$root/proc" "$root/tmp/edge-seg"
mount --bind /dev "$root/dev"
mount -t proc proc "$root/proc"
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp "${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}" "$root/tmp/edge-seg/host-ca.crt"
cp "$wheel" "$work/retina.jpg" "$root/tmp/edge-seg/"
rm -rf "$root/opt/edge-seg"
started=$SECONDS
if in_arm64 /bin/sh -c "python3 -m venv /opt/edge-seg && \
    /opt/edge-seg/bin/pip install --quiet /tmp/edge-seg/$(basename "$wheel")" > "$work/pip.log" 2>&1; then
  size=$(du -sm "$root/opt/edge-seg" | cut -f1)
  record "PASS  pip install (base dependencies only) in $((SECONDS - started)) s, venv ${size} MB"
else
  tail -5 "$work/pip.log"; record "FAIL  pip install in the arm64 venv"; summary
fi
if in_arm64 /opt/edge-seg/bin/python -c "import tensorflow" 2>/dev/null; then
  record "FAIL  TensorFlow is installed in the device environment"
else
  record "PASS  no TensorFlow in the device environment"
fi

say "edge-seg on arm64"
if in_arm64 /opt/edge-seg/bin/edge-seg info > "$work/info.txt" 2>&1; then
  record "PASS  edge-seg info: $(grep -E '^backend' "$work/info.txt" | tr -s ' ')"
else
  cat "$work/info.txt"; record "FAIL  edge-seg info"
fi
started=$SECONDS
if in_arm64 /opt/edge-seg/bin/edge-seg segment /tmp/edge-seg/retina.jpg -o /tmp/edge-seg/arm64 \
    > "$work/segment.txt" 2>&1; then
  record "PASS  edge-seg segment in $((SECONDS - started)) s under emulation (not a device timing)"
else
  cat "$work/segment.txt"; record "FAIL  edge-seg segment"; summary
fi

say "compare the masks"
agreement=$("$python" - "$work/x86/retina_mask.png" "$root/tmp/edge-seg/arm64/retina_mask.png" <<'PY'
import sys
import numpy as np
from PIL import Image
x86, arm = (np.asarray(Image.open(p)) for p in sys.argv[1:3])
print(f"{np.mean(x86 == arm) * 100:.4f}")
PY
)
if awk -v a="$agreement" 'BEGIN { exit !(a >= 99.9) }'; then
  record "PASS  arm64 and x86 masks agree on ${agreement} % of pixels (>= 99.9 %)"
else
  record "FAIL  arm64 and x86 masks agree on only ${agreement} % of pixels (< 99.9 %)"
fi
summary
