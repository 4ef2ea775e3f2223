//! Security properties of the real binary, each checked so that it can fail:
//!
//! - after activations (good, dry and failing ones, every format, templates, custom paths) no
//!   regular file outside the secrets mount holds a plaintext value or any key material: the
//!   test root, TMPDIR, /tmp, /var/tmp, /dev/shm and /run are scanned byte for byte;
//! - no secret file is ever open to anyone its final owner and mode would not allow, from its
//!   creation on (an strace of the installer, replayed syscall by syscall);
//! - nothing the binary prints, at its most verbose log level, carries a plaintext value or key
//!   material, on success, dry-activate, `decrypt` errors and many failing activations.
//!
//! Each test runs in its own mount namespace with fresh tmpfs over /tmp, /var/tmp and
//! /dev/shm, so the scans see only what this test's runs left there.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use aho_corasick::AhoCorasick;
use base64::Engine;
use serde_json::{json, Value};

use crate::harness::{fixtures, secret, Env, Run};
use crate::{local_test, ns_test};

/// Plaintext values of the files this test encrypts itself, long enough never to occur by
/// chance.
const YAML_PW: &str = "yaml-password-Qx93LmZ0vT";
const YAML_API: &str = "yaml-api-7hRk2pWq4N";
const YAML_BLOCK: &str = "yaml-block-line-Jd82nVb1";
const JSON_TOKEN: &str = "json-token-Ur5eYt6M0c";
const JSON_NESTED: &str = "json-nested-Pz1oK9sLq4";
const DOTENV_A: &str = "dotenv-a-Wm4Ni7Bv3x";
const DOTENV_B: &str = "dotenv-b-Ha8Ge2Tq5y";
const INI_VALUE: &str = "ini-value-Zc6Lp0Dr9s";
const BIN_VALUE: &str = "binary-value-Fo3Xk8Sj2u";
/// Values of the sops fixtures used here (their data keys are known from `ref/`).
const FIXTURE_VALUES: [&str; 3] = ["hunter2", "abc123", "from-ssh"];

const PH_PW: &str =
    "<SOPS:1111111111111111111111111111111111111111111111111111111111111111:PLACEHOLDER>";
const PH_TOKEN: &str =
    "<SOPS:2222222222222222222222222222222222222222222222222222222222222222:PLACEHOLDER>";
const PH_UNKNOWN: &str =
    "<SOPS:3333333333333333333333333333333333333333333333333333333333333333:PLACEHOLDER>";

fn plaintext_values() -> Vec<String> {
    [
        YAML_PW,
        YAML_API,
        YAML_BLOCK,
        JSON_TOKEN,
        JSON_NESTED,
        DOTENV_A,
        DOTENV_B,
        INI_VALUE,
        BIN_VALUE,
    ]
    .iter()
    .chain(FIXTURE_VALUES.iter())
    .map(|s| s.to_string())
    .collect()
}

/// Everything that must never leave memory: the age identity, the ssh host key (file text,
/// each base64 line, the raw seed and private half), its ssh-to-age conversion, and the data
/// key of every sops fixture file.
fn key_material() -> Vec<(String, Vec<u8>)> {
    let keys = fixtures().join("keys");
    let mut out = Vec::new();
    for (what, file) in [
        ("age key", "age1.txt"),
        ("wrong age key", "wrong.txt"),
        ("converted ssh key", "ssh_host_ed25519_key.age.txt"),
    ] {
        let text = std::fs::read_to_string(keys.join(file)).expect("key file");
        let line = text
            .lines()
            .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
            .expect("an identity line")
            .to_string();
        out.push((
            format!("{what} (lower case)"),
            line.to_lowercase().into_bytes(),
        ));
        out.push((what.to_string(), line.into_bytes()));
    }
    let pem = std::fs::read_to_string(keys.join("ssh_host_ed25519_key")).expect("ssh key");
    let body_lines: Vec<&str> = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    for (i, line) in body_lines.iter().enumerate() {
        out.push((format!("ssh key base64 line {i}"), line.as_bytes().to_vec()));
    }
    let private = ssh_ed25519_private(&body_lines.concat());
    out.push(("ssh key seed".into(), private[..32].to_vec()));
    out.push(("ssh key private half".into(), private.clone()));
    out.push((
        "ssh key seed (hex)".into(),
        hex::encode(&private[..32]).into_bytes(),
    ));
    let mut refs: Vec<PathBuf> = std::fs::read_dir(fixtures().join("ref"))
        .expect("ref dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    refs.sort();
    let field = regex::Regex::new(r#""data_key_hex": "([0-9a-f]{64})""#).expect("regex");
    for r in refs {
        // Some reports hold strings serde_json rejects (lone surrogates): find the field.
        let text = std::fs::read_to_string(&r).expect("ref");
        if let Some(h) = field.captures(&text).map(|c| c[1].to_string()) {
            let h = h.as_str();
            let name = r
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            out.push((format!("data key of {name}"), hex::decode(h).expect("hex")));
            out.push((format!("data key of {name} (hex)"), h.as_bytes().to_vec()));
        }
    }
    out
}

/// The 64-byte private half (seed, public key) of an unencrypted OpenSSH ed25519 key.
fn ssh_ed25519_private(base64_body: &str) -> Vec<u8> {
    fn take<'a>(r: &mut &'a [u8]) -> &'a [u8] {
        let n = u32::from_be_bytes(r[..4].try_into().expect("length")) as usize;
        let s = &r[4..4 + n];
        *r = &r[4 + n..];
        s
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(base64_body)
        .expect("base64");
    let magic = b"openssh-key-v1\0";
    assert!(raw.starts_with(magic), "an OpenSSH key");
    let mut r = &raw[magic.len()..];
    assert_eq!(take(&mut r), b"none", "unencrypted");
    take(&mut r); // kdf name
    take(&mut r); // kdf options
    r = &r[4..]; // number of keys
    take(&mut r); // public key
    let mut p = take(&mut r);
    p = &p[8..]; // check integers
    assert_eq!(take(&mut p), b"ssh-ed25519");
    take(&mut p); // public key
    let private = take(&mut p);
    assert_eq!(private.len(), 64);
    private.to_vec()
}

/// Every needle: (what, bytes).
fn all_needles() -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = plaintext_values()
        .into_iter()
        .map(|s| (format!("plaintext {s:?}"), s.into_bytes()))
        .collect();
    v.extend(key_material());
    v
}

