//! Key sources through `sops-install decrypt`, against files the real sops encrypts: age plugin
//! identities served by a real plugin binary (examples/age-plugin-sopstest.rs) over the age
//! plugin protocol, and sources that fail next to sources that work — a failing source never
//! hides another, and when nothing opens a file the one error line names every source tried.

// Test support: a failed step is a failed test (Cargo.toml [lints] denies these in shipped code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::plugin;
use common::{Outcome, Sandbox};

const PLAIN: &str = "db:\n    password: hunter2\n";

/// Encrypts PLAIN as `name` with the real sops to the given `--age` recipients.
fn sops_encrypt(sb: &Sandbox, name: &str, age: &[&str]) -> PathBuf {
    let plain = sb.write(&format!("plain-{name}"), PLAIN.as_bytes());
    let out = common::run(
        sb.command(common::real_sops())
            .args(["encrypt", "--age", &age.join(",")])
            .arg(&plain),
    );
    assert_eq!(out.status, 0, "sops encrypt: {}", out.stderr_text());
    std::fs::remove_file(&plain).expect("remove plaintext");
    sb.write(name, &out.stdout)
}

/// Whether the test plugin's directory is put in front of PATH.
#[derive(Clone, Copy)]
enum Plugin {
    OnPath,
    NotOnPath,
}

/// `sops-install decrypt ARGS FILE`, with or without the test plugin on PATH.
fn decrypt_command(sb: &Sandbox, plugin: Plugin, args: &[&str], file: &Path) -> Command {
    let mut cmd = sb.command(env!("CARGO_BIN_EXE_sops-install"));
    cmd.arg("decrypt").args(args).arg(file);
    if let Plugin::OnPath = plugin {
        cmd.env("PATH", plugin::path_with(&plugin::path_dir(&sb.path(""))));
    }
    cmd
}

fn decrypt(sb: &Sandbox, plugin: Plugin, args: &[&str], file: &Path) -> Outcome {
    common::run(&mut decrypt_command(sb, plugin, args, file))
}

/// The run succeeded and printed the plaintext.
fn assert_opened(out: &Outcome) {
    assert_eq!(out.status, 0, "{}", out.stderr_text());
    assert_eq!(String::from_utf8_lossy(&out.stdout), PLAIN);
}

fn one_line(out: &Outcome) -> String {
    if let Some(problem) = common::stderr_shape_problem(&out.stderr) {
        panic!("{problem}");
    }
    let text = out.stderr_text();
    // The plaintext, or an identity's key material (the prefix alone names a line kind).
    let key_material = ["AGE-SECRET-KEY-1", "AGE-PLUGIN-SOPSTEST-1"]
        .iter()
        .any(|p| {
            text.match_indices(p)
                .any(|(i, _)| text[i + p.len()..].starts_with(|c: char| c.is_ascii_alphanumeric()))
        });
    assert!(
        common::leaked_secrets(&out.stderr, &["hunter2"]).is_empty() && !key_material,
        "secret material on stderr: {text}"
    );
    text
}

#[test]
fn a_plugin_identity_alone_opens_a_file_sops_encrypted_to_its_x25519_recipient() {
    common::require_tools(&["sops", "age-keygen"]);
    let sb = Sandbox::new();
    let (_, secret, recipient) = plugin::age_keygen();
    let file = sops_encrypt(&sb, "s.yaml", &[&recipient]);
    let identity = plugin::identity_for(&secret, None);
    assert!(identity.contains("AGE-PLUGIN-SOPSTEST-1"), "{identity}");
    assert!(!identity.contains(&secret));
    let keys = sb.write("plugin-keys.txt", identity.as_bytes());

    let key_file = ["--age-key-file", keys.to_str().unwrap()];
    assert_opened(&decrypt(&sb, Plugin::OnPath, &key_file, &file));

    // The same identity given inline, as SOPS_AGE_KEY.
    let mut cmd = decrypt_command(&sb, Plugin::OnPath, &[], &file);
    assert_opened(&common::run(cmd.env("SOPS_AGE_KEY", &identity)));
}

