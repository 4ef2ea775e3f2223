//! What differs between Linux and macOS in the install layer, behind one small API: mounting
//! the RAM filesystem for the generations, recognising one already mounted, holding directory
//! descriptors during the link walk, and reading a symlink's owner and target together.
//!
//! Everything Linux-only (ramfs/tmpfs, `MsFlags`, statfs magic numbers, `O_PATH`) lives in
//! `linux.rs`; the macOS RAM disk in `macos.rs`, with its argument building and output parsing
//! in `ramdisk.rs`, which is compiled and unit-tested on every platform.

use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::AtFlags;
use nix::sys::stat::{FileStat, SFlag};

use super::InstallError;

pub mod ramdisk;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub use linux::{is_secrets_fs, mount_secrets_fs, symlink_at, HOLD_DIR};

#[cfg(target_os = "macos")]
mod macos;
#[cfg(target_os = "macos")]
pub use macos::{is_secrets_fs, mount_secrets_fs, symlink_at, HOLD_DIR};

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
compile_error!("sops-install installs secrets on Linux and macOS only");

/// A name looked up in a held directory without following it.
#[derive(Debug)]
pub enum Entry {
    /// A symlink: its owner and target, read from the same inode.
    Symlink { uid: u32, target: PathBuf },
    /// Something that is not a symlink.
    Other,
    /// Gone or replaced while looked at: look again.
    Changed,
}

/// Whether `path` is the root of a mount (its device differs from its parent's, or it is `/`).
pub(crate) fn is_mount_point(path: &Path) -> Result<bool, InstallError> {
    let here = std::fs::metadata(path).map_err(|e| InstallError::io("cannot stat", path, e))?;
    let parent = path.parent().unwrap_or(Path::new("/"));
    let up = std::fs::metadata(parent).map_err(|e| InstallError::io("cannot stat", parent, e))?;
    Ok(here.dev() != up.dev() || here.ino() == up.ino())
}

/// Looks at `name` in `dir` without following it, for macOS (compiled and tested everywhere):
/// macOS cannot read a symlink through a descriptor, so the target is read by name and kept only if the name is the same inode,
/// with the same change time, before and after: a swap in between is looked at again.
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
pub fn symlink_at_by_name(dir: &OwnedFd, name: &OsStr) -> Result<Entry, Errno> {
    let look = || match nix::sys::stat::fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(st)),
        Err(Errno::ENOENT) => Ok(None),
        Err(e) => Err(e),
    };
    let Some(before) = look()? else {
        return Ok(Entry::Changed);
    };
    if SFlag::from_bits_truncate(before.st_mode) & SFlag::S_IFMT != SFlag::S_IFLNK {
        return Ok(Entry::Other);
    }
    let target = match nix::fcntl::readlinkat(dir, name) {
        Ok(t) => t,
        Err(Errno::ENOENT | Errno::EINVAL) => return Ok(Entry::Changed),
        Err(e) => return Err(e),
    };
    match look()? {
        Some(after) if same(&before, &after) => Ok(Entry::Symlink {
            uid: before.st_uid,
            target: PathBuf::from(target),
        }),
        _ => Ok(Entry::Changed),
    }
}

fn same(a: &FileStat, b: &FileStat) -> bool {
    (a.st_dev, a.st_ino, a.st_ctime, a.st_ctime_nsec, a.st_uid)
        == (b.st_dev, b.st_ino, b.st_ctime, b.st_ctime_nsec, b.st_uid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open_dir(p: &Path) -> OwnedFd {
        let flags = nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_DIRECTORY;
        nix::fcntl::open(p, flags, nix::sys::stat::Mode::empty()).expect("open temp dir")
    }

    #[test]
    fn by_name_a_symlink_gives_its_owner_and_target_and_anything_else_is_not_followed() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::os::unix::fs::symlink("../elsewhere", dir.path().join("link")).expect("symlink");
        std::os::unix::fs::symlink(dir.path().join("sub"), dir.path().join("to-dir"))
            .expect("symlink");
        std::fs::write(dir.path().join("file"), b"x").expect("file");
        std::fs::create_dir(dir.path().join("sub")).expect("dir");
        let fd = open_dir(dir.path());
        // The portable by-name reading (macOS) and this platform's own.
        type Look = fn(&OwnedFd, &OsStr) -> Result<Entry, Errno>;
        let both: [Look; 2] = [symlink_at_by_name, symlink_at];
        for look in both {
            let me = nix::unistd::geteuid().as_raw();
            match look(&fd, OsStr::new("link")) {
                Ok(Entry::Symlink { uid, target }) => {
                    assert_eq!(uid, me);
                    assert_eq!(target, PathBuf::from("../elsewhere"));
                }
                other => panic!("link: {other:?}"),
            }
            // A symlink to a directory is still the symlink, never the directory.
            match look(&fd, OsStr::new("to-dir")) {
                Ok(Entry::Symlink { target, .. }) => assert_eq!(target, dir.path().join("sub")),
                other => panic!("to-dir: {other:?}"),
            }
            for name in ["file", "sub"] {
                let got = look(&fd, OsStr::new(name));
                assert!(matches!(got, Ok(Entry::Other)), "{name}: {got:?}");
            }
            let got = look(&fd, OsStr::new("missing"));
            assert!(matches!(got, Ok(Entry::Changed)), "{got:?}");
        }
    }

    #[test]
    fn by_name_the_inode_must_be_unchanged_between_the_two_looks() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::os::unix::fs::symlink("a", dir.path().join("one")).expect("symlink");
        std::os::unix::fs::symlink("a", dir.path().join("two")).expect("symlink");
        let fd = open_dir(dir.path());
        let look =
            |n: &str| nix::sys::stat::fstatat(&fd, n, AtFlags::AT_SYMLINK_NOFOLLOW).expect("lstat");
        let one = look("one");
        assert!(same(&one, &look("one")));
        assert!(
            !same(&one, &look("two")),
            "another inode is another symlink"
        );
    }
}
