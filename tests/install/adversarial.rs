//! An attacker's view of the install layer (issue 12): the caller's umask, a local user who
//! plants files where the installer will look (the link record, the lock file, the symlink
//! path), odd spellings of the live symlink, ids and counters at their limits. Each test
//! failed before the fix it guards.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::harness::{fixtures, secret, Env, Run};
use crate::ns_test;
use crate::plugin;

fn basic(name: &str) -> Value {
    secret(name, &fixtures().join("enc/basic.yaml"), "api_key", "yaml")
}

fn one_secret(env: &Env) -> Value {
    env.manifest(json!([basic("s")]), json!([]))
}

/// Runs the installer under `timeout`, so a run that would hang is killed (status 137).
fn bounded(env: &Env, m: &Value) -> Run {
    let manifest = env.write_manifest(m);
    env.run_cmd(
        Command::new("timeout")
            .args(["-s", "KILL", "30"])
            .arg(env!("CARGO_BIN_EXE_sops-install"))
            .arg(&manifest),
    )
}

/// Runs the installer with every symlink creation failing (EIO): the run fails after the new
/// generation is staged and before the swap.
fn failing_at_the_swap(env: &Env, m: &Value) -> Run {
    let manifest = env.write_manifest(m);
    env.run_cmd(
        Command::new("strace")
            .args(["-f", "-qq", "-o", "/dev/null"])
            .args(["-e", "trace=symlink,symlinkat"])
            .args(["-e", "inject=symlink,symlinkat:error=EIO"])
            .arg(env!("CARGO_BIN_EXE_sops-install"))
            .arg(&manifest),
    )
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p)
        .unwrap_or_else(|e| panic!("stat {}: {e}", p.display()))
        .mode()
        & 0o7777
}

/// A manifest that makes every kind of thing the installer creates: a nested secret
/// directory, a custom path and a symlink path and mount point below missing directories.
fn creating_everything(env: &Env) -> Value {
    let mut custom = basic("custom");
    custom["path"] = json!(env.path("var/lib/app/token"));
    let mut m = env.manifest(json!([basic("s"), basic("nested/deep"), custom]), json!([]));
    m["secretsMountPoint"] = json!(env.path("mnt/secrets.d"));
    m["symlinkPath"] = json!(env.path("run2/secrets"));
    m
}

/// The mode a creating call asks for, from one strace line (`None`: not a creating call).
fn requested_mode(line: &str) -> Option<Result<u32, String>> {
    let creating = line.contains("mkdir") || line.contains("O_CREAT") || line.contains("creat(");
    if !creating || line.contains("<unfinished") {
        return None;
    }
    let call = line
        .rsplit_once(" = ")
        .map_or(line, |(call, _)| call)
        .trim_end();
    let last = call.rsplit(", ").next().unwrap_or("").trim_end_matches(')');
    Some(u32::from_str_radix(last, 8).map_err(|_| line.to_string()))
}