/// Which needles occur in `haystack`.
fn found_in(needles: &[(String, Vec<u8>)], haystack: &[u8]) -> Vec<String> {
    let matcher = AhoCorasick::new(needles.iter().map(|(_, b)| b)).expect("matcher");
    let mut hits: BTreeSet<String> = BTreeSet::new();
    for m in matcher.find_overlapping_iter(haystack) {
        hits.insert(needles[m.pattern().as_usize()].0.clone());
    }
    hits.into_iter().collect()
}

/// Fresh tmpfs over the system-wide temporary directories, private to this namespace. What the tests
/// still need from under them (the checkout with its fixtures, the test and installer binaries,
/// when they live in /tmp say) is bind-mounted back in place first; those paths are returned so
/// the scans leave them out.
fn private_temp_dirs() -> Vec<PathBuf> {
    let needed: Vec<PathBuf> = [
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR"))),
        Path::new(env!("CARGO_BIN_EXE_sops-install"))
            .parent()
            .map(Path::to_path_buf),
        std::env::current_exe()
            .ok()
            .and_then(|e| e.parent().map(Path::to_path_buf)),
    ]
    .into_iter()
    .flatten()
    .filter_map(|p| std::fs::canonicalize(&p).ok())
    .collect();
    let mut kept = Vec::new();
    for dir in ["/tmp", "/var/tmp", "/dev/shm"] {
        std::fs::create_dir_all(dir).expect("temp dir");
        let real = std::fs::canonicalize(dir).expect("temp dir path");
        let mut here: Vec<PathBuf> = needed
            .iter()
            .filter(|p| p.starts_with(&real))
            .cloned()
            .collect();
        here.sort();
        here.dedup();
        // Keep only the outermost of nested paths (the target dir inside the checkout).
        let outer: Vec<PathBuf> = here
            .iter()
            .filter(|p| !here.iter().any(|q| q != *p && p.starts_with(q)))
            .cloned()
            .collect();
        let mut held = Vec::new();
        for (i, p) in outer.iter().enumerate() {
            let hold = PathBuf::from(format!("/run/sops-install-test-keep-{i}"));
            std::fs::create_dir_all(&hold).expect("hold dir");
            bind(p, &hold);
            held.push((hold, p.clone()));
        }
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "mode=1777", "none", dir])
            .status()
            .expect("mount runs");
        assert!(st.success(), "cannot mount a private {dir}");
        for (hold, p) in held {
            std::fs::create_dir_all(&p).unwrap_or_else(|e| panic!("recreate {}: {e}", p.display()));
            bind(&hold, &p);
            let st = Command::new("umount")
                .arg(&hold)
                .status()
                .expect("umount runs");
            assert!(st.success(), "cannot unmount {}", hold.display());
            std::fs::remove_dir(&hold).expect("remove hold dir");
            kept.push(p);
        }
    }
    kept
}

/// `mount --bind from to`.
fn bind(from: &Path, to: &Path) {
    let st = Command::new("mount")
        .arg("--bind")
        .arg(from)
        .arg(to)
        .status()
        .expect("mount runs");
    assert!(
        st.success(),
        "cannot bind {} to {}",
        from.display(),
        to.display()
    );
}

/// The encrypted inputs this test makes with the real sops, one per format.
struct Inputs {
    yaml: PathBuf,
    json: PathBuf,
    dotenv: PathBuf,
    ini: PathBuf,
    binary: PathBuf,
}

