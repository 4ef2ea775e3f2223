//! The interop corpus: which store, encryption option, plaintext, `--extract` paths and output
//! conversions each generated document gets (extract paths: one per kind of value found).
//! Deterministic for a given seed and size.

use crate::flat;
use crate::pools;
use crate::pools::Rng;
use crate::tree::{self, Item, Node, Scalar};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Store {
    Yaml,
    Json,
    Dotenv,
    Ini,
    Binary,
}

impl Store {
    pub fn name(self) -> &'static str {
        match self {
            Store::Yaml => "yaml",
            Store::Json => "json",
            Store::Dotenv => "dotenv",
            Store::Ini => "ini",
            Store::Binary => "binary",
        }
    }

    /// The extension sops infers this store from.
    pub fn ext(self) -> &'static str {
        match self {
            Store::Yaml => "yaml",
            Store::Json => "json",
            Store::Dotenv => "env",
            Store::Ini => "ini",
            Store::Binary => "bin",
        }
    }
}

/// How a document is encrypted (each becomes a `.sops.yaml` creation rule).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opt {
    OneRecipient,
    TwoRecipients,
    Shamir,
    SshConverted,
    SshNative,
    EncryptedRegex,
    UnencryptedRegex,
    UnencryptedSuffix,
    EncryptedSuffix,
    MacOnly,
    EncryptedCommentRegex,
    UnencryptedCommentRegex,
}

impl Opt {
    pub const ALL: [Opt; 12] = [
        Opt::OneRecipient,
        Opt::TwoRecipients,
        Opt::Shamir,
        Opt::SshConverted,
        Opt::SshNative,
        Opt::EncryptedRegex,
        Opt::UnencryptedRegex,
        Opt::UnencryptedSuffix,
        Opt::EncryptedSuffix,
        Opt::MacOnly,
        Opt::EncryptedCommentRegex,
        Opt::UnencryptedCommentRegex,
    ];
    /// The binary store has a single value: key rules do not apply.
    const KEYS_ONLY: [Opt; 5] = [
        Opt::OneRecipient,
        Opt::TwoRecipients,
        Opt::Shamir,
        Opt::SshConverted,
        Opt::SshNative,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Opt::OneRecipient => "one age recipient",
            Opt::TwoRecipients => "two age recipients",
            Opt::Shamir => "shamir 2 of 3",
            Opt::SshConverted => "ssh-to-age recipient",
            Opt::SshNative => "ssh-ed25519 recipient",
            Opt::EncryptedRegex => "encrypted_regex",
            Opt::UnencryptedRegex => "unencrypted_regex",
            Opt::UnencryptedSuffix => "unencrypted_suffix",
            Opt::EncryptedSuffix => "encrypted_suffix",
            Opt::MacOnly => "mac_only_encrypted",
            Opt::EncryptedCommentRegex => "encrypted_comment_regex",
            Opt::UnencryptedCommentRegex => "unencrypted_comment_regex",
        }
    }
}

/// One generated document and what to ask of it.
pub struct Doc {
    pub id: usize,
    pub store: Store,
    pub opt: Opt,
    pub plain: Vec<u8>,
    /// `--extract` paths (YAML and JSON only).
    pub extracts: Vec<String>,
    /// Output types to convert to, besides the input type.
    pub conversions: Vec<Store>,
}

/// Store mix per 16 documents: 6 YAML, 4 JSON, 2 each of dotenv, INI and binary.
const MIX: [Store; 16] = [
    Store::Yaml,
    Store::Json,
    Store::Dotenv,
    Store::Yaml,
    Store::Ini,
    Store::Json,
    Store::Yaml,
    Store::Binary,
    Store::Yaml,
    Store::Json,
    Store::Dotenv,
    Store::Yaml,
    Store::Ini,
    Store::Json,
    Store::Yaml,
    Store::Binary,
];

