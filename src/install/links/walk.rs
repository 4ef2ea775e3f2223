//! Walks a link's parent directories from `/` one component at a time, holding each directory
//! open (`platform::HOLD_DIR`: `O_PATH` on Linux, `O_RDONLY` on macOS, never through a
//! symlink) and looking up the next component relative to it, so the directory the link is
//! finally made in is the one the checks passed: a directory that is swapped for a symlink
//! after it was opened cannot redirect root anywhere else.
//!
//! Trust rule: a symlink met on the way must be owned by root (or, in user mode, by us); its
//! target is walked the same way, a relative one from the directory holding the symlink.
//! `..` goes back to the directory held before, never to whatever is the parent now.

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

use super::{InstallError, Layout, Link};
use crate::install::platform::{self, Entry};
use crate::install::Cause;

/// How a walk opens a directory: never through a symlink in the last component.
const DIR_FLAGS: OFlag = platform::HOLD_DIR;

/// Symlinks followed in one walk at most, as the kernel's own limit.
const MAX_HOPS: u32 = 40;

/// A directory reached by a walk, and the symlink-free path it was reached by (for messages).
#[derive(Debug)]
pub(super) struct HeldDir {
    pub fd: OwnedFd,
    pub path: PathBuf,
}

/// Why the walk to a link cannot go on: the text of the link's message, and the cause.
pub(super) struct Why {
    cause: Cause,
    text: String,
}

impl Why {
    pub(super) fn new(cause: Cause, text: impl Into<String>) -> Why {
        Why {
            cause,
            text: text.into(),
        }
    }

    fn errno(e: Errno, text: String) -> Why {
        Why::new(Cause::Errno(e as i32), text)
    }
}

/// Holds the link's parent directory, creating missing ones (owned by us, mode 0755).
pub(super) fn open_parent(layout: &Layout, link: &Link) -> Result<HeldDir, InstallError> {
    walk(layout, link, true)?.ok_or_else(|| {
        fail(
            link,
            Why::new(Cause::Other, "a directory vanished while made"),
        )
    })
}

/// Holds the link's parent directory if it exists; `None` when a component is missing (it
/// would be created). Changes nothing.
pub(super) fn find_parent(layout: &Layout, link: &Link) -> Result<Option<HeldDir>, InstallError> {
    walk(layout, link, false)
}

/// The error for `link`, in the one format every link message has.
pub(super) fn fail(link: &Link, why: Why) -> InstallError {
    InstallError::new(
        why.cause,
        format!(
            "{}: cannot link {}: {}",
            link.owner_of,
            link.path.display(),
            why.text
        ),
    )
}

/// Nix errors as io errors, so messages read like the rest of the installer's.
pub(super) fn io(e: Errno) -> std::io::Error {
    std::io::Error::from(e)
}

fn root() -> Result<HeldDir, Why> {
    let fd = nix::fcntl::open("/", DIR_FLAGS, Mode::empty())
        .map_err(|e| Why::errno(e, format!("cannot open /: {}", io(e))))?;
    Ok(HeldDir {
        fd,
        path: PathBuf::from("/"),
    })
}

fn walk(layout: &Layout, link: &Link, create: bool) -> Result<Option<HeldDir>, InstallError> {
    let parent = link.path.parent().unwrap_or(Path::new("/"));
    let mut todo = VecDeque::new();
    push_front(&mut todo, parent);
    let mut here = root().map_err(|why| fail(link, why))?;
    // What `..` returns to: the directories held on the way to `here`.
    let mut above: Vec<HeldDir> = Vec::new();
    let mut hops = 0;
    while let Some(part) = todo.pop_front() {
        match Path::new(&part).components().next() {
            Some(Component::RootDir) => {
                here = root().map_err(|why| fail(link, why))?;
                above.clear();
            }
            Some(Component::ParentDir) => {
                if let Some(up) = above.pop() {
                    here = up;
                }
            }
            Some(Component::Normal(name)) => {
                match step(layout, &here, name, create).map_err(|why| fail(link, why))? {
                    Step::Dir(next) => above.push(std::mem::replace(&mut here, next)),
                    Step::Symlink(target) => {
                        hops += 1;
                        if hops > MAX_HOPS {
                            let at = here.path.join(name);
                            return Err(fail(
                                link,
                                Why::errno(
                                    Errno::ELOOP,
                                    format!("too many symlinks at {}", at.display()),
                                ),
                            ));
                        }
                        push_front(&mut todo, &target);
                    }
                    Step::Missing => return Ok(None),
                }
            }
            _ => {}
        }
    }
    Ok(Some(here))
}

/// Puts `path`'s components before what is still to walk (a symlink's target goes first).
fn push_front(todo: &mut VecDeque<OsString>, path: &Path) {
    for c in path.components().rev() {
        todo.push_front(c.as_os_str().to_owned());
    }
}

enum Step {
    Dir(HeldDir),
    /// A trusted symlink's target, still to walk.
    Symlink(PathBuf),
    Missing,
}

/// Looks up `name` in `here`: a directory is opened (made first if missing and `create`), a
/// trusted symlink is read. A name that changes kind while looked at is looked at again.
fn step(layout: &Layout, here: &HeldDir, name: &OsStr, create: bool) -> Result<Step, Why> {
    let path = here.path.join(name);
    for _ in 0..3 {
        match nix::fcntl::openat(&here.fd, name, DIR_FLAGS, Mode::empty()) {
            Ok(fd) => return Ok(Step::Dir(HeldDir { fd, path })),
            Err(Errno::ENOENT) if !create => return Ok(Step::Missing),
            Err(Errno::ENOENT) => {
                match nix::sys::stat::mkdirat(&here.fd, name, Mode::from_bits_truncate(0o755)) {
                    Ok(()) | Err(Errno::EEXIST) => continue,
                    Err(e) => {
                        return Err(Why::errno(
                            e,
                            format!("cannot create {}: {}", path.display(), io(e)),
                        ))
                    }
                }
            }
            Err(Errno::ELOOP | Errno::ENOTDIR) => {}
            Err(e) => {
                return Err(Why::errno(
                    e,
                    format!("cannot open {}: {}", path.display(), io(e)),
                ))
            }
        }
        // Owner and target come from the same inode (see `platform::symlink_at`).
        let (uid, target) = match platform::symlink_at(&here.fd, name) {
            Ok(Entry::Symlink { uid, target }) => (uid, target),
            Ok(Entry::Changed) => continue,
            Ok(Entry::Other) => {
                return Err(Why::new(
                    Cause::InTheWay,
                    format!("{} is not a directory", path.display()),
                ))
            }
            Err(e) => {
                return Err(Why::errno(
                    e,
                    format!("cannot read {}: {}", path.display(), io(e)),
                ))
            }
        };
        if !trusted(layout, uid) {
            return Err(Why::new(
                Cause::Unsafe,
                format!(
                    "{} is a symlink owned by uid {uid}, who could point it anywhere; refusing to follow it",
                    path.display(),
                ),
            ));
        }
        return Ok(Step::Symlink(target));
    }
    Err(Why::new(
        Cause::Other,
        format!("{} keeps changing while looked at", path.display()),
    ))
}

/// Whose symlinks may be followed: root's, and in user mode our own.
fn trusted(layout: &Layout, uid: u32) -> bool {
    uid == 0 || (layout.user_mode && uid == nix::unistd::geteuid().as_raw())
}
