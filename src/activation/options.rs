//! What a run is asked to do: the command line and environment of one activation.

use std::path::PathBuf;

use crate::keys;

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
