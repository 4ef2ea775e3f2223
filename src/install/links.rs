//! Symlinks at custom paths (`path = "/var/lib/app/secret"` -> `/run/secrets/app-secret`).
//!
//! Made after the swap so links into the live tree resolve to the new generation. In system
//! mode each link is built in a private temporary directory beside its final place, `lchown`ed
//! to the secret's owner there, then renamed into place: it is never visible with the wrong
//! owner, and a link already right (target and owner) is left alone; such directories left by a
//! killed run are removed by the next. The links a run made are
//! recorded on the secrets filesystem, so the next run removes the ones the manifest dropped.
//!
//! [`check`] runs before the swap: a link whose parent walks through a symlink someone else
//! owns (a non-root user could point it at any directory, and root would then create the link
//! there), through something that is not a directory, or whose place holds a non-empty
//! directory fails the run while the previous generation is still live.
//!
//! `ensure` repeats that walk (`walk`) holding each directory open and makes missing ones,
//! then does everything else relative to the held parent (`mkdirat`, `symlinkat`, `fchownat`,
//! `renameat`, `unlinkat`): a directory swapped for a symlink after the walk passed it cannot
//! move the link elsewhere. Stale links and dead runs' staging directories are removed the
//! same way.

mod walk;

use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{openat, readlinkat, renameat, AtFlags, OFlag};
use nix::sys::stat::{fstat, fstatat, mkdirat, Mode, SFlag};
use nix::unistd::{fchownat, symlinkat, unlinkat, Gid, Uid, UnlinkatFlags};
use serde::{Deserialize, Serialize};

use super::{Cause, InstallError, Layout};
use walk::HeldDir;

/// One wanted link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// `secret "name"` or `template "name"`, for messages (not recorded).
    #[serde(skip)]
    pub owner_of: String,
    pub path: PathBuf,
    pub target: PathBuf,
    pub uid: u32,
    pub gid: u32,
}

const RECORD: &str = "custom-links.json";

/// Creates or fixes every link, then removes links an earlier run made that are gone now.
pub fn apply(layout: &Layout, links: &[Link]) -> Result<(), InstallError> {
    let mut errors = Vec::new();
    for link in links {
        if let Err(e) = ensure(layout, link) {
            errors.push(e);
        }
    }
    remove_stale(layout, links);
    record(layout, links)?;
    match joined(errors) {
        None => Ok(()),
        Some(e) => Err(InstallError::new(
            e.cause,
            format!("failed to prepare symlinks to secret store: {}", e.message),
        )),
    }
}

/// Checks every link's parent directories without changing anything; one message for all.
pub fn check(layout: &Layout, links: &[Link]) -> Result<(), InstallError> {
    let errors: Vec<InstallError> = links
        .iter()
        .filter_map(|l| check_parents(layout, l).err())
        .collect();
    match joined(errors) {
        None => Ok(()),
        Some(e) => Err(e),
    }
}

/// Several links' errors as one (the first one's cause decides the advice).
fn joined(errors: Vec<InstallError>) -> Option<InstallError> {
    let cause = errors.first()?.cause;
    let text: Vec<String> = errors.into_iter().map(|e| e.message).collect();
    Some(InstallError::new(cause, text.join("; ")))
}

/// Every existing ancestor of the link must be a directory, or a symlink owned by root (or, in
/// user mode, by us) that leads to one (see [`walk`]); missing ancestors are fine: they will
/// be created. Nothing but an empty directory may be in the link's own place.
fn check_parents(layout: &Layout, link: &Link) -> Result<(), InstallError> {
    let name = link_name(link)?;
    let Some(parent) = walk::find_parent(layout, link)? else {
        return Ok(());
    };
    if occupied(&parent, name) {
        return Err(walk::fail(
            link,
            walk::Why::new(
                Cause::InTheWay,
                "a directory that is not empty is in the way",
            ),
        ));
    }
    Ok(())
}

/// The link's own name in its parent directory.
fn link_name(link: &Link) -> Result<&OsStr, InstallError> {
    link.path.file_name().ok_or_else(|| {
        walk::fail(
            link,
            walk::Why::new(Cause::Other, "the path does not end in a name"),
        )
    })
}

