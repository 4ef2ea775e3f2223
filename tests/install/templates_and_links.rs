//! Templates (owners, external paths) and custom-path symlinks, as sops-nix's templates VM
//! test checks them, plus stale link removal.

use std::os::unix::fs::MetadataExt;

use serde_json::{json, Value};

use crate::harness::{fixtures, owner_mode, secret, Env};
use crate::ns_test;

const PH: &str =
    "<SOPS:1111111111111111111111111111111111111111111111111111111111111111:PLACEHOLDER>";

fn template(name: &str, content: &str) -> Value {
    json!({
        "name": name, "content": content, "file": "", "path": "", "mode": "0400",
        "owner": null, "uid": 0, "group": null, "gid": 0, "restartUnits": [], "reloadUnits": []
    })
}

ns_test! {
    fn templates_render_with_owners_and_external_paths() {
        let env = Env::new();
        let s = secret("test_key", &fixtures().join("enc/basic.yaml"), "db/password", "yaml");
        let mut owned = template("test_template", &format!("This line is not modified.\nThe next value will be replaced by {PH}\nThis line is also not modified.\n"));
        owned["owner"] = json!("nobody");
        owned["group"] = json!("nogroup");
        let mut linked = template("test_default", &format!("Test value: {PH}"));
        linked["path"] = json!(env.path("etc/externally/linked"));
        let mut ids = template("test_uid_gid", "x");
        ids["uid"] = json!(420);
        ids["gid"] = json!(420);
        ids["mode"] = json!("0444");
        let mut m = env.manifest(json!([s]), json!([owned, linked, ids]));
        m["placeholderBySecretName"] = json!({ "test_key": PH });
        env.install(&m, &[]).ok();
        let rendered = env.symlink().join("rendered");
        assert_eq!(
            env.read(rendered.join("test_template")),
            "This line is not modified.\nThe next value will be replaced by hunter2\nThis line is also not modified.\n"
        );
        assert_eq!(owner_mode(&rendered.join("test_template")), (65534, 65534, 0o400));
        assert_eq!(owner_mode(&rendered.join("test_uid_gid")), (420, 420, 0o444));
        let link = env.path("etc/externally/linked");
        assert_eq!(std::fs::canonicalize(&link).unwrap(), env.mount_point().join("1/rendered/test_default"));
        assert_eq!(env.read(&link), "Test value: hunter2");
    }

    fn custom_paths_become_owned_symlinks_and_replace_what_was_there() {
        let env = Env::new();
        let mut s = secret("s", &fixtures().join("enc/basic.yaml"), "api_key", "yaml");
        s["owner"] = json!("nobody");
        s["path"] = json!(env.path("var/lib/app/secret"));
        std::fs::create_dir_all(env.path("var/lib/app")).unwrap();
        std::fs::write(env.path("var/lib/app/secret"), "an existing regular file").unwrap();
        let m = env.manifest(json!([s]), json!([]));
        env.install(&m, &[]).ok();
        let link = env.path("var/lib/app/secret");
        let meta = std::fs::symlink_metadata(&link).unwrap();
        assert!(meta.file_type().is_symlink());
        assert_eq!(meta.uid(), 65534, "the link itself is owned by the secret's owner");
        assert_eq!(std::fs::read_link(&link).unwrap(), env.symlink().join("s"));
        assert_eq!(env.read(&link), "abc123");
        let leftovers: Vec<_> = std::fs::read_dir(env.path("var/lib/app")).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(leftovers.len(), 1, "no temporary directory is left: {leftovers:?}");
    }

    fn a_custom_path_through_a_root_owned_symlink_is_linked() {
        // Only symlinks owned by another user are refused (see the fault matrix); root's own
        // (e.g. /var -> /private/var) are followed as before.
        let env = Env::new();
        std::fs::create_dir_all(env.path("real/app")).unwrap();
        std::os::unix::fs::symlink(env.path("real"), env.path("via")).unwrap();
        let mut s = secret("s", &fixtures().join("enc/basic.yaml"), "api_key", "yaml");
        s["path"] = json!(env.path("via/app/secret"));
        env.install(&env.manifest(json!([s]), json!([])), &[]).ok();
        assert_eq!(env.read(env.path("real/app/secret")), "abc123");
    }

    fn a_custom_path_through_a_symlink_another_user_planted_fails_before_the_swap() {
        let env = Env::new();
        let file = fixtures().join("enc/basic.yaml");
        env.install(&env.manifest(json!([secret("s", &file, "api_key", "yaml")]), json!([])), &[]).ok();
        std::fs::create_dir(env.path("elsewhere")).unwrap();
        std::os::unix::fs::symlink(env.path("elsewhere"), env.path("planted")).unwrap();
        std::os::unix::fs::lchown(env.path("planted"), Some(1234), Some(1234)).unwrap();
        let mut s = secret("s", &file, "db/password", "yaml");
        s["path"] = json!(env.path("planted/secret"));
        let bad = env.manifest(json!([s]), json!([]));
        // dry-activate already warns about it, and writes nothing either.
        let path = env.write_manifest(&bad);
        std::fs::create_dir_all("/run/nixos").unwrap();
        let dry = env.run_cmd(std::process::Command::new(env!("CARGO_BIN_EXE_sops-install")).arg(&path).env("NIXOS_ACTION", "dry-activate")).failed();
        assert!(dry.stderr.contains("secret \"s\"") && dry.stderr.contains("owned by uid 1234"), "{}", dry.stderr);
        let run = env.install(&bad, &[]).failed();
        assert!(run.stderr.contains("secret \"s\"") && run.stderr.contains("owned by uid 1234"), "{}", run.stderr);
        assert_eq!(std::fs::read_dir(env.path("elsewhere")).unwrap().count(), 0, "nothing made through it");
        assert_eq!(env.live_generation(), env.mount_point().join("1"), "the previous generation stays live");
        assert_eq!(env.read(env.symlink().join("s")), "abc123");
        assert_eq!(env.generations(), vec![1]);
    }

    fn a_root_owned_symlink_leading_through_another_users_symlink_is_refused() {
        // `via` is root's, but what it points at walks through `home/planted`, a symlink user
        // 1234 owns and could point anywhere: the link must not be made through it.
        let env = Env::new();
        let file = fixtures().join("enc/basic.yaml");
        std::fs::create_dir_all(env.path("elsewhere")).unwrap();
        std::fs::create_dir_all(env.path("home")).unwrap();
        std::os::unix::fs::symlink(env.path("elsewhere"), env.path("home/planted")).unwrap();
        std::os::unix::fs::lchown(env.path("home/planted"), Some(1234), Some(1234)).unwrap();
        std::os::unix::fs::symlink(env.path("home/planted"), env.path("via")).unwrap();
        let mut s = secret("s", &file, "api_key", "yaml");
        s["path"] = json!(env.path("via/secret"));
        let run = env.install(&env.manifest(json!([s]), json!([])), &[]).failed();
        assert!(run.stderr.contains("secret \"s\"") && run.stderr.contains("owned by uid 1234"), "{}", run.stderr);
        assert_eq!(std::fs::read_dir(env.path("elsewhere")).unwrap().count(), 0, "nothing made through it");
        assert!(env.generations().is_empty(), "nothing installed: {:?}", env.generations());
    }

    fn a_relative_root_owned_symlink_is_followed_from_where_it_is() {
        // `app -> ../real/app`: resolved against the symlink's own directory.
        let env = Env::new();
        std::fs::create_dir_all(env.path("real/app")).unwrap();
        std::fs::create_dir_all(env.path("var/lib")).unwrap();
        std::os::unix::fs::symlink("../../real/app", env.path("var/lib/app")).unwrap();
        let mut s = secret("s", &fixtures().join("enc/basic.yaml"), "api_key", "yaml");
        s["path"] = json!(env.path("var/lib/app/secret"));
        env.install(&env.manifest(json!([s]), json!([])), &[]).ok();
        assert_eq!(env.read(env.path("real/app/secret")), "abc123");
    }

    fn a_killed_runs_staging_directory_goes_even_when_the_link_is_already_right() {
        // A run killed after renaming its link into place but before removing its (now
        // empty) staging directory: the next run finds the link right and must still clean up.
        let env = Env::new();
        let mut s = secret("s", &fixtures().join("enc/basic.yaml"), "api_key", "yaml");
        s["path"] = json!(env.path("app/secret"));
        let m = env.manifest(json!([s]), json!([]));
        env.install(&m, &[]).ok();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stray = env.path(&format!("app/.sops-install-link-{dead}-Ab12Cd"));
        std::fs::create_dir(&stray).unwrap();
        env.install(&m, &[]).ok();
        assert!(!stray.exists(), "the dead run's staging directory is left");
        assert_eq!(env.read(env.path("app/secret")), "abc123");
    }

    fn links_the_manifest_no_longer_has_are_removed() {
        let env = Env::new();
        let file = fixtures().join("enc/basic.yaml");
        let mut a = secret("a", &file, "api_key", "yaml");
        a["path"] = json!(env.path("links/a"));
        let mut b = secret("b", &file, "api_key", "yaml");
        b["path"] = json!(env.path("links/b"));
        env.install(&env.manifest(json!([a.clone(), b]), json!([])), &[]).ok();
        assert!(env.path("links/b").exists());
        std::os::unix::fs::symlink("/somewhere/else", env.path("links/user-made")).unwrap();
        env.install(&env.manifest(json!([a]), json!([])), &[]).ok();
        assert!(std::fs::symlink_metadata(env.path("links/b")).is_err(), "the stale link is gone");
        assert!(env.path("links/a").exists());
        assert!(std::fs::symlink_metadata(env.path("links/user-made")).is_ok(), "links we did not make stay");
    }

    fn secrets_for_users_install_under_their_own_mount_point() {
        let env = Env::new();
        let mut s = secret("test_key", &fixtures().join("enc/basic.yaml"), "db/password", "yaml");
        s["path"] = json!(env.path("secrets-for-users/test_key"));
        s["neededForUsers"] = json!(true);
        let mut m = env.manifest(json!([s]), json!([]));
        m["secretsMountPoint"] = json!(env.path("secrets-for-users.d"));
        m["symlinkPath"] = json!(env.path("secrets-for-users"));
        env.install(&m, &["-ignore-passwd"]).ok();
        assert_eq!(env.read(env.path("secrets-for-users/test_key")), "hunter2");
        assert_eq!(std::fs::read_link(env.path("secrets-for-users")).unwrap(), env.path("secrets-for-users.d/1"));
        assert!(crate::harness::is_ramfs(&env.path("secrets-for-users.d")));
    }
}
