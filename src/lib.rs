//! sops-install: decrypts sops files and installs their secrets at activation time.
//!
//! Data flows one way, one module per stage: `manifest` -> `keys` -> `sops` (decrypt) ->
//! `render` -> `install` (mount, generation, write, swap, link, prune) -> `report`.
//! [`run`] is the whole activation, in that order.

#![forbid(unsafe_code)]

pub mod commands;
pub mod hint;
pub mod input_file;
pub mod install;
pub mod keys;
pub mod manifest;
pub mod render;
pub mod report;
pub mod secret_bytes;
pub mod sops;
#[cfg(test)]
mod test_fixtures;

use std::path::PathBuf;

use install::generation::{self, Live, Staged};
use install::{links, lock, mount, prune, swap, write, Layout};
use manifest::owners::{self, Lookup};
use manifest::validate::{self, RuntimeDir};
use report::{Changes, Tracked};

/// How far a run goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckMode {
    /// Install (the default).
    Off,
    /// Validate the manifest only.
    Manifest,
    /// Also parse every sops file and check every key, without any private key.
    SopsFile,
}

/// Everything a run needs besides the manifest itself.
#[derive(Debug, Clone)]
pub struct Options {
    pub manifest_path: PathBuf,
    pub check_mode: CheckMode,
    pub ignore_passwd: bool,
    /// `NIXOS_ACTION=dry-activate`: report and request (dry) units, write nothing.
    pub dry: bool,
    /// `SOPS_RESTART_UNITS_VIA_SYSTEMCTL=1`.
    pub via_systemctl: bool,
    /// Where `switch-to-configuration` reads unit lists (`/run/nixos`).
    pub nixos_run_dir: PathBuf,
    pub env_keys: keys::EnvKeys,
}

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
}

/// One activation: validate, decrypt, render, stage, report, swap, link, prune.
pub fn run(opts: &Options) -> Result<Outcome, Failure> {
    install::set_umask();
    let (manifest, warnings) = load_manifest(opts)?;
    let checked = Outcome {
        notes: warnings.clone(),
        ..Outcome::default()
    };
    if opts.check_mode == CheckMode::Manifest {
        return Ok(checked);
    }
    let files = sops::sops_files::parse_all(&manifest).map_err(|p| invalid(opts, p))?;
    files.check_keys(&manifest).map_err(|p| invalid(opts, p))?;
    if opts.check_mode == CheckMode::SopsFile {
        return Ok(checked);
    }
    let lookup = if opts.ignore_passwd || manifest.user_mode {
        Lookup::AllRoot
    } else {
        Lookup::Passwd
    };
    let (owners, compare_owners) = match (owners::resolve(&manifest, lookup), opts.dry) {
        (Ok(o), _) => (o, !manifest.user_mode),
        (Err(_), true) => (
            owners::resolve(&manifest, Lookup::AllRoot).map_err(|p| Failure(p.to_string()))?,
            false,
        ),
        (Err(p), false) => return Err(invalid(opts, p)),
    };
    let ids = keys::for_manifest(&manifest, &opts.env_keys);
    let mut outcome = Outcome {
        notes: warnings
            .into_iter()
            .chain(key_notes(&manifest, &ids))
            .collect(),
        ..Outcome::default()
    };
    let decrypted = files
        .decrypt_all(&manifest, &ids)
        .map_err(|e| Failure(e.to_string()))?;
    let new_files =
        render::files::build(&manifest, &decrypted, &owners).map_err(|e| Failure(e.to_string()))?;
    let layout = Layout {
        mount_point: manifest.secrets_mount_point.clone(),
        symlink_path: manifest.symlink_path.clone(),
        user_mode: manifest.user_mode,
        use_tmpfs: manifest.use_tmpfs,
        keys_gid: owners.keys_gid,
    };
    let tracked: Vec<Tracked<'_>> = new_files
        .iter()
        .map(|f| Tracked {
            name: &f.name,
            rendered: f.rendered,
            rel: &f.rel,
            content: &f.content,
            ids: f.ids,
            restart: &f.restart,
            reload: &f.reload,
        })
        .collect();
    let units = report::units::UnitRequests {
        dry: opts.dry,
        via_systemctl: opts.via_systemctl,
        nixos_run_dir: &opts.nixos_run_dir,
    };
    // Custom paths are checked before anything changes (and in dry-activate too), so a bad one
    // leaves the live generation in place instead of failing after the swap.
    let wanted = custom_links(&manifest, &owners);
    links::check(&layout, &wanted).map_err(|e| Failure(e.to_string()))?;
    if opts.dry {
        let live = generation::live(&layout).map_err(|e| Failure(e.to_string()))?;
        warn_elsewhere(&layout, &live, &mut outcome);
        let changes = changes_against_live(&manifest, &live, &tracked, compare_owners)?;
        units
            .request(&changes.restart, &changes.reload)
            .map_err(|e| Failure(format!("cannot request units to restart: {e}")))?;
        outcome.change_lines = lines(&manifest, &changes, true);
        return Ok(outcome);
    }
    mount::check_places(&layout).map_err(|e| Failure(e.to_string()))?;
    let _lock = lock::acquire(&layout.mount_point).map_err(|e| Failure(e.to_string()))?;
    mount::ensure(&layout)
        .map_err(|e| Failure(format!("failed to mount filesystem for secrets: {e}")))?;
    let live = generation::live(&layout).map_err(|e| Failure(e.to_string()))?;
    warn_elsewhere(&layout, &live, &mut outcome);
    let next = live.next().map_err(|e| Failure(e.to_string()))?;
    let staged = Staged::create(&layout, next)
        .map_err(|e| Failure(format!("failed to prepare new secrets directory: {e}")))?;
    write::write_all(&staged.dir, &new_files, &layout)
        .map_err(|e| Failure(format!("cannot write secrets: {e}")))?;
    let changes = changes_against_live(&manifest, &live, &tracked, compare_owners)?;
    units
        .request(&changes.restart, &changes.reload)
        .map_err(|e| Failure(format!("cannot request units to restart: {e}")))?;
    outcome.change_lines = lines(&manifest, &changes, false);
    let number = staged.number;
    swap::swap(&layout, &live, &staged.dir).map_err(|e| Failure(e.to_string()))?;
    staged.commit();
    links::apply(&layout, &wanted).map_err(|e| Failure(e.to_string()))?;
    prune::prune(&layout.mount_point, number, manifest.keep_generations)
        .map_err(|e| Failure(format!("cannot prune old secrets generations: {e}")))?;
    if matches!(live, Live::NotASymlink) {
        outcome.notes.push(format!(
            "replaced {}, which was not a symlink",
            layout.symlink_path.display()
        ));
    }
    Ok(outcome)
}

