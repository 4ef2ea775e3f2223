//! Templates needed for users (issue 18 item 5): a `neededForUsers` template of the for-users
//! manifest is rendered into the for-users generation as root (the manifest is installed with
//! `-ignore-passwd`, before users exist), and one naming a secret that is not neededForUsers
//! is refused at validation, before anything is written.

use serde_json::{json, Value};

use crate::harness::{fixtures, is_ramfs, owner_mode, secret, Env};
use crate::ns_test;

const PW: &str =
    "<SOPS:2222222222222222222222222222222222222222222222222222222222222222:PLACEHOLDER>";
const API: &str =
    "<SOPS:3333333333333333333333333333333333333333333333333333333333333333:PLACEHOLDER>";

/// The for-users manifest as the NixOS module writes it: its own mount point and symlink path,
/// the neededForUsers secret `pw`, and the placeholders of every secret (`api` is regular).
fn for_users_manifest(env: &Env, templates: Value) -> Value {
    let mut pw = secret(
        "pw",
        &fixtures().join("enc/basic.yaml"),
        "db/password",
        "yaml",
    );
    pw["neededForUsers"] = json!(true);
    let mut m = env.manifest(json!([pw]), templates);
    m["secretsMountPoint"] = json!(env.path("secrets-for-users.d"));
    m["symlinkPath"] = json!(env.path("secrets-for-users"));
    m["placeholderBySecretName"] = json!({ "pw": PW, "api": API });
    m
}

fn for_users_template(name: &str, content: &str) -> Value {
    json!({
        "name": name, "content": content, "file": "", "path": "", "mode": "0440",
        "owner": null, "uid": 0, "group": null, "gid": 0, "restartUnits": [], "reloadUnits": [],
        "neededForUsers": true
    })
}

ns_test! {
    fn a_needed_for_users_template_is_rendered_into_the_for_users_generation_as_root() {
        let env = Env::new();
        let mut t = for_users_template("alice-password", &format!("{PW}\n"));
        // As for neededForUsers secrets, a user name cannot be looked up yet: root owns it.
        t["owner"] = json!("nobody");
        t["group"] = json!("nogroup");
        let m = for_users_manifest(&env, json!([t.clone()]));
        env.install(&m, &["-ignore-passwd"]).ok();
        let generation = env.path("secrets-for-users.d/1");
        assert_eq!(
            std::fs::read_link(env.path("secrets-for-users")).expect("symlink"),
            generation
        );
        assert!(is_ramfs(&env.path("secrets-for-users.d")));
        let rendered = generation.join("rendered/alice-password");
        assert_eq!(std::fs::read(&rendered).expect("rendered"), b"hunter2\n");
        assert_eq!(owner_mode(&rendered), (0, 0, 0o440));
        assert_eq!(env.read(env.path("secrets-for-users/pw")), "hunter2");
        // The regular generation is not touched.
        assert!(!env.mount_point().exists() && !env.symlink().exists());

        // A change of the template is detected and swapped in like any other.
        t["content"] = json!(format!("{PW}:x"));
        let run = env.install(&for_users_manifest(&env, json!([t])), &["-ignore-passwd"]).ok();
        assert_eq!(run.stdout_lines(), vec!["modifying rendered secret: alice-password"]);
        let rendered = env.path("secrets-for-users/rendered/alice-password");
        assert_eq!(std::fs::read(&rendered).expect("rendered"), b"hunter2:x");
        assert_eq!(owner_mode(&rendered), (0, 0, 0o440));
        assert_eq!(
            std::fs::read_link(env.path("secrets-for-users")).expect("symlink"),
            env.path("secrets-for-users.d/2")
        );
    }

    fn a_needed_for_users_template_naming_a_regular_secret_is_refused_in_one_line() {
        let env = Env::new();
        // `api` is a regular secret: the for-users manifest does not even install it.
        let t = for_users_template("hash", &format!("{PW}:{API}"));
        let run = env.install(&for_users_manifest(&env, json!([t])), &["-ignore-passwd"]).failed();
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{}", run.stderr);
        assert!(
            lines[0].contains("template \"hash\"")
                && lines[0].contains("placeholder of secret \"api\", which is not neededForUsers"),
            "{}",
            run.stderr
        );
        assert!(!lines[0].contains("hunter2"));
        assert!(!env.path("secrets-for-users").exists(), "nothing installed");

        // The same when the secret is in the manifest but not marked neededForUsers.
        let mut m = for_users_manifest(&env, json!([for_users_template("hash", PW)]));
        m["secrets"][0]["neededForUsers"] = json!(false);
        let run = env.install(&m, &["-ignore-passwd"]).failed();
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{}", run.stderr);
        assert!(
            lines[0].contains("template \"hash\"")
                && lines[0].contains("placeholder of secret \"pw\", which is not neededForUsers"),
            "{}",
            run.stderr
        );
        assert!(!env.path("secrets-for-users.d/1").exists(), "nothing installed");
    }
}
