//! systemd credentials both ways: secrets with a `credential` appear in the credential store
//! (`/run/credstore` by default: this namespace's own `/run`) as links to root-owned 0400
//! copies in the generation, swapped with it; and key credentials in `$CREDENTIALS_DIRECTORY`
//! open sops files. Rendered templates with a `credential` are exposed the same way.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::harness::{fixtures, is_ramfs, owner_mode, secret, Env};
use crate::ns_test;

fn manifest(env: &Env, file: &Path) -> Value {
    let mut s = secret("app/token", file, "token", "yaml");
    s["owner"] = json!("nobody");
    s["group"] = json!("nogroup");
    s["mode"] = json!("0440");
    s["credential"] = json!("app-token");
    s["restartUnits"] = json!(["app.service"]);
    let plain = secret("plain", file, "token", "yaml");
    env.manifest(json!([s, plain]), json!([]))
}

fn encrypt(env: &Env, value: &str) -> PathBuf {
    let _ = std::fs::remove_file(env.path("app.yaml"));
    env.sops_encrypt("app.yaml", &format!("token: {value}\n"))
}

/// Runs the installer with `CREDENTIALS_DIRECTORY=dir` (when given).
fn install_with_credentials(env: &Env, m: &Value, dir: Option<&Path>) -> crate::harness::Run {
    let path = env.write_manifest(m);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sops-install"));
    cmd.arg(&path);
    match dir {
        Some(d) => cmd.env("CREDENTIALS_DIRECTORY", d),
        None => cmd.env_remove("CREDENTIALS_DIRECTORY"),
    };
    env.run_cmd(&mut cmd)
}

