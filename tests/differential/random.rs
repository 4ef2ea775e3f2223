//! Seeded random manifests through both binaries: valid sops-nix manifests over the lab's real
//! sops files, mixing formats, whole files and keys, owners by name and number, modes,
//! templates, custom paths, keepGenerations and unit lists, with one to three runs per case
//! that change file contents and add or remove secrets between them.
//!
//! `SOPS_INSTALL_DIFF_SEED` (default 2026) and `SOPS_INSTALL_DIFF_CASES` (default 200) choose
//! the cases; case `i` uses seed `SEED + i`. A difference prints the case's seed and the
//! smallest manifest sequence (secrets, templates and runs removed one by one) that still
//! shows it.
//!
//! The generator avoids the deliberate differences (README "Where we differ"), which the
//! scenarios pin: an owner or mode never changes between runs (W9), a secret or template with a
//! custom path is never dropped (W20), templates only name installed secrets (W16a), names are
//! unique (W19) and keys are ones sops-nix can read (W11).

use serde_json::{json, Value};

use crate::scenarios::{self, compare, manifest, secret, step, template, Expect, Lab};
use crate::world::{self, Case};

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// (file base name, key, format): what a secret may read.
const SOURCES: &[(&str, &str, &str)] = &[
    ("yaml", "db/password", "yaml"),
    ("yaml", "db/user", "yaml"),
    ("yaml", "plain", "yaml"),
    ("yaml", "", "yaml"),
    ("json", "flat", "json"),
    ("json", "", "json"),
    ("dotenv", "", "dotenv"),
    ("ini", "", "ini"),
    ("binary", "", "binary"),
];

