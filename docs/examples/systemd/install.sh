#!/bin/sh
# Installs serve-launch on one node from a release tarball, for the unit
# beside this script (docs/multi-node.md, "systemd"):
#
#   sudo sh install.sh serve-launch_VERSION_linux_ARCH.tar.gz
#
# It checks the tarball against the SHA256SUMS beside it, installs
# serve-launch and serve-launch-shim side by side into /usr/local/bin (the
# launcher finds the shim beside itself), the unit into
# /etc/systemd/system, and, unless /etc/serve already holds settings, a
# starter /etc/serve: overrides.d and serve.env written by
# `serve-launch init`, and node.env from this directory. It enables
# nothing: edit /etc/serve/node.env first.
#
# DESTDIR puts all of it under another root (internal/testing/dist runs
# this script so against the tarball `make dist` writes).
set -eu

tarball=${1:?usage: install.sh serve-launch_VERSION_linux_ARCH.tar.gz}
here=$(cd "$(dirname "$0")" && pwd)
root=${DESTDIR:-}

# The checksum first: nothing is installed from a tarball that does not match.
dir=$(dirname "$tarball")
name=$(basename "$tarball")
if [ ! -f "$dir/SHA256SUMS" ]; then
  echo "install.sh: no SHA256SUMS beside $tarball: download it from the same release" >&2
  exit 1
fi
line=$(grep "  $name\$" "$dir/SHA256SUMS" || true)
if [ -z "$line" ]; then
  echo "install.sh: $dir/SHA256SUMS has no line for $name" >&2
  exit 1
fi
(cd "$dir" && echo "$line" | sha256sum --check --quiet -)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -xzf "$tarball" -C "$tmp"
install -d -m 0755 "$root/usr/local/bin" "$root/etc/systemd/system"
install -m 0755 "$tmp"/*/serve-launch "$tmp"/*/serve-launch-shim "$root/usr/local/bin/"
install -m 0644 "$here/serve-launch.service" "$root/etc/systemd/system/serve-launch.service"
"$root/usr/local/bin/serve-launch" --version

if [ -e "$root/etc/serve/overrides.d" ] || [ -e "$root/etc/serve/serve.env" ]; then
  echo "install.sh: $root/etc/serve holds settings already: kept as they are"
else
  "$root/usr/local/bin/serve-launch" init "$root/etc/serve"
fi
if [ ! -e "$root/etc/serve/node.env" ]; then
  install -m 0644 "$here/node.env" "$root/etc/serve/node.env"
fi
echo "install.sh: next, edit /etc/serve/node.env (head or worker) and /etc/serve/serve.env, then:"
echo "  serve-launch check --env-file /etc/serve/serve.env --overrides /etc/serve/overrides.d"
echo "  systemctl daemon-reload && systemctl enable --now serve-launch"
