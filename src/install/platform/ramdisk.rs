//! The macOS RAM disk as plain data: the command lines that make, mount, find and detach it
//! and the parsing of what those tools print. No process is started here, so all of it is
//! compiled and unit-tested on every platform; `macos.rs` runs the commands.
//!
//! What is run, in order (as sops-nix does on darwin): `hdiutil attach -nomount ram://SECTORS`
//! (an unbacked RAM device, printed as `/dev/diskN`), `newfs_hfs` on it, then `mount -t hfs`
//! with `nobrowse,nodev,nosuid,noexec` and mode 0751; `hdiutil detach` if a later step fails.
//! A mount point is reused when `mount` lists it as HFS with `nodev,nosuid` from a device
//! that `hdiutil info` says came from `ram://`. Every tool is called by absolute path, so a
//! PATH holding only age plugins cannot hide them (sops-nix #957).

#![cfg_attr(not(target_os = "macos"), allow(dead_code))]

use std::ffi::OsString;
use std::path::Path;

pub const HDIUTIL: &str = "/usr/bin/hdiutil";
pub const NEWFS_HFS: &str = "/sbin/newfs_hfs";
pub const MOUNT: &str = "/sbin/mount";

/// `hdiutil`'s `ram://` size unit.
pub const SECTOR_BYTES: u64 = 512;
/// Size of the RAM disk (as sops-nix: 64 MiB).
pub const SIZE_BYTES: u64 = 64 * 1024 * 1024;
/// Volume name given to the file system.
pub const VOLUME_NAME: &str = "sops-install-secrets";
/// Mount options: hidden from Finder, no devices, no setuid, no executables, mode 0751.
pub const MOUNT_OPTIONS: &str = "nobrowse,nodev,nosuid,noexec,-m=0751";

/// The number of 512-byte sectors holding `bytes` (rounded up, at least one).
pub fn sectors(bytes: u64) -> u64 {
    bytes.div_ceil(SECTOR_BYTES).max(1)
}

fn argv<I: IntoIterator<Item = S>, S: Into<OsString>>(parts: I) -> Vec<OsString> {
    parts.into_iter().map(Into::into).collect()
}

/// Attaches an unbacked RAM device of `sectors` sectors, without mounting anything.
pub fn attach_args(sectors: u64) -> Vec<OsString> {
    argv([
        HDIUTIL.to_string(),
        "attach".into(),
        "-nomount".into(),
        format!("ram://{sectors}"),
    ])
}

/// Makes a case-sensitive HFS+ volume on `device`.
pub fn newfs_args(device: &str) -> Vec<OsString> {
    argv([NEWFS_HFS, "-s", "-v", VOLUME_NAME, device])
}

/// Mounts `device` on `mount_point`.
pub fn mount_args(device: &str, mount_point: &Path) -> Vec<OsString> {
    let mut v = argv([MOUNT, "-t", "hfs", "-o", MOUNT_OPTIONS, device]);
    v.push(mount_point.as_os_str().to_owned());
    v
}

/// Detaches (and so frees) `device` after a failed format or mount.
pub fn detach_args(device: &str) -> Vec<OsString> {
    argv([HDIUTIL, "detach", "-force", device])
}

/// Lists the mounts (`mount` without arguments).
pub fn list_mounts_args() -> Vec<OsString> {
    argv([MOUNT])
}

/// Lists attached disk images and their devices.
pub fn info_args() -> Vec<OsString> {
    argv([HDIUTIL, "info"])
}

/// Whether `s` is a whole-disk device name `/dev/diskN`.
fn is_disk_device(s: &str) -> bool {
    s.strip_prefix("/dev/disk")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// `hdiutil attach` printed something other than a device (what it printed, trimmed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("hdiutil attach printed {0:?}, not a /dev/diskN device")]
pub struct NotADevice(pub String);

/// The device `hdiutil attach -nomount ram://…` made, from its output (`/dev/diskN` and
/// padding).
pub fn parse_attached_device(stdout: &str) -> Result<String, NotADevice> {
    let first = stdout.split_whitespace().next().unwrap_or("");
    if is_disk_device(first) {
        Ok(first.to_string())
    } else {
        Err(NotADevice(stdout.trim().to_string()))
    }
}

/// One line of `mount`'s listing: `DEVICE on MOUNT_POINT (TYPE, OPTION, …)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    pub device: String,
    pub fs_type: String,
    pub options: Vec<String>,
}