/// Whether `name` in `dir` is a directory with something in it (`place` only removes an
/// empty one).
fn occupied(dir: &HeldDir, name: &OsStr) -> bool {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let Ok(mut entries) = nix::dir::Dir::openat(&dir.fd, name, flags, Mode::empty()) else {
        return false;
    };
    let found = entries
        .iter()
        .flatten()
        .any(|e| ![&b"."[..], b".."].contains(&e.file_name().to_bytes()));
    found
}

/// Makes one link: walks to its parent holding each directory (creating missing ones), then
/// places the link through the held parent.
fn ensure(layout: &Layout, link: &Link) -> Result<(), InstallError> {
    let name = link_name(link)?;
    let parent = walk::open_parent(layout, link)?;
    place(layout, &parent, name, link)
}

/// The owner the link should have: the secret's, or ours in user mode (nothing is chowned).
fn wanted_owner(layout: &Layout, link: &Link) -> (u32, u32) {
    if layout.user_mode {
        (
            nix::unistd::geteuid().as_raw(),
            nix::unistd::getegid().as_raw(),
        )
    } else {
        (link.uid, link.gid)
    }
}

/// Puts the link at `name` in the held `dir`: built in a private staging directory made in
/// `dir`, chowned there, renamed into place. Every call is relative to a held descriptor.
fn place(layout: &Layout, dir: &HeldDir, name: &OsStr, link: &Link) -> Result<(), InstallError> {
    // Before the early return below: a run killed after its rename left the link right.
    remove_dead_staging(dir);
    if already_right(layout, dir, name, link)? {
        return Ok(());
    }
    let staging = Staging::create(dir)?;
    symlinkat(&link.target, &staging.fd, STAGED)
        .map_err(|e| InstallError::io("cannot create symlink", &staging.path(), walk::io(e)))?;
    if !layout.user_mode {
        let (uid, gid) = (Some(Uid::from_raw(link.uid)), Some(Gid::from_raw(link.gid)));
        fchownat(&staging.fd, STAGED, uid, gid, AtFlags::AT_SYMLINK_NOFOLLOW)
            .map_err(|e| InstallError::io("cannot chown symlink", &staging.path(), walk::io(e)))?;
    }
    renameat(&staging.fd, STAGED, &dir.fd, name)
        .map_err(|e| InstallError::io("cannot put the symlink at", &link.path, walk::io(e)))
}

/// Whether the link is there already with the right target and owner; an empty directory in
/// its place is removed.
fn already_right(
    layout: &Layout,
    dir: &HeldDir,
    name: &OsStr,
    link: &Link,
) -> Result<bool, InstallError> {
    let Ok(st) = fstatat(&dir.fd, name, AtFlags::AT_SYMLINK_NOFOLLOW) else {
        return Ok(false);
    };
    let kind = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
    if kind == SFlag::S_IFLNK {
        let same_target = readlinkat(&dir.fd, name).is_ok_and(|t| Path::new(&t) == link.target);
        return Ok(same_target && (st.st_uid, st.st_gid) == wanted_owner(layout, link));
    }
    if kind == SFlag::S_IFDIR {
        unlinkat(&dir.fd, name, UnlinkatFlags::RemoveDir).map_err(|e| {
            InstallError::io(
                "cannot override",
                &link.path,
                format!("{} (a directory is in the way)", walk::io(e)),
            )
        })?;
    }
    Ok(false)
}

/// Prefix of the private directory a link is built in: `<STAGING><pid>-<random>`.
const STAGING: &str = ".sops-install-link-";

/// The link's name inside its staging directory.
const STAGED: &str = "link";

/// A private directory (ours, mode 0700) in the link's parent; removed again when dropped.
struct Staging<'a> {
    parent: &'a HeldDir,
    name: String,
    fd: OwnedFd,
}

