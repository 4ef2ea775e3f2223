//! The subcommands behind the CLI, callable from tests. `main` only parses and dispatches.

pub mod decrypt;
pub mod host_check;
pub mod initrd_secret;
pub mod install;
pub mod recipient;
pub mod ssh_to_pgp;

/// A command's failure: the one line to print and the exit status.
#[derive(Debug)]
pub struct CommandError {
    pub message: String,
    pub exit_code: i32,
}

impl CommandError {
    pub fn new(exit_code: i32, message: impl Into<String>) -> Self {
        CommandError {
            message: message.into(),
            exit_code,
        }
    }
}
