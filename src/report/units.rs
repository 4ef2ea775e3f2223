//! Asking for units to be restarted or reloaded after their secrets changed.
//!
//! With `SOPS_RESTART_UNITS_VIA_SYSTEMCTL=1` (the systemd units) `systemctl --no-block
//! try-restart` / `try-reload-or-restart` are called (dry runs only print what would be
//! done); otherwise the units are appended to the lists `switch-to-configuration` reads,
//! `/run/nixos/activation-{restart,reload}-list` (or the `dry-activation-…` lists), when that
//! directory exists.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::Stdio;

use super::ReportError;

/// How units are asked for.
pub struct UnitRequests<'a> {
    pub dry: bool,
    pub via_systemctl: bool,
    /// Normally `/run/nixos`.
    pub nixos_run_dir: &'a Path,
}

impl UnitRequests<'_> {
    pub fn request(&self, restart: &[String], reload: &[String]) -> Result<(), ReportError> {
        if self.via_systemctl {
            if self.dry {
                for u in restart {
                    eprintln!("would restart {u}");
                }
                for u in reload {
                    eprintln!("would reload {u}");
                }
                return Ok(());
            }
            systemctl("try-restart", restart)?;
            return systemctl("try-reload-or-restart", reload);
        }
        let prefix = if self.dry {
            "dry-activation"
        } else {
            "activation"
        };
        append(
            &self.nixos_run_dir.join(format!("{prefix}-restart-list")),
            restart,
        )?;
        append(
            &self.nixos_run_dir.join(format!("{prefix}-reload-list")),
            reload,
        )
    }
}

fn systemctl(verb: &str, units: &[String]) -> Result<(), ReportError> {
    if units.is_empty() {
        return Ok(());
    }
    let shown = format!("systemctl --no-block {verb} -- {}", units.join(" "));
    // `--`: validation already refuses names starting with `-`; this keeps it so.
    let args: Vec<String> = ["--no-block", verb, "--"]
        .iter()
        .map(|a| a.to_string())
        .chain(units.iter().cloned())
        .collect();
    run("systemctl", &args, &shown)
}

/// Runs one call to systemctl (or launchctl); its output goes to stderr (escaped), a failure
/// is an error naming the call (`shown`).
pub(super) fn run(program: &str, args: &[String], shown: &str) -> Result<(), ReportError> {
    // Found through absolute PATH entries only (never the working directory), small env.
    let out = crate::keys::helper::command(std::ffi::OsStr::new(program))
        .map_err(|source| ReportError::NoSystemctl {
            shown: shown.to_string(),
            source,
        })?
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| ReportError::RunSystemctl {
            shown: shown.to_string(),
            source,
        })?;
    for text in [&out.stdout, &out.stderr] {
        for line in text.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            eprintln!("{}", super::escape::escape_bytes(line));
        }
    }
    if out.status.success() {
        Ok(())
    } else {
        Err(ReportError::Systemctl {
            shown: shown.to_string(),
            status: out.status,
        })
    }
}

fn append(list: &Path, units: &[String]) -> Result<(), ReportError> {
    if units.is_empty() || !list.parent().is_some_and(Path::is_dir) {
        return Ok(());
    }
    let mut f = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(list)
        .map_err(|source| ReportError::OpenList {
            path: list.to_path_buf(),
            source,
        })?;
    let text: String = units.iter().map(|u| format!("{u}\n")).collect();
    f.write_all(text.as_bytes())
        .map_err(|source| ReportError::WriteList {
            path: list.to_path_buf(),
            source,
        })
}
