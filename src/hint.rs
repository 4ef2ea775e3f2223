//! Advice for the errors a user can meet. Each stage's error type says what to do next through
//! a `hint()` method; the one place that prints a failure puts that advice on the same line as
//! the error, after `"; hint: "`, so the message stays one line and keeps its own wording.

use std::fmt;

/// What to do about an error, in one sentence or a few joined by "; ".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint(String);

impl Hint {
    pub fn new(text: impl Into<String>) -> Hint {
        Hint(text.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The distinct hints of several problems as one (in order of first appearance).
    pub fn join(hints: impl IntoIterator<Item = Hint>) -> Option<Hint> {
        let mut seen: Vec<String> = Vec::new();
        for h in hints {
            if !seen.contains(&h.0) {
                seen.push(h.0);
            }
        }
        (!seen.is_empty()).then(|| Hint(seen.join("; ")))
    }
}

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An error that may come with advice; every stage's error type implements it.
pub trait Advised: fmt::Display {
    fn hint(&self) -> Option<Hint>;
}

/// Implements [`Advised`] through the type's own `hint()`.
macro_rules! advised {
    ($($t:ty),* $(,)?) => {$(
        impl Advised for $t {
            fn hint(&self) -> Option<Hint> {
                <$t>::hint(self)
            }
        }
    )*};
}

advised!(
    crate::activation::credentials::StoreError,
    crate::install::InstallError,
    crate::keys::KeyError,
    crate::manifest::raw::RawError,
    crate::manifest::runtime_dir::RuntimeDirError,
    crate::manifest::validate::Problems,
    crate::render::RenderError,
    crate::report::ReportError,
    crate::sops::error::SopsError,
    crate::sops::extract::ExtractError,
    crate::sops::metadata::MetadataError,
);

/// The separator between an error and its hint on the one error line.
pub const SEPARATOR: &str = "; hint: ";

/// The one line a failure prints: `message`, then `; hint: …` when there is advice.
pub fn line(message: impl fmt::Display, hint: Option<&Hint>) -> String {
    match hint {
        Some(h) => format!("{message}{SEPARATOR}{h}"),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hint_follows_the_message_on_the_same_line() {
        let h = Hint::new("do this");
        assert_eq!(line("it failed", Some(&h)), "it failed; hint: do this");
        assert_eq!(line("it failed", None), "it failed");
    }

    #[test]
    fn joined_hints_are_distinct_and_ordered() {
        let j = Hint::join([Hint::new("a"), Hint::new("b"), Hint::new("a")]);
        assert_eq!(j, Some(Hint::new("a; b")));
        assert_eq!(Hint::join([]), None);
    }
}
