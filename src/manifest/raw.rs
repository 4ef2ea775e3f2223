//! A serde mirror of the sops-nix manifest JSON, field for field.
//!
//! Missing fields and `null` both mean "not set"; unknown fields are ignored; a wrongly typed
//! value is a parse error naming the field (`secrets[0].uid`) with its line and column.
//! Nothing is interpreted here: see
//! `validate` for the rules.

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
}

/// Parses manifest JSON; the error names the field (when the JSON itself is well-formed), the
/// line and the column.
pub fn parse(text: &str) -> Result<RawManifest, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let raw: RawManifest = serde_path_to_error::deserialize(&mut de).map_err(field_error)?;
    de.end().map_err(|e| e.to_string())?;
    Ok(raw)
}

fn field_error(e: serde_path_to_error::Error<serde_json::Error>) -> String {
    let field = e.path().to_string();
    let inner = e.into_inner();
    if field == "." || inner.is_syntax() || inner.is_eof() {
        inner.to_string()
    } else {
        format!("{field}: {inner}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let err = parse(r#"{"secrets": [{"uid": "0"}]}"#).unwrap_err();
        assert!(err.starts_with("secrets[0].uid: invalid type"), "{err}");
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn a_syntax_error_names_the_position_only_and_trailing_text_is_an_error() {
        let err = parse(r#"{"secrets": ["#).unwrap_err();
        assert!(err.starts_with("EOF while parsing"), "{err}");
        assert!(parse("{} {}").unwrap_err().contains("trailing characters"));
    }
}
