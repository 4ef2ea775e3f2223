//! The manifest a run works from: read, parsed, expanded for user mode and validated, with a
//! warning for each field sops-nix does not know.

use super::{CheckMode, Failure, Options};
use crate::input_file;
use crate::manifest::validate::{self, RuntimeDir};
use crate::manifest::{self, Manifest};

/// The validated manifest and a warning for each unknown field.
pub fn load_manifest(opts: &Options) -> Result<(Manifest, Vec<String>), Failure> {
    let text =
        input_file::read_to_string(&opts.manifest_path, input_file::MANIFEST_MAX).map_err(|e| {
            Failure(format!(
                "failed to open manifest: {}: {e}",
                opts.manifest_path.display()
            ))
        })?;
    let raw = manifest::raw::parse(&text).map_err(|e| {
        Failure(format!(
            "failed to parse manifest {}: {e}",
            opts.manifest_path.display()
        ))
    })?;
    let runtime = match manifest::runtime_dir::current() {
        Ok(dir) => RuntimeDir::Known(dir),
        Err(e) => RuntimeDir::Unavailable(e),
    };
    let warnings = manifest::raw::unknown_fields(&text)
        .into_iter()
        .map(|w| format!("warning: manifest {}: {w}", opts.manifest_path.display()))
        .collect();
    validate::validate(raw, &runtime, opts.check_mode == CheckMode::Off)
        .map(|m| (m, warnings))
        .map_err(|p| invalid(opts, p))
}

/// The one line for problems found in the manifest: its path, then each problem (which names
/// the secret or template and the field).
pub fn invalid(opts: &Options, problems: validate::Problems) -> Failure {
    Failure(format!(
        "manifest {} is not valid: {problems}",
        opts.manifest_path.display()
    ))
}
