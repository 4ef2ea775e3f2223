use super::*;
use crate::manifest::raw;
use crate::manifest::runtime_dir::RuntimeDirError;

fn parse(json: &str) -> RawManifest {
    raw::parse(json).unwrap()
}

fn base(secrets: &str) -> String {
    format!(
        r#"{{"secretsMountPoint": "/run/secrets.d", "symlinkPath": "/run/secrets", "secrets": [{secrets}]}}"#
    )
}

fn ok(json: &str) -> Manifest {
    validate(
        parse(json),
        &RuntimeDir::Unavailable(RuntimeDirError::NotSet),
        true,
    )
    .unwrap()
}

fn problems(json: &str) -> Vec<String> {
    match validate(
        parse(json),
        &RuntimeDir::Unavailable(RuntimeDirError::NotSet),
        true,
    ) {
        Ok(_) => panic!("expected problems"),
        Err(p) => p.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn a_sops_nix_secret_validates_with_defaults() {
    let m = ok(&base(
        r#"{"name": "db/password", "key": "db/password", "sopsFile": "/s.yaml", "mode": "0400", "owner": "postgres", "path": "/run/secrets/db/password"}"#,
    ));
    let s = &m.secrets[0];
    assert_eq!(s.format, Format::Yaml);
    assert_eq!(s.ownership.mode, 0o400);
    assert_eq!(s.ownership.owner, Principal::Name("postgres".into()));
    assert_eq!(s.ownership.group, Principal::Id(0));
    assert_eq!(s.path, PathBuf::from("/run/secrets/db/password"));
}

#[test]
fn every_problem_is_reported_at_once_with_its_secret_and_field() {
    let p = problems(&base(
        r#"{"name": "../x", "sopsFile": "/s.yaml", "mode": "0400"},
           {"name": "b", "sopsFile": "/s.yaml", "mode": "banana", "format": "toml"},
           {"name": "rendered", "sopsFile": "", "mode": "0400"}"#,
    ));
    assert!(
        p.iter().any(|l| l.starts_with("secret \"../x\": name:")),
        "{p:?}"
    );
    assert!(
        p.iter().any(|l| l.starts_with("secret \"b\": mode:")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|l| l.starts_with("secret \"b\": format: unknown format \"toml\"")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|l| l.starts_with("secret \"rendered\": name:")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|l| l.starts_with("secret \"rendered\": sopsFile:")),
        "{p:?}"
    );
}

#[test]
fn duplicate_names_and_conflicting_formats_are_rejected() {
    let p = problems(&base(
        r#"{"name": "a", "sopsFile": "/s.yaml", "mode": "0400"},
           {"name": "a", "sopsFile": "/s.yaml", "mode": "0400", "format": "json"}"#,
    ));
    assert!(p.iter().any(|l| l.contains("same name")), "{p:?}");
    assert!(
        p.iter()
            .any(|l| l.contains("format:") && l.contains("as yaml by secret \"a\"")),
        "{p:?}"
    );
}

#[test]
fn absolute_names_and_empty_components_are_rejected() {
    for name in ["/etc/passwd", "a//b", "a/./b", "a/", ""] {
        let json = base(&format!(
            r#"{{"name": "{name}", "sopsFile": "/s.yaml", "mode": "0400"}}"#
        ));
        assert!(!problems(&json).is_empty(), "{name}");
    }
}

#[test]
fn a_custom_path_equal_to_the_symlink_path_is_rejected() {
    let p = problems(&base(
        r#"{"name": "a", "sopsFile": "/s.yaml", "mode": "0400", "path": "/run/secrets/"}"#,
    ));
    assert!(p.iter().any(|l| l.contains("symlink path itself")), "{p:?}");
}

#[test]
fn gnupg_home_excludes_ssh_key_paths_and_age_key_file() {
    let p = problems(
        r#"{"secretsMountPoint": "/a", "symlinkPath": "/b", "gnupgHome": "/g", "sshKeyPaths": ["/k"], "ageKeyFile": "/f"}"#,
    );
    assert_eq!(p.len(), 2, "{p:?}");
}

#[test]
fn templates_need_a_placeholder_for_every_secret() {
    let json = r#"{"secretsMountPoint": "/a", "symlinkPath": "/b",
        "secrets": [{"name": "s", "sopsFile": "/s.yaml", "mode": "0400"}],
        "templates": [{"name": "t", "content": "x", "mode": "0400"}]}"#;
    let p = problems(json);
    assert!(
        p.iter().any(|l| l.contains("placeholderBySecretName")),
        "{p:?}"
    );
}

#[test]
fn template_content_wins_over_file_and_missing_both_is_an_error() {
    let json = r#"{"secretsMountPoint": "/a", "symlinkPath": "/b",
        "templates": [{"name": "t", "content": "x", "file": "/nonexistent", "mode": "0400"},
                      {"name": "u", "mode": "0400"}]}"#;
    let p = problems(json);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].starts_with("template \"u\": content:"));
}