impl<'a> Staging<'a> {
    fn create(parent: &'a HeldDir) -> Result<Self, InstallError> {
        let fail = |e: std::io::Error| {
            InstallError::io("cannot create a temporary directory in", &parent.path, e)
        };
        let mut tries = 0;
        let name = loop {
            let name = format!("{STAGING}{}-{:016x}", std::process::id(), random());
            match mkdirat(&parent.fd, name.as_str(), Mode::from_bits_truncate(0o700)) {
                Ok(()) => break name,
                Err(Errno::EEXIST) if tries < 16 => tries += 1,
                Err(e) => return Err(fail(walk::io(e))),
            }
        };
        let flags = super::platform::HOLD_DIR;
        let fd = match openat(&parent.fd, name.as_str(), flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(e) => {
                let _ = unlinkat(&parent.fd, name.as_str(), UnlinkatFlags::RemoveDir);
                return Err(fail(walk::io(e)));
            }
        };
        let staging = Staging { parent, name, fd };
        // The parent's owner may rename entries: only a directory no one else can write to
        // is used (someone else's could not be ours; ours stays private).
        let private = fstat(&staging.fd).is_ok_and(|st| {
            st.st_uid == nix::unistd::geteuid().as_raw() && st.st_mode & 0o077 == 0
        });
        if !private {
            return Err(fail(std::io::Error::other(
                "it was replaced while being made",
            )));
        }
        Ok(staging)
    }

    fn path(&self) -> PathBuf {
        self.parent.path.join(&self.name).join(STAGED)
    }
}

impl Drop for Staging<'_> {
    fn drop(&mut self) {
        let _ = unlinkat(&self.fd, STAGED, UnlinkatFlags::NoRemoveDir);
        if let Err(e) = unlinkat(
            &self.parent.fd,
            self.name.as_str(),
            UnlinkatFlags::RemoveDir,
        ) {
            let path = self.parent.path.join(&self.name);
            tracing::warn!("cannot remove {}: {}", path.display(), walk::io(e));
        }
    }
}

/// 64 random bits for a staging name (std's per-process hash keys; unguessable enough that
/// another user cannot occupy the names in advance).
fn random() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

/// Staging directories of runs that were killed before they renamed their link into place
/// (their pid no longer exists). Those of live runs are left alone, whoever they are.
fn remove_dead_staging(dir: &HeldDir) {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    let Ok(mut entries) = nix::dir::Dir::openat(&dir.fd, ".", flags, Mode::empty()) else {
        return;
    };
    let dead: Vec<std::ffi::CString> = entries
        .iter()
        .flatten()
        .filter(|e| e.file_name().to_str().ok().is_some_and(of_a_dead_run))
        .map(|e| e.file_name().to_owned())
        .collect();
    for name in dead {
        remove_staging_at(dir, &name);
    }
}

/// Whether `name` is a staging directory name whose pid no longer exists.
fn of_a_dead_run(name: &str) -> bool {
    let Some(pid) = name
        .strip_prefix(STAGING)
        .and_then(|rest| rest.split('-').next())
        .and_then(|p| p.parse::<i32>().ok())
    else {
        return false;
    };
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) == Err(Errno::ESRCH)
}

/// Removes a staging directory of `dir`: its link, if still there, then the directory.
fn remove_staging_at(dir: &HeldDir, name: &std::ffi::CStr) {
    let flags = super::platform::HOLD_DIR;
    let Ok(fd) = openat(&dir.fd, name, flags, Mode::empty()) else {
        return;
    };
    let _ = unlinkat(&fd, STAGED, UnlinkatFlags::NoRemoveDir);
    if let Err(e) = unlinkat(&dir.fd, name, UnlinkatFlags::RemoveDir) {
        let path = dir.path.join(OsStr::from_bytes(name.to_bytes()));
        tracing::warn!("cannot remove {}: {}", path.display(), walk::io(e));
    }
}

fn record_path(layout: &Layout) -> PathBuf {
    layout.mount_point.join(RECORD)
}

fn remove_stale(layout: &Layout, links: &[Link]) {
    let path = record_path(layout);
    let text = match read_record(&path) {
        Ok(Some(text)) => text,
        Ok(None) => return,
        Err(why) => {
            tracing::warn!("not trusting {}: {why}", path.display());
            return;
        }
    };
    let Ok(old): Result<Vec<Link>, _> = serde_json::from_str(&text) else {
        return;
    };
    // Where the wanted links are, as (device, inode of the parent, name): a recorded link
    // spelt another way (`/var/run/…` for `/run/…`, a symlinked directory) is the same place,
    // not a stale link to remove right after it was made.
    let wanted: Vec<(u64, u64, &OsStr)> = links
        .iter()
        .filter_map(|l| {
            let name = l.path.file_name()?;
            let parent = walk::find_parent(layout, l).ok()??;
            let (dev, ino) = dev_ino(&parent)?;
            Some((dev, ino, name))
        })
        .collect();
    for stale in old
        .iter()
        .filter(|o| !links.iter().any(|l| l.path == o.path))
    {
        remove_if_ours(layout, stale, &wanted);
    }
}

