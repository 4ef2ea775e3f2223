//! What changed compared with the live generation, the lines sops-nix prints about it, and the
//! units to restart or reload.

pub mod changes;
pub mod escape;
pub mod units;

pub use changes::{compare, Changes};