#[test]
fn user_mode_expands_percent_r_and_needs_a_runtime_dir_to_install() {
    let json = r#"{"userMode": true, "secretsMountPoint": "%r/secrets.d", "symlinkPath": "/home/a/.config/sops-nix/secrets",
        "secrets": [{"name": "s", "sopsFile": "/s.yaml", "mode": "0400", "path": "%r/s"}]}"#;
    let m = validate(
        parse(json),
        &RuntimeDir::Known("/run/user/1000".into()),
        true,
    )
    .unwrap();
    assert_eq!(
        m.secrets_mount_point,
        PathBuf::from("/run/user/1000/secrets.d")
    );
    assert_eq!(m.secrets[0].path, PathBuf::from("/run/user/1000/s"));
    assert!(validate(
        parse(json),
        &RuntimeDir::Unavailable(RuntimeDirError::NotSet),
        true
    )
    .is_err());
}

#[test]
fn a_name_that_is_also_a_directory_of_another_is_rejected() {
    let p = problems(&base(
        r#"{"name": "a", "sopsFile": "/s.yaml", "mode": "0400"},
           {"name": "a/b", "sopsFile": "/s.yaml", "mode": "0400"}"#,
    ));
    assert_eq!(
        p,
        vec!["secret \"a/b\": name: \"a\" is also a secret, so it cannot be a directory"]
    );
}

#[test]
fn a_template_using_a_placeholder_of_a_secret_not_installed_here_is_rejected() {
    let json = r#"{"secretsMountPoint": "/a", "symlinkPath": "/b",
        "placeholderBySecretName": {"for-users": "<SOPS:ff:PLACEHOLDER>"},
        "templates": [{"name": "t", "content": "x=<SOPS:ff:PLACEHOLDER>", "mode": "0400"}]}"#;
    let p = problems(json);
    assert!(p[0].contains("\"for-users\""), "{p:?}");
}

#[test]
fn a_needed_for_users_template_may_name_only_needed_for_users_secrets() {
    let manifest = |secret_for_users: bool| {
        format!(
            r#"{{"secretsMountPoint": "/run/secrets-for-users.d", "symlinkPath": "/run/secrets-for-users",
            "placeholderBySecretName": {{"pw": "<PW>", "api": "<API>"}},
            "secrets": [{{"name": "pw", "sopsFile": "/s.yaml", "mode": "0400", "neededForUsers": {secret_for_users}}}],
            "templates": [{{"name": "hash", "content": "<PW>", "mode": "0400", "neededForUsers": true}}]}}"#
        )
    };
    let m = ok(&manifest(true));
    assert_eq!(m.templates[0].text, "<PW>");
    assert_eq!(
        problems(&manifest(false)),
        vec!["template \"hash\": content: this neededForUsers template uses the placeholder of secret \"pw\", which is not neededForUsers"]
    );
    // A secret of the other manifest (a regular one, as the NixOS module splits them).
    let other = manifest(true).replace(r#""content": "<PW>""#, r#""content": "<PW> <API>""#);
    assert_eq!(
        problems(&other),
        vec!["template \"hash\": content: this neededForUsers template uses the placeholder of secret \"api\", which is not neededForUsers"]
    );
    let hint = validate(
        parse(&other),
        &RuntimeDir::Unavailable(RuntimeDirError::NotSet),
        true,
    )
    .err()
    .and_then(|p| p.hint())
    .map(|h| h.as_str().to_string());
    assert_eq!(
        hint.as_deref(),
        Some("set neededForUsers on that secret too, or unset it on the template")
    );
}

