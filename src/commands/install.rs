//! The installer's command line, as sops-nix's modules call `sops-install-secrets`:
//! `[-check-mode=off|manifest|sopsfile] [-ignore-passwd] MANIFEST.json`, with Go `flag`
//! syntax (one or two dashes, `-flag=value` or `-flag value`, booleans alone or `=true`,
//! flags before the single positional argument). [`run`] then hands the parsed options to
//! [`crate::activation::run`].

use std::ffi::OsString;
use std::path::PathBuf;

use super::CommandError;
use crate::activation::{self, CheckMode, Options, Outcome};

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Invocation {
    Install {
        manifest: PathBuf,
        check_mode: CheckMode,
        ignore_passwd: bool,
    },
    Help,
    Version,
}

/// The manifest form's usage line (the subcommands have their own, from clap).
pub fn usage_line(program: &str) -> String {
    format!("{program} [-check-mode=off|manifest|sopsfile] [-ignore-passwd] MANIFEST.json")
}

/// The manifest form's flags, in the layout Go's `flag` package prints.
pub const OPTIONS_HELP: &str = "\
Options of the manifest form (sops-nix's sops-install-secrets command line):
  -check-mode string
        off (install), manifest (validate the manifest) or sopsfile (also parse every
        sops file and check every key, without private keys) (default \"off\")
  -ignore-passwd
        do not look up users and groups: everything is owned by root
  -h, -help, --help
        print this help
  -version, --version
        print the version
";

/// One activation as the command line asked; its failure is the command's (status 1).
pub fn run(opts: &Options) -> Result<Outcome, CommandError> {
    activation::run(opts).map_err(|e| CommandError::new(1, e.to_string()))
}

/// Parses the arguments after the program name.
pub fn parse(args: &[OsString]) -> Result<Invocation, CommandError> {
    let mut check_mode = CheckMode::Off;
    let mut ignore_passwd = false;
    let mut i = 0;
    while i < args.len() {
        let Some(arg) = args[i].to_str() else { break };
        if arg == "--" {
            i += 1;
            break;
        }
        let Some(flag) = arg
            .strip_prefix("--")
            .or_else(|| arg.strip_prefix('-'))
            .filter(|f| !f.is_empty() && !arg.starts_with("---"))
        else {
            break;
        };
        let (name, value) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (flag, None),
        };
        match name {
            "h" | "help" => return Ok(Invocation::Help),
            "version" | "V" => return Ok(Invocation::Version),
            "ignore-passwd" => {
                ignore_passwd = match value.as_deref() {
                    None | Some("true" | "1" | "t" | "T" | "TRUE" | "True") => true,
                    Some("false" | "0" | "f" | "F" | "FALSE" | "False") => false,
                    Some(v) => {
                        return Err(CommandError::new(
                            1,
                            format!("invalid boolean value {v:?} for -ignore-passwd"),
                        ))
                    }
                }
            }
            "check-mode" => {
                let v = match value {
                    Some(v) => v,
                    None => {
                        i += 1;
                        args.get(i)
                            .and_then(|a| a.to_str())
                            .map(str::to_string)
                            .ok_or_else(|| {
                                CommandError::new(1, "flag needs an argument: -check-mode")
                            })?
                    }
                };
                check_mode = match v.as_str() {
                    "off" => CheckMode::Off,
                    "manifest" => CheckMode::Manifest,
                    "sopsfile" => CheckMode::SopsFile,
                    other => {
                        return Err(CommandError::new(
                            1,
                            format!("invalid value {other:?} for -check-mode (expected off, manifest or sopsfile)"),
                        ))
                    }
                };
            }
            other => {
                return Err(CommandError::new(
                    1,
                    format!("flag provided but not defined: -{other}"),
                ))
            }
        }
        i += 1;
    }
    let rest = &args[i.min(args.len())..];
    match rest {
        [manifest] => Ok(Invocation::Install {
            manifest: PathBuf::from(manifest),
            check_mode,
            ignore_passwd,
        }),
        [] => Err(CommandError::new(
            1,
            "missing the manifest argument (see --help)",
        )),
        _ => Err(CommandError::new(
            1,
            format!(
                "expected one manifest argument, got {} (flags must come before the manifest)",
                rest.len()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Invocation, CommandError> {
        parse(&args.iter().map(OsString::from).collect::<Vec<_>>())
    }

    fn install(m: &str, check_mode: CheckMode, ignore_passwd: bool) -> Invocation {
        Invocation::Install {
            manifest: m.into(),
            check_mode,
            ignore_passwd,
        }
    }

    #[test]
    fn go_style_flags_parse_like_sops_nix_passes_them() {
        assert_eq!(
            p(&["m.json"]).unwrap(),
            install("m.json", CheckMode::Off, false)
        );
        assert_eq!(
            p(&["-check-mode=sopsfile", "m.json"]).unwrap(),
            install("m.json", CheckMode::SopsFile, false)
        );
        assert_eq!(
            p(&["--check-mode", "manifest", "m.json"]).unwrap(),
            install("m.json", CheckMode::Manifest, false)
        );
        assert_eq!(
            p(&["-ignore-passwd", "m.json"]).unwrap(),
            install("m.json", CheckMode::Off, true)
        );
        assert_eq!(
            p(&["-ignore-passwd=false", "m.json"]).unwrap(),
            install("m.json", CheckMode::Off, false)
        );
        assert_eq!(p(&["-h"]).unwrap(), Invocation::Help);
        assert_eq!(p(&["--version"]).unwrap(), Invocation::Version);
    }

    #[test]
    fn mistakes_are_errors_not_silent_successes() {
        assert!(p(&[]).is_err());
        assert!(p(&["a.json", "b.json"]).is_err());
        assert!(p(&["m.json", "-ignore-passwd"]).is_err());
        let e = p(&["-check-mode=bogus", "m.json"]).unwrap_err();
        assert!(e.message.contains("\"bogus\""));
        assert!(p(&["-x", "m.json"]).unwrap_err().message.contains("-x"));
    }
}
