//! Failures before the swap: one clear line, non-zero exit, the live generation untouched and
//! no partial generation left behind. `fault_matrix` runs the same checks, stricter, over a
//! table of 60 faults; these are the first examples, kept as they were.

use serde_json::{json, Value};

use crate::harness::{fixtures, secret, Env};
use crate::ns_test;

/// Installs a good generation, then runs `bad` and checks nothing moved.
fn assert_fails_safely(env: &Env, bad: &Value, expect_in_error: &str) {
    let good = env.manifest(
        json!([secret(
            "s",
            &fixtures().join("enc/basic.yaml"),
            "api_key",
            "yaml"
        )]),
        json!([]),
    );
    env.install(&good, &[]).ok();
    let live = env.live_generation();
    let run = env.install(bad, &[]).failed();
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one error line: {lines:?}");
    assert!(
        run.stderr.contains(expect_in_error),
        "{expect_in_error:?} not in {:?}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("hunter2") && !run.stdout.contains("hunter2"),
        "no plaintext in messages"
    );
    assert_eq!(env.live_generation(), live, "the live symlink did not move");
    assert_eq!(
        env.read(env.symlink().join("s")),
        "abc123",
        "the live secrets are intact"
    );
    assert_eq!(env.generations(), vec![1], "no partial generation is left");
}

ns_test! {
    fn a_wrong_key_leaves_the_live_generation() {
        let env = Env::new();
        let mut bad = env.manifest(json!([secret("s", &fixtures().join("enc/basic.yaml"), "api_key", "yaml")]), json!([]));
        bad["ageKeyFile"] = json!(fixtures().join("keys/wrong.txt"));
        assert_fails_safely(&env, &bad, "no loaded key can open it");
    }

    fn a_tampered_file_names_the_file_and_the_value() {
        let env = Env::new();
        let bad = env.manifest(json!([secret("s", &fixtures().join("negative/tampered-value.yaml"), "api_key", "yaml")]), json!([]));
        assert_fails_safely(&env, &bad, "tampered-value.yaml");
    }

    fn a_missing_key_is_caught_before_anything_is_written() {
        let env = Env::new();
        let bad = env.manifest(json!([secret("s", &fixtures().join("enc/basic.yaml"), "db/nope", "yaml")]), json!([]));
        assert_fails_safely(&env, &bad, "db/nope");
    }

    fn an_unknown_user_is_reported_with_its_secret() {
        let env = Env::new();
        let mut s = secret("s", &fixtures().join("enc/basic.yaml"), "api_key", "yaml");
        s["owner"] = json!("no-such-user-anywhere");
        let bad = env.manifest(json!([s]), json!([]));
        assert_fails_safely(&env, &bad, "secret \"s\": owner: no user named \"no-such-user-anywhere\"");
    }

    fn a_full_filesystem_removes_the_partial_generation() {
        let env = Env::new();
        let big = env.sops_encrypt("big.yaml", &format!("small: x\nbig: {}\n", "y".repeat(256 * 1024)));
        let good = env.manifest(json!([secret("s", &fixtures().join("enc/basic.yaml"), "api_key", "yaml")]), json!([]));
        let mut bad = good.clone();
        bad["secrets"] = json!([secret("s", &fixtures().join("enc/basic.yaml"), "api_key", "yaml"), secret("small", &big, "small", "yaml"), secret("big", &big, "big", "yaml")]);
        bad["useTmpfs"] = json!(true);
        // A size-limited tmpfs mounted already: the installer reuses it and runs out of space.
        std::fs::create_dir_all(env.mount_point()).unwrap();
        let st = std::process::Command::new("mount").args(["-t", "tmpfs", "-o", "size=128k,mode=0751", "none"]).arg(env.mount_point()).status().unwrap();
        assert!(st.success());
        let mut good_tmpfs = good.clone();
        good_tmpfs["useTmpfs"] = json!(true);
        env.install(&good_tmpfs, &[]).ok();
        let live = env.live_generation();
        let run = env.install(&bad, &[]).failed();
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(run.stderr.contains("cannot write secrets") && run.stderr.contains("big"), "{}", run.stderr);
        assert_eq!(env.live_generation(), live);
        assert_eq!(env.generations(), vec![1], "the partial generation 2 was removed");
        assert_eq!(env.read(env.symlink().join("s")), "abc123");
    }

    fn a_manifest_with_escaping_names_is_rejected() {
        let env = Env::new();
        let bad = env.manifest(json!([secret("../escape", &fixtures().join("enc/basic.yaml"), "api_key", "yaml")]), json!([]));
        assert_fails_safely(&env, &bad, "secret \"../escape\": name:");
    }
}
