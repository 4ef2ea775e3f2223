//! One activation, stage after stage: `manifest` -> `keys` -> `sops` (decrypt) -> `render` ->
//! `install` (mount, generation, write, swap, link, prune) -> `report`.
//!
//! [`run`] is the whole pipeline, in that order; the small modules beside it hold what only the
//! pipeline needs: its [`Options`], its [`Outcome`], the manifest it loads, the per-run cache of
//! sops files, the key notes, the custom links and the change report. `commands::install` parses
//! the command line and calls [`run`], as `commands::decrypt` and `commands::recipient` call
//! theirs.

mod changes;
pub mod credentials;
mod custom_links;
pub mod keep_last_good;
mod key_notes;
mod load_manifest;
mod options;
mod outcome;
pub mod sops_files;

pub use options::{CheckMode, Options};
pub use outcome::{Failure, Outcome};

use crate::hint::Advised;
use crate::install::generation::{self, Live, Staged};
use crate::install::{self, links, lock, mount, prune, swap, write, Layout};
use crate::keys;
use crate::manifest::owners::{self, Lookup};
use crate::render;
use crate::report;
use changes::{changes_against_live, lines, warn_elsewhere};
use custom_links::custom_links;
use key_notes::key_notes;
use load_manifest::{invalid, load_manifest};

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
    // keepLastGoodOnFailure: every sops file is opened on its own below, a failing one kept.
    let keep = keep_last_good::wanted(&manifest, opts.check_mode == CheckMode::Off);
    let files = match keep {
        true => None,
        false => {
            let files = sops_files::parse_all(&manifest).map_err(|p| invalid(opts, p))?;
            files.check_keys(&manifest).map_err(|p| invalid(opts, p))?;
            Some(files)
        }
    };
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
            owners::resolve(&manifest, Lookup::AllRoot).map_err(|p| Failure::from_stage(&p))?,
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
    let layout = Layout {
        mount_point: manifest.secrets_mount_point.clone(),
        symlink_path: manifest.symlink_path.clone(),
        user_mode: manifest.user_mode,
        use_tmpfs: manifest.use_tmpfs,
        keys_gid: owners.keys_gid,
    };
    let (decrypted, mut kept) = match files {
        Some(files) => (
            files
                .decrypt_all(&manifest, &ids)
                .map_err(|e| Failure::hinted(&e, e.hint()))?,
            keep_last_good::Kept::default(),
        ),
        None => keep_last_good::open_each(&manifest, &ids, &layout)
            .map_err(|e| Failure::from_stage(&e))?,
    };
    outcome.failed.clone_from(&kept.failures);
    let kept_values = std::mem::take(&mut kept.values);
    let new_files = render::files::build_keeping(&owners, &decrypted, kept_values)
        .map_err(|e| Failure::from_stage(&e))?;
    let units = report::units::UnitRequests {
        dry: opts.dry,
        via_systemctl: opts.via_systemctl,
        nixos_run_dir: &opts.nixos_run_dir,
    };
    // Custom paths are checked before anything changes (and in dry-activate too), so a bad one
    // leaves the live generation in place instead of failing after the swap.
    let mut wanted = custom_links(&manifest, &owners);
    wanted.extend(credentials::links(&manifest));
    links::check(&layout, &wanted).map_err(|e| Failure::from_stage(&e))?;
    credentials::check_store(&manifest).map_err(|e| Failure::from_stage(&e))?;
    if opts.dry {
        let live = generation::live(&layout).map_err(|e| Failure::from_stage(&e))?;
        warn_elsewhere(&layout, &live, &mut outcome);
        let changes = changes_against_live(&manifest, &live, &new_files, compare_owners)?;
        if manifest.user_mode {
            report::user_units::request(&changes, true)
        } else {
            units.request(&changes.restart, &changes.reload)
        }
        .map_err(|e| Failure::during("cannot request units to restart", &e))?;
        outcome.change_lines = lines(&manifest, &changes, true);
        return Ok(outcome);
    }
    mount::check_places(&layout).map_err(|e| Failure::from_stage(&e))?;
    let _lock = lock::acquire(&layout.mount_point).map_err(|e| Failure::from_stage(&e))?;
    mount::ensure(&layout)
        .map_err(|e| Failure::during("failed to mount filesystem for secrets", &e))?;
    let live = generation::live(&layout).map_err(|e| Failure::from_stage(&e))?;
    warn_elsewhere(&layout, &live, &mut outcome);
    kept.check_still_live(&live)
        .map_err(|e| Failure::from_stage(&e))?;
    let next = live.next().map_err(|e| Failure::from_stage(&e))?;
    let staged = Staged::create(&layout, next)
        .map_err(|e| Failure::during("failed to prepare new secrets directory", &e))?;
    write::write_all(&staged.dir, &new_files, &layout)
        .map_err(|e| Failure::during("cannot write secrets", &e))?;
    credentials::write(&manifest, &new_files, &staged.dir, &layout)
        .map_err(|e| Failure::during("cannot write credentials", &e))?;
    keep_last_good::record(&manifest, &new_files, staged.number, &layout)
        .map_err(|e| Failure::from_stage(&e))?;
    let changes = changes_against_live(&manifest, &live, &new_files, compare_owners)?;
    if !manifest.user_mode {
        units
            .request(&changes.restart, &changes.reload)
            .map_err(|e| Failure::during("cannot request units to restart", &e))?;
    }
    outcome.change_lines = lines(&manifest, &changes, false);
    let number = staged.number;
    swap::swap(&layout, &live, &staged.dir).map_err(|e| Failure::from_stage(&e))?;
    staged.commit();
    links::apply(&layout, &wanted).map_err(|e| Failure::from_stage(&e))?;
    // User mode: the user's units are restarted once the new secrets are live.
    if manifest.user_mode {
        report::user_units::request(&changes, false)
            .map_err(|e| Failure::during("cannot request units to restart", &e))?;
    }
    prune::prune(&layout.mount_point, number, manifest.keep_generations)
        .map_err(|e| Failure::during("cannot prune old secrets generations", &e))?;
    if matches!(live, Live::NotASymlink) {
        outcome.notes.push(format!(
            "replaced {}, which was not a symlink",
            layout.symlink_path.display()
        ));
    }
    Ok(outcome)
}
