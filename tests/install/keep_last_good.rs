//! `keepLastGoodOnFailure`: a sops file that cannot be opened keeps its secrets' live bytes,
//! owner and mode while everything else is installed new; the run exits 1 with one line per
//! failing file; a secret with no previous value fails the run with nothing swapped; without
//! the option the run is all-or-nothing as before.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::harness::{age_recipient, fixtures, owner_mode, secret, Env};
use crate::ns_test;

const PH: &str =
    "<SOPS:1111111111111111111111111111111111111111111111111111111111111111:PLACEHOLDER>";

/// `a.yaml` (secrets "a1" as nobody:nogroup 0440 and "a2"), `b.yaml` (secret "b"), and a
/// template using "a1"; the option set.
fn manifest(env: &Env, keep: bool) -> Value {
    let a = env.path("a.yaml");
    let b = env.path("b.yaml");
    let mut a1 = secret("a1", &a, "one", "yaml");
    a1["owner"] = json!("nobody");
    a1["group"] = json!("nogroup");
    a1["mode"] = json!("0440");
    let a2 = secret("dir/a2", &a, "two", "yaml");
    let mut b1 = secret("b", &b, "value", "yaml");
    b1["restartUnits"] = json!(["b.service"]);
    let t = json!({
        "name": "app.conf", "content": format!("one={PH}\n"), "file": "", "path": "", "mode": "0400",
        "owner": null, "uid": 0, "group": null, "gid": 0, "restartUnits": [], "reloadUnits": []
    });
    let mut m = env.manifest(json!([a1, a2, b1]), json!([t]));
    m["placeholderBySecretName"] =
        json!({ "a1": PH, "dir/a2": PH.replace('1', "2"), "b": PH.replace('1', "3") });
    if keep {
        m["keepLastGoodOnFailure"] = json!(true);
    }
    m
}

/// Encrypts `plaintext` to the fixture key at `name` (replacing what is there).
fn encrypt(env: &Env, name: &str, plaintext: &str) -> PathBuf {
    let _ = std::fs::remove_file(env.path(name));
    env.sops_encrypt(name, plaintext)
}

