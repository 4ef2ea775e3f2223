//! age identity files and `SOPS_AGE_KEY` text.
//!
//! Like sops, a line that is not an identity, a comment or empty makes the whole source
//! unusable; unlike sops, the reason names the line, so the user can fix it. Plugin identities
//! are collected for the plugin protocol (`age_plugin`), with the recipient a `# recipient:`
//! comment above them names, if any (plugins print one when they make a key). Post-quantum
//! identities are valid lines this build cannot use yet: they are skipped and reported.

use std::path::Path;
use std::str::FromStr;

use zeroize::Zeroizing;

use super::{KeyError, KeySource, LoadedIdentity, SourceProblem};

pub struct Parsed {
    pub identities: Vec<LoadedIdentity>,
    pub skipped: Vec<SourceProblem>,
    /// Plugin identities in file order, with the line number.
    pub plugins: Vec<(age::plugin::Identity, usize)>,
    /// Recipients named by `# recipient: age1…` comments right above plugin identities.
    pub plugin_recipients: Vec<String>,
}

/// Reads a key file into a zeroizing buffer.
pub fn read_file(path: &Path) -> Result<Zeroizing<String>, KeyError> {
    let bytes = Zeroizing::new(
        crate::input_file::read(path, crate::input_file::KEY_FILE_MAX)
            .map_err(|e| KeyError::read(&e))?,
    );
    match std::str::from_utf8(&bytes) {
        Ok(s) => Ok(Zeroizing::new(s.to_string())),
        Err(_) => Err(KeyError::NotUtf8),
    }
}

/// Parses identity text; any malformed line rejects the whole source, naming the line.
pub fn parse(text: &str, source: &KeySource) -> Result<Parsed, KeyError> {
    let mut parsed = Parsed {
        identities: Vec::new(),
        skipped: Vec::new(),
        plugins: Vec::new(),
        plugin_recipients: Vec::new(),
    };
    let mut hint: Option<String> = None;
    for (index, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let number = index + 1;
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            hint = recipient_comment(comment).or(hint);
            continue;
        }
        let hinted = hint.take();
        if line.starts_with("AGE-SECRET-KEY-1") {
            let identity = age::x25519::Identity::from_str(line).map_err(|_| KeyError::Line {
                line: number,
                fault: "malformed AGE-SECRET-KEY-1 identity",
            })?;
            let recipient = identity.to_public().to_string();
            parsed.identities.push(LoadedIdentity {
                identity: Box::new(identity),
                recipient,
                source: source.clone(),
                via_plugin: false,
            });
        } else if line.starts_with("AGE-PLUGIN-") {
            let identity = age::plugin::Identity::from_str(line).map_err(|_| KeyError::Line {
                line: number,
                fault: "malformed AGE-PLUGIN- identity",
            })?;
            parsed.plugins.push((identity, number));
            parsed.plugin_recipients.extend(hinted);
        } else if line.starts_with("AGE-SECRET-KEY-PQ-1") {
            parsed.skipped.push(SourceProblem {
                source: source.clone(),
                reason: KeyError::Line {
                    line: number,
                    fault: "post-quantum age identities are not supported yet; skipped",
                },
            });
        } else {
            return Err(KeyError::Line {
                line: number,
                fault: "not an age identity (expected AGE-SECRET-KEY-1…, a # comment or an empty line); the whole file is ignored",
            });
        }
    }
    Ok(parsed)
}

/// `recipient: age1…` (any case, any spacing) in a comment, as age plugins write above keys.
fn recipient_comment(comment: &str) -> Option<String> {
    let (label, value) = comment.split_once(':')?;
    let value = value.trim();
    (label.trim().eq_ignore_ascii_case("recipient")
        && value.starts_with("age1")
        && !value.contains(char::is_whitespace))
    .then(|| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k() -> KeySource {
        KeySource::AgeKeyText("k".into())
    }

    const KEY: &str = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";

    #[test]
    fn comments_blank_lines_and_crlf_are_accepted() {
        let text = format!("# created: now\r\n\r\n{KEY}\r\n");
        let parsed = parse(&text, &k()).unwrap();
        assert_eq!(parsed.identities.len(), 1);
        assert!(parsed.identities[0].recipient.starts_with("age1"));
    }

    #[test]
    fn one_junk_line_rejects_the_file_and_names_the_line() {
        let text = format!("# ok\njunk\n{KEY}\n");
        let err = parse(&text, &k()).err().unwrap().to_string();
        assert!(err.starts_with("line 2:"), "{err}");
        assert!(!err.contains("junk"), "the line's content is never echoed");
    }

    #[test]
    fn a_lower_case_or_indented_key_is_junk() {
        assert!(parse(&KEY.to_lowercase(), &k()).is_err());
        assert!(parse(&format!(" {KEY}"), &k()).is_err());
    }

    // A well-formed plugin identity: HRP "age-plugin-yubikey-", empty data.
    const PLUGIN: &str = "AGE-PLUGIN-YUBIKEY-18S3VSX";

    #[test]
    fn plugin_lines_are_collected_with_their_recipient_comment() {
        let text =
            format!("#    Recipient: age1yubikey1qqq\n{PLUGIN}\n# public key: age1x\n{KEY}\n");
        let parsed = parse(&text, &k()).unwrap();
        assert_eq!(parsed.identities.len(), 1);
        assert!(parsed.skipped.is_empty());
        assert_eq!(parsed.plugins.len(), 1);
        assert_eq!(parsed.plugins[0].0.plugin(), "yubikey");
        assert_eq!(parsed.plugins[0].1, 2);
        assert_eq!(parsed.plugin_recipients, ["age1yubikey1qqq"]);
    }

    #[test]
    fn a_malformed_plugin_line_names_its_line() {
        let err = parse("AGE-PLUGIN-YUBIKEY-1QQQQQQ\n", &k())
            .err()
            .unwrap()
            .to_string();
        assert!(err.starts_with("line 1: malformed AGE-PLUGIN-"), "{err}");
    }

    #[test]
    fn post_quantum_lines_are_skipped_not_fatal() {
        let text = format!("AGE-SECRET-KEY-PQ-1QQQQQQ\n{KEY}\n");
        let parsed = parse(&text, &k()).unwrap();
        assert_eq!(parsed.identities.len(), 1);
        assert_eq!(parsed.skipped.len(), 1);
    }
}
