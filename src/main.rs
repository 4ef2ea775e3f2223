//! The `sops-install` command line: parse arguments, set up logging, run, map errors to exit
//! statuses. Everything else lives in the library.

#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use sops_install::commands::install::{self as installer, Invocation};
use sops_install::commands::{self, decrypt, host_check, initrd_secret, recipient, CommandError};
use sops_install::keys::user_places::UserPlaces;
use sops_install::report::escape::{escape, EscapingWriter};
use sops_install::sops::stores::Format;

/// Every heap block is wiped when it is freed. Our own buffers of key material and plaintext
/// wipe themselves (`SecretBytes`, `Zeroizing`), but dependencies do not always: age leaves
/// the decrypted data key and the parsed ssh key in buffers it frees (tests/wiping.rs finds
/// them). Zeroing on free covers those copies too, for a few microseconds per run.
#[global_allocator]
static ALLOCATOR: zeroizing_alloc::ZeroAlloc<std::alloc::System> =
    zeroizing_alloc::ZeroAlloc(std::alloc::System);

#[derive(Parser)]
#[command(
    name = "sops-install",
    version,
    about = "Decrypts sops files and installs their secrets"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print a sops file decrypted, exactly as `sops decrypt` does.
    Decrypt {
        /// The store of the input (default: from the file extension, binary otherwise).
        #[arg(long, value_enum)]
        input_type: Option<Format>,
        /// The store to print (default: the input type).
        #[arg(long, value_enum)]
        output_type: Option<Format>,
        /// Print only this part, in sops' syntax: '["key"]["nested"][0]'.
        #[arg(long)]
        extract: Option<String>,
        /// An age identity file (repeatable). Added to where sops looks: SOPS_AGE_KEY,
        /// SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD and the user config dir's sops/age/keys.txt
        /// ($XDG_CONFIG_HOME, else ~/.config; ~/Library/Application Support on macOS).
        #[arg(long = "age-key-file", value_name = "FILE")]
        age_key_files: Vec<PathBuf>,
        /// An OpenSSH private key, used natively and converted to age (repeatable). Added to
        /// SOPS_AGE_SSH_PRIVATE_KEY_FILE, SOPS_AGE_SSH_PRIVATE_KEY_CMD, ~/.ssh/id_ed25519 and
        /// ~/.ssh/id_rsa.
        #[arg(long = "ssh-key", value_name = "FILE")]
        ssh_keys: Vec<PathBuf>,
        /// An RSA ssh private key used as the PGP key ssh-to-pgp derives (repeatable).
        #[arg(long = "pgp-ssh-key", value_name = "FILE")]
        pgp_ssh_keys: Vec<PathBuf>,
        /// The GnuPG home gpg (SOPS_GPG_EXEC) uses for pgp entries (default: gpg's own,
        /// GNUPGHOME or ~/.gnupg).
        #[arg(long = "gnupg-home", value_name = "DIR")]
        gnupg_home: Option<PathBuf>,
        /// The sops file.
        file: PathBuf,
    },
    /// Print the recipients this host can open (to paste into .sops.yaml), or with --check,
    /// whether it can open the given sops files.
    Recipient {
        /// An OpenSSH private key (repeatable; default: /etc/ssh/ssh_host_ed25519_key and
        /// /etc/ssh/ssh_host_rsa_key when no source is given).
        #[arg(long = "ssh-key", value_name = "FILE")]
        ssh_keys: Vec<PathBuf>,
        /// An age identity file (repeatable).
        #[arg(long = "age-key-file", value_name = "FILE")]
        age_key_files: Vec<PathBuf>,
        /// Check the given sops files instead; exit status 1 if any cannot be opened.
        #[arg(long, requires = "files")]
        check: bool,
        /// The sops files to check (with --check).
        #[arg(requires = "check")]
        files: Vec<PathBuf>,
    },
    /// Exit 0 when the given recipients (age, ssh public key lines, PGP fingerprints) open the
    /// sops file, counting Shamir key groups; the modules' `hostRecipients` build check.
    HostCheck {
        /// A recipient of this host (repeatable).
        #[arg(long = "recipient", value_name = "RECIPIENT")]
        recipients: Vec<String>,
        /// The store of the file (default: from its extension, binary otherwise).
        #[arg(long, value_enum)]
        input_type: Option<Format>,
        /// The sops file.
        file: PathBuf,
    },
    /// Write one secret of a sops file to a file with an exact mode, for the initrd: what
    /// `sops.initrdSecrets` runs while the bootloader is installed. Keys as in activation.
    InitrdSecret(initrd_secret::InitrdSecretArgs),
    /// Print the OpenPGP key of an RSA ssh key, as ssh-to-pgp does (also run as `ssh-to-pgp`):
    /// -i KEY, -o OUT, -format auto|binary|armor, -private-key.
    #[command(name = "ssh-to-pgp", disable_help_flag = true)]
    SshToPgp {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
}