ns_test! {
    // Item 1: under umask 0, no mkdir/open(O_CREAT) of a run asks for group or world write.
    fn creating_syscalls_never_ask_for_group_or_world_write() {
        let env = Env::new();
        let m = creating_everything(&env);
        let manifest = env.write_manifest(&m);
        let trace = env.path("trace");
        for _ in 0..2 {
            env.run_cmd(
                Command::new("sh")
                    .args(["-c", "umask 0; exec \"$@\"", "sh"])
                    .args(["strace", "-f", "-qq", "-o"])
                    .arg(&trace)
                    .args(["-e", "trace=mkdir,mkdirat,open,openat,openat2,creat"])
                    .arg(env!("CARGO_BIN_EXE_sops-install"))
                    .arg(&manifest),
            )
            .ok();
            let text = std::fs::read_to_string(&trace).expect("trace");
            let modes: Vec<Result<u32, String>> = text.lines().filter_map(requested_mode).collect();
            assert!(modes.iter().filter(|m| m.is_ok()).count() >= 3, "no creating call seen:\n{text}");
            for m in modes {
                let m = m.unwrap_or_else(|line| panic!("cannot read the mode of: {line}"));
                assert_eq!(m & 0o022, 0, "a creating call asked for mode {m:04o}:\n{text}");
            }
        }
    }

    // Item 1: the same scenario run under umask 000 gives exactly the modes it gives under 022.
    fn under_umask_000_every_made_directory_and_file_has_its_exact_mode() {
        let env = Env::new();
        let m = creating_everything(&env);
        let old = nix::sys::stat::umask(nix::sys::stat::Mode::empty());
        env.install(&m, &[]).ok();
        env.install(&m, &[]).ok();
        nix::sys::stat::umask(old);
        for dir in ["var", "var/lib", "var/lib/app", "mnt", "run2"] {
            assert_eq!(mode(&env.path(dir)), 0o755, "{dir}");
        }
        let gen = env.path("mnt/secrets.d/2");
        assert_eq!(mode(&gen), 0o751);
        assert_eq!(mode(&gen.join("nested")), 0o751);
        assert_eq!(mode(&gen.join("nested/deep")), 0o400);
        assert_eq!(mode(&env.path("mnt/secrets.d/custom-links.json")), 0o600);
        assert_eq!(mode(&env.path("mnt/.secrets.d.lock")), 0o600);
        assert_eq!(env.read(env.path("var/lib/app/token")), "abc123");
    }

    // Item 1: a link record another user could have written is not followed.
    fn a_links_record_someone_else_could_write_is_not_trusted() {
        for (owner, perm) in [(0, 0o666), (1234, 0o600)] {
            let env = Env::new();
            let mut custom = basic("custom");
            custom["path"] = json!(env.path("app/token"));
            let m = env.manifest(json!([custom]), json!([]));
            env.install(&m, &[]).ok();
            // The attacker's victim: a symlink root should never remove.
            let victim = env.path("victim");
            std::os::unix::fs::symlink("/target/x", &victim).expect("victim");
            let record = env.mount_point().join("custom-links.json");
            let forged = json!([{ "path": victim, "target": "/target/x", "uid": 0, "gid": 0 }]);
            std::fs::write(&record, forged.to_string()).expect("forge");
            std::os::unix::fs::chown(&record, Some(owner), None).expect("chown");
            std::fs::set_permissions(&record, std::os::unix::fs::PermissionsExt::from_mode(perm)).expect("chmod");
            let run = env.install(&m, &[]).ok();
            assert!(std::fs::symlink_metadata(&victim).is_ok(), "the victim link was removed ({owner}, {perm:o})");
            assert!(run.stderr.contains("not trusting"), "{}", run.stderr);
            assert_eq!(mode(&record), 0o600, "the record is rewritten, ours");
        }
    }

    // A FIFO or another user's file at the lock path: refused at once, no hang.
    fn a_fifo_or_a_foreign_lock_file_is_refused_without_hanging() {
        let env = Env::new();
        let lock = env.path(".secrets.d.lock");
        nix::unistd::mkfifo(&lock, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("mkfifo");
        let run = bounded(&env, &one_secret(&env)).failed();
        assert_eq!(run.status, 1, "{}", run.stderr);
        assert!(run.stderr.contains("lock file"), "{}", run.stderr);
        std::fs::remove_file(&lock).expect("rm");
        std::fs::write(&lock, "").expect("plant");
        std::os::unix::fs::chown(&lock, Some(1234), Some(1234)).expect("chown");
        let run = bounded(&env, &one_secret(&env)).failed();
        assert!(run.stderr.contains("lock file") && run.stderr.contains("owned by"), "{}", run.stderr);
        assert!(std::fs::symlink_metadata(env.symlink()).is_err(), "nothing was installed");
    }

    // Item 5: however the live link is spelt, a failure before the swap keeps its generation.
    fn every_spelling_of_the_live_link_keeps_the_live_generation_on_failure() {
        let env = Env::new();
        let m = one_secret(&env);
        env.install(&m, &[]).ok();
        let abs = env.mount_point();
        let spellings: Vec<PathBuf> = vec![
            "secrets.d/1".into(),
            "./secrets.d//1/".into(),
            "secrets.d/../secrets.d/1".into(),
            PathBuf::from(format!("{}//1", abs.display())),
            PathBuf::from(format!("{}/./1/", abs.display())),
        ];
        for spelt in &spellings {
            std::fs::remove_file(env.symlink()).expect("rm link");
            std::os::unix::fs::symlink(spelt, env.symlink()).expect("link");
            let run = failing_at_the_swap(&env, &m).failed();
            assert!(run.stderr.contains("symlink"), "{}", run.stderr);
            assert_eq!(&env.live_generation(), spelt, "the link is untouched");
            assert_eq!(env.read(env.symlink().join("s")), "abc123", "{}: live secrets gone", spelt.display());
            assert_eq!(env.generations(), vec![1], "{}", spelt.display());
        }
        // And a good run counts on from it.
        env.install(&m, &[]).ok();
        assert_eq!(env.live_generation(), abs.join("2"));
        assert_eq!(env.generations(), vec![2]);
    }

    // Item 5: a link out of the mount point (here `/`) is not ours: never walked or read.
    fn a_live_link_out_of_the_mount_point_is_neither_walked_nor_deleted_through() {
        let env = Env::new();
        std::os::unix::fs::symlink("/", env.symlink()).expect("link");
        let run = env.install(&one_secret(&env), &[]).ok();
        assert!(!run.stdout.contains("remov"), "walked /: {}", &run.stdout[..run.stdout.len().min(2000)]);
        assert!(run.stderr.contains("not a generation of ours"), "{}", run.stderr);
        assert_eq!(env.live_generation(), env.mount_point().join("1"));
        // A foreign directory it pointed at survives a failed run too.
        let foreign = env.path("foreign");
        std::fs::create_dir(&foreign).expect("mkdir");
        std::fs::write(foreign.join("s"), "theirs").expect("write");
        std::fs::remove_file(env.symlink()).expect("rm");
        std::os::unix::fs::symlink(&foreign, env.symlink()).expect("link");
        failing_at_the_swap(&env, &one_secret(&env)).failed();
        assert_eq!(env.read(foreign.join("s")), "theirs");
    }

    // Item 7: ids chown reads as "leave unchanged" are refused before anything is written.
    fn uid_or_gid_4294967295_is_refused() {
        for field in ["uid", "gid"] {
            let env = Env::new();
            let mut s = basic("s");
            s[field] = json!(4294967295u32);
            let run = env.install(&env.manifest(json!([s]), json!([])), &[]).failed();
            assert_eq!(run.status, 1);
            assert!(run.stderr.contains(field) && run.stderr.contains("4294967295"), "{}", run.stderr);
            assert!(std::fs::symlink_metadata(env.symlink()).is_err(), "nothing installed");
        }
    }

    // Item 7: the generation counter at u64::MAX does not wrap onto generation 0.
    fn the_generation_counter_at_its_maximum_fails_without_wrapping() {
        let env = Env::new();
        let m = one_secret(&env);
        env.install(&m, &[]).ok();
        let zero = env.mount_point().join("0");
        let max = env.mount_point().join(u64::MAX.to_string());
        for g in [&zero, &max] {
            std::fs::create_dir(g).expect("mkdir");
            std::fs::write(g.join("s"), "kept").expect("write");
        }
        std::fs::remove_file(env.symlink()).expect("rm");
        std::os::unix::fs::symlink(&max, env.symlink()).expect("link");
        let run = env.install(&m, &[]).failed();
        assert_eq!(run.status, 1, "{}", run.stderr);
        assert!(run.stderr.contains("maximum"), "{}", run.stderr);
        assert_eq!(env.read(zero.join("s")), "kept");
        assert_eq!(env.read(env.symlink().join("s")), "kept");
    }

    // Item 10: a real directory with content at the symlink path is never deleted.
    fn a_non_empty_directory_at_the_symlink_path_is_refused_and_kept() {
        let env = Env::new();
        std::fs::create_dir(env.symlink()).expect("mkdir");
        std::fs::write(env.symlink().join("precious"), "mine").expect("write");
        let run = env.install(&one_secret(&env), &[]).failed();
        assert!(run.stderr.contains("not empty"), "{}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(
            run.stderr.contains("; hint: move away what is at that path"),
            "{}",
            run.stderr
        );
        assert_eq!(env.read(env.symlink().join("precious")), "mine");
        assert!(env.generations().is_empty(), "the staged generation is removed");
        std::fs::remove_file(env.symlink().join("precious")).expect("rm");
        let run = env.install(&one_secret(&env), &[]).ok();
        assert!(run.stderr.contains("which was not a symlink"), "{}", run.stderr);
        assert_eq!(env.read(env.symlink().join("s")), "abc123");
    }
}

ns_test! {
    // Item 6: a FIFO or a device as an input fails at once, naming the file; no hang.
    fn fifo_and_device_inputs_fail_fast_and_name_the_file() {
        let env = Env::new();
        let fifo = env.path("fifo.yaml");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("mkfifo");
        // A sops file.
        let m = env.manifest(json!([secret("s", &fifo, "api_key", "yaml")]), json!([]));
        let run = bounded(&env, &m).failed();
        assert_eq!(run.status, 1, "{}", run.stderr);
        assert!(run.stderr.contains("fifo.yaml") && run.stderr.contains("FIFO"), "{}", run.stderr);
        // A key file: a FIFO, then /dev/zero (which would feed the run without end).
        for key in [fifo.clone(), PathBuf::from("/dev/zero")] {
            let mut m = one_secret(&env);
            m["ageKeyFile"] = json!(key);
            let run = bounded(&env, &m).failed();
            assert_eq!(run.status, 1, "{}", run.stderr);
            assert!(run.stderr.contains("not a regular file"), "{}", run.stderr);
        }
        // A template file.
        let mut t = json!({
            "name": "t", "content": "", "file": fifo, "path": "", "mode": "0400",
            "owner": null, "uid": 0, "group": null, "gid": 0, "restartUnits": [], "reloadUnits": []
        });
        t["file"] = json!(fifo);
        let mut m = env.manifest(json!([basic("s")]), json!([t]));
        m["placeholderBySecretName"] = json!({ "s": "<SOPS:0000000000000000000000000000000000000000000000000000000000000001:PLACEHOLDER>" });
        let run = bounded(&env, &m).failed();
        assert_eq!(run.status, 1, "{}", run.stderr);
        assert!(run.stderr.contains("FIFO"), "{}", run.stderr);
        assert!(std::fs::symlink_metadata(env.symlink()).is_err(), "nothing installed");
    }
}

/// An executable shell script at `path`.
fn script(path: &Path, body: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).expect("write script");
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod script");
}

