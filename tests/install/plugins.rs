//! age plugin identities in a full root activation: the key file holds only a plugin identity
//! and the plugin binary is found on PATH, as `sops.age.plugins` arranges; a missing plugin
//! is a warning while another key serves, and a named source in the error when none does.

use std::process::Command;

use serde_json::json;

use crate::harness::{secret, Env};
use crate::ns_test;
use crate::plugin;

/// A yaml file the real sops encrypted to a fresh age key; returns (file, secret key line,
/// key file text).
fn encrypted_to_new_key(env: &Env, name: &str) -> (std::path::PathBuf, String, String) {
    let (text, secret_line, recipient) = plugin::age_keygen();
    let plain = env.path(&format!("plain-{name}"));
    std::fs::write(&plain, "token: from-the-plugin\n").expect("write plaintext");
    let out = Command::new("sops")
        .args(["encrypt", "--age", &recipient])
        .arg(&plain)
        .current_dir(env.root.path())
        .env("HOME", env.root.path())
        .env_remove("SOPS_AGE_KEY_FILE")
        .output()
        .expect("sops runs");
    assert!(
        out.status.success(),
        "sops: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_file(&plain).expect("remove plaintext");
    let file = env.path(name);
    std::fs::write(&file, out.stdout).expect("write encrypted");
    (file, secret_line, text)
}

ns_test! {
    fn a_plugin_identity_alone_installs_secrets_through_the_plugin_on_path() {
        let env = Env::new();
        let (file, secret_line, _) = encrypted_to_new_key(&env, "s.yaml");
        let keys = env.path("keys.txt");
        std::fs::write(&keys, plugin::identity_for(&secret_line, None)).expect("write keys");
        let mut m = env.manifest(json!([secret("token", &file, "token", "yaml")]), json!([]));
        m["ageKeyFile"] = json!(keys);
        let path = env.write_manifest(&m);
        let dir = plugin::path_dir(env.root.path());
        let run = env.run_cmd(
            Command::new(env!("CARGO_BIN_EXE_sops-install")).arg(&path).env("PATH", plugin::path_with(&dir)),
        ).ok();
        assert!(!run.stderr.contains("warning"), "{}", run.stderr);
        assert_eq!(env.read(env.symlink().join("token")), "from-the-plugin");

        // Without the plugin on PATH the run fails, naming the binary, and the live generation stays.
        let run = env.run_cmd(Command::new(env!("CARGO_BIN_EXE_sops-install")).arg(&path)).failed();
        assert!(run.stderr.contains("age-plugin-sopstest is not on PATH"), "{}", run.stderr);
        assert!(run.stderr.contains(&file.display().to_string()), "{}", run.stderr);
        assert_eq!(env.read(env.symlink().join("token")), "from-the-plugin");
    }

    fn a_missing_plugin_is_a_warning_while_another_key_serves() {
        let env = Env::new();
        let (file, _, key_text) = encrypted_to_new_key(&env, "s.yaml");
        let (_, other_secret, _) = plugin::age_keygen();
        let keys = env.path("keys.txt");
        std::fs::write(&keys, format!("{}{key_text}", plugin::identity_for(&other_secret, None)))
            .expect("write keys");
        let mut m = env.manifest(json!([secret("token", &file, "token", "yaml")]), json!([]));
        m["ageKeyFile"] = json!(keys);
        let run = env.install(&m, &[]).ok();
        assert_eq!(env.read(env.symlink().join("token")), "from-the-plugin");
        assert!(
            run.stderr.contains(&format!(
                "warning: key source {} line 2 not used: age-plugin-sopstest is not on PATH",
                keys.display()
            )),
            "{}",
            run.stderr
        );
    }
}
