#!/usr/bin/env bash
# Regenerates the sops decryption fixtures in this directory.
#
#   ./regenerate.sh             reuse the keys in keys/ (create them if missing)
#   ./regenerate.sh --new-keys  make fresh age and ssh keys first
#
# Needs: sops (3.11.x), age-keygen, ssh-keygen, python3 with the
# `cryptography` and `PyYAML` packages (for tools/sops_ref.py, used to
# convert the ssh key the way ssh-to-age does, to make the tampered
# variants and to write the reference reports).  gpg is optional (only for
# the pgp+age example).
#
# Ciphertexts, IVs, data keys and `lastmodified` change on every run; the
# decrypted outputs in out/ and negative/ must not.  frozen/ is never touched.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

new_keys=0
if [ "${1:-}" = "--new-keys" ]; then new_keys=1; fi

for tool in sops age age-keygen ssh-keygen python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "missing tool: $tool (needed by $0)" >&2; exit 1; }
done
# The cases record what sops 3.11 does; another version may differ (exit codes, messages).
sops_version="$(sops --version --disable-version-check 2>/dev/null | sed -n 's/^sops //p' | head -n 1)"
case "$sops_version" in
  3.11.*) ;;
  *) echo "warning: sops ${sops_version:-(unknown version)} is not 3.11.x: outputs may differ from the committed ones" >&2 ;;
