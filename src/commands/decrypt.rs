//! `sops-install decrypt`: print a sops file (or part of it) as `sops decrypt` does.

use std::path::{Path, PathBuf};

use super::CommandError;
use crate::keys::Identities;
use crate::secret_bytes::SecretBytes;
use crate::sops::extract::parse_extract_path;
use crate::sops::stores::Format;

/// What to decrypt and with which keys.
#[derive(Debug, Default)]
pub struct DecryptArgs {
    pub file: PathBuf,
    pub input_type: Option<Format>,
    pub output_type: Option<Format>,
    pub extract: Option<String>,
    pub age_key_files: Vec<PathBuf>,
    pub ssh_keys: Vec<PathBuf>,
    /// RSA ssh keys used as PGP keys.
    pub pgp_ssh_keys: Vec<PathBuf>,
    /// The GnuPG home for gpg (`None`: gpg's default, as sops).
    pub gnupg_home: Option<PathBuf>,
}

pub use crate::keys::EnvKeys as KeyEnv;

/// Loads every identity named on the command line or in the environment, and gpg.
pub fn load_identities(args: &DecryptArgs, env: &KeyEnv) -> Identities {
    let mut ids = Identities::new();
    for f in &args.age_key_files {
        ids.add_age_key_file(f);
    }
    for f in &args.ssh_keys {
        ids.add_ssh_key(f);
    }
    if let Some(f) = &env.age_key_file {
        ids.add_age_key_file(f);
    }
    if let Some(text) = &env.age_key {
        ids.add_age_keys_text(text.as_str(), "SOPS_AGE_KEY");
    }
    if let Some(f) = &env.ssh_private_key_file {
        ids.add_ssh_key(f);
    }
    for f in &args.pgp_ssh_keys {
        ids.add_rsa_ssh_key_as_pgp(f);
    }
    // Like sops, gpg is asked for `pgp` entries no other key opened.
    ids.add_gnupg(args.gnupg_home.as_deref(), env.gpg_exec());
    ids
}

/// Decrypts as asked; returns the bytes to print and any warnings.
pub fn run(args: &DecryptArgs, env: &KeyEnv) -> Result<(SecretBytes, Vec<String>), CommandError> {
    let shown = args.file.display();
    let in_format = args
        .input_type
        .unwrap_or_else(|| Format::from_path(&args.file));
    let out_format = args.output_type.unwrap_or(in_format);
    let steps = match &args.extract {
        Some(p) => Some(
            parse_extract_path(p)
                .map_err(|e| CommandError::new(1, crate::hint::line(&e, e.hint().as_ref())))?,
        ),
        None => None,
    };
    let input = read_input(&args.file)?;
    let ids = load_identities(args, env);
    let fail = |e: crate::sops::SopsError| {
        let hint = e.hint_for(&shown.to_string());
        CommandError::new(
            e.exit_code(),
            crate::hint::line(format!("{shown}: {e}"), hint.as_ref()),
        )
    };
    let file = crate::sops::decrypt(&input, in_format, &ids).map_err(fail)?;
    let out = match &steps {
        Some(steps) => file.extract(steps, out_format).map_err(fail)?,
        None => file.emit(out_format).map_err(fail)?,
    };
    let warnings = file
        .warnings
        .iter()
        .map(|w| format!("{shown}: {w}"))
        .collect();
    Ok((out, warnings))
}

fn read_input(path: &Path) -> Result<Vec<u8>, CommandError> {
    crate::input_file::read(path, crate::input_file::SOPS_FILE_MAX)
        .map_err(|e| CommandError::new(1, format!("{}: cannot read: {e}", path.display())))
}
