//! Every common failure carries its advice on the one error line, after "; hint: " (issue 17
//! item 3): no key opens the file, a MAC mismatch, an unknown user, a key path the file does
//! not have, a mode that is not octal, a missing sops file. Each run fails before anything is
//! installed; the line keeps the error's own text before the hint.

use serde_json::{json, Value};

use crate::harness::{fixtures, secret, Env, Run};
use crate::ns_test;

const HINT: &str = "; hint: ";

/// Runs `manifest`, which must fail with one stderr line: the error containing `error`, then
/// the hint containing each of `hint`.
fn one_hinted_line(env: &Env, manifest: &Value, error: &str, hint: &[&str]) -> String {
    let run: Run = env.install(manifest, &[]);
    assert_ne!(run.status, 0, "the run must fail: {}", run.stdout);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one error line, got {lines:?}");
    let (message, advice) = lines[0]
        .split_once(HINT)
        .unwrap_or_else(|| panic!("no {HINT:?} on the error line {:?}", lines[0]));
    assert!(
        message.contains(error),
        "{error:?} not in the error {message:?}"
    );
    for h in hint {
        assert!(advice.contains(h), "{h:?} not in the hint {advice:?}");
    }
    assert!(!advice.contains(HINT), "one hint per line: {advice:?}");
    assert!(env.generations().is_empty(), "nothing was installed");
    lines[0].to_string()
}

fn basic() -> std::path::PathBuf {
    fixtures().join("enc/basic.yaml")
}

ns_test! {
    fn no_key_opens_the_file_the_hint_names_the_hosts_recipient_and_the_commands() {
        let env = Env::new();
        let mut m = env.manifest(json!([secret("s", &basic(), "api_key", "yaml")]), json!([]));
        m["ageKeyFile"] = json!(fixtures().join("keys/wrong.txt"));
        // The recipient of keys/wrong.txt, the one source that loaded.
        let wrong = std::fs::read_to_string(fixtures().join("keys/wrong.txt")).expect("key");
        let recipient = wrong
            .lines()
            .find_map(|l| l.strip_prefix("# public key: "))
            .expect("public key comment")
            .to_string();
        let file = basic().display().to_string();
        one_hinted_line(
            &env,
            &m,
            "no loaded key can open it",
            &[
                &recipient,
                ".sops.yaml",
                &format!("sops updatekeys {file}"),
                &format!("sops-install recipient --check {file}"),
            ],
        );
    }

    fn no_key_loaded_the_hint_says_how_to_fix_the_key_source() {
        let env = Env::new();
        let mut m = env.manifest(json!([secret("s", &basic(), "api_key", "yaml")]), json!([]));
        m["ageKeyFile"] = json!(env.path("no-such-key.txt"));
        one_hinted_line(
            &env,
            &m,
            "no key was loaded to open it",
            &["the key file is not on this machine", "sops-install recipient"],
        );
    }

    fn a_mac_mismatch_says_the_file_was_edited_without_sops() {
        let env = Env::new();
        let file = fixtures().join("negative/modified-cleartext.yaml");
        let m = env.manifest(json!([secret("s", &file, "", "yaml")]), json!([]));
        one_hinted_line(
            &env,
            &m,
            "MAC mismatch",
            &["edited without sops", &format!("sops edit {}", file.display())],
        );
    }

    fn an_unknown_user_is_to_be_declared_or_given_as_uid() {
        let env = Env::new();
        let mut s = secret("s", &basic(), "api_key", "yaml");
        s["owner"] = json!("no-such-user-anywhere");
        let m = env.manifest(json!([s]), json!([]));
        one_hinted_line(
            &env,
            &m,
            "no user named \"no-such-user-anywhere\"",
            &["users.users.no-such-user-anywhere", "`uid`"],
        );
    }

    fn a_missing_key_path_lists_the_keys_at_that_level() {
        let env = Env::new();
        let m = env.manifest(json!([secret("s", &basic(), "db/nope", "yaml")]), json!([]));
        one_hinted_line(
            &env,
            &m,
            "key db/nope not found",
            &["\"user\", \"password\", \"port\""],
        );
    }

    fn a_bad_mode_is_shown_in_octal() {
        let env = Env::new();
        let mut s = secret("s", &basic(), "api_key", "yaml");
        s["mode"] = json!("rw");
        let m = env.manifest(json!([s]), json!([]));
        one_hinted_line(&env, &m, "mode", &["octal", "\"0400\""]);
    }

    fn a_missing_sops_file_points_at_sops_file() {
        let env = Env::new();
        let missing = env.path("missing.yaml");
        let m = env.manifest(json!([secret("s", &missing, "api_key", "yaml")]), json!([]));
        one_hinted_line(
            &env,
            &m,
            &format!("{}: sopsFile: cannot read it: No such file", missing.display()),
            &["not on this machine", "`sopsFile`"],
        );
    }
}
