//! Reading the files a run is given (manifest, sops files, key files, template files) so that
//! a hostile or mistaken one cannot hang or exhaust the run.
//!
//! Each is opened with `O_NONBLOCK` (a FIFO cannot block the open), following symlinks (keys
//! under impermanence are legitimately symlinks), then `fstat`ed on the open descriptor:
//! anything but a regular file (FIFO, device, socket, directory) is refused before a byte is
//! read. `O_NONBLOCK` is then cleared and at most the documented limit is read; a larger file
//! is an error, never a silent truncation.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use nix::fcntl::{fcntl, FcntlArg, OFlag};

/// The largest sops file read (64 MiB).
pub const SOPS_FILE_MAX: u64 = 64 << 20;
/// The largest template file read (64 MiB).
pub const TEMPLATE_MAX: u64 = 64 << 20;
/// The largest key file read (age identities, ssh keys: 1 MiB).
pub const KEY_FILE_MAX: u64 = 1 << 20;
/// The largest manifest read (16 MiB).
pub const MANIFEST_MAX: u64 = 16 << 20;

/// Opens `path` for reading if it is a regular file (after following symlinks).
pub fn open_regular(path: &Path) -> io::Result<File> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC)
        .open(path)?;
    let kind = file.metadata()?.file_type();
    if !kind.is_file() {
        let what = if kind.is_fifo() {
            "a FIFO"
        } else if kind.is_char_device() || kind.is_block_device() {
            "a device"
        } else if kind.is_socket() {
            "a socket"
        } else if kind.is_dir() {
            "a directory"
        } else {
            "not a regular file"
        };
        return Err(io::Error::other(format!(
            "it is {what}, not a regular file; refusing to read it"
        )));
    }
    let flags = fcntl(&file, FcntlArg::F_GETFL).map_err(io::Error::from)?;
    let flags = OFlag::from_bits_truncate(flags) & !OFlag::O_NONBLOCK;
    fcntl(&file, FcntlArg::F_SETFL(flags)).map_err(io::Error::from)?;
    Ok(file)
}

/// Reads the regular file at `path`, at most `max` bytes (a larger file is an error). The
/// buffer is sized from the file's length up front, so it is not reallocated (and copied) as
/// it fills, which matters for key material.
pub fn read(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let file = open_regular(path)?;
    let len = file.metadata()?.len().min(max);
    let mut out = Vec::with_capacity(usize::try_from(len).unwrap_or(0).saturating_add(1));
    file.take(max.saturating_add(1)).read_to_end(&mut out)?;
    if out.len() as u64 > max {
        return Err(io::Error::other(format!(
            "it is larger than the limit of {} MiB for such files",
            max >> 20
        )));
    }
    Ok(out)
}

/// [`read`], as UTF-8 text.
pub fn read_to_string(path: &Path, max: u64) -> io::Result<String> {
    String::from_utf8(read(path, max)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "it is not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_is_refused_at_once_and_a_device_is_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let e = read(&fifo, KEY_FILE_MAX).unwrap_err().to_string();
        assert!(e.contains("a FIFO"), "{e}");
        let e = read(Path::new("/dev/zero"), KEY_FILE_MAX)
            .unwrap_err()
            .to_string();
        assert!(e.contains("a device"), "{e}");
        let e = read(dir.path(), KEY_FILE_MAX).unwrap_err().to_string();
        assert!(e.contains("directory"), "{e}");
    }

    #[test]
    fn symlinks_are_followed_and_the_limit_is_exact() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, vec![b'x'; 1024]).unwrap();
        let link = dir.path().join("l");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert_eq!(read(&link, 1024).unwrap().len(), 1024);
        let e = read(&link, 1023).unwrap_err().to_string();
        assert!(e.contains("larger than the limit"), "{e}");
    }
}
