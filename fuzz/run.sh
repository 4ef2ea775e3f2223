#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS each (default 5: the CI smoke run; the documented
# long run is `fuzz/run.sh 600`; FUZZ_TARGETS="a b" limits it to some targets). Seeds each corpus from the sops fixtures in
# tests/data/sops (or $SOPS_FIXTURES), so the store parsers start from real sops files. Any crash fails the run; libFuzzer
# leaves the input under fuzz/artifacts/<target>/.
#
# cargo-fuzz needs nightly flags; RUSTC_BOOTSTRAP lets a stable toolchain build it.
set -euo pipefail
secs="${1:-5}"
cd "$(dirname "${BASH_SOURCE[0]}")"
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$PWD/target}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --version 0.13.2
fi

fixtures="${SOPS_FIXTURES:-$PWD/../tests/data/sops}"

seed() { # seed TARGET GLOB...
  local target="$1"
  shift
  mkdir -p "corpus/$target"
  [ -n "$fixtures" ] || return 0
  for pattern in "$@"; do
    for f in $fixtures/$pattern; do
      [ -f "$f" ] && cp -n "$f" "corpus/$target/" || true
    done
  done
}
seed store_yaml 'enc/*.yaml' 'plain/*.yaml' 'out/yaml-*.out'
seed store_json 'enc/*.json' 'plain/*.json'
seed store_binary 'enc/*.bin' 'enc/*.json'
seed store_dotenv 'enc/*.env' 'plain/*.env'
seed store_ini 'enc/*.ini' 'plain/*.ini'
seed metadata 'enc/*.yaml' 'enc/*.json'
seed decrypt_walk 'enc/*.yaml'
seed pgp_message 'enc/pgp+age.yaml'
for t in enc_value manifest template; do mkdir -p "corpus/$t"; done
cp -n ../examples/manifest.json.in corpus/manifest/ 2>/dev/null || true

cargo fuzz build -O
failed=()
# FUZZ_TARGETS="a b" runs only those (to split a long run over several cores).
for target in ${FUZZ_TARGETS:-$(cargo fuzz list)}; do
  mkdir -p "corpus/$target"
  echo "==> fuzz $target for ${secs}s"
  if ! cargo fuzz run -O "$target" "corpus/$target" -- \
    -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 2>"corpus/$target.log"; then
    tail -40 "corpus/$target.log" >&2
    failed+=("$target")
  fi
  grep -E '^stat::number_of_executed_units|^#[0-9]+ *DONE' "corpus/$target.log" | tail -2 || true
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: crashes in ${failed[*]} (inputs under fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz: every target ran ${secs}s without a crash"