/// A manifest whose one secret can only be opened by gpg (the fixture's pgp entry).
fn gpg_only(env: &Env) -> Value {
    let home = env.path("gnupg");
    std::fs::create_dir_all(&home).expect("gnupg home");
    let mut m = env.manifest(
        json!([secret(
            "s",
            &fixtures().join("enc/pgp+age.yaml"),
            "",
            "yaml"
        )]),
        json!([]),
    );
    m["gnupgHome"] = json!(home);
    m["ageKeyFile"] = Value::Null;
    m
}

ns_test! {
    // Item 9: with PATH='' a planted ./gpg or ./age-plugin-<name> in the working directory is
    // never run; the error names the program.
    fn helpers_planted_in_the_working_directory_are_never_run() {
        let env = Env::new();
        let cwd = env.path("cwd");
        std::fs::create_dir(&cwd).expect("mkdir");
        let ran = env.path("ran");
        for name in ["gpg", "age-plugin-sopstest", "systemctl"] {
            script(&cwd.join(name), &format!("echo {name} >> {}; exit 1", ran.display()));
        }
        let path = env.write_manifest(&gpg_only(&env));
        let run = env.run_cmd(
            Command::new(env!("CARGO_BIN_EXE_sops-install")).arg(&path).current_dir(&cwd).env("PATH", ""),
        ).failed();
        assert!(run.stderr.contains("gpg") && run.stderr.contains("PATH"), "{}", run.stderr);
        // A plugin identity only.
        let (_, secret_line, _) = plugin::age_keygen();
        let keys = env.path("keys.txt");
        std::fs::write(&keys, plugin::identity_for(&secret_line, None)).expect("keys");
        let mut m = one_secret(&env);
        m["ageKeyFile"] = json!(keys);
        let path = env.write_manifest(&m);
        let run = env.run_cmd(
            Command::new(env!("CARGO_BIN_EXE_sops-install")).arg(&path).current_dir(&cwd).env("PATH", ""),
        ).failed();
        assert!(run.stderr.contains("age-plugin-sopstest"), "{}", run.stderr);
        assert!(!ran.exists(), "ran from the working directory: {}", std::fs::read_to_string(&ran).unwrap_or_default());
    }

    // Item 11: gpg's output is capped (a data key is 32 bytes).
    fn a_gpg_that_floods_its_output_is_cut_off_with_a_named_error() {
        let env = Env::new();
        let gpg = env.path("flood-gpg");
        script(&gpg, "cat >/dev/null; head -c 1000000000 /dev/zero; head -c 100000000 /dev/zero >&2");
        let path = env.write_manifest(&gpg_only(&env));
        let run = env.run_cmd(
            Command::new("timeout").args(["-s", "KILL", "60"]).arg(env!("CARGO_BIN_EXE_sops-install")).arg(&path)
                .env("SOPS_GPG_EXEC", &gpg),
        ).failed();
        assert_eq!(run.status, 1, "{}", run.stderr);
        assert!(run.stderr.contains("flood-gpg -d printed more than 4096 bytes"), "{}", run.stderr);
    }

    // Item 11: a gpg that never answers is killed after SOPS_INSTALL_HELPER_TIMEOUT, named;
    // and gpg gets a small environment (no SOPS_AGE_KEY).
    fn a_gpg_that_never_answers_is_killed_and_named_and_sees_no_key_variables() {
        let env = Env::new();
        let gpg = env.path("silent-gpg");
        let seen = env.path("gpg-env");
        script(&gpg, &format!("env > {}; exec sleep 1000", seen.display()));
        let path = env.write_manifest(&gpg_only(&env));
        let (_, other_key, _) = plugin::age_keygen();
        let start = std::time::Instant::now();
        let run = env.run_cmd(
            Command::new("timeout").args(["-s", "KILL", "60"]).arg(env!("CARGO_BIN_EXE_sops-install")).arg(&path)
                .env("SOPS_GPG_EXEC", &gpg).env("SOPS_INSTALL_HELPER_TIMEOUT", "6")
                .env("SOPS_AGE_KEY", &other_key).env("SOME_SECRET_VAR", "x"),
        ).failed();
        assert_eq!(run.status, 1, "{}", run.stderr);
        assert!(start.elapsed() < std::time::Duration::from_secs(30));
        assert!(run.stderr.contains("waiting for") && run.stderr.contains("silent-gpg"), "{}", run.stderr);
        assert!(run.stderr.contains("silent-gpg -d did not finish within 6 s"), "{}", run.stderr);
        let env_text = std::fs::read_to_string(&seen).expect("gpg ran");
        assert!(env_text.contains("GNUPGHOME="), "{env_text}");
        for var in ["SOPS_AGE_KEY", "SOME_SECRET_VAR"] {
            assert!(!env_text.contains(var), "{var} reached gpg: {env_text}");
        }
    }
}

