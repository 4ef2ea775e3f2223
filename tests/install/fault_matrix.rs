//! The fault matrix: one table of bad inputs and broken environments, each run against a live
//! generation made by a good manifest (secrets from all five stores, a template, a custom-path
//! link). Every case must exit non-zero with exactly one stderr line naming the file and the
//! secret (or the manifest and the field) and ending in one "; hint: …", print no plaintext,
//! leave the live symlink and its generation exactly as they were with no partial generation
//! beside them, and let the next good run make one complete new generation. After the table: SIGKILL at seeded syscall
//! points followed by a rerun, and two runs started at once.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::harness::{fixtures, secret, Env, Run};
use crate::ns_test;

/// Values of the good manifest's secrets: none may appear in any output.
const PLAINTEXTS: &[&str] = &[
    "hunter2",
    "abc123",
    "with quotes",
    "value with spaces",
    "héllo",
];

/// The good manifest's secrets: (name, fixture, key, format).
const GOOD: &[(&str, &str, &str, &str)] = &[
    ("db/password", "enc/basic.yaml", "db/password", "yaml"),
    ("api", "enc/basic.json", "api_key", "json"),
    ("app.env", "enc/basic.env", "", "dotenv"),
    ("app.ini", "enc/basic.ini", "", "ini"),
    ("blob", "enc/blob.bin", "", "binary"),
];

/// sops-nix's placeholder for a secret name.
fn placeholder(name: &str) -> String {
    format!(
        "<SOPS:{}:PLACEHOLDER>",
        hex::encode(Sha256::digest(name.as_bytes()))
    )
}

fn template(name: &str, content: &str) -> Value {
    json!({
        "name": name, "content": content, "file": "", "path": "", "mode": "0400",
        "owner": null, "uid": 0, "group": null, "gid": 0, "restartUnits": [], "reloadUnits": []
    })
}

/// One environment with a good manifest installed from it.
struct Bench {
    env: Env,
    good: Value,
}

impl Bench {
    fn new() -> Bench {
        let env = Env::new();
        let f = fixtures();
        let secrets: Vec<Value> = GOOD
            .iter()
            .map(|(name, file, key, format)| {
                let mut s = secret(name, &f.join(file), key, format);
                if *name == "api" {
                    s["path"] = json!(env.path("custom/app/api-key"));
                    s["owner"] = json!("nobody");
                    s["mode"] = json!("0440");
                }
                s
            })
            .collect();
        let templates = json!([template(
            "app.conf",
            &format!("password={}\n", placeholder("db/password"))
        )]);
        let mut good = env.manifest(json!(secrets), templates);
        good["keepGenerations"] = json!(0);
        for (name, ..) in GOOD {
            good["placeholderBySecretName"][*name] = json!(placeholder(name));
        }
        Bench { env, good }
    }

    /// The good manifest plus one more secret (with its placeholder).
    fn plus(&self, s: Value) -> Value {
        let mut m = self.good.clone();
        let name = s["name"].as_str().unwrap_or("").to_string();
        m["secrets"].as_array_mut().expect("secrets").push(s);
        m["placeholderBySecretName"][name.as_str()] = json!(placeholder(&name));
        m
    }

    /// The good manifest plus a secret "bad" from `file`.
    fn plus_bad(&self, file: &Path, key: &str, format: &str) -> Value {
        self.plus(secret("bad", file, key, format))
    }

    /// The good manifest plus a secret "bad" (a good one) with `field` set to `value`.
    fn bad_field(&self, field: &str, value: Value) -> Value {
        let mut s = secret("bad", &fixtures().join("enc/basic.yaml"), "api_key", "yaml");
        s[field] = value;
        self.plus(s)
    }

    fn mount(&self) -> PathBuf {
        self.env.mount_point()
    }

    fn manifest_path(&self) -> String {
        self.env.path("manifest.json").display().to_string()
    }