/// The entry mounted on `mount_point` (give the canonical path: `mount` prints
/// `/private/var/…` for `/var/…`); the last one wins when several are stacked.
pub fn mounted_on(listing: &str, mount_point: &Path) -> Option<MountEntry> {
    let wanted = mount_point.to_str()?;
    listing.lines().rev().find_map(|line| {
        let (device, rest) = line.split_once(" on ")?;
        let (on, tail) = rest.rsplit_once(" (")?;
        if on != wanted {
            return None;
        }
        let mut fields = tail.strip_suffix(')')?.split(", ");
        let fs_type = fields.next()?.to_string();
        Some(MountEntry {
            device: device.to_string(),
            fs_type,
            options: fields.map(str::to_string).collect(),
        })
    })
}

/// Whether `hdiutil info` lists `device` as attached from a `ram://` image.
pub fn is_ram_device(info: &str, device: &str) -> bool {
    let mut ram = false;
    let mut found = false;
    for line in info.lines() {
        if line.starts_with("====") {
            if ram && found {
                return true;
            }
            ram = false;
            found = false;
            continue;
        }
        if let Some((key, value)) = line.split_once(':') {
            if key.trim() == "image-path" {
                ram = value.trim().starts_with("ram://");
                continue;
            }
        }
        if line.split_whitespace().next() == Some(device) {
            found = true;
        }
    }
    ram && found
}