ns_test! {
    // Item 11: a plugin that never answers is named after 5 s and killed at the deadline; it
    // inherits no key variable.
    fn a_plugin_that_never_answers_is_killed_and_named_and_sees_no_key_variables() {
        let env = Env::new();
        let (_, secret_line, _) = plugin::age_keygen();
        let keys = env.path("keys.txt");
        std::fs::write(&keys, plugin::identity_for(&secret_line, None)).expect("keys");
        let bin = env.path("bin");
        std::fs::create_dir(&bin).expect("mkdir");
        let seen = env.path("plugin-env");
        // Reads the protocol and never answers (in the shell itself, with no child holding the pipes).
        script(&bin.join("age-plugin-sopstest"), &format!("env > {}; while read -r line; do :; done", seen.display()));
        let mut m = one_secret(&env);
        m["ageKeyFile"] = json!(keys);
        let path = env.write_manifest(&m);
        let (_, other_key, _) = plugin::age_keygen();
        let start = std::time::Instant::now();
        let run = env.run_cmd(
            Command::new("timeout").args(["-s", "KILL", "60"]).arg(env!("CARGO_BIN_EXE_sops-install")).arg(&path)
                .env("PATH", plugin::path_with(&bin)).env("SOPS_INSTALL_HELPER_TIMEOUT", "6")
                .env("SOPS_AGE_KEY", &other_key),
        ).failed();
        assert_eq!(run.status, 1, "{}", run.stderr);
        assert!(start.elapsed() < std::time::Duration::from_secs(30));
        assert!(run.stderr.contains("waiting for age-plugin-sopstest"), "{}", run.stderr);
        assert!(run.stderr.contains("age-plugin-sopstest did not finish within 6 s"), "{}", run.stderr);
        let env_text = std::fs::read_to_string(&seen).expect("the plugin ran");
        assert!(!env_text.contains("SOPS_AGE_KEY"), "{env_text}");
    }
}