#[test]
fn empty_and_duplicate_placeholders_are_rejected() {
    let json = r#"{"secretsMountPoint": "/a", "symlinkPath": "/b",
        "placeholderBySecretName": {"s": "", "t": "<P>", "u": "<P>"},
        "secrets": [{"name": "s", "sopsFile": "/s.yaml", "mode": "0400"},
                    {"name": "t", "sopsFile": "/s.yaml", "mode": "0400"},
                    {"name": "u", "sopsFile": "/s.yaml", "mode": "0400"}],
        "templates": [{"name": "x", "content": "é<P>", "mode": "0400"}]}"#;
    let p = problems(json);
    assert_eq!(
        p,
        vec![
            "secret \"s\": placeholderBySecretName: the placeholder is empty",
            "secret \"u\": placeholderBySecretName: the placeholder is also the placeholder of secret \"t\"",
        ]
    );
}

fn with_path(name: &str, path: &str) -> String {
    format!(r#"{{"name": "{name}", "sopsFile": "/s.yaml", "mode": "0400", "path": "{path}"}}"#)
}

fn plain(name: &str) -> String {
    format!(r#"{{"name": "{name}", "sopsFile": "/s.yaml", "mode": "0400"}}"#)
}

#[test]
fn a_custom_path_onto_another_secrets_default_path_is_rejected() {
    let p = problems(&base(&format!(
        "{},{}",
        with_path("a", "/run/secrets/b"),
        plain("b")
    )));
    assert_eq!(
        p,
        vec!["secret \"a\": path: /run/secrets/b is also the default path of secret \"b\" (/run/secrets/b)"]
    );
}

#[test]
fn custom_paths_onto_the_installers_files_are_rejected() {
    for (path, party) in [
        ("/run/secrets.d/custom-links.json", "link record"),
        (
            "/run/secrets.d/.custom-links.json.new",
            "temporary link record",
        ),
        ("/run/.secrets.d.lock", "lock file"),
        ("/run/secrets.d/1/x", "mount point"),
        ("/run/secrets.d", "mount point"),
        ("/run", "mount point"),
    ] {
        let p = problems(&base(&with_path("a", path)));
        assert_eq!(p.len(), 1, "{path}: {p:?}");
        assert!(
            p[0].starts_with(&format!("secret \"a\": path: {path} ")) && p[0].contains(party),
            "{path}: {p:?}"
        );
    }
}

#[test]
fn two_secrets_or_templates_with_one_path_are_rejected() {
    let json = r#"{"secretsMountPoint": "/run/secrets.d", "symlinkPath": "/run/secrets",
        "placeholderBySecretName": {"a": "<A>", "b": "<B>"},
        "secrets": [{"name": "a", "sopsFile": "/s.yaml", "mode": "0400", "path": "/etc/x"},
                    {"name": "b", "sopsFile": "/s.yaml", "mode": "0400", "path": "/etc/x/y"}],
        "templates": [{"name": "t", "content": "<A>", "mode": "0400", "path": "/etc/x"}]}"#;
    let mut p = problems(json);
    p.sort();
    assert_eq!(
        p,
        vec![
            "secret \"b\": path: /etc/x/y lies inside the path of secret \"a\" (/etc/x)",
            "template \"t\": path: /etc/x is also the path of secret \"a\" (/etc/x)",
        ],
    );
}

#[test]
fn a_symlink_path_onto_the_lock_file_is_rejected() {
    let p = problems(
        r#"{"secretsMountPoint": "/run/secrets.d", "symlinkPath": "/run/.secrets.d.lock"}"#,
    );
    assert_eq!(
        p,
        vec!["manifest: symlinkPath: /run/.secrets.d.lock is also the installer's lock file (/run/.secrets.d.lock)"]
    );
}

#[test]
fn custom_paths_below_the_symlink_path_and_own_default_paths_are_accepted() {
    let m = ok(&base(&format!(
        "{},{},{}",
        with_path("a", "/run/secrets/a"),
        with_path("b", "/run/secrets/b.env"),
        with_path("c", "/etc/c")
    )));
    assert_eq!(m.secrets.len(), 3);
}

#[test]
fn nul_bytes_long_components_and_long_paths_are_rejected_before_anything_is_written() {
    let long = "x".repeat(256);
    let deep = format!("/{}", ["y"; 2100].join("/"));
    for (secret, needle) in [
        (with_path("a", r"/etc/a\u0000b"), "NUL"),
        (plain(r"a\u0000b"), "NUL"),
        (
            r#"{"name": "a", "sopsFile": "/s\u0000.yaml", "mode": "0400"}"#.to_string(),
            "NUL",
        ),
        (plain(&long), "component of 256 bytes"),
        (
            with_path("a", &format!("/etc/{long}")),
            "component of 256 bytes",
        ),
        (with_path("a", &deep), "paths are limited to 4095 bytes"),
        (plain(&deep[1..]), "limited to 4095 bytes"),
    ] {
        let p = problems(&base(&secret));
        assert!(p.iter().any(|l| l.contains(needle)), "{needle}: {p:?}");
    }
}

#[test]
fn unit_names_follow_systemds_rules() {
    for good in [
        "nginx.service",
        "getty@tty1.service",
        "dev-sda1.device",
        "a:b_c\\x2d.mount",
        "x.target",
    ] {
        assert_eq!(unit_name_problem(good), None, "{good}");
    }
    for (bad, why) in [
        ("a.service\nb.service", "not a unit name"),
        ("-H.service", "starts with -"),
        ("--root=/tmp", "not a unit name"),
        ("nginx", "write e.g. \"nginx.service\""),
        ("nginx.conf", "no unit type suffix"),
        (".service", "starts with"),
        ("", "empty"),
        ("n\u{202e}.service", "not a unit name"),
    ] {
        let p = unit_name_problem(bad).unwrap_or_default();
        assert!(p.contains(why), "{bad:?}: {p}");
    }
    assert!(unit_name_problem(&format!("{}.service", "a".repeat(250))).is_some());
}

#[test]
fn restart_and_reload_units_are_validated_for_secrets_and_templates() {
    let json = r#"{"secretsMountPoint": "/a", "symlinkPath": "/b",
        "placeholderBySecretName": {"s": "<S>"},
        "secrets": [{"name": "s", "sopsFile": "/s.yaml", "mode": "0400", "restartUnits": ["a.service\nb.service"]}],
        "templates": [{"name": "t", "content": "x", "mode": "0400", "reloadUnits": ["-H"]}]}"#;
    let p = problems(json);
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(p[0].starts_with("secret \"s\": restartUnits: \"a.service\\nb.service\""));
    assert!(p[1].starts_with("template \"t\": reloadUnits: \"-H\""));
}