#[test]
fn a_missing_plugin_binary_is_named_while_another_age_key_opens_the_file() {
    common::require_tools(&["sops", "age-keygen"]);
    let sb = Sandbox::new();
    let (plain_keys, _, r1) = plugin::age_keygen();
    let (_, secret2, r2) = plugin::age_keygen();
    let both = sops_encrypt(&sb, "both.yaml", &[&r1, &r2]);
    let only_plugin = sops_encrypt(&sb, "only-plugin.yaml", &[&r2]);
    let keys = sb.write(
        "keys.txt",
        format!("{}{plain_keys}", plugin::identity_for(&secret2, None)).as_bytes(),
    );
    let args = ["--age-key-file", keys.to_str().unwrap()];

    // No plugin on PATH: the plain key still opens the file.
    assert_opened(&decrypt(&sb, Plugin::NotOnPath, &args, &both));

    // A file only the plugin could open: the error names the missing binary and its line.
    let out = decrypt(&sb, Plugin::NotOnPath, &args, &only_plugin);
    assert_eq!(out.status, 128);
    let line = one_line(&out);
    let source = format!(
        "{} line 2: age-plugin-sopstest is not on PATH",
        keys.display()
    );
    assert!(line.contains(&source), "{line}");
    assert!(line.contains(&format!("recipients: {r2}")), "{line}");
    assert!(
        line.contains(&format!("loaded: {r1} (from {})", keys.display())),
        "{line}"
    );

    // With the plugin on PATH the same key file opens it.
    let out = decrypt(&sb, Plugin::OnPath, &args, &only_plugin);
    assert_eq!(out.status, 0, "{}", out.stderr_text());
}

#[test]
fn a_plugin_that_cannot_open_the_file_leaves_a_report_of_every_source_tried() {
    common::require_tools(&["sops", "age-keygen"]);
    let sb = Sandbox::new();
    let (_, _, r1) = plugin::age_keygen();
    let (_, wrong_secret, _) = plugin::age_keygen();
    let file = sops_encrypt(&sb, "s.yaml", &[&r1]);
    let keys = sb.write(
        "wrong-plugin.txt",
        plugin::identity_for(&wrong_secret, None).as_bytes(),
    );
    let fixtures = common::fixtures_dir();
    let ssh = fixtures.join("keys/ssh_host_ed25519_key");
    let missing = sb.path("no-such-key.txt");
    let out = decrypt(
        &sb,
        Plugin::OnPath,
        &[
            "--age-key-file",
            keys.to_str().unwrap(),
            "--age-key-file",
            missing.to_str().unwrap(),
            "--ssh-key",
            ssh.to_str().unwrap(),
        ],
        &file,
    );
    assert_eq!(out.status, 128, "{}", out.stderr_text());
    let line = one_line(&out);
    for expected in [
        format!("{}: ", file.display()),
        "no loaded key can open it".to_string(),
        format!("recipients: {r1}"),
        format!(
            "1 identity AGE-PLUGIN-SOPSTEST-1… via age-plugin-sopstest (from {} line 2)",
            keys.display()
        ),
        format!("(from {})", ssh.display()),
        format!("(from {} (converted to age))", ssh.display()),
        format!("{}: cannot read:", missing.display()),
    ] {
        assert!(line.contains(&expected), "missing {expected:?} in {line}");
    }
}

#[test]
fn a_plugin_asking_for_a_pin_fails_at_once_with_its_name() {
    common::require_tools(&["sops", "age-keygen"]);
    let sb = Sandbox::new();
    let (_, secret, recipient) = plugin::age_keygen();
    let file = sops_encrypt(&sb, "s.yaml", &[&recipient]);
    let keys = sb.write(
        "pin.txt",
        plugin::identity_for(&secret, Some("1234")).as_bytes(),
    );
    // stdin is /dev/null and nobody answers: the run must end (common::run kills a hang).
    let key_file = ["--age-key-file", keys.to_str().unwrap()];
    let out = decrypt(&sb, Plugin::OnPath, &key_file, &file);
    assert_eq!(out.status, 128, "{}", out.stderr_text());
    let line = one_line(&out);
    assert!(
        line.contains(
            "age-plugin-sopstest asked for a PIN or passphrase (\"PIN for the sopstest identity\"), \
             which cannot be given during an unattended run"
        ),
        "{line}"
    );
    assert!(
        line.contains("age-plugin-sopstest failed: ") && line.contains("no PIN was given"),
        "{line}"
    );
}

