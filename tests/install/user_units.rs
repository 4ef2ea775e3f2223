//! home-manager's user mode restarts what changed (issue 18 item 4): `systemctl --user` is
//! asked to restart or reload the units of the secrets and templates whose content, owner or
//! mode changed, after the new generation is live, and never for unchanged ones. The user
//! runtime directory is a real ramfs; `systemctl` is a stand-in on an absolute PATH entry that
//! records its arguments and what the secret reads at that moment.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::harness::{fixtures, is_ramfs, secret, Env};
use crate::ns_test;

const PH: &str =
    "<SOPS:0000000000000000000000000000000000000000000000000000000000000000:PLACEHOLDER>";

struct UserEnv {
    env: Env,
    runtime: PathBuf,
    bin: PathBuf,
    log: PathBuf,
}

/// A ramfs at `dir`, mode 0700, as systemd makes `/run/user/UID` (Linux only: the installer
/// tests run as root on Linux; elsewhere they only have to build).
#[cfg(target_os = "linux")]
fn mount_ramfs(dir: &Path) {
    nix::mount::mount(
        Some("ramfs"),
        dir,
        Some("ramfs"),
        nix::mount::MsFlags::empty(),
        Some("mode=0700"),
    )
    .unwrap();
}

#[cfg(not(target_os = "linux"))]
fn mount_ramfs(dir: &Path) {
    panic!("{}: a ramfs needs Linux", dir.display());
}

