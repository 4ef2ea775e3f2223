#!/usr/bin/env bash
# Builds sops-nix's original `sops-install-secrets` and `ssh-to-age` from source checkouts,
# for the differential tests (tests/differential/), when Go's module proxy refuses them
# (`go install github.com/Mic92/...` answers 403 "This module version is not available").
#
#   tests/differential/build-originals.sh SRC [BIN]
#
# SRC holds two checkouts: SRC/sops-nix (commit 56b24064fdca) and SRC/ssh-to-age (v1.3.0, the
# version sops-nix's go.mod names). BIN defaults to the tests' cache directory
# ${XDG_CACHE_HOME:-$HOME/.cache}/sops-install-tools/bin. sops-nix's go.mod is pointed at the
# ssh-to-age checkout with a `replace` line; every other dependency comes from GOPROXY
# (default https://proxy.golang.org), which serves them.
set -euo pipefail
src="${1:?usage: build-originals.sh SRC [BIN]}"
bin="${2:-${XDG_CACHE_HOME:-$HOME/.cache}/sops-install-tools/bin}"
src="$(cd "$src" && pwd)"
mkdir -p "$bin"
bin="$(cd "$bin" && pwd)"
export PATH="$PATH:/usr/local/go/bin"
export GOFLAGS=-mod=mod
export GOPROXY="${GOPROXY:-https://proxy.golang.org}"
export CGO_ENABLED=0

for d in sops-nix/pkgs/sops-install-secrets ssh-to-age/cmd/ssh-to-age; do
  [ -d "$src/$d" ] || { echo "build-originals: $src/$d is missing" >&2; exit 1; }
done
grep -q '^module github.com/Mic92/ssh-to-age$' "$src/ssh-to-age/go.mod" \
  || { echo "build-originals: $src/ssh-to-age is not ssh-to-age" >&2; exit 1; }

printf '+ go build ssh-to-age (%s)\n' "$src/ssh-to-age"
(cd "$src/ssh-to-age" && go build -trimpath -o "$bin/ssh-to-age" ./cmd/ssh-to-age)

printf '+ go build sops-install-secrets (%s, ssh-to-age replaced by %s)\n' \
  "$src/sops-nix" "$src/ssh-to-age"
# Build from a copy, so the checkout's go.mod stays as it was.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -a "$src/sops-nix" "$work/sops-nix"
(
  cd "$work/sops-nix"
  go mod edit -replace "github.com/Mic92/ssh-to-age=$src/ssh-to-age"
  go build -trimpath -o "$bin/sops-install-secrets" ./pkgs/sops-install-secrets
)
ls -l "$bin/ssh-to-age" "$bin/sops-install-secrets"