fn make_inputs(env: &Env) -> Inputs {
    Inputs {
        yaml: env.sops_encrypt(
            "app.yaml",
            &format!(
                "db:\n  password: {YAML_PW}\napi: {YAML_API}\nnote: |\n  first\n  {YAML_BLOCK}\n"
            ),
        ),
        json: env.sops_encrypt(
            "app.json",
            &format!("{{\"token\": \"{JSON_TOKEN}\", \"nested\": {{\"k\": \"{JSON_NESTED}\"}}}}\n"),
        ),
        dotenv: env.sops_encrypt("app.env", &format!("A={DOTENV_A}\nB={DOTENV_B}\n")),
        ini: env.sops_encrypt("app.ini", &format!("[main]\nsecret = {INI_VALUE}\n")),
        binary: env.sops_encrypt("app.bin", &format!("\u{1}\u{7f}bin {BIN_VALUE}\n\u{0}")),
    }
}

fn template(name: &str, content: &str) -> Value {
    json!({
        "name": name, "content": content, "file": "", "path": "", "mode": "0400",
        "owner": null, "uid": 0, "group": null, "gid": 0, "restartUnits": [], "reloadUnits": []
    })
}

/// A manifest using every format, both ssh fixtures (native and converted), a template with a
/// custom path, a secret with a custom path, and several owners and modes.
fn full_manifest(env: &Env, i: &Inputs) -> Value {
    let mut pw = secret("db/password", &i.yaml, "db/password", "yaml");
    pw["owner"] = json!("nobody");
    pw["group"] = json!("nogroup");
    pw["mode"] = json!("0440");
    let whole_yaml = secret("whole-yaml", &i.yaml, "", "yaml");
    let mut token = secret("token", &i.json, "token", "json");
    token["path"] = json!(env.path("etc/app/token"));
    token["mode"] = json!("0644");
    let nested = secret("nested", &i.json, "nested/k", "json");
    let mut dotenv = secret("app.env", &i.dotenv, "", "dotenv");
    dotenv["uid"] = json!(1000);
    dotenv["gid"] = json!(1000);
    dotenv["mode"] = json!("0600");
    let ini = secret("app.ini", &i.ini, "", "ini");
    let binary = secret("app.bin", &i.binary, "", "binary");
    let basic = secret(
        "basic",
        &fixtures().join("enc/basic.yaml"),
        "db/password",
        "yaml",
    );
    let basic_api = secret(
        "basic-api",
        &fixtures().join("enc/basic.yaml"),
        "api_key",
        "yaml",
    );
    let native = secret(
        "ssh-native",
        &fixtures().join("enc/ssh.native.yaml"),
        "secret",
        "yaml",
    );
    let converted = secret(
        "ssh-converted",
        &fixtures().join("enc/ssh.converted.yaml"),
        "secret",
        "yaml",
    );
    let mut conf = template(
        "app.conf",
        &format!("password={PH_PW}\ntoken={PH_TOKEN}\nplain=line\n"),
    );
    conf["path"] = json!(env.path("etc/app/app.conf"));
    conf["owner"] = json!("nobody");
    conf["mode"] = json!("0440");
    let mut m = env.manifest(
        json!([
            pw, whole_yaml, token, nested, dotenv, ini, binary, basic, native, converted, basic_api
        ]),
        json!([conf]),
    );
    m["ageSshKeyPaths"] = json!([fixtures().join("keys/ssh_host_ed25519_key")]);
    // With templates, every secret needs a placeholder; two of them are used.
    let mut placeholders = serde_json::Map::new();
    for (i, s) in m["secrets"].as_array().expect("secrets").iter().enumerate() {
        let name = s["name"].as_str().expect("name").to_string();
        let ph = match name.as_str() {
            "db/password" => PH_PW.to_string(),
            "token" => PH_TOKEN.to_string(),
            _ => format!("<SOPS:{:064x}:PLACEHOLDER>", 0xabc0 + i),
        };
        placeholders.insert(name, json!(ph));
    }
    m["placeholderBySecretName"] = Value::Object(placeholders);
    m
}

/// Runs the installer from the test root, with TMPDIR inside it and the most verbose logging.
fn install(env: &Env, m: &Value, args: &[&str], extra_env: &[(&str, &str)]) -> Run {
    let path = env.write_manifest(m);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sops-install"));
    cmd.args(args).arg(&path);
    verbose(env, &mut cmd, extra_env);
    env.run_cmd(&mut cmd)
}

fn tmpdir(env: &Env) -> PathBuf {
    let t = env.path("tmp");
    std::fs::create_dir_all(&t).expect("TMPDIR");
    t
}

fn verbose(env: &Env, cmd: &mut Command, extra_env: &[(&str, &str)]) {
    cmd.current_dir(env.root.path())
        .env("TMPDIR", tmpdir(env))
        .env("SOPS_INSTALL_LOG", "trace")
        .env("RUST_LOG", "trace")
        .env("RUST_BACKTRACE", "1");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
}

/// One labelled run: what it printed, and the inputs whose cleartext it may echo.
struct Labelled {
    label: String,
    run: Run,
    /// Only stderr is checked (`decrypt` prints plaintext on stdout by design).
    stderr_only: bool,
    /// Files the run read: a value they hold in cleartext is no secret for this run.
    inputs: Vec<PathBuf>,
}

