//! The `sops-install` command line (placeholder until the CLI lands).
fn main() {}
