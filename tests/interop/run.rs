//! The interop comparison harness: keys and `.sops.yaml` rules for every encryption option,
//! encryption of each document with the real sops, then every decryption asked of it run by
//! the real sops and by the binary under test, compared on exit status and stdout bytes.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{self, Outcome, Sandbox, UnderTest};
use crate::corpus::{Doc, Opt, Store};

/// Keys, rules and programs common to every document.
pub struct Setup<'a> {
    pub sandbox: &'a Sandbox,
    pub sops: PathBuf,
    pub under_test: UnderTest,
    /// sops 3.13.2, which `decrypt` follows where it differs from the sops compared with.
    pub newest: Option<PathBuf>,
    /// sops 3.11, which decrypts what 3.13.2's MAC regression refuses (getsops/sops#2243).
    pub oldest: Option<PathBuf>,
    recipients: [String; 5],
    age_file: [PathBuf; 4],
    ssh_key: PathBuf,
}

const R1: usize = 0;
const R2: usize = 1;
const R3: usize = 2;
const RSSH: usize = 3;
const RCONV: usize = 4;

impl<'a> Setup<'a> {
    /// Fresh age keys from age-keygen; the ssh host key (and its ssh-to-age identity) from the
    /// sops fixtures (tests/data/sops).
    pub fn new(sandbox: &'a Sandbox, fixtures: &Path) -> Setup<'a> {
        let mut recipients: [String; 5] = Default::default();
        let mut identities = Vec::new();
        for (i, r) in recipients.iter_mut().take(3).enumerate() {
            let file = sandbox.path(&format!("age{}.txt", i + 1));
            let out = common::run(Command::new("age-keygen").arg("-o").arg(&file));
            assert_eq!(out.status, 0, "age-keygen failed: {}", out.stderr_text());
            let out = common::run(Command::new("age-keygen").arg("-y").arg(&file));
            assert_eq!(out.status, 0, "age-keygen -y failed: {}", out.stderr_text());
            *r = String::from_utf8_lossy(&out.stdout).trim().to_string();
            identities.push(std::fs::read(&file).unwrap_or_else(|e| panic!("{e}")));
        }
        let keys = fixtures.join("keys");
        let read = |name: &str| {
            std::fs::read_to_string(keys.join(name))
                .unwrap_or_else(|e| panic!("cannot read {name} of the fixtures: {e}"))
        };
        recipients[RSSH] = read("ssh_host_ed25519_key.pub").trim().to_string();
        let converted = read("ssh_host_ed25519_key.age.txt");
        recipients[RCONV] = converted
            .lines()
            .find_map(|l| l.strip_prefix("# public key: "))
            .unwrap_or_else(|| panic!("ssh_host_ed25519_key.age.txt has no `# public key:` line"))
            .trim()
            .to_string();
        let shamir_pair = [identities[0].clone(), identities[2].clone()].concat();
        let age_file = [
            sandbox.path("age1.txt"),
            sandbox.path("age2.txt"),
            sandbox.write("age1+age3.txt", &shamir_pair),
            keys.join("ssh_host_ed25519_key.age.txt"),
        ];
        let under_test = common::under_test();
        let setup = Setup {
            sandbox,
            sops: common::real_sops(),
            newest: (!under_test.is_sops).then(common::sops_versions::sops_3_13),
            oldest: (!under_test.is_sops).then(common::sops_3_11),
            under_test,
            recipients,
            age_file,
            ssh_key: keys.join("ssh_host_ed25519_key"),
        };
        for opt in Opt::ALL {
            sandbox.write(&config_name(opt), setup.config(opt).as_bytes());
        }
        setup
    }

    /// The `.sops.yaml` creation rule for an option.
    fn config(&self, opt: Opt) -> String {
        let r = &self.recipients;
        let rule = match opt {
            Opt::OneRecipient => format!("age: {}", r[R1]),
            Opt::TwoRecipients => format!("age: {},{}", r[R1], r[R2]),
            Opt::Shamir => format!(
                "shamir_threshold: 2\n    key_groups:\n      - age: [{}]\n      - age: [{}]\n      - age: [{}]",
                r[R1], r[R2], r[R3]
            ),
            Opt::SshConverted => format!("age: {}", r[RCONV]),
            Opt::SshNative => format!("age: \"{}\"", r[RSSH]),
            Opt::EncryptedRegex => rule(r, "encrypted_regex: '^(password|token|api_token|data|PASSWORD|API_TOKEN|db)$'"),
            Opt::UnencryptedRegex => rule(r, "unencrypted_regex: '^(name|host|HOST|port|section1)$'"),
            Opt::UnencryptedSuffix => rule(r, "unencrypted_suffix: _plain"),
            Opt::EncryptedSuffix => rule(r, "encrypted_suffix: _enc"),
            Opt::MacOnly => rule(
                r,
                "mac_only_encrypted: true\n    encrypted_regex: '^(password|data|stringData|PASSWORD)$'",
            ),
            Opt::EncryptedCommentRegex => rule(r, "encrypted_comment_regex: secret"),
            Opt::UnencryptedCommentRegex => rule(r, "unencrypted_comment_regex: public"),
        };
        format!("creation_rules:\n  - {rule}\n")
    }

    /// The identities both tools get, as an environment variable.
    fn key_env(&self, opt: Opt) -> (&'static str, &Path) {
        match opt {
            Opt::TwoRecipients => ("SOPS_AGE_KEY_FILE", &self.age_file[1]),
            Opt::Shamir => ("SOPS_AGE_KEY_FILE", &self.age_file[2]),
            Opt::SshConverted => ("SOPS_AGE_KEY_FILE", &self.age_file[3]),
            Opt::SshNative => ("SOPS_AGE_SSH_PRIVATE_KEY_FILE", &self.ssh_key),
            _ => ("SOPS_AGE_KEY_FILE", &self.age_file[0]),
        }
    }
}

fn rule(r: &[String; 5], extra: &str) -> String {
    format!("age: {}\n    {extra}", r[R1])
}

fn config_name(opt: Opt) -> String {
    format!("sops-{}.yaml", opt.name().replace(' ', "-"))
}

/// What came of one document.
pub struct DocResult {
    pub id: usize,
    pub comparisons: usize,
    /// Comparisons in which sops itself decrypted successfully.
    pub sops_succeeded: usize,
    pub mismatches: Vec<String>,
    /// Why sops could not encrypt the document (nothing to compare).
    pub skipped: Option<String>,
    /// Comparisons where ours differs from the sops compared with but equals sops 3.13.2.
    pub version_differences: usize,
    /// Comparisons where sops 3.13.2 hit its MAC regression (getsops/sops#2243) and ours
    /// answered as sops 3.11 does.
    pub mac_regression: usize,
}

/// Encrypts one document with sops and runs every comparison asked of it.
pub fn check_doc(setup: &Setup, doc: &Doc) -> DocResult {
    let sb = setup.sandbox;
    let ext = doc.store.ext();
    let plain = sb.write(&format!("doc-{:03}.{ext}", doc.id), &doc.plain);
    let mut result = DocResult {
        id: doc.id,
        comparisons: 0,
        sops_succeeded: 0,
        mismatches: Vec::new(),
        skipped: None,
        version_differences: 0,
        mac_regression: 0,
    };
    let mut cmd = sb.command(&setup.sops);
    cmd.arg("--config")
        .arg(sb.path(&config_name(doc.opt)))
        .args([
            "encrypt",
            "--input-type",
            doc.store.name(),
            "--output-type",
            doc.store.name(),
        ])
        .arg(&plain);
    let enc = common::run(&mut cmd);
    if enc.status != 0 {
        let err = enc.stderr_text();
        result.skipped = Some(format!(
            "doc {} ({}, {}): sops encrypt failed ({}): {}",
            doc.id,
            doc.store.name(),
            doc.opt.name(),
            enc.status,
            err.lines().next().unwrap_or("")
        ));
        return result;
    }
    let file = sb.write(&format!("doc-{:03}.enc.{ext}", doc.id), &enc.stdout);

    let t = doc.store.name();
    let mut asks: Vec<Vec<String>> = vec![vec!["decrypt".into()]];
    for p in &doc.extracts {
        asks.push(strings(&[
            "decrypt",
            "--input-type",
            t,
            "--output-type",
            t,
            "--extract",
            p,
        ]));
    }
    for to in &doc.conversions {
        asks.push(strings(&[
            "decrypt",
            "--input-type",
            t,
            "--output-type",
            to.name(),
        ]));
    }
    let (var, key) = setup.key_env(doc.opt);
    for args in &asks {
        let sops = run_with(setup, &setup.sops, args, &file, &[], Some((var, key)));
        let ours = run_with(
            setup,
            &setup.under_test.program,
            args,
            &file,
            &[],
            Some((var, key)),
        );
        if let Some(newest) = setup.newest.as_ref().filter(|n| **n != setup.sops) {
            if sops.status != ours.status || sops.stdout != ours.stdout {
                // Where the sops compared with and 3.13.2 differ, we follow 3.13.2 (README,
                // "sops versions"): agreeing with it exactly is not a mismatch.
                let n = run_with(setup, newest, args, &file, &[], Some((var, key)));
                if n.status == ours.status && n.stdout == ours.stdout {
                    result.comparisons += 1;
                    result.version_differences += 1;
                    continue;
                }
            }
        }
        if let Some(oldest) = setup.oldest.as_ref().filter(|o| **o != setup.sops) {
            // getsops/sops#2243: 3.13.2 reports a MAC mismatch for any file with a comment in
            // a sequence (fixed upstream); we decrypt it as 3.11 does (README).
            if sops.status == 51 && ours.status != 51 && common::has_encrypted_comment(&enc.stdout)
            {
                let o = run_with(setup, oldest, args, &file, &[], Some((var, key)));
                let o_panicked = o.status == 2 && o.stderr.starts_with(b"panic:");
                let same = o.status == ours.status
                    && (o.stdout == ours.stdout
                        || comment_gained_inline(&o.stdout, &ours.stdout)
                        || same_but_inline_comments(&o.stdout, &ours.stdout));
                if same || (o_panicked && ours.status != 0 && ours.stdout.is_empty()) {
                    result.comparisons += 1;
                    result.mac_regression += 1;
                    continue;
                }
            }
        }
        if setup.newest.is_some()
            && sops.status == ours.status
            && comment_gained_inline(&sops.stdout, &ours.stdout)
        {
            // A list comment selected on its own: 3.13's Comment struct has an Inline field.
            result.comparisons += 1;
            result.version_differences += 1;
            continue;
        }
        compare(setup, doc, &args.join(" "), &sops, &ours, &mut result);
        // The host key itself opens both kinds of ssh recipient (sops-install only).
        if matches!(doc.opt, Opt::SshConverted | Opt::SshNative) && !setup.under_test.is_sops {
            let flags = [
                OsArg::from("--ssh-key"),
                OsArg::from(setup.ssh_key.as_os_str()),
            ];
            let ours = run_with(setup, &setup.under_test.program, args, &file, &flags, None);
            let what = format!("{} --ssh-key HOST_KEY", args.join(" "));
            compare(setup, doc, &what, &sops, &ours, &mut result);
        }
    }
    result
}

type OsArg = std::ffi::OsString;

/// YAML outputs equal but for comments that 3.11 prints on their own line and 3.13 (ours)
/// after the value (used only where 3.13.2's MAC regression leaves no 3.13 output to compare).
fn same_but_inline_comments(old: &[u8], ours: &[u8]) -> bool {
    let lines = |b: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(b)
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .map(str::to_string)
            .collect()
    };
    let (o, u) = (lines(old), lines(ours));
    o.len() == u.len()
        && o.iter().zip(&u).all(|(o, u)| {
            o == u
                || u.strip_prefix(o.as_str())
                    .is_some_and(|rest| rest.starts_with(" #"))
        })
}

