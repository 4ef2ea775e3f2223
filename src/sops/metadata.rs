//! The `sops` metadata block: decoded from the raw tree every store returns, then validated.
//!
//! YAML and JSON give the block as a tree; dotenv and INI give flattened keys that the stores
//! rebuild into the same tree first, so one decoder serves all stores. Validation follows
//! sops: `lastmodified` and every non-age `created_at` must be RFC 3339, at most one
//! encryption rule may be set, and there must be at least one master key. Unknown fields are
//! ignored; `version` is not checked (the sops library sops-nix uses does not check it).

use regex::Regex;

use crate::hint::Hint;

use crate::sops::tree::{Map, Timestamp, Value};

/// Decoded and validated metadata.
#[derive(Debug)]
pub struct Metadata {
    /// Key groups: one group of the top-level lists, or the `key_groups` entries.
    pub key_groups: Vec<KeyGroup>,
    pub shamir_threshold: usize,
    /// `lastmodified` as written (the MAC's additional data is derived from it).
    pub last_modified: Timestamp,
    /// The encrypted MAC (`ENC[...]`), empty when missing.
    pub mac: String,
    pub rule: EncryptionRule,
    pub mac_only_encrypted: bool,
}

/// One key group: every master key in it wraps the same bytes.
#[derive(Debug, Default)]
pub struct KeyGroup {
    pub age: Vec<AgeMasterKey>,
    pub pgp: Vec<PgpMasterKey>,
    /// Master keys of kinds this build cannot use (KMS and the like), described for messages.
    pub others: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct AgeMasterKey {
    pub recipient: String,
    /// ASCII-armored age file holding the data key or a Shamir part.
    pub enc: String,
}

#[derive(Debug, Clone)]
pub struct PgpMasterKey {
    pub fingerprint: String,
    pub enc: String,
}

/// Which values are encrypted (section 5 of the format spec).
#[derive(Debug, Clone)]
pub enum EncryptionRule {
    UnencryptedSuffix(String),
    EncryptedSuffix(String),
    UnencryptedRegex(Regex),
    EncryptedRegex(Regex),
    UnencryptedCommentRegex(Regex),
    EncryptedCommentRegex(Regex),
}

/// The `sops` metadata cannot be used. Messages are plain sentences without the file name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    #[error("the sops metadata is a {0}, not a map")]
    NotAMap(&'static str),
    #[error("this file was written by sops 1.x, whose format is not supported")]
    Sops1,
    #[error("the sops metadata has no lastmodified time")]
    NoLastModified,
    #[error("the sops metadata's lastmodified is not an RFC 3339 time")]
    LastModifiedNotTime,
    /// `what` is a `kind`, not `expected` (`a map`, `a list`, `text`, `a boolean`).
    #[error("{what} is a {kind}, not {expected}")]
    WrongType {
        what: String,
        kind: &'static str,
        expected: &'static str,
    },
    #[error("shamir_threshold is not a whole number")]
    ShamirThreshold,
    #[error("the sops metadata lists no master keys")]
    NoMasterKeys,
    #[error("more than one encryption rule is set ({0})")]
    SeveralRules(String),
    #[error("{0} is not a valid regular expression")]
    BadRegex(&'static str),
    #[error("a {0} entry's created_at is not an RFC 3339 time")]
    CreatedAt(String),
    #[error("{0} is not valid UTF-8")]
    NotUtf8(String),
}

impl MetadataError {
    /// What to do about it.
    pub fn hint(&self) -> Option<Hint> {
        Some(Hint::new(match self {
            MetadataError::Sops1 => {
                "decrypt it with sops 1.x and encrypt it again with a current sops".to_string()
            }
            MetadataError::NoMasterKeys => "give the file recipients: add them to its creation \
                rule in .sops.yaml and run `sops updatekeys FILE`"
                .to_string(),
            _ => "the sops metadata was edited by hand or by another tool: restore the file \
                from version control, or encrypt its values again with `sops encrypt`"
                .to_string(),
        }))
    }
}

fn wrong_type(what: impl Into<String>, v: &Value, expected: &'static str) -> MetadataError {
    MetadataError::WrongType {
        what: what.into(),
        kind: v.kind_name(),
        expected,
    }
}

/// Decodes the raw metadata tree.
pub fn decode(raw: &Value) -> Result<Metadata, MetadataError> {
    let Value::Map(map) = raw else {
        return Err(MetadataError::NotAMap(raw.kind_name()));
    };
    if let Some(Value::Float(_) | Value::Int(_)) = map.get("version") {
        if map.get("lastmodified").is_none() {
            return Err(MetadataError::Sops1);
        }
    }
    let last_modified_text = string_field(map, "lastmodified")?.unwrap_or_default();
    let last_modified =
        Timestamp::parse_rfc3339(&last_modified_text).ok_or(if last_modified_text.is_empty() {
            MetadataError::NoLastModified
        } else {
            MetadataError::LastModifiedNotTime
        })?;
    let mac = string_field(map, "mac")?.unwrap_or_default();
    let rule = decode_rule(map)?;
    let mac_only_encrypted = match map.get("mac_only_encrypted") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(wrong_type("mac_only_encrypted", other, "a boolean")),
    };
    let shamir_threshold = match map.get("shamir_threshold") {
        None | Some(Value::Null) => 0,
        Some(Value::Int(n)) if *n >= 0 => *n as usize,
        Some(Value::Float(f)) if *f >= 0.0 && f.fract() == 0.0 && *f < 1e6 => *f as usize,
        Some(_) => return Err(MetadataError::ShamirThreshold),
    };
    let top = decode_group(map)?;
    let key_groups = if !top.is_empty() {
        vec![top]
    } else {
        match map.get("key_groups") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::List(groups)) => groups
                .iter()
                .map(|g| match g {
                    Value::Map(m) => decode_group(m),
                    other => Err(wrong_type("a key group", other, "a map")),
                })
                .collect::<Result<_, _>>()?,
            Some(other) => return Err(wrong_type("key_groups", other, "a list")),
        }
    };
    if key_groups.iter().all(KeyGroup::is_empty) {
        return Err(MetadataError::NoMasterKeys);
    }
    Ok(Metadata {
        key_groups,
        shamir_threshold,
        last_modified,
        mac,
        rule,
        mac_only_encrypted,
    })
}