ns_test! {
    // A mount point or symlink path in a directory another user controls is refused before
    // anything is mounted or written: she could swap the mount point for a symlink to /etc
    // just before root mounts over it, or put her own tree behind the secrets symlink.
    fn places_another_user_controls_are_refused() {
        let env = Env::new();
        let alice = env.path("alice");
        std::fs::create_dir(&alice).expect("mkdir");
        std::os::unix::fs::chown(&alice, Some(1234), Some(1234)).expect("chown");
        let open = env.path("open");
        std::fs::create_dir(&open).expect("mkdir");
        std::fs::set_permissions(&open, std::os::unix::fs::PermissionsExt::from_mode(0o777)).expect("chmod");
        for (field, place) in [
            ("secretsMountPoint", alice.join("secrets.d")),
            ("symlinkPath", alice.join("secrets")),
            ("secretsMountPoint", open.join("secrets.d")),
        ] {
            let mut m = one_secret(&env);
            m[field] = json!(place);
            let run = env.install(&m, &[]).failed();
            assert!(run.stderr.contains("refusing") && run.stderr.contains("someone other than root"), "{}", run.stderr);
            assert!(std::fs::read_dir(&alice).expect("ls").next().is_none(), "nothing made in alice's directory");
            assert!(std::fs::read_dir(&open).expect("ls").next().is_none(), "nothing made in the open directory");
        }
        // A sticky world-writable directory (like /tmp) is fine.
        std::fs::set_permissions(&open, std::os::unix::fs::PermissionsExt::from_mode(0o1777)).expect("chmod");
        let mut m = one_secret(&env);
        m["secretsMountPoint"] = json!(open.join("secrets.d"));
        env.install(&m, &[]).ok();
    }
}