/// `--extract` of a comment in a list: sops 3.11/3.12 print its `Comment{Value}` struct, 3.13
/// (and ours) `Comment{Value, Inline}` (README, "sops versions").
fn comment_gained_inline(old: &[u8], ours: &[u8]) -> bool {
    let yaml = [old, b"inline: false\n"].concat();
    let json = old
        .strip_suffix(b"\n}")
        .map(|body| [body, b",\n\t\"Inline\": false\n}"].concat());
    (old.starts_with(b"value: ") && ours == yaml.as_slice())
        || (old.starts_with(b"{\n\t\"Value\": ") && json.is_some_and(|j| ours == j.as_slice()))
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn run_with(
    setup: &Setup,
    program: &Path,
    args: &[String],
    file: &Path,
    extra: &[OsArg],
    env: Option<(&str, &Path)>,
) -> Outcome {
    let mut cmd = setup.sandbox.command(program);
    cmd.args(args).args(extra).arg(file);
    if let Some((var, value)) = env {
        cmd.env(var, value);
    }
    common::run(&mut cmd)
}

fn compare(
    setup: &Setup,
    doc: &Doc,
    what: &str,
    sops: &Outcome,
    ours: &Outcome,
    result: &mut DocResult,
) {
    result.comparisons += 1;
    result.sops_succeeded += usize::from(sops.status == 0);
    let mut problems = Vec::new();
    // Where sops itself panics (a Go runtime panic, exit 2), we must fail cleanly: any
    // non-zero status with our one-line error is the right answer, not a copy of the panic.
    let sops_panicked = sops.status == 2
        && (sops.stderr.starts_with(b"panic:") || sops.stderr.windows(7).any(|w| w == b"\npanic:"));
    // An `--extract` index into a map: sops prints its internal key/value item struct, we
    // refuse the path with one line (a deliberate exception, listed in README).
    let map_indexed = !setup.under_test.is_sops
        && sops.status == 0
        && ours.status != 0
        && String::from_utf8_lossy(&ours.stderr).contains("is a map, so it has no element");
    if sops_panicked && !setup.under_test.is_sops {
        if ours.status == 0 {
            problems.push("sops panicked but ours succeeded".to_string());
        }
    } else if map_indexed {
    } else if sops.status != ours.status {
        problems.push(format!(
            "exit status sops {} / ours {} (sops: {:?}; ours: {:?})",
            sops.status,
            ours.status,
            first_line(&sops.stderr),
            first_line(&ours.stderr)
        ));
    }
    if sops.stdout != ours.stdout && !map_indexed {
        problems.push(format!(
            "stdout {}",
            common::first_difference(&sops.stdout, &ours.stdout)
        ));
    }
    if ours.status != 0 && !setup.under_test.is_sops {
        problems.extend(common::stderr_shape_problem(&ours.stderr));
    }
    if !problems.is_empty() {
        result.mismatches.push(format!(
            "doc {:03} ({}, {}) `{what}`: {}",
            doc.id,
            doc.store.name(),
            doc.opt.name(),
            problems.join("; ")
        ));
    }
}

fn first_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(200)
        .collect()
}

/// The stores in the order the summary lists them.
pub const STORES: [Store; 5] = [
    Store::Yaml,
    Store::Json,
    Store::Dotenv,
    Store::Ini,
    Store::Binary,
];
