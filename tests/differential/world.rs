//! Runs one installer binary through a list of cases, each in a fresh `/run` inside one private
//! mount namespace (`unshare -m`, as root) with the test's `/etc/passwd` and `/etc/group` bound
//! over the machine's, and records what each run left: exit status, stdout, stderr and the whole
//! `/run` tree (paths, kinds, modes, owners, bytes, link targets). Both binaries get the same
//! cases, paths, keys and users, so their records compare field by field.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const INSIDE: &str = "__differential_inside";

/// Users and groups both binaries see (bound over /etc/passwd and /etc/group).
pub const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n\
alice:x:1500:1500:alice:/home/alice:/bin/sh\n\
bob:x:1501:1600:bob:/home/bob:/bin/sh\n";
pub const GROUP: &str = "root:x:0:\n\
keys:x:996:\n\
nogroup:x:65534:\n\
alice:x:1500:\n\
staff:x:1600:bob\n";

/// One installer run inside a case.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Step {
    pub manifest: Value,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
}

/// A fresh `/run` and a sequence of runs in it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Case {
    pub name: String,
    pub steps: Vec<Step>,
}

#[derive(Serialize, Deserialize)]
struct Job {
    bin: PathBuf,
    dir: PathBuf,
    cases: Vec<Case>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Entry {
    Dir {
        mode: u32,
        uid: u32,
        gid: u32,
    },
    File {
        mode: u32,
        uid: u32,
        gid: u32,
        bytes: String,
    },
    Link {
        target: String,
    },
    Other,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StepResult {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
    pub tree: BTreeMap<String, Entry>,
}

/// Where the original `sops-install-secrets` is: `SOPS_NIX_INSTALL_SECRETS`, else the cache
/// directory `.ci/run` installs into.
pub fn original(var: &str, name: &str) -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os(var) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!("{var}={} does not exist", p.display()))
        };
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/root/.cache"));
    let p = cache.join("sops-install-tools/bin").join(name);
    if p.is_file() {
        Ok(p)
    } else {
        Err(format!(
            "{name} is missing: not at {} and {var} is not set; install it with .ci/run \
             (go-built tools) or tests/differential/build-originals.sh SRC",
            p.display()
        ))
    }
}

pub fn ours() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sops-install"))
}

/// Runs `cases` through `bin` in one namespace; `dir` holds keys and sops files (outside /run).
pub fn run_cases(bin: &Path, dir: &Path, cases: &[Case]) -> Vec<Vec<StepResult>> {
    let job = Job {
        bin: bin.to_path_buf(),
        dir: dir.to_path_buf(),
        cases: cases.to_vec(),
    };
    let job_file = tempfile::NamedTempFile::new_in(dir).expect("job file");
    std::fs::write(job_file.path(), serde_json::to_vec(&job).expect("job json")).expect("job");
    let exe = std::env::current_exe().expect("test binary path");
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "--"])
        .arg(exe)
        .arg(INSIDE)
        .arg(job_file.path())
        .output()
        .expect("unshare runs");
    assert!(
        out.status.success(),
        "the namespace runner failed for {}:\n{}",
        bin.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "runner output: {e}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn sh(args: &[&str]) {
    let st = Command::new(args[0])
        .args(&args[1..])
        .status()
        .expect("command runs");
    assert!(st.success(), "{args:?} failed");
}

/// Inside the namespace: runs every case and prints the results as JSON.
pub fn inside(job_file: &Path) {
    let job: Job = serde_json::from_slice(&std::fs::read(job_file).expect("job")).expect("job");
    let passwd = job.dir.join("passwd");
    let group = job.dir.join("group");
    std::fs::write(&passwd, PASSWD).expect("passwd");
    std::fs::write(&group, GROUP).expect("group");
    sh(&["mount", "--bind", path_str(&passwd), "/etc/passwd"]);
    sh(&["mount", "--bind", path_str(&group), "/etc/group"]);
    // A systemctl that records its arguments, for SOPS_RESTART_UNITS_VIA_SYSTEMCTL=1.
    let bin_dir = job.dir.join("bin");
    std::fs::create_dir_all(&bin_dir).expect("bin dir");
    let systemctl = bin_dir.join("systemctl");
    std::fs::write(
        &systemctl,
        "#!/bin/sh\necho \"$*\" >> /run/systemctl-calls\n",
    )
    .expect("systemctl");
    std::fs::set_permissions(&systemctl, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut all = Vec::new();
    let mut mounted = false;
    for case in &job.cases {
        if mounted {
            sh(&["umount", "--lazy", "--recursive", "/run"]);
        }
        sh(&["mount", "-t", "tmpfs", "-o", "mode=0755", "none", "/run"]);
        mounted = true;
        std::fs::create_dir_all("/run/nixos").expect("/run/nixos");
        std::fs::create_dir_all("/run/user/1500").expect("/run/user");
        let mut results = Vec::new();
        for (i, step) in case.steps.iter().enumerate() {
            let manifest = job.dir.join(format!("manifest-{i}.json"));
            std::fs::write(
                &manifest,
                serde_json::to_vec_pretty(&step.manifest).expect("json"),
            )
            .expect("manifest");
            let mut cmd = Command::new(&job.bin);
            cmd.args(&step.args).arg(&manifest);
            for var in [
                "SOPS_AGE_KEY",
                "SOPS_AGE_KEY_FILE",
                "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
                "NIXOS_ACTION",
                "SOPS_RESTART_UNITS_VIA_SYSTEMCTL",
                "SOPS_INSTALL_LOG",
                "RUST_LOG",
            ] {
                cmd.env_remove(var);
            }
            cmd.env("PATH", &path).env("HOME", &job.dir).envs(&step.env);
            let out = cmd.output().expect("installer runs");
            results.push(StepResult {
                status: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
                tree: snapshot(Path::new("/run")),
            });
        }
        all.push(results);
    }
    println!("{}", serde_json::to_string(&all).expect("json"));
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

fn snapshot(root: &Path) -> BTreeMap<String, Entry> {
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Entry>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        let rel = format!("/run/{}", p.strip_prefix(root).unwrap_or(&p).display());
        let Ok(m) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        let ft = m.file_type();
        let entry = if ft.is_symlink() {
            Entry::Link {
                target: std::fs::read_link(&p)
                    .map(|t| t.display().to_string())
                    .unwrap_or_default(),
            }
        } else if ft.is_dir() {
            walk(root, &p, out);
            Entry::Dir {
                mode: m.mode() & 0o7777,
                uid: m.uid(),
                gid: m.gid(),
            }
        } else if ft.is_file() {
            Entry::File {
                mode: m.mode() & 0o7777,
                uid: m.uid(),
                gid: m.gid(),
                bytes: String::from_utf8_lossy(&std::fs::read(&p).unwrap_or_default()).into_owned(),
            }
        } else {
            Entry::Other
        };
        out.insert(rel, entry);
    }
}
