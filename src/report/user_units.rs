//! User mode (home-manager): restarting and reloading the user's own units after their secrets
//! changed, with the change detection of the system mode (content, owner, mode).
//!
//! Asked for once the new generation is live, so a restarted unit reads the new secrets:
//! on Linux `systemctl --user --no-block try-restart` / `try-reload-or-restart` (the installer
//! runs as the user service `sops-nix`, which the units it restarts are often ordered after:
//! waiting for their jobs would deadlock); on macOS, where the entries are launchd labels,
//! `launchctl kickstart -k gui/<uid>/<label>` to restart and `launchctl kill SIGHUP
//! gui/<uid>/<label>` to reload. A unit asked for by several files is asked for once; a unit
//! both restarted and reloaded is only restarted. Dry runs print what would be done.

use super::{Changes, OwnerCheck, ReportError};

/// The owners compared in user mode: the files belong to the user who runs the installer
/// (nothing is chowned), so that user and group are the owners a live file must have.
pub fn owners() -> OwnerCheck {
    OwnerCheck::All {
        uid: nix::unistd::geteuid().as_raw(),
        gid: nix::unistd::getegid().as_raw(),
    }
}

/// How the units are reached on this platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Manager {
    /// `systemctl --user`.
    Systemd,
    /// `launchctl` in the user's GUI domain.
    Launchd,
}

impl Manager {
    pub fn here() -> Self {
        if cfg!(target_os = "macos") {
            Manager::Launchd
        } else {
            Manager::Systemd
        }
    }
}

/// Restarts and reloads the units of `changes` (see the module doc).
pub fn request(changes: &Changes, dry: bool) -> Result<(), ReportError> {
    let calls = calls(
        Manager::here(),
        nix::unistd::geteuid().as_raw(),
        &changes.restart,
        &changes.reload,
    );
    for (program, args) in calls {
        let shown = format!("{program} {}", args.join(" "));
        if dry {
            eprintln!("would run {shown}");
        } else {
            super::units::run(program, &args, &shown)?;
        }
    }
    Ok(())
}

/// The programs and arguments that restart `restart` and reload `reload`, in order.
pub fn calls(
    manager: Manager,
    uid: u32,
    restart: &[String],
    reload: &[String],
) -> Vec<(&'static str, Vec<String>)> {
    let restart = unique(restart.iter());
    let reload = unique(reload.iter().filter(|u| !restart.contains(u)));
    match manager {
        Manager::Systemd => [("try-restart", restart), ("try-reload-or-restart", reload)]
            .into_iter()
            .filter(|(_, units)| !units.is_empty())
            .map(|(verb, units)| {
                let mut args: Vec<String> = ["--user", "--no-block", verb, "--"]
                    .map(String::from)
                    .to_vec();
                args.extend(units.into_iter().cloned());
                ("systemctl", args)
            })
            .collect(),
        Manager::Launchd => {
            let target = |label: &String| format!("gui/{uid}/{label}");
            let restarts = restart
                .iter()
                .map(|l| ["kickstart".into(), "-k".into(), target(l)].to_vec());
            let reloads = reload
                .iter()
                .map(|l| ["kill".into(), "SIGHUP".into(), target(l)].to_vec());
            restarts.chain(reloads).map(|a| ("launchctl", a)).collect()
        }
    }
}

fn unique<'a>(units: impl Iterator<Item = &'a String>) -> Vec<&'a String> {
    let mut out: Vec<&String> = Vec::new();
    for u in units {
        if !out.contains(&u) {
            out.push(u);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn systemd_units_are_asked_for_once_without_blocking_and_restart_wins() {
        let got = calls(
            Manager::Systemd,
            1000,
            &names(&["a.service", "b.service", "a.service"]),
            &names(&["c.service", "a.service", "c.service"]),
        );
        assert_eq!(
            got,
            vec![
                (
                    "systemctl",
                    names(&[
                        "--user",
                        "--no-block",
                        "try-restart",
                        "--",
                        "a.service",
                        "b.service"
                    ])
                ),
                (
                    "systemctl",
                    names(&[
                        "--user",
                        "--no-block",
                        "try-reload-or-restart",
                        "--",
                        "c.service"
                    ])
                ),
            ]
        );
        assert!(calls(Manager::Systemd, 1000, &[], &[]).is_empty());
    }

    #[test]
    fn launchd_labels_are_kickstarted_or_sent_sighup_in_the_users_gui_domain() {
        let got = calls(
            Manager::Launchd,
            501,
            &names(&["org.nix-community.home.app"]),
            &names(&["org.nix-community.home.web", "org.nix-community.home.app"]),
        );
        assert_eq!(
            got,
            vec![
                (
                    "launchctl",
                    names(&["kickstart", "-k", "gui/501/org.nix-community.home.app"])
                ),
                (
                    "launchctl",
                    names(&["kill", "SIGHUP", "gui/501/org.nix-community.home.web"])
                ),
            ]
        );
    }
}
