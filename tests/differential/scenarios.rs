//! The scenarios sops-nix supports, each run through both binaries and compared. A scenario
//! that differs on purpose names the README entry ("Where we differ from sops-nix") and says
//! which part of the result is not compared, or what each side must show instead.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::common;
use crate::world::{self, Case, Entry, Step, StepResult};

/// Sops files made by the real sops for the fixture age key, in a directory outside `/run`.
pub struct Lab {
    pub dir: tempfile::TempDir,
    pub key: PathBuf,
    pub files: BTreeMap<&'static str, PathBuf>,
}

/// (name, extension, plaintext) of the sops files every case may use.
pub const FILES: &[(&str, &str, &str)] = &[
    (
        "yaml",
        "yaml",
        "db:\n    password: hunter2\n    user: admin\nplain: value1\nnum: 42\nlist:\n    - a\n    - b\n",
    ),
    (
        "yaml2",
        "yaml",
        "db:\n    password: hunter3\n    user: admin\nplain: value1\nnum: 43\nlist:\n    - a\n    - b\n",
    ),
    (
        "json",
        "json",
        "{\"flat\": \"f1\", \"api\": {\"token\": \"tok123\"}, \"n\": 7}",
    ),
    ("json2", "json", "{\"flat\": \"f2\", \"api\": {\"token\": \"tok124\"}, \"n\": 8}"),
    ("dotenv", "env", "A=1\nB=two words\n"),
    ("dotenv2", "env", "A=2\nB=two words\n"),
    ("ini", "ini", "[sec]\nk = v\nother = x\n"),
    ("ini2", "ini", "[sec]\nk = w\nother = x\n"),
    ("binary", "bin", "binary-data\nline two\n"),
    ("binary2", "bin", "binary-data\nline three\n"),
];