#[test]
fn plugins_are_started_only_when_no_key_in_memory_opens_the_file() {
    common::require_tools(&["sops", "age-keygen"]);
    let sb = Sandbox::new();
    let (plain_keys, _, plain_recipient) = plugin::age_keygen();
    let (_, plugin_secret, plugin_recipient) = plugin::age_keygen();
    // The plugin's entry comes first in the file.
    let file = sops_encrypt(&sb, "s.yaml", &[&plugin_recipient, &plain_recipient]);
    let text = std::fs::read_to_string(&file).expect("read");
    let at = |r: &str| text.find(r).expect("recipient in the file");
    assert!(at(&plugin_recipient) < at(&plain_recipient), "{text}");
    let keys = sb.write(
        "keys.txt",
        format!(
            "{}{plain_keys}",
            plugin::identity_for(&plugin_secret, Some("1234"))
        )
        .as_bytes(),
    );
    // Plugins get a small environment, so the starts are logged by a wrapper on PATH.
    let calls = sb.path("plugin-calls");
    let wrapped = sb.path("wrapped-bin");
    std::fs::create_dir_all(&wrapped).expect("mkdir");
    let wrapper = wrapped.join("age-plugin-sopstest");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho \"$1\" >> '{}'\nexec '{}' \"$@\"\n",
            calls.display(),
            plugin::binary().display()
        ),
    )
    .expect("write the wrapper");
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod the wrapper");
    let run = |keys: &Path| {
        let key_file = ["--age-key-file", keys.to_str().unwrap()];
        let mut cmd = decrypt_command(&sb, Plugin::NotOnPath, &key_file, &file);
        common::run(cmd.env("PATH", plugin::path_with(&wrapped)))
    };
    assert_opened(&run(&keys));
    assert!(
        !calls.exists(),
        "the plugin was started although a key in memory opens the file"
    );

    // The log does record a start when the plugin is needed.
    let plugin_only = sb.write(
        "plugin-only.txt",
        plugin::identity_for(&plugin_secret, None).as_bytes(),
    );
    let out = run(&plugin_only);
    assert_eq!(out.status, 0, "{}", out.stderr_text());
    let log = std::fs::read_to_string(&calls).expect("the plugin logged its start");
    assert!(log.starts_with("--age-plugin=identity-v1\n"), "{log}");
}

#[test]
fn every_file_a_plugin_fails_on_names_the_failure_in_its_own_report() {
    common::require_tools(&["sops", "age-keygen"]);
    let sb = Sandbox::new();
    let (_, secret, recipient) = plugin::age_keygen();
    let first = sops_encrypt(&sb, "first.yaml", &[&recipient]);
    let second = sops_encrypt(&sb, "second.yaml", &[&recipient]);
    let keys = sb.write(
        "pin.txt",
        plugin::identity_for(&secret, Some("1234")).as_bytes(),
    );
    let dir = plugin::path_dir(&sb.path(""));
    let mut cmd = sb.command(env!("CARGO_BIN_EXE_sops-install"));
    cmd.args(["recipient", "--age-key-file"])
        .arg(&keys)
        .arg("--check")
        .args([&first, &second])
        .env("PATH", plugin::path_with(&dir));
    let out = common::run(&mut cmd);
    assert_eq!(out.status, 1, "{}", out.stderr_text());
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    for (line, file) in lines.iter().zip([&first, &second]) {
        assert!(
            line.starts_with(&format!("cannot open {}: ", file.display())),
            "{line}"
        );
        assert!(
            line.contains("age-plugin-sopstest asked for a PIN or passphrase"),
            "{line}"
        );
        assert_eq!(line.matches("asked for a PIN").count(), 1, "{line}");
    }
}

