//! Generation numbering from the live symlink, pruning, and a stray directory in the way.

use serde_json::json;

use crate::harness::{fixtures, secret, Env};
use crate::ns_test;

fn one_secret(env: &Env, keep: u64) -> serde_json::Value {
    let mut m = env.manifest(
        json!([secret(
            "s",
            &fixtures().join("enc/basic.yaml"),
            "api_key",
            "yaml"
        )]),
        json!([]),
    );
    m["keepGenerations"] = json!(keep);
    m
}

ns_test! {
    fn each_run_makes_the_next_generation_and_keep_one_leaves_only_the_live_one() {
        let env = Env::new();
        let m = one_secret(&env, 1);
        env.install(&m, &[]).ok();
        env.install(&m, &[]).ok();
        assert_eq!(env.live_generation(), env.mount_point().join("2"));
        assert_eq!(env.generations(), vec![2]);
    }

    fn keep_zero_prunes_nothing_and_keep_ten_keeps_ten() {
        let env = Env::new();
        std::fs::create_dir_all(env.mount_point()).unwrap();
        let mut m = one_secret(&env, 0);
        env.install(&m, &[]).ok();
        // Fake history as the sops-nix pruning test does: 2..99 and a non-numeric entry.
        for n in 2..=99 {
            std::fs::create_dir(env.mount_point().join(n.to_string())).unwrap();
        }
        std::fs::create_dir(env.mount_point().join("non-numeric")).unwrap();
        std::fs::remove_file(env.symlink()).unwrap();
        std::os::unix::fs::symlink(env.mount_point().join("99"), env.symlink()).unwrap();
        env.install(&m, &[]).ok();
        assert_eq!(env.live_generation(), env.mount_point().join("100"));
        let g = env.generations();
        assert!(g.contains(&1) && g.contains(&90) && g.len() == 100, "keep 0 prunes nothing: {g:?}");
        m["keepGenerations"] = json!(10);
        env.install(&m, &[]).ok();
        let g = env.generations();
        assert_eq!(g, (92..=101).collect::<Vec<u64>>());
        assert!(env.mount_point().join("non-numeric").is_dir());
    }

    fn concurrent_runs_are_serialised_by_the_lock() {
        let env = Env::new();
        let path = env.write_manifest(&one_secret(&env, 0));
        // Eight runs started at once: each must take the lock in turn, so they make
        // generations 1..8 without clashing on a number or a half-swapped symlink.
        let children: Vec<_> = (0..8)
            .map(|_| {
                std::process::Command::new(env!("CARGO_BIN_EXE_sops-install"))
                    .arg(&path)
                    .env("HOME", env.path(""))
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        assert_eq!(env.generations(), (1..=8).collect::<Vec<u64>>());
        assert_eq!(env.live_generation(), env.mount_point().join("8"));
        assert_eq!(env.read(env.symlink().join("s")), "abc123");
    }

    // Only an empty one: a directory with content is refused (adversarial.rs, issue 12 item 10).
    fn an_empty_real_directory_at_the_symlink_path_is_replaced_in_system_mode() {
        let env = Env::new();
        std::fs::create_dir_all(env.symlink()).unwrap();
        env.install(&one_secret(&env, 1), &[]).ok();
        assert_eq!(env.read(env.symlink().join("s")), "abc123");
    }

    fn a_leftover_directory_with_the_next_number_is_replaced() {
        let env = Env::new();
        let m = one_secret(&env, 1);
        env.install(&m, &[]).ok();
        std::fs::create_dir(env.mount_point().join("2")).unwrap();
        std::fs::write(env.mount_point().join("2/stale"), "x").unwrap();
        env.install(&m, &[]).ok();
        assert!(!env.symlink().join("stale").exists());
        assert_eq!(env.read(env.symlink().join("s")), "abc123");
    }
}
