#!/usr/bin/env bash
# Regenerates the expected outputs from in/{ini,dotenv}/* with the real sops (3.11.0).
#   clear/<kind>/<name>  sops encrypt --encrypted-suffix ZZZNEVER: nothing encrypted, so this is
#                        exactly sops's own parse+emit of the input plus a [sops]/sops_ block
#   enc/<kind>/<name>    sops encrypt --age R1 (values and comments encrypted)
#   out/<kind>/<name>.out  sops decrypt of enc/ (checked identical to sops decrypt of clear/)
#   err/<kind>/<name>.err  when sops encrypt rejects the input: its exit status and stderr
#   decrypt-fails.txt    cases where sops cannot decrypt its own enc/ file (no out/ file then)
#   not-fixpoint.txt     cases where sops decrypt of clear/ fails or differs from out/ (sops's
#                        own emit+parse is not a fixpoint there)
set -u
here=$(cd "$(dirname "$0")" && pwd)
keys="$here/../sops/keys"
R1=$(age-keygen -y $keys/age1.txt)
export SOPS_AGE_KEY_FILE=$keys/age1.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
rm -f "$here/decrypt-fails.txt" "$here/not-fixpoint.txt"
for kind in ini dotenv; do
  mkdir -p "$here/clear/$kind" "$here/enc/$kind" "$here/out/$kind" "$here/err/$kind"
  for f in "$here"/in/$kind/*; do
    base=$(basename "$f"); name=${base%.*}
    rm -f "$here/clear/$kind/$base" "$here/enc/$kind/$base" "$here/out/$kind/$name.out" "$here/err/$kind/$name.err"
    cp "$f" "$tmp/$base"
    sops encrypt --age "$R1" --encrypted-suffix ZZZNEVER "$base" > c 2> e; rc=$?
    if [ $rc -ne 0 ]; then
      { echo "rc=$rc"; sed 's/^/# /' e; } > "$here/err/$kind/$name.err"
      continue
    fi
    cp c "$here/clear/$kind/$base"
    sops encrypt --age "$R1" "$base" > "$here/enc/$kind/$base" 2>/dev/null || echo "enc failed: $kind/$name"
    cp "$here/enc/$kind/$base" "$tmp/e.$base"
    if ! sops decrypt "e.$base" > "$here/out/$kind/$name.out" 2> e; then
      rm -f "$here/out/$kind/$name.out"
      echo "$kind/$name" >> "$here/decrypt-fails.txt"
    fi
    cp c "$tmp/c.$base"
    sops decrypt "c.$base" > d 2>/dev/null && cmp -s d "$here/out/$kind/$name.out" || echo "$kind/$name" >> "$here/not-fixpoint.txt"
  done
done
