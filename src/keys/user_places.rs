//! Where `sops decrypt` looks for a user's own keys when no option names one: the age key file
//! in the user's configuration directory and the OpenSSH keys in `~/.ssh`.
//!
//! sops reads `sops/age/keys.txt` below Go's user configuration directory: `$XDG_CONFIG_HOME`
//! when set (it must be absolute on Linux), else `~/.config` on Linux and
//! `~/Library/Application Support` on macOS (where sops also honours `$XDG_CONFIG_HOME`
//! first). It tries `~/.ssh/id_ed25519` and `~/.ssh/id_rsa` when they exist. All of these are
//! added to whatever the options and variables name; none replaces another.

use std::path::PathBuf;

/// The file below the user configuration directory sops reads age identities from.
pub const AGE_KEYS_BELOW_CONFIG: &str = "sops/age/keys.txt";

/// The variables that decide the places, read once at start.
#[derive(Debug, Default, Clone)]
pub struct UserPlaces {
    /// `$HOME` (empty counts as unset).
    pub home: Option<PathBuf>,
    /// `$XDG_CONFIG_HOME` (empty counts as unset).
    pub xdg_config_home: Option<PathBuf>,
}

impl UserPlaces {
    pub fn from_process() -> UserPlaces {
        let non_empty = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        UserPlaces {
            home: non_empty("HOME"),
            xdg_config_home: non_empty("XDG_CONFIG_HOME"),
        }
    }

    /// The user configuration directory, or why there is none.
    pub fn config_dir(&self) -> Result<PathBuf, NoConfigDir> {
        if let Some(xdg) = &self.xdg_config_home {
            if cfg!(target_os = "macos") || xdg.is_absolute() {
                return Ok(xdg.clone());
            }
            return Err(NoConfigDir::RelativeXdg(xdg.clone()));
        }
        let home = self.home.as_ref().ok_or(NoConfigDir::Unset)?;
        Ok(if cfg!(target_os = "macos") {
            home.join("Library/Application Support")
        } else {
            home.join(".config")
        })
    }

    /// `<config dir>/sops/age/keys.txt`, or why there is none.
    pub fn age_keys_file(&self) -> Result<PathBuf, NoConfigDir> {
        self.config_dir().map(|d| d.join(AGE_KEYS_BELOW_CONFIG))
    }

    /// `~/.ssh/id_ed25519` and `~/.ssh/id_rsa`, in that order (none without a HOME).
    pub fn ssh_keys(&self) -> Vec<PathBuf> {
        self.home
            .iter()
            .flat_map(|h| ["id_ed25519", "id_rsa"].map(|n| h.join(".ssh").join(n)))
            .collect()
    }
}

/// Why there is no user configuration directory.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoConfigDir {
    #[error("XDG_CONFIG_HOME ({}) is a relative path", .0.display())]
    RelativeXdg(PathBuf),
    #[error("neither XDG_CONFIG_HOME nor HOME is set")]
    Unset,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn places(home: Option<&str>, xdg: Option<&str>) -> UserPlaces {
        UserPlaces {
            home: home.map(PathBuf::from),
            xdg_config_home: xdg.map(PathBuf::from),
        }
    }

    #[test]
    fn xdg_config_home_comes_first_then_home() {
        let p = places(Some("/home/u"), Some("/cfg"));
        assert_eq!(
            p.age_keys_file().unwrap(),
            PathBuf::from("/cfg/sops/age/keys.txt")
        );
        let p = places(Some("/home/u"), None);
        let expected = if cfg!(target_os = "macos") {
            "/home/u/Library/Application Support/sops/age/keys.txt"
        } else {
            "/home/u/.config/sops/age/keys.txt"
        };
        assert_eq!(p.age_keys_file().unwrap(), PathBuf::from(expected));
        assert_eq!(
            p.ssh_keys(),
            [
                PathBuf::from("/home/u/.ssh/id_ed25519"),
                PathBuf::from("/home/u/.ssh/id_rsa")
            ]
        );
    }

    #[test]
    fn no_home_means_no_place_and_says_why() {
        let p = places(None, None);
        assert!(p.age_keys_file().unwrap_err().to_string().contains("HOME"));
        assert!(p.ssh_keys().is_empty());
        if !cfg!(target_os = "macos") {
            assert!(places(Some("/h"), Some("rel"))
                .age_keys_file()
                .unwrap_err()
                .to_string()
                .contains("relative"));
        }
    }
}
