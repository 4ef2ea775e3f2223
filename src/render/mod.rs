//! Templates: every placeholder of the manifest's secrets replaced by the secret's bytes.
//!
//! One left-to-right scan over the template text (leftmost-longest match), so the result does
//! not depend on any iteration order and a secret value that happens to contain another
//! placeholder is never substituted again. A sops-nix placeholder (`<SOPS:…:PLACEHOLDER>`)
//! that matches no secret of this manifest is an error rather than text left in the file.

pub mod files;

use aho_corasick::{AhoCorasick, MatchKind};

use crate::hint::Hint;
use crate::secret_bytes::SecretBytes;
use crate::sops::error::SopsError;

/// A secret or template could not be made into a file of the new generation.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot build the placeholder matcher: {0}")]
    Matcher(#[from] aho_corasick::BuildError),
    /// A matcher result that does not fit the text (never expected).
    #[error("{0}")]
    Internal(&'static str),
    #[error("it contains the placeholder {0} of a secret that is not in this manifest (a neededForUsers secret, or a secret that was removed)")]
    UnknownPlaceholder(String),
    #[error("secret {name:?}: {file} was not decrypted")]
    NotDecrypted { name: String, file: String },
    #[error("secret {name} in {file} is not valid: {source}")]
    Secret {
        name: String,
        file: String,
        source: SopsError,
    },
    #[error("cannot render template {name:?}: {source}")]
    Template {
        name: String,
        source: Box<RenderError>,
    },
}

impl RenderError {
    /// What to do about it.
    pub fn hint(&self) -> Option<Hint> {
        match self {
            RenderError::UnknownPlaceholder(_) => Some(Hint::new(
                "declare the secret of that placeholder in this configuration (neededForUsers \
                 secrets cannot be used in templates) or remove the placeholder from the template",
            )),
            RenderError::Secret { source, .. } => source.hint(),
            RenderError::Template { source, .. } => source.hint(),
            RenderError::Matcher(_)
            | RenderError::Internal(_)
            | RenderError::NotDecrypted { .. } => None,
        }
    }
}

/// A placeholder and the value that replaces it.
pub struct Substitution<'a> {
    pub placeholder: &'a str,
    pub value: &'a SecretBytes,
}

/// Renders `text`, or says which unknown placeholder it contains (never any value).
pub fn render(text: &str, substitutions: &[Substitution<'_>]) -> Result<SecretBytes, RenderError> {
    let mut out = SecretBytes::with_capacity(text.len());
    // An empty placeholder would match between every two bytes (validation refuses it).
    let used: Vec<&Substitution<'_>> = substitutions
        .iter()
        .filter(|s| !s.placeholder.is_empty())
        .collect();
    let patterns: Vec<&str> = used.iter().map(|s| s.placeholder).collect();
    let mut last = 0;
    if !patterns.is_empty() {
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)?;
        for m in matcher.find_iter(text) {
            // Non-empty UTF-8 patterns match on character boundaries; `get` keeps it panic-free.
            let literal = text.get(last..m.start()).ok_or(RenderError::Internal(
                "a placeholder matched inside a character",
            ))?;
            check_no_unknown_placeholder(literal)?;
            out.push_str(literal);
            let value = used
                .get(m.pattern().as_usize())
                .ok_or(RenderError::Internal(
                    "a placeholder matched that is not in the list",
                ))?;
            out.extend_from_slice(value.value.as_bytes());
            last = m.end();
        }
    }
    let rest = text.get(last..).ok_or(RenderError::Internal(
        "a placeholder ended inside a character",
    ))?;
    check_no_unknown_placeholder(rest)?;
    out.push_str(rest);
    Ok(out)
}

/// sops-nix placeholders look like `<SOPS:` + 64 hex digits + `:PLACEHOLDER>`.
fn check_no_unknown_placeholder(literal: &str) -> Result<(), RenderError> {
    let mut rest = literal;
    while let Some(start) = rest.find("<SOPS:") {
        let candidate = &rest[start..];
        let hex = candidate.get(6..70).unwrap_or("");
        if hex.len() == 64
            && hex.bytes().all(|b| b.is_ascii_hexdigit())
            && candidate
                .get(70..)
                .is_some_and(|t| t.starts_with(":PLACEHOLDER>"))
        {
            return Err(RenderError::UnknownPlaceholder(
                candidate.get(..83).unwrap_or(candidate).to_string(),
            ));
        }
        rest = candidate.get(6..).unwrap_or("");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ph(c: char) -> String {
        format!("<SOPS:{}:PLACEHOLDER>", c.to_string().repeat(64))
    }

    #[test]
    fn every_occurrence_is_replaced_in_one_pass() {
        let a = SecretBytes::from("alpha");
        let (pa, pb) = (ph('a'), ph('b'));
        // b's value contains a's placeholder: it must not be substituted again.
        let b = SecretBytes::from(pa.as_str());
        let subs = [
            Substitution {
                placeholder: &pa,
                value: &a,
            },
            Substitution {
                placeholder: &pb,
                value: &b,
            },
        ];
        let out = render(&format!("x={pa} y={pb} z={pa}\n"), &subs).unwrap();
        assert_eq!(
            out.as_bytes(),
            format!("x=alpha y={pa} z=alpha\n").as_bytes()
        );
    }

    #[test]
    fn an_unknown_sops_placeholder_is_an_error_without_values() {
        let a = SecretBytes::from("secret-value");
        let pa = ph('a');
        let subs = [Substitution {
            placeholder: &pa,
            value: &a,
        }];
        let err = render(&format!("{pa} {}", ph('c')), &subs)
            .unwrap_err()
            .to_string();
        assert!(err.contains(&ph('c')));
        assert!(!err.contains("secret-value"));
    }

    #[test]
    fn an_empty_placeholder_is_ignored_and_never_panics() {
        let a = SecretBytes::from("v");
        let subs = [Substitution {
            placeholder: "",
            value: &a,
        }];
        let out = render("é-ü", &subs).unwrap();
        assert_eq!(out.as_bytes(), "é-ü".as_bytes());
    }

    #[test]
    fn text_without_placeholders_is_copied() {
        assert_eq!(
            render("plain <SOPS:not-one>", &[]).unwrap().as_bytes(),
            b"plain <SOPS:not-one>"
        );
    }
}