/// Device and inode of a held directory.
fn dev_ino(dir: &HeldDir) -> Option<(u64, u64)> {
    let st = fstat(&dir.fd).ok()?;
    #[allow(clippy::useless_conversion)] // dev_t and ino_t differ between platforms
    Some((u64::try_from(st.st_dev).ok()?, u64::from(st.st_ino)))
}

/// The largest link record read (a record of thousands of links is far smaller).
const RECORD_MAX: u64 = 16 << 20;

/// The record of the last run, if there is one we wrote: a regular file (not through a
/// symlink), owned by us, writable by no one else. Anything else could tell root to delete a
/// symlink of someone else's choosing.
fn read_record(path: &Path) -> Result<Option<String>, UntrustedRecord> {
    use std::io::Read;
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let m = file.metadata()?;
    if !m.is_file() {
        return Err(UntrustedRecord::NotAFile);
    }
    if m.uid() != nix::unistd::geteuid().as_raw() || m.mode() & 0o022 != 0 {
        return Err(UntrustedRecord::Owner {
            uid: m.uid(),
            mode: m.mode() & 0o7777,
        });
    }
    let mut text = String::new();
    file.take(RECORD_MAX).read_to_string(&mut text)?;
    Ok(Some(text))
}

/// Why the link record of the last run is not used (a warning: no link is removed).
#[derive(Debug, thiserror::Error)]
enum UntrustedRecord {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("it is not a regular file")]
    NotAFile,
    #[error("it is owned by uid {uid} with mode {mode:04o}, not by us and writable only by us")]
    Owner { uid: u32, mode: u32 },
}

/// Removes a link an earlier run made, if it is still that link; found by the same walk as
/// links are made by, and removed through the held parent.
fn remove_if_ours(layout: &Layout, stale: &Link, wanted: &[(u64, u64, &OsStr)]) {
    let Some(name) = stale.path.file_name() else {
        return;
    };
    let parent = match walk::find_parent(layout, stale) {
        Ok(Some(parent)) => parent,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!("not removing the stale link {}: {e}", stale.path.display());
            return;
        }
    };
    let same_place =
        |&(dev, ino, n): &(u64, u64, &OsStr)| n == name && dev_ino(&parent) == Some((dev, ino));
    if wanted.iter().any(same_place) {
        return;
    }
    let is_link = fstatat(&parent.fd, name, AtFlags::AT_SYMLINK_NOFOLLOW)
        .is_ok_and(|st| SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFLNK);
    let ours = is_link && readlinkat(&parent.fd, name).is_ok_and(|t| Path::new(&t) == stale.target);
    if ours {
        if let Err(e) = unlinkat(&parent.fd, name, UnlinkatFlags::NoRemoveDir) {
            let e = walk::io(e);
            tracing::warn!("cannot remove the stale link {}: {e}", stale.path.display());
        }
    }
}

fn record(layout: &Layout, links: &[Link]) -> Result<(), InstallError> {
    let path = record_path(layout);
    let tmp = layout.mount_point.join(format!(".{RECORD}.new"));
    let text = serde_json::to_string(links)
        .map_err(|e| InstallError::new(Cause::Other, format!("cannot record links: {e}")))?;
    // Created afresh, 0600, never through a symlink: only we can change what the next run
    // trusts (see `read_record`).
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        match std::fs::remove_file(&tmp) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC)
            .open(&tmp)?;
        f.write_all(text.as_bytes())
    };
    write().map_err(|e| InstallError::io("cannot write", &tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| InstallError::io("cannot write", &path, e))
}