/// A manifest whose one secret only a plugin identity could open, a directory for the fake
/// `age-plugin-sopstest`, and the manifest's path.
fn plugin_only(env: &Env) -> (PathBuf, PathBuf) {
    let (_, secret_line, _) = plugin::age_keygen();
    let keys = env.path("keys.txt");
    std::fs::write(&keys, plugin::identity_for(&secret_line, None)).expect("keys");
    let bin = env.path("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let mut m = one_secret(env);
    m["ageKeyFile"] = json!(keys);
    (env.write_manifest(&m), bin)
}

/// Whether process `pid` is gone (or a zombie nobody needs to kill).
fn gone(pid: &str) -> bool {
    for _ in 0..50 {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return true,
            Ok(stat)
                if stat
                    .rsplit_once(')')
                    .is_some_and(|(_, r)| r.trim_start().starts_with('Z')) =>
            {
                return true
            }
            Ok(_) => std::thread::sleep(std::time::Duration::from_millis(100)),
        }
    }
    false
}

ns_test! {
    // Item 11: a plugin that floods its output (one endless line, or endless protocol
    // messages, with standard error flooded too) is cut off with one error naming it, and the
    // installer's memory stays bounded: it runs with 256 MiB of data segment while the plugin
    // writes gigabytes.
    fn a_plugin_that_floods_its_output_is_cut_off_with_a_named_error() {
        let env = Env::new();
        let (manifest, bin) = plugin_only(&env);
        for (body, expected) in [
            (
                "head -c 300000000 /dev/zero >&2 & head -c 3000000000 /dev/zero",
                "age-plugin-sopstest wrote a line longer than 65536 bytes and was stopped",
            ),
            (
                "while :; do printf -- '-> msg\\nSGVsbG8\\n'; done",
                "age-plugin-sopstest wrote more than 1048576 bytes and was stopped",
            ),
            (
                "printf -- '-> msg\\n'; while :; do printf 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\\n'; done",
                "age-plugin-sopstest sent a msg body larger than 65536 bytes and was stopped",
            ),
        ] {
            script(&bin.join("age-plugin-sopstest"), body);
            let start = std::time::Instant::now();
            let run = env.run_cmd(
                Command::new("prlimit").arg("--data=268435456")
                    .args(["timeout", "-s", "KILL", "60"]).arg(env!("CARGO_BIN_EXE_sops-install")).arg(&manifest)
                    .env("PATH", plugin::path_with(&bin)),
            ).failed();
            assert_eq!(run.status, 1, "{body}: {}", run.stderr);
            assert!(run.stderr.contains(expected), "{body}: {}", run.stderr);
            assert!(start.elapsed() < std::time::Duration::from_secs(30), "{body}");
        }
    }

    // Item 11: a plugin that never answers, whether it waits itself or leaves a grandchild
    // holding the pipe and exits, is killed with its whole process group at
    // SOPS_INSTALL_HELPER_TIMEOUT, named; it sees none of the key variables.
    fn a_plugin_whose_grandchild_holds_the_pipe_is_killed_with_its_group() {
        let env = Env::new();
        let (manifest, bin) = plugin_only(&env);
        let other_keys = env.path("other-keys.txt");
        std::fs::write(&other_keys, plugin::age_keygen().0).expect("keys");
        let seen = env.path("plugin-env");
        let pid = env.path("grandchild");
        for tail in ["wait", "exit 0"] {
            script(
                &bin.join("age-plugin-sopstest"),
                &format!("env > {}; sleep 1000 & echo $! > {}; {tail}", seen.display(), pid.display()),
            );
            let start = std::time::Instant::now();
            let run = env.run_cmd(
                Command::new("timeout").args(["-s", "KILL", "60"]).arg(env!("CARGO_BIN_EXE_sops-install")).arg(&manifest)
                    .env("PATH", plugin::path_with(&bin)).env("SOPS_INSTALL_HELPER_TIMEOUT", "2")
                    .env("SOPS_AGE_KEY", plugin::age_keygen().1).env("SOPS_AGE_KEY_FILE", &other_keys)
                    .env("SOME_SECRET_VAR", "x"),
            ).failed();
            assert_eq!(run.status, 1, "{tail}: {}", run.stderr);
            assert!(start.elapsed() < std::time::Duration::from_secs(20), "{tail}");
            assert!(run.stderr.contains("age-plugin-sopstest did not finish within 2 s and was killed"), "{tail}: {}", run.stderr);
            let grandchild = std::fs::read_to_string(&pid).expect("the plugin ran");
            assert!(gone(grandchild.trim()), "{tail}: the plugin's grandchild {grandchild} survived");
            let env_text = std::fs::read_to_string(&seen).expect("the plugin ran");
            for var in ["SOPS_AGE_KEY", "SOME_SECRET_VAR"] {
                assert!(!env_text.contains(var), "{var} reached the plugin: {env_text}");
            }
        }
    }
}
