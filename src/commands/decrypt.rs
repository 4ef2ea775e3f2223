//! `sops-install decrypt`: print a sops file (or part of it) as `sops decrypt` does.

use std::path::{Path, PathBuf};

use super::CommandError;
use zeroize::Zeroizing;

use crate::keys::key_cmd;
use crate::keys::user_places::UserPlaces;
use crate::keys::{Identities, KeyError};
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
    /// The user's own places sops looks in (`~/.config/sops/age/keys.txt`, `~/.ssh/id_*`);
    /// `None` looks only where the options and variables say.
    pub user_places: Option<UserPlaces>,
}

pub use crate::keys::EnvKeys as KeyEnv;

/// Loads every identity named on the command line, in the environment and in the user's
/// places, as sops does (every source adds to the others), and gpg. `age_recipients` are the
/// file's age recipients: `SOPS_AGE_KEY_CMD` and `SOPS_AGE_SSH_PRIVATE_KEY_CMD` are run with
/// each in turn (`SOPS_AGE_RECIPIENT`)
/// until an identity loaded so far answers to one of them. Also returns every place looked
/// in, with what was found there, for the error when nothing opens the file.
pub fn load_identities(
    args: &DecryptArgs,
    env: &KeyEnv,
    age_recipients: &[String],
) -> (Identities, Vec<String>) {
    let mut ids = Identities::new();
    let mut looked = Vec::new();
    for f in &args.age_key_files {
        ids.add_age_key_file(f);
        looked.push(format!("--age-key-file {}", f.display()));
    }
    for f in &args.ssh_keys {
        ids.add_ssh_key(f);
        looked.push(format!("--ssh-key {}", f.display()));
    }
    match &env.age_key {
        Some(text) => {
            ids.add_age_keys_text(one_key_per_line(text).as_str(), "SOPS_AGE_KEY");
            looked.push("SOPS_AGE_KEY".to_string());
        }
        None => looked.push("SOPS_AGE_KEY (not set)".to_string()),
    }
    match &env.age_key_file {
        Some(f) => {
            ids.add_age_key_file(f);
            looked.push(format!("SOPS_AGE_KEY_FILE={}", f.display()));
        }
        None => looked.push("SOPS_AGE_KEY_FILE (not set)".to_string()),
    }
    match &env.age_key_cmd {
        Some(cmd) => looked.push(run_key_cmd(
            &mut ids,
            key_cmd::VARIABLE,
            cmd,
            age_recipients,
        )),
        None => looked.push(format!("{} (not set)", key_cmd::VARIABLE)),
    }
    if let Some(places) = &args.user_places {
        match places.age_keys_file() {
            Ok(f) if std::fs::symlink_metadata(&f).is_ok() => {
                ids.add_age_key_file(&f);
                looked.push(f.display().to_string());
            }
            Ok(f) => looked.push(format!("{} (absent)", f.display())),
            Err(why) => looked.push(format!("the user config directory ({why})")),
        }
    }
    match &env.ssh_private_key_file {
        Some(f) => {
            ids.add_ssh_key(f);
            looked.push(format!("SOPS_AGE_SSH_PRIVATE_KEY_FILE={}", f.display()));
        }
        None => looked.push("SOPS_AGE_SSH_PRIVATE_KEY_FILE (not set)".to_string()),
    }
    match &env.age_ssh_key_cmd {
        Some(cmd) => looked.push(run_key_cmd(
            &mut ids,
            key_cmd::SSH_VARIABLE,
            cmd,
            age_recipients,
        )),
        None => looked.push(format!("{} (not set)", key_cmd::SSH_VARIABLE)),
    }
    if let Some(places) = &args.user_places {
        let keys = places.ssh_keys();
        if keys.is_empty() {
            looked.push("~/.ssh (HOME is not set)".to_string());
        }
        for f in keys {
            if std::fs::symlink_metadata(&f).is_ok() {
                ids.add_ssh_key(&f);
                looked.push(f.display().to_string());
            } else {
                looked.push(format!("{} (absent)", f.display()));
            }
        }
    }
    for f in &args.pgp_ssh_keys {
        ids.add_rsa_ssh_key_as_pgp(f);
        looked.push(format!("--pgp-ssh-key {}", f.display()));
    }
    // Like sops, gpg is asked for `pgp` entries no other key opened.
    ids.add_gnupg(args.gnupg_home.as_deref(), env.gpg_exec());
    looked.push(match &args.gnupg_home {
        Some(h) => format!("gpg with GnuPG home {}", h.display()),
        None => "gpg with its default GnuPG home".to_string(),
    });
    (ids, looked)
}

/// `SOPS_AGE_KEY` may hold several identities on one line (sops 3.12 and later): one a line.
fn one_key_per_line(text: &str) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(text.len()));
    for line in text.lines() {
        if line.starts_with('#') {
            out.push_str(line);
            out.push('\n');
        } else {
            for word in line.split_whitespace() {
                out.push_str(word);
                out.push('\n');
            }
        }
    }
    out
}

/// Runs the command of `source` (`SOPS_AGE_KEY_CMD`, whose output is age identities, or
/// `SOPS_AGE_SSH_PRIVATE_KEY_CMD`, whose output is one OpenSSH private key) for each age
/// recipient of the file until a loaded identity answers to one of them; returns what to say
/// about it among the places looked in.
fn run_key_cmd(ids: &mut Identities, source: &str, cmd: &str, age_recipients: &[String]) -> String {
    let opened = |ids: &Identities| {
        ids.loaded()
            .iter()
            .any(|l| age_recipients.contains(&l.recipient))
    };
    if age_recipients.is_empty() {
        return format!("{source} (not run: the file has no age recipient)");
    }
    if opened(ids) {
        return format!("{source} (not run: another key answers to a recipient)");
    }
    let mut runs = 0;
    for recipient in age_recipients {
        runs += 1;
        match key_cmd::run(cmd, recipient) {
            Ok(text) if source == key_cmd::SSH_VARIABLE => ids.add_ssh_key_text(&text, source),
            Ok(text) => ids.add_age_keys_text(text.as_str(), source),
            Err(reason) => ids.record_problem(
                source,
                KeyError::KeyCommand(format!("for {recipient}: {reason}")),
            ),
        }
        if opened(ids) {
            break;
        }
    }
    format!(
        "{source} (run {runs} time{})",
        if runs == 1 { "" } else { "s" }
    )
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
    let fail = |e: crate::sops::SopsError| {
        let hint = e.hint_for(&shown.to_string());
        CommandError::new(
            e.exit_code(),
            crate::hint::line(format!("{shown}: {e}"), hint.as_ref()),
        )
    };
    let (loaded, meta) = crate::sops::decrypt::parse(&input, in_format).map_err(fail)?;
    let mut age_recipients: Vec<String> = Vec::new();
    for key in meta.key_groups.iter().flat_map(|g| g.age.iter()) {
        if !age_recipients.contains(&key.recipient) {
            age_recipients.push(key.recipient.clone());
        }
    }
    let (ids, looked) = load_identities(args, env, &age_recipients);
    let key = crate::sops::data_key::recover(&meta, &ids).map_err(|report| {
        let e = crate::sops::SopsError::NoKey(report);
        let hint = e.hint_for(&shown.to_string());
        CommandError::new(
            e.exit_code(),
            crate::hint::line(
                format!("{shown}: {e}; looked for keys in: {}", looked.join(", ")),
                hint.as_ref(),
            ),
        )
    })?;
    let file =
        crate::sops::decrypt::decrypt_with_key(loaded, in_format, &meta, &key).map_err(fail)?;
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