fn main() -> ExitCode {
    // Before any thread exists: no helper is ever looked up in the working directory.
    sops_install::keys::helper::sanitize_process_path();
    init_logging();
    let args: Vec<OsString> = std::env::args_os().collect();
    let program = args
        .first()
        .and_then(|a| Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sops-install".to_string());
    let is_subcommand = matches!(
        args.get(1).and_then(|a| a.to_str()),
        Some("decrypt" | "recipient" | "host-check" | "initrd-secret" | "help")
    );
    // `help` alone is the full help, as `--help`; `help decrypt` is clap's help of `decrypt`.
    let bare_help = args.len() == 2 && args.get(1).is_some_and(|a| a == "help");
    let result = if program == "ssh-to-pgp" {
        run_ssh_to_pgp(&args[1.min(args.len())..])
    } else if bare_help {
        print_full_help(&program)
    } else if args.get(1).is_some_and(|a| a == "ssh-to-pgp") {
        run_ssh_to_pgp(&args[2..])
    } else if is_subcommand {
        match Cli::try_parse() {
            Ok(cli) => run(cli),
            Err(e) => usage_error(&e, args.get(1)),
        }
    } else {
        run_installer(&program, &args[1.min(args.len())..])
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{program}: {}", escape(&e.message));
            ExitCode::from(u8::try_from(e.exit_code).unwrap_or(1))
        }
    }
}

/// A command line clap refuses: help and version print as clap prints them; anything else is
/// one line (clap's first), with where to look, and exit status 2.
fn usage_error(e: &clap::Error, subcommand: Option<&OsString>) -> Result<(), CommandError> {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        e.exit()
    }
    let rendered = e.render().to_string();
    // The first paragraph: the error and what it names (clap puts missing arguments on the
    // lines below it); usage and tips follow a blank line.
    let paragraph: Vec<&str> = rendered
        .lines()
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let joined = paragraph.join(" ");
    let first = joined.strip_prefix("error: ").unwrap_or(&joined);
    let first = if first.is_empty() {
        "invalid arguments"
    } else {
        first
    };
    let sub = subcommand
        .and_then(|s| s.to_str())
        .filter(|s| *s != "help")
        .map(|s| format!(" {s}"))
        .unwrap_or_default();
    Err(CommandError::new(
        2,
        format!("{first}; hint: see `sops-install{sub} --help`"),
    ))
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SOPS_INSTALL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| EscapingWriter(std::io::stderr()))
        .without_time()
        .with_target(false)
        .init();
}