impl UserEnv {
    fn new() -> UserEnv {
        let env = Env::new();
        let runtime = env.path("run-user-1000");
        std::fs::create_dir(&runtime).unwrap();
        mount_ramfs(&runtime);
        assert!(is_ramfs(&runtime));
        let bin = env.path("bin");
        std::fs::create_dir(&bin).unwrap();
        let log = env.path("systemctl.log");
        let live = env.path("home/.config/sops-nix/secrets");
        // Records the call and what the secret `a` reads when it is made.
        let script = format!(
            "#!/bin/sh\necho \"$*\" >> {log}\necho \"  a=$(cat {live}/a)\" >> {log}\n",
            log = log.display(),
            live = live.display()
        );
        std::fs::write(bin.join("systemctl"), script).unwrap();
        std::fs::set_permissions(
            bin.join("systemctl"),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        UserEnv {
            env,
            runtime,
            bin,
            log,
        }
    }

    fn manifest(&self) -> Value {
        let basic = fixtures().join("enc/basic.yaml");
        let mut a = secret("a", &basic, "db/password", "yaml");
        a["restartUnits"] = json!(["a.service", "shared.service"]);
        let mut b = secret("b", &basic, "api_key", "yaml");
        b["reloadUnits"] = json!(["b.service", "shared.service"]);
        let mut c = secret("c", &basic, "db/user", "yaml");
        c["restartUnits"] = json!(["c.service"]);
        let t = json!({
            "name": "t.conf", "content": format!("password={PH}\n"), "file": "", "path": "", "mode": "0400",
            "owner": null, "uid": 0, "group": null, "gid": 0, "restartUnits": ["t.service"], "reloadUnits": []
        });
        let mut m = self.env.manifest(json!([a, b, c]), json!([t]));
        m["placeholderBySecretName"] =
            json!({ "a": PH, "b": "<SOPS:1:PLACEHOLDER>", "c": "<SOPS:2:PLACEHOLDER>" });
        m["userMode"] = json!(true);
        m["secretsMountPoint"] = json!("%r/secrets.d");
        m["symlinkPath"] = json!(self.env.path("home/.config/sops-nix/secrets"));
        m
    }

    /// Installs `m` as home-manager's service would; returns the calls recorded by this run.
    fn install(&self, m: &Value) -> String {
        let _ = std::fs::remove_file(&self.log);
        let path = self.env.write_manifest(m);
        let path_var = format!("{}:/usr/bin:/bin", self.bin.display());
        let run = self.env.run_cmd(
            Command::new(env!("CARGO_BIN_EXE_sops-install"))
                .arg("-ignore-passwd")
                .arg(&path)
                .env("XDG_RUNTIME_DIR", &self.runtime)
                .env("PATH", path_var),
        );
        let run = run.ok();
        assert_eq!(
            run.stdout, "",
            "user mode prints no change lines, as sops-nix"
        );
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn live(&self, name: &str) -> PathBuf {
        std::fs::canonicalize(self.env.path("home/.config/sops-nix/secrets"))
            .unwrap()
            .join(name)
    }
}

fn set_mode(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
}

ns_test! {
    fn user_units_restart_after_content_owner_or_mode_changes_and_not_otherwise() {
        let u = UserEnv::new();
        let mut m = u.manifest();
        // The first activation has nothing to compare with: nothing is restarted.
        assert_eq!(u.install(&m), "");
        assert!(u.live("a").starts_with(&u.runtime), "the generation is in the runtime ramfs");
        // Unchanged: no call.
        assert_eq!(u.install(&m), "");

        // Content: a's key now names another value; restarted once the new value is live, with
        // the template that holds a's placeholder.
        m["secrets"][0]["key"] = json!("api_key");
        assert_eq!(u.install(&m), "--user --no-block try-restart -- a.service shared.service t.service\n  a=abc123\n");
        assert_eq!(u.install(&m), "");

        // Mode: b is reloaded (shared.service is asked for once, as a reload).
        m["secrets"][1]["mode"] = json!("0440");
        assert_eq!(u.install(&m), "--user --no-block try-reload-or-restart -- b.service shared.service\n  a=abc123\n");

        // Owner: the live c no longer belongs to the user running the installer.
        nix::unistd::chown(&u.live("c"), Some(nix::unistd::Uid::from_raw(4242)), Some(nix::unistd::Gid::from_raw(4242))).unwrap();
        assert_eq!(u.install(&m), "--user --no-block try-restart -- c.service\n  a=abc123\n");

        // A mode changed on the live file by hand counts too.
        set_mode(&u.live("c"), 0o600);
        assert_eq!(u.install(&m), "--user --no-block try-restart -- c.service\n  a=abc123\n");

        // A template's rendered content.
        m["templates"][0]["content"] = json!(format!("pw={PH}\n"));
        assert_eq!(u.install(&m), "--user --no-block try-restart -- t.service\n  a=abc123\n");

        // Several at once: restarts first, then reloads without the units already restarted.
        m["secrets"][0]["key"] = json!("db/password");
        m["secrets"][1]["mode"] = json!("0400");
        assert_eq!(
            u.install(&m),
            "--user --no-block try-restart -- a.service shared.service t.service\n  a=hunter2\n--user --no-block try-reload-or-restart -- b.service\n  a=hunter2\n"
        );
        assert_eq!(u.install(&m), "");
    }

    fn a_failing_user_systemctl_fails_the_run_in_one_line_with_the_secrets_live() {
        let u = UserEnv::new();
        let mut m = u.manifest();
        u.install(&m);
        std::fs::write(u.bin.join("systemctl"), "#!/bin/sh\necho 'Failed to connect to bus' >&2\nexit 1\n").unwrap();
        m["secrets"][0]["key"] = json!("api_key");
        let path = u.env.write_manifest(&m);
        let path_var = format!("{}:/usr/bin:/bin", u.bin.display());
        let run = u.env.run_cmd(
            Command::new(env!("CARGO_BIN_EXE_sops-install")).arg("-ignore-passwd").arg(&path).env("XDG_RUNTIME_DIR", &u.runtime).env("PATH", path_var),
        ).failed();
        let errors: Vec<&str> = run.stderr.lines().filter(|l| !l.starts_with("Failed to connect")).collect();
        assert_eq!(errors.len(), 1, "{}", run.stderr);
        assert!(errors[0].contains("cannot request units to restart: error running 'systemctl --user --no-block try-restart -- a.service shared.service t.service'"), "{}", run.stderr);
        assert_eq!(u.env.read(u.live("a")), "abc123", "the new secrets are live before units are asked for");
    }

    fn a_dry_run_in_user_mode_says_what_it_would_run_and_runs_nothing() {
        let u = UserEnv::new();
        let mut m = u.manifest();
        u.install(&m);
        m["secrets"][1]["mode"] = json!("0440");
        let path = u.env.write_manifest(&m);
        let path_var = format!("{}:/usr/bin:/bin", u.bin.display());
        let run = u.env.run_cmd(
            Command::new(env!("CARGO_BIN_EXE_sops-install")).arg("-ignore-passwd").arg(&path).env("XDG_RUNTIME_DIR", &u.runtime).env("PATH", path_var).env("NIXOS_ACTION", "dry-activate"),
        ).ok();
        assert!(run.stderr.contains("would run systemctl --user --no-block try-reload-or-restart -- b.service shared.service\n"), "{}", run.stderr);
        assert!(!u.log.exists(), "systemctl was run");
        assert_eq!(crate::harness::owner_mode(&u.live("b")).2, 0o400, "nothing was installed");
    }
}
