//! A serde mirror of the sops-nix manifest JSON, field for field.
//!
//! Missing fields and `null` both mean "not set"; unknown fields are ignored by the parser and
//! named by [`unknown_fields`] (a warning each, with the nearest known field); a wrongly typed
//! value is a parse error naming the field (`secrets[0].uid`) with its line and column.
//! Nothing is interpreted here: see
//! `validate` for the rules.

use crate::hint::Hint;
use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RawManifest {
    pub secrets: Option<Vec<RawSecret>>,
    pub templates: Option<Vec<RawTemplate>>,
    pub placeholder_by_secret_name: Option<BTreeMap<String, String>>,
    pub secrets_mount_point: Option<String>,
    pub symlink_path: Option<String>,
    pub keep_generations: Option<u64>,
    pub ssh_key_paths: Option<Vec<String>>,
    pub gnupg_home: Option<String>,
    pub age_key_file: Option<String>,
    pub age_ssh_key_paths: Option<Vec<String>>,
    pub use_tmpfs: Option<bool>,
    pub user_mode: Option<bool>,
    pub logging: Option<RawLogging>,
    /// Ours (`sops.keepLastGoodOnFailure`): a failing sops file keeps its secrets' live values.
    pub keep_last_good_on_failure: Option<bool>,
    /// Ours (`sops.credentialStore`): where secrets with a `credential` are linked.
    pub credential_store: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RawLogging {
    pub key_import: Option<bool>,
    pub secret_changes: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RawSecret {
    pub name: Option<String>,
    pub key: Option<String>,
    pub path: Option<String>,
    pub owner: Option<String>,
    pub uid: Option<u32>,
    pub group: Option<String>,
    pub gid: Option<u32>,
    pub sops_file: Option<String>,
    pub format: Option<String>,
    pub mode: Option<String>,
    pub restart_units: Option<Vec<String>>,
    pub reload_units: Option<Vec<String>>,
    /// Installed before users are created (the for-users manifest).
    pub needed_for_users: Option<bool>,
    /// Ours: the systemd credential name this secret is exposed as.
    pub credential: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RawTemplate {
    pub name: Option<String>,
    pub content: Option<String>,
    pub file: Option<String>,
    pub path: Option<String>,
    pub mode: Option<String>,
    pub owner: Option<String>,
    pub uid: Option<u32>,
    pub group: Option<String>,
    pub gid: Option<u32>,
    pub restart_units: Option<Vec<String>>,
    pub reload_units: Option<Vec<String>>,
    /// Rendered into the for-users generation: only neededForUsers secrets may be named.
    pub needed_for_users: Option<bool>,
    /// Ours: the systemd credential name this rendered template is exposed as.
    pub credential: Option<String>,
}

/// The manifest is not JSON of the expected shape.
#[derive(Debug, thiserror::Error)]
pub enum RawError {
    /// Not JSON, cut short, or text after the object.
    #[error("{0}")]
    Syntax(serde_json::Error),
    /// A field holds a value of the wrong type.
    #[error("{field}: {source}")]
    Field {
        field: String,
        source: serde_json::Error,
    },
}

impl RawError {
    /// What to do about it.
    pub fn hint(&self) -> Option<Hint> {
        Some(Hint::new(
            "the manifest is written by the sops-install module at build time: rebuild the \
             configuration rather than editing it, and use a sops-install as new as the module",
        ))
    }
}

/// Parses manifest JSON; the error names the field (when the JSON itself is well-formed), the
/// line and the column.
pub fn parse(text: &str) -> Result<RawManifest, RawError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let raw: RawManifest = serde_path_to_error::deserialize(&mut de).map_err(field_error)?;
    de.end().map_err(RawError::Syntax)?;
    Ok(raw)
}

fn field_error(e: serde_path_to_error::Error<serde_json::Error>) -> RawError {
    let field = e.path().to_string();
    let inner = e.into_inner();
    if field == "." || inner.is_syntax() || inner.is_eof() {
        RawError::Syntax(inner)
    } else {
        RawError::Field {
            field,
            source: inner,
        }
    }
}

const TOP: &[&str] = &[
    "secrets",
    "templates",
    "placeholderBySecretName",
    "secretsMountPoint",
    "symlinkPath",
    "keepGenerations",
    "sshKeyPaths",
    "gnupgHome",
    "ageKeyFile",
    "ageSshKeyPaths",
    "useTmpfs",
    "userMode",
    "logging",
    "keepLastGoodOnFailure",
    "credentialStore",
];
/// `sopsFileHash` is written by the sops-nix modules and not used here; `neededForUsers` only
/// decides which secrets a neededForUsers template may name.
const SECRET: &[&str] = &[
    "name",
    "key",
    "path",
    "owner",
    "uid",
    "group",
    "gid",
    "sopsFile",
    "format",
    "mode",
    "restartUnits",
    "reloadUnits",
    "neededForUsers",
    "sopsFileHash",
    "credential",
];
const TEMPLATE: &[&str] = &[
    "name",
    "content",
    "file",
    "path",
    "mode",
    "owner",
    "uid",
    "group",
    "gid",
    "restartUnits",
    "reloadUnits",
    "neededForUsers",
    "credential",
];
const LOGGING: &[&str] = &["keyImport", "secretChanges"];

/// One warning per unknown field name and place (`secrets[]` counts as one place), naming the
/// nearest known field. Text that is not a JSON object yields nothing (`parse` reports it).
pub fn unknown_fields(text: &str) -> Vec<String> {
    let Ok(serde_json::Value::Object(top)) = serde_json::from_str::<serde_json::Value>(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut check = |obj: &serde_json::Map<String, serde_json::Value>, known: &[&str], at: &str| {
        for key in obj.keys() {
            if !known.contains(&key.as_str()) && seen.insert((at.to_string(), key.clone())) {
                let nearest = known
                    .iter()
                    .min_by_key(|k| edit_distance(k, key))
                    .copied()
                    .unwrap_or("");
                let place = if at.is_empty() {
                    String::new()
                } else {
                    format!(" in {at}")
                };
                out.push(format!(
                    "unknown field {key:?}{place} (did you mean {nearest}?); it is ignored"
                ));
            }
        }
    };
    check(&top, TOP, "");
    for (field, known) in [("secrets", SECRET), ("templates", TEMPLATE)] {
        if let Some(serde_json::Value::Array(items)) = top.get(field) {
            for item in items {
                if let serde_json::Value::Object(o) = item {
                    check(o, known, &format!("{field}[]"));
                }
            }
        }
    }
    if let Some(serde_json::Value::Object(o)) = top.get("logging") {
        check(o, LOGGING, "logging");
    }
    out
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_named_once_with_the_nearest_known_field() {
        let w = unknown_fields(
            r#"{"keepGeneration": 1, "secrets": [{"name": "a", "restartUnit": [], "neededForUsers": false, "sopsFileHash": ""}, {"restartUnit": []}], "logging": {"keyimport": true}}"#,
        );
        assert_eq!(
            w,
            vec![
                "unknown field \"keepGeneration\" (did you mean keepGenerations?); it is ignored",
                "unknown field \"restartUnit\" in secrets[] (did you mean restartUnits?); it is ignored",
                "unknown field \"keyimport\" in logging (did you mean keyImport?); it is ignored",
            ]
        );
        assert!(unknown_fields("[1]").is_empty());
    }

    #[test]
    fn nulls_and_missing_fields_are_unset_and_unknown_fields_ignored() {
        let m = parse(r#"{"gnupgHome": null, "secrets": [{"name": "a", "owner": null, "uid": null, "neededForUsers": false, "sopsFileHash": ""}], "extra": 1}"#).unwrap();
        let s = &m.secrets.unwrap()[0];
        assert_eq!(s.name.as_deref(), Some("a"));
        assert!(s.owner.is_none() && s.uid.is_none());
        assert!(m.gnupg_home.is_none());
    }

    #[test]
    fn a_wrongly_typed_field_is_an_error_with_a_position() {
        let err = parse(r#"{"secrets": [{"uid": "0"}]}"#)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("secrets[0].uid: invalid type"), "{err}");
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn a_syntax_error_names_the_position_only_and_trailing_text_is_an_error() {
        let err = parse(r#"{"secrets": ["#).unwrap_err().to_string();
        assert!(err.starts_with("EOF while parsing"), "{err}");
        assert!(parse("{} {}")
            .unwrap_err()
            .to_string()
            .contains("trailing characters"));
    }
}