/// Good, repeated, dry and failing activations; returns every run.
fn activations(env: &Env) -> Vec<Labelled> {
    let i = make_inputs(env);
    let good = full_manifest(env, &i);
    let mut runs = Vec::new();
    let mut push = |label: &str, run: Run, inputs: Vec<PathBuf>| {
        runs.push(Labelled {
            label: label.to_string(),
            run,
            stderr_only: false,
            inputs,
        })
    };

    push(
        "first activation",
        install(env, &good, &[], &[]).ok(),
        vec![],
    );
    let again = install(env, &good, &[], &[]).ok();
    push("unchanged activation", again, vec![]);

    let mut changed = good.clone();
    changed["templates"][0]["content"] = json!(format!("only={PH_TOKEN}\n"));
    changed["secrets"][1]["mode"] = json!("0444");
    let dry = install(env, &changed, &[], &[("NIXOS_ACTION", "dry-activate")]).ok();
    assert!(
        dry.stdout.contains("would"),
        "dry run reports: {}",
        dry.stdout
    );
    push("dry activation", dry, vec![]);
    let changed_run = install(env, &changed, &[], &[]).ok();
    assert!(!changed_run.stdout.is_empty(), "changes are reported");
    push("changed activation", changed_run, vec![]);
    let check = install(env, &good, &["-check-mode=sopsfile"], &[]).ok();
    push("sopsfile check", check, vec![]);

    let mut failing: Vec<(&str, Value, Vec<PathBuf>)> = Vec::new();
    for neg in [
        "tampered-value",
        "tampered-mac",
        "swapped-values",
        "modified-cleartext",
        "missing-mac",
        "plaintext-value",
        "non-string-value",
        "unknown-type",
    ] {
        let f = fixtures().join(format!("negative/{neg}.yaml"));
        let mut m = good.clone();
        m["secrets"][0] = secret("db/password", &f, "db/password", "yaml");
        failing.push((neg, m, vec![f]));
    }
    let mut m = good.clone();
    m["ageKeyFile"] = json!(fixtures().join("keys/wrong.txt"));
    m["ageSshKeyPaths"] = json!([]);
    failing.push(("wrong key", m, vec![]));
    let mut m = good.clone();
    m["ageKeyFile"] = json!(fixtures().join("keys/bad-line-then-age1.txt"));
    m["ageSshKeyPaths"] = json!([]);
    failing.push(("key file with a junk line", m, vec![]));
    let mut m = good.clone();
    m["ageSshKeyPaths"] = json!([fixtures().join("keys/age1.txt")]);
    m["ageKeyFile"] = json!(fixtures().join("keys/wrong.txt"));
    failing.push(("age key given as ssh key", m, vec![]));
    let mut m = good.clone();
    m["ageKeyFile"] = json!(fixtures().join("keys/ssh_host_ed25519_key"));
    m["ageSshKeyPaths"] = json!([]);
    failing.push(("ssh key given as age key", m, vec![]));
    let mut m = good.clone();
    m["secrets"][0]["key"] = json!("db/password/deeper");
    failing.push(("key through a string", m, vec![]));
    let mut m = good.clone();
    m["secrets"][0]["key"] = json!("db/nope");
    failing.push(("missing key", m, vec![]));
    let mut m = good.clone();
    m["secrets"][0]["format"] = json!("json");
    failing.push(("yaml read as json", m, vec![]));
    let mut m = good.clone();
    m["secrets"][3]["format"] = json!("ini");
    failing.push(("json read as ini", m, vec![]));
    let mut m = good.clone();
    m["secrets"][2]["format"] = json!("dotenv");
    failing.push(("json read as dotenv", m, vec![]));
    let mut m = good.clone();
    m["secrets"][0]["format"] = json!("toml");
    failing.push(("unknown format", m, vec![]));
    let mut m = good.clone();
    m["templates"][0]["content"] = json!(format!("{PH_PW} {PH_UNKNOWN}"));
    failing.push(("template with an unknown placeholder", m, vec![]));
    let mut m = good.clone();
    m["secrets"][0]["owner"] = json!("no-such-user-anywhere");
    failing.push(("unknown owner", m, vec![]));
    // Fails after the generation is written and swapped in: a custom path under a file.
    std::fs::write(env.path("blocker"), "a regular file").expect("blocker");
    let mut m = good.clone();
    m["secrets"][2]["path"] = json!(env.path("blocker/token"));
    failing.push(("custom path under a regular file", m, vec![]));

    for (label, m, inputs) in failing {
        let run = install(env, &m, &[], &[]).failed();
        assert!(!run.stderr.is_empty(), "{label}: an error line");
        push(label, run, inputs);
    }
    runs
}

