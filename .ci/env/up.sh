#!/usr/bin/env bash
# .ci/env/up.sh - install and configure what wfc's software-environment tests use
# (test/env/, test/runtime/environments-*.test.ts) and CI. Run as root.
#
#   sudo bash .ci/env/up.sh        (or: npm run env:up)
#
# What it does, each step skipped when already done (so it is safe to run again):
#   1. installs Debian's podman, runc, catatonit (podman's --init), busybox-static
#      (the test images' rootfs), environment-modules and chromium (the browser
#      `wfc report`'s tests drive headless, test/report/) if any is missing;
#   2. writes /etc/containers/containers.conf with runc as the runtime and explicit
#      ulimits: crun refuses these VMs' hybrid cgroups, and podman's default rlimits
#      exceed their hard nofile limit;
#   3. runs one trivial container to check the whole chain, then prints one line.
# A containers.conf this script did not write is left alone unless WFC_ENV_OVERWRITE=1.
set -euo pipefail

CONF=/etc/containers/containers.conf
MARK="# written by wfc .ci/env/up.sh"
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH

if [ "$(id -u)" -ne 0 ]; then
  echo "env/up.sh: run as root (it installs packages and writes $CONF)" >&2
  exit 1
fi

missing=()
command -v podman >/dev/null 2>&1 || missing+=(podman)
command -v runc >/dev/null 2>&1 || missing+=(runc)
[ -x /usr/libexec/podman/catatonit ] || command -v catatonit >/dev/null 2>&1 || missing+=(catatonit)
[ -x /bin/busybox ] || missing+=(busybox-static)
[ -f /usr/share/modules/init/bash ] || missing+=(environment-modules)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "env/up.sh: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi

wanted="$MARK
[engine]
runtime = \"runc\"

[containers]
default_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]"
if [ ! -f "$CONF" ] || [ "$(cat "$CONF")" != "$wanted" ]; then
  if [ -f "$CONF" ] && ! head -n 1 "$CONF" | grep -qxF "$MARK" && [ "${WFC_ENV_OVERWRITE:-}" != 1 ]; then
    echo "env/up.sh: $CONF exists and was not written by this script; set WFC_ENV_OVERWRITE=1 to replace it" >&2
    exit 1
  fi
  mkdir -p "$(dirname "$CONF")"
  printf '%s\n' "$wanted" >"$CONF.tmp"
  mv "$CONF.tmp" "$CONF"
  echo "env/up.sh: wrote $CONF" >&2
fi

# The whole chain once: an image from busybox-static, a container run with --init.
img=localhost/wfc-env-check:1
if ! podman image exists "$img"; then
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root/bin"
  cp /bin/busybox "$root/bin/"
  ln -s busybox "$root/bin/sh"
  tar -C "$root" -cf "$root.tar" .
  podman import -q "$root.tar" "$img" >/dev/null
  rm -f "$root.tar"
fi
out=$(podman run --rm --init --network=host "$img" sh -c 'echo ok')
if [ "$out" != ok ]; then
  echo "env/up.sh: a trivial podman container printed '$out', not 'ok'" >&2
  exit 1
fi
echo "env: podman $(podman --version | awk '{print $3}') (runc), environment-modules, $(chromium --version 2>/dev/null | awk '{print $1, $2}') ready"