/// The validated manifest and a warning for each unknown field.
fn load_manifest(opts: &Options) -> Result<(manifest::Manifest, Vec<String>), Failure> {
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
fn invalid(opts: &Options, problems: validate::Problems) -> Failure {
    Failure(format!(
        "manifest {} is not valid: {problems}",
        opts.manifest_path.display()
    ))
}

/// A symlink path that points outside the mount point is left to be replaced, with a warning:
/// it is not a generation of ours, so nothing is compared with, walked or removed through it.
fn warn_elsewhere(layout: &Layout, live: &Live, outcome: &mut Outcome) {
    if let Live::Elsewhere(target) = live {
        outcome.notes.push(format!(
            "warning: {} points at {}, outside {}: not a generation of ours; it is replaced \
             and nothing it points at is read or removed",
            layout.symlink_path.display(),
            target.display(),
            layout.mount_point.display()
        ));
    }
}

/// Changes against the live generation, if there is one of ours (never against whatever a
/// foreign symlink or a real directory at the symlink path holds).
fn changes_against_live(
    m: &manifest::Manifest,
    live: &Live,
    tracked: &[Tracked<'_>],
    compare_owners: bool,
) -> Result<Changes, Failure> {
    let Live::Generation(_, dir) = live else {
        return Ok(Changes::default());
    };
    if m.user_mode {
        return Ok(Changes::default());
    }
    report::compare(dir, tracked, compare_owners)
        .map_err(|e| Failure(format!("cannot compare with the live secrets: {e}")))
}

fn lines(m: &manifest::Manifest, changes: &Changes, dry: bool) -> Vec<String> {
    if m.log_secret_changes {
        changes.lines(dry)
    } else {
        Vec::new()
    }
}

/// Imported ssh keys (with `keyImport` logging) and, always, every key source that could not
/// be used, so a missing plugin or key is visible before a file needs it.
fn key_notes(m: &manifest::Manifest, ids: &keys::Identities) -> Vec<String> {
    let problems = ids
        .problems()
        .iter()
        .map(|p| format!("warning: key source {} not used: {}", p.source, p.reason));
    if !m.log_key_import {
        return problems.collect();
    }
    let pgp = ids.pgp().iter().filter_map(|k| {
        let fp = k.fingerprint()?;
        Some(format!(
            "Imported {} as GPG key with fingerprint {}",
            k.source(),
            hex::encode(fp)
        ))
    });
    let age = ids
        .loaded()
        .iter()
        .filter(|l| {
            l.recipient.starts_with("age1")
                && m.age_ssh_key_paths
                    .iter()
                    .any(|p| l.source.starts_with(&*p.to_string_lossy()))
        })
        .map(|l| {
            format!(
                "Imported {} as age key with fingerprint {}",
                l.source.trim_end_matches(" (converted to age)"),
                l.recipient
            )
        });
    pgp.chain(age).chain(problems).collect()
}

fn custom_links(m: &manifest::Manifest, owners: &owners::Owners) -> Vec<links::Link> {
    let secrets = m.secrets.iter().zip(&owners.secrets).map(|(s, ids)| {
        let what = format!("secret {:?}", s.name);
        (what, &s.path, m.default_secret_path(&s.name), ids)
    });
    let templates = m.templates.iter().zip(&owners.templates).map(|(t, ids)| {
        let what = format!("template {:?}", t.name);
        (what, &t.path, m.default_template_path(&t.name), ids)
    });
    secrets
        .chain(templates)
        .filter(|(_, path, default, _)| manifest::normalize(path) != *default)
        .map(|(what, path, target, ids)| links::Link {
            owner_of: what,
            path: path.clone(),
            target,
            uid: ids.uid,
            gid: ids.gid,
        })
        .collect()
}