/// `sops-install decrypt` runs, good and failing; only stderr is checked.
fn decrypt_runs(env: &Env) -> Vec<Labelled> {
    let i = make_inputs(env);
    let keys = fixtures().join("keys");
    let age1 = keys.join("age1.txt");
    let mut cases: Vec<(String, Vec<String>, PathBuf)> = Vec::new();
    let age = |k: &str| {
        vec![
            "--age-key-file".to_string(),
            keys.join(k).display().to_string(),
        ]
    };
    for f in [&i.yaml, &i.json, &i.dotenv, &i.ini, &i.binary] {
        cases.push((
            format!("decrypt {}", f.display()),
            age("age1.txt"),
            f.clone(),
        ));
        cases.push((
            format!("wrong key {}", f.display()),
            age("wrong.txt"),
            f.clone(),
        ));
        cases.push((
            format!("junk key file {}", f.display()),
            age("bad-line-then-age1.txt"),
            f.clone(),
        ));
        let mut as_ssh = vec!["--ssh-key".to_string(), age1.display().to_string()];
        as_ssh.extend(age("wrong.txt"));
        cases.push((
            format!("age key as ssh key {}", f.display()),
            as_ssh,
            f.clone(),
        ));
        for t in sops_install::sops::stores::Format::ALL.map(|f| f.name()) {
            let mut a = age("age1.txt");
            a.extend(["--input-type".to_string(), t.to_string()]);
            cases.push((format!("{} as {t}", f.display()), a.clone(), f.clone()));
            a.extend(["--output-type".to_string(), "dotenv".to_string()]);
            cases.push((format!("{} as {t} to dotenv", f.display()), a, f.clone()));
        }
        for x in [
            "[\"db\"][\"password\"][\"x\"]",
            "[\"nope\"]",
            "[\"token\"][0]",
            "[\"db\"",
            "[0]",
        ] {
            let mut a = age("age1.txt");
            a.extend(["--extract".to_string(), x.to_string()]);
            cases.push((format!("{} extract {x}", f.display()), a, f.clone()));
        }
    }
    let mut negatives: Vec<PathBuf> = std::fs::read_dir(fixtures().join("negative"))
        .expect("negative dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    negatives.sort();
    for f in negatives {
        cases.push((format!("decrypt {}", f.display()), age("age1.txt"), f));
    }
    cases
        .into_iter()
        .map(|(label, args, file)| {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_sops-install"));
            cmd.arg("decrypt").args(&args).arg(&file);
            verbose(env, &mut cmd, &[]);
            Labelled {
                label,
                run: env.run_cmd(&mut cmd),
                stderr_only: true,
                inputs: vec![file],
            }
        })
        .collect()
}

/// Regular files under `dir` (not following symlinks), skipping `excluded` trees.
fn regular_files(dir: &Path, excluded: &[PathBuf], out: &mut Vec<PathBuf>) {
    if excluded.iter().any(|e| dir.starts_with(e)) {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            regular_files(&p, excluded, out);
        } else if meta.is_file() && !excluded.iter().any(|x| p.starts_with(x)) {
            out.push(p);
        }
    }
}

/// Every (file, needle) found outside the excluded trees.
fn scan(
    roots: &[PathBuf],
    excluded: &[PathBuf],
    needles: &[(String, Vec<u8>)],
) -> (usize, Vec<String>) {
    let mut files = Vec::new();
    for r in roots {
        regular_files(r, excluded, &mut files);
    }
    files.sort();
    files.dedup();
    let mut leaks = Vec::new();
    for f in &files {
        let bytes = std::fs::read(f).unwrap_or_else(|e| panic!("read {}: {e}", f.display()));
        for what in found_in(needles, &bytes) {
            leaks.push(format!("{}: {what}", f.display()));
        }
    }
    (files.len(), leaks)
}

fn scan_roots(env: &Env) -> Vec<PathBuf> {
    ["/tmp", "/var/tmp", "/dev/shm", "/run"]
        .iter()
        .map(PathBuf::from)
        .chain([env.root.path().to_path_buf(), tmpdir(env)])
        .collect()
}

/// Needles that are not secret for a run: those its input files hold in cleartext.
fn needles_for(run: &Labelled, needles: &[(String, Vec<u8>)]) -> Vec<(String, Vec<u8>)> {
    let mut public = BTreeSet::new();
    for f in &run.inputs {
        let text = std::fs::read(f).expect("input");
        public.extend(found_in(needles, &text));
    }
    needles
        .iter()
        .filter(|(what, _)| !public.contains(what))
        .cloned()
        .collect()
}