/// Scenarios of the link walk that need root (they chown directories to another user), run
/// by the installer integration tests inside a private mount namespace
/// (tests/install/link_walk.rs): a unit test here could not be reported as ignored when run
/// without root. Test support only; a failure panics.
#[doc(hidden)]
// Test code compiled into the library so the root-only runner can call it: a failed step is a
// failed test, so it may panic with unwrap/expect as any test does.
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub mod root_scenarios {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn system_layout() -> Layout {
        Layout {
            mount_point: PathBuf::from("/nonexistent/secrets.d"),
            symlink_path: PathBuf::from("/nonexistent/secrets"),
            user_mode: false,
            use_tmpfs: false,
            keys_gid: 0,
        }
    }

    // Another user (1234) owns a directory on the link's way. After the walk holds the
    // parent, she swaps it for a symlink to a directory of her choice; the link must still be
    // made in the held directory and nothing in hers. No timing: the swap happens between the
    // two halves of `ensure`. Needs root (as CI runs) for the chowns.
    pub fn a_directory_swapped_for_a_symlink_after_the_walk_cannot_redirect_the_link() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let home = tmp.path().join("home");
        let elsewhere = tmp.path().join("elsewhere");
        std::fs::create_dir_all(home.join("app")).expect("mkdir");
        std::fs::create_dir(&elsewhere).expect("mkdir");
        for dir in [&home, &home.join("app")] {
            std::os::unix::fs::chown(dir, Some(1234), Some(1234)).expect("chown (run as root)");
        }
        let link = Link {
            owner_of: "secret \"s\"".to_string(),
            path: home.join("app/token"),
            target: PathBuf::from("/run/secrets/s"),
            uid: 1000,
            gid: 1001,
        };
        let layout = system_layout();
        let parent = walk::open_parent(&layout, &link).expect("walk");

        std::fs::rename(home.join("app"), home.join("app-held")).expect("move away");
        std::os::unix::fs::symlink(&elsewhere, home.join("app")).expect("plant");
        std::os::unix::fs::lchown(home.join("app"), Some(1234), Some(1234)).expect("chown -h");
        let by_path =
            check(&layout, std::slice::from_ref(&link)).expect_err("a by-path check sees the swap");
        assert!(by_path.message.contains("owned by uid 1234"), "{by_path}");

        place(&layout, &parent, link_name(&link).expect("name"), &link).expect("place");
        let in_elsewhere: Vec<_> = std::fs::read_dir(&elsewhere)
            .expect("ls")
            .flatten()
            .collect();
        assert!(
            in_elsewhere.is_empty(),
            "made through the swapped path: {in_elsewhere:?}"
        );
        let made = home.join("app-held/token");
        let meta = std::fs::symlink_metadata(&made).expect("the link is in the held directory");
        assert!(meta.file_type().is_symlink());
        assert_eq!(
            (meta.uid(), meta.gid()),
            (1000, 1001),
            "owned like its secret"
        );
        assert_eq!(std::fs::read_link(&made).expect("readlink"), link.target);
        let names: Vec<_> = std::fs::read_dir(home.join("app-held"))
            .expect("ls")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(
            names,
            vec![OsStr::new("token")],
            "no staging directory is left"
        );
    }

    // The walk holds a symlink's directory, not its name: `..` in a relative target goes
    // back to the directory held before it, and a relative target is read from where the
    // symlink is.
    pub fn relative_symlink_targets_are_walked_from_the_held_directories() {
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(tmp.path().join("real/app")).expect("mkdir");
        std::fs::create_dir_all(tmp.path().join("var/lib")).expect("mkdir");
        std::os::unix::fs::symlink("../../real/app", tmp.path().join("var/lib/app"))
            .expect("symlink");
        let link = Link {
            owner_of: "secret \"s\"".to_string(),
            path: tmp.path().join("var/lib/app/new/token"),
            target: PathBuf::from("/run/secrets/s"),
            uid: 0,
            gid: 0,
        };
        let parent = walk::open_parent(&system_layout(), &link).expect("walk");
        let real = tmp
            .path()
            .canonicalize()
            .expect("real path")
            .join("real/app/new");
        assert_eq!(parent.path, real, "the held path has no symlinks");
        assert!(
            real.is_dir(),
            "the missing directory was made where the symlink leads"
        );
    }
}