/// Whether the mount found on the mount point is a RAM disk of ours that can be reused.
pub fn reusable(entry: &MountEntry, info: &str) -> bool {
    let has = |o: &str| entry.options.iter().any(|x| x == o);
    entry.fs_type == "hfs"
        && has("nodev")
        && has("nosuid")
        && is_disk_device(&entry.device)
        && is_ram_device(info, &entry.device)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[OsString]) -> Vec<&str> {
        v.iter()
            .map(|s| s.to_str().unwrap_or("<non-utf8>"))
            .collect()
    }

    #[test]
    fn sizes_are_counted_in_512_byte_sectors_rounded_up() {
        assert_eq!(sectors(SIZE_BYTES), 131_072);
        assert_eq!(sectors(512), 1);
        assert_eq!(sectors(513), 2);
        assert_eq!(sectors(0), 1);
    }

    #[test]
    fn the_commands_name_their_tools_by_absolute_path() {
        assert_eq!(
            strings(&attach_args(131_072)),
            ["/usr/bin/hdiutil", "attach", "-nomount", "ram://131072"]
        );
        assert_eq!(
            strings(&newfs_args("/dev/disk4")),
            [
                "/sbin/newfs_hfs",
                "-s",
                "-v",
                "sops-install-secrets",
                "/dev/disk4"
            ]
        );
        assert_eq!(
            strings(&mount_args(
                "/dev/disk4",
                Path::new("/private/var/run/secrets.d")
            )),
            [
                "/sbin/mount",
                "-t",
                "hfs",
                "-o",
                "nobrowse,nodev,nosuid,noexec,-m=0751",
                "/dev/disk4",
                "/private/var/run/secrets.d"
            ]
        );
        assert_eq!(
            strings(&detach_args("/dev/disk4")),
            ["/usr/bin/hdiutil", "detach", "-force", "/dev/disk4"]
        );
        assert_eq!(strings(&list_mounts_args()), ["/sbin/mount"]);
        assert_eq!(strings(&info_args()), ["/usr/bin/hdiutil", "info"]);
        for args in [attach_args(1), newfs_args("/dev/disk1"), info_args()] {
            assert!(Path::new(&args[0]).is_absolute(), "{args:?}");
        }
    }

    #[test]
    fn the_attached_device_is_read_from_hdiutils_padded_output() {
        assert_eq!(
            parse_attached_device("/dev/disk4          \t\n").as_deref(),
            Ok("/dev/disk4")
        );
        assert_eq!(
            parse_attached_device("/dev/disk12\n").as_deref(),
            Ok("/dev/disk12")
        );
        for bad in [
            "",
            "\n",
            "hdiutil: attach failed\n",
            "/dev/disk\n",
            "/dev/disk4s1\n",
        ] {
            let e = parse_attached_device(bad).expect_err(bad);
            assert!(e.to_string().contains("not a /dev/diskN device"), "{e}");
        }
    }

    const LISTING: &str = "\
/dev/disk3s1s1 on / (apfs, sealed, local, read-only, journaled)
devfs on /dev (devfs, local, nobrowse)
/dev/disk3s5 on /System/Volumes/Data (apfs, local, journaled, nobrowse, protect)
/dev/disk4 on /private/var/run/secrets.d (hfs, local, nodev, nosuid, noexec, nobrowse, mounted by root)
/dev/disk5 on /Volumes/My (Disk) on here (hfs, local, nodev, nosuid, journaled)
";

    #[test]
    fn the_mount_on_a_mount_point_is_found_in_mounts_listing() {
        let e = mounted_on(LISTING, Path::new("/private/var/run/secrets.d"));
        assert_eq!(
            e,
            Some(MountEntry {
                device: "/dev/disk4".into(),
                fs_type: "hfs".into(),
                options: [
                    "local",
                    "nodev",
                    "nosuid",
                    "noexec",
                    "nobrowse",
                    "mounted by root"
                ]
                .map(String::from)
                .to_vec(),
            })
        );
        // Names with " on " and parentheses in them.
        let odd = mounted_on(LISTING, Path::new("/Volumes/My (Disk) on here"));
        assert_eq!(odd.map(|e| e.device), Some("/dev/disk5".to_string()));
        assert_eq!(mounted_on(LISTING, Path::new("/var/run/secrets.d")), None);
        assert_eq!(mounted_on(LISTING, Path::new("/private/var/run")), None);
    }

    const INFO: &str = "\
framework       : 671
driver          : 10.0
================================================
image-path      : /Users/alice/Downloads/tool.dmg
shadow-path     : <none>
image-type      : UDIF read-only compressed (zlib)
/dev/disk5\tGUID_partition_scheme\t
/dev/disk5s1\tApple_HFS\t/Volumes/tool
================================================
image-path      : ram://131072
shadow-path     : <none>
icon-path       : /System/Library/PrivateFrameworks/DiskImages.framework/Resources/CDiskImage.icns
image-type      : read/write
/dev/disk4\t                               \t
";

    #[test]
    fn only_devices_attached_from_ram_count_as_ram_disks() {
        assert!(is_ram_device(INFO, "/dev/disk4"));
        assert!(!is_ram_device(INFO, "/dev/disk5"));
        assert!(!is_ram_device(INFO, "/dev/disk5s1"));
        assert!(!is_ram_device(INFO, "/dev/disk41"));
        assert!(!is_ram_device("", "/dev/disk4"));
    }

    #[test]
    fn a_mount_is_reused_only_if_it_is_an_hfs_ram_disk_without_devices_and_setuid() {
        let ours = mounted_on(LISTING, Path::new("/private/var/run/secrets.d"));
        let Some(ours) = ours else {
            panic!("the listing has the mount")
        };
        assert!(reusable(&ours, INFO));
        let disk = MountEntry {
            device: "/dev/disk5".into(),
            ..ours.clone()
        };
        assert!(!reusable(&disk, INFO), "a disk image is persistent");
        let suid = MountEntry {
            options: vec!["local".into(), "nodev".into()],
            ..ours.clone()
        };
        assert!(!reusable(&suid, INFO));
        let apfs = MountEntry {
            fs_type: "apfs".into(),
            ..ours
        };
        assert!(!reusable(&apfs, INFO));
    }
}