fn run(cli: Cli) -> Result<(), CommandError> {
    match cli.command {
        Command::HostCheck {
            recipients,
            input_type,
            file,
        } => host_check::run(&host_check::HostCheckArgs {
            recipients,
            input_type,
            file,
        }),
        Command::SshToPgp { args } => run_ssh_to_pgp(&args),
        Command::InitrdSecret(args) => {
            let env = sops_install::keys::EnvKeys::from_process();
            sops_install::keys::helper::forget_key_variables();
            initrd_secret::run(&args, &env)
        }
        Command::Decrypt {
            input_type,
            output_type,
            extract,
            age_key_files,
            ssh_keys,
            pgp_ssh_keys,
            gnupg_home,
            file,
        } => {
            let args = decrypt::DecryptArgs {
                file,
                input_type,
                output_type,
                extract,
                age_key_files,
                ssh_keys,
                pgp_ssh_keys,
                gnupg_home,
                user_places: Some(UserPlaces::from_process()),
            };
            let env = decrypt::KeyEnv::from_process();
            sops_install::keys::helper::forget_key_variables();
            let (out, warnings) = decrypt::run(&args, &env)?;
            for w in warnings {
                eprintln!("sops-install: warning: {}", escape(&w));
            }
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(out.as_bytes())
                .and_then(|()| stdout.flush())
                .map_err(|e| {
                    commands::CommandError::new(1, format!("cannot write the output: {e}"))
                })
        }
        Command::Recipient {
            ssh_keys,
            age_key_files,
            check,
            files,
        } => {
            let args = recipient::RecipientArgs {
                ssh_keys,
                age_key_files,
                check: if check { files } else { Vec::new() },
            };
            let out = recipient::run(&args);
            if let Ok(o) = &out {
                for note in &o.notes {
                    eprintln!("sops-install: note: {}", escape(note));
                }
            }
            let out = out?;
            for line in out.stdout.lines() {
                println!("{}", escape(line));
            }
            if out.unopenable > 0 {
                return Err(CommandError::new(
                    1,
                    format!(
                        "{} of the {} files cannot be opened by this host",
                        out.unopenable,
                        args.check.len()
                    ),
                ));
            }
            Ok(())
        }
    }
}

/// The help of every form: the manifest form (sops-nix's command line), then the subcommands
/// and the manifest form's flags. On standard output, exit status 0, as `--help` is asked for.
fn full_help(program: &str) -> String {
    let usage = format!(
        "{}\n       {program} <COMMAND> [OPTIONS] [ARGS]   (see '{program} help <COMMAND>')",
        installer::usage_line(program)
    );
    Cli::command()
        .bin_name(program)
        .override_usage(usage)
        .after_help(installer::OPTIONS_HELP)
        .render_help()
        .to_string()
}

fn print_full_help(program: &str) -> Result<(), CommandError> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(full_help(program).as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| CommandError::new(1, format!("cannot write the help: {e}")))
}

/// ssh-to-pgp's command line (as `ssh-to-pgp …` or `sops-install ssh-to-pgp …`).
fn run_ssh_to_pgp(args: &[OsString]) -> Result<(), CommandError> {
    let args = commands::ssh_to_pgp::parse(args)?;
    if args.help {
        eprint!("{}", commands::ssh_to_pgp::USAGE);
        return Ok(());
    }
    // The fingerprint goes to stderr in lower case, as ssh-to-pgp prints it.
    let fingerprint = commands::ssh_to_pgp::run(&args)?;
    eprintln!("{}", fingerprint.to_lowercase());
    Ok(())
}

/// The sops-install-secrets form: `[-check-mode=…] [-ignore-passwd] manifest.json`.
fn run_installer(program: &str, args: &[OsString]) -> Result<(), CommandError> {
    let (manifest, check_mode, ignore_passwd) = match installer::parse(args)? {
        Invocation::Help => return print_full_help(program),
        Invocation::Version => {
            println!("sops-install {}", env!("CARGO_PKG_VERSION"));
            return Ok(());
        }
        Invocation::Install {
            manifest,
            check_mode,
            ignore_passwd,
        } => (manifest, check_mode, ignore_passwd),
    };
    let env_keys = sops_install::keys::EnvKeys::from_process();
    // Read once; no helper (gpg, a plugin, systemctl) inherits them.
    sops_install::keys::helper::forget_key_variables();
    let opts = sops_install::activation::Options {
        manifest_path: manifest,
        check_mode,
        ignore_passwd,
        dry: std::env::var("NIXOS_ACTION").is_ok_and(|v| v == "dry-activate"),
        via_systemctl: std::env::var("SOPS_RESTART_UNITS_VIA_SYSTEMCTL").is_ok_and(|v| v == "1"),
        nixos_run_dir: PathBuf::from("/run/nixos"),
        env_keys,
    };
    let outcome = installer::run(&opts)?;
    for note in &outcome.notes {
        eprintln!("{program}: {}", escape(note));
    }
    for line in &outcome.change_lines {
        println!("{}", escape(line));
    }
    // keepLastGoodOnFailure: installed, but one line per failing sops file and exit status 1.
    if let Some((last, rest)) = outcome.failed.split_last() {
        for line in rest {
            eprintln!("{program}: {}", escape(line));
        }
        return Err(CommandError::new(1, last.clone()));
    }
    Ok(())
}
