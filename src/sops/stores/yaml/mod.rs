//! The YAML store: reads and prints YAML exactly as sops 3.11 does with yaml.v3.
//!
//! `parse` turns the text into branches (one per document) with comments attached the way
//! yaml.v3 attaches them and scalars typed by yaml.v3's resolution rules; `emit` prints a tree
//! the way yaml.v3's encoder does with sops' settings (indent 4, unlimited width).

mod emit;
mod parse;
mod typing;

pub use emit::{emit_file, emit_value};
pub use parse::load;