impl KeyGroup {
    pub fn is_empty(&self) -> bool {
        self.age.is_empty() && self.pgp.is_empty() && self.others.is_empty()
    }

    /// Every recipient of the group as a user would paste it into `.sops.yaml`.
    pub fn recipients(&self) -> impl Iterator<Item = String> + '_ {
        self.age
            .iter()
            .map(|k| k.recipient.clone())
            .chain(self.pgp.iter().map(|k| format!("pgp {}", k.fingerprint)))
            .chain(self.others.iter().cloned())
    }
}

const OTHER_KINDS: [(&str, &str, &str); 5] = [
    ("kms", "aws kms", "arn"),
    ("gcp_kms", "gcp kms", "resource_id"),
    ("hckms", "huaweicloud kms", "key_id"),
    ("azure_kv", "azure key vault", "vault_url"),
    ("hc_vault", "vault", "vault_address"),
];

fn decode_group(map: &Map) -> Result<KeyGroup, MetadataError> {
    let mut group = KeyGroup::default();
    for entry in list_field(map, "age")? {
        let m = as_map(entry, "an age entry")?;
        let recipient = string_field(m, "recipient")?.unwrap_or_default();
        let enc = string_field(m, "enc")?.unwrap_or_default();
        group.age.push(AgeMasterKey { recipient, enc });
    }
    for entry in list_field(map, "pgp")? {
        let m = as_map(entry, "a pgp entry")?;
        check_created_at(m, "pgp")?;
        let fingerprint = string_field(m, "fp")?.unwrap_or_default();
        let enc = string_field(m, "enc")?.unwrap_or_default();
        group.pgp.push(PgpMasterKey { fingerprint, enc });
    }
    for (field, label, id_field) in OTHER_KINDS {
        for entry in list_field(map, field)? {
            let m = as_map(entry, field)?;
            check_created_at(m, field)?;
            let id = string_field(m, id_field)?.unwrap_or_default();
            group.others.push(format!("{label} {id}"));
        }
    }
    Ok(group)
}

fn decode_rule(map: &Map) -> Result<EncryptionRule, MetadataError> {
    let mut rules = Vec::new();
    for name in [
        "unencrypted_suffix",
        "encrypted_suffix",
        "unencrypted_regex",
        "encrypted_regex",
        "unencrypted_comment_regex",
        "encrypted_comment_regex",
    ] {
        if let Some(text) = string_field(map, name)?.filter(|s| !s.is_empty()) {
            rules.push((name, text));
        }
    }
    if rules.len() > 1 {
        let names: Vec<&str> = rules.iter().map(|(n, _)| *n).collect();
        return Err(MetadataError::SeveralRules(names.join(", ")));
    }
    let Some((name, text)) = rules.pop() else {
        return Ok(EncryptionRule::UnencryptedSuffix(
            "_unencrypted".to_string(),
        ));
    };
    let regex = |t: &str| Regex::new(t).map_err(|_| MetadataError::BadRegex(name));
    Ok(match name {
        "unencrypted_suffix" => EncryptionRule::UnencryptedSuffix(text),
        "encrypted_suffix" => EncryptionRule::EncryptedSuffix(text),
        "unencrypted_regex" => EncryptionRule::UnencryptedRegex(regex(&text)?),
        "encrypted_regex" => EncryptionRule::EncryptedRegex(regex(&text)?),
        "unencrypted_comment_regex" => EncryptionRule::UnencryptedCommentRegex(regex(&text)?),
        _ => EncryptionRule::EncryptedCommentRegex(regex(&text)?),
    })
}

fn check_created_at(m: &Map, kind: &str) -> Result<(), MetadataError> {
    match string_field(m, "created_at")? {
        Some(t) if Timestamp::parse_rfc3339(&t).is_none() => {
            Err(MetadataError::CreatedAt(kind.to_string()))
        }
        _ => Ok(()),
    }
}

fn as_map<'a>(v: &'a Value, what: &str) -> Result<&'a Map, MetadataError> {
    match v {
        Value::Map(m) => Ok(m),
        other => Err(wrong_type(what, other, "a map")),
    }
}

fn list_field<'a>(map: &'a Map, name: &str) -> Result<&'a [Value], MetadataError> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::List(items)) => Ok(items),
        Some(other) => Err(wrong_type(name, other, "a list")),
    }
}

/// A scalar metadata field as text (YAML may type `version: 3.7` as a float, a bare
/// `lastmodified` as a timestamp).
fn string_field(map: &Map, name: &str) -> Result<Option<String>, MetadataError> {
    Ok(match map.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::Str(s)) => Some(
            s.as_str()
                .ok_or_else(|| MetadataError::NotUtf8(name.to_string()))?
                .to_string(),
        ),
        Some(Value::Time(t)) => Some(t.to_rfc3339_nano()),
        Some(v @ (Value::Int(_) | Value::Float(_) | Value::Bool(_))) => v
            .render_scalar()
            .and_then(|b| b.as_str().map(str::to_string)),
        Some(other) => return Err(wrong_type(name, other, "text")),
    })
}
