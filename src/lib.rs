//! sops-install: decrypts sops files and installs their secrets at activation time.
//!
//! Data flows one way, one module per stage: `manifest` -> `keys` -> `sops` (decrypt) ->
//! `render` -> `install` (mount, generation, write, swap, link, prune) -> `report`.
//! [`activation::run`] is the whole activation, in that order; `commands` are the CLI's
//! subcommands. `input_file` and `secret_bytes` are leaves every stage may use.

#![forbid(unsafe_code)]

pub mod activation;
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