ns_test! {
    fn a_credential_is_a_root_0400_copy_linked_from_the_store_and_swapped_with_the_generation() {
        std::fs::create_dir_all("/run/nixos").unwrap();
        let env = Env::new();
        let file = encrypt(&env, "first");
        let m = manifest(&env, &file);
        let run = env.install(&m, &[]).ok();
        assert_eq!(run.stdout, "");

        let store = Path::new("/run/credstore");
        assert_eq!(owner_mode(store), (0, 0, 0o700), "made like systemd's tmpfiles makes it");
        let link = store.join("app-token");
        let target = env.symlink().join(".credentials/app-token");
        assert_eq!(std::fs::read_link(&link).unwrap(), target, "through the live symlink");
        let meta = std::fs::symlink_metadata(&link).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (0, 0));
        assert_eq!(env.read(&link), "first", "what LoadCredential= reads");
        let copy = env.live_generation().join(".credentials/app-token");
        assert_eq!(owner_mode(&copy), (0, 0, 0o400));
        assert!(is_ramfs(&copy));
        assert_eq!(owner_mode(&env.symlink().join("app/token")), (65534, 65534, 0o440), "the secret itself is unchanged");

        // A new value: the link stays, what it reads is the new generation's copy.
        encrypt(&env, "second");
        let run = env.install(&m, &[]).ok();
        assert_eq!(run.stdout_lines(), vec!["modifying secrets: app/token, plain"], "the copies are not secrets of their own");
        assert_eq!(env.live_generation(), env.mount_point().join("2"));
        assert_eq!(env.read(&link), "second");
        assert_eq!(std::fs::read_link(&link).unwrap(), target);
        assert_eq!(std::fs::read_to_string("/run/nixos/activation-restart-list").unwrap(), "app.service\n");

        // Unchanged: nothing to report.
        assert_eq!(env.install(&m, &[]).ok().stdout, "");

        // Renamed: the old link goes, the new one comes.
        let mut renamed = m.clone();
        renamed["secrets"][0]["credential"] = json!("token-2");
        env.install(&renamed, &[]).ok();
        assert!(std::fs::symlink_metadata(&link).is_err(), "the dropped credential's link is removed");
        assert_eq!(env.read(store.join("token-2")), "second");
        assert!(!env.symlink().join(".credentials/app-token").exists());
    }

    fn a_credential_keeps_its_last_good_value_with_its_secret() {
        let env = Env::new();
        let file = encrypt(&env, "good");
        let mut m = manifest(&env, &file);
        m["keepLastGoodOnFailure"] = json!(true);
        m["credentialStore"] = json!(env.path("store"));
        env.install(&m, &[]).ok();
        std::fs::write(&file, "token: [not sops\n").unwrap();
        let run = env.install(&m, &[]).failed();
        assert!(run.stderr.contains("keeping the previous values"), "{}", run.stderr);
        assert_eq!(env.live_generation(), env.mount_point().join("2"));
        assert_eq!(env.read(env.path("store/app-token")), "good");
        assert_eq!(owner_mode(&env.live_generation().join(".credentials/app-token")), (0, 0, 0o400));
    }

    fn credentials_are_refused_in_user_mode_twice_under_one_name_and_on_a_taken_path() {
        let env = Env::new();
        let file = encrypt(&env, "x");
        let mut m = manifest(&env, &file);
        m["secrets"][1]["credential"] = json!("app-token");
        let run = env.install(&m, &[]).failed();
        assert!(run.stderr.contains("\"app-token\" is also the credential of secret \"app/token\""), "{}", run.stderr);

        let mut m = manifest(&env, &file);
        m["secrets"][1]["path"] = json!("/run/credstore/app-token");
        let run = env.install(&m, &[]).failed();
        assert!(run.stderr.contains("/run/credstore/app-token is also the path of secret \"plain\""), "{}", run.stderr);

        let mut m = manifest(&env, &file);
        m["secrets"][1]["credential"] = json!("bad:name");
        let run = env.install(&m, &[]).failed();
        assert!(run.stderr.contains("credential: \"bad:name\" may only hold"), "{}", run.stderr);

        let mut m = manifest(&env, &file);
        m["secrets"][1]["name"] = json!(".credentials/x");
        let run = env.install(&m, &[]).failed();
        assert!(run.stderr.contains("\".credentials\" is reserved"), "{}", run.stderr);

        let mut m = manifest(&env, &file);
        m["userMode"] = json!(true);
        let path = env.write_manifest(&m);
        let run = env.run_cmd(Command::new(env!("CARGO_BIN_EXE_sops-install")).arg(&path).env("XDG_RUNTIME_DIR", env.root.path()));
        assert!(run.status != 0 && run.stderr.contains("systemd credentials are for system mode only"), "{}", run.stderr);
        assert!(std::fs::symlink_metadata("/run/credstore").is_err(), "nothing was made");
    }

    fn an_age_key_passed_as_a_credential_opens_the_sops_files() {
        let env = Env::new();
        let file = encrypt(&env, "from-credential");
        let mut m = manifest(&env, &file);
        m["ageKeyFile"] = json!(null);
        let creds = env.path("credentials");
        std::fs::create_dir(&creds).unwrap();
        let run = install_with_credentials(&env, &m, Some(&creds)).failed();
        assert!(run.stderr.contains("no key was loaded to open it"), "an empty credentials directory holds no key: {}", run.stderr);
        let run = install_with_credentials(&env, &m, None).failed();
        assert!(run.stderr.contains("no key was loaded to open it"), "{}", run.stderr);

        std::fs::copy(fixtures().join("keys/age1.txt"), creds.join("sops-install.age-key")).unwrap();
        install_with_credentials(&env, &m, Some(&creds)).ok();
        assert_eq!(env.read(env.symlink().join("app/token")), "from-credential");
    }

    fn an_ssh_key_passed_as_a_credential_opens_files_for_its_native_and_converted_recipients() {
        let env = Env::new();
        let creds = env.path("credentials");
        std::fs::create_dir(&creds).unwrap();
        std::fs::copy(fixtures().join("keys/ssh_host_ed25519_key"), creds.join("sops-install.ssh-key")).unwrap();
        let native = secret("native", &fixtures().join("enc/ssh.native.yaml"), "secret", "yaml");
        let converted = secret("converted", &fixtures().join("enc/ssh.converted.yaml"), "secret", "yaml");
        let mut m = env.manifest(json!([native, converted]), json!([]));
        m["ageKeyFile"] = json!(null);
        install_with_credentials(&env, &m, Some(&creds)).ok();
        assert_eq!(env.read(env.symlink().join("native")), "from-ssh");
        assert_eq!(env.read(env.symlink().join("converted")), "from-ssh");
    }

    fn a_key_credential_that_is_not_a_regular_file_is_a_warning_not_a_hang() {
        let env = Env::new();
        let file = encrypt(&env, "v");
        let mut m = manifest(&env, &file);
        m["secrets"][0]["credential"] = json!(null);
        let creds = env.path("credentials");
        std::fs::create_dir(&creds).unwrap();
        nix::unistd::mkfifo(&creds.join("sops-install.age-key"), nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        // The manifest's own key still opens the file; the FIFO is named in a warning.
        let run = install_with_credentials(&env, &m, Some(&creds)).ok();
        assert!(run.stderr.contains("sops-install.age-key") && run.stderr.contains("warning: key source"), "{}", run.stderr);
    }

    fn a_store_someone_else_can_write_to_is_refused_before_anything_changes() {
        use std::os::unix::fs::PermissionsExt;
        let env = Env::new();
        let file = encrypt(&env, "first");
        let mut m = manifest(&env, &file);
        let store = env.path("store");
        m["credentialStore"] = json!(store);
        env.install(&m, &[]).ok();
        let live = env.live_generation();
        encrypt(&env, "second");
        // Writable by everyone (even sticky), or owned by another user: that user could put
        // a file of their own where a service's credential link is.
        for (uid, mode) in [(0, 0o777), (0, 0o1777), (0, 0o770), (1234, 0o700)] {
            std::os::unix::fs::chown(&store, Some(uid), Some(0)).unwrap();
            std::fs::set_permissions(&store, std::fs::Permissions::from_mode(mode)).unwrap();
            let run = env.install(&m, &[]).failed();
            let line = run.stderr.trim_end();
            assert!(!line.contains('\n') && line.contains("refusing the credential store") && line.contains(&store.display().to_string()), "{uid} {mode:o}: {line}");
            assert!(line.ends_with("; hint: make it root's with mode 0700, as systemd's tmpfiles does"), "{uid} {mode:o}: {line}");
            assert_eq!(env.live_generation(), live, "nothing swapped");
            assert_eq!(env.read(store.join("app-token")), "first");
        }
        // A root 0700 store in a directory another user owns or may write to: she could
        // rename it away and put her own in its place.
        std::os::unix::fs::chown(&store, Some(0), Some(0)).unwrap();
        std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o700)).unwrap();
        let outer = env.path("outer");
        std::fs::create_dir(&outer).unwrap();
        std::fs::set_permissions(&outer, std::fs::Permissions::from_mode(0o755)).unwrap();
        let inner_store = outer.join("store");
        std::fs::create_dir(&inner_store).unwrap();
        std::fs::set_permissions(&inner_store, std::fs::Permissions::from_mode(0o700)).unwrap();
        let mut m_outer = m.clone();
        m_outer["credentialStore"] = json!(inner_store);
        for (uid, mode) in [(1234, 0o755), (0, 0o777)] {
            std::os::unix::fs::chown(&outer, Some(uid), Some(0)).unwrap();
            std::fs::set_permissions(&outer, std::fs::Permissions::from_mode(mode)).unwrap();
            let run = env.install(&m_outer, &[]).failed();
            assert!(run.stderr.contains("refusing the credential store") && run.stderr.contains("on its way"), "{uid} {mode:o}: {}", run.stderr);
            assert_eq!(env.live_generation(), live, "nothing swapped");
        }
        // Not there yet, below her directory: refused before it is made.
        let mut m_missing = m.clone();
        m_missing["credentialStore"] = json!(outer.join("new/store"));
        let run = env.install(&m_missing, &[]).failed();
        assert!(run.stderr.contains("on its way"), "{}", run.stderr);
        assert!(!outer.join("new").exists(), "nothing made");
        // Root's own 0755 store is fine; so is one reached through a root-owned symlink.
        std::os::unix::fs::chown(&store, Some(0), Some(0)).unwrap();
        std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o755)).unwrap();
        env.install(&m, &[]).ok();
        assert_eq!(env.read(store.join("app-token")), "second");
        let other = Env::new();
        let real = other.path("real-store");
        std::fs::create_dir(&real).unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o700)).unwrap();
        let via = other.path("via");
        std::os::unix::fs::symlink(&real, &via).unwrap();
        let mut m2 = manifest(&other, &encrypt(&other, "third"));
        m2["credentialStore"] = json!(via);
        other.install(&m2, &[]).ok();
        assert_eq!(other.read(real.join("app-token")), "third");
        // A symlink to nothing: its target is not made as some 0755 directory.
        let dangling = env.path("dangling");
        std::os::unix::fs::symlink(env.path("nowhere"), &dangling).unwrap();
        m["credentialStore"] = json!(dangling);
        let run = env.install(&m, &[]).failed();
        assert!(run.stderr.contains("is a symlink to nothing"), "{}", run.stderr);
        assert!(!env.path("nowhere").exists(), "nothing made");
        // Not a directory at all.
        let not_dir = env.path("not-a-dir");
        std::fs::write(&not_dir, "").unwrap();
        m["credentialStore"] = json!(not_dir);
        let run = env.install(&m, &[]).failed();
        assert!(run.stderr.contains("refusing the credential store") || run.stderr.contains("not a directory"), "{}", run.stderr);
    }

    fn a_store_path_that_is_not_a_directory_fails_before_the_swap() {
        let env = Env::new();
        let file = encrypt(&env, "v");
        let mut m = manifest(&env, &file);
        m["credentialStore"] = json!(env.path("store"));
        m["secrets"][0]["credential"] = json!(null);
        env.install(&m, &[]).ok();
        let live = env.live_generation();
        std::fs::write(env.path("store"), "not a directory").unwrap();
        m["secrets"][0]["credential"] = json!("app-token");
        let run = env.install(&m, &[]).failed();
        assert!(run.stderr.contains("app-token"), "{}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert_eq!(env.live_generation(), live, "nothing swapped");
        assert_eq!(env.read(env.path("store")), "not a directory");
    }

    fn a_template_with_a_credential_is_linked_like_a_secret_and_shares_its_name_rules() {
        const PH: &str = "<SOPS:app-token-placeholder:PH>";
        let env = Env::new();
        let file = encrypt(&env, "first");
        let mut m = manifest(&env, &file);
        m["secrets"][0]["credential"] = json!(null);
        m["credentialStore"] = json!(env.path("store"));
        m["placeholderBySecretName"] = json!({ "app/token": PH, "plain": "<SOPS:plain-placeholder:PH>" });
        m["templates"] = json!([{
            "name": "app.env", "content": format!("TOKEN={PH}\n"), "file": "", "path": "",
            "mode": "0440", "owner": "nobody", "uid": 0, "group": "nogroup", "gid": 0,
            "restartUnits": [], "reloadUnits": [], "credential": "app-env"
        }]);
        env.install(&m, &[]).ok();
        let link = env.path("store/app-env");
        assert_eq!(std::fs::read_link(&link).unwrap(), env.symlink().join(".credentials/app-env"));
        assert_eq!(env.read(&link), "TOKEN=first\n", "the rendered text, placeholders replaced");
        let copy = env.live_generation().join(".credentials/app-env");
        assert_eq!(owner_mode(&copy), (0, 0, 0o400));
        assert!(is_ramfs(&copy));
        assert_eq!(owner_mode(&env.symlink().join("rendered/app.env")), (65534, 65534, 0o440), "the template itself is unchanged");

        // A new secret value re-renders the template and its credential copy with it.
        encrypt(&env, "second");
        env.install(&m, &[]).ok();
        assert_eq!(env.read(&link), "TOKEN=second\n");

        // Dropped: its link goes.
        let mut dropped = m.clone();
        dropped["templates"][0]["credential"] = json!(null);
        env.install(&dropped, &[]).ok();
        assert!(std::fs::symlink_metadata(&link).is_err(), "the dropped credential's link is removed");

        // One name for a secret and a template, a bad name, user mode: refused.
        let mut twice = m.clone();
        twice["secrets"][0]["credential"] = json!("app-env");
        let run = env.install(&twice, &[]).failed();
        assert!(run.stderr.contains("template \"app.env\": credential: \"app-env\" is also the credential of secret \"app/token\""), "{}", run.stderr);
        let mut bad = m.clone();
        bad["templates"][0]["credential"] = json!("a/b");
        let run = env.install(&bad, &[]).failed();
        assert!(run.stderr.contains("template \"app.env\": credential: \"a/b\" may only hold"), "{}", run.stderr);
        let mut user = m.clone();
        user["userMode"] = json!(true);
        user["templates"][0]["owner"] = json!(null);
        user["templates"][0]["group"] = json!(null);
        let path = env.write_manifest(&user);
        let run = env.run_cmd(Command::new(env!("CARGO_BIN_EXE_sops-install")).arg(&path).env("XDG_RUNTIME_DIR", env.root.path()));
        assert!(run.status != 0 && run.stderr.contains("template \"app.env\": credential: systemd credentials are for system mode only"), "{}", run.stderr);
    }
}
