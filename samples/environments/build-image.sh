#!/bin/sh
# Builds the sample's image, localhost/wfc-sample-tools:1, without a
# registry: a root file system holding Debian's static busybox (package
# busybox-static) and the commands the `upper` stage uses, imported with
# `podman import`. Run it once, from anywhere; it changes nothing else.
set -eu

image=localhost/wfc-sample-tools:1
busybox=${BUSYBOX:-/bin/busybox}

if ! command -v podman >/dev/null 2>&1; then
  echo "build-image.sh: podman is not installed (apt-get install podman)" >&2
  exit 1
fi
if ! "$busybox" --list 2>/dev/null | grep -qx sh; then
  echo "build-image.sh: $busybox is not a busybox (apt-get install busybox-static)" >&2
  exit 1
fi
case "$(file -L "$busybox" 2>/dev/null || true)" in
  *dynamically*)
    echo "build-image.sh: $busybox is linked dynamically; install busybox-static (or set BUSYBOX to a static one)" >&2
    exit 1
    ;;
esac

rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs/bin" "$rootfs/tmp"
cp "$busybox" "$rootfs/bin/busybox"
for command in sh mkdir tr cat wc awk ls echo; do
  ln -s busybox "$rootfs/bin/$command"
done
tar -C "$rootfs" -cf "$rootfs.tar" .
trap 'rm -rf "$rootfs" "$rootfs.tar"' EXIT
podman import --quiet --change 'ENV PATH=/bin' "$rootfs.tar" "$image" >/dev/null
echo "built $image"
