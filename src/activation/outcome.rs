//! What a run hands back to its caller: the lines to print, or the one line of its failure.

/// A failed run: the line to print (exit status 1).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Failure(pub String);

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
