//! Putting decrypted secrets on disk: lock, mount, stage generation N+1, write, swap the
//! symlink, link custom paths, prune old generations.
//!
//! The new generation is staged beside the live one and removed again if anything fails
//! before the swap, so a failed run never disturbs the secrets services are using.

pub mod generation;
pub mod links;
pub mod lock;
pub mod mount;
pub mod platform;
pub mod prune;
pub mod swap;
pub mod write;

use std::path::PathBuf;

/// The umask every run sets before it creates anything: whatever the caller's umask, nothing
/// the installer makes is group- or world-writable, and every creating call already asks for
/// the final mode (so the umask only ever narrows, never decides).
pub const UMASK: nix::sys::stat::mode_t = 0o022;

/// Sets [`UMASK`] for this process (and the helpers it runs).
pub fn set_umask() {
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(UMASK));
}

/// Creates `dir` and its missing parents with mode 0755 (never 0777 less a caller's umask).
pub fn create_dirs(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dir)
}

/// Where and how the generations live.
#[derive(Debug, Clone)]
pub struct Layout {
    pub mount_point: PathBuf,
    pub symlink_path: PathBuf,
    pub user_mode: bool,
    pub use_tmpfs: bool,
    /// Group of the secrets directories (root in user mode, where nothing is chowned).
    pub keys_gid: u32,
}

/// An install step failed: the message names the step and the path; the cause decides the
/// advice.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct InstallError {
    pub message: String,
    pub cause: Cause,
}

/// Why an install step failed, as far as the advice depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// A system call failed with this errno.
    Errno(i32),
    /// A place could be changed by someone other than root (or the user, in user mode).
    Unsafe,
    /// Something that is not ours is where a file, directory or link must go.
    InTheWay,
    /// The lock beside the mount point cannot be taken.
    Lock(Option<i32>),
    /// Anything else (the message says what to do, or there is nothing to advise).
    Other,
}

/// An error value that may carry an errno (io and nix errors do, text does not).
pub trait ErrnoOf: std::fmt::Display {
    fn errno(&self) -> Option<i32> {
        None
    }
}

impl ErrnoOf for std::io::Error {
    fn errno(&self) -> Option<i32> {
        self.raw_os_error()
    }
}

impl ErrnoOf for nix::errno::Errno {
    fn errno(&self) -> Option<i32> {
        Some(*self as i32)
    }
}

impl ErrnoOf for String {}
impl ErrnoOf for &str {}

impl<T: ErrnoOf> ErrnoOf for &T {
    fn errno(&self) -> Option<i32> {
        (*self).errno()
    }
}

impl InstallError {
    pub fn new(cause: Cause, message: impl Into<String>) -> Self {
        InstallError {
            message: message.into(),
            cause,
        }
    }

    /// `what path: e`, with `e`'s errno as the cause.
    pub fn io(what: impl std::fmt::Display, path: &std::path::Path, e: impl ErrnoOf) -> Self {
        InstallError {
            message: format!("{what} {}: {e}", path.display()),
            cause: e.errno().map_or(Cause::Other, Cause::Errno),
        }
    }

    /// The same error with another cause (e.g. a lock step's errors are [`Cause::Lock`]).
    pub fn because(mut self, cause: Cause) -> Self {
        self.cause = cause;
        self
    }

    /// What to do about it.
    pub fn hint(&self) -> Option<crate::hint::Hint> {
        use nix::libc;
        let text = match self.cause {
            Cause::Errno(libc::ENOSPC) => {
                "the secrets filesystem is full: a tmpfs (sops.useTmpfs) is limited by its size \
                 (remount it larger: mount -o remount,size=… MOUNTPOINT) and a ramfs by free \
                 memory; or install fewer or smaller secrets"
            }
            Cause::Errno(libc::EROFS) => {
                "the filesystem is mounted read-only: remount it read-write (mount -o remount,rw \
                 …) or choose a writable path"
            }
            Cause::Errno(libc::EACCES | libc::EPERM) => {
                "run sops-install as root (in user mode, as the user who owns the paths)"
            }
            Cause::Errno(libc::ENOTDIR | libc::EEXIST | libc::ENOTEMPTY | libc::EISDIR)
            | Cause::InTheWay => {
                "move away what is at that path (it is not something sops-install made), or \
                 choose another path"
            }
            Cause::Errno(libc::ELOOP) => {
                "a symlink is where a directory must be: replace it by the directory, or choose \
                 another path"
            }
            Cause::Unsafe => {
                "make every directory on the way owned by root and not writable by others \
                 (chmod go-w), or choose another path"
            }
            Cause::Lock(_) => {
                "another activation may be running: wait for it to finish, then run again"
            }
            Cause::Errno(_) | Cause::Other => return None,
        };
        Some(crate::hint::Hint::new(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint_of(e: &InstallError) -> String {
        e.hint().map(|h| h.to_string()).unwrap_or_default()
    }

    #[test]
    fn the_errno_of_a_failed_call_decides_the_advice() {
        let at = std::path::Path::new("/run/secrets.d/1/big");
        let full = InstallError::io(
            "cannot write",
            at,
            std::io::Error::from_raw_os_error(nix::libc::ENOSPC),
        );
        assert!(full
            .to_string()
            .starts_with("cannot write /run/secrets.d/1/big: "));
        assert!(hint_of(&full).contains("size"), "{}", hint_of(&full));
        let ro = InstallError::io("cannot create", at, nix::errno::Errno::EROFS);
        assert!(hint_of(&ro).contains("remount,rw"), "{}", hint_of(&ro));
        let text = InstallError::io("cannot record", at, "plain text".to_string());
        assert_eq!(text.cause, Cause::Other);
        assert!(text.hint().is_none());
    }

    #[test]
    fn a_lock_that_cannot_be_taken_points_at_another_activation() {
        let e = InstallError::io(
            "cannot lock",
            std::path::Path::new("/run/.secrets.d.lock"),
            nix::errno::Errno::EINTR,
        )
        .because(Cause::Lock(Some(nix::libc::EINTR)));
        assert!(
            hint_of(&e).contains("another activation"),
            "{}",
            hint_of(&e)
        );
    }
}