esac
python3 -c 'import cryptography, yaml' || { echo "python3 needs cryptography and PyYAML" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export HOME="$work/home"
mkdir -p "$HOME"
# Never pick up identities or settings from the caller's environment.
unset SOPS_AGE_KEY SOPS_AGE_KEY_FILE SOPS_AGE_KEY_CMD SOPS_AGE_SSH_PRIVATE_KEY_FILE \
      SOPS_AGE_SSH_PRIVATE_KEY_CMD SOPS_AGE_RECIPIENTS SOPS_PGP_FP SOPS_KMS_ARN \
      SOPS_GCP_KMS_IDS SOPS_AZURE_KEYVAULT_URLS SOPS_VAULT_URIS SOPS_DECRYPTION_ORDER \
      GNUPGHOME 2>/dev/null || true
# sops looks for .sops.yaml upwards from the current directory: stay outside
# of any checkout.
cd "$work"

ref="$here/tools/sops_ref.py"

# ------------------------------------------------------------------ keys
mkdir -p "$here/keys"
if [ "$new_keys" = 1 ] || [ ! -f "$here/keys/age1.txt" ]; then
  rm -f "$here"/keys/*
  for k in age1 age2 age3 wrong; do
    age-keygen -o "$here/keys/$k.txt" 2>/dev/null
  done
  ssh-keygen -q -t ed25519 -N "" -C "sops-fixture-host-key" -f "$here/keys/ssh_host_ed25519_key"
fi
# The age identity that ssh-to-age (used by sops-nix) derives from the host key.
{
  conv="$(python3 "$ref" ssh-to-age "$here/keys/ssh_host_ed25519_key")"
  echo "# derived from ssh_host_ed25519_key like ssh-to-age: SHA-512(seed)[0:32]"
  echo "# public key: $(printf '%s\n' "$conv" | sed -n 2p)"
  printf '%s\n' "$conv" | sed -n 1p
} > "$here/keys/ssh_host_ed25519_key.age.txt"
# A key file that sops rejects as a whole because of one malformed line.
{ echo "this line is not an identity"; cat "$here/keys/age1.txt"; } > "$here/keys/bad-line-then-age1.txt"

R1="$(age-keygen -y "$here/keys/age1.txt")"
R2="$(age-keygen -y "$here/keys/age2.txt")"
R3="$(age-keygen -y "$here/keys/age3.txt")"
RSSH="$(cat "$here/keys/ssh_host_ed25519_key.pub")"
RCONV="$(sed -n 's/^# public key: //p' "$here/keys/ssh_host_ed25519_key.age.txt")"

# ------------------------------------------------------------------ configs
mkdir -p "$here/config"
cat > "$here/config/shamir.sops.yaml" <<EOF
creation_rules:
  - path_regex: shamir\.(yaml|json)\$
    shamir_threshold: 2
    key_groups:
      - age: [$R1]
      - age: [$R2]
      - age: [$R3]
EOF
cat > "$here/config/groups.sops.yaml" <<EOF
creation_rules:
  - path_regex: groups\.yaml\$
    key_groups:
      - age: [$R1, $R2]
      - age: [$R3]
EOF
cat > "$here/config/mac-only.sops.yaml" <<EOF
creation_rules:
  - path_regex: k8s-secret\.yaml\$
    age: $R1
    mac_only_encrypted: true
    encrypted_regex: ^(data|stringData)\$
EOF
cat > "$here/config/encrypted-comment-regex.sops.yaml" <<EOF
creation_rules:
  - path_regex: (comment-rules|ecr-list-bug)\.yaml\$
    age: $R1
    encrypted_comment_regex: sops:enc
EOF
cat > "$here/config/unencrypted-comment-regex.sops.yaml" <<EOF
creation_rules:
  - path_regex: uncomment-rules\.yaml\$
    age: $R1
    unencrypted_comment_regex: sops:noenc
EOF

# ------------------------------------------------------------------ helpers
rm -rf "$here/enc" "$here/out" "$here/ref" "$here/negative"
mkdir -p "$here/enc" "$here/out" "$here/ref" "$here/negative"
cases="$here/cases.tsv"
printf 'id\tkind\tformat\tfile\tidentities\textract\texpected_rc\tstdout\tstderr\tnote\n' > "$cases"

sanitize() { sed -e "s#$work#<tmpdir>#g" -e "s#$here#<fixtures>#g"; }

enc() { # enc OUTPUT INPUT sops-encrypt-args...
  local out="$1" in="$2"; shift 2
  sops encrypt "$@" "$here/plain/$in" > "$here/enc/$out"
}
enc_cfg() { # enc_cfg OUTPUT INPUT CONFIG
  sops --config "$here/config/$3" encrypt "$here/plain/$2" > "$here/enc/$1"
}

# run_case ID KIND FORMAT FILE IDENTITIES EXTRACT NOTE
#   FILE is relative to this directory; IDENTITIES is "age:a.txt+b.txt" or
#   "ssh:keyfile" (paths relative to keys/).  Output goes to out/ID.out (or
#   negative/ID.out for negative cases) with .err and the exit status.
run_case() {
  local id="$1" kind="$2" fmt="$3" file="$4" ids="$5" extract="$6" note="$7"
  local dir=out; [ "$kind" = negative ] && dir=negative
  local keyfile="$work/keys-$id.txt" rc=0
  local -a env=(env -u SOPS_AGE_KEY_FILE -u SOPS_AGE_SSH_PRIVATE_KEY_FILE)
  case "$ids" in
    age:*) : > "$keyfile"
           IFS=+ read -r -a parts <<< "${ids#age:}"
           for p in "${parts[@]}"; do cat "$here/keys/$p" >> "$keyfile"; done
           env+=(SOPS_AGE_KEY_FILE="$keyfile") ;;
    ssh:*) env+=(SOPS_AGE_SSH_PRIVATE_KEY_FILE="$here/keys/${ids#ssh:}") ;;
    none)  ;;
  esac
  local -a args=(decrypt --input-type "$fmt" --output-type "$fmt")
  [ "$extract" != "-" ] && args+=(--extract "$extract")
  "${env[@]}" sops "${args[@]}" "$here/$file" > "$here/$dir/$id.out" 2> "$work/err" || rc=$?
  # Go panics print a stack trace with build paths: keep the first line only.
  if grep -q '^panic:' "$work/err"; then grep -m1 '^panic:' "$work/err" > "$work/err2"; mv "$work/err2" "$work/err"; fi
  sanitize < "$work/err" > "$here/$dir/$id.err"
  echo "$rc" > "$here/$dir/$id.rc"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$kind" "$fmt" "$file" "$ids" "$extract" "$rc" \
    "$dir/$id.out" "$dir/$id.err" "$note" >> "$cases"
  # Reference report from the independent Python decryptor (positive cases).
  if [ "$kind" = positive ] && [ "$extract" = "-" ]; then
    local -a rargs=(decrypt --format "$fmt")
    case "$ids" in
      age:*) for p in "${parts[@]}"; do rargs+=(--identity "$here/keys/$p"); done ;;
      ssh:*) rargs+=(--identity "$here/keys/${ids#ssh:}") ;;
    esac
    python3 "$ref" "${rargs[@]}" "$here/$file" > "$here/ref/$id.json" \
      || { echo "reference decryptor disagrees on $id" >&2; exit 1; }
  fi
}

# ------------------------------------------------------------------ YAML
enc basic.yaml            basic.yaml            --age "$R1,$R2"
enc types.yaml            types.yaml            --age "$R1"
enc strings.yaml          strings.yaml          --age "$R1"
enc structure.yaml        structure.yaml        --age "$R1"
enc comments.yaml         comments.yaml         --age "$R1"
enc multidoc.yaml         multidoc.yaml         --age "$R1"
enc anchors.yaml          anchors.yaml          --age "$R1"
enc clear-values.yaml     clear-values.yaml     --age "$R1"
enc empty-map.yaml        empty-map.yaml        --age "$R1"
enc rules.encrypted-suffix.yaml   rules.yaml --age "$R1" --encrypted-suffix _enc
enc rules.unencrypted-suffix.yaml rules.yaml --age "$R1" --unencrypted-suffix _enc
enc rules.encrypted-regex.yaml    rules.yaml --age "$R1" --encrypted-regex 'pass|token'
enc rules.unencrypted-regex.yaml  rules.yaml --age "$R1" --unencrypted-regex '^(name|host)$'
enc_cfg k8s-secret.mac-only.yaml  k8s-secret.yaml       mac-only.sops.yaml
enc_cfg comment-rules.yaml        comment-rules.yaml    encrypted-comment-regex.sops.yaml
enc_cfg uncomment-rules.yaml      uncomment-rules.yaml  unencrypted-comment-regex.sops.yaml
enc_cfg shamir.yaml               shamir.yaml           shamir.sops.yaml
enc_cfg groups.yaml               groups.yaml           groups.sops.yaml
enc ssh.native.yaml       ssh.yaml              --age "$RSSH"
enc ssh.converted.yaml    ssh.yaml              --age "$RCONV"

run_case yaml-basic-age1        positive yaml enc/basic.yaml   age:age1.txt - "two age recipients in one group; first key"
run_case yaml-basic-age2        positive yaml enc/basic.yaml   age:age2.txt - "two age recipients in one group; second key"
run_case yaml-basic-wrong+age1  positive yaml enc/basic.yaml   age:wrong.txt+age1.txt - "non-matching identity is skipped"
run_case yaml-types             positive yaml enc/types.yaml   age:age1.txt - "ints, floats, bools, nulls, timestamps"
run_case yaml-strings           positive yaml enc/strings.yaml age:age1.txt - "yaml.v3 quoting and block styles"
run_case yaml-structure         positive yaml enc/structure.yaml age:age1.txt - "nesting, lists of maps, flow input"
run_case yaml-comments          positive yaml enc/comments.yaml age:age1.txt - "comment placement and encrypted comments"
run_case yaml-multidoc          positive yaml enc/multidoc.yaml age:age1.txt - "several documents, one MAC"
run_case yaml-anchors           positive yaml enc/anchors.yaml age:age1.txt - "aliases expanded, merge key kept as !!merge <<"
run_case yaml-clear-values      positive yaml enc/clear-values.yaml age:age1.txt - "_unencrypted values keep their YAML type"
run_case yaml-empty-map         positive yaml enc/empty-map.yaml age:age1.txt - "no data at all"
run_case yaml-rules-encrypted-suffix   positive yaml enc/rules.encrypted-suffix.yaml   age:age1.txt - "encrypted_suffix"
run_case yaml-rules-unencrypted-suffix positive yaml enc/rules.unencrypted-suffix.yaml age:age1.txt - "unencrypted_suffix"
run_case yaml-rules-encrypted-regex    positive yaml enc/rules.encrypted-regex.yaml    age:age1.txt - "encrypted_regex"
run_case yaml-rules-unencrypted-regex  positive yaml enc/rules.unencrypted-regex.yaml  age:age1.txt - "unencrypted_regex"
run_case yaml-mac-only          positive yaml enc/k8s-secret.mac-only.yaml age:age1.txt - "mac_only_encrypted + encrypted_regex"
run_case yaml-comment-rules     positive yaml enc/comment-rules.yaml   age:age1.txt - "encrypted_comment_regex"
run_case yaml-uncomment-rules   positive yaml enc/uncomment-rules.yaml age:age1.txt - "unencrypted_comment_regex"
run_case yaml-shamir-12         positive yaml enc/shamir.yaml age:age1.txt+age2.txt - "3 groups, threshold 2"
run_case yaml-shamir-23         positive yaml enc/shamir.yaml age:age2.txt+age3.txt - "3 groups, threshold 2"
run_case yaml-shamir-123        positive yaml enc/shamir.yaml age:age1.txt+age2.txt+age3.txt - "all parts"
run_case yaml-groups-13         positive yaml enc/groups.yaml age:age1.txt+age3.txt - "2 groups (threshold defaults to 2)"
run_case yaml-groups-23         positive yaml enc/groups.yaml age:age2.txt+age3.txt - "second key of group 0"
run_case yaml-ssh-native        positive yaml enc/ssh.native.yaml ssh:ssh_host_ed25519_key - "ssh-ed25519 recipient"
run_case yaml-ssh-converted     positive yaml enc/ssh.converted.yaml age:ssh_host_ed25519_key.age.txt - "ssh key converted like ssh-to-age"
run_case yaml-extract-string    positive yaml enc/basic.yaml age:age1.txt '["db"]["password"]' "--extract of a string: raw bytes, no newline"
run_case yaml-extract-int       positive yaml enc/basic.yaml age:age1.txt '["db"]["port"]' "--extract of a non-string: YAML value + newline"
run_case yaml-extract-map       positive yaml enc/basic.yaml age:age1.txt '["db"]' "--extract of a map: a YAML document"
run_case yaml-extract-list-item positive yaml enc/basic.yaml age:age1.txt '["servers"][1]' "--extract of a list element"

# ------------------------------------------------------------------ JSON
enc basic.json   basic.json  --age "$R1"
enc values.json  values.json --age "$R1"
enc_cfg shamir.json shamir.json shamir.sops.yaml
run_case json-basic       positive json enc/basic.json  age:age1.txt - "same data as basic.yaml"
run_case json-values      positive json enc/values.json age:age1.txt - "escaping, numbers, duplicates, cleartext"
run_case json-shamir-13   positive json enc/shamir.json age:age1.txt+age3.txt - "key_groups in JSON"
run_case json-extract-string positive json enc/values.json age:age1.txt '["html"]' "--extract of a string"
run_case json-extract-map    positive json enc/values.json age:age1.txt '["nested"]' "--extract of a map"

# ------------------------------------------------------------------ dotenv
enc basic.env  basic.env --age "$R1"
enc empty.env  empty.env --age "$R1"
run_case dotenv-basic  positive dotenv enc/basic.env age:age1.txt - "flat KEY=value lines"
run_case dotenv-empty  positive dotenv enc/empty.env age:age1.txt - "no data lines"

# ------------------------------------------------------------------ ini
enc basic.ini basic.ini --age "$R1"
run_case ini-basic positive ini enc/basic.ini age:age1.txt - "sections, DEFAULT, comments, quoting"

# ------------------------------------------------------------------ binary
enc blob.bin  blob.bin  --age "$R1"
enc text.bin  text.bin  --age "$R1"
enc empty.bin empty.bin --age "$R1"
run_case binary-blob  positive binary enc/blob.bin  age:age1.txt - "NUL and invalid UTF-8 bytes"
run_case binary-text  positive binary enc/text.bin  age:age1.txt - "no trailing newline"
run_case binary-empty positive binary enc/empty.bin age:age1.txt - "empty input: data stays \"\""

# ------------------------------------------------------------------ pgp (optional)
if command -v gpg >/dev/null 2>&1; then
  export GNUPGHOME="$work/gnupg"; mkdir -m 700 "$GNUPGHOME"
  gpg --batch --passphrase '' --quick-gen-key "sops fixture <fixture@example.invalid>" default default never >/dev/null 2>&1
  FP="$(gpg --list-keys --with-colons 2>/dev/null | awk -F: '/^fpr/ {print $10; exit}')"
  enc pgp+age.yaml ssh.yaml --pgp "$FP" --age "$R1" 2>/dev/null
  run_case yaml-pgp+age positive yaml enc/pgp+age.yaml age:age1.txt - "pgp entry present, decrypted through age"
  unset GNUPGHOME
fi

# ------------------------------------------------------------------ negative cases
mut() { # mut OUTPUT SOURCE PYTHON-EXPRESSION-ON-s
  python3 - "$here/enc/$2" "$here/negative/$1" "$3" <<'PY'
import re, sys
src, dst, expr = sys.argv[1:4]
s = open(src, encoding="utf-8").read()
def flip_first_data_char(s, key):
    m = re.search(r"^(\s*" + re.escape(key) + r": ENC\[AES256_GCM,data:)(.)", s, re.M)
    c = "A" if m.group(2) != "A" else "B"
    return s[:m.start(2)] + c + s[m.end(2):]
def enc_of(s, key):
    return re.search(r"^\s*" + re.escape(key) + r": (ENC\[[^\]]*\])", s, re.M).group(1)
out = eval(expr)
open(dst, "w", encoding="utf-8").write(out)
PY
}

run_case wrong-key negative yaml enc/basic.yaml age:wrong.txt - "no identity matches: exit 128"
run_case bad-key-file negative yaml enc/basic.yaml age:bad-line-then-age1.txt - "one malformed line discards the whole key file"
run_case shamir-one-part negative yaml enc/shamir.yaml age:age1.txt - "1 of 3 parts, threshold 2"
run_case groups-same-group negative yaml enc/groups.yaml age:age1.txt+age2.txt - "both keys are in group 0: one part only"
run_case ssh-converted-vs-native negative yaml enc/ssh.native.yaml age:ssh_host_ed25519_key.age.txt - "converted X25519 identity cannot open an ssh-ed25519 stanza"

mut tampered-value.yaml basic.yaml 'flip_first_data_char(s, "api_key")'
run_case tampered-value negative yaml negative/tampered-value.yaml age:age1.txt - "GCM tag check fails: exit 25"
mut swapped-values.yaml basic.yaml 's.replace(enc_of(s, "user"), "@@U@@").replace(enc_of(s, "password"), enc_of(s, "user")).replace("@@U@@", enc_of(s, "password"))'
run_case swapped-values negative yaml negative/swapped-values.yaml age:age1.txt - "values moved between keys: AAD differs"
mut tampered-mac.yaml basic.yaml 'flip_first_data_char(s, "mac")'
run_case tampered-mac negative yaml negative/tampered-mac.yaml age:age1.txt - "MAC cannot be decrypted: exit 51"
mut missing-mac.yaml basic.yaml 're.sub(r"^    mac: .*\n", "", s, flags=re.M)'
run_case missing-mac negative yaml negative/missing-mac.yaml age:age1.txt - "no mac field: exit 51"
mut lastmodified-changed.yaml basic.yaml 're.sub(r"(lastmodified: \"[^\"]*:)(\d\d)Z", lambda m: m.group(1) + "%02d" % ((int(m.group(2)) + 1) % 60) + "Z", s)'
run_case lastmodified-changed negative yaml negative/lastmodified-changed.yaml age:age1.txt - "MAC AAD is lastmodified: exit 51"
mut lastmodified-equivalent.yaml basic.yaml 're.sub(r"(lastmodified: \"[^\"]*)Z\"", lambda m: m.group(1) + ".000+00:00\"", s)'
run_case lastmodified-equivalent negative yaml negative/lastmodified-equivalent.yaml age:age1.txt - "same instant re-serialised: AAD is normalised, decrypts fine"
mut modified-cleartext.yaml clear-values.yaml 's.replace("port_unencrypted: 8080", "port_unencrypted: 8081")'
run_case modified-cleartext negative yaml negative/modified-cleartext.yaml age:age1.txt - "cleartext values are covered by the MAC"
mut retyped-cleartext.yaml clear-values.yaml 's.replace("port_unencrypted: 8080", "port_unencrypted: \"8080\"")'
run_case retyped-cleartext negative yaml negative/retyped-cleartext.yaml age:age1.txt - "MAC ignores types: decrypts, output shows the string"
mut mac-only-modified-cleartext.yaml k8s-secret.mac-only.yaml 's.replace("name: mysecret", "name: othersecret")'
run_case mac-only-modified-cleartext negative yaml negative/mac-only-modified-cleartext.yaml age:age1.txt - "mac_only_encrypted: cleartext not covered"
mut missing-version.yaml basic.yaml 're.sub(r"^    version: .*\n", "", s, flags=re.M)'
run_case missing-version negative yaml negative/missing-version.yaml age:age1.txt - "CLI-only check (semver of version)"
mut retyped-ciphertext.yaml basic.yaml 's.replace("type:bool]", "type:str]", 1)'
run_case retyped-ciphertext negative yaml negative/retyped-ciphertext.yaml age:age1.txt - "type tag is not authenticated: bool becomes the string True, exit 0"
mut unknown-type.yaml basic.yaml 's.replace("type:int]", "type:xyz]", 1)'
run_case unknown-type negative yaml negative/unknown-type.yaml age:age1.txt - "unknown type tag: exit 25"
mut two-rules.yaml basic.yaml 's.replace("    unencrypted_suffix: _unencrypted\n", "    unencrypted_suffix: _unencrypted\n    encrypted_regex: foo\n")'
run_case two-rules negative yaml negative/two-rules.yaml age:age1.txt - "more than one encryption rule in the metadata: exit 1"
mut plaintext-value.yaml basic.yaml 's.replace(enc_of(s, "api_key"), "not-encrypted")'
run_case plaintext-value negative yaml negative/plaintext-value.yaml age:age1.txt - "value expected to be encrypted is not ENC[...]"
mut non-string-value.yaml basic.yaml 's.replace(enc_of(s, "api_key"), "12345")'
run_case non-string-value negative yaml negative/non-string-value.yaml age:age1.txt - "sops 3.11 panics (exit 2)"
mut moved-comment.yaml comments.yaml 're.sub(r"^(    - z: .*\n)      (#ENC\[)", r"\1\2", s, count=1, flags=re.M)'
run_case moved-comment negative yaml negative/moved-comment.yaml age:age1.txt - "comment re-attached to another branch: stays encrypted, exit 0"
cp "$here/plain/basic.yaml" "$here/negative/no-metadata.yaml"
run_case no-metadata negative yaml negative/no-metadata.yaml age:age1.txt - "no sops key"
: > "$here/negative/empty.yaml"
run_case empty-file negative yaml negative/empty.yaml age:age1.txt - "empty input"
printf 'list:\n  # sops:enc\n  # second comment\n  - value\n  - other\n' > "$work/ecr-list-bug.yaml"
sops --config "$here/config/encrypted-comment-regex.sops.yaml" encrypt "$work/ecr-list-bug.yaml" > "$here/negative/ecr-list-bug.yaml"
run_case ecr-list-bug negative yaml negative/ecr-list-bug.yaml age:age1.txt - "sops bug: cannot decrypt its own file (exit 51)"

# ------------------------------------------------------------------ versions
# Tests quote the first line of VERSIONS in their failure messages.
{
  echo "sops $sops_version, age $(age --version 2>/dev/null), made by regenerate.sh on $(date -u +%Y-%m-%d)"
  echo "sops: $(command -v sops)"
  echo "age: $(command -v age) $(age --version 2>/dev/null)"
  echo "age-keygen: $(command -v age-keygen)"
  echo "gpg: $(gpg --version 2>/dev/null | head -n 1 || echo absent)"
  echo "python3: $(python3 --version 2>&1)"
} > "$here/VERSIONS"

echo "regenerated $(($(wc -l < "$cases") - 1)) cases"
