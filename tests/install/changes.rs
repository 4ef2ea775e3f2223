//! Change lines and unit requests across runs, as sops-nix's restart-and-reload VM test
//! checks them, plus what we add: owner changes count, dry runs write nothing.

use std::path::Path;

use serde_json::{json, Value};

use crate::harness::{fixtures, secret, Env};
use crate::ns_test;

const PH: &str =
    "<SOPS:0000000000000000000000000000000000000000000000000000000000000000:PLACEHOLDER>";

fn manifest(env: &Env) -> Value {
    let mut s = secret(
        "test_key",
        &fixtures().join("enc/basic.yaml"),
        "api_key",
        "yaml",
    );
    s["restartUnits"] = json!(["restart-unit.service", "reload-unit.service"]);
    s["reloadUnits"] = json!(["reload-trigger.service"]);
    let t = json!({
        "name": "test_template", "content": format!("key={PH}\n"), "file": "", "path": "", "mode": "0400",
        "owner": null, "uid": 0, "group": null, "gid": 0,
        "restartUnits": ["restart-unit.service", "reload-unit.service"], "reloadUnits": ["reload-trigger.service"]
    });
    let mut m = env.manifest(json!([s]), json!([t]));
    m["placeholderBySecretName"] = json!({ "test_key": PH });
    m
}

fn lists() -> (String, String) {
    let read =
        |p: &str| std::fs::read_to_string(Path::new("/run/nixos").join(p)).unwrap_or_default();
    (
        read("activation-restart-list"),
        read("activation-reload-list"),
    )
}

fn clear_lists() {
    for f in [
        "activation-restart-list",
        "activation-reload-list",
        "dry-activation-restart-list",
        "dry-activation-reload-list",
    ] {
        let _ = std::fs::remove_file(Path::new("/run/nixos").join(f));
    }
}

ns_test! {
    fn the_change_lines_and_unit_lists_follow_sops_nix() {
        std::fs::create_dir_all("/run/nixos").unwrap();
        let env = Env::new();
        let m = manifest(&env);
        let first = env.install(&m, &[]).ok();
        assert_eq!(first.stdout, "", "nothing is reported on the first activation");
        assert_eq!(lists(), (String::new(), String::new()));

        let unchanged = env.install(&m, &[]).ok();
        assert_eq!(unchanged.stdout, "");
        assert_eq!(lists(), (String::new(), String::new()));

        // Delete both from the live tree: they are added again.
        std::fs::remove_file(env.symlink().join("test_key")).unwrap();
        std::fs::remove_file(env.symlink().join("rendered/test_template")).unwrap();
        let added = env.install(&m, &[]).ok();
        assert_eq!(added.stdout_lines(), vec!["adding secret: test_key", "adding rendered secret: test_template"]);
        let (restart, reload) = lists();
        assert_eq!(restart, "restart-unit.service\nreload-unit.service\nrestart-unit.service\nreload-unit.service\n");
        assert_eq!(reload, "reload-trigger.service\nreload-trigger.service\n");
        clear_lists();

        // Truncate both: modified.
        std::fs::write(env.symlink().join("test_key"), "").unwrap();
        std::fs::write(env.symlink().join("rendered/test_template"), "").unwrap();
        let modified = env.install(&m, &[]).ok();
        assert_eq!(modified.stdout_lines(), vec!["modifying secret: test_key", "modifying rendered secret: test_template"]);
        clear_lists();

        // Extra files in the live tree: removed, and removals restart nothing.
        std::fs::write(env.symlink().join("another_key"), "x").unwrap();
        std::fs::write(env.symlink().join("rendered/another_template"), "x").unwrap();
        let removed = env.install(&m, &[]).ok();
        assert_eq!(removed.stdout_lines(), vec!["removing secret: another_key", "removing rendered secret: another_template"]);
        assert_eq!(lists(), (String::new(), String::new()));
    }

    fn dry_activation_reports_and_writes_nothing() {
        std::fs::create_dir_all("/run/nixos").unwrap();
        let env = Env::new();
        let m = manifest(&env);
        env.install(&m, &[]).ok();
        let live = env.live_generation();
        std::fs::remove_file(env.symlink().join("test_key")).unwrap();
        std::fs::remove_file(env.symlink().join("rendered/test_template")).unwrap();
        std::fs::write(env.symlink().join("another_key"), "x").unwrap();
        std::fs::write(env.symlink().join("rendered/another_template"), "x").unwrap();
        let path = env.write_manifest(&m);
        let dry = env.run_cmd(std::process::Command::new(env!("CARGO_BIN_EXE_sops-install")).arg(&path).env("NIXOS_ACTION", "dry-activate")).ok();
        assert_eq!(
            dry.stdout_lines(),
            vec!["would add secret: test_key", "would remove secret: another_key", "would add rendered secret: test_template", "would remove rendered secret: another_template"]
        );
        assert_eq!(env.live_generation(), live, "the symlink did not move");
        assert_eq!(env.generations(), vec![1], "no generation was staged");
        assert!(!env.symlink().join("test_key").exists());
        let dry_restart = std::fs::read_to_string("/run/nixos/dry-activation-restart-list").unwrap();
        assert_eq!(dry_restart.lines().count(), 4);
        assert_eq!(lists(), (String::new(), String::new()));
    }

    fn an_owner_change_alone_restarts_the_units() {
        std::fs::create_dir_all("/run/nixos").unwrap();
        let env = Env::new();
        let mut m = manifest(&env);
        env.install(&m, &[]).ok();
        m["secrets"][0]["owner"] = json!("nobody");
        let changed = env.install(&m, &[]).ok();
        assert_eq!(changed.stdout_lines(), vec!["modifying secret: test_key"]);
        assert!(lists().0.contains("restart-unit.service"));
    }

    fn systemctl_is_called_when_asked_to() {
        let env = Env::new();
        let bin = env.path("bin");
        std::fs::create_dir(&bin).unwrap();
        let log = env.path("systemctl.log");
        let script = format!("#!/bin/sh\necho \"$@\" >> {}\n", log.display());
        std::fs::write(bin.join("systemctl"), script).unwrap();
        std::os::unix::fs::PermissionsExt::set_mode(&mut std::fs::metadata(bin.join("systemctl")).unwrap().permissions(), 0o755);
        std::process::Command::new("chmod").arg("755").arg(bin.join("systemctl")).status().unwrap();
        let m = manifest(&env);
        env.install(&m, &[]).ok();
        std::fs::write(env.symlink().join("test_key"), "").unwrap();
        let path = env.write_manifest(&m);
        let new_path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
        env.run_cmd(
            std::process::Command::new(env!("CARGO_BIN_EXE_sops-install"))
                .arg(&path)
                .env("SOPS_RESTART_UNITS_VIA_SYSTEMCTL", "1")
                .env("PATH", new_path),
        )
        .ok();
        assert_eq!(
            env.read(&log),
            "--no-block try-restart -- restart-unit.service reload-unit.service\n--no-block try-reload-or-restart -- reload-trigger.service\n"
        );
    }
}
