//! The manifest a run works from: read, parsed, expanded for user mode and validated, with a
//! warning for each field sops-nix does not know.

use super::{CheckMode, Failure, Options};
use crate::hint::Hint;
use crate::input_file;
use crate::manifest::validate::{self, RuntimeDir};
use crate::manifest::{self, Manifest};

/// The validated manifest and a warning for each unknown field.
pub fn load_manifest(opts: &Options) -> Result<(Manifest, Vec<String>), Failure> {
    let text =
        input_file::read_to_string(&opts.manifest_path, input_file::MANIFEST_MAX).map_err(|e| {
            Failure::hinted(
                format!(
                    "failed to open manifest: {}: {e}",
                    opts.manifest_path.display()
                ),
                unreadable_manifest(&e),
            )
        })?;
    let raw = manifest::raw::parse(&text).map_err(|e| {
        Failure::hinted(
            format!(
                "failed to parse manifest {}: {e}",
                opts.manifest_path.display()
            ),
            e.hint(),
        )
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
    Failure::hinted(
        format!(
            "manifest {} is not valid: {problems}",
            opts.manifest_path.display()
        ),
        problems.hint(),
    )
}

/// Advice for a manifest that cannot be read.
fn unreadable_manifest(e: &std::io::Error) -> Option<Hint> {
    Some(Hint::new(match e.kind() {
        std::io::ErrorKind::NotFound => {
            "give the manifest.json the sops-install module built (the activation script names \
             it; it is in the Nix store)"
        }
        std::io::ErrorKind::PermissionDenied => {
            "run sops-install as root (in user mode, as the user the manifest is for)"
        }
        _ => "give the path of the manifest file itself, a regular JSON file",
    }))
}
