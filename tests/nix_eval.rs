//! Tests of the Nix side that run without a Nix store: every `.nix` file parses, and the NixOS
//! and home-manager modules, evaluated with nixpkgs' lib (`NIXPKGS_LIB`) and small stubs
//! (tests/nix/), produce sops-nix's manifests, which `sops-install -check-mode=manifest` accepts.
//!
//! Own runner (`harness = false`, libtest-mimic): `parse_test!` tests need `nix-instantiate`,
//! `eval_test!` tests also nixpkgs' lib (`NIXPKGS_LIB`, else `<nixpkgs/lib>` on `NIX_PATH`; a
//! nixpkgs.lib checkout or its `lib/` directory). When those are missing the tests are reported
//! as ignored with the reason, never as passed; a path that is neither fails loudly.

// Test support: a failed step is a failed test (Cargo.toml [lints] denies these in shipped code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What a test needs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Needs {
    /// `nix-instantiate`.
    Nix,
    /// `nix-instantiate` and nixpkgs' lib.
    NixpkgsLib,
    /// Those and a sops-nix source to compare with (`SOPS_NIX_SRC`).
    SopsNixSrc,
    /// nixfmt (`NIXFMT`, else `nixfmt` on PATH).
    Nixfmt,
}

struct NixTest {
    name: &'static str,
    needs: Needs,
    run: fn(),
}

inventory::collect!(NixTest);

/// Tests that parse Nix files (need `nix-instantiate`).
macro_rules! parse_test {
    ($(fn $name:ident() $body:block)*) => {$(
        fn $name() $body
        inventory::submit! { NixTest { name: stringify!($name), needs: Needs::Nix, run: $name } }
    )*};
}

/// Tests that compare with sops-nix's own modules (also need its source, `SOPS_NIX_SRC`).
macro_rules! sops_nix_test {
    ($(fn $name:ident() $body:block)*) => {$(
        fn $name() $body
        inventory::submit! {
            NixTest { name: stringify!($name), needs: Needs::SopsNixSrc, run: $name }
        }
    )*};
}

/// Tests that run nixfmt (`NIXFMT` or on PATH); ignored with the reason without it.
macro_rules! nixfmt_test {
    ($(fn $name:ident() $body:block)*) => {$(
        fn $name() $body
        inventory::submit! { NixTest { name: stringify!($name), needs: Needs::Nixfmt, run: $name } }
    )*};
}

/// Tests that evaluate the modules (need `nix-instantiate` and nixpkgs' lib).
macro_rules! eval_test {
    ($(fn $name:ident() $body:block)*) => {$(
        fn $name() $body
        inventory::submit! {
            NixTest { name: stringify!($name), needs: Needs::NixpkgsLib, run: $name }
        }
    )*};
}