pub fn generate(seed: u64, count: usize) -> Vec<Doc> {
    let mut rng = Rng::new(seed);
    let mut per_store = [0usize; 5];
    (0..count)
        .map(|id| {
            let store = MIX[id % MIX.len()];
            let n = &mut per_store[store as usize];
            let opts: &[Opt] = if store == Store::Binary {
                &Opt::KEYS_ONLY
            } else {
                &Opt::ALL
            };
            let opt = opts[*n % opts.len()];
            let convert = *n % 3 == 0;
            *n += 1;
            let mut doc = Doc {
                id,
                store,
                opt,
                plain: Vec::new(),
                extracts: Vec::new(),
                conversions: Vec::new(),
            };
            fill(&mut rng, &mut doc, convert);
            doc
        })
        .collect()
}

fn fill(rng: &mut Rng, doc: &mut Doc, convert: bool) {
    match doc.store {
        Store::Yaml => {
            let count = if rng.chance(1, 10) {
                2 + rng.below(2)
            } else {
                1
            };
            let docs: Vec<Vec<tree::Item>> =
                (0..count).map(|_| tree::gen_map(rng, 0, false)).collect();
            doc.plain = tree::to_yaml(rng, &docs).into_bytes();
            if count == 1 {
                doc.extracts = extract_paths(rng, &docs[0], 5);
            }
            if convert {
                doc.conversions.push(Store::Json);
            }
        }
        Store::Json => {
            let items = tree::gen_map(rng, 0, true);
            doc.plain = tree::to_json(rng, &items).into_bytes();
            doc.extracts = extract_paths(rng, &items, 5);
            if convert {
                doc.conversions.push(Store::Yaml);
            }
        }
        Store::Dotenv => {
            doc.plain = flat::dotenv(rng).into_bytes();
            if convert {
                doc.conversions.push(Store::Json);
            }
        }
        Store::Ini => {
            doc.plain = flat::ini(rng).into_bytes();
            if convert {
                doc.conversions.push(Store::Yaml);
            }
        }
        Store::Binary => doc.plain = flat::binary(rng),
    }
}

/// Up to `max` `--extract` paths of different kinds (string, map, list, number, bool, ...).
pub fn extract_paths(rng: &mut Rng, items: &[Item], max: usize) -> Vec<String> {
    let mut found: Vec<(u8, String)> = Vec::new();
    collect_paths(items, String::new(), 0, &mut found);
    let mut chosen: Vec<String> = Vec::new();
    let mut kinds: Vec<u8> = found.iter().map(|(k, _)| *k).collect();
    kinds.sort_unstable();
    kinds.dedup();
    for kind in kinds {
        let of_kind: Vec<&String> = found
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, p)| p)
            .collect();
        chosen.push(of_kind[rng.below(of_kind.len())].clone());
    }
    while chosen.len() > max {
        chosen.remove(rng.below(chosen.len()));
    }
    chosen
}

fn collect_paths(items: &[Item], prefix: String, depth: usize, found: &mut Vec<(u8, String)>) {
    for item in items.iter().filter(|i| pools::is_path_safe(&i.key)) {
        let path = format!("{prefix}[\"{}\"]", item.key);
        collect_node(&item.value, path, depth, found);
    }
}

fn collect_node(node: &Node, path: String, depth: usize, found: &mut Vec<(u8, String)>) {
    let kind = match node {
        Node::Scalar(Scalar::Str(_)) => 0,
        Node::Scalar(Scalar::Int(_) | Scalar::Float(_)) => 1,
        Node::Scalar(Scalar::Bool(_)) => 2,
        Node::Scalar(_) => 3,
        Node::Map(_) => 4,
        Node::List(_) => 5,
    };
    match node {
        Node::Map(m) if depth < 6 => collect_paths(m, path.clone(), depth + 1, found),
        Node::List(l) if depth < 6 => {
            for (i, n) in l.iter().enumerate() {
                collect_node(n, format!("{path}[{i}]"), depth + 1, found);
            }
        }
        _ => {}
    }
    found.push((kind, path));
}