/// Every combination of one failing source with one working source opens the file; the
/// failing sources all appear when the working one is left out.
#[test]
fn failing_key_sources_never_hide_a_working_one() {
    common::require_tools(&["sops", "age-keygen", "ssh-keygen"]);
    let sb = Sandbox::new();
    let host = common::fixture_host_key();
    let (ssh, ssh_recipient) = (host.path, host.converted);
    let (plain_keys, _, r1) = plugin::age_keygen();
    let age_keys = sb.write("age.txt", plain_keys.as_bytes());
    let file = sops_encrypt(&sb, "s.yaml", &[&r1, &ssh_recipient]);
    let (_, plugin_secret, _) = plugin::age_keygen();
    let plugin_keys = sb.write(
        "plugin.txt",
        plugin::identity_for(&plugin_secret, None).as_bytes(),
    );
    let junk_keys = sb.write("junk.txt", b"not a key\n");
    let dir_as_key = sb.path("cwd");
    let missing_rsa = sb.path("ssh_host_rsa_key");
    let missing_ed = sb.path("ssh_host_ed25519_key");
    let failing: [(&str, &Path, &str); 5] = [
        ("--age-key-file", &junk_keys, "line 1: not an age identity"),
        ("--age-key-file", &dir_as_key, "cannot read:"),
        (
            "--age-key-file",
            &plugin_keys,
            "age-plugin-sopstest is not on PATH",
        ),
        ("--ssh-key", &missing_rsa, "cannot read:"),
        ("--ssh-key", &missing_ed, "cannot read:"),
    ];
    let working: [(&str, &Path); 2] = [("--age-key-file", &age_keys), ("--ssh-key", &ssh)];
    for (flag, path, _) in &failing {
        for (good_flag, good) in &working {
            // The failing source first, so it is loaded before the working one.
            let args = [
                *flag,
                path.to_str().unwrap(),
                *good_flag,
                good.to_str().unwrap(),
            ];
            let out = decrypt(&sb, Plugin::NotOnPath, &args, &file);
            assert_eq!(
                out.status,
                0,
                "{args:?} should open the file: {}",
                out.stderr_text()
            );
            assert_eq!(String::from_utf8_lossy(&out.stdout), PLAIN);
        }
    }
    let mut args = Vec::new();
    for (flag, path, _) in &failing {
        args.push(flag.to_string());
        args.push(path.to_str().unwrap().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = decrypt(&sb, Plugin::NotOnPath, &args, &file);
    assert_eq!(out.status, 128, "{}", out.stderr_text());
    let line = one_line(&out);
    assert!(line.contains("no key was loaded to open it"), "{line}");
    assert!(line.contains("loaded: none"), "{line}");
    for (_, path, reason) in &failing {
        let shown = path.display().to_string();
        let at = line
            .find(&format!("; {shown}"))
            .unwrap_or_else(|| panic!("{shown} is not named in {line}"));
        assert!(
            line[at..].contains(reason),
            "{shown}: expected {reason:?} in {line}"
        );
    }
}

/// A fake `age-plugin-sopstest` (a shell script with `body`) in its own directory.
fn fake_plugin(sb: &Sandbox, dir: &str, body: &str) -> PathBuf {
    let bin = sb.path(dir);
    std::fs::create_dir_all(&bin).expect("mkdir");
    let script = bin.join("age-plugin-sopstest");
    std::fs::write(&script, format!("#!/bin/sh\n{body}\n")).expect("write the script");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod the script");
    bin
}

#[test]
fn a_plugin_that_floods_or_never_answers_is_stopped_with_its_name() {
    common::require_tools(&["sops", "age-keygen"]);
    let sb = Sandbox::new();
    let (_, secret, recipient) = plugin::age_keygen();
    let file = sops_encrypt(&sb, "s.yaml", &[&recipient]);
    let keys = sb.write("plugin.txt", plugin::identity_for(&secret, None).as_bytes());
    let seen = sb.path("plugin-env");
    let cases = [
        (
            "flood",
            "head -c 2000000000 /dev/zero".to_string(),
            "age-plugin-sopstest wrote a line longer than 65536 bytes and was stopped",
        ),
        (
            "silent",
            format!("env > '{}'; sleep 1000 & exit 0", seen.display()),
            "age-plugin-sopstest did not finish within 2 s and was killed (SOPS_INSTALL_HELPER_TIMEOUT)",
        ),
    ];
    // A key that does not open the file, for the environment check.
    let (_, other_secret, _) = plugin::age_keygen();
    for (dir, body, expected) in cases {
        let bin = fake_plugin(&sb, dir, &body);
        let key_file = ["--age-key-file", keys.to_str().unwrap()];
        let mut cmd = decrypt_command(&sb, Plugin::NotOnPath, &key_file, &file);
        let start = std::time::Instant::now();
        let out = common::run(
            cmd.env("PATH", plugin::path_with(&bin))
                .env("SOPS_INSTALL_HELPER_TIMEOUT", "2")
                .env("SOPS_AGE_KEY", &other_secret),
        );
        assert_eq!(out.status, 128, "{dir}: {}", out.stderr_text());
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "{dir}"
        );
        let line = one_line(&out);
        assert!(line.contains(expected), "{dir}: {line}");
    }
    let env_text = std::fs::read_to_string(&seen).expect("the plugin ran");
    assert!(env_text.contains("PATH="), "{env_text}");
    assert!(!env_text.contains("SOPS_AGE_KEY"), "{env_text}");
}

// ---- Where `decrypt` looks when no option names a key (as sops does) ----

/// `sops-install decrypt FILE` with only `env` set (besides the sandbox's HOME and PATH).
fn decrypt_with_env(sb: &Sandbox, env: &[(&str, &std::ffi::OsStr)], file: &Path) -> Outcome {
    let mut cmd = sb.command(env!("CARGO_BIN_EXE_sops-install"));
    cmd.arg("decrypt").arg(file);
    for (k, v) in env {
        cmd.env(k, v);
    }
    common::run(&mut cmd)
}

fn fixture(rel: &str) -> PathBuf {
    common::fixtures_dir().join(rel)
}

/// The file opened and printed what the real sops printed for it.
fn assert_prints(out: &Outcome, expected: &str, what: &str) {
    assert_eq!(out.status, 0, "{what}: {}", out.stderr_text());
    assert_eq!(
        out.stdout,
        common::fixture_bytes(expected),
        "{what}: {}",
        common::first_difference(&common::fixture_bytes(expected), &out.stdout)
    );
}

fn copy_to(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst.parent().expect("parent")).expect("mkdir");
    std::fs::copy(src, dst).expect("copy key");
}

