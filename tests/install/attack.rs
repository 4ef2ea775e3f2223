//! Attacks on what issue 18 added that need root (other users' directories and symlinks):
//! `initrd-secret` refuses a destination another user could tamper with before the initrd is
//! built; a link whose path is respelt through a symlinked directory is not removed as stale
//! right after it was made.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::harness::{fixtures, owner_mode, secret, Env, Run};
use crate::ns_test;

/// `sops-install initrd-secret` writing `db/password` of the basic fixture to `out`.
fn initrd_secret(env: &Env, out: &Path) -> Run {
    env.run_cmd(
        Command::new(env!("CARGO_BIN_EXE_sops-install"))
            .arg("initrd-secret")
            .arg("--sops-file")
            .arg(fixtures().join("enc/basic.yaml"))
            .args(["--key", "db/password", "--mode", "0400", "--age-key-file"])
            .arg(fixtures().join("keys/age1.txt"))
            .arg("--out")
            .arg(out),
    )
}

fn dir(env: &Env, name: &str, uid: u32, mode: u32) -> std::path::PathBuf {
    let d = env.path(name);
    std::fs::create_dir(&d).unwrap();
    std::os::unix::fs::chown(&d, Some(uid), Some(uid)).unwrap();
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode)).unwrap();
    d
}

ns_test! {
    fn initrd_secret_refuses_a_destination_another_user_could_replace() {
        let env = Env::new();
        // The test root is a private 0700 directory: open it, as the way to /tmp is.
        std::fs::set_permissions(env.root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        // Writable by others without the sticky bit, or owned by another user (who could
        // chmod it): the secret could be moved away and replaced before the initrd is built.
        for (name, uid, mode) in [("open", 0, 0o777), ("group", 0, 0o770), ("hers", 1234, 0o755)] {
            let d = dir(&env, name, uid, mode);
            let run = initrd_secret(&env, &d.join("key"));
            let line = run.stderr.trim_end();
            assert!(run.status == 1 && !line.contains('\n') && line.contains("lets another user replace the written secret") && line.contains(&d.display().to_string()), "{name}: {line}");
            assert!(std::fs::symlink_metadata(d.join("key")).is_err(), "{name}: nothing written");
        }
        // Below such a directory too (she can rename "sub" away).
        let sub = env.path("open/sub");
        std::fs::create_dir(&sub).unwrap();
        let run = initrd_secret(&env, &sub.join("key"));
        assert!(run.status == 1 && run.stderr.contains("lets another user replace"), "{}", run.stderr);
        // A symlink on the way owned by another user, even to a good directory.
        let good = dir(&env, "good", 0, 0o755);
        let hers = env.path("her-link");
        std::os::unix::fs::symlink(&good, &hers).unwrap();
        nix::unistd::fchownat(nix::fcntl::AT_FDCWD, &hers, Some(1234.into()), Some(1234.into()), nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW).unwrap();
        let run = initrd_secret(&env, &hers.join("sub/key"));
        assert!(run.status != 0, "{}", run.stderr);
        std::fs::create_dir(good.join("sub")).unwrap();
        std::fs::set_permissions(good.join("sub"), std::fs::Permissions::from_mode(0o755)).unwrap();
        let run = initrd_secret(&env, &hers.join("sub/key"));
        assert!(run.status == 1 && run.stderr.contains("is a symlink owned by uid 1234"), "{}", run.stderr);
        assert!(std::fs::symlink_metadata(good.join("sub/key")).is_err());

        // Root's own directories, a sticky world-writable one (as /tmp) and a root-owned
        // symlink on the way are fine.
        initrd_secret(&env, &good.join("key")).ok();
        assert_eq!(owner_mode(&good.join("key")), (0, 0, 0o400));
        let sticky = dir(&env, "sticky", 0, 0o1777);
        initrd_secret(&env, &sticky.join("key")).ok();
        assert_eq!(owner_mode(&sticky.join("key")), (0, 0, 0o400));
        // Anything below a directory no one else may pass (as nixpkgs' `mktemp -d`) is out of
        // reach, whatever its mode (a caller's umask 000).
        let private = dir(&env, "private", 0, 0o700);
        std::fs::create_dir(private.join("open")).unwrap();
        std::fs::set_permissions(private.join("open"), std::fs::Permissions::from_mode(0o777)).unwrap();
        initrd_secret(&env, &private.join("open/key")).ok();
        assert_eq!(owner_mode(&private.join("open/key")), (0, 0, 0o400));
        let roots = env.path("root-link");
        std::os::unix::fs::symlink(&good, &roots).unwrap();
        initrd_secret(&env, &roots.join("sub/key")).ok();
        assert_eq!(owner_mode(&good.join("sub/key")), (0, 0, 0o400));
    }

    fn a_link_respelt_through_a_symlinked_directory_is_kept() {
        let env = Env::new();
        let file = env.sops_encrypt("app.yaml", "token: v1\n");
        let real = env.path("real");
        std::fs::create_dir(&real).unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o755)).unwrap();
        let alias = env.path("alias");
        std::os::unix::fs::symlink(&real, &alias).unwrap();
        let mut s = secret("tok", &file, "token", "yaml");
        s["path"] = json!(real.join("tok"));
        let m1 = env.manifest(json!([s.clone()]), json!([]));
        env.install(&m1, &[]).ok();
        assert_eq!(env.read(real.join("tok")), "v1");
        // The same place spelt through the (root-owned) symlink: the link made for the new
        // spelling must not be removed as the stale link of the old one.
        s["path"] = json!(alias.join("tok"));
        let m2 = env.manifest(json!([s]), json!([]));
        env.install(&m2, &[]).ok();
        assert_eq!(env.read(real.join("tok")), "v1", "the link is still there");
        // And back again, and a real rename still removes the old link.
        env.install(&m1, &[]).ok();
        assert_eq!(env.read(real.join("tok")), "v1");
        let mut moved = secret("tok", &file, "token", "yaml");
        moved["path"] = json!(real.join("tok2"));
        env.install(&env.manifest(json!([moved]), json!([])), &[]).ok();
        assert!(std::fs::symlink_metadata(real.join("tok")).is_err(), "a dropped path is removed");
        assert_eq!(env.read(real.join("tok2")), "v1");
    }
}
