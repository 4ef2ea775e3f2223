//! PGP master keys against the real tools: files encrypted by the real sops through the real
//! gpg, opened by the installer and `sops-install decrypt` with a GnuPG home (through gpg) and
//! with RSA ssh keys used in memory as the OpenPGP keys ssh-to-pgp derives (no keyring).
//!
//! The ssh-to-pgp public key is built from the ssh key by tests/common/openpgp.rs so that gpg
//! can import it and sops can encrypt to it; gpg's fingerprint of the import must equal ours.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::harness::{age_recipient, fixtures, secret, Env};
use crate::ns_test;
use crate::openpgp::{rsa_key_of, ssh_keygen_rsa, ssh_to_pgp_public_key, GnupgHome};

/// Where the real sops gets its keys from.
#[derive(Clone, Copy)]
enum SopsKeys<'a> {
    /// gpg from PATH, with this GnuPG home.
    Gnupg(&'a Path),
    /// The fixture age key only (no gpg).
    FixtureAge,
}

/// The real sops with HOME and cwd in the test root, getting its keys from `keys`.
fn sops(env: &Env, keys: SopsKeys) -> Command {
    let mut cmd = Command::new("sops");
    cmd.current_dir(env.root.path())
        .env("HOME", env.root.path());
    match keys {
        SopsKeys::Gnupg(home) => cmd.env("GNUPGHOME", home).env_remove("SOPS_GPG_EXEC"),
        SopsKeys::FixtureAge => cmd
            .env("SOPS_AGE_KEY_FILE", fixtures().join("keys/age1.txt"))
            .env("SOPS_GPG_EXEC", "/nonexistent/gpg"),
    };
    cmd
}