#[test]
fn launchd_labels_cannot_be_options_or_leave_the_domain() {
    assert_eq!(launchd_label_problem("org.nix-community.home.app"), None);
    assert_eq!(launchd_label_problem("app_1-x"), None);
    for bad in ["", "-k", ".hidden", "a/b", "../x", "a b", "a\nb"] {
        assert!(launchd_label_problem(bad).is_some(), "{bad:?} accepted");
    }
    assert!(launchd_label_problem(&"a".repeat(256)).is_some());
}

// Issue 18 (keep-creds): keepLastGoodOnFailure and systemd credentials.
#[test]
fn keep_last_good_and_credentials_are_read_with_their_defaults() {
    let plain = ok(&base(
        r#"{"name": "a", "sopsFile": "/s.yaml", "mode": "0400"}"#,
    ));
    assert!(!plain.keep_last_good);
    assert_eq!(plain.credential_store, PathBuf::from("/run/credstore"));
    assert_eq!(plain.secrets[0].credential, None);
    let json = base(
        r#"{"name": "a", "sopsFile": "/s.yaml", "mode": "0400", "credential": "app.token-1"}"#,
    )
    .replacen(
        '{',
        r#"{"keepLastGoodOnFailure": true, "credentialStore": "/run/cs//", "#,
        1,
    );
    let m = ok(&json);
    assert!(m.keep_last_good);
    assert_eq!(m.credential_store, PathBuf::from("/run/cs"));
    assert_eq!(m.secrets[0].credential.as_deref(), Some("app.token-1"));
}

