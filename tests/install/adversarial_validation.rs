//! Hostile manifests (issue 12): refused before anything is written, in dry-activate too, and
//! every line printed about them stays one line without raw control characters.

use serde_json::json;

use crate::harness::{fixtures, secret, Env};
use crate::ns_test;

fn basic(name: &str) -> serde_json::Value {
    secret(name, &fixtures().join("enc/basic.yaml"), "api_key", "yaml")
}

/// No raw control character (other than the line ends) and no direction override.
fn assert_printable(text: &str) {
    assert!(
        !text
            .chars()
            .any(|c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c)),
        "raw control characters in {text:?}"
    );
}

ns_test! {
    fn a_custom_path_onto_another_secrets_default_path_is_refused_even_in_dry_activate() {
        let env = Env::new();
        let mut a = basic("a");
        a["path"] = json!(env.symlink().join("b"));
        let m = env.manifest(json!([a, basic("b")]), json!([]));
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_sops-install"));
        cmd.env("NIXOS_ACTION", "dry-activate").arg(env.write_manifest(&m));
        let dry = env.run_cmd(&mut cmd).failed();
        assert!(
            dry.stderr.contains("secret \"a\": path:")
                && dry.stderr.contains("default path of secret \"b\""),
            "{}",
            dry.stderr
        );
        let run = env.install(&m, &[]).failed();
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(!env.mount_point().join("1").exists(), "nothing may be written");
    }
}

ns_test! {
    fn a_custom_path_onto_the_lock_file_is_refused_and_later_runs_still_work() {
        let env = Env::new();
        let mut a = basic("a");
        a["path"] = json!(env.path(".secrets.d.lock"));
        let run = env.install(&env.manifest(json!([a]), json!([])), &[]).failed();
        assert!(run.stderr.contains("lock file"), "{}", run.stderr);
        env.install(&env.manifest(json!([basic("a")]), json!([])), &[]).ok();
    }
}

ns_test! {
    fn a_nul_byte_in_a_path_is_refused_before_the_swap_and_printed_escaped() {
        let env = Env::new();
        env.install(&env.manifest(json!([basic("a")]), json!([])), &[]).ok();
        let live = env.live_generation();
        let mut a = basic("a");
        a["path"] = json!("/etc/x\u{0}y");
        let run = env.install(&env.manifest(json!([a]), json!([])), &[]).failed();
        assert!(run.stderr.contains("NUL"), "{}", run.stderr);
        assert_printable(&run.stderr);
        assert_eq!(env.live_generation(), live, "the live generation stays");
    }
}

ns_test! {
    fn names_with_terminal_escapes_and_newlines_are_escaped_in_change_lines_and_errors() {
        let env = Env::new();
        let hostile = "x\u{1b}[2J\nadding secret: fake\u{202e}";
        env.install(&env.manifest(json!([basic("a")]), json!([])), &[]).ok();
        let run = env
            .install(&env.manifest(json!([basic("a"), basic(hostile)]), json!([])), &[])
            .ok();
        assert_printable(&run.stdout);
        assert_printable(&run.stderr);
        assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
        assert!(run.stdout.contains("\\u{1b}[2J\\nadding secret: fake\\u{202e}"), "{}", run.stdout);
        let mut bad = basic(hostile);
        bad["mode"] = json!("\u{1b}]0;owned\u{7}");
        let run = env.install(&env.manifest(json!([bad]), json!([])), &[]).failed();
        assert_printable(&run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    }
}

ns_test! {
    fn a_misspelt_field_is_named_with_the_nearest_known_one_and_the_run_succeeds() {
        let env = Env::new();
        let mut m = env.manifest(json!([basic("a")]), json!([]));
        m["keepGeneration"] = json!(1);
        let run = env.install(&m, &[]).ok();
        assert!(
            run.stderr.contains("unknown field \"keepGeneration\" (did you mean keepGenerations?)"),
            "{}",
            run.stderr
        );
        let run = env.install(&m, &["-check-mode=manifest"]).ok();
        assert_eq!(run.stderr.matches("keepGeneration\"").count(), 1, "{}", run.stderr);
    }
}

ns_test! {
    fn a_unit_name_with_a_newline_or_an_option_is_refused() {
        let env = Env::new();
        let mut a = basic("a");
        a["restartUnits"] = json!(["a.service\nb.service", "--root=/tmp"]);
        let run = env.install(&env.manifest(json!([a]), json!([])), &[]).failed();
        assert!(run.stderr.contains("restartUnits"), "{}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    }
}
