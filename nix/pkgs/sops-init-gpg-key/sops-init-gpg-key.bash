#!/usr/bin/env bash
# sops-init-gpg-key [--hostname NAME] [--gpghome DIR] [--keytype RSA|Curve25519]
# Makes a new GnuPG home at DIR (default /root/.gnupg, which must not exist yet) holding one
# unprotected key (and encryption subkey) for NAME (default: this host's name), then prints the
# armored public key and its fingerprint on stderr.
set -euo pipefail

die() {
  echo "sops-init-gpg-key: $*" >&2
  exit 1
}
usage() {
  echo "usage: $0 [--hostname NAME] [--gpghome DIR] [--keytype RSA|Curve25519]"
}

target=/root/.gnupg
name=""
keytype=RSA
while (($#)); do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --gpghome | --hostname | --keytype)
      (($# >= 2)) || die "$1 needs a value"
      case "$1" in
        --gpghome) target=$2 ;;
        --hostname) name=$2 ;;
        --keytype) keytype=$2 ;;
      esac
      shift 2
      ;;
    --gpghome=* ) target=${1#*=}; shift ;;
    --hostname=* ) name=${1#*=}; shift ;;
    --keytype=* ) keytype=${1#*=}; shift ;;
    *) usage >&2; exit 3 ;;
  esac
done
[[ -n "$name" ]] || name=$(hostname)
case "$keytype" in
  RSA) algo=rsa2048 subkey=rsa2048 ;;
  Curve25519) algo=ed25519 subkey=cv25519 ;;
  *) die "unknown keytype '$keytype' (RSA or Curve25519)" ;;
esac
[[ ! -e "$target" ]] || die "$target already exists"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GNUPGHOME=$work
# A certifying primary key and an encryption subkey (what sops encrypts to).
gpg --batch --quiet --passphrase '' --quick-gen-key "$name <root@$name>" "$algo" cert never
fpr=$(gpg --batch --with-colons --list-keys | awk -F: '$1 == "fpr" { print $10; exit }')
gpg --batch --quiet --passphrase '' --quick-add-key "$fpr" "$subkey" encr never
{
  echo "Public key of $name (save it, e.g. as $name.asc):"
  gpg --batch --export --armor
  echo "fingerprint: $fpr"
} >&2
gpgconf --kill all 2>/dev/null || true
mkdir -p "$(dirname "$target")"
mv "$work" "$target"
trap - EXIT