/// Runs a `sops` command; what it prints (the test fails if sops does).
fn sops_stdout(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().expect("sops runs");
    let what = cmd.get_args().next().unwrap_or_default().to_string_lossy();
    assert!(
        out.status.success(),
        "sops {what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Encrypts `plaintext` with the real sops to `recipients` (sops flags), gpg using `home`.
fn sops_encrypt(
    env: &Env,
    home: &Path,
    name: &str,
    plaintext: &str,
    recipients: &[&str],
) -> PathBuf {
    let plain = env.path(&format!("plain-{name}"));
    std::fs::write(&plain, plaintext).expect("write plaintext");
    let encrypted = sops_stdout(
        sops(env, SopsKeys::Gnupg(home))
            .arg("encrypt")
            .args(recipients)
            .arg(&plain),
    );
    std::fs::remove_file(&plain).expect("remove plaintext");
    let enc = env.path(name);
    std::fs::write(&enc, encrypted).expect("write encrypted");
    enc
}

/// What the real `sops decrypt` prints for `file`.
fn sops_decrypt(env: &Env, keys: SopsKeys, file: &Path) -> Vec<u8> {
    sops_stdout(sops(env, keys).arg("decrypt").arg(file))
}

/// Runs `sops-install decrypt ARGS`; returns (status, stdout, stderr).
fn our_decrypt(
    env: &Env,
    args: &[&std::ffi::OsStr],
    vars: &[(&str, &str)],
) -> (i32, Vec<u8>, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sops-install"));
    cmd.arg("decrypt").args(args);
    for var in [
        "GNUPGHOME",
        "SOPS_GPG_EXEC",
        "SOPS_AGE_KEY",
        "SOPS_AGE_KEY_FILE",
        "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd
        .env("HOME", env.root.path())
        .output()
        .expect("sops-install runs");
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A manifest with no age source, for the PGP sources to be the only ones.
fn pgp_manifest(env: &Env, secrets: Value) -> Value {
    let mut m = env.manifest(secrets, json!([]));
    m["ageKeyFile"] = Value::Null;
    m
}

/// A new RSA ssh key in the test root (PEM or OpenSSH format).
fn ssh_keygen(env: &Env, name: &str, pem: bool) -> PathBuf {
    let path = env.path(name);
    ssh_keygen_rsa(&path, pem);
    path
}

const PLAIN: &str = "db:\n    password: hunter2\napi: key-42\n";

ns_test! {
    fn a_gnupg_home_opens_what_sops_encrypted_through_gpg() {
        let env = Env::new();
        let home = GnupgHome::new(env.path("gnupg"));
        let fp = home.generate("sops-install test <t@example.invalid>");
        let file = sops_encrypt(&env, &home.dir, "s.yaml", PLAIN, &["--pgp", &fp]);
        assert!(env.read(&file).contains(&format!("fp: {fp}")));
        let expected = sops_decrypt(&env, SopsKeys::Gnupg(&home.dir), &file);

        // `decrypt`, with the home given and with it inherited as sops would
        let (status, out, err) = our_decrypt(&env, &["--gnupg-home".as_ref(), home.dir.as_os_str(), file.as_os_str()], &[]);
        assert_eq!((status, err.as_str()), (0, ""));
        assert_eq!(out, expected);
        let home_str = home.dir.to_str().expect("utf-8 path");
        let (status, out, _) = our_decrypt(&env, &[file.as_os_str()], &[("GNUPGHOME", home_str)]);
        assert_eq!((status, out), (0, expected));

        // the installer, with gpg from PATH
        let mut m = pgp_manifest(&env, json!([secret("pw", &file, "db/password", "yaml"), secret("all", &file, "", "yaml")]));
        m["gnupgHome"] = json!(home.dir);
        env.install(&m, &[]).ok();
        assert_eq!(env.read(env.symlink().join("pw")), "hunter2");
        assert_eq!(std::fs::read(env.symlink().join("all")).unwrap(), sops_decrypt(&env, SopsKeys::Gnupg(&home.dir), &file));
    }

    fn sops_gpg_exec_names_the_gpg_that_runs_with_sops_arguments() {
        let env = Env::new();
        let home = GnupgHome::new(env.path("gnupg"));
        let fp = home.generate("sops-install test <t@example.invalid>");
        let file = sops_encrypt(&env, &home.dir, "s.yaml", PLAIN, &["--pgp", &fp]);
        let log = env.path("gpg-calls");
        let wrapper = env.path("my-gpg");
        std::fs::write(&wrapper, format!(
            "#!/bin/sh\nprintf '%s|%s\\n' \"$*\" \"$GNUPGHOME\" >> {}\nexec gpg \"$@\"\n",
            log.display()
        )).unwrap();
        std::fs::set_permissions(&wrapper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let mut m = pgp_manifest(&env, json!([secret("pw", &file, "db/password", "yaml")]));
        m["gnupgHome"] = json!(home.dir);
        let path = env.write_manifest(&m);
        env.run_cmd(Command::new(env!("CARGO_BIN_EXE_sops-install")).arg(&path)
            .env("SOPS_GPG_EXEC", &wrapper).stdin(std::process::Stdio::null())).ok();
        assert_eq!(env.read(env.symlink().join("pw")), "hunter2");
        assert_eq!(env.read(&log), format!("-d|{}\n", home.dir.display()), "one `gpg -d`, with GNUPGHOME");

        // Without gnupgHome gpg still runs, with its default home: a wrapper that brings its own
        // key (as qubes split-gpg's client does) is enough.
        let own = env.path("gpg-with-own-home");
        std::fs::write(&own, format!(
            "#!/bin/sh\nGNUPGHOME={} exec gpg \"$@\"\n", home.dir.display()
        )).unwrap();
        std::fs::set_permissions(&own, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        m["gnupgHome"] = Value::Null;
        m["secrets"][0]["name"] = json!("pw2");
        let path = env.write_manifest(&m);
        env.run_cmd(Command::new(env!("CARGO_BIN_EXE_sops-install")).arg(&path)
            .env("SOPS_GPG_EXEC", &own)).ok();
        assert_eq!(env.read(env.symlink().join("pw2")), "hunter2");
    }

    fn the_sops_nix_test_assets_open_with_their_gpg_key() {
        // sops-nix's own TestAll / pgp-keys VM test: key.asc imported into a GnuPG home.
        let env = Env::new();
        let home = GnupgHome::new(env.path("gnupg"));
        let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("nix/tests/assets");
        home.gpg(&["--import", assets.join("key.asc").to_str().unwrap()]);
        let mut m = pgp_manifest(&env, json!([
            secret("test_key", &assets.join("secrets.yaml"), "test_key", "yaml"),
            secret("nested/test/file", &assets.join("secrets.yaml"), "nested/test/file", "yaml"),
            secret("test2", &assets.join("secrets.json"), "test_key", "json"),
            secret("test3", &assets.join("secrets.bin"), "", "binary"),
            secret("test4", &assets.join("secrets.env"), "", "dotenv"),
            secret("test5", &assets.join("secrets.ini"), "", "ini"),
        ]));
        m["gnupgHome"] = json!(home.dir);
        env.install(&m, &[]).ok();
        let live = env.symlink();
        assert_eq!(env.read(live.join("test_key")), "test_value");
        assert_eq!(env.read(live.join("nested/test/file")), "another value");
        assert_eq!(env.read(live.join("test2")), "test_value");
        assert_eq!(std::fs::read(live.join("test3")).unwrap().len(), 13);
        for (name, file) in [("test4", "secrets.env"), ("test5", "secrets.ini")] {
            assert_eq!(std::fs::read(live.join(name)).unwrap(), sops_decrypt(&env, SopsKeys::Gnupg(&home.dir), &assets.join(file)), "{name}");
        }
    }

    fn rsa_ssh_keys_open_files_encrypted_to_their_ssh_to_pgp_fingerprint_without_a_keyring() {
        let env = Env::new();
        // (key format, cipher preferences, compression preferences): AES-128 + ZIP from a PEM
        // key, AES-256 + ZLIB from an OpenSSH one.
        for (pem, ciphers, compression) in [(true, [7u8, 9], [1u8, 2]), (false, [9, 7], [2, 1])] {
            let name = if pem { "rsa-pem" } else { "rsa-openssh" };
            let key_path = ssh_keygen(&env, name, pem);
            let head = env.read(&key_path);
            assert!(head.starts_with(if pem { "-----BEGIN RSA PRIVATE KEY-----" } else { "-----BEGIN OPENSSH PRIVATE KEY-----" }));
            let key = rsa_key_of(&key_path);
            let (public, fp) = ssh_to_pgp_public_key(&key, &ciphers, &compression);
            let fp_hex = hex::encode_upper(fp);
            let home = GnupgHome::new(env.path(&format!("gnupg-{name}")));
            home.import(&public);
            assert_eq!(home.fingerprints(), vec![fp_hex.clone()], "gpg computes the same fingerprint");
            let file = sops_encrypt(&env, &home.dir, &format!("{name}.yaml"), PLAIN, &["--pgp", &fp_hex]);
            let plain_json = sops_encrypt(&env, &home.dir, &format!("{name}.json"), "{\"a\": \"b\"}", &["--pgp", &fp_hex]);
            // gpg holds only the public key, so sops opens the file with the age key, and we
            // open it with nothing but the ssh key.
            let age = age_recipient(&fixtures().join("keys/age1.txt"));
            let both = sops_encrypt(&env, &home.dir, &format!("{name}-both.yaml"), PLAIN, &["--pgp", &fp_hex, "--age", &age]);
            let expected = sops_decrypt(&env, SopsKeys::FixtureAge, &both);
            let (status, out, err) = our_decrypt(&env, &["--pgp-ssh-key".as_ref(), key_path.as_os_str(), both.as_os_str()], &[]);
            assert_eq!((status, err.as_str()), (0, ""));
            assert_eq!(out, expected);
            drop(home);
            std::fs::remove_dir_all(env.path(&format!("gnupg-{name}"))).unwrap();

            let mut m = pgp_manifest(&env, json!([
                secret("pw", &file, "db/password", "yaml"),
                secret("json", &plain_json, "a", "json"),
            ]));
            m["sshKeyPaths"] = json!([key_path]);
            let run = env.install(&m, &[]).ok();
            assert_eq!(env.read(env.symlink().join("pw")), "hunter2");
            assert_eq!(env.read(env.symlink().join("json")), "b");
            assert!(
                run.stderr.contains(&format!("Imported {} as GPG key with fingerprint {}", key_path.display(), hex::encode(fp))),
                "{}", run.stderr
            );
            let live = env.live_generation();
            let entries: Vec<String> = std::fs::read_dir(env.mount_point()).unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
            assert!(
                entries.iter().all(|e| e.parse::<u64>().is_ok() || e == "custom-links.json"),
                "no keyring beside the generations: {entries:?}"
            );
            assert!(live.starts_with(env.mount_point()));
        }
    }

    fn a_gnupg_home_without_the_key_fails_with_one_line_naming_every_source() {
        let env = Env::new();
        let home = GnupgHome::new(env.path("gnupg"));
        let fp = home.generate("owner <o@example.invalid>");
        let file = sops_encrypt(&env, &home.dir, "s.yaml", PLAIN, &["--pgp", &fp]);
        let empty = GnupgHome::new(env.path("empty-gnupg"));
        let mut m = pgp_manifest(&env, json!([secret("pw", &file, "db/password", "yaml")]));
        m["gnupgHome"] = json!(empty.dir);
        let run = env.install(&m, &[]).failed();
        let line = run.stderr.trim_end();
        assert_eq!(line.lines().count(), 1, "{line}");
        for part in [
            file.display().to_string(),
            format!("recipients: pgp {fp}"),
            format!("pgp (any secret key gpg has) (from GnuPG home {})", empty.dir.display()),
            format!("GnuPG home {}: gpg -d failed: gpg: decryption failed: No secret key", empty.dir.display()),
        ] {
            assert!(line.contains(&part), "{part:?} missing in {line}");
        }
        assert!(!env.symlink().exists(), "nothing installed");
    }

    fn a_missing_sops_gpg_exec_is_named() {
        let env = Env::new();
        let home = GnupgHome::new(env.path("gnupg"));
        let fp = home.generate("owner <o@example.invalid>");
        let file = sops_encrypt(&env, &home.dir, "s.yaml", PLAIN, &["--pgp", &fp]);
        let mut m = pgp_manifest(&env, json!([secret("pw", &file, "db/password", "yaml")]));
        m["gnupgHome"] = json!(home.dir);
        let path = env.write_manifest(&m);
        let run = env.run_cmd(Command::new(env!("CARGO_BIN_EXE_sops-install")).arg(&path)
            .env("SOPS_GPG_EXEC", "/nonexistent/gpg")).failed();
        let line = run.stderr.trim_end();
        assert_eq!(line.lines().count(), 1, "{line}");
        assert!(line.contains(&format!("GnuPG home {}: cannot run /nonexistent/gpg: No such file or directory", home.dir.display())), "{line}");
    }

    fn an_rsa_key_that_is_not_the_recipient_is_listed_as_tried() {
        let env = Env::new();
        let home = GnupgHome::new(env.path("gnupg"));
        let fp = home.generate("owner <o@example.invalid>");
        let file = sops_encrypt(&env, &home.dir, "s.yaml", PLAIN, &["--pgp", &fp]);
        let other = ssh_keygen(&env, "other-rsa", false);
        let other_fp = hex::encode_upper(ssh_to_pgp_public_key(&rsa_key_of(&other), &[9], &[2]).1);
        let mut m = pgp_manifest(&env, json!([secret("pw", &file, "db/password", "yaml")]));
        m["sshKeyPaths"] = json!([other, env.path("no-such-key")]);
        let run = env.install(&m, &[]).failed();
        let line = run.stderr.trim_end();
        assert_eq!(line.lines().count(), 1, "{line}");
        for part in [
            "no loaded key can open it".to_string(),
            format!("recipients: pgp {fp}"),
            // Loaded as the ssh-to-pgp key and as the age ssh-rsa key.
            format!("pgp {other_fp} (from {})", other.display()),
            "loaded: ssh-rsa AAAA".to_string(),
            format!("{}: cannot read: No such file or directory", env.path("no-such-key").display()),
        ] {
            assert!(line.contains(&part), "{part:?} missing in {line}");
        }
    }

    fn an_age_key_still_opens_a_file_when_every_pgp_source_fails() {
        // The fixture made by sops with a pgp and an age recipient (its gpg key is gone).
        let env = Env::new();
        let file = fixtures().join("enc/pgp+age.yaml");
        let other = ssh_keygen(&env, "other-rsa", true);
        let mut m = env.manifest(json!([secret("all", &file, "", "yaml")]), json!([]));
        m["sshKeyPaths"] = json!([other]);
        env.install(&m, &[]).ok();
        assert_eq!(std::fs::read(env.symlink().join("all")).unwrap(), std::fs::read(fixtures().join("out/yaml-pgp+age.out")).unwrap());

        // gnupgHome excludes ageKeyFile in a manifest; SOPS_AGE_KEY_FILE still counts.
        let mut m = pgp_manifest(&env, json!([secret("all", &file, "", "yaml")]));
        m["gnupgHome"] = json!(env.path("no-such-home"));
        let path = env.write_manifest(&m);
        env.run_cmd(Command::new(env!("CARGO_BIN_EXE_sops-install")).arg(&path)
            .env("SOPS_GPG_EXEC", "/nonexistent/gpg")
            .env("SOPS_AGE_KEY_FILE", fixtures().join("keys/age1.txt"))).ok();
        assert_eq!(std::fs::read(env.symlink().join("all")).unwrap(), std::fs::read(fixtures().join("out/yaml-pgp+age.out")).unwrap());

        // Without the age key, both the age key file and the gpg failure are reported.
        let path = env.write_manifest(&m);
        let run = env.run_cmd(Command::new(env!("CARGO_BIN_EXE_sops-install")).arg(&path)
            .env("SOPS_GPG_EXEC", "/nonexistent/gpg")
            .env("SOPS_AGE_KEY_FILE", fixtures().join("keys/age2.txt"))).failed();
        let line = run.stderr.trim_end();
        assert_eq!(line.lines().count(), 1, "{line}");
        assert!(line.contains("no loaded key can open it") && line.contains("cannot run /nonexistent/gpg"), "{line}");
        assert!(line.contains(&format!("(from {})", fixtures().join("keys/age2.txt").display())), "{line}");
    }
}

/// The key's OpenSSH public line (`ssh-rsa AAAA…`), from ssh-keygen.
fn ssh_public_line(key: &Path) -> String {
    let out = Command::new("ssh-keygen")
        .arg("-y")
        .arg("-f")
        .arg(key)
        .output()
        .expect("ssh-keygen runs");
    assert!(
        out.status.success(),
        "ssh-keygen -y: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

ns_test! {
    fn rsa_keys_given_for_pgp_also_open_files_sops_encrypted_to_their_ssh_rsa_line() {
        // As sops-nix configures an RSA host key (sshKeyPaths only, no age source), a file the
        // real sops encrypted to the key's `ssh-rsa` line (sops >= 3.10) installs.
        let env = Env::new();
        for pem in [false, true] {
            let name = if pem { "host-rsa-pem" } else { "host-rsa" };
            let key = ssh_keygen(&env, name, pem);
            let line = ssh_public_line(&key);
            assert!(line.starts_with("ssh-rsa "), "{line}");
            let home = GnupgHome::new(env.path(&format!("gnupg-{name}")));
            let file = sops_encrypt(&env, &home.dir, &format!("{name}.yaml"), PLAIN, &["--age", &line]);
            drop(home);
            let text = env.read(&file);
            assert!(text.contains("recipient: ssh-rsa "), "{text}");
            assert!(!text.contains("pgp:") || text.contains("pgp: []"), "{text}");

            let mut m = pgp_manifest(&env, json!([secret("pw", &file, "db/password", "yaml")]));
            m["sshKeyPaths"] = json!([key]);
            env.install(&m, &[]).ok();
            assert_eq!(env.read(env.symlink().join("pw")), "hunter2");

            // The same key in ageSshKeyPaths (and both lists) opens it too.
            let mut m = pgp_manifest(&env, json!([secret("pw", &file, "db/password", "yaml")]));
            m["ageSshKeyPaths"] = json!([key]);
            env.install(&m, &[]).ok();
            assert_eq!(env.read(env.symlink().join("pw")), "hunter2");
            m["sshKeyPaths"] = json!([key]);
            env.install(&m, &[]).ok();
            assert_eq!(env.read(env.symlink().join("pw")), "hunter2");
        }

        // Another RSA key does not open it, and the failure lists the ssh-rsa key it tried.
        let key = ssh_keygen(&env, "encrypting-rsa", false);
        let home = GnupgHome::new(env.path("gnupg-x"));
        let file = sops_encrypt(&env, &home.dir, "x.yaml", PLAIN, &["--age", &ssh_public_line(&key)]);
        drop(home);
        let other = ssh_keygen(&env, "other-host-rsa", false);
        let mut m = pgp_manifest(&env, json!([secret("pw2", &file, "db/password", "yaml")]));
        m["sshKeyPaths"] = json!([other]);
        let run = env.install(&m, &[]).failed();
        let err = run.stderr.trim_end();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(&format!("(from {})", other.display())) && err.contains("ssh-rsa"), "{err}");
    }
}