#[test]
fn credential_names_follow_systemds_rules_and_are_unique() {
    for bad in ["a/b", "a:b", "a b", ".", "..", "é"] {
        let p = problems(&base(&format!(
            r#"{{"name": "a", "sopsFile": "/s.yaml", "mode": "0400", "credential": {bad:?}}}"#
        )));
        assert!(
            p.iter().any(|p| p.starts_with("secret \"a\": credential:")),
            "{bad}: {p:?}"
        );
    }
    let long = "x".repeat(256);
    let p = problems(&base(&format!(
        r#"{{"name": "a", "sopsFile": "/s.yaml", "mode": "0400", "credential": "{long}"}}"#
    )));
    assert!(
        p.iter().any(|p| p.contains("longer than 255 bytes")),
        "{p:?}"
    );
    let p = problems(&base(
        r#"{"name": "a", "sopsFile": "/s.yaml", "mode": "0400", "credential": "c"}, {"name": "b", "sopsFile": "/s.yaml", "mode": "0400", "credential": "c"}"#,
    ));
    assert_eq!(
        p,
        vec!["secret \"b\": credential: \"c\" is also the credential of secret \"a\""]
    );
}

#[test]
fn the_credentials_directory_name_is_reserved_only_when_credentials_are_used() {
    let without = r#"{"name": ".credentials/x", "sopsFile": "/s.yaml", "mode": "0400"}"#;
    ok(&base(without));
    let with = format!(
        r#"{without}, {{"name": "a", "sopsFile": "/s.yaml", "mode": "0400", "credential": "c"}}"#
    );
    let p = problems(&base(&with));
    assert!(
        p.iter().any(|p| p.contains("\".credentials\" is reserved")),
        "{p:?}"
    );
}

#[test]
fn a_credential_store_inside_the_mount_point_or_relative_is_refused() {
    let secret = r#"{"name": "a", "sopsFile": "/s.yaml", "mode": "0400", "credential": "c"}"#;
    let inside = base(secret).replacen('{', r#"{"credentialStore": "/run/secrets.d/cs", "#, 1);
    let p = problems(&inside);
    assert!(
        p.iter()
            .any(|p| p.contains("/run/secrets.d/cs/c lies inside the secrets mount point")),
        "{p:?}"
    );
    let relative = base(secret).replacen('{', r#"{"credentialStore": "cs", "#, 1);
    let p = problems(&relative);
    assert!(
        p.iter()
            .any(|p| p.starts_with("manifest: credentialStore:")),
        "{p:?}"
    );
}

#[test]
fn a_credential_store_at_or_below_the_symlink_path_is_refused() {
    // Its links would land in the live generation, one over the secret of the same name.
    let secret = r#"{"name": "c", "sopsFile": "/s.yaml", "mode": "0400", "credential": "c"}"#;
    for store in ["/run/secrets", "/run/secrets/", "/run/secrets/cs"] {
        let json = base(secret).replacen('{', &format!(r#"{{"credentialStore": {store:?}, "#), 1);
        let p = problems(&json);
        assert!(
            p.iter().any(|p| p.starts_with("manifest: credentialStore:")
                && p.contains("is at or below the symlink path /run/secrets")),
            "{store}: {p:?}"
        );
    }
    // Beside it is fine, and so is any store when no secret has a credential.
    ok(&base(secret).replacen('{', r#"{"credentialStore": "/run/secrets-cs", "#, 1));
    let plain = r#"{"name": "c", "sopsFile": "/s.yaml", "mode": "0400"}"#;
    ok(&base(plain).replacen('{', r#"{"credentialStore": "/run/secrets", "#, 1));
}
