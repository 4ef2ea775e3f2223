//! Decrypting a tree in place and hashing it for the MAC, in one depth-first walk.
//!
//! The walk keeps the current key path (map keys only: list indices are not part of it), which
//! is both the values' additional data (`a:b:`) and what the encryption rule looks at, and a
//! stack of recent comments per level for the comment-regex rules (section 5 of the spec).
//! Every non-comment, non-null leaf is fed to SHA-512 in document order.

use sha2::{Digest, Sha512};

use crate::secret_bytes::SecretBytes;
use crate::sops::enc_value::{EncError, EncValue, ValueType};
use crate::sops::metadata::EncryptionRule;
use crate::sops::tree::{Entry, Map, Timestamp, Value};

/// A value that could not be decrypted, with its location (never its content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    /// The key path for people: `db/password`, `servers[1]/name`.
    pub path: String,
    pub reason: String,
}

/// Outcome of a successful walk.
pub struct Walked {
    /// Upper-case hex SHA-512 of the hashed leaves.
    pub mac: String,
    /// Encrypted comments that could not be decrypted and were kept as found.
    pub warnings: Vec<String>,
}

enum Seg {
    Key(usize),
    Index(usize),
}

struct Walker<'a> {
    key: &'a [u8; 32],
    rule: &'a EncryptionRule,
    mac_only: bool,
    hasher: Sha512,
    /// `k1:k2:` — the additional data of the current path.
    aad: String,
    /// Start offset in `aad` of each path component.
    bounds: Vec<usize>,
    display: Vec<Seg>,
    comments: Vec<Vec<Vec<u8>>>,
    track_comments: bool,
    warnings: Vec<String>,
}

/// SHA-256("sops"), prepended to the hash when `mac_only_encrypted` is set.
const MAC_ONLY_PREFIX: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b,
    0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

/// Decrypts every branch in place and computes the MAC over them.
pub fn decrypt_branches(
    branches: &mut [Map],
    key: &[u8; 32],
    rule: &EncryptionRule,
    mac_only: bool,
) -> Result<Walked, ValueError> {
    let track_comments = matches!(
        rule,
        EncryptionRule::UnencryptedCommentRegex(_) | EncryptionRule::EncryptedCommentRegex(_)
    );
    let mut w = Walker {
        key,
        rule,
        mac_only,
        hasher: Sha512::new(),
        aad: String::new(),
        bounds: Vec::new(),
        display: Vec::new(),
        comments: Vec::new(),
        track_comments,
        warnings: Vec::new(),
    };
    if mac_only {
        w.hasher.update(MAC_ONLY_PREFIX);
    }
    for branch in branches.iter_mut() {
        w.walk_map(branch)?;
    }
    Ok(Walked {
        mac: hex::encode_upper(w.hasher.finalize()),
        warnings: w.warnings,
    })
}

