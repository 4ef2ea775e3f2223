//! sops-install: decrypts sops files and installs their secrets at activation time.
//!
//! Data flows one way: manifest -> keys -> sops decrypt -> render -> install -> report.

#![forbid(unsafe_code)]

pub mod commands;
pub mod keys;
pub mod manifest;
pub mod secret_bytes;
pub mod sops;