/// A sops file only `keys/age2.txt` opens (the manifest's key is age1): no key opens it.
fn encrypt_to_other_key(env: &Env, name: &str, plaintext: &str) {
    let plain = env.path(&format!("plain-{name}"));
    std::fs::write(&plain, plaintext).expect("write plaintext");
    let out = Command::new("sops")
        .args([
            "encrypt",
            "--age",
            &age_recipient(&fixtures().join("keys/age2.txt")),
        ])
        .arg(&plain)
        .current_dir(env.root.path())
        .env("HOME", env.root.path())
        .output()
        .expect("sops runs");
    assert!(
        out.status.success(),
        "sops: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(env.path(name), out.stdout).expect("write");
    std::fs::remove_file(plain).expect("remove plaintext");
}

/// Changes the file's `lastmodified`: the MAC no longer matches.
fn break_mac(path: &Path) {
    let text = std::fs::read_to_string(path).expect("read sops file");
    let broken: Vec<String> = text
        .lines()
        .map(|l| match l.trim_start().starts_with("lastmodified:") {
            true => "    lastmodified: \"2001-01-01T00:00:00Z\"".to_string(),
            false => l.to_string(),
        })
        .collect();
    assert_ne!(
        broken.join("\n"),
        text.trim_end(),
        "a lastmodified line was changed"
    );
    std::fs::write(path, broken.join("\n") + "\n").expect("write");
}

fn stderr_lines(run: &crate::harness::Run) -> Vec<String> {
    run.stderr.lines().map(str::to_string).collect()
}

/// (bytes, uid, gid, mode) of a file of the live tree.
fn state(p: &Path) -> (String, (u32, u32, u32)) {
    (std::fs::read_to_string(p).expect("read"), owner_mode(p))
}

fn first_install(env: &Env, keep: bool) -> Value {
    encrypt(env, "a.yaml", "one: first-one\ntwo: first-two\n");
    encrypt(env, "b.yaml", "value: first-b\n");
    let m = manifest(env, keep);
    env.install(&m, &[]).ok();
    assert_eq!(env.read(env.symlink().join("a1")), "first-one");
    m
}

ns_test! {
    fn a_failing_file_keeps_bytes_owner_and_mode_of_its_secrets_while_the_others_change() {
        std::fs::create_dir_all("/run/nixos").unwrap();
        let env = Env::new();
        let mut m = first_install(&env, true);
        let a1 = env.symlink().join("a1");
        let a2 = env.symlink().join("dir/a2");
        let before = (state(&a1), state(&a2));
        assert_eq!(before.0 .1, (65534, 65534, 0o440));

        // A rotation mistake in a.yaml (its MAC no longer matches), a good change in b.yaml,
        // and a changed owner and mode for "a1" in the manifest: "a1" keeps what is live.
        encrypt(&env, "a.yaml", "one: second-one\ntwo: second-two\n");
        break_mac(&env.path("a.yaml"));
        encrypt(&env, "b.yaml", "value: second-b\n");
        m["secrets"][0]["owner"] = json!(null);
        m["secrets"][0]["group"] = json!(null);
        m["secrets"][0]["mode"] = json!("0400");
        let run = env.install(&m, &[]).failed();
        assert_eq!(run.status, 1);
        let lines = stderr_lines(&run);
        let a_path = env.path("a.yaml").display().to_string();
        let errors: Vec<&String> = lines.iter().filter(|l| !l.contains("Imported")).collect();
        assert_eq!(errors.len(), 1, "one line for the one failing file: {lines:?}");
        assert!(errors[0].contains(&a_path) && errors[0].contains("MAC") && errors[0].contains("keeping the previous values"), "{}", errors[0]);
        assert!(errors[0].contains("\"a1\"") && errors[0].contains("\"dir/a2\""), "names the secrets: {}", errors[0]);

        assert_eq!(env.live_generation(), env.mount_point().join("2"), "a new generation is live");
        assert_eq!((state(&a1), state(&a2)), before, "same bytes, owner and mode");
        assert_eq!(env.read(env.symlink().join("b")), "second-b");
        assert_eq!(env.read(env.symlink().join("rendered/app.conf")), "one=first-one\n", "templates use the kept value");
        // Only "b" changed: the change line and the restart list say so.
        assert_eq!(run.stdout_lines(), vec!["modifying secret: b"]);
        let restart = std::fs::read_to_string("/run/nixos/activation-restart-list").unwrap_or_default();
        assert_eq!(restart, "b.service\n");

        // Fixed: the next run installs the new values and succeeds.
        encrypt(&env, "a.yaml", "one: third-one\ntwo: third-two\n");
        env.install(&m, &[]).ok();
        assert_eq!(env.read(&a1), "third-one");
        assert_eq!(owner_mode(&a1), (0, 0, 0o400));
        assert_eq!(env.read(env.symlink().join("rendered/app.conf")), "one=third-one\n");
    }

    fn each_failing_file_has_its_own_line_whatever_the_reason() {
        let env = Env::new();
        let mut m = first_install(&env, true);
        let c = env.path("c.yaml");
        encrypt(&env, "c.yaml", "c: first-c\n");
        let d = env.path("d.yaml");
        encrypt(&env, "d.yaml", "d: first-d\n");
        let mut secrets = m["secrets"].as_array().unwrap().clone();
        secrets.push(secret("c", &c, "c", "yaml"));
        secrets.push(secret("d", &d, "d", "yaml"));
        m["secrets"] = json!(secrets);
        m["placeholderBySecretName"]["c"] = json!(PH.replace('1', "4"));
        m["placeholderBySecretName"]["d"] = json!(PH.replace('1', "5"));
        env.install(&m, &[]).ok();

        // a.yaml: no key opens it; b.yaml: gone; c.yaml: not a sops file; d.yaml: good.
        encrypt_to_other_key(&env, "a.yaml", "one: x\ntwo: y\n");
        std::fs::remove_file(env.path("b.yaml")).unwrap();
        std::fs::write(&c, "c: [not, sops\n").unwrap();
        encrypt(&env, "d.yaml", "d: second-d\n");
        let run = env.install(&m, &[]).failed();
        let lines = stderr_lines(&run);
        let errors: Vec<&String> = lines.iter().filter(|l| !l.contains("Imported")).collect();
        assert_eq!(errors.len(), 3, "one line per failing file: {lines:?}");
        for (file, secret) in [("a.yaml", "\"a1\""), ("b.yaml", "\"b\""), ("c.yaml", "\"c\"")] {
            let path = env.path(file).display().to_string();
            let line = errors.iter().find(|l| l.contains(&path)).unwrap_or_else(|| panic!("no line for {file}: {lines:?}"));
            assert!(line.contains(secret) && line.starts_with("sops-install: keeping the previous values: "), "{line}");
        }
        assert!(errors.iter().any(|l| l.contains("no loaded key can open it")), "{errors:?}");
        assert_eq!(env.read(env.symlink().join("a1")), "first-one");
        assert_eq!(env.read(env.symlink().join("b")), "first-b");
        assert_eq!(env.read(env.symlink().join("c")), "first-c");
        assert_eq!(env.read(env.symlink().join("d")), "second-d");
        assert_eq!(env.generations(), vec![3], "swapped and pruned as usual");
    }

    fn a_secret_without_a_previous_value_fails_the_run_and_nothing_is_swapped() {
        let env = Env::new();
        let mut m = first_install(&env, true);
        let live = env.live_generation();
        // A new secret "a3" from a.yaml, which now fails: "a1" and "dir/a2" could be kept,
        // "a3" cannot.
        encrypt(&env, "a.yaml", "one: second-one\ntwo: second-two\nthree: new\n");
        break_mac(&env.path("a.yaml"));
        encrypt(&env, "b.yaml", "value: second-b\n");
        let mut secrets = m["secrets"].as_array().unwrap().clone();
        secrets.push(secret("a3", &env.path("a.yaml"), "three", "yaml"));
        m["secrets"] = json!(secrets);
        m["placeholderBySecretName"]["a3"] = json!(PH.replace('1', "6"));
        let run = env.install(&m, &[]).failed();
        let errors: Vec<String> = stderr_lines(&run).into_iter().filter(|l| !l.contains("Imported")).collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("\"a3\" has no previous value to keep") && errors[0].contains("MAC"), "{}", errors[0]);
        assert_eq!(env.live_generation(), live, "nothing swapped");
        assert_eq!(env.generations(), vec![1], "nothing staged is left");
        assert_eq!(env.read(env.symlink().join("b")), "first-b", "not even the good file's values");

        // The first activation has nothing to keep at all.
        let fresh = Env::new();
        encrypt(&fresh, "a.yaml", "one: x\ntwo: y\n");
        break_mac(&fresh.path("a.yaml"));
        encrypt(&fresh, "b.yaml", "value: b\n");
        let run = fresh.install(&manifest(&fresh, true), &[]).failed();
        assert!(run.stderr.contains("has no previous value to keep"), "{}", run.stderr);
        assert!(std::fs::symlink_metadata(fresh.symlink()).is_err(), "no generation was made live");
    }

    fn a_previous_value_is_never_read_through_a_symlink() {
        let env = Env::new();
        first_install(&env, true);
        // Someone replaced the live "dir/a2" with a symlink to another file: it is not a
        // value of ours to keep, so a2's file failing fails the run.
        let elsewhere = env.path("elsewhere");
        std::fs::write(&elsewhere, "planted").unwrap();
        let a2 = env.live_generation().join("dir/a2");
        std::fs::remove_file(&a2).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &a2).unwrap();
        break_mac(&env.path("a.yaml"));
        let run = env.install(&manifest(&env, true), &[]).failed();
        assert!(run.stderr.contains("\"dir/a2\" has no previous value to keep"), "{}", run.stderr);
        assert_eq!(env.generations(), vec![1]);

        // The same through a symlinked directory.
        std::fs::remove_file(&a2).unwrap();
        std::fs::write(&a2, "first-two").unwrap();
        let dir = env.live_generation().join("dir");
        let moved = env.live_generation().join("moved-dir");
        std::fs::rename(&dir, &moved).unwrap();
        std::os::unix::fs::symlink(&moved, &dir).unwrap();
        let run = env.install(&manifest(&env, true), &[]).failed();
        assert!(run.stderr.contains("\"dir/a2\" has no previous value to keep"), "{}", run.stderr);
    }

    fn without_the_option_a_failing_file_fails_the_run_as_before() {
        let env = Env::new();
        let m = first_install(&env, false);
        let live = env.live_generation();
        break_mac(&env.path("a.yaml"));
        encrypt(&env, "b.yaml", "value: second-b\n");
        let run = env.install(&m, &[]).failed();
        let errors: Vec<String> = stderr_lines(&run).into_iter().filter(|l| !l.contains("Imported")).collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(!errors[0].contains("keeping"), "{}", errors[0]);
        assert_eq!(env.live_generation(), live, "nothing swapped");
        assert_eq!(env.read(env.symlink().join("b")), "first-b");
    }

    fn dry_activation_with_the_option_reports_the_failing_file_and_writes_nothing() {
        std::fs::create_dir_all("/run/nixos").unwrap();
        let env = Env::new();
        let m = first_install(&env, true);
        let live = env.live_generation();
        break_mac(&env.path("a.yaml"));
        encrypt(&env, "b.yaml", "value: second-b\n");
        let path = env.write_manifest(&m);
        let run = env.run_cmd(Command::new(env!("CARGO_BIN_EXE_sops-install")).arg(&path).env("NIXOS_ACTION", "dry-activate")).failed();
        assert_eq!(run.stdout_lines(), vec!["would modify secret: b"]);
        assert!(run.stderr.contains("keeping the previous values") && run.stderr.contains("a.yaml"), "{}", run.stderr);
        assert_eq!(env.live_generation(), live);
        assert_eq!(env.generations(), vec![1]);
    }

    fn in_user_mode_a_failing_file_keeps_its_values_too() {
        let env = Env::new();
        let runtime = env.path("run-user");
        std::fs::create_dir(&runtime).unwrap();
        encrypt(&env, "a.yaml", "one: first-one\ntwo: first-two\n");
        encrypt(&env, "b.yaml", "value: first-b\n");
        let a = secret("a1", &env.path("a.yaml"), "one", "yaml");
        let mut b = secret("b", &env.path("b.yaml"), "value", "yaml");
        b["mode"] = json!("0600");
        let mut m = env.manifest(json!([a, b]), json!([]));
        m["userMode"] = json!(true);
        m["secretsMountPoint"] = json!("%r/secrets.d");
        m["keepLastGoodOnFailure"] = json!(true);
        let path = env.write_manifest(&m);
        let run = |env: &Env| env.run_cmd(Command::new(env!("CARGO_BIN_EXE_sops-install")).arg(&path).env("XDG_RUNTIME_DIR", &runtime));
        run(&env).ok();
        encrypt(&env, "a.yaml", "one: second-one\ntwo: second-two\n");
        std::fs::remove_file(env.path("b.yaml")).unwrap();
        let out = run(&env).failed();
        assert!(out.stderr.contains("keeping the previous values") && out.stderr.contains("b.yaml"), "{}", out.stderr);
        assert_eq!(env.read(env.symlink().join("a1")), "second-one");
        assert_eq!(env.read(env.symlink().join("b")), "first-b");
        assert_eq!(owner_mode(&env.symlink().join("b")).2, 0o600);
        assert_eq!(std::fs::read_link(env.symlink()).unwrap(), runtime.join("secrets.d/2"));
    }

    fn a_kept_value_is_what_was_installed_never_what_its_owner_made_of_it_since() {
        use std::os::unix::fs::PermissionsExt;
        let env = Env::new();
        let m = first_install(&env, true);
        // "a1" is nobody's (0440): nobody may chmod the live file, as any owner can. Widening
        // it must not carry over into the next generation.
        let live_a1 = env.live_generation().join("a1");
        std::fs::set_permissions(&live_a1, std::fs::Permissions::from_mode(0o644)).unwrap();
        break_mac(&env.path("a.yaml"));
        let run = env.install(&m, &[]).failed();
        assert!(run.stderr.contains("keeping the previous values"), "{}", run.stderr);
        assert_eq!(env.generations(), vec![2]);
        let a1 = env.symlink().join("a1");
        assert_eq!(state(&a1), ("first-one".to_string(), (65534, 65534, 0o440)), "the mode as installed, not as widened");

        // The owner rewrites the live file (chmod u+w, write, chmod back). The next failing run
        // must neither keep those bytes nor render root's template from them.
        let live_a1 = env.live_generation().join("a1");
        std::fs::set_permissions(&live_a1, std::fs::Permissions::from_mode(0o640)).unwrap();
        std::fs::write(&live_a1, "planted").unwrap();
        std::fs::set_permissions(&live_a1, std::fs::Permissions::from_mode(0o440)).unwrap();
        let live = env.live_generation();
        let run = env.install(&m, &[]).failed();
        let errors: Vec<String> = stderr_lines(&run).into_iter().filter(|l| !l.contains("Imported")).collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("\"a1\" is not kept: its live file was changed after it was installed") && errors[0].contains("a.yaml"), "{}", errors[0]);
        assert_eq!(env.live_generation(), live, "nothing swapped");
        assert_eq!(env.read(env.symlink().join("rendered/app.conf")), "one=first-one\n");

        // A record someone else could write is not trusted: nothing is kept.
        let record = env.mount_point().join("last-good.json");
        assert_eq!(owner_mode(&record), (0, 0, 0o400), "the record is root's alone");
        std::fs::write(&live_a1, "first-one").unwrap();
        std::fs::set_permissions(&record, std::fs::Permissions::from_mode(0o602)).unwrap();
        let run = env.install(&m, &[]).failed();
        assert!(run.stderr.contains("last-good.json") && run.stderr.contains("only we can write"), "{}", run.stderr);
        assert_eq!(env.live_generation(), live, "nothing swapped");
    }

    fn a_generation_installed_without_the_option_has_no_values_to_keep() {
        let env = Env::new();
        let mut m = first_install(&env, false);
        assert!(std::fs::symlink_metadata(env.mount_point().join("last-good.json")).is_err(), "no record without the option");
        m["keepLastGoodOnFailure"] = json!(true);
        break_mac(&env.path("a.yaml"));
        let run = env.install(&m, &[]).failed();
        assert!(run.stderr.contains("has no previous value to keep"), "{}", run.stderr);
        assert_eq!(env.generations(), vec![1]);
    }
}
