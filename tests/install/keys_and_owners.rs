//! Secrets by key and whole file, owners by name and number, exact modes, key sources.

use serde_json::json;

use crate::harness::{fixtures, is_ramfs, owner_mode, secret, Env};
use crate::ns_test;

ns_test! {
    fn a_keyed_secret_is_installed_on_ramfs_with_its_owner_and_exact_mode() {
        let env = Env::new();
        let file = fixtures().join("enc/basic.yaml");
        let mut s = secret("db/password", &file, "db/password", "yaml");
        s["owner"] = json!("nobody");
        s["group"] = json!("nogroup");
        s["mode"] = json!("0440");
        let mut whole = secret("whole", &file, "", "yaml");
        whole["mode"] = json!("0660");
        let m = env.manifest(json!([s, whole]), json!([]));
        let run = env.install(&m, &[]).ok();
        assert_eq!(run.stdout, "", "no change lines on the first activation");
        let installed = env.symlink().join("db/password");
        assert_eq!(env.read(&installed), "hunter2");
        assert_eq!(owner_mode(&installed), (65534, 65534, 0o440));
        assert_eq!(env.read(env.symlink().join("whole")), env.read(fixtures().join("out/yaml-basic-age1.out")));
        assert_eq!(owner_mode(&env.symlink().join("whole")).2, 0o660, "modes are exact, not reduced by the umask");
        assert!(is_ramfs(&env.mount_point()));
        assert_eq!(owner_mode(&env.mount_point()).2, 0o751);
        assert_eq!(owner_mode(&env.symlink().join("db")).2, 0o751);
        assert_eq!(env.live_generation(), env.mount_point().join("1"));
        assert!(!env.mount_point().join("age-keys.txt").exists(), "no key file is written");
    }

    fn numeric_owners_are_used_even_without_such_a_user() {
        let env = Env::new();
        let file = fixtures().join("enc/basic.yaml");
        let mut a = secret("by-id", &file, "api_key", "yaml");
        a["uid"] = json!(1000);
        a["gid"] = json!(1000);
        let mut b = secret("unknown-ids", &file, "api_key", "yaml");
        b["uid"] = json!(1001);
        b["gid"] = json!(1001);
        let mut c = secret("name-wins", &file, "api_key", "yaml");
        c["owner"] = json!("nobody");
        c["uid"] = json!(1234);
        let m = env.manifest(json!([a, b, c]), json!([]));
        env.install(&m, &[]).ok();
        assert_eq!(owner_mode(&env.symlink().join("by-id")), (1000, 1000, 0o400));
        assert_eq!(owner_mode(&env.symlink().join("unknown-ids")), (1001, 1001, 0o400));
        assert_eq!(owner_mode(&env.symlink().join("name-wins")).0, 65534);
    }

    fn ignore_passwd_makes_everything_root() {
        let env = Env::new();
        let mut s = secret("s", &fixtures().join("enc/basic.yaml"), "api_key", "yaml");
        s["owner"] = json!("no-such-user-anywhere");
        let m = env.manifest(json!([s]), json!([]));
        env.install(&m, &["-ignore-passwd"]).ok();
        assert_eq!(owner_mode(&env.symlink().join("s")), (0, 0, 0o400));
    }

    fn every_store_installs_what_sops_decrypt_prints() {
        let env = Env::new();
        let f = fixtures();
        let m = env.manifest(
            json!([
                secret("json-whole", &f.join("enc/basic.json"), "", "json"),
                secret("json-nested", &f.join("enc/basic.json"), "db/user", "json"),
                secret("env", &f.join("enc/basic.env"), "ignored-key", "dotenv"),
                secret("ini", &f.join("enc/basic.ini"), "ignored-key", "ini"),
                secret("bin", &f.join("enc/blob.bin"), "ignored-key", "binary"),
            ]),
            json!([]),
        );
        env.install(&m, &[]).ok();
        let live = env.symlink();
        assert_eq!(std::fs::read(live.join("json-whole")).unwrap(), std::fs::read(f.join("out/json-basic.out")).unwrap());
        assert_eq!(env.read(live.join("json-nested")), "admin", "nested keys work in json too");
        assert_eq!(std::fs::read(live.join("env")).unwrap(), std::fs::read(f.join("out/dotenv-basic.out")).unwrap());
        assert_eq!(std::fs::read(live.join("ini")).unwrap(), std::fs::read(f.join("out/ini-basic.out")).unwrap());
        assert_eq!(std::fs::read(live.join("bin")).unwrap(), std::fs::read(f.join("out/binary-blob.out")).unwrap());
    }

    fn an_ssh_host_key_opens_converted_and_native_recipients() {
        let env = Env::new();
        let f = fixtures();
        let mut m = env.manifest(
            json!([
                secret("converted", &f.join("enc/ssh.converted.yaml"), "", "yaml"),
                secret("native", &f.join("enc/ssh.native.yaml"), "", "yaml"),
            ]),
            json!([]),
        );
        m["ageKeyFile"] = json!(null);
        m["ageSshKeyPaths"] = json!([f.join("keys/ssh_host_ed25519_key")]);
        let run = env.install(&m, &[]).ok();
        let expected = env.read(f.join("out/yaml-ssh-native.out"));
        assert_eq!(env.read(env.symlink().join("native")), expected);
        assert_eq!(env.read(env.symlink().join("converted")), env.read(f.join("out/yaml-ssh-converted.out")));
        let recipient = crate::harness::age_recipient(&f.join("keys/ssh_host_ed25519_key.age.txt"));
        assert!(run.stderr.contains(&format!("as age key with fingerprint {recipient}")), "{}", run.stderr);
    }

    fn shamir_files_open_with_two_of_three_keys_from_sops_age_key() {
        let env = Env::new();
        let f = fixtures();
        let mut m = env.manifest(json!([secret("s", &f.join("enc/shamir.yaml"), "", "yaml")]), json!([]));
        m["ageKeyFile"] = json!(null);
        let keys = format!("{}{}", env.read(f.join("keys/age1.txt")), env.read(f.join("keys/age3.txt")));
        let path = env.write_manifest(&m);
        let run = env.run_cmd(std::process::Command::new(env!("CARGO_BIN_EXE_sops-install")).arg(&path).env("SOPS_AGE_KEY", keys));
        run.ok();
        assert_eq!(env.read(env.symlink().join("s")), env.read(f.join("out/yaml-shamir-12.out")));
    }

    fn check_modes_touch_nothing_and_catch_missing_keys() {
        let env = Env::new();
        let f = fixtures();
        let good = env.manifest(json!([secret("s", &f.join("enc/basic.yaml"), "db/password", "yaml")]), json!([]));
        env.install(&good, &["-check-mode=manifest"]).ok();
        env.install(&good, &["-check-mode=sopsfile"]).ok();
        assert!(!env.mount_point().exists() && !env.symlink().exists());
        let bad = env.manifest(json!([secret("s", &f.join("enc/basic.yaml"), "db/nope", "yaml")]), json!([]));
        env.install(&bad, &["-check-mode=manifest"]).ok();
        let run = env.install(&bad, &["-check-mode=sopsfile"]).failed();
        assert!(run.stderr.contains("secret \"s\": key:") && run.stderr.contains("db/nope"), "{}", run.stderr);
    }
}