#[test]
fn the_user_config_dirs_age_keys_file_alone_opens_a_file() {
    let basic = fixture("enc/basic.yaml");
    // $HOME/.config/sops/age/keys.txt (Linux; ~/Library/Application Support on macOS).
    let sb = Sandbox::new();
    let below_home = if cfg!(target_os = "macos") {
        "home/Library/Application Support/sops/age/keys.txt"
    } else {
        "home/.config/sops/age/keys.txt"
    };
    copy_to(&fixture("keys/age1.txt"), &sb.path(below_home));
    assert_prints(
        &decrypt_with_env(&sb, &[], &basic),
        "out/yaml-basic-age1.out",
        below_home,
    );
    // $XDG_CONFIG_HOME/sops/age/keys.txt wins over the default directory.
    let sb = Sandbox::new();
    copy_to(&fixture("keys/age2.txt"), &sb.path("xdg/sops/age/keys.txt"));
    let xdg = sb.path("xdg");
    assert_prints(
        &decrypt_with_env(&sb, &[("XDG_CONFIG_HOME", xdg.as_os_str())], &basic),
        "out/yaml-basic-age2.out",
        "XDG_CONFIG_HOME",
    );
}

#[test]
fn each_sops_variable_alone_opens_a_file() {
    let basic = fixture("enc/basic.yaml");
    let key1 = fixture("keys/age1.txt");
    let sb = Sandbox::new();
    assert_prints(
        &decrypt_with_env(&sb, &[("SOPS_AGE_KEY_FILE", key1.as_os_str())], &basic),
        "out/yaml-basic-age1.out",
        "SOPS_AGE_KEY_FILE",
    );
    // SOPS_AGE_KEY: identities, several on one line as sops 3.12+ accepts.
    let identity = |f: &str| {
        std::fs::read_to_string(fixture(f))
            .expect("key")
            .lines()
            .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
            .expect("identity line")
            .to_string()
    };
    let two = format!(
        "{} {}",
        identity("keys/wrong.txt"),
        identity("keys/age1.txt")
    );
    assert_prints(
        &decrypt_with_env(&sb, &[("SOPS_AGE_KEY", two.as_ref())], &basic),
        "out/yaml-basic-age1.out",
        "SOPS_AGE_KEY",
    );
    let host = common::fixture_host_key();
    assert_prints(
        &decrypt_with_env(
            &sb,
            &[("SOPS_AGE_SSH_PRIVATE_KEY_FILE", host.path.as_os_str())],
            &fixture("enc/ssh.native.yaml"),
        ),
        "out/yaml-ssh-native.out",
        "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
    );
}