    /// Checks generation `n` holds exactly the good manifest's files, with the right contents.
    fn check_complete(&self, n: u64) {
        let f = fixtures();
        let fixture = |p: &str| std::fs::read(f.join(p)).expect("fixture output");
        let expected: BTreeMap<String, Vec<u8>> = [
            ("db/password", b"hunter2".to_vec()),
            ("api", b"abc123".to_vec()),
            ("app.env", fixture("out/dotenv-basic.out")),
            ("app.ini", fixture("out/ini-basic.out")),
            ("blob", fixture("out/binary-blob.out")),
            ("rendered/app.conf", b"password=hunter2\n".to_vec()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let got: BTreeMap<String, Vec<u8>> = snapshot(&self.mount().join(n.to_string()))
            .into_iter()
            .filter(|(_, e)| e.kind == 'f')
            .map(|(k, e)| (k, e.data))
            .collect();
        assert_eq!(got, expected, "generation {n} is not the complete good one");
        assert_eq!(
            self.env
                .read(self.env.path("custom/app/api-key"))
                .as_bytes(),
            b"abc123",
            "the custom path resolves to the live api secret"
        );
    }

    /// Runs the installer on `input`.
    fn run(&self, input: &Input) -> Run {
        match input {
            Input::Json(m) => self.env.install(m, &[]),
            Input::Text(text) => {
                let p = self.env.path("manifest.json");
                std::fs::write(&p, text).expect("write manifest");
                self.run_path(&p)
            }
            Input::Path(p) => self.run_path(p),
        }
    }

    fn run_path(&self, p: &Path) -> Run {
        self.env
            .run_cmd(Command::new(env!("CARGO_BIN_EXE_sops-install")).arg(p))
    }
}

/// One entry of a directory tree: kind ('d', 'f', 'l'), mode, owner, and contents or target.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    kind: char,
    mode: u32,
    uid: u32,
    gid: u32,
    data: Vec<u8>,
}

/// Everything below `dir` (not following symlinks), by relative path, plus `dir` itself as "".
fn snapshot(dir: &Path) -> BTreeMap<String, Entry> {
    fn walk(base: &Path, rel: &str, out: &mut BTreeMap<String, Entry>) {
        let path = if rel.is_empty() {
            base.to_path_buf()
        } else {
            base.join(rel)
        };
        let m = std::fs::symlink_metadata(&path)
            .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()));
        let (kind, data) = if m.file_type().is_symlink() {
            let t = std::fs::read_link(&path).expect("readlink");
            ('l', t.into_os_string().into_encoded_bytes())
        } else if m.is_dir() {
            ('d', Vec::new())
        } else {
            ('f', std::fs::read(&path).expect("read"))
        };
        out.insert(
            rel.to_string(),
            Entry {
                kind,
                mode: m.permissions().mode() & 0o7777,
                uid: m.uid(),
                gid: m.gid(),
                data,
            },
        );
        if kind == 'd' {
            let mut names: Vec<String> = std::fs::read_dir(&path)
                .expect("list")
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            for n in names {
                let r = if rel.is_empty() {
                    n
                } else {
                    format!("{rel}/{n}")
                };
                walk(base, &r, out);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, "", &mut out);
    out
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// No temporary symlink of a swap is left beside the secrets symlink.
fn assert_no_swap_leftovers(env: &Env) {
    let stray: Vec<String> = names_in(env.root.path())
        .into_iter()
        .filter(|n| n.starts_with(".secrets.new"))
        .collect();
    assert!(stray.is_empty(), "temporary symlinks left: {stray:?}");
}

fn assert_no_plaintext(run: &Run) {
    for p in PLAINTEXTS {
        assert!(
            !run.stdout.contains(p) && !run.stderr.contains(p),
            "plaintext {p:?} printed:\nstdout: {}\nstderr: {}",
            run.stdout,
            run.stderr
        );
    }
}

enum Input {
    Json(Value),
    Text(String),
    Path(PathBuf),
}

/// What a case does to the good set-up.
struct Fault {
    input: Input,
    /// Each must be in the one error line.
    expect: Vec<String>,
    /// Runs after the failure has been checked: extra checks, then undoing what broke the
    /// environment so the next good run can succeed.
    then: Option<Then>,
}

type Then = Box<dyn FnOnce(&Bench)>;

impl Fault {
    fn new(input: Value, expect: &[&str]) -> Fault {
        Fault {
            input: Input::Json(input),
            expect: expect.iter().map(|s| s.to_string()).collect(),
            then: None,
        }
    }

    fn then(mut self, f: impl FnOnce(&Bench) + 'static) -> Fault {
        self.then = Some(Box::new(f));
        self
    }
}

struct Case {
    name: &'static str,
    /// Before the first good run (e.g. a size-limited tmpfs).
    setup: Option<fn(&mut Bench)>,
    fault: Box<dyn Fn(&Bench) -> Fault>,
}

fn case(name: &'static str, fault: impl Fn(&Bench) -> Fault + 'static) -> Case {
    Case {
        name,
        setup: None,
        fault: Box::new(fault),
    }
}

/// A secret "bad" from a negative fixture (whole file, so only the file's own fault counts).
fn negative(name: &'static str, file: &'static str, reason: &'static str) -> Case {
    case(name, move |b| {
        let p = fixtures().join("negative").join(file);
        let path = p.display().to_string();
        Fault::new(
            b.plus_bad(&p, "", "yaml"),
            &[&path, "secret \"bad\"", reason],
        )
    })
}

/// A copy of a real sops file, broken by `corrupt`, as the secret "bad".
fn broken(
    name: &'static str,
    fixture: &'static str,
    format: &'static str,
    corrupt: fn(Vec<u8>) -> Vec<u8>,
) -> Case {
    case(name, move |b| {
        let bytes = std::fs::read(fixtures().join(fixture)).expect("fixture");
        let ext = fixture.rsplit('.').next().unwrap_or("bin");
        let p = b.env.path(&format!("{name}.{ext}"));
        std::fs::write(&p, corrupt(bytes)).expect("write broken copy");
        let path = p.display().to_string();
        Fault::new(b.plus_bad(&p, "", format), &[&path, "secret \"bad\""])
    })
}

fn truncate(mut b: Vec<u8>) -> Vec<u8> {
    b.truncate(b.len() / 2);
    b
}

fn replace_first(b: Vec<u8>, from: &str, to: &str) -> Vec<u8> {
    let s = String::from_utf8(b).expect("text fixture");
    assert!(s.contains(from), "{from:?} not in the fixture");
    s.replacen(from, to, 1).into_bytes()
}

fn prepend(b: Vec<u8>, line: &str) -> Vec<u8> {
    let mut out = line.as_bytes().to_vec();
    out.extend(b);
    out
}

/// A manifest-level fault in the field `field` of the secret "bad": names the manifest.
fn bad_field(name: &'static str, field: &'static str, value: Value, expect: &'static str) -> Case {
    case(name, move |b| {
        let m = b.manifest_path();
        Fault::new(
            b.bad_field(field, value.clone()),
            &[&m, "secret \"bad\"", expect],
        )
    })
}

/// A wrongly typed value at `pointer` of the good manifest: the parse error names the field.
fn mistyped(name: &'static str, pointer: &'static str, value: Value, field: &'static str) -> Case {
    case(name, move |b| {
        let mut m = b.good.clone();
        *m.pointer_mut(pointer).expect("pointer") = value.clone();
        let path = b.manifest_path();
        Fault::new(m, &[&path, field, "invalid type"])
    })
}

fn with_key_file(b: &Bench, key_file: Value) -> Value {
    let mut m = b.good.clone();
    m["ageKeyFile"] = key_file;
    m
}

fn remount(mp: &Path, opts: &str) {
    let st = Command::new("mount")
        .args(["-o", opts])
        .arg(mp)
        .status()
        .expect("mount runs");
    assert!(st.success(), "mount -o {opts} {}", mp.display());
}

fn basic() -> PathBuf {
    fixtures().join("enc/basic.yaml")
}

fn cases() -> Vec<Case> {
    vec![
        // --- integrity and crypto, from the negative fixtures made by the real sops
        negative(
            "tampered value",
            "tampered-value.yaml",
            "authentication failed",
        ),
        negative(
            "values swapped between keys",
            "swapped-values.yaml",
            "authentication failed",
        ),
        negative("tampered MAC", "tampered-mac.yaml", "MAC"),
        negative("missing MAC", "missing-mac.yaml", "no MAC"),
        negative(
            "changed cleartext value",
            "modified-cleartext.yaml",
            "MAC mismatch",
        ),
        negative("changed lastmodified", "lastmodified-changed.yaml", "MAC"),
        negative("unknown value type", "unknown-type.yaml", "value"),
        negative("value left in plaintext", "plaintext-value.yaml", "value"),
        negative("non-string value", "non-string-value.yaml", "value"),
        negative("no sops metadata", "no-metadata.yaml", "no sops metadata"),
        negative("empty sops file", "empty.yaml", "no sops metadata"),
        negative("two encryption rules", "two-rules.yaml", "metadata"),
        // --- keys
        case("wrong key", |b| {
            let key = fixtures().join("keys/wrong.txt");
            let m = with_key_file(b, json!(key));
            let (file, k) = (basic().display().to_string(), key.display().to_string());
            Fault::new(
                m,
                &[
                    &file,
                    "secret \"db/password\"",
                    &k,
                    "no loaded key can open it",
                ],
            )
        }),
        case("no key at all", |b| {
            let file = basic().display().to_string();
            Fault::new(
                with_key_file(b, Value::Null),
                &[&file, "secret \"db/password\"", "no key was loaded"],
            )
        }),
        case("key file is a directory", |b| {
            let dir = b.env.path("key-dir");
            std::fs::create_dir(&dir).expect("mkdir");
            let d = dir.display().to_string();
            let file = basic().display().to_string();
            Fault::new(
                with_key_file(b, json!(dir)),
                &[
                    &file,
                    "secret \"db/password\"",
                    &d,
                    "a directory, not a regular file",
                ],
            )
        }),
        Case {
            name: "key file vanished",
            setup: Some(|b| {
                let key = b.env.path("age.txt");
                std::fs::copy(fixtures().join("keys/age1.txt"), &key).expect("copy key");
                b.good["ageKeyFile"] = json!(key);
            }),
            fault: Box::new(|b| {
                let key = b.env.path("age.txt");
                std::fs::remove_file(&key).expect("remove key");
                let (k, file) = (key.display().to_string(), basic().display().to_string());
                Fault::new(
                    b.good.clone(),
                    &[&file, "secret \"db/password\"", &k, "No such file"],
                )
                .then(move |_| {
                    std::fs::copy(fixtures().join("keys/age1.txt"), &key).expect("restore key");
                })
            }),
        },
        case("malformed key file", |b| {
            let key = fixtures().join("keys/bad-line-then-age1.txt");
            let k = key.display().to_string();
            Fault::new(
                with_key_file(b, json!(key)),
                &[&k, "secret \"db/password\"", "line"],
            )
        }),
        case("too few Shamir parts", |b| {
            let p = fixtures().join("enc/shamir.yaml");
            let path = p.display().to_string();
            Fault::new(b.plus_bad(&p, "", "yaml"), &[&path, "secret \"bad\""])
        }),
        // --- sops files: missing, truncated, corrupted, in the wrong format
        case("missing sops file", |b| {
            let p = b.env.path("missing.yaml");
            let path = p.display().to_string();
            Fault::new(
                b.plus_bad(&p, "api_key", "yaml"),
                &[&path, "secret \"bad\"", "No such file"],
            )
        }),
        broken("truncated yaml", "enc/basic.yaml", "yaml", truncate),
        broken("truncated json", "enc/basic.json", "json", truncate),
        broken("truncated dotenv", "enc/basic.env", "dotenv", truncate),
        broken("truncated ini", "enc/basic.ini", "ini", truncate),
        broken("truncated binary", "enc/blob.bin", "binary", truncate),
        broken("malformed yaml", "enc/basic.yaml", "yaml", |b| {
            prepend(b, "broken: 'unterminated\n")
        }),
        broken("malformed json", "enc/basic.json", "json", |b| {
            replace_first(b, "\"db\":", "\"db\"")
        }),
        broken("malformed dotenv", "enc/basic.env", "dotenv", |b| {
            prepend(b, "this line has no equals sign\n")
        }),
        broken("malformed ini", "enc/basic.ini", "ini", |b| {
            prepend(b, "[unclosed section\n")
        }),
        broken("malformed binary", "enc/blob.bin", "binary", |b| {
            replace_first(b, "\"data\":", "\"data\"")
        }),
        broken("yaml file declared json", "enc/basic.yaml", "json", |b| b),
        broken(
            "binary file declared dotenv",
            "enc/blob.bin",
            "dotenv",
            |b| b,
        ),
        case("one file read in two formats", |b| {
            let m = b.manifest_path();
            Fault::new(
                b.plus_bad(&basic(), "api_key", "json"),
                &[&m, "secret \"bad\"", "format"],
            )
        }),
        // --- the manifest itself
        case("manifest is not JSON", |b| {
            let m = b.manifest_path();
            Fault {
                input: Input::Text("{\"secrets\": [".into()),
                expect: vec![m, "line 1".into()],
                then: None,
            }
        }),
        case("manifest with trailing text", |b| {
            let m = b.manifest_path();
            let text = format!("{} }}", b.good);
            Fault {
                input: Input::Text(text),
                expect: vec![m, "trailing".into()],
                then: None,
            }
        }),
        case("manifest file missing", |b| {
            let p = b.env.path("no-such-manifest.json");
            let m = p.display().to_string();
            Fault {
                input: Input::Path(p),
                expect: vec![m, "No such file".into()],
                then: None,
            }
        }),
        mistyped(
            "uid is a string",
            "/secrets/0/uid",
            json!("0"),
            "secrets[0].uid",
        ),
        mistyped(
            "mode is a number",
            "/secrets/1/mode",
            json!(400),
            "secrets[1].mode",
        ),
        mistyped(
            "restartUnits is a string",
            "/secrets/2/restartUnits",
            json!("a.service"),
            "secrets[2].restartUnits",
        ),
        mistyped(
            "keepGenerations is a string",
            "/keepGenerations",
            json!("1"),
            "keepGenerations",
        ),
        mistyped("secrets is an object", "/secrets", json!({}), "secrets"),
        bad_field(
            "unknown format",
            "format",
            json!("toml"),
            "unknown format \"toml\"",
        ),
        bad_field("mode 0999", "mode", json!("0999"), "mode"),
        bad_field("mode rw", "mode", json!("rw"), "mode"),
        bad_field("empty mode", "mode", json!(""), "mode"),
        bad_field("mode with five digits", "mode", json!("12345"), "mode"),
        bad_field("negative mode", "mode", json!("-400"), "mode"),
        bad_field("mode 0o400", "mode", json!("0o400"), "mode"),
        bad_field(
            "unknown user",
            "owner",
            json!("no-such-user-anywhere"),
            "no-such-user-anywhere",
        ),
        bad_field(
            "unknown group",
            "group",
            json!("no-such-group-anywhere"),
            "no-such-group-anywhere",
        ),
        bad_field("key not in the file", "key", json!("db/nope"), "db/nope"),
        bad_field(
            "key through a string",
            "key",
            json!("db/password/x"),
            "db/password is a string",
        ),
        case("name with .. inside", |b| {
            let m = b.manifest_path();
            let s = secret("a/../../escape", &basic(), "api_key", "yaml");
            Fault::new(b.plus(s), &[&m, "secret \"a/../../escape\"", "name"])
        }),
        case("name starting with ..", |b| {
            let m = b.manifest_path();
            let s = secret("../escape", &basic(), "api_key", "yaml");
            Fault::new(b.plus(s), &[&m, "secret \"../escape\"", "name"])
        }),
        case("template name with ..", |b| {
            let mut good = b.good.clone();
            good["templates"]
                .as_array_mut()
                .expect("templates")
                .push(template("../t", "x"));
            let m = b.manifest_path();
            Fault::new(good, &[&m, "template \"../t\"", "name"])
        }),
        case("template with an unknown placeholder", |b| {
            let mut good = b.good.clone();
            let text = format!("x={}\n", placeholder("not-a-secret-here"));
            good["templates"]
                .as_array_mut()
                .expect("templates")
                .push(template("bad.conf", &text));
            Fault::new(
                good,
                &["template \"bad.conf\"", &placeholder("not-a-secret-here")],
            )
        }),
        // --- the filesystem
        Case {
            name: "secrets filesystem full (ENOSPC)",
            setup: Some(|b| {
                std::fs::create_dir_all(b.mount()).expect("mount point");
                let st = Command::new("mount")
                    .args(["-t", "tmpfs", "-o", "size=128k,mode=0751", "none"])
                    .arg(b.mount())
                    .status()
                    .expect("mount runs");
                assert!(st.success(), "mount a small tmpfs");
                b.good["useTmpfs"] = json!(true);
            }),
            fault: Box::new(|b| {
                let big = b
                    .env
                    .sops_encrypt("big.yaml", &format!("big: {}\n", "y".repeat(256 * 1024)));
                Fault::new(
                    b.plus(secret("big", &big, "big", "yaml")),
                    &["cannot write", "big", "No space left"],
                )
            }),
        },
        case("secrets mount read-only", |b| {
            remount(&b.mount(), "remount,ro");
            let mp = b.mount().display().to_string();
            Fault::new(b.good.clone(), &[&mp, "Read-only"])
                .then(|b| remount(&b.mount(), "remount,rw"))
        }),
        case(
            "custom path through a symlink planted by another user",
            |b| {
                let (elsewhere, planted) = (b.env.path("elsewhere"), b.env.path("planted"));
                std::fs::create_dir(&elsewhere).expect("mkdir");
                std::os::unix::fs::symlink(&elsewhere, &planted).expect("plant");
                std::os::unix::fs::lchown(&planted, Some(1234), Some(1234)).expect("chown -h");
                let mut s = secret("bad", &basic(), "api_key", "yaml");
                s["path"] = json!(planted.join("app-secret"));
                let p = planted.display().to_string();
                Fault::new(b.plus(s), &[&p, "secret \"bad\"", "uid 1234"]).then(move |_| {
                    assert!(
                        names_in(&elsewhere).is_empty(),
                        "nothing was made through the planted link"
                    );
                })
            },
        ),
        case("custom path below a regular file", |b| {
            let file = b.env.path("a-file");
            std::fs::write(&file, "x").expect("write");
            let mut s = secret("bad", &basic(), "api_key", "yaml");
            s["path"] = json!(file.join("app-secret"));
            let p = file.display().to_string();
            Fault::new(b.plus(s), &[&p, "secret \"bad\"", "not a directory"])
        }),
        case("custom path is a non-empty directory", |b| {
            let dir = b.env.path("occupied");
            std::fs::create_dir_all(dir.join("inside")).expect("mkdir");
            let mut s = secret("bad", &basic(), "api_key", "yaml");
            s["path"] = json!(dir);
            let p = dir.display().to_string();
            Fault::new(b.plus(s), &[&p, "secret \"bad\"", "not empty"]).then(move |_| {
                assert!(
                    dir.join("inside").is_dir(),
                    "the directory in the way is kept"
                );
            })
        }),
    ]
}

/// One case, as the module doc says; panics with what went wrong.
fn run_case(c: &Case) {
    let mut b = Bench::new();
    if let Some(setup) = c.setup {
        setup(&mut b);
    }
    b.env.install(&b.good, &[]).ok();
    b.check_complete(1);
    let live = b.env.live_generation();
    assert_eq!(live, b.mount().join("1"));
    let before = snapshot(&live);
    let fault = (c.fault)(&b);
    let run = b.run(&fault.input);
    assert_ne!(run.status, 0, "exit status 0:\nstdout: {}", run.stdout);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one error line, got {lines:?}");
    // Issue 17 item 3: every fault a user can meet says what to do, on the same line.
    assert_eq!(
        lines[0].matches("; hint: ").count(),
        1,
        "one hint on the error line {:?}",
        lines[0]
    );
    for e in &fault.expect {
        assert!(
            lines[0].contains(e.as_str()),
            "{e:?} not in the error line {:?}",
            lines[0]
        );
    }
    assert!(run.stdout.is_empty(), "nothing on stdout: {:?}", run.stdout);
    assert_no_plaintext(&run);
    assert_eq!(b.env.live_generation(), live, "the live symlink moved");
    assert_eq!(snapshot(&live), before, "the live generation changed");
    assert_eq!(
        names_in(&b.mount()),
        vec!["1", "custom-links.json"],
        "no partial generation or temporary file is left"
    );
    assert_no_swap_leftovers(&b.env);
    if let Some(then) = fault.then {
        then(&b);
    }
    b.env.install(&b.good, &[]).ok();
    assert_eq!(
        b.env.generations(),
        vec![1, 2],
        "the next good run adds exactly one generation"
    );
    assert_eq!(b.env.live_generation(), b.mount().join("2"));
    b.check_complete(2);
    let mut after = snapshot(&b.mount().join("2"));
    after.remove("");
    let mut first = before;
    first.remove("");
    assert_eq!(
        after, first,
        "the new generation equals the first one, modes and owners too"
    );
    assert_no_swap_leftovers(&b.env);
}

ns_test! {
    fn the_matrix_has_at_least_forty_cases() {
        let n = cases().len();
        assert!(n >= 40, "only {n} cases");
        let mut names: Vec<&str> = cases().iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n, "case names are unique");
    }

    fn every_fault_fails_safely_with_one_clear_line() {
        let only = std::env::var("FAULT_CASE").ok();
        let mut failed = Vec::new();
        let mut ran = 0;
        for c in cases() {
            if only.as_deref().is_some_and(|o| !c.name.contains(o)) {
                continue;
            }
            ran += 1;
            if let Err(e) = catch_unwind(AssertUnwindSafe(|| run_case(&c))) {
                let why = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failed.push(format!("case {:?}: {why}", c.name));
            }
        }
        assert!(ran > 0, "no case matched FAULT_CASE");
        assert!(failed.is_empty(), "{} of {ran} cases failed:\n{}", failed.len(), failed.join("\n\n"));
    }
}

/// A small deterministic generator (xorshift64*), so kill points are random but reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Syscalls that change the secrets' state; a kill lands at the N-th call of one of them.
const KILL_SYSCALLS: &[&str] = &[
    "openat",
    "write",
    "mkdir",
    "fchmod",
    "fchown",
    "chmod",
    "chown",
    "symlink",
    "rename",
    "unlink",
    "unlinkat",
    "rmdir",
    "newfstatat",
    "flock",
    "lchown",
    "fchownat",
];

/// How often a full run of `manifest` makes `syscall` (traced, not killed).
fn count_calls(b: &Bench, manifest: &Path, syscall: &str) -> u64 {
    let log = b.env.path("strace.log");
    let run = b.env.run_cmd(
        Command::new("strace")
            .args(["-f", "-qq", "-o"])
            .arg(&log)
            .args(["-e", &format!("trace={syscall}")])
            .arg(env!("CARGO_BIN_EXE_sops-install"))
            .arg(manifest),
    );
    assert_eq!(run.status, 0, "traced run failed: {}", run.stderr);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    text.lines()
        .filter(|l| l.contains(&format!("{syscall}(")))
        .count() as u64
}

/// The generation's files (path -> entry), without the generation directory itself.
fn files_of(dir: &Path) -> BTreeMap<String, Entry> {
    let mut s = snapshot(dir);
    s.remove("");
    s
}

/// Two manifests differing in a template and in the owner of the linked secret, so that
/// switching between them rewrites files and remakes the custom-path link.
fn two_manifests(b: &Bench, keep: u64) -> (PathBuf, PathBuf) {
    let mut good = b.good.clone();
    good["keepGenerations"] = json!(keep);
    let mut other = good.clone();
    let text = format!("password={}\nrev=2\n", placeholder("db/password"));
    other["templates"] = json!([template("app.conf", &text)]);
    other["secrets"][1]["owner"] = json!("root");
    let (path_a, path_b) = (b.env.path("a.json"), b.env.path("b.json"));
    std::fs::write(&path_a, serde_json::to_vec(&good).expect("json")).expect("write");
    std::fs::write(&path_b, serde_json::to_vec(&other).expect("json")).expect("write");
    (path_a, path_b)
}

/// Leftover staging directories of custom-path links.
fn assert_no_link_leftovers(b: &Bench, what: &str) {
    let stray: Vec<String> = names_in(&b.env.path("custom/app"))
        .into_iter()
        .filter(|n| n.starts_with(".sops-install-link"))
        .collect();
    assert!(stray.is_empty(), "{what}: link staging left: {stray:?}");
}

ns_test! {
    // SIGKILL at seeded pseudo-random syscall points, plus every call of the syscalls of the
    // swap and the link (strace injects the signal at the N-th call of a chosen syscall, so
    // each point is reproducible and no timing is involved). Runs alternate between two
    // manifests. Whenever a run dies, the live symlink must still lead to a complete
    // generation, old or new; the rerun must leave exactly one complete generation and no
    // temporary leftovers.
    fn sigkill_at_seeded_points_then_a_rerun_leaves_one_complete_generation() {
        let b = Bench::new();
        let (path_a, path_b) = two_manifests(&b, 1);
        b.run_path(&path_b).ok();
        let snap_b = files_of(&b.env.live_generation());
        b.run_path(&path_a).ok();
        let snap_a = files_of(&b.env.live_generation());
        b.check_complete(2);
        assert_ne!(snap_a, snap_b);
        let seed = 0x5eed_f00d_u64;
        let mut rng = Rng(seed);
        // (syscall, None = a seeded N, Some(n) = that call)
        let mut points: Vec<(&str, Option<u64>)> = (0..16)
            .map(|_| (KILL_SYSCALLS[rng.below(KILL_SYSCALLS.len() as u64) as usize], None))
            .collect();
        // Each libc picks its own variant (symlink or symlinkat, …): cover all of them.
        for syscall in ["symlink", "symlinkat", "rename", "renameat", "renameat2", "lchown", "fchownat", "mkdir", "mkdirat"] {
            points.extend((1..=6).map(|n| (syscall, Some(n))));
        }
        let mut killed: BTreeMap<&str, u32> = BTreeMap::new();
        for (point, (syscall, fixed)) in points.iter().enumerate() {
            let (manifest, expected, back) = if point % 2 == 0 {
                (&path_b, &snap_b, &path_a)
            } else {
                (&path_a, &snap_a, &path_b)
            };
            let n = match fixed {
                Some(n) => *n,
                None => {
                    let calls = count_calls(&b, manifest, syscall);
                    // The counting run changed the live generation: switch back.
                    b.run_path(back).ok();
                    1 + rng.below(calls)
                }
            };
            let what = format!("seed {seed:#x}, point {point}: kill at {syscall} call {n}");
            let run = b.env.run_cmd(
                Command::new("strace")
                    .args(["-f", "-qq", "-o", "/dev/null"])
                    .args(["-e", &format!("trace={syscall}")])
                    .args(["-e", &format!("inject={syscall}:signal=KILL:when={n}")])
                    .arg(env!("CARGO_BIN_EXE_sops-install"))
                    .arg(manifest),
            );
            // The harness reports death by a signal as -1 (strace passes the signal on).
            if run.status == -1 {
                *killed.entry(if fixed.is_some() { *syscall } else { "seeded" }).or_insert(0) += 1;
            }
            assert_no_plaintext(&run);
            let live = files_of(&b.env.live_generation());
            assert!(live == snap_a || live == snap_b, "{what}: the live generation is incomplete: {:?}", live.keys());
            b.run_path(manifest).ok();
            let live = b.env.live_generation();
            assert_eq!(&files_of(&live), expected, "{what}: the rerun's generation");
            let number: u64 = live.file_name().and_then(|n| n.to_str()).and_then(|n| n.parse().ok()).expect("number");
            assert_eq!(b.env.generations(), vec![number], "{what}: stray generations");
            assert_eq!(names_in(&b.mount()), vec![number.to_string(), "custom-links.json".to_string()], "{what}");
            assert_no_swap_leftovers(&b.env);
            assert_no_link_leftovers(&b, &what);
            let link = std::fs::symlink_metadata(b.env.path("custom/app/api-key")).expect("link");
            assert_eq!(link.uid(), expected["api"].uid, "{what}: the link is owned like its secret");
        }
        // Seeded points aim within the calls a run makes; the swap and the link each rename
        // and make a symlink once, whichever variant the libc uses.
        let at = |ks: &[&str]| ks.iter().map(|k| killed.get(k).copied().unwrap_or(0)).sum::<u32>();
        assert!(at(&["seeded"]) >= 8, "too few seeded kills: {killed:?}");
        assert!(at(&["rename", "renameat", "renameat2"]) >= 2, "too few kills at rename: {killed:?}");
        assert!(at(&["symlink", "symlinkat"]) >= 2, "too few kills at symlink: {killed:?}");
    }

    // Two runs with different manifests started at once: the lock serialises them (both
    // succeed), each makes its own complete generation and the live one is the later run's.
    fn two_runs_at_once_end_consistent() {
        let b = Bench::new();
        let (path_a, path_b) = two_manifests(&b, 0);
        b.run_path(&path_b).ok();
        let snap_b = files_of(&b.env.live_generation());
        b.run_path(&path_a).ok();
        let snap_a = files_of(&b.env.live_generation());
        for round in 0..3u64 {
            let spawn = |p: &Path| {
                Command::new(env!("CARGO_BIN_EXE_sops-install"))
                    .arg(p)
                    .env_remove("SOPS_AGE_KEY_FILE")
                    .env_remove("SOPS_AGE_KEY")
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("spawn")
            };
            let (one, two) = (spawn(&path_a), spawn(&path_b));
            for child in [one, two] {
                let out = child.wait_with_output().expect("wait");
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(
                    out.status.success() || (err.lines().count() == 1 && err.contains("lock")),
                    "round {round}: a run failed without a clear lock message: {err}"
                );
                for p in PLAINTEXTS {
                    assert!(!err.contains(p) && !String::from_utf8_lossy(&out.stdout).contains(p));
                }
            }
            let (g1, g2) = (3 + 2 * round, 4 + 2 * round);
            let gens = b.env.generations();
            assert_eq!(*gens.last().expect("generations"), g2, "round {round}: {gens:?}");
            assert_eq!(gens, (1..=g2).collect::<Vec<u64>>(), "round {round}: keep 0 keeps all, no strays");
            let (s1, s2) = (files_of(&b.mount().join(g1.to_string())), files_of(&b.mount().join(g2.to_string())));
            assert!((s1 == snap_a && s2 == snap_b) || (s1 == snap_b && s2 == snap_a), "round {round}: each run made one complete generation");
            assert_eq!(b.env.live_generation(), b.mount().join(g2.to_string()));
            assert_no_swap_leftovers(&b.env);
        }
    }
}
