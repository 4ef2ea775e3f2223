#!/usr/bin/env bash
# Installs the example manifest into a temporary root, as root, inside a private mount
# namespace (so the real /run is never touched), twice, and shows what it made.
# Usage: examples/install-demo.sh [path/to/sops-install]   (default: builds it with cargo)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="${1:-}"
if [ -z "$bin" ]; then
  cargo build --quiet --manifest-path "$here/../Cargo.toml"
  bin="$(cargo metadata --format-version 1 --no-deps --manifest-path "$here/../Cargo.toml" | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/sops-install"
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-demo: run as root (it mounts a ramfs in a private mount namespace)" >&2
  exit 1
fi
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
sed -e "s#@ROOT@#$root#g" -e "s#@EXAMPLES@#$here#g" "$here/manifest.json.in" > "$root/manifest.json"
unshare --mount --propagation private -- bash -euo pipefail -c '
  bin=$1 root=$2
  echo "== first activation"
  "$bin" "$root/manifest.json"
  echo "== second activation (nothing changed)"
  "$bin" "$root/manifest.json"
  echo "== tree"
  find "$root/run" "$root/var" -printf "%M %u:%g %p %l\n" 2>/dev/null | sed "s#$root##" | sort -k3
  echo "== $root/run/secrets/rendered/app.env (from the template)"
  sed "s#:[^:@]*@#:<redacted>@#" "$root/run/secrets/rendered/app.env"
  echo "== filesystem of the secrets"
  stat -f -c "%T" "$root/run/secrets.d"
' _ "$bin" "$root"