impl Walker<'_> {
    fn walk_map(&mut self, map: &mut Map) -> Result<(), ValueError> {
        self.comments.push(Vec::new());
        for entry in map.0.iter_mut() {
            match entry {
                Entry::Comment(text) => {
                    self.remember_comment(crate::sops::tree::comment_text(text.as_bytes()));
                    self.visit_comment(text);
                }
                Entry::Pair(k, v) => {
                    self.bounds.push(self.aad.len());
                    self.aad.push_str(k);
                    self.aad.push(':');
                    self.display.push(Seg::Key(self.bounds.len() - 1));
                    self.walk_value(v)?;
                    if matches!(v, Value::Comment(_)) {
                        return Err(
                            self.error("holds an encrypted comment where a value belongs".into())
                        );
                    }
                    self.display.pop();
                    if let Some(start) = self.bounds.pop() {
                        self.aad.truncate(start);
                    }
                    self.clear_level();
                }
            }
        }
        self.comments.pop();
        Ok(())
    }

    fn walk_list(&mut self, items: &mut [Value]) -> Result<(), ValueError> {
        self.comments.push(Vec::new());
        for (i, item) in items.iter_mut().enumerate() {
            if let Value::Comment(text) = item {
                self.remember_comment(crate::sops::tree::comment_text(text.as_bytes()));
                self.visit_comment(text);
                continue;
            }
            self.display.push(Seg::Index(i));
            self.walk_value(item)?;
            self.display.pop();
            self.clear_level();
        }
        self.comments.pop();
        Ok(())
    }

    fn walk_value(&mut self, v: &mut Value) -> Result<(), ValueError> {
        match v {
            Value::Map(m) => self.walk_map(m),
            Value::List(items) => self.walk_list(items),
            Value::Null => Ok(()),
            Value::Comment(text) => {
                self.visit_comment(text);
                Ok(())
            }
            _ => self.visit_leaf(v),
        }
    }

    fn remember_comment(&mut self, text: &[u8]) {
        if self.track_comments {
            if let Some(level) = self.comments.last_mut() {
                level.push(text.to_vec());
            }
        }
    }

    fn clear_level(&mut self) {
        if let Some(level) = self.comments.last_mut() {
            level.clear();
        }
    }

    fn components(&self) -> impl Iterator<Item = &str> {
        self.bounds.iter().enumerate().map(|(i, &start)| {
            let end = self.bounds.get(i + 1).copied().unwrap_or(self.aad.len());
            self.aad
                .get(start..end.saturating_sub(1))
                .unwrap_or_default()
        })
    }

    fn any_comment(&self, is_comment: bool, pred: impl Fn(&str) -> bool) -> bool {
        let last_level = self.comments.len().saturating_sub(1);
        self.comments.iter().enumerate().any(|(li, level)| {
            level.iter().enumerate().any(|(ci, c)| {
                let is_self = is_comment && li == last_level && ci + 1 == level.len();
                !is_self && pred(&String::from_utf8_lossy(c))
            })
        })
    }

    fn should_encrypt(&self, is_comment: bool) -> bool {
        match self.rule {
            EncryptionRule::UnencryptedSuffix(s) => {
                !self.components().any(|c| c.ends_with(s.as_str()))
            }
            EncryptionRule::EncryptedSuffix(s) => {
                self.components().any(|c| c.ends_with(s.as_str()))
            }
            EncryptionRule::UnencryptedRegex(r) => !self.components().any(|c| r.is_match(c)),
            EncryptionRule::EncryptedRegex(r) => self.components().any(|c| r.is_match(c)),
            EncryptionRule::UnencryptedCommentRegex(r) => {
                !self.any_comment(false, |c| r.is_match(c))
            }
            EncryptionRule::EncryptedCommentRegex(r) => {
                self.any_comment(is_comment, |c| r.is_match(c))
            }
        }
    }

    fn aad(&self) -> &[u8] {
        if self.aad.is_empty() {
            b":"
        } else {
            self.aad.as_bytes()
        }
    }

    /// Comments are decrypted when the rule says so and they can be; otherwise kept as found.
    fn visit_comment(&mut self, text: &mut SecretBytes) {
        let body = crate::sops::tree::comment_text(text.as_bytes());
        if body.is_empty() || !self.should_encrypt(true) {
            return;
        }
        let decrypted = EncValue::parse(body).and_then(|v| v.decrypt(self.key, self.aad()));
        match decrypted {
            // sops 3.13 hands a decrypted comment back as a new, ordinary comment: it is no
            // longer inline. One it cannot decrypt keeps its place on the value's line.
            Ok(plain) => *text = plain,
            Err(_) => self.warnings.push(format!(
                "a comment in {} could not be decrypted and is printed as found",
                self.display_path_or_top()
            )),
        }
    }

    fn visit_leaf(&mut self, v: &mut Value) -> Result<(), ValueError> {
        let encrypt = self.should_encrypt(false);
        if encrypt {
            match v {
                Value::Str(s) if s.is_empty() => {}
                Value::Str(s) => {
                    let decrypted = self.decrypt_value(s)?;
                    *v = decrypted;
                }
                other => {
                    return Err(self.error(format!(
                        "should be encrypted but is a plain {}",
                        other.kind_name()
                    )))
                }
            }
        }
        if (!self.mac_only || encrypt) && !matches!(v, Value::Comment(_)) {
            match v {
                Value::Str(s) => self.hasher.update(s.as_bytes()),
                other => {
                    if let Some(bytes) = other.render_scalar() {
                        self.hasher.update(bytes.as_bytes());
                    }
                }
            }
        }
        Ok(())
    }

    fn decrypt_value(&self, s: &SecretBytes) -> Result<Value, ValueError> {
        let enc = EncValue::parse(s.as_bytes()).map_err(|e| match e {
            EncError::NotEncrypted => {
                self.error("should be encrypted but is plain text (not ENC[AES256_GCM,…])".into())
            }
            EncError::Malformed(what) => self.error(format!("malformed ENC[…] value: {what}")),
            EncError::Authentication => self.error("cannot decrypt".into()),
        })?;
        let value_type = enc
            .value_type
            .clone()
            .map_err(|t| self.error(format!("unknown value type \"{}\"", t.0)))?;
        let plain = enc.decrypt(self.key, self.aad()).map_err(|_| {
            self.error("cannot decrypt: authentication failed (the value was changed, moved to another key, or the file's data key is wrong)".into())
        })?;
        if value_type == ValueType::Bytes {
            // sops decrypts it to a byte slice and then panics (hash of unhashable type).
            return Err(self.error(
                "its ENC[…] type is \"bytes\", which sops cannot decrypt (it panics)".into(),
            ));
        }
        typed(plain, value_type)
            .map_err(|t| self.error(format!("the decrypted value is not a valid {t}")))
    }

    fn error(&self, reason: String) -> ValueError {
        ValueError {
            path: self.display_path_or_top(),
            reason,
        }
    }

    fn display_path_or_top(&self) -> String {
        let mut out = String::new();
        let components: Vec<&str> = self.components().collect();
        for seg in &self.display {
            match seg {
                Seg::Key(i) => {
                    if !out.is_empty() {
                        out.push('/');
                    }
                    out.push_str(components.get(*i).copied().unwrap_or_default());
                }
                Seg::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        if out.is_empty() {
            "the top level".to_string()
        } else {
            out
        }
    }
}

/// Turns a decrypted plaintext back into a typed value, as sops does per type tag.
fn typed(plain: SecretBytes, value_type: ValueType) -> Result<Value, &'static str> {
    let text = || plain.as_str().ok_or("text");
    Ok(match value_type {
        ValueType::Str | ValueType::Bytes => Value::Str(plain),
        ValueType::Comment => Value::Comment(plain),
        ValueType::Int => Value::Int(parse_go_int(text()?).ok_or("integer")?),
        ValueType::Float => Value::Float(parse_go_float(text()?).ok_or("float")?),
        ValueType::Bool => Value::Bool(match text()? {
            "1" | "t" | "T" | "TRUE" | "true" | "True" => true,
            "0" | "f" | "F" | "FALSE" | "false" | "False" => false,
            _ => return Err("boolean"),
        }),
        ValueType::Time => Value::Time(Timestamp::parse_rfc3339(text()?).ok_or("timestamp")?),
    })
}

/// Go's `strconv.Atoi`: optional sign, decimal digits.
fn parse_go_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Go's `strconv.ParseFloat(s, 64)` for the forms sops writes, plus Go's spellings of
/// infinity and NaN.
fn parse_go_float(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    if matches!(unsigned, "inf" | "infinity" | "nan") {
        return lower.parse().ok();
    }
    if s.contains('_')
        || s.bytes()
            .any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E')
    {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_number_spellings_parse() {
        assert_eq!(parse_go_int("-7"), Some(-7));
        assert_eq!(parse_go_int("+7"), Some(7));
        assert_eq!(parse_go_int("1_000"), None);
        assert_eq!(parse_go_float("+Inf"), Some(f64::INFINITY));
        assert!(parse_go_float("NaN").is_some_and(f64::is_nan));
        assert_eq!(parse_go_float("1e10"), Some(1e10));
        assert_eq!(parse_go_float("0x10"), None);
    }
}