/// One secret's fixed traits within a case (never changed between runs).
#[derive(Clone)]
struct Traits {
    name: String,
    source: (&'static str, &'static str, &'static str),
    owner: Value,
    group: Value,
    uid: u32,
    gid: u32,
    mode: &'static str,
    custom: Option<String>,
    restart: Vec<String>,
    reload: Vec<String>,
}

fn traits(rng: &mut Rng, name: String, custom_allowed: bool) -> Traits {
    let source = *rng.pick(SOURCES);
    let (owner, group, uid, gid) = match rng.below(5) {
        0 => (json!("alice"), Value::Null, 0, 0),
        1 => (json!("bob"), json!("staff"), 0, 0),
        2 => (Value::Null, Value::Null, 1501, 1600),
        3 => (json!("nobody"), json!("nogroup"), 0, 0),
        _ => (Value::Null, Value::Null, 0, 0),
    };
    let mode = *rng.pick(&["0400", "0440", "0600", "0644", "0700", "0444"]);
    let custom = (custom_allowed && rng.chance(30))
        .then(|| format!("/run/custom/{}/{name}", rng.pick(&["a", "b/c", "d"])));
    let units = |rng: &mut Rng| -> Vec<String> {
        (0..rng.below(3))
            .map(|_| format!("{}.service", rng.pick(&["web", "db", "cache", "mail"])))
            .collect()
    };
    let restart = units(rng);
    let reload = units(rng);
    Traits {
        name,
        source,
        owner,
        group,
        uid,
        gid,
        mode,
        custom,
        restart,
        reload,
    }
}

fn secret_json(lab: &Lab, t: &Traits, variant: bool) -> Value {
    let (base, key, format) = t.source;
    let file = if variant {
        format!("{base}2")
    } else {
        base.to_string()
    };
    let mut s = secret(&t.name, lab.file(&file), key, format);
    s["owner"] = t.owner.clone();
    s["group"] = t.group.clone();
    s["uid"] = json!(t.uid);
    s["gid"] = json!(t.gid);
    s["mode"] = json!(t.mode);
    if let Some(p) = &t.custom {
        s["path"] = json!(p);
    }
    s["restartUnits"] = json!(t.restart);
    s["reloadUnits"] = json!(t.reload);
    s
}

fn placeholder(name: &str) -> String {
    format!("<SOPS:{name}:PLACEHOLDER>")
}

/// The case of one seed.
pub fn generate(lab: &Lab, seed: u64) -> Case {
    let mut rng = Rng::new(seed);
    let pool: Vec<Traits> = (0..1 + rng.below(6))
        .map(|i| traits(&mut rng, format!("s{i}"), true))
        .collect();
    let keep = *rng.pick(&[0u64, 1, 1, 2, 3]);
    let runs = 1 + rng.below(3);
    let mut present: Vec<bool> = pool.iter().map(|_| rng.chance(80)).collect();
    present[0] = true;
    let mut variant: Vec<bool> = pool.iter().map(|_| rng.chance(50)).collect();
    // Templates: fixed per case; each names secrets of the pool.
    let templates: Vec<(Traits, Vec<usize>, String)> = (0..rng.below(3))
        .map(|i| {
            let t = traits(&mut rng, format!("t{i}"), true);
            let uses: Vec<usize> = (0..1 + rng.below(2))
                .map(|_| rng.below(pool.len()))
                .collect();
            let text = rng.pick(&["", "prefix ", "a\nb "]).to_string();
            (t, uses, text)
        })
        .collect();
    let mut steps = Vec::new();
    for run in 0..runs {
        if run > 0 {
            for i in 0..pool.len() {
                if rng.chance(40) {
                    variant[i] = !variant[i];
                }
                // Only a secret without a custom path may come and go (W20).
                if i > 0 && pool[i].custom.is_none() && rng.chance(25) {
                    present[i] = !present[i];
                }
            }
        }
        // A secret a template uses is always installed (W16a).
        for (_, uses, _) in &templates {
            for &u in uses {
                present[u] = true;
            }
        }
        let secrets: Vec<Value> = pool
            .iter()
            .enumerate()
            .filter(|(i, _)| present[*i])
            .map(|(i, t)| secret_json(lab, t, variant[i]))
            .collect();
        let tmpl: Vec<Value> = templates
            .iter()
            .map(|(t, uses, text)| {
                let content: String = uses
                    .iter()
                    .map(|&u| format!("{text}{}\n", placeholder(&pool[u].name)))
                    .collect();
                let mut v = template(&t.name, &content);
                v["owner"] = t.owner.clone();
                v["group"] = t.group.clone();
                v["uid"] = json!(t.uid);
                v["gid"] = json!(t.gid);
                v["mode"] = json!(t.mode);
                if let Some(p) = &t.custom {
                    v["path"] = json!(p);
                }
                v["restartUnits"] = json!(t.restart);
                v["reloadUnits"] = json!(t.reload);
                v
            })
            .collect();
        let mut m = manifest(lab, json!(secrets), json!(tmpl));
        m["keepGenerations"] = json!(keep);
        let placeholders: serde_json::Map<String, Value> = pool
            .iter()
            .enumerate()
            .filter(|(i, _)| present[*i])
            .map(|(_, t)| (t.name.clone(), json!(placeholder(&t.name))))
            .collect();
        m["placeholderBySecretName"] = Value::Object(placeholders);
        steps.push(step(m));
    }
    Case {
        name: format!("seed {seed}"),
        steps,
    }
}

fn env_u64(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Differences of one case, run alone through both binaries.
fn differs(lab: &Lab, case: &Case) -> Vec<String> {
    let s = scenarios::Scenario {
        case: case.clone(),
        expect: Expect::default(),
    };
    scenarios::differences(lab, &[s])
}

/// Removes runs, then secrets and templates (by name, from every run), while the difference
/// stays.
fn shrink(lab: &Lab, mut case: Case) -> Case {
    let mut i = 0;
    while case.steps.len() > 1 && i < case.steps.len() {
        let mut c = case.clone();
        c.steps.remove(i);
        if differs(lab, &c).is_empty() {
            i += 1;
        } else {
            case = c;
        }
    }
    for list in ["templates", "secrets"] {
        let names: Vec<String> = case
            .steps
            .iter()
            .flat_map(|s| s.manifest[list].as_array().cloned().unwrap_or_default())
            .filter_map(|v| v["name"].as_str().map(str::to_string))
            .collect();
        for name in names {
            let mut c = case.clone();
            for s in &mut c.steps {
                if let Some(arr) = s.manifest[list].as_array_mut() {
                    arr.retain(|v| v["name"] != json!(name));
                }
                if list == "secrets" {
                    if let Some(map) = s.manifest["placeholderBySecretName"].as_object_mut() {
                        map.remove(&name);
                    }
                }
            }
            // A secret a template still uses stays (W16a).
            let used = c.steps.iter().any(|s| {
                s.manifest["templates"].as_array().is_some_and(|ts| {
                    ts.iter().any(|t| {
                        t["content"]
                            .as_str()
                            .is_some_and(|x| x.contains(&placeholder(&name)))
                    })
                })
            });
            if list == "secrets" && used {
                continue;
            }
            if c.steps.iter().all(|s| {
                s.manifest["secrets"]
                    .as_array()
                    .is_some_and(|a| !a.is_empty())
            }) && !differs(lab, &c).is_empty()
            {
                case = c;
            }
        }
    }
    case
}

pub fn run() {
    let seed = env_u64("SOPS_INSTALL_DIFF_SEED", 2026);
    let n = env_u64("SOPS_INSTALL_DIFF_CASES", 200);
    let original = world::original("SOPS_NIX_INSTALL_SECRETS", "sops-install-secrets")
        .unwrap_or_else(|e| panic!("{e}"));
    let lab = Lab::new();
    let cases: Vec<Case> = (0..n).map(|i| generate(&lab, seed + i)).collect();
    let started = std::time::Instant::now();
    let ours = world::run_cases(&world::ours(), lab.dir.path(), &cases);
    let orig = world::run_cases(&original, lab.dir.path(), &cases);
    let runs: usize = cases.iter().map(|c| c.steps.len()).sum();
    println!(
        "random manifests: {n} cases (seeds {seed}..{}), {runs} runs per binary, {:.1} s",
        seed + n,
        started.elapsed().as_secs_f64()
    );
    let mut failures = Vec::new();
    for ((case, a), b) in cases.iter().zip(&ours).zip(&orig) {
        let diffs = compare(case, &Expect::default(), a, b);
        if diffs.is_empty() {
            continue;
        }
        let small = shrink(&lab, case.clone());
        let manifests: Vec<String> = small
            .steps
            .iter()
            .map(|s| serde_json::to_string_pretty(&s.manifest).unwrap_or_default())
            .collect();
        failures.push(format!(
            "{}: rerun with SOPS_INSTALL_DIFF_SEED={} SOPS_INSTALL_DIFF_CASES=1\n{}\n\
             smallest manifest sequence still differing ({} runs):\n{}",
            case.name,
            case.name.trim_start_matches("seed "),
            diffs.join("\n"),
            small.steps.len(),
            manifests.join("\n---\n")
        ));
        if failures.len() >= 3 {
            break;
        }
    }
    assert!(
        failures.is_empty(),
        "random manifests differ:\n{}",
        failures.join("\n\n")
    );
}