fn check_outputs(runs: &[Labelled], needles: &[(String, Vec<u8>)]) {
    let mut leaks = Vec::new();
    for r in runs {
        let mine = needles_for(r, needles);
        for what in found_in(&mine, r.run.stderr.as_bytes()) {
            leaks.push(format!("{}: stderr has {what}:\n{}", r.label, r.run.stderr));
        }
        if !r.stderr_only {
            for what in found_in(&mine, r.run.stdout.as_bytes()) {
                leaks.push(format!("{}: stdout has {what}:\n{}", r.label, r.run.stdout));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "plaintext or key material in output:\n{}",
        leaks.join("\n")
    );
}

ns_test! {
    fn activations_leave_no_plaintext_or_key_material_outside_the_secrets_mount() {
        let kept = private_temp_dirs();
        let env = Env::new();
        let needles = all_needles();
        let runs = activations(&env);
        assert!(runs.len() > 20, "good, dry and failing runs happened");
        let mount = env.mount_point();
        // Not scanned: the secrets mount, and the checkout (its fixtures hold plaintext) when it
        // was bind-mounted back under a temporary directory.
        let excluded: Vec<PathBuf> = std::iter::once(mount.clone()).chain(kept).collect();
        // The needles are right: the live generation holds every plaintext value.
        let (in_mount, found) = scan(std::slice::from_ref(&mount), &[], &needles);
        assert!(in_mount >= 10);
        for v in plaintext_values() {
            assert!(found.iter().any(|f| f.ends_with(&format!("plaintext {v:?}"))), "{v} is installed");
        }
        let (count, leaks) = scan(&scan_roots(&env), &excluded, &needles);
        assert!(count > 5, "the inputs and the manifest were scanned too ({count} files)");
        assert!(leaks.is_empty(), "plaintext or key material outside the secrets mount:\n{}", leaks.join("\n"));
        // The scanner sees a staged copy anywhere it looks (here: TMPDIR and /var/tmp).
        for planted in [tmpdir(&env).join("staged"), PathBuf::from("/var/tmp/x/staged")] {
            std::fs::create_dir_all(planted.parent().unwrap()).unwrap();
            std::fs::write(&planted, format!("password={YAML_PW}\n")).unwrap();
            let (_, leaks) = scan(&scan_roots(&env), &excluded, &needles);
            assert_eq!(leaks.len(), 1, "the planted copy is found: {leaks:?}");
            std::fs::remove_file(&planted).unwrap();
        }
    }

    fn no_output_carries_plaintext_even_at_trace_level() {
        private_temp_dirs();
        let env = Env::new();
        let needles = all_needles();
        let mut runs = activations(&env);
        runs.extend(decrypt_runs(&env));
        // `decrypt` does print plaintext on stdout, so stdout is a working control.
        let shown = runs.iter().find(|r| r.label.starts_with("decrypt ") && r.label.ends_with("app.yaml")).expect("decrypt run");
        assert_eq!(shown.run.status, 0, "{}", shown.run.stderr);
        assert!(shown.run.stdout.contains(YAML_PW));
        assert!(runs.iter().filter(|r| r.run.status != 0).count() > 40, "many failing runs");
        check_outputs(&runs, &needles);
    }

    fn secret_files_are_never_open_to_more_than_their_final_owner_and_mode() {
        let env = Env::new();
        let i = make_inputs(&env);
        let m = full_manifest(&env, &i);
        let trace = traced_install(&env, &m, "trace-1.txt");
        check_trace(&env, &trace, &env.mount_point().join("1"));
        let mut changed = m.clone();
        changed["secrets"][0]["mode"] = json!("0400");
        changed["secrets"][1]["mode"] = json!("0666");
        changed["secrets"][1]["uid"] = json!(1234);
        let trace = traced_install(&env, &changed, "trace-2.txt");
        check_trace(&env, &trace, &env.mount_point().join("2"));
    }
}

local_test! {
    fn the_trace_checker_catches_an_unsafe_write_order() {
        let gen = Path::new("/g/1");
        let finals = BTreeMap::from([(gen.join("s"), (65534, 65534, 0o400))]);
        let safe = "1 openat(AT_FDCWD</>, \"/g/1/s\", O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, 000) = 3</g/1/s>\n\
                    1 fchown(3</g/1/s>, 65534, 65534) = 0\n1 fchmod(3</g/1/s>, 0400) = 0\n1 write(3</g/1/s>, \"x\", 1) = 1\n";
        assert_eq!(replay(safe, gen, &finals), Ok(1));
        for unsafe_trace in [
            // created group- and world-readable, narrowed afterwards
            "1 openat(AT_FDCWD</>, \"/g/1/s\", O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW, 0644) = 3</g/1/s>\n1 write(3</g/1/s>, \"x\", 1) = 1\n1 fchown(3</g/1/s>, 65534, 65534) = 0\n1 fchmod(3</g/1/s>, 0400) = 0\n",
            // group bits for root's group before the chown
            "1 openat(AT_FDCWD</>, \"/g/1/s\", O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW, 000) = 3</g/1/s>\n1 fchmod(3</g/1/s>, 0440) = 0\n1 fchown(3</g/1/s>, 65534, 65534) = 0\n1 fchmod(3</g/1/s>, 0400) = 0\n",
            // an existing file reused (no O_EXCL)
            "1 openat(AT_FDCWD</>, \"/g/1/s\", O_WRONLY|O_CREAT|O_TRUNC, 000) = 3</g/1/s>\n1 fchown(3</g/1/s>, 65534, 65534) = 0\n1 fchmod(3</g/1/s>, 0400) = 0\n",
            // final state differs from what is on disk
            "1 openat(AT_FDCWD</>, \"/g/1/s\", O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW, 000) = 3</g/1/s>\n1 fchmod(3</g/1/s>, 0400) = 0\n",
            // renamed into the generation from elsewhere
            "1 rename(\"/elsewhere\", \"/g/1/s\") = 0\n",
        ] {
            assert!(replay(unsafe_trace, gen, &finals).is_err(), "not caught:\n{unsafe_trace}");
        }
    }
}

/// Runs the installer under strace with umask 0 (so nothing hides behind the umask); returns
/// the trace text.
fn traced_install(env: &Env, m: &Value, name: &str) -> String {
    let manifest = env.write_manifest(m);
    let out = env.path(name);
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("umask 0; exec \"$@\"")
        .arg("sh")
        .args(["strace", "-f", "-y", "-qq", "-s", "1000000", "-o"])
        .arg(&out)
        .arg("-e")
        // A regular expression, so calls this strace does not know (fchmodat2) are no error.
        .arg("trace=/^(open|openat|openat2|creat|fchmod|fchmodat|fchmodat2|chmod|fchown|fchownat|chown|lchown|write|pwrite64|writev|pwritev|pwritev2|rename|renameat|renameat2|link|linkat|symlink|symlinkat|truncate|ftruncate)$")
        .arg(env!("CARGO_BIN_EXE_sops-install"))
        .arg(&manifest);
    verbose(env, &mut cmd, &[]);
    env.run_cmd(&mut cmd).ok();
    let text = std::fs::read_to_string(&out).expect("trace");
    std::fs::remove_file(&out).expect("remove trace");
    text
}

/// Checks a real trace against the generation on disk.
fn check_trace(env: &Env, trace: &str, generation: &Path) {
    let mut files = Vec::new();
    regular_files(generation, &[], &mut files);
    let finals: BTreeMap<PathBuf, (u32, u32, u32)> = files
        .iter()
        .map(|f| {
            let m = std::fs::symlink_metadata(f).expect("stat");
            (f.clone(), (m.uid(), m.gid(), m.mode() & 0o7777))
        })
        .collect();
    assert!(
        finals.len() >= 10,
        "the generation has its files: {finals:?}"
    );
    let modes: BTreeSet<u32> = finals.values().map(|v| v.2).collect();
    assert!(modes.len() >= 3, "several modes are exercised: {modes:?}");
    let created =
        replay(trace, generation, &finals).unwrap_or_else(|e| panic!("{e}\ntrace:\n{trace}"));
    assert_eq!(
        created,
        finals.len(),
        "every file of the generation was seen being created"
    );
    // Secret bytes are written only into the generation; outside the secrets mount (a ramfs)
    // the run lock is the only file opened for writing.
    let needles = all_needles();
    let fd_path =
        regex::Regex::new(r#"^(?:\d+ +)?(?:write|pwrite64|writev|pwritev2?)\(\d+<([^>]*)>"#)
            .unwrap();
    let open_for_write = regex::Regex::new(
        r#"^(?:\d+ +)?(?:open|openat|openat2|creat)\((?:[^,]*, )?"([^"]*)", ([A-Z_|]+)"#,
    )
    .unwrap();
    let lock = env.path(".secrets.d.lock");
    for line in trace.lines() {
        if let Some(c) = fd_path.captures(line) {
            let path = Path::new(&c[1]);
            let hits = found_in(&needles, line.as_bytes());
            assert!(
                hits.is_empty() || path.starts_with(generation),
                "secret bytes written to {}: {hits:?}",
                path.display()
            );
        }
        if let Some(c) = open_for_write.captures(line) {
            let flags = &c[2];
            let writes = ["O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC"]
                .iter()
                .any(|f| flags.contains(f));
            let path = Path::new(&c[1]);
            assert!(
                !writes || path.starts_with(env.mount_point()) || path == lock,
                "opened for writing outside the secrets mount: {line}"
            );
        }
    }
}

/// Replays `trace`: every file under `generation` must be created exclusively, never be open
/// to anyone its final state (`finals`) does not allow, and end in that final state. Returns
/// how many files were created.
fn replay(
    trace: &str,
    generation: &Path,
    finals: &BTreeMap<PathBuf, (u32, u32, u32)>,
) -> Result<usize, String> {
    let call = regex::Regex::new(r"^(?:\d+ +)?([a-z0-9_]+)\((.*)\) += (-?\d+)").unwrap();
    let quoted = regex::Regex::new(r#""((?:[^"\\]|\\.)*)""#).unwrap();
    let fd_arg = regex::Regex::new(r"^\d+<([^>]*)>").unwrap();
    // path -> (uid, gid, mode), root-owned at creation
    let mut state: BTreeMap<PathBuf, (u32, u32, u32)> = BTreeMap::new();
    for line in trace.lines() {
        if line.contains("unfinished") || line.contains("resumed>") {
            return Err(format!("interleaved syscall in the trace: {line}"));
        }
        let Some(c) = call.captures(line) else {
            continue;
        };
        if &c[3] == "-1" {
            continue;
        }
        let (name, args) = (&c[1], &c[2]);
        let strings: Vec<String> = quoted
            .captures_iter(args)
            .map(|q| q[1].to_string())
            .collect();
        let fd_path = fd_arg.captures(args).map(|f| PathBuf::from(&f[1]));
        let numbers: Vec<&str> = args.rsplit(", ").collect();
        let in_gen = |p: &Path| p.starts_with(generation) && p != generation;
        match name {
            "open" | "openat" | "openat2" | "creat" => {
                let Some(path) = strings.first().map(PathBuf::from) else {
                    continue;
                };
                let flags = args.split(", ").find(|a| a.starts_with("O_")).unwrap_or("");
                if !in_gen(&path) || !(flags.contains("O_CREAT") || name == "creat") {
                    if in_gen(&path)
                        && (flags.contains("O_WRONLY") || flags.contains("O_RDWR"))
                        && !state.contains_key(&path)
                    {
                        return Err(format!(
                            "{} opened for writing but not created here: {line}",
                            path.display()
                        ));
                    }
                    continue;
                }
                if !flags.contains("O_EXCL") || !flags.contains("O_NOFOLLOW") {
                    return Err(format!(
                        "{} is not created exclusively without following links: {line}",
                        path.display()
                    ));
                }
                let mode = u32::from_str_radix(numbers[0].trim(), 8)
                    .map_err(|_| format!("no mode in {line}"))?;
                if state.insert(path.clone(), (0, 0, mode)).is_some() {
                    return Err(format!("{} created twice", path.display()));
                }
            }
            "fchown" | "fchownat" | "chown" | "lchown" => {
                let path = fd_path.or_else(|| strings.first().map(PathBuf::from));
                let Some(path) = path.filter(|p| in_gen(p)) else {
                    continue;
                };
                let (uid, gid) = if name == "fchownat" {
                    (numbers[2], numbers[1])
                } else {
                    (numbers[1], numbers[0])
                };
                let Some(s) = state.get_mut(&path) else {
                    if finals.contains_key(&path) {
                        return Err(format!("chown of a file before it was created: {line}"));
                    }
                    continue; // a directory
                };
                let (uid, gid): (i64, i64) = (
                    uid.trim().parse().map_err(|_| line.to_string())?,
                    gid.trim().parse().map_err(|_| line.to_string())?,
                );
                if uid >= 0 {
                    s.0 = uid as u32;
                }
                if gid >= 0 {
                    s.1 = gid as u32;
                }
                if s.0 != 0 && s.2 & 0o6000 != 0 {
                    s.2 &= !0o6000;
                }
            }
            "fchmod" | "fchmodat" | "fchmodat2" | "chmod" => {
                let path = fd_path.or_else(|| strings.first().map(PathBuf::from));
                let Some(path) = path.filter(|p| in_gen(p)) else {
                    continue;
                };
                // fchmodat2 has a flags argument after the mode; the others end with it.
                let mode_arg = if name == "fchmodat2" {
                    numbers[1]
                } else {
                    numbers[0]
                };
                let mode = u32::from_str_radix(mode_arg.trim(), 8)
                    .map_err(|_| format!("no mode in {line}"))?;
                let Some(s) = state.get_mut(&path) else {
                    if finals.contains_key(&path) {
                        return Err(format!("chmod of a file before it was created: {line}"));
                    }
                    continue; // a directory
                };
                s.2 = mode;
            }
            "rename" | "renameat" | "renameat2" | "link" | "linkat" | "symlink" | "symlinkat" => {
                if let Some(target) = strings.last().map(PathBuf::from) {
                    if in_gen(&target) {
                        return Err(format!(
                            "something was moved or linked into the generation: {line}"
                        ));
                    }
                }
                continue;
            }
            "truncate" => continue,
            _ => {
                let Some(path) = fd_path.filter(|p| in_gen(p)) else {
                    continue;
                };
                if !state.contains_key(&path) {
                    return Err(format!("{name} to a file not created here: {line}"));
                }
            }
        }
        // After every event, nobody may be able to open the file who the final state excludes.
        for (path, now) in &state {
            let fin = finals
                .get(path)
                .ok_or(format!("{} is not in the final generation", path.display()))?;
            if let Some(why) = wider_than(*now, *fin) {
                return Err(format!("{}: {why} after: {line}", path.display()));
            }
        }
    }
    for (path, fin) in finals {
        let now = state
            .get(path)
            .ok_or(format!("{} was never created in the trace", path.display()))?;
        if (now.0, now.1, now.2 & 0o777) != (fin.0, fin.1, fin.2 & 0o777) {
            return Err(format!(
                "{}: the trace ends at {now:?}, the disk has {fin:?}",
                path.display()
            ));
        }
    }
    Ok(state.len())
}

/// Why (uid, gid, mode) `now` lets someone read or write whom `fin` does not, if it does.
fn wider_than(now: (u32, u32, u32), fin: (u32, u32, u32)) -> Option<String> {
    let (uid, gid, mode) = now;
    let (fuid, fgid, fmode) = fin;
    let rw = |m: u32, shift: u32| (m >> shift) & 0o6;
    if uid != 0 && uid != fuid {
        return Some(format!(
            "owned by uid {uid}, not root or the final owner {fuid}"
        ));
    }
    let other_extra = rw(mode, 0) & !rw(fmode, 0);
    if other_extra != 0 {
        return Some(format!("mode {mode:o} opens it to others beyond {fmode:o}"));
    }
    let group_allowed = if gid == fgid {
        rw(fmode, 3) | rw(fmode, 0)
    } else {
        rw(fmode, 0)
    };
    if rw(mode, 3) & !group_allowed != 0 {
        return Some(format!(
            "mode {mode:o} with gid {gid} opens it to a group beyond {fmode:o} gid {fgid}"
        ));
    }
    let owner_allowed = if uid == 0 || uid == fuid {
        0o6
    } else {
        rw(fmode, 0)
    };
    if rw(mode, 6) & !owner_allowed != 0 {
        return Some(format!("mode {mode:o} opens it to uid {uid}"));
    }
    None
}
