# shellcheck shell=bash
# Imports the devShell's OpenPGP keys into gpg (see default.nix for the variables).
sopsImportPgpKeys() {
  local gpg=@gpg@ file dir
  if [[ -n "${sopsCreateGPGHome-}" ]]; then
    export GNUPGHOME="${sopsGPGHome:-$PWD/.git/gnupg}"
    mkdir -p -m 700 "$GNUPGHOME"
  fi
  for file in ${sopsPGPKeys-}; do
    if [[ -f "$file" ]]; then
      "$gpg" --quiet --import "$file"
    else
      echo "sops-import-keys-hook: $file does not exist" >&2
    fi
  done
  for dir in ${sopsPGPKeyDirs-}; do
    while IFS= read -r -d '' file; do
      "$gpg" --quiet --import "$file"
    done < <(find -L "$dir" -type f \( -name '*.asc' -o -name '*.gpg' \) -print0)
  done
}

shellHook="sopsImportPgpKeys${shellHook:+;$shellHook}"