impl Lab {
    pub fn new() -> Lab {
        assert!(
            nix::unistd::geteuid().is_root(),
            "differential tests need root (they mount ramfs in private namespaces)"
        );
        let dir = tempfile::Builder::new()
            .prefix("sops-install-diff-")
            .tempdir()
            .expect("temp dir");
        let fixtures = common::fixtures_dir();
        let key = dir.path().join("age-key.txt");
        std::fs::copy(fixtures.join("keys/age1.txt"), &key).expect("copy the age key");
        let recipient = std::fs::read_to_string(&key)
            .expect("key")
            .lines()
            .find_map(|l| l.strip_prefix("# public key: ").map(str::to_string))
            .expect("public key comment");
        let sops = common::real_sops();
        let mut files = BTreeMap::new();
        // The fixture ssh host key, and a file for its ssh-to-age recipient.
        let host = common::fixture_host_key();
        let ssh_key = dir.path().join("ssh_host_ed25519_key");
        std::fs::copy(&host.path, &ssh_key).expect("copy the ssh key");
        let ssh_plain: &[(&str, &str, &str)] = &[("ssh_yaml", "yaml", "from_ssh: opened\n")];
        for (i, (name, ext, plain)) in FILES.iter().chain(ssh_plain).enumerate() {
            let recipient = if i < FILES.len() {
                recipient.clone()
            } else {
                host.converted.clone()
            };
            let plain_path = dir.path().join(format!("plain.{ext}"));
            std::fs::write(&plain_path, plain).expect("plaintext");
            let mut cmd = Command::new(&sops);
            cmd.args(["encrypt", "--age", &recipient]);
            if *ext == "bin" {
                cmd.args(["--input-type", "binary", "--output-type", "json"]);
            }
            let out = cmd
                .arg(&plain_path)
                .current_dir(dir.path())
                .env("HOME", dir.path())
                .env_remove("SOPS_AGE_KEY_FILE")
                .output()
                .expect("sops runs");
            assert!(
                out.status.success(),
                "sops encrypt {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            std::fs::remove_file(&plain_path).expect("remove plaintext");
            let enc = dir.path().join(format!("{name}.{ext}"));
            std::fs::write(&enc, out.stdout).expect("write sops file");
            files.insert(*name, enc);
        }
        files.insert("ssh_key", ssh_key);
        Lab { dir, key, files }
    }

    pub fn file(&self, name: &str) -> &Path {
        &self.files[name]
    }
}

/// A secret as the NixOS module writes it (default path under /run/secrets).
pub fn secret(name: &str, file: &Path, key: &str, format: &str) -> Value {
    json!({
        "name": name, "key": key, "path": format!("/run/secrets/{name}"), "owner": null,
        "uid": 0, "group": null, "gid": 0, "sopsFile": file, "format": format, "mode": "0400",
        "restartUnits": [], "reloadUnits": [], "neededForUsers": false, "sopsFileHash": ""
    })
}

pub fn template(name: &str, content: &str) -> Value {
    json!({
        "name": name, "content": content, "file": "",
        "path": format!("/run/secrets/rendered/{name}"), "mode": "0400", "owner": null,
        "uid": 0, "group": null, "gid": 0, "restartUnits": [], "reloadUnits": []
    })
}

/// A system-mode manifest with the module's default paths.
pub fn manifest(lab: &Lab, secrets: Value, templates: Value) -> Value {
    json!({
        "secrets": secrets,
        "templates": templates,
        "placeholderBySecretName": {},
        "secretsMountPoint": "/run/secrets.d",
        "symlinkPath": "/run/secrets",
        "keepGenerations": 1,
        "sshKeyPaths": [],
        "gnupgHome": null,
        "ageKeyFile": lab.key,
        "ageSshKeyPaths": [],
        "useTmpfs": false,
        "userMode": false,
        "logging": { "keyImport": true, "secretChanges": true }
    })
}

pub fn step(manifest: Value) -> Step {
    Step {
        manifest,
        args: vec![],
        env: BTreeMap::new(),
    }
}

pub fn with_env(mut s: Step, k: &str, v: &str) -> Step {
    s.env.insert(k.into(), v.into());
    s
}

pub fn with_args(mut s: Step, args: &[&str]) -> Step {
    s.args = args.iter().map(|a| a.to_string()).collect();
    s
}

/// What a scenario expects besides equality.
#[derive(Default, Clone)]
pub struct Expect {
    /// Paths (prefixes) under /run not compared, with the README entry explaining why.
    pub skip_paths: Vec<(&'static str, &'static str)>,
    /// Do not compare stdout, with the README entry explaining why.
    pub skip_stdout: Option<&'static str>,
    /// Each failing run's stderr must mention these (the class of the error).
    pub error_mentions: Vec<&'static str>,
    /// A deliberate difference in exit status: (ours, original, README entry).
    pub statuses: Option<(bool, bool, &'static str)>,
    /// The last run fails (on both sides); every other run must succeed.
    pub last_fails: bool,
}

pub struct Scenario {
    pub case: Case,
    pub expect: Expect,
}

/// Files that are not secrets and that only one side makes, each a deliberate difference in
/// README "Where we differ": sops-nix's copy of the identities in the mount point
/// (`age-keys.txt`; ours stay in memory, W2); our lock beside the mount point
/// (`/run/.secrets.d.lock`, concurrent runs); our record of the custom-path links we made
/// (`custom-links.json` in the mount point, so stale ones are removed, W20).
fn always_skipped(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name == "age-keys.txt"
        || name == "custom-links.json"
        || (name.starts_with('.') && name.ends_with(".d.lock"))
}

/// Compares the results of one case; returns the differences, one line each.
pub fn compare(
    case: &Case,
    expect: &Expect,
    ours: &[StepResult],
    orig: &[StepResult],
) -> Vec<String> {
    let mut diffs = Vec::new();
    let mut observed = std::collections::BTreeSet::new();
    for (i, (a, b)) in ours.iter().zip(orig).enumerate() {
        let at = format!("{} step {i}", case.name);
        if let Some((ours_ok, orig_ok, _)) = expect.statuses {
            if (a.status == 0) != ours_ok || (b.status == 0) != orig_ok {
                diffs.push(format!(
                    "{at}: expected ours ok={ours_ok}, original ok={orig_ok}; got {} / {}\n  ours: {}\n  original: {}",
                    a.status, b.status, a.stderr.trim(), b.stderr.trim()
                ));
            }
        } else if (a.status != 0) != (expect.last_fails && i + 1 == ours.len()) {
            diffs.push(format!(
                "{at}: expected {}, got status {} on both sides\n  stderr: {}",
                if a.status == 0 {
                    "a failure"
                } else {
                    "success"
                },
                a.status,
                a.stderr.trim()
            ));
        }
        if expect.statuses.is_none() && a.status != b.status {
            diffs.push(format!(
                "{at}: exit status {} (ours) vs {} (original)\n  ours stderr: {}\n  original stderr: {}",
                a.status,
                b.status,
                a.stderr.trim(),
                b.stderr.trim()
            ));
        }
        for (who, r) in [("ours", a), ("original", b)] {
            if r.status != 0 {
                for m in &expect.error_mentions {
                    if !r.stderr.contains(m) {
                        diffs.push(format!(
                            "{at}: {who}'s error does not mention {m:?}: {}",
                            r.stderr.trim()
                        ));
                    }
                }
            }
        }
        if expect.skip_stdout.is_none() {
            let la: Vec<&str> = a.stdout.lines().collect();
            let lb: Vec<&str> = b.stdout.lines().collect();
            if la != lb {
                diffs.push(format!(
                    "{at}: stdout differs\n  ours:     {la:?}\n  original: {lb:?}"
                ));
            }
        }
        if let Some(readme) = expect.skip_stdout {
            if a.stdout != b.stdout {
                observed.insert(format!("stdout {readme}"));
            }
        }
        for (prefix, readme) in &expect.skip_paths {
            let under = |t: &BTreeMap<String, Entry>| -> Vec<(String, Entry)> {
                t.iter()
                    .filter(|(p, _)| p.starts_with(prefix))
                    .map(|(p, e)| (p.clone(), e.clone()))
                    .collect()
            };
            if under(&a.tree) != under(&b.tree) {
                observed.insert(format!("{prefix} {readme}"));
            }
        }
        let keep = |p: &String| {
            !always_skipped(p) && !expect.skip_paths.iter().any(|(s, _)| p.starts_with(s))
        };
        let ta: BTreeMap<&String, &Entry> = a.tree.iter().filter(|(p, _)| keep(p)).collect();
        let tb: BTreeMap<&String, &Entry> = b.tree.iter().filter(|(p, _)| keep(p)).collect();
        for (p, e) in &ta {
            match tb.get(p) {
                None => diffs.push(format!("{at}: only ours has {p}: {e:?}")),
                Some(o) if o != e => diffs.push(format!(
                    "{at}: {p} differs\n  ours:     {e:?}\n  original: {o:?}"
                )),
                _ => {}
            }
        }
        for (p, e) in &tb {
            if !ta.contains_key(p) {
                diffs.push(format!("{at}: only the original has {p}: {e:?}"));
            }
        }
    }
    // A declared deliberate difference must show, or the declaration is stale.
    let declared = expect
        .skip_stdout
        .map(|r| format!("stdout {r}"))
        .into_iter()
        .chain(expect.skip_paths.iter().map(|(p, r)| format!("{p} {r}")));
    for d in declared {
        if !observed.contains(&d) {
            diffs.push(format!(
                "{}: the deliberate difference {d} did not show (both binaries agree there)",
                case.name
            ));
        }
    }
    diffs
}

/// Runs scenarios through both binaries (one namespace each) and returns the differences.
pub fn differences(lab: &Lab, scenarios: &[Scenario]) -> Vec<String> {
    let original = world::original("SOPS_NIX_INSTALL_SECRETS", "sops-install-secrets")
        .unwrap_or_else(|e| panic!("{e}"));
    let cases: Vec<Case> = scenarios.iter().map(|s| s.case.clone()).collect();
    let ours = world::run_cases(&world::ours(), lab.dir.path(), &cases);
    let orig = world::run_cases(&original, lab.dir.path(), &cases);
    let mut diffs = Vec::new();
    for ((s, a), b) in scenarios.iter().zip(&ours).zip(&orig) {
        diffs.extend(compare(&s.case, &s.expect, a, b));
    }
    diffs
}

fn case(name: &str, steps: Vec<Step>) -> Case {
    Case {
        name: name.into(),
        steps,
    }
}

fn plain(name: &str, steps: Vec<Step>) -> Scenario {
    Scenario {
        case: case(name, steps),
        expect: Expect::default(),
    }
}

fn expecting(name: &str, steps: Vec<Step>, expect: Expect) -> Scenario {
    Scenario {
        case: case(name, steps),
        expect,
    }
}

/// Every scenario, in one list (so each binary runs them in one namespace).
pub fn list(lab: &Lab) -> Vec<Scenario> {
    let f = |n: &str| lab.file(n).to_path_buf();
    let mut v = Vec::new();

    // Five formats: keys, nested keys, whole files.
    let formats = json!([
        secret("y_nested", &f("yaml"), "db/password", "yaml"),
        secret("y_top", &f("yaml"), "plain", "yaml"),
        secret("y_whole", &f("yaml"), "", "yaml"),
        secret("j_flat", &f("json"), "flat", "json"),
        secret("j_whole", &f("json"), "", "json"),
        secret("d_whole", &f("dotenv"), "", "dotenv"),
        secret("i_whole", &f("ini"), "", "ini"),
        secret("b_whole", &f("binary"), "", "binary"),
    ]);
    v.push(plain(
        "five_formats",
        vec![step(manifest(lab, formats, json!([])))],
    ));

    // The ssh host key as an age identity (ageSshKeyPaths), no age key file.
    let mut m = manifest(
        lab,
        json!([secret("from_ssh", &f("ssh_yaml"), "from_ssh", "yaml")]),
        json!([]),
    );
    m["ageKeyFile"] = Value::Null;
    m["ageSshKeyPaths"] = json!([f("ssh_key")]);
    v.push(plain("age_ssh_key", vec![step(m)]));

    // Owners by name and number, modes.
    let mut by_name = secret("by_name", &f("yaml"), "plain", "yaml");
    by_name["owner"] = json!("alice");
    by_name["group"] = json!("staff");
    by_name["mode"] = json!("0440");
    let mut owner_only = secret("owner_only", &f("yaml"), "plain", "yaml");
    owner_only["owner"] = json!("bob");
    let mut by_number = secret("by_number", &f("yaml"), "plain", "yaml");
    by_number["uid"] = json!(1501);
    by_number["gid"] = json!(1600);
    by_number["mode"] = json!("0600");
    let mut wide = secret("wide", &f("json"), "flat", "json");
    wide["mode"] = json!("0644");
    let mut sub = secret("sub/dir/deep", &f("yaml"), "plain", "yaml");
    sub["path"] = json!("/run/secrets/sub/dir/deep");
    v.push(plain(
        "owners_and_modes",
        vec![step(manifest(
            lab,
            json!([by_name, owner_only, by_number, wide, sub]),
            json!([]),
        ))],
    ));

    // Templates, with owners and a custom path.
    let mut m = manifest(
        lab,
        json!([
            secret("pw", &f("yaml"), "db/password", "yaml"),
            secret("tok", &f("json"), "flat", "json")
        ]),
        json!([]),
    );
    let mut t1 = template(
        "conf",
        "user=admin\npassword=<SOPS:pw:PLACEHOLDER>\ntoken=<SOPS:tok:PLACEHOLDER>\n",
    );
    t1["owner"] = json!("alice");
    t1["mode"] = json!("0440");
    let mut t2 = template("linked", "x=<SOPS:pw:PLACEHOLDER>");
    t2["path"] = json!("/run/custom/etc/linked.conf");
    let t3 = template("no_placeholder", "static\n");
    m["templates"] = json!([t1, t2, t3]);
    m["placeholderBySecretName"] =
        json!({ "pw": "<SOPS:pw:PLACEHOLDER>", "tok": "<SOPS:tok:PLACEHOLDER>" });
    let mut m2 = m.clone();
    m2["secrets"][0]["sopsFile"] = json!(f("yaml2"));
    m2["templates"][0]["restartUnits"] = json!(["conf.service"]);
    v.push(plain("templates", vec![step(m), step(m2)]));

    // Custom paths (symlinks to the live generation), then one removed.
    let mut c1 = secret("c1", &f("yaml"), "plain", "yaml");
    c1["path"] = json!("/run/custom/a/c1");
    let mut c2 = secret("c2", &f("dotenv"), "", "dotenv");
    c2["path"] = json!("/run/custom/c2");
    let first = manifest(lab, json!([c1.clone(), c2]), json!([]));
    let second = manifest(lab, json!([c1]), json!([]));
    v.push(expecting(
        "custom_paths",
        vec![step(first), step(second)],
        Expect {
            // sops-nix leaves the link of a dropped custom path dangling; we remove it (W20).
            skip_paths: vec![("/run/custom/c2", "W20")],
            ..Expect::default()
        },
    ));

    // keepGenerations: 1, 2 and 0 (all) over four runs with changes.
    for keep in [1u64, 2, 0] {
        let mut steps = Vec::new();
        for i in 0..4 {
            let file = if i % 2 == 0 { "yaml" } else { "yaml2" };
            let mut m = manifest(
                lab,
                json!([secret("pw", &f(file), "db/password", "yaml")]),
                json!([]),
            );
            m["keepGenerations"] = json!(keep);
            steps.push(step(m));
        }
        v.push(plain(&format!("keep_generations_{keep}"), steps));
    }

    // Secrets added, changed and removed between runs; restart and reload lists.
    let mut r1 = secret("r1", &f("yaml"), "db/password", "yaml");
    r1["restartUnits"] = json!(["a.service", "b.service"]);
    r1["reloadUnits"] = json!(["c.service"]);
    let mut r2 = secret("r2", &f("json"), "flat", "json");
    r2["reloadUnits"] = json!(["d.service"]);
    let mut r3 = secret("r3", &f("ini"), "", "ini");
    r3["restartUnits"] = json!(["e.service"]);
    let run1 = manifest(lab, json!([r1.clone(), r2.clone(), r3.clone()]), json!([]));
    let mut r1b = r1.clone();
    r1b["sopsFile"] = json!(f("yaml2"));
    let mut r2b = r2.clone();
    r2b["sopsFile"] = json!(f("json2"));
    let mut r4 = secret("r4", &f("binary"), "", "binary");
    r4["restartUnits"] = json!(["f.service"]);
    let run2 = manifest(lab, json!([r1b.clone(), r2b.clone(), r4]), json!([]));
    let run3 = manifest(lab, json!([r1b, r2b]), json!([]));
    v.push(plain(
        "restart_reload_lists",
        vec![step(run1.clone()), step(run2.clone()), step(run3.clone())],
    ));
    v.push(expecting(
        "restart_reload_via_systemctl",
        vec![
            with_env(step(run1.clone()), "SOPS_RESTART_UNITS_VIA_SYSTEMCTL", "1"),
            with_env(step(run2.clone()), "SOPS_RESTART_UNITS_VIA_SYSTEMCTL", "1"),
            with_env(step(run3), "SOPS_RESTART_UNITS_VIA_SYSTEMCTL", "1"),
        ],
        Expect {
            // We end systemctl's options with `--` before the unit names (issue 12).
            skip_paths: vec![("/run/systemctl-calls", "issue 12")],
            ..Expect::default()
        },
    ));

    // dry-activate after a real run: the would-lines and the dry lists.
    v.push(expecting(
        "dry_activate",
        vec![
            step(run1.clone()),
            with_env(step(run2.clone()), "NIXOS_ACTION", "dry-activate"),
        ],
        Expect {
            // sops-nix writes a new generation while dry (not linked); we write nothing (W7).
            skip_paths: vec![("/run/secrets.d/2", "W7")],
            ..Expect::default()
        },
    ));
    v.push(expecting(
        "dry_activate_via_systemctl",
        vec![
            step(run1.clone()),
            with_env(
                with_env(step(run2.clone()), "NIXOS_ACTION", "dry-activate"),
                "SOPS_RESTART_UNITS_VIA_SYSTEMCTL",
                "1",
            ),
        ],
        Expect {
            skip_paths: vec![("/run/secrets.d/2", "W7")],
            ..Expect::default()
        },
    ));

    // neededForUsers with -ignore-passwd: the for-users mount point, owners by number only.
    let mut u = secret("user_pw", &f("yaml"), "db/password", "yaml");
    u["neededForUsers"] = json!(true);
    u["path"] = json!("/run/secrets-for-users/user_pw");
    let mut m = manifest(lab, json!([u]), json!([]));
    m["secretsMountPoint"] = json!("/run/secrets-for-users.d");
    m["symlinkPath"] = json!("/run/secrets-for-users");
    v.push(plain(
        "needed_for_users",
        vec![with_args(step(m.clone()), &["-ignore-passwd"])],
    ));

    // Issue 18 item 5: a neededForUsers template in the for-users manifest is rendered there,
    // as root, the same by both (the original ignores the template's neededForUsers field).
    let mut ut = template("user_hash", "hash=<SOPS:pw:PLACEHOLDER>\n");
    ut["neededForUsers"] = json!(true);
    ut["path"] = json!("/run/secrets-for-users/rendered/user_hash");
    ut["mode"] = json!("0440");
    ut["owner"] = json!("alice");
    m["templates"] = json!([ut]);
    m["placeholderBySecretName"] = json!({ "user_pw": "<SOPS:pw:PLACEHOLDER>" });
    v.push(plain(
        "needed_for_users_template",
        vec![with_args(step(m), &["-ignore-passwd"])],
    ));

    // User mode (home-manager): paths under the runtime directory, no owners.
    let mut us = secret("hm", &f("yaml"), "db/password", "yaml");
    us["path"] = json!("/run/user/1500/secrets/hm");
    let mut ul = secret("hm_linked", &f("json"), "flat", "json");
    ul["path"] = json!("/run/user/1500/config/app/token");
    let mut m = manifest(lab, json!([us, ul]), json!([]));
    m["secretsMountPoint"] = json!("/run/user/1500/secrets.d");
    m["symlinkPath"] = json!("/run/user/1500/secrets");
    m["userMode"] = json!(true);
    m["logging"] = json!({ "keyImport": false, "secretChanges": false });
    let user_step = |m: Value| with_env(step(m), "XDG_RUNTIME_DIR", "/run/user/1500");
    v.push(plain("user_mode", vec![user_step(m.clone()), user_step(m)]));

    // Check modes: nothing is installed; a bad key fails only the sopsfile check.
    for mode in ["manifest", "sopsfile"] {
        v.push(plain(
            &format!("check_mode_{mode}"),
            vec![with_args(
                step(manifest(
                    lab,
                    json!([secret("pw", &f("yaml"), "db/password", "yaml")]),
                    json!([]),
                )),
                &[&format!("-check-mode={mode}")],
            )],
        ));
    }
    v.push(expecting(
        "check_mode_sopsfile_missing_key",
        vec![with_args(
            step(manifest(
                lab,
                json!([secret("pw", &f("yaml"), "db/nothere", "yaml")]),
                json!([]),
            )),
            &["-check-mode=sopsfile"],
        )],
        Expect {
            error_mentions: vec!["nothere"],
            last_fails: true,
            ..Expect::default()
        },
    ));

    // Failures: each one fails, names what failed, and leaves the live generation alone.
    let good = manifest(
        lab,
        json!([secret("pw", &f("yaml"), "db/password", "yaml")]),
        json!([]),
    );
    let fail = |name: &str, bad: Value, mentions: Vec<&'static str>| {
        expecting(
            name,
            vec![step(good.clone()), step(bad)],
            Expect {
                error_mentions: mentions,
                last_fails: true,
                ..Expect::default()
            },
        )
    };
    v.push(fail(
        "fail_missing_key",
        manifest(
            lab,
            json!([secret("pw", &f("yaml"), "db/nothere", "yaml")]),
            json!([]),
        ),
        vec!["nothere"],
    ));
    v.push(fail(
        "fail_missing_file",
        manifest(
            lab,
            json!([secret(
                "pw",
                &lab.dir.path().join("absent.yaml"),
                "x",
                "yaml"
            )]),
            json!([]),
        ),
        vec!["absent.yaml"],
    ));
    let mut wrong_key = good.clone();
    wrong_key["ageKeyFile"] = json!(common::fixtures_dir().join("keys/age2.txt"));
    v.push(fail("fail_wrong_age_key", wrong_key, vec![]));
    let mut bad_owner = secret("pw", &f("yaml"), "db/password", "yaml");
    bad_owner["owner"] = json!("nosuchuser");
    v.push(fail(
        "fail_unknown_owner",
        manifest(lab, json!([bad_owner]), json!([])),
        vec!["nosuchuser"],
    ));
    let mut bad_group = secret("pw", &f("yaml"), "db/password", "yaml");
    bad_group["group"] = json!("nosuchgroup");
    v.push(fail(
        "fail_unknown_group",
        manifest(lab, json!([bad_group]), json!([])),
        vec!["nosuchgroup"],
    ));
    let mut bad_mode = secret("pw", &f("yaml"), "db/password", "yaml");
    bad_mode["mode"] = json!("rw-r");
    v.push(fail(
        "fail_bad_mode",
        manifest(lab, json!([bad_mode]), json!([])),
        vec!["rw-r"],
    ));
    v.push(fail(
        "fail_yaml_read_as_json",
        manifest(
            lab,
            json!([secret("pw", &f("yaml"), "plain", "json")]),
            json!([]),
        ),
        vec![],
    ));
    // Not failures: a JSON file read as YAML (JSON is YAML), a key given for a binary file.
    v.push(plain(
        "json_file_read_as_yaml",
        vec![step(manifest(
            lab,
            json!([secret("pw", &f("json"), "flat", "yaml")]),
            json!([]),
        ))],
    ));
    v.push(plain(
        "binary_ignores_key",
        vec![step(manifest(
            lab,
            json!([secret("pw", &f("binary"), "x", "binary")]),
            json!([]),
        ))],
    ));
    deliberate(lab, &mut v);
    v
}

/// The deliberate differences of README "Where we differ from sops-nix", each pinned: the
/// declared difference must show.
fn deliberate(lab: &Lab, v: &mut Vec<Scenario>) {
    let f = |n: &str| lab.file(n).to_path_buf();
    let everything = |readme: &'static str| vec![("/run/", readme)];
    // W9: an owner change restarts the secret's units (sops-nix compares bytes only).
    let mut a = secret("owned", &f("yaml"), "plain", "yaml");
    a["owner"] = json!("alice");
    a["restartUnits"] = json!(["owned.service"]);
    let mut b = a.clone();
    b["owner"] = json!("bob");
    v.push(expecting(
        "w9_owner_change_restarts",
        vec![
            step(manifest(lab, json!([a]), json!([]))),
            step(manifest(lab, json!([b]), json!([]))),
        ],
        Expect {
            skip_stdout: Some("W9"),
            skip_paths: vec![("/run/nixos/activation-restart-list", "W9")],
            ..Expect::default()
        },
    ));
    // W11: a nested key in a JSON file.
    v.push(expecting(
        "w11_json_nested_key",
        vec![step(manifest(
            lab,
            json!([secret("tok", &f("json"), "api/token", "json")]),
            json!([]),
        ))],
        Expect {
            statuses: Some((true, false, "W11")),
            skip_paths: everything("W11"),
            ..Expect::default()
        },
    ));
    // A key that selects a map or a number.
    for (name, key) in [("map", "db"), ("num", "num")] {
        v.push(expecting(
            &format!("w11_key_selects_{name}"),
            vec![step(manifest(
                lab,
                json!([secret(name, &f("yaml"), key, "yaml")]),
                json!([]),
            ))],
            Expect {
                statuses: Some((true, false, "W11")),
                skip_paths: everything("W11"),
                ..Expect::default()
            },
        ));
    }
    // W13: an unknown format.
    v.push(expecting(
        "w13_unknown_format",
        vec![step(manifest(
            lab,
            json!([secret("pw", &f("yaml"), "plain", "toml")]),
            json!([]),
        ))],
        Expect {
            statuses: Some((false, true, "W13")),
            skip_paths: everything("W13"),
            ..Expect::default()
        },
    ));
    // W19: names that leave the generation, duplicates.
    let mut up = secret("../escape", &f("yaml"), "plain", "yaml");
    up["path"] = json!("/run/secrets/../escape");
    // Both fail; sops-nix only after it swapped in a new generation (then its link fails).
    v.push(expecting(
        "w19_dotdot_name",
        vec![step(manifest(lab, json!([up]), json!([])))],
        Expect {
            error_mentions: vec!["escape"],
            last_fails: true,
            skip_paths: everything("W19"),
            ..Expect::default()
        },
    ));
    v.push(expecting(
        "w19_duplicate_name",
        vec![step(manifest(
            lab,
            json!([
                secret("dup", &f("yaml"), "plain", "yaml"),
                secret("dup", &f("json"), "flat", "json")
            ]),
            json!([]),
        ))],
        Expect {
            statuses: Some((false, true, "W19")),
            skip_paths: everything("W19"),
            ..Expect::default()
        },
    ));
    // W14: an extra positional argument.
    v.push(expecting(
        "w14_extra_argument",
        vec![with_args(
            step(manifest(
                lab,
                json!([secret("pw", &f("yaml"), "plain", "yaml")]),
                json!([]),
            )),
            &["/nonexistent/first.json"],
        )],
        // sops-nix prints its usage and exits 0 having installed nothing.
        Expect {
            statuses: Some((false, true, "W14")),
            error_mentions: vec!["manifest"],
            ..Expect::default()
        },
    ));
    // W16a: a template that uses the placeholder of a secret not in this manifest.
    let mut m = manifest(
        lab,
        json!([secret("pw", &f("yaml"), "plain", "yaml")]),
        json!([template(
            "t",
            "a=<SOPS:pw:PLACEHOLDER> b=<SOPS:other:PLACEHOLDER>"
        )]),
    );
    m["placeholderBySecretName"] =
        json!({ "pw": "<SOPS:pw:PLACEHOLDER>", "other": "<SOPS:other:PLACEHOLDER>" });
    v.push(expecting(
        "w16a_foreign_placeholder",
        vec![step(m)],
        Expect {
            statuses: Some((false, true, "W16a")),
            skip_paths: everything("W16a"),
            ..Expect::default()
        },
    ));
}

/// Every scenario through both binaries; the differences fail the test.
pub fn all() {
    let lab = Lab::new();
    let scenarios = list(&lab);
    let diffs = differences(&lab, &scenarios);
    println!(
        "differential: {} scenarios, {} runs each binary",
        scenarios.len(),
        scenarios.iter().map(|s| s.case.steps.len()).sum::<usize>()
    );
    assert!(
        diffs.is_empty(),
        "{} unexplained differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}
