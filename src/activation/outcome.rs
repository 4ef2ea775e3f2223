//! What a run hands back to its caller: the lines to print, or the one line of its failure.
//!
//! The failure line is made here, once: the stage's error (with what the run was doing), then
//! the error's advice after "; hint: ", on the same line.

use std::fmt::Display;

use crate::hint::{self, Advised, Hint};

/// A failed run: the line to print (exit status 1), its hint included.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Failure(pub String);

impl Failure {
    /// `message`, then `; hint: …` when there is advice.
    pub fn hinted(message: impl Display, hint: Option<Hint>) -> Failure {
        Failure(hint::line(message, hint.as_ref()))
    }

    /// A stage's error as it is, with its advice.
    pub fn from_stage(e: &impl Advised) -> Failure {
        Failure::hinted(e, e.hint())
    }

    /// `what: error`, with the error's advice.
    pub fn during(what: &str, e: &impl Advised) -> Failure {
        Failure::hinted(format!("{what}: {e}"), e.hint())
    }
}

/// What a run did, for the caller to print.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Change lines for stdout.
    pub change_lines: Vec<String>,
    /// Key-import and warning lines for stderr.
    pub notes: Vec<String>,
    /// One line per sops file that failed while the run still installed a generation with
    /// their last good values (`keepLastGoodOnFailure`); the run exits 1 when there are any.
    pub failed: Vec<String>,
}