fn main() {
    // harness = false: a plain test attribute here would compile and never run.
    let plain: Vec<usize> = include_str!("nix_eval.rs")
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with(concat!("#[", "test]")))
        .map(|(n, _)| n + 1)
        .collect();
    assert!(
        plain.is_empty(),
        "tests/nix_eval.rs lines {plain:?}: plain test functions never run here (harness = \
         false); declare them with parse_test! or eval_test!"
    );
    let args = libtest_mimic::Arguments::from_args();
    // Debian's nix-instantiate wants to set up /nix/var as the user; a normal user cannot. No
    // test needs a store (evaluation is --readonly-mode), so a non-root run uses the dummy one.
    if !nix::unistd::geteuid().is_root() && std::env::var_os("NIX_REMOTE").is_none() {
        std::env::set_var("NIX_REMOTE", "dummy://");
    }
    let nix = have_nix();
    let lib = nixpkgs_lib();
    let mut tests: Vec<&'static NixTest> = inventory::iter::<NixTest>.into_iter().collect();
    tests.sort_by_key(|t| t.name);
    let trials = tests
        .into_iter()
        .map(|t| {
            let why = match (t.needs, &lib) {
                (Needs::Nixfmt, _) => nixfmt().err(),
                _ if !nix => Some(
                    "nix-instantiate is not on PATH (Debian: nix-bin; .ci/run installs it)".into(),
                ),
                (Needs::NixpkgsLib | Needs::SopsNixSrc, Err(why)) => Some(why.clone()),
                (Needs::SopsNixSrc, Ok(_)) => sops_nix_src().err(),
                _ => None,
            };
            libtest_mimic::Trial::ignorable_test(t.name, move || match why {
                Some(why) => Ok(libtest_mimic::Completion::ignored_with(why)),
                None => {
                    (t.run)();
                    Ok(libtest_mimic::Completion::Completed)
                }
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

/// The nixpkgs(.lib) checkout root for tests/nix/eval.nix: `NIXPKGS_LIB`, else `<nixpkgs/lib>`
/// found on `NIX_PATH`. Either a checkout root (with `lib/default.nix`) or its `lib/` directory
/// is accepted. Err: why not (unset: the test is ignored with that reason).
fn nixpkgs_lib() -> Result<PathBuf, String> {
    let (given, source) = match std::env::var_os("NIXPKGS_LIB") {
        Some(p) if !p.is_empty() => (PathBuf::from(p), "NIXPKGS_LIB"),
        _ => {
            let found = std::env::var_os("NIX_PATH")
                .filter(|p| !p.is_empty())
                .and_then(|_| {
                    Command::new("nix-instantiate")
                        .args(["--find-file", "nixpkgs/lib"])
                        .output()
                        .ok()
                })
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                .filter(|p| !p.is_empty());
            match found {
                Some(p) => (PathBuf::from(p), "<nixpkgs/lib> on NIX_PATH"),
                None => {
                    return Err("nixpkgs' lib not found: set NIXPKGS_LIB to a \
                                nix-community/nixpkgs.lib checkout (or its lib/ directory), or put \
                                nixpkgs on NIX_PATH"
                        .into())
                }
            }
        }
    };
    let path = given.canonicalize().unwrap_or_else(|e| {
        panic!("{source} = {}: {e}", given.display());
    });
    if path.join("lib/default.nix").is_file() {
        return Ok(path);
    }
    if path.join("default.nix").is_file() && path.join("fixed-points.nix").is_file() {
        if let Some(root) = path.parent() {
            return Ok(root.to_path_buf());
        }
    }
    panic!(
        "{source} = {} is neither a nixpkgs(.lib) checkout (no lib/default.nix) nor its lib/ \
         directory (no default.nix and fixed-points.nix)",
        path.display()
    );
}

/// The nixfmt to run: `NIXFMT`, else `nixfmt` on PATH (nixpkgs' `nixfmt`, RFC 166 style: what
/// the flake's `nixfmt` check and formatter use). Err: why not.
fn nixfmt() -> Result<PathBuf, String> {
    let program = std::env::var_os("NIXFMT")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("nixfmt"));
    match Command::new(&program).arg("--version").output() {
        Ok(o) if o.status.success() => Ok(program),
        _ => Err(format!(
            "{} cannot be run: set NIXFMT to a nixfmt (RFC 166 style) binary or put it on PATH",
            program.display()
        )),
    }
}

fn have_nix() -> bool {
    Command::new("nix-instantiate")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn nix_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            if !matches!(name.as_str(), ".git" | "target" | "fuzz") {
                nix_files(&p, out);
            }
        } else if name.ends_with(".nix") {
            out.push(p);
        }
    }
}

parse_test! {
    fn every_nix_file_parses() {
        let mut files = Vec::new();
        nix_files(&repo(), &mut files);
        assert!(files.len() > 10, "found only {files:?}");
        for f in files {
            let out = Command::new("nix-instantiate")
                .arg("--parse")
                .arg(&f)
                .output()
                .expect("run nix-instantiate");
            assert!(
                out.status.success(),
                "{} does not parse: {}",
                f.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// `nix-instantiate --eval --strict --json` of `file` (relative to the repository) with
/// nixpkgs' lib as `nixpkgsLib` and the extra `args`; the result as JSON. Only called from
/// evaluation tests, which the runner ignores when nixpkgs' lib or nix-instantiate is missing.
fn eval_nix_file(file: &str, args: &[&str]) -> Value {
    let lib = nixpkgs_lib().unwrap_or_else(|why| panic!("{why}"));
    let out = Command::new("nix-instantiate")
        .args(["--eval", "--strict", "--json", "--readonly-mode"])
        .arg(repo().join(file))
        .arg("--arg")
        .arg("nixpkgsLib")
        .arg(&lib)
        .args(args)
        .output()
        .expect("run nix-instantiate");
    assert!(
        out.status.success(),
        "evaluating {file} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("nix-instantiate prints JSON")
}

/// The evaluation of one example of tests/nix/examples.nix (always `Some`).
fn eval(example: &str) -> Option<Value> {
    Some(eval_nix_file(
        "tests/nix/eval.nix",
        &["--argstr", "example", example],
    ))
}

/// Runs `sops-install -check-mode=manifest` on a manifest; returns (success, stderr).
fn check_manifest(manifest: &Value) -> (bool, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("manifest.json");
    std::fs::write(&path, serde_json::to_vec(manifest).expect("json")).expect("write manifest");
    let out = Command::new(env!("CARGO_BIN_EXE_sops-install"))
        .arg("-check-mode=manifest")
        .arg(&path)
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .expect("run sops-install");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_check_passes(manifest: &Value) {
    let (ok, stderr) = check_manifest(manifest);
    assert!(ok, "sops-install -check-mode=manifest failed: {stderr}");
}

fn secret<'a>(manifest: &'a Value, name: &str) -> &'a Value {
    manifest["secrets"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no secret {name} in {manifest}"))
}

/// A manifest value without its store-dependent parts (sopsFile, sopsFileHash, file).
fn without_store_paths(v: &Value) -> Value {
    let mut v = v.clone();
    for list in ["secrets", "templates"] {
        if let Some(items) = v[list].as_array_mut() {
            for item in items {
                if let Some(o) = item.as_object_mut() {
                    for k in ["sopsFile", "sopsFileHash", "file"] {
                        if o.remove(k).is_some() {
                            o.insert(k.to_string(), json!("<store>"));
                        }
                    }
                }
            }
        }
    }
    v
}

eval_test! {
    fn the_nixos_module_writes_the_manifest_of_the_spec_example() {
        let Some(r) = eval("spec-example") else {
            return;
        };
        let m = &r["manifest"];
        assert_eq!(r["failing"], json!([]));
        let expected = json!({
          "ageKeyFile": "/var/lib/sops-nix/key.txt",
          "ageSshKeyPaths": ["/etc/ssh/ssh_host_ed25519_key"],
          "gnupgHome": null,
          "keepGenerations": 1,
          "logging": { "keyImport": true, "secretChanges": true },
          "placeholderBySecretName": {
            "admin-password": "<SOPS:8e70fdbd0400b7a21539fd15fb4ab86c129f7cbd99261dbb0d95c18df8dec177:PLACEHOLDER>",
            "db/password": "<SOPS:4c4bafe61f052e13a786eaf8b0a7ee0af7c39c5ccade2b24c9fbea4914962b9d:PLACEHOLDER>",
            "hass-secrets": "<SOPS:faae3fde93fd929c643d3dc43560d572a9a31476567e8e3c53f145ff462abdd5:PLACEHOLDER>",
            "wg-private-key": "<SOPS:e292fb7097d6257c65fd3dd3b70cb2c41697ecc8729dd325479a45b68c7af91d:PLACEHOLDER>"
          },
          "secrets": [
            { "format": "yaml", "gid": 0, "group": "postgres", "key": "db/password", "mode": "0400",
              "name": "db/password", "neededForUsers": false, "owner": "postgres",
              "path": "/run/secrets/db/password", "reloadUnits": [], "restartUnits": ["postgresql.service"],
              "sopsFile": "<store>", "sopsFileHash": "<store>", "uid": 0 },
            { "format": "json", "gid": 0, "group": "hass", "key": "", "mode": "0400",
              "name": "hass-secrets", "neededForUsers": false, "owner": "hass",
              "path": "/var/lib/hass/secrets.yaml", "reloadUnits": [], "restartUnits": [],
              "sopsFile": "<store>", "sopsFileHash": "<store>", "uid": 0 },
            { "format": "binary", "gid": 0, "group": "systemd-network", "key": "wg-private-key", "mode": "0440",
              "name": "wg-private-key", "neededForUsers": false, "owner": null,
              "path": "/run/secrets/wg-private-key", "reloadUnits": ["systemd-networkd.service"], "restartUnits": [],
              "sopsFile": "<store>", "sopsFileHash": "<store>", "uid": 0 }
          ],
          "secretsMountPoint": "/run/secrets.d",
          "sshKeyPaths": ["/etc/ssh/ssh_host_rsa_key"],
          "symlinkPath": "/run/secrets",
          "templates": [
            { "content": "GF_DATABASE_PASSWORD=<SOPS:4c4bafe61f052e13a786eaf8b0a7ee0af7c39c5ccade2b24c9fbea4914962b9d:PLACEHOLDER>\n",
              "file": "<store>", "gid": 0, "group": "grafana", "mode": "0400", "name": "grafana.env",
              "owner": "grafana", "path": "/run/secrets/rendered/grafana.env", "reloadUnits": [],
              "restartUnits": ["grafana.service"], "uid": 0 }
          ],
          "useTmpfs": false,
          "userMode": false
        });
        assert_eq!(without_store_paths(m), expected);
        // sopsFileHash is the SHA-256 of the file, as sops-nix computes it.
        let hash = secret(m, "db/password")["sopsFileHash"]
            .as_str()
            .unwrap_or("");
        assert_eq!(hash.len(), 64);
        assert!(secret(m, "db/password")["sopsFile"]
            .as_str()
            .is_some_and(|s| s.starts_with("/nix/store/") && s.ends_with("-secrets.yaml")));
        assert_check_passes(m);

        let u = &r["manifestForUsers"];
        assert_eq!(u["secretsMountPoint"], "/run/secrets-for-users.d");
        assert_eq!(u["symlinkPath"], "/run/secrets-for-users");
        assert_eq!(u["templates"], json!([]));
        assert_eq!(u["placeholderBySecretName"], m["placeholderBySecretName"]);
        let admin = secret(u, "admin-password");
        assert_eq!(admin["path"], "/run/secrets-for-users/admin-password");
        assert_eq!(admin["neededForUsers"], true);
        assert_eq!(admin["owner"], Value::Null);
        assert_eq!(admin["group"], Value::Null);
        assert_eq!(u["secrets"].as_array().map(Vec::len), Some(1));
        assert_check_passes(u);

        assert!(r["checkPhase"]
            .as_str()
            .is_some_and(|s| s.contains("/bin/sops-install -check-mode=sopsfile \"$out\"")));
    }
}

eval_test! {
    fn the_activation_scripts_keep_sops_nix_names_order_and_environment() {
        let Some(r) = eval("spec-example") else {
            return;
        };
        let a = &r["activationScripts"];
        assert_eq!(
            a["setupSecrets"]["deps"],
            json!(["specialfs", "users", "groups"])
        );
        assert_eq!(a["setupSecrets"]["supportsDryActivation"], true);
        let text = a["setupSecrets"]["text"].as_str().unwrap_or("");
        assert!(text.starts_with("[ -e /run/current-system ] || echo setting up secrets...\n"));
        assert!(text.contains("export HOME='/var/empty'\n"), "{text}");
        // Issue 12 item 9: an empty PATH is never exported (execvp reads it as the working
        // directory); without plugins the installer keeps activation's PATH.
        assert!(!text.contains("export PATH=''"), "{text}");
        assert!(
            text.contains("/bin/sops-install-secrets /nix/store/"),
            "{text}"
        );
        let users = a["setupSecretsForUsers"]["text"].as_str().unwrap_or("");
        assert!(
            users.contains("sops-install-secrets -ignore-passwd "),
            "{users}"
        );
        assert!(users.contains("-manifest-for-users.json"), "{users}");
        assert_eq!(a["users"]["deps"], json!(["setupSecretsForUsers"]));
        assert!(r["services"].as_object().is_some_and(|s| s.is_empty()));
    }
}

eval_test! {
    fn placeholders_are_keyed_by_the_name_the_installer_looks_up() {
        let Some(r) = eval("placeholders") else {
            return;
        };
        let m = &r["manifest"];
        let p = &m["placeholderBySecretName"];
        // The attribute `renamed` (name "on-disk-name") keeps its attribute's placeholder.
        assert_eq!(
            p["on-disk-name"],
            "<SOPS:017e9e217af8bbb732e91d3f534e0702b9f492edd2c3a9994383aa9bfa700f77:PLACEHOLDER>"
        );
        assert_eq!(r["placeholder"]["renamed"], p["on-disk-name"]);
        assert_eq!(r["placeholder"]["test_key"], p["test_key"]);
        let content = m["templates"][0]["content"].as_str().unwrap_or("");
        assert_eq!(
            content,
            format!(
                "{} {}\n",
                p["test_key"].as_str().unwrap_or("?"),
                p["on-disk-name"].as_str().unwrap_or("?")
            )
        );
        assert_check_passes(m);
    }
}

eval_test! {
    fn sysusers_installs_both_manifests_from_units_ordered_before_sysinit() {
        let Some(r) = eval("sysusers") else { return };
        let s = &r["services"]["sops-install-secrets"];
        assert_eq!(s["wantedBy"], json!(["sysinit.target"]));
        assert_eq!(s["requiredBy"], json!(["sysinit-reactivation.target"]));
        assert!(s["before"]
            .as_array()
            .is_some_and(|b| b.contains(&json!("sysinit.target"))));
        assert!(s["after"]
            .as_array()
            .is_some_and(|b| b.contains(&json!("systemd-sysusers.service"))));
        assert_eq!(s["unitConfig"]["DefaultDependencies"], "no");
        assert_eq!(
            s["unitConfig"]["RequiresMountsFor"],
            json!(["/var/lib/sops-nix/key.txt"])
        );
        assert_eq!(s["environment"]["SOPS_RESTART_UNITS_VIA_SYSTEMCTL"], "1");
        assert_eq!(s["environment"]["FOO"], "bar");
        assert_eq!(s["serviceConfig"]["Type"], "oneshot");
        assert_eq!(s["serviceConfig"]["RemainAfterExit"], true);
        assert!(s["path"].as_array().is_some_and(|p| p.len() == 1));

        let u = &r["services"]["sops-install-secrets-for-users"];
        assert_eq!(u["wantedBy"], json!(["systemd-sysusers.service"]));
        assert_eq!(
            u["before"],
            json!(["systemd-sysusers.service", "sysinit.target"])
        );
        assert!(u["serviceConfig"]["ExecStart"][0]
            .as_str()
            .is_some_and(|e| e.contains("sops-install-secrets -ignore-passwd ")));

        let a = r["activationScripts"]
            .as_object()
            .expect("activation scripts");
        assert!(!a.contains_key("setupSecrets") && !a.contains_key("setupSecretsForUsers"));
        let gen = a["generate-age-key"]["text"].as_str().unwrap_or("");
        assert!(
            gen.contains("age-keygen -o /var/lib/sops-nix/key.txt"),
            "{gen}"
        );
        // age.generateKey: the units wait for the key made by a unit of its own.
        let g = &r["services"]["sops-generate-age-key"];
        assert_eq!(g["before"], json!(["sysinit.target"]));
        assert_eq!(g["unitConfig"]["DefaultDependencies"], "no");
        assert!(g["script"]
            .as_str()
            .is_some_and(|t| t.contains("age-keygen -o /var/lib/sops-nix/key.txt")));
        for unit in [s, u] {
            for field in ["after", "wants"] {
                assert!(
                    unit[field]
                        .as_array()
                        .is_some_and(|a| a.contains(&json!("sops-generate-age-key.service"))),
                    "{field}: {unit}"
                );
            }
        }
        assert_check_passes(&r["manifest"]);
        assert_check_passes(&r["manifestForUsers"]);
    }
}

eval_test! {
    fn mount_point_and_symlink_path_are_configurable() {
        let Some(r) = eval("custom-paths") else {
            return;
        };
        let m = &r["manifest"];
        assert_eq!(m["symlinkPath"], "/run/keys/sops");
        assert_eq!(m["secretsMountPoint"], "/run/keys/sops.d");
        assert_eq!(m["keepGenerations"], 3);
        assert_eq!(m["useTmpfs"], true);
        assert_eq!(
            m["logging"],
            json!({"keyImport": false, "secretChanges": true})
        );
        assert_eq!(secret(m, "test_key")["path"], "/run/keys/sops/test_key");
        let u = &r["manifestForUsers"];
        assert_eq!(
            secret(u, "password")["path"],
            "/run/secrets-for-users/password"
        );
        // Values are quoted but not escaped, so command substitution works as in sops-nix.
        let text = r["activationScripts"]["setupSecrets"]["text"]
            .as_str()
            .unwrap_or("");
        assert!(
            text.contains("export SOPS_AGE_KEY_CMD='$(cat /etc/cmd)'"),
            "{text}"
        );
        assert_check_passes(m);
        assert_check_passes(u);
    }
}

eval_test! {
    fn without_validation_the_build_checks_the_manifest_only() {
        let Some(r) = eval("no-validation") else {
            return;
        };
        assert!(r["checkPhase"]
            .as_str()
            .is_some_and(|s| s.contains("-check-mode=manifest")));
        let s = secret(&r["manifest"], "runtime");
        assert_eq!(s["sopsFile"], "/etc/secrets/runtime.yaml");
        assert_eq!(s["sopsFileHash"], "");
        // The owner/uid exclusivity is only asserted with validation, as in sops-nix.
        assert_eq!(r["failing"], json!([]));
        assert_eq!(r["checkScript"], "");
    }
}

eval_test! {
    fn a_missing_key_source_fails_with_sops_nix_message() {
        let Some(r) = eval("no-key-source") else {
            return;
        };
        assert_eq!(
            r["failing"],
            json!(["No key source configured for sops. Either set services.openssh.enable or set sops.age.keyFile or sops.gnupg.home"])
        );
    }
}

/// Runs a host-recipient check script with the store paths mapped back to the assets.
fn run_host_check(script: &str) -> (bool, String) {
    let assets = repo().join("nix/tests/assets");
    // The stub package's installer is the one cargo built.
    let script = script.replace(
        "/nix/store/00000000000000000000000000000000-sops-install-0.1.0/bin/sops-install",
        env!("CARGO_BIN_EXE_sops-install"),
    );
    let re = regex::Regex::new(r"/nix/store/[a-z0-9]{32}-").expect("regex");
    let script = re.replace_all(&script, format!("{}/", assets.display()).as_str());
    let out = Command::new("bash")
        .arg("-euc")
        .arg(script.as_ref())
        .output()
        .expect("run bash");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

eval_test! {
    fn host_recipients_reject_a_file_not_encrypted_to_the_host_in_any_format() {
        let Some(r) = eval("host-recipients") else {
            return;
        };
        let (ok, stderr) = run_host_check(r["checkScript"].as_str().unwrap_or(""));
        assert!(!ok);
        // Only foreign.yaml is flagged; yaml, json, binary, dotenv and ini files all match.
        assert_eq!(
            stderr.matches("is not encrypted to this host").count(),
            1,
            "{stderr}"
        );
        assert!(
            stderr.contains("foreign.yaml (used by foreign)"),
            "{stderr}"
        );
        assert!(stderr.contains("sops updatekeys "), "{stderr}");
        assert!(r["checkPhase"]
            .as_str()
            .is_some_and(|s| s.contains("sops_host_check")));
        assert!(
            stderr.contains("none of the host recipients is among its recipients"),
            "{stderr}"
        );
    }
}

eval_test! {
    fn a_pgp_host_fingerprint_matches_and_foreign_files_still_fail() {
        let Some(r) = eval("host-recipients-pgp-only") else {
            return;
        };
        let (ok, stderr) = run_host_check(r["checkScript"].as_str().unwrap_or(""));
        assert!(!ok);
        assert_eq!(
            stderr.matches("is not encrypted to this host").count(),
            1,
            "{stderr}"
        );
        assert!(
            stderr.contains("foreign.yaml (used by foreign)"),
            "{stderr}"
        );
    }
}

eval_test! {
    fn an_ssh_host_recipient_matches_without_its_comment() {
        let Some(r) = eval("host-recipients-ssh-only") else {
            return;
        };
        let (ok, stderr) = run_host_check(r["checkScript"].as_str().unwrap_or(""));
        assert!(ok, "{stderr}");
    }
}

eval_test! {
    fn the_home_manager_module_writes_the_manifest_of_the_spec_example() {
        let Some(r) = eval("home-example") else {
            return;
        };
        let m = &r["manifest"];
        let expected = json!({
          "ageKeyFile": "/home/alice/.config/sops/age/keys.txt",
          "ageSshKeyPaths": [],
          "gnupgHome": null,
          "keepGenerations": 1,
          "logging": { "keyImport": true, "secretChanges": true },
          "placeholderBySecretName": {
            "github_token": "<SOPS:dfabe2151a6a225ce47a1fc94fab274d1c9643ae5a9fe9e290740ee087205e2b:PLACEHOLDER>",
            "smtp_password": "<SOPS:f20b0eadcf7cc701c176a0be3a9391b750f391b03f2ca0dc3fab0cba46dbb651:PLACEHOLDER>"
          },
          "secrets": [
            { "format": "yaml", "key": "github_token", "mode": "0400", "name": "github_token",
              "path": "/home/alice/.config/sops-nix/secrets/github_token", "sopsFile": "<store>" },
            { "format": "yaml", "key": "smtp_password", "mode": "0400", "name": "smtp_password",
              "path": "%r/smtp_password", "sopsFile": "<store>" }
          ],
          "secretsMountPoint": "%r/secrets.d",
          "sshKeyPaths": [],
          "symlinkPath": "/home/alice/.config/sops-nix/secrets",
          "templates": [
            { "content": "https://alice:<SOPS:dfabe2151a6a225ce47a1fc94fab274d1c9643ae5a9fe9e290740ee087205e2b:PLACEHOLDER>@github.com\n",
              "file": "<store>", "mode": "0400", "name": "git-credentials",
              "path": "/home/alice/.config/sops-nix/secrets/rendered/git-credentials" }
          ],
          "userMode": true
        });
        assert_eq!(without_store_paths(m), expected);
        assert_check_passes(m);

        let s = &r["service"];
        assert_eq!(s["Unit"]["Description"], "sops-nix activation");
        assert_eq!(s["Service"]["Type"], "oneshot");
        // No empty PATH (issue 12 item 9): without plugins or a PATH of the user's, none is set.
        assert_eq!(s["Service"]["Environment"], "");
        assert_eq!(s["Install"]["WantedBy"], json!(["default.target"]));
        let script = r["script"].as_str().unwrap_or("");
        assert!(script.contains("age-keygen -o /home/alice/.config/sops/age/keys.txt"));
        assert!(script.contains("sops-install-secrets -ignore-passwd /nix/store/"));
        assert!(r["activation"]["data"]
            .as_str()
            .is_some_and(|d| d.contains("systemctl restart --user sops-nix")));
        assert_eq!(r["agent"], Value::Null);
    }
}

eval_test! {
    fn the_home_manager_module_uses_a_launchd_agent_on_darwin() {
        let Some(r) = eval("home-darwin") else { return };
        let a = &r["agent"]["config"];
        assert_eq!(a["RunAtLoad"], true);
        assert_eq!(a["KeepAlive"], false);
        assert_eq!(
            a["EnvironmentVariables"]["PATH"],
            "/usr/bin:/bin:/usr/sbin:/sbin"
        );
        assert!(a["EnvironmentVariables"]["SOPS_GPG_EXEC"]
            .as_str()
            .is_some_and(|e| e.ends_with("/bin/gpg")));
        assert_eq!(
            a["StandardOutPath"],
            "/home/alice/Library/Logs/SopsNix/stdout"
        );
        assert_eq!(r["service"], Value::Null);
        assert!(r["activation"]["data"]
            .as_str()
            .is_some_and(|d| d.contains("org.nix-community.home.sops-nix.plist")));
        assert_check_passes(&r["manifest"]);
    }
}

eval_test! {
    fn the_darwin_module_installs_from_post_activation_and_launchd_daemons() {
        let Some(r) = eval("darwin") else { return };
        let m = &r["manifest"];
        let s = secret(m, "test_key");
        assert_eq!(s["owner"], "root");
        assert_eq!(s["group"], "staff");
        assert!(s.get("restartUnits").is_none());
        assert_eq!(m["useTmpfs"], false);
        assert_check_passes(m);
        assert_check_passes(&r["manifestForUsers"]);
        let post = r["postActivation"].as_str().unwrap_or("");
        assert!(post.contains("echo \"Setting up secrets...\""), "{post}");
        assert!(
            post.contains("echo \"Setting up secrets for users\""),
            "{post}"
        );
        // Plugins do not hide the system tools the installer needs.
        assert!(
            post.contains("age-plugin-yubikey/bin:/usr/bin:/bin:/usr/sbin:/sbin'"),
            "{post}"
        );
        assert!(post.contains("/bin/mkdir -p"), "{post}");
        let d = &r["daemons"]["sops-install-secrets"]["serviceConfig"];
        assert_eq!(d["RunAtLoad"], true);
        assert_eq!(d["KeepAlive"], false);
        assert_eq!(d["ProgramArguments"][0], "/bin/sh");
        assert!(r["daemons"]["sops-install-secrets-for-users"].is_object());
    }
}

// The daemons on nix-darwin read the manifest through /etc, which every activation points at
// the current one, so a daemon left loaded from an older generation cannot apply an old
// manifest (sops-nix #974); activation itself installs its own generation's manifest.
eval_test! {
    fn darwin_daemons_read_the_manifest_through_a_stable_etc_path() {
        let Some(r) = eval("darwin") else { return };
        let store = r["manifestFile"].as_str().unwrap_or("");
        let store_users = r["manifestFileForUsers"].as_str().unwrap_or("");
        assert!(store.ends_with("-manifest.json"), "{store}");
        assert!(
            store_users.ends_with("-manifest-for-users.json"),
            "{store_users}"
        );
        assert_eq!(r["etc"]["sops-install/manifest.json"]["source"], store);
        assert_eq!(
            r["etc"]["sops-install/manifest-for-users.json"]["source"],
            store_users
        );
        let daemon = |name: &str| {
            r["daemons"][name]["serviceConfig"]["ProgramArguments"][2]
                .as_str()
                .unwrap_or("")
                .to_string()
        };
        let d = daemon("sops-install-secrets");
        assert!(
            d.contains("/bin/sops-install-secrets /etc/sops-install/manifest.json\n"),
            "{d}"
        );
        assert!(!d.contains(store), "{d}");
        let u = daemon("sops-install-secrets-for-users");
        assert!(
            u.contains(
                "/bin/sops-install-secrets -ignore-passwd /etc/sops-install/manifest-for-users.json\n"
            ),
            "{u}"
        );
        assert!(!u.contains(store_users), "{u}");
        let post = r["postActivation"].as_str().unwrap_or("");
        assert!(
            post.contains(&format!("/bin/sops-install-secrets {store}\n")),
            "{post}"
        );
        assert!(
            post.contains(&format!("-ignore-passwd {store_users}\n")),
            "{post}"
        );
    }
}

// home-manager on macOS: the launchd agent reads the manifest through a file home-manager
// links to the current one, and is restarted only once that link is in place; on Linux the
// unit, restarted on every activation, keeps the store path.
eval_test! {
    fn the_home_manager_agent_reads_the_manifest_through_a_stable_path() {
        let Some(r) = eval("home-darwin") else { return };
        let store = r["manifestFile"].as_str().unwrap_or("");
        assert!(store.ends_with("-manifest.json"), "{store}");
        assert_eq!(r["configFile"]["sops-nix/manifest.json"]["source"], store);
        let script = r["script"].as_str().unwrap_or("");
        assert!(
            script.contains("-ignore-passwd /home/alice/.config/sops-nix/manifest.json\n"),
            "{script}"
        );
        assert!(!script.contains(store), "{script}");
        let after = r["activation"]["after"].to_string();
        assert!(after.contains("\"linkGeneration\""), "{after}");
        assert!(after.contains("\"setupLaunchAgents\""), "{after}");

        let Some(l) = eval("home-example") else {
            return;
        };
        let store = l["manifestFile"].as_str().unwrap_or("");
        let script = l["script"].as_str().unwrap_or("");
        assert!(
            script.contains(&format!("-ignore-passwd {store}\n")),
            "{script}"
        );
        assert_eq!(l["configFile"], json!({}));
    }
}

/// The activation snippet run by bash with the installer swapped for a probe printing the
/// PATH it was started with.
fn path_seen_by_installer(text: &str, installer_args: &str) -> String {
    let installer = format!(
        "{}/bin/sops-install-secrets {installer_args}",
        fake_store_path("sops-install-0.1.0")
    );
    assert!(text.contains(&installer), "{text}");
    let probe = text.replace(&installer, "printf 'PATH=%s\\n' \"$PATH\" # ");
    let out = Command::new("bash")
        .arg("-c")
        .arg(probe)
        .env("PATH", "/usr/bin:/bin")
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("PATH="))
        .unwrap_or_else(|| panic!("the probe did not run: {stdout}"))
        .to_string()
}

fn fake_store_path(name: &str) -> String {
    format!("/nix/store/00000000000000000000000000000000-{name}")
}

eval_test! {
    fn age_plugins_are_on_the_installers_path_in_every_module() {
        let Some(r) = eval("plugins") else { return };
        let bins = format!(
            "{}/bin:{}/bin",
            fake_store_path("age-plugin-yubikey"),
            fake_store_path("age-plugin-sopstest")
        );
        let a = &r["activationScripts"];
        let text = a["setupSecrets"]["text"].as_str().unwrap_or("");
        assert_eq!(path_seen_by_installer(text, "/nix/store/"), bins);
        let users = a["setupSecretsForUsers"]["text"].as_str().unwrap_or("");
        assert_eq!(path_seen_by_installer(users, "-ignore-passwd"), bins);

        // From units, systemd's `path` holds the plugin packages.
        let Some(s) = eval("sysusers") else { return };
        for unit in ["sops-install-secrets", "sops-install-secrets-for-users"] {
            let path = s["services"][unit]["path"].to_string();
            assert!(path.contains("age-plugin-yubikey"), "{unit}: {path}");
        }

        // home-manager's unit: the plugins, then the user's PATH.
        let Some(h) = eval("home-plugins") else {
            return;
        };
        assert_eq!(
            h["service"]["Service"]["Environment"],
            format!(
                "'PATH={}/bin:/home/alice/bin'",
                fake_store_path("age-plugin-sopstest")
            )
        );
    }
}

/// The sops-nix source the comparison evaluates: `SOPS_NIX_SRC`, else the copy `.ci/run`'s
/// tools cache holds (`~/.cache/sops-install-tools/src/sops-nix`). Missing, the comparison is
/// ignored with this reason (never passed); `.ci/run` fails on any ignored test.
fn sops_nix_src() -> Result<PathBuf, String> {
    let dir = match std::env::var_os("SOPS_NIX_SRC") {
        Some(d) => PathBuf::from(d),
        None => std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_default()
            .join("sops-install-tools/src/sops-nix"),
    };
    if dir.join("modules/sops/manifest-for.nix").is_file() {
        return Ok(dir);
    }
    Err(format!(
        "no sops-nix source at {}: set SOPS_NIX_SRC to a sops-nix checkout (commit 56b24064fdca)",
        dir.display()
    ))
}

sops_nix_test! {
    fn key_paths_given_as_nix_paths_give_sops_nix_manifests() {
        let lib = nixpkgs_lib().unwrap_or_else(|why| panic!("{why}"));
        let src = sops_nix_src().unwrap_or_else(|why| panic!("{why}"));
        let out = Command::new("nix-instantiate")
            .args(["--eval", "--strict", "--json", "--readonly-mode"])
            .arg(repo().join("tests/nix/compare-sops-nix.nix"))
            .arg("--arg")
            .arg("nixpkgsLib")
            .arg(&lib)
            .arg("--arg")
            .arg("sopsNix")
            .arg(src.canonicalize().expect("sops-nix source"))
            .output()
            .expect("run nix-instantiate");
        assert!(
            out.status.success(),
            "evaluating the comparison failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let parse = |k: &str| -> Value {
            serde_json::from_str(r[k].as_str().expect("manifest text")).expect("manifest JSON")
        };
        let (ours, theirs) = (parse("ours"), parse("theirs"));
        assert_eq!(ours, theirs);
        assert_eq!(parse("oursForUsers"), parse("theirsForUsers"));
        let home = parse("oursHome");
        assert_eq!(home, parse("theirsHome"), "home-manager");
        assert!(home["ageSshKeyPaths"][0]
            .as_str()
            .is_some_and(|p| p.starts_with("/nix/store/") && p.ends_with("-ssh-ed25519-key")));
        assert_eq!(r["oursHomeWarnings"].as_array().map(Vec::len), Some(2));
        // The keys are store copies, not the build host's source paths.
        for k in [
            &ours["ageKeyFile"],
            &ours["ageSshKeyPaths"][0],
            &ours["sshKeyPaths"][0],
        ] {
            let p = k.as_str().unwrap_or("");
            assert!(p.starts_with("/nix/store/"), "{k} is not a store path");
        }
        assert!(ours["ageSshKeyPaths"][0]
            .as_str()
            .is_some_and(|p| p.ends_with("-ssh-ed25519-key")));
        let warnings = r["oursWarnings"].as_array().expect("warnings");
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        for (w, option) in warnings.iter().zip([
            "sops.age.sshKeyPaths",
            "sops.gnupg.sshKeyPaths",
            "sops.age.keyFile",
        ]) {
            let w = w.as_str().unwrap_or("");
            assert!(
                w.starts_with(option) && w.contains("world-readable") && w.contains("as a string"),
                "{w}"
            );
        }
    }
}

eval_test! {
    fn key_paths_given_as_strings_stay_strings_without_warning() {
        let Some(r) = eval("spec-example") else {
            return;
        };
        assert_eq!(r["warnings"], json!([]));
        assert_eq!(
            r["manifest"]["ageSshKeyPaths"],
            json!(["/etc/ssh/ssh_host_ed25519_key"])
        );
    }
}

/// Evaluates tests/nix/flakes.nix (both flakes with a stand-in nixpkgs).
fn eval_flakes() -> Option<Value> {
    Some(eval_nix_file("tests/nix/flakes.nix", &[]))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

eval_test! {
    fn the_public_flake_takes_only_nixpkgs_and_the_dev_flake_runs_every_check() {
        let Some(r) = eval_flakes() else {
            return;
        };
        assert_eq!(r["publicInputs"], json!(["nixpkgs"]));
        assert_eq!(
            r["devInputs"],
            json!({
                "home-manager": "github:nix-community/home-manager",
                "nix-darwin": "github:LnL7/nix-darwin",
                "nixpkgs": "github:NixOS/nixpkgs/nixpkgs-unstable",
                "sops-install": "path:../.."
            })
        );
        for system in [
            "x86_64-linux",
            "aarch64-linux",
            "x86_64-darwin",
            "aarch64-darwin",
        ] {
            let public = strings(&r["publicChecks"][system]);
            let dev = strings(&r["devChecks"][system]);
            assert!(public.contains(&"nixos-manifest".to_string()), "{public:?}");
            assert!(!public.contains(&"home-manager".to_string()), "{public:?}");
            for c in &public {
                assert!(dev.contains(c), "{system}: dev flake lacks {c}");
            }
            assert!(dev.contains(&"home-manager".to_string()), "{dev:?}");
            assert_eq!(
                dev.contains(&"darwin-sops".to_string()),
                system.ends_with("darwin"),
                "{system}: {dev:?}"
            );
            assert_eq!(
                public.contains(&"user-passwords".to_string()),
                system.ends_with("linux"),
                "{system}: VM tests on Linux only"
            );
        }
    }
}

eval_test! {
    fn the_flake_exports_sops_nix_package_names() {
        let Some(r) = eval_flakes() else {
            return;
        };
        let want = [
            "sops-import-keys-hook",
            "sops-init-gpg-key",
            "sops-install-secrets",
            "ssh-to-pgp",
        ];
        for system in ["x86_64-linux", "aarch64-darwin"] {
            let got = strings(&r["packages"][system]);
            for p in want {
                assert!(got.contains(&p.to_string()), "{system}: no {p} in {got:?}");
            }
        }
        let overlay = strings(&r["overlay"]);
        for p in want {
            assert!(
                overlay.contains(&p.to_string()),
                "overlay lacks {p}: {overlay:?}"
            );
        }
    }
}

/// The nodes of a flake.lock, read as JSON.
fn lock(path: &str) -> Value {
    let text = std::fs::read_to_string(repo().join(path)).expect("lock file");
    serde_json::from_str(&text).expect("lock JSON")
}

eval_test! {
    fn the_lock_files_hold_exactly_each_flakes_inputs() {
        let public = lock("flake.lock");
        assert_eq!(public["version"], 7);
        assert_eq!(
            public["nodes"]["root"]["inputs"],
            json!({ "nixpkgs": "nixpkgs" })
        );
        let nodes = public["nodes"].as_object().expect("nodes");
        assert_eq!(nodes.len(), 2, "only root and nixpkgs: {nodes:?}");

        let dev = lock("nix/dev/flake.lock");
        let root = &dev["nodes"]["root"]["inputs"];
        for input in ["home-manager", "nix-darwin", "nixpkgs", "sops-install"] {
            let node = root[input].as_str().expect("input node");
            let locked = &dev["nodes"][node]["locked"];
            assert!(locked.is_object(), "{input} is not locked");
            if locked["type"] == "github" {
                assert!(locked["narHash"]
                    .as_str()
                    .is_some_and(|h| h.starts_with("sha256-")));
                assert_eq!(locked["rev"].as_str().map(str::len), Some(40));
            }
            if input != "nixpkgs" {
                assert_eq!(
                    dev["nodes"][node]["inputs"]["nixpkgs"],
                    json!(["nixpkgs"]),
                    "{input}"
                );
            }
        }
        assert_eq!(
            dev["nodes"]["sops-install"]["locked"],
            json!({ "path": "../..", "type": "path" })
        );
        // Both flakes, and the example's, pin the same nixpkgs.
        assert_eq!(public["nodes"]["nixpkgs"], dev["nodes"]["nixpkgs"]);
        let example = lock("examples/nixos/flake.lock");
        assert_eq!(example["nodes"]["nixpkgs"], public["nodes"]["nixpkgs"]);
        assert_eq!(
            example["nodes"]["root"]["inputs"],
            json!({ "nixpkgs": "nixpkgs", "sops-nix": "sops-nix" })
        );
        assert_eq!(
            example["nodes"]["sops-nix"]["inputs"]["nixpkgs"],
            json!(["nixpkgs"])
        );
    }
}

/// Evaluates tests/nix/vm-tests.nix: every VM test's nodes and script.
fn eval_vm_tests() -> Option<Value> {
    Some(eval_nix_file("tests/nix/vm-tests.nix", &[]))
}

/// Parses a test script as Python 3 (what the NixOS test driver runs); the error if it fails.
fn python_parse_error(script: &str) -> Option<String> {
    let out = Command::new("python3")
        .args(["-c", "import ast, sys; ast.parse(sys.stdin.read())"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            if let Some(mut stdin) = child.stdin.take() {
                stdin.write_all(script.as_bytes())?;
            }
            child.wait_with_output()
        })
        .expect("python3 runs");
    (!out.status.success()).then(|| String::from_utf8_lossy(&out.stderr).into_owned())
}

eval_test! {
    fn every_vm_test_evaluates_and_its_script_parses() {
        let Some(r) = eval_vm_tests() else {
            return;
        };
        let tests = r.as_object().expect("tests");
        for name in [
            "ssh-keys",
            "rsa-host-key-age",
            "age-keys",
            "pgp-keys",
            "user-passwords",
        ] {
            assert!(tests.contains_key(name), "no VM test {name}");
        }
        for (name, t) in tests {
            let script = t["testScript"].as_str().unwrap_or("");
            assert!(script.contains("start_all()"), "{name}: {script}");
            if let Some(e) = python_parse_error(script) {
                panic!("{name}: the test script does not parse: {e}");
            }
            let nodes = t["nodes"].as_object().expect("nodes");
            assert!(!nodes.is_empty(), "{name}");
            for (node, n) in nodes {
                let specialisations = n["specialisations"]
                    .as_object()
                    .cloned()
                    .unwrap_or_default();
                let configs = std::iter::once((node.clone(), n.clone())).chain(
                    specialisations
                        .into_iter()
                        .map(|(s, v)| (format!("{node} specialisation {s}"), v)),
                );
                for (what, c) in configs {
                    assert_eq!(c["failing"], json!([]), "{name}.{what}");
                    for key in ["manifest", "manifestForUsers"] {
                        let m: Value =
                            serde_json::from_str(c[key].as_str().unwrap_or("")).expect("manifest JSON");
                        let (ok, stderr) = check_manifest(&m);
                        assert!(ok, "{name}.{what} {key}: {stderr}");
                    }
                }
            }
        }
    }
}

eval_test! {
    fn the_rsa_vm_tests_use_the_key_as_sops_nix_does() {
        let Some(r) = eval_vm_tests() else {
            return;
        };
        let manifest = |t: &str, n: &str| -> Value {
            serde_json::from_str(r[t]["nodes"][n]["manifest"].as_str().unwrap_or("")).expect("JSON")
        };
        // ssh-keys: the host key given as a Nix path reaches the manifest as its store copy.
        let m = manifest("ssh-keys", "server");
        assert!(
            m["sshKeyPaths"][0]
                .as_str()
                .is_some_and(|p| p.starts_with("/nix/store/") && p.ends_with("-ssh-rsa-key")),
            "{m}"
        );
        assert_eq!(m["ageSshKeyPaths"], json!([]));
        let warnings = strings(&r["ssh-keys"]["nodes"]["server"]["warnings"]);
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("sops.gnupg.sshKeyPaths") && w.contains("world-readable")),
            "{warnings:?}"
        );
        // rsa-host-key-age: only sshKeyPaths, no age source at all.
        let m = manifest("rsa-host-key-age", "machine");
        assert_eq!(m["sshKeyPaths"], json!(["/etc/ssh/ssh_host_rsa_key"]));
        assert_eq!(m["ageSshKeyPaths"], json!([]));
        assert_eq!(m["ageKeyFile"], Value::Null);
    }
}

eval_test! {
    fn the_rsa_test_assets_open_with_the_rsa_key_only() {
        let assets = repo().join("nix/tests/assets");
        let key = assets.join("ssh-rsa-key");
        for (flag, file) in [
            ("--pgp-ssh-key", "rsa-pgp.yaml"),
            ("--ssh-key", "rsa-ssh.yaml"),
        ] {
            let out = Command::new(env!("CARGO_BIN_EXE_sops-install"))
                .args(["decrypt", flag])
                .arg(&key)
                .arg(assets.join(file))
                .env_remove("SOPS_AGE_KEY_FILE")
                .env_remove("SOPS_AGE_KEY")
                .env("SOPS_GPG_EXEC", "/nonexistent/gpg")
                .output()
                .expect("sops-install runs");
            assert!(
                out.status.success(),
                "{file}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                "test_key: test_value\n",
                "{file}"
            );
        }
    }
}

eval_test! {
    fn the_nixos_example_evaluates_from_its_flake_and_through_the_non_flake_path() {
        let lib = nixpkgs_lib().unwrap_or_else(|why| panic!("{why}"));
        let out = Command::new("nix-instantiate")
            .args(["--eval", "--strict", "--json", "--readonly-mode"])
            .arg(repo().join("tests/nix/example-nixos.nix"))
            .arg("--arg")
            .arg("nixpkgsLib")
            .arg(&lib)
            .output()
            .expect("run nix-instantiate");
        assert!(
            out.status.success(),
            "evaluating examples/nixos failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let ex = &r["example"];
        assert_eq!(ex["failing"], json!([]));
        assert_eq!(ex["warnings"], json!([]));
        assert_eq!(r["inputs"]["sops-nix"], "path:../..");
        assert_eq!(
            r["inputs"]["nixpkgs"],
            "github:NixOS/nixpkgs/nixpkgs-unstable"
        );
        let parse = |v: &Value| -> Value {
            serde_json::from_str(v.as_str().unwrap_or("")).expect("manifest JSON")
        };
        let (m, u) = (parse(&ex["manifest"]), parse(&ex["manifestForUsers"]));
        // The non-flake import path (modules/sops) gives the same system.
        assert_eq!(parse(&r["nonFlakeManifest"]), m);
        assert_eq!(parse(&r["nonFlakeManifestForUsers"]), u);

        // The service reads the rendered template and restarts with its secrets.
        assert_eq!(
            ex["environmentFiles"]["myapp"],
            "/run/secrets/rendered/myapp.env"
        );
        assert_eq!(
            ex["templatePaths"]["myapp.env"],
            "/run/secrets/rendered/myapp.env"
        );
        for s in ["myapp/api-token", "myapp/db-password"] {
            assert_eq!(
                secret(&m, s)["restartUnits"],
                json!(["myapp.service"]),
                "{s}"
            );
        }
        assert_eq!(m["templates"][0]["restartUnits"], json!(["myapp.service"]));
        // The password is installed before the users, where the user's option points.
        assert_eq!(
            ex["userPasswordFiles"]["alice"],
            "/run/secrets-for-users/alice-password"
        );
        assert_eq!(secret(&u, "alice-password")["neededForUsers"], true);

        // The build-time check (sopsfile mode) passes on the example's sops file, and the demo key
        // opens it.
        let secrets = repo().join("examples/nixos/secrets/secrets.yaml");
        for manifest in [&m, &u] {
            let mut local = manifest.clone();
            for s in local["secrets"].as_array_mut().expect("secrets") {
                s["sopsFile"] = json!(secrets);
            }
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("manifest.json");
            std::fs::write(&path, serde_json::to_vec(&local).expect("json")).expect("write");
            let out = Command::new(env!("CARGO_BIN_EXE_sops-install"))
                .arg("-check-mode=sopsfile")
                .arg(&path)
                .env_remove("XDG_RUNTIME_DIR")
                .output()
                .expect("run sops-install");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let out = Command::new(env!("CARGO_BIN_EXE_sops-install"))
            .args([
                "decrypt",
                "--extract",
                "[\"myapp\"][\"api-token\"]",
                "--age-key-file",
            ])
            .arg(repo().join("examples/keys/age-key.txt"))
            .arg(&secrets)
            .env_remove("SOPS_AGE_KEY_FILE")
            .env_remove("SOPS_AGE_KEY")
            .output()
            .expect("run sops-install");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "example-api-token");
    }
}

eval_test! {
    fn hostile_paths_unit_names_recipients_and_environment_names_fail_the_build() {
        let Some(r) = eval("hostile") else {
            return;
        };
        let mut failing: Vec<String> = r["failing"]
            .as_array()
            .expect("list")
            .iter()
            .map(|m| m.as_str().unwrap_or_default().to_string())
            .collect();
        failing.sort();
        assert_eq!(
            failing,
            vec![
                "sops.environment: \"A B\" is not a shell variable name",
                "sops.hostRecipients: an entry is empty; it would match every file",
                "sops.secrets.a: path /run/secrets/b is also the default path of sops.secrets.b",
                "sops.secrets.b: \"b.service\\nc.service\" is not a systemd unit name (letters, digits and \":_.\\@-\", ending in a unit type such as .service)",
                "sops.secrets.c: path /run/secrets.d/1/c is inside the secrets mount point /run/secrets.d",
                "sops.secrets.d: path /etc/x is also the path of sops.templates.t",
                "sops.secrets.e: \"--root=/tmp\" is not a systemd unit name (letters, digits and \":_.\\@-\", ending in a unit type such as .service)",
                "sops.secrets.e: \"nginx\" is not a systemd unit name (letters, digits and \":_.\\@-\", ending in a unit type such as .service)",
                "sops.templates.t: path /etc/x is also the path of sops.secrets.d",
            ]
        );
    }
}

eval_test! {
    fn an_age_key_file_in_the_store_is_refused_however_it_is_spelt() {
        let lib = nixpkgs_lib().unwrap_or_else(|why| panic!("{why}"));
        let out = Command::new("nix-instantiate")
            .args(["--eval", "--strict", "--json", "--readonly-mode"])
            .arg(repo().join("tests/nix/eval.nix"))
            .arg("--arg")
            .arg("nixpkgsLib")
            .arg(&lib)
            .args(["--argstr", "example", "store-key-file"])
            .output()
            .expect("run nix-instantiate");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "a key in the store was accepted");
        assert!(err.contains("path not in the Nix store"), "{err}");
    }
}

/// Issue 17 item 5: the option set each module declares (tests/nix/option-sets.nix) is the
/// checked-in one in tests/nix/option-sets/<module>.json, so moving declarations into
/// nix/modules/common/ cannot change what users may set. After an intended change, regenerate
/// with `SOPS_INSTALL_WRITE_OPTION_SETS=1` and review the diff.
fn assert_option_set(module: &str) {
    let got = eval_nix_file("tests/nix/option-sets.nix", &["--argstr", "module", module]);
    let path = repo().join(format!("tests/nix/option-sets/{module}.json"));
    let mut text = serde_json::to_string_pretty(&got).expect("json");
    text.push('\n');
    if std::env::var_os("SOPS_INSTALL_WRITE_OPTION_SETS").is_some() {
        std::fs::write(&path, &text).expect("write the option set");
        return;
    }
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let by_name = |v: &Value| -> std::collections::BTreeMap<String, Value> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|o| (o["name"].as_str().unwrap_or("?").to_string(), o.clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (got, expected) = (by_name(&got), by_name(&expected));
    let mut diffs = Vec::new();
    for name in got
        .keys()
        .chain(expected.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        match (expected.get(name), got.get(name)) {
            (Some(e), Some(g)) if e != g => diffs.push(format!("changed {name}: {e} -> {g}")),
            (Some(_), None) => diffs.push(format!("gone {name}")),
            (None, Some(g)) => diffs.push(format!("new {g}")),
            _ => {}
        }
    }
    assert!(
        diffs.is_empty(),
        "the {module} module's options differ from {}:\n{}",
        path.display(),
        diffs.join("\n")
    );
}

eval_test! {
    fn the_nixos_option_set_is_the_recorded_one() {
        assert_option_set("nixos");
    }

    fn the_nix_darwin_option_set_is_the_recorded_one() {
        assert_option_set("darwin");
    }

    fn the_home_manager_option_set_is_the_recorded_one() {
        assert_option_set("home");
    }

    fn the_home_manager_option_set_on_macos_is_the_recorded_one() {
        assert_option_set("home-darwin");
    }
}

nixfmt_test! {
    // Issue 17 item 7: what the flake check `nixfmt` asserts, where nixfmt is at hand.
    fn every_nix_file_is_as_nixfmt_writes_it() {
        let nixfmt = nixfmt().unwrap_or_else(|why| panic!("{why}"));
        let mut files = Vec::new();
        nix_files(&repo(), &mut files);
        files.sort();
        assert!(files.len() > 10, "found only {files:?}");
        let out = Command::new(&nixfmt)
            .arg("--check")
            .args(&files)
            .output()
            .expect("run nixfmt");
        assert!(
            out.status.success(),
            "not as nixfmt writes them (run {} on them):\n{}",
            nixfmt.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

eval_test! {
    // Issue 17 item 7: the flake checks hold the nixfmt check and the tests that need no root
    // on every system.
    fn the_flake_checks_run_nixfmt_and_the_tests_without_root() {
        let Some(r) = eval_flakes() else {
            return;
        };
        for system in [
            "x86_64-linux",
            "aarch64-linux",
            "x86_64-darwin",
            "aarch64-darwin",
        ] {
            let public = strings(&r["publicChecks"][system]);
            for check in ["nixfmt", "tests-without-root"] {
                assert!(public.contains(&check.to_string()), "{system}: {public:?}");
            }
            // The home-manager VM test (issue 18 item 4) needs home-manager: dev flake, Linux.
            let vm = "home-manager-restart-units".to_string();
            assert!(!public.contains(&vm), "{system}: {public:?}");
            let dev = strings(&r["devChecks"][system]);
            assert_eq!(dev.contains(&vm), system.ends_with("linux"), "{system}: {dev:?}");
        }
    }

    // The check `tests-without-root` runs the library's unit tests and test targets that
    // exist, from a source that holds them.
    fn the_tests_without_root_check_runs_existing_targets_from_its_source() {
        let r = eval_nix_file("tests/nix/without-root.nix", &[]);
        assert_eq!(r["doCheck"], true);
        let phase = r["checkPhase"].as_str().unwrap_or_default();
        assert!(phase.contains("cargo test --offline "), "{phase}");
        assert!(phase.contains(" --lib "), "{phase}");
        let sources = strings(&r["sourcePaths"]);
        for s in &sources {
            assert!(repo().join(s).exists(), "the source names {s}, which is not there");
        }
        let cargo = std::fs::read_to_string(repo().join("Cargo.toml")).expect("Cargo.toml");
        let targets = strings(&r["testTargets"]);
        assert!(targets.len() >= 3, "{targets:?}");
        for t in &targets {
            assert!(phase.contains(&format!("--test {t} ")), "{t} not run: {phase}");
            // A target declared in Cargo.toml, or found by cargo as tests/<t>.rs.
            let declared = cargo.contains(&format!("name = \"{t}\"\npath = \"tests/{t}/main.rs\""));
            let file = if declared {
                format!("tests/{t}/main.rs")
            } else {
                format!("tests/{t}.rs")
            };
            assert!(repo().join(&file).is_file(), "no test target {t} ({file})");
            assert!(
                sources.iter().any(|s| file.starts_with(&format!("{s}/"))),
                "{file} is not in the check's source {sources:?}"
            );
        }
    }
}

eval_test! {
    // Issue 18 item 4: home-manager's restartUnits/reloadUnits reach the manifest (only where
    // set: a configuration without them writes sops-nix's manifest), and the installer finds
    // systemctl on the service's PATH.
    fn home_manager_units_to_restart_reach_the_manifest_and_systemctl_the_path() {
        let Some(r) = eval("home-restart-units") else {
            return;
        };
        let m = &r["manifest"];
        let s = secret(m, "test_key");
        assert_eq!(s["restartUnits"], json!(["app.service"]));
        assert_eq!(s["reloadUnits"], json!(["web.service"]));
        let plain = secret(m, "plain");
        assert!(plain.get("restartUnits").is_none(), "{plain}");
        assert!(plain.get("reloadUnits").is_none(), "{plain}");
        let t = &m["templates"][0];
        assert_eq!(t["restartUnits"], json!(["app.service"]));
        assert_eq!(t["reloadUnits"], json!([]));
        assert_check_passes(m);
        let env = r["service"]["Service"]["Environment"].as_str().unwrap_or("");
        assert_eq!(
            env,
            "'PATH=/nix/store/00000000000000000000000000000000-systemd/bin'"
        );
        // Nothing to restart: PATH is not set (as before).
        let Some(plain) = eval("home-example") else {
            return;
        };
        assert_eq!(plain["service"]["Service"]["Environment"], "");
    }

    fn home_manager_on_macos_names_launchd_labels_and_keeps_the_system_path() {
        let Some(r) = eval("home-restart-units-darwin") else {
            return;
        };
        let m = &r["manifest"];
        assert_eq!(
            secret(m, "test_key")["restartUnits"],
            json!(["org.nix-community.home.app"])
        );
        assert_eq!(
            r["agent"]["config"]["EnvironmentVariables"]["PATH"],
            "/usr/bin:/bin:/usr/sbin:/sbin"
        );
        // The build-time check runs the installer on macOS, where labels are the rule; here on
        // Linux a label is refused as a systemd unit name.
        let (ok, stderr) = check_manifest(m);
        assert_eq!(ok, cfg!(target_os = "macos"), "{stderr}");
    }
}

eval_test! {
    // Issue 18 item 4: the VM test of home-manager's restarts (development flake only; here with
    // a stand-in home-manager) evaluates, its user manifest passes the installer's check, the
    // service finds systemctl, and its script parses.
    fn the_home_manager_restart_vm_test_evaluates_and_its_script_parses() {
        let r = eval_nix_file("tests/nix/vm-test-home.nix", &[]);
        assert_eq!(r["failing"], json!([]));
        let m: Value =
            serde_json::from_str(r["manifest"].as_str().unwrap_or("")).expect("manifest JSON");
        assert_eq!(secret(&m, "test_key")["restartUnits"], json!(["app.service"]));
        assert_eq!(m["userMode"], true);
        assert_check_passes(&m);
        assert_eq!(
            r["service"]["Service"]["Environment"],
            "'PATH=/nix/store/00000000000000000000000000000000-systemd/bin'"
        );
        assert_eq!(r["activationScripts"], json!(["aliceAgeKey"]));
        let script = r["testScript"].as_str().unwrap_or("");
        assert!(script.contains("start_all()"), "{script}");
        assert!(script.contains("systemctl --user restart sops-nix.service"));
        if let Some(e) = python_parse_error(script) {
            panic!("the test script does not parse: {e}");
        }
    }
}

/// Evaluates tests/nix/initrd-secrets.nix; with `runnable`, also the case whose command runs
/// this build's sops-install on the sops fixtures (its package root is returned to keep it).
fn eval_initrd_secrets(runnable: bool) -> (Value, Option<tempfile::TempDir>) {
    if !runnable {
        return (eval_nix_file("tests/nix/initrd-secrets.nix", &[]), None);
    }
    let root = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(root.path().join("bin")).expect("bin");
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_sops-install"),
        root.path().join("bin/sops-install"),
    )
    .expect("symlink");
    let fixtures = repo().join("tests/data/sops");
    let v = eval_nix_file(
        "tests/nix/initrd-secrets.nix",
        &[
            "--argstr",
            "pkgRoot",
            root.path().to_str().expect("utf-8 temp dir"),
            "--argstr",
            "fixtures",
            fixtures.to_str().expect("utf-8 repository path"),
        ],
    );
    (v, Some(root))
}

eval_test! {
    fn initrd_secrets_become_nixpkgs_generate_commands() {
        let (r, _) = eval_initrd_secrets(false);
        let with = &r["withHook"];
        assert_eq!(with["failing"], json!([]), "{with}");
        let paths = with["secretPaths"].as_object().expect("secretPaths");
        let mut names: Vec<&str> = paths.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["/etc/secrets/initrd/ssh_host_ed25519_key", "/run/keys/luks"]);
        for (path, entry) in paths {
            // A generated secret: no source file, nixpkgs' defaults for the rest.
            assert_eq!(entry["path"], json!(path));
            assert_eq!(entry["source"], Value::Null);
            assert_eq!(entry["intermediateSecretsDir"], json!(true));
            let command = entry["command"].as_str().unwrap_or("");
            // The file nixpkgs names in $out, the same key sources as activation, HOME forced.
            for part in [
                "target=\"${out:-${1:?",
                "/bin/sops-install initrd-secret --sops-file ",
                "--age-key-file /var/lib/sops/age.txt --age-ssh-key /etc/ssh/ssh_host_ed25519_key --pgp-ssh-key /etc/ssh/ssh_host_rsa_key --out \"$target\"",
                "export HOME='/var/empty'",
                "export SOPS_GPG_EXEC='/run/current-system/sw/bin/gpg'",
            ] {
                assert!(command.contains(part), "{path}: no {part:?} in\n{command}");
            }
        }
        let ssh = paths["/etc/secrets/initrd/ssh_host_ed25519_key"]["command"].as_str().unwrap_or("");
        assert!(
            ssh.contains("--sops-file /etc/nixos/secrets.yaml --format yaml --key 'initrd/ssh host key' --mode 0400 "),
            "{ssh}"
        );
        let luks = paths["/run/keys/luks"]["command"].as_str().unwrap_or("");
        assert!(
            luks.contains("--sops-file /etc/nixos/luks.bin --format binary --key '' --mode 0440 "),
            "{luks}"
        );
        // Without nixpkgs' hook, or with a loader that cannot append secrets: an assertion, and
        // nothing that would put the secret into the store.
        let without = &r["withoutHook"];
        assert_eq!(without["secretPaths"], json!({}));
        let failing = without["failing"].to_string();
        assert!(failing.contains("boot.initrd.secretPaths"), "{failing}");
        let loader = r["loaderWithoutSecrets"]["failing"].to_string();
        assert!(loader.contains("supportsInitrdSecrets"), "{loader}");
    }

    fn the_initrd_secret_command_writes_the_secret_where_nixpkgs_says() {
        let (r, _root) = eval_initrd_secrets(true);
        let case = &r["runnable"];
        assert_eq!(case["failing"], json!([]), "{case}");
        let command = case["secretPaths"]["/etc/secrets/initrd/db-password"]["command"]
            .as_str()
            .expect("command")
            .to_string();
        // As nixpkgs' append-initrd-secrets runs it: $out below its staging directory.
        let staging = tempfile::tempdir().expect("temp dir");
        let out = staging.path().join(".initrd-secrets/etc/secrets/initrd/db-password");
        let run = Command::new("bash")
            .arg("-c")
            .arg(&command)
            .env("out", &out)
            .env_remove("SOPS_AGE_KEY")
            .env_remove("SOPS_AGE_KEY_FILE")
            .output()
            .expect("run bash");
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        assert_eq!(std::fs::read(&out).expect("written"), b"hunter2");
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&out).expect("stat").permissions().mode() & 0o7777;
        assert_eq!(mode, 0o440);
    }
}

// Gap of issue 18: initrd secrets' sops files are checked at build time like the others.
eval_test! {
    fn initrd_secrets_sops_files_are_checked_at_build_time_with_validate_sops_files() {
        let (r, _) = eval_initrd_secrets(false);
        let v = &r["validated"];
        assert_eq!(v["failing"], json!([]), "{v}");
        // The check file: the system's check mode and the host recipients check.
        let phase = v["checkPhase"].as_str().unwrap_or_default();
        assert!(phase.contains("/bin/sops-install -check-mode=sopsfile \"$out\""), "{phase}");
        assert!(phase.contains("host-check --recipient age1syzqw8rh3fs6hcxktdm32hqxdsqe03jyh2fvw0ltmq8cgqe5w5ysgwcpq2"), "{phase}");
        // Every command refers to it (so building the system builds the check), and reads the
        // store copy of the file the check read.
        let check_path = v["checkPath"].as_str().expect("checkPath");
        let command = v["command"].as_str().unwrap_or_default();
        assert!(command.contains(&format!("checked at build time by {check_path}")), "{command}");
        let m = &v["manifest"];
        let s = secret(m, "initrd/etc/secrets/initrd/db-password");
        let store_file = s["sopsFile"].as_str().expect("sopsFile");
        assert!(store_file.starts_with("/nix/store/") && store_file.ends_with("-basic.yaml"), "{store_file}");
        assert!(command.contains(&format!("--sops-file {store_file} ")), "{command}");
        assert_eq!((s["key"].as_str(), s["format"].as_str()), (Some("db/password"), Some("yaml")));

        // What the check phase runs, on this manifest with the fixture in place of its store
        // copy: a key that is there passes, one that is not fails naming the initrd secret.
        let check = |key: &str| {
            let mut m = m.clone();
            m["secrets"][0]["sopsFile"] = json!(repo().join("tests/data/sops/enc/basic.yaml"));
            m["secrets"][0]["key"] = json!(key);
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("initrd-secrets-manifest.json");
            std::fs::write(&path, serde_json::to_vec(&m).expect("json")).expect("write");
            let out = Command::new(env!("CARGO_BIN_EXE_sops-install"))
                .arg("-check-mode=sopsfile")
                .arg(&path)
                .env_remove("XDG_RUNTIME_DIR")
                .output()
                .expect("run sops-install");
            (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
        };
        let (ok, stderr) = check("db/password");
        assert!(ok, "{stderr}");
        let (ok, stderr) = check("db/nope");
        assert!(!ok && stderr.contains("initrd/etc/secrets/initrd/db-password"), "{stderr}");

        // Files outside the store cannot be checked: refused, as for sops.secrets.
        let outside = r["validatedOutsideStore"].to_string();
        assert!(outside.contains("'/etc/nixos/secrets.yaml', '/etc/nixos/luks.bin' is not in the Nix store"), "{outside}");
        // validateSopsFiles off: no check file in the commands.
        let plain = r["withHook"]["secretPaths"]["/run/keys/luks"]["command"].as_str().unwrap_or_default();
        assert!(!plain.contains("checked at build time"), "{plain}");
    }
}

// Issue 18 (keep-creds): keepLastGoodOnFailure and systemd credentials.
eval_test! {
    fn keep_last_good_and_credentials_reach_the_manifests_and_units() {
        let Some(r) = eval("keep-and-credentials") else { return };
        assert_eq!(r["failing"], json!([]));
        let m = &r["manifest"];
        assert_eq!(m["keepLastGoodOnFailure"], true);
        assert_eq!(m["credentialStore"], "/run/credstore");
        assert_eq!(secret(m, "test_key")["credential"], "test-key");
        assert!(secret(m, "plain").get("credential").is_none(), "written only when set");
        let u = &r["manifestForUsers"];
        assert_eq!(u["keepLastGoodOnFailure"], true);
        assert_eq!(secret(u, "password")["credential"], "password");
        let imported = json!(["sops-install.age-key", "sops-install.ssh-key"]);
        assert_eq!(r["services"]["sops-install-secrets"]["serviceConfig"]["ImportCredential"], imported);
        assert_eq!(r["services"]["sops-install-secrets-for-users"]["serviceConfig"]["ImportCredential"], imported);
        // The binary accepts both manifests.
        assert_check_passes(m);
        assert_check_passes(u);
    }

    fn without_our_options_the_manifest_has_none_of_our_fields() {
        let Some(r) = eval("keep-off") else { return };
        let m = &r["manifest"];
        for field in ["keepLastGoodOnFailure", "credentialStore"] {
            assert!(m.get(field).is_none(), "{field} in {m}");
        }
        assert!(secret(m, "test_key").get("credential").is_none());
        assert!(r["activationScripts"]["setupSecrets"]["text"].as_str().is_some_and(|t| !t.is_empty()));
    }

    fn a_credential_name_used_twice_and_key_credentials_without_units_fail_the_build() {
        let Some(r) = eval("bad-credentials") else { return };
        let failing: Vec<&str> = r["failing"].as_array().map(|a| a.iter().filter_map(|v| v.as_str()).collect()).unwrap_or_default();
        assert!(failing.iter().any(|f| f.contains("each credential name may be used by one secret or template only (same)")), "{failing:?}");
        assert!(failing.iter().any(|f| f.starts_with("sops.importKeyCredentials needs sops.useSystemdActivation")), "{failing:?}");
        // The binary refuses the same duplicate on its own.
        let (ok, stderr) = check_manifest(&r["manifest"]);
        assert!(!ok && stderr.contains("\"same\" is also the credential of secret"), "{stderr}");
    }

    fn a_template_credential_reaches_the_manifest_and_shares_the_secrets_names() {
        let Some(r) = eval("template-credentials") else { return };
        assert_eq!(r["failing"], json!([]));
        let m = &r["manifest"];
        assert_eq!(m["credentialStore"], "/run/credstore", "written for a template's credential alone");
        let templates = m["templates"].as_array().expect("templates");
        let t = |name: &str| templates.iter().find(|t| t["name"] == name).unwrap_or_else(|| panic!("no template {name}"));
        assert_eq!(t("app.env")["credential"], "app-env");
        assert!(t("plain").get("credential").is_none(), "written only when set");
        assert!(secret(m, "test_key").get("credential").is_none());
        assert_check_passes(m);

        let Some(r) = eval("template-credential-twice") else { return };
        let failing: Vec<&str> = r["failing"].as_array().map(|a| a.iter().filter_map(|v| v.as_str()).collect()).unwrap_or_default();
        assert!(failing.iter().any(|f| f.contains("each credential name may be used by one secret or template only (same)")), "{failing:?}");
        let (ok, stderr) = check_manifest(&r["manifest"]);
        assert!(!ok && stderr.contains("template \"t\": credential: \"same\" is also the credential of secret \"test_key\""), "{stderr}");
    }

    fn home_manager_writes_keep_last_good_into_its_manifest() {
        let Some(r) = eval("home-keep") else { return };
        assert_eq!(r["failing"], json!([]));
        assert_eq!(r["manifest"]["keepLastGoodOnFailure"], true);
    }
}

// Issue 18 item 5: templates for secrets needed for users.
eval_test! {
    fn a_needed_for_users_template_goes_to_the_for_users_manifest_only() {
        let Some(r) = eval("templates-for-users") else {
            return;
        };
        assert_eq!(r["failing"], json!([]));
        assert_eq!(r["warnings"], json!([]));
        let (m, u) = (&r["manifest"], &r["manifestForUsers"]);
        let names = |v: &Value| -> Vec<String> {
            v["templates"]
                .as_array()
                .expect("templates")
                .iter()
                .map(|t| t["name"].as_str().unwrap_or("?").to_string())
                .collect()
        };
        assert_eq!(names(u), vec!["alice-password"]);
        assert_eq!(names(m), vec!["app.env"]);
        let t = &u["templates"][0];
        assert_eq!(t["path"], "/run/secrets-for-users/rendered/alice-password");
        assert_eq!(t["neededForUsers"], true);
        assert_eq!(t["content"], u["placeholderBySecretName"]["password"]);
        assert_eq!((&t["owner"], &t["uid"], &t["gid"]), (&Value::Null, &json!(0), &json!(0)));
        // Regular templates keep sops-nix's fields exactly (no neededForUsers key).
        assert!(m["templates"][0].get("neededForUsers").is_none(), "{m}");
        // Installed before the users activation script, with -ignore-passwd.
        let a = &r["activationScripts"];
        assert_eq!(a["users"]["deps"], json!(["setupSecretsForUsers"]));
        let text = a["setupSecretsForUsers"]["text"].as_str().unwrap_or("");
        assert!(text.contains("sops-install-secrets -ignore-passwd "), "{text}");
        assert_check_passes(m);
        assert_check_passes(u);
    }

    fn a_needed_for_users_template_naming_a_regular_secret_fails_the_build() {
        let Some(r) = eval("templates-for-users-refused") else {
            return;
        };
        assert_eq!(
            r["failing"],
            json!([
                "sops.templates.hash: neededForUsers is set but it uses the placeholder of sops.secrets.test_key, which is not neededForUsers",
                "In sops.templates.owned: neededForUsers cannot be used for templates that are not root-owned",
            ])
        );
        assert_eq!(
            r["warnings"],
            json!(["sops: neededForUsers templates are always installed as root:root; their owner and group options are ignored"])
        );
        // The build-time check of the for-users manifest refuses it too, in one line.
        let (ok, stderr) = check_manifest(&r["manifestForUsers"]);
        assert!(!ok, "the check accepted {}", r["manifestForUsers"]);
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{stderr}");
        assert!(
            lines[0].contains("template \"hash\"")
                && lines[0].contains("secret \"test_key\", which is not neededForUsers"),
            "{stderr}"
        );
    }
}

eval_test! {
    fn a_needed_for_users_template_alone_still_installs_the_for_users_manifest() {
        let Some(r) = eval("template-for-users-only") else {
            return;
        };
        assert_eq!(r["failing"], json!([]));
        let u = &r["manifestForUsers"];
        assert_eq!(u["secrets"], json!([]));
        assert_eq!(u["templates"][0]["name"], "motd");
        assert_eq!(u["templates"][0]["path"], "/run/secrets-for-users/rendered/motd");
        assert_eq!(r["manifest"]["templates"], json!([]));
        let a = &r["activationScripts"];
        assert!(a["setupSecretsForUsers"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("-ignore-passwd ")));
        assert_eq!(a["users"]["deps"], json!(["setupSecretsForUsers"]));
        assert_check_passes(u);

        let Some(d) = eval("darwin-template-for-users-only") else {
            return;
        };
        assert_eq!(d["failing"], json!([]));
        assert_eq!(d["manifestForUsers"]["templates"][0]["name"], "motd");
        assert!(d["daemons"]["sops-install-secrets-for-users"].is_object());
        assert!(d["etc"]["sops-install/manifest-for-users.json"].is_object());
        assert!(d["postActivation"]
            .as_str()
            .is_some_and(|p| p.contains("Setting up secrets for users")));
        assert_check_passes(&d["manifestForUsers"]);
    }
}

eval_test! {
    fn home_manager_has_the_system_modules_safety_assertions() {
        let Some(r) = eval("home-hostile") else {
            return;
        };
        let mut failing: Vec<String> = r["failing"]
            .as_array()
            .expect("list")
            .iter()
            .map(|m| m.as_str().unwrap_or_default().to_string())
            .collect();
        failing.sort();
        assert_eq!(
            failing,
            vec![
                "sops.environment: \"A B\" is not a shell variable name",
                "sops.hostRecipients: an entry is empty; it would match every file",
                "sops.secrets.a: path /home/alice/.config/sops-nix/secrets/b is also the default path of sops.secrets.b",
                "sops.secrets.c: path /%r/secrets.d/1/c is inside the secrets mount point /%r/secrets.d",
                "sops.secrets.d: path /home/alice/x is also the path of sops.templates.t",
                "sops.secrets.f: \"nginx\" is not a systemd unit name (letters, digits and \":_.\\@-\", ending in a unit type such as .service)",
                "sops.templates.t: path /home/alice/x is also the path of sops.secrets.d",
            ]
        );
        // The spec's home-manager example passes them.
        let Some(ok) = eval("home-example") else {
            return;
        };
        assert_eq!(ok["failing"], json!([]));
    }
}
