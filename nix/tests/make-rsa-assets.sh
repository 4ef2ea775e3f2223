#!/usr/bin/env bash
# Makes the RSA test assets of the ssh-keys VM tests (throwaway keys): an RSA ssh host key,
# rsa-pgp.yaml encrypted only to the key's ssh-to-pgp fingerprint and rsa-ssh.yaml encrypted
# only to its `ssh-rsa` line (sops >= 3.10). Needs ssh-keygen, gpg, sops and a built
# sops-install (SOPS_INSTALL, default target/debug/sops-install).
set -euo pipefail
cd "$(dirname "$0")/assets"
installer=${SOPS_INSTALL:-../../../target/debug/sops-install}
work=$(mktemp -d)
trap 'GNUPGHOME="$work/gnupg" gpgconf --kill all 2>/dev/null || true; rm -rf "$work"' EXIT
rm -f ssh-rsa-key ssh-rsa-key.pub
ssh-keygen -q -t rsa -b 2048 -N '' -C 'sops-install test host' -f ssh-rsa-key
fpr=$("$installer" ssh-to-pgp -i ssh-rsa-key -o "$work/host.asc" 2>&1 | tr a-f A-F)
mkdir -m 700 "$work/gnupg"
GNUPGHOME="$work/gnupg" gpg --batch --quiet --import "$work/host.asc"
printf 'test_key: test_value\n' >"$work/plain.yaml"
GNUPGHOME="$work/gnupg" sops encrypt --pgp "$fpr" "$work/plain.yaml" >rsa-pgp.yaml
sops encrypt --age "$(cut -d' ' -f1,2 ssh-rsa-key.pub)" "$work/plain.yaml" >rsa-ssh.yaml
echo "$fpr" >rsa-pgp-fingerprint
