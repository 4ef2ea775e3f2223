//! home-manager's user mode: `%r` paths, no mount, no chown, the same generations and swap.

use serde_json::json;

use crate::harness::{fixtures, is_ramfs, secret, Env};
use crate::ns_test;

ns_test! {
    fn user_mode_expands_percent_r_and_mounts_nothing() {
        let env = Env::new();
        let runtime = env.path("run-user-1000");
        std::fs::create_dir(&runtime).unwrap();
        let mut s = secret("smtp_password", &fixtures().join("enc/basic.yaml"), "db/password", "yaml");
        s["path"] = json!("%r/smtp_password");
        let mut m = env.manifest(json!([s]), json!([]));
        m["userMode"] = json!(true);
        m["secretsMountPoint"] = json!("%r/secrets.d");
        m["symlinkPath"] = json!(env.path("home/.config/sops-nix/secrets"));
        let path = env.write_manifest(&m);
        let run = env.run_cmd(
            std::process::Command::new(env!("CARGO_BIN_EXE_sops-install")).arg("-ignore-passwd").arg(&path).env("XDG_RUNTIME_DIR", &runtime),
        );
        run.ok();
        assert!(!is_ramfs(&runtime.join("secrets.d")), "nothing is mounted in user mode");
        assert_eq!(std::fs::read_link(env.path("home/.config/sops-nix/secrets")).unwrap(), runtime.join("secrets.d/1"));
        assert_eq!(env.read(runtime.join("smtp_password")), "hunter2");
        assert_eq!(std::fs::read_link(runtime.join("smtp_password")).unwrap(), env.path("home/.config/sops-nix/secrets/smtp_password"));
    }

    fn user_mode_without_a_runtime_dir_fails_cleanly() {
        let env = Env::new();
        let mut m = env.manifest(json!([secret("s", &fixtures().join("enc/basic.yaml"), "api_key", "yaml")]), json!([]));
        m["userMode"] = json!(true);
        m["secretsMountPoint"] = json!("%r/secrets.d");
        let path = env.write_manifest(&m);
        let run = env.run_cmd(std::process::Command::new(env!("CARGO_BIN_EXE_sops-install")).arg(&path).env_remove("XDG_RUNTIME_DIR")).failed();
        assert!(run.stderr.contains("XDG_RUNTIME_DIR"), "{}", run.stderr);
    }
}