#[test]
fn the_home_ssh_key_alone_opens_a_file() {
    let sb = Sandbox::new();
    let host = common::fixture_host_key();
    let key = sb.path("home/.ssh/id_ed25519");
    copy_to(&host.path, &key);
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .expect("chmod");
    assert_prints(
        &decrypt_with_env(&sb, &[], &fixture("enc/ssh.native.yaml")),
        "out/yaml-ssh-native.out",
        "~/.ssh/id_ed25519",
    );
}

#[test]
fn the_home_rsa_ssh_key_alone_opens_a_file() {
    // The VM tests' RSA key and the file sops encrypted to its `ssh-rsa` line.
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("nix/tests/assets");
    let sb = Sandbox::new();
    let key = sb.path("home/.ssh/id_rsa");
    copy_to(&assets.join("ssh-rsa-key"), &key);
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .expect("chmod");
    let out = decrypt_with_env(&sb, &[], &assets.join("rsa-ssh.yaml"));
    assert_eq!(out.status, 0, "{}", out.stderr_text());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("test_key: test_value"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Without it, the same file does not open: the key in ~/.ssh is what opened it.
    std::fs::remove_file(&key).expect("remove");
    assert_eq!(
        decrypt_with_env(&sb, &[], &assets.join("rsa-ssh.yaml")).status,
        128
    );
}

#[test]
fn the_key_command_alone_opens_a_file_and_is_told_the_recipient() {
    let sb = Sandbox::new();
    let key2 = fixture("keys/age2.txt");
    let r2 = std::fs::read_to_string(&key2)
        .expect("key")
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .expect("recipient comment")
        .to_string();
    // Prints the key only when asked for its recipient, and logs every recipient asked for.
    let log = sb.path("asked");
    let script = sb.write(
        "keycmd.sh",
        format!(
            "#!/bin/sh\necho \"$SOPS_AGE_RECIPIENT\" >> '{}'\n[ \"$SOPS_AGE_RECIPIENT\" = '{r2}' ] && cat '{}'\nexit 0\n",
            log.display(),
            key2.display()
        )
        .as_bytes(),
    );
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let cmd = format!("/bin/sh '{}'", script.display());
    assert_prints(
        &decrypt_with_env(
            &sb,
            &[("SOPS_AGE_KEY_CMD", cmd.as_ref())],
            &fixture("enc/basic.yaml"),
        ),
        "out/yaml-basic-age2.out",
        "SOPS_AGE_KEY_CMD",
    );
    let asked = std::fs::read_to_string(&log).expect("the command ran");
    // basic.yaml lists R1 then R2: asked for R1 (no key), then R2 (the key), then stopped.
    assert_eq!(asked.lines().count(), 2, "{asked}");
    assert_eq!(asked.lines().last(), Some(r2.as_str()), "{asked}");
    // A command that fails is named with its reason, on the one error line.
    let out = decrypt_with_env(
        &sb,
        &[(
            "SOPS_AGE_KEY_CMD",
            "/bin/sh -c 'echo vault is sealed >&2; exit 1'".as_ref(),
        )],
        &fixture("enc/basic.yaml"),
    );
    assert_eq!(out.status, 128, "{}", out.stderr_text());
    let line = one_line(&out);
    assert!(
        line.contains("SOPS_AGE_KEY_CMD: for age1") && line.contains("vault is sealed"),
        "{line}"
    );
}

/// sops 3.13's `SOPS_AGE_SSH_PRIVATE_KEY_CMD`: its output is one OpenSSH private key, used
/// natively (the file's `ssh-ed25519 …` recipient), and it is told the recipient it is asked for.
#[test]
fn the_ssh_key_command_alone_opens_a_file_for_its_native_recipient() {
    let sb = Sandbox::new();
    let key = fixture("keys/ssh_host_ed25519_key");
    let public = std::fs::read_to_string(fixture("keys/ssh_host_ed25519_key.pub")).expect("pub");
    let native: Vec<&str> = public.split_whitespace().take(2).collect();
    let native = native.join(" ");
    let log = sb.path("asked");
    // Prints the key only when asked for its recipient; logs every recipient asked for.
    let script = sb.write(
        "sshkeycmd.sh",
        format!(
            "#!/bin/sh\necho \"$SOPS_AGE_RECIPIENT\" >> '{}'\nset -- $SOPS_AGE_RECIPIENT\n[ \"$1 $2\" = '{native}' ] && cat '{}'\nexit 0\n",
            log.display(),
            key.display()
        )
        .as_bytes(),
    );
    let cmd = format!("/bin/sh '{}'", script.display());
    assert_prints(
        &decrypt_with_env(
            &sb,
            &[("SOPS_AGE_SSH_PRIVATE_KEY_CMD", cmd.as_ref())],
            &fixture("enc/ssh.native.yaml"),
        ),
        "out/yaml-ssh-native.out",
        "SOPS_AGE_SSH_PRIVATE_KEY_CMD",
    );
    let asked = std::fs::read_to_string(&log).expect("the command ran");
    // The recipient as the file writes it (the public key line, its comment included).
    assert!(
        asked.lines().last().is_some_and(|l| l.starts_with(&native)),
        "{asked}"
    );
    // Native only, as sops: the converted age1… recipient is not opened by the same key.
    let out = decrypt_with_env(
        &sb,
        &[(
            "SOPS_AGE_SSH_PRIVATE_KEY_CMD",
            format!("/bin/cat '{}'", key.display()).as_ref(),
        )],
        &fixture("enc/ssh.converted.yaml"),
    );
    assert_eq!(out.status, 128, "{}", out.stderr_text());
    // What it prints must be an OpenSSH key; a failing command is named with its reason.
    let junk = sb.write("junk", b"not a key\n");
    let out = decrypt_with_env(
        &sb,
        &[(
            "SOPS_AGE_SSH_PRIVATE_KEY_CMD",
            format!("/bin/cat '{}'", junk.display()).as_ref(),
        )],
        &fixture("enc/ssh.native.yaml"),
    );
    assert_eq!(out.status, 128, "{}", out.stderr_text());
    let line = one_line(&out);
    assert!(
        line.contains("SOPS_AGE_SSH_PRIVATE_KEY_CMD: not an OpenSSH private key"),
        "{line}"
    );
    let out = decrypt_with_env(
        &sb,
        &[(
            "SOPS_AGE_SSH_PRIVATE_KEY_CMD",
            "/bin/sh -c 'echo agent is locked >&2; exit 1'".as_ref(),
        )],
        &fixture("enc/ssh.native.yaml"),
    );
    let line = one_line(&out);
    assert!(
        line.contains("SOPS_AGE_SSH_PRIVATE_KEY_CMD: for ssh-ed25519 ")
            && line.contains("agent is locked"),
        "{line}"
    );
}

#[test]
fn no_key_says_every_place_it_looked_on_one_line() {
    let sb = Sandbox::new();
    let out = decrypt_with_env(&sb, &[], &fixture("enc/basic.yaml"));
    assert_eq!(out.status, 128, "{}", out.stderr_text());
    let line = one_line(&out);
    let home = sb.path("home");
    let config = if cfg!(target_os = "macos") {
        home.join("Library/Application Support/sops/age/keys.txt")
    } else {
        home.join(".config/sops/age/keys.txt")
    };
    let places = [
        "SOPS_AGE_KEY (not set)".to_string(),
        "SOPS_AGE_KEY_FILE (not set)".to_string(),
        "SOPS_AGE_KEY_CMD (not set)".to_string(),
        format!("{} (absent)", config.display()),
        "SOPS_AGE_SSH_PRIVATE_KEY_FILE (not set)".to_string(),
        "SOPS_AGE_SSH_PRIVATE_KEY_CMD (not set)".to_string(),
        format!("{} (absent)", home.join(".ssh/id_ed25519").display()),
        format!("{} (absent)", home.join(".ssh/id_rsa").display()),
        "gpg with its default GnuPG home".to_string(),
    ];
    let list = line
        .split_once("; looked for keys in: ")
        .unwrap_or_else(|| panic!("no list of places in {line}"))
        .1;
    // Whatever advice follows the list (`; hint: …`) is not part of it.
    let list = list.split("; hint:").next().unwrap_or("").trim_end();
    assert_eq!(list, places.join(", "), "{line}");
    // A source that is set is named with its value.
    let key = fixture("keys/wrong.txt");
    let out = decrypt_with_env(
        &sb,
        &[("SOPS_AGE_KEY_FILE", key.as_os_str())],
        &fixture("enc/basic.yaml"),
    );
    let line = one_line(&out);
    assert!(
        line.contains(&format!("SOPS_AGE_KEY_FILE={}", key.display())),
        "{line}"
    );
}
