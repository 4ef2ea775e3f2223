//! The interop generator for the flat stores: dotenv files (comments, `export` keys, `\n`
//! escapes, raw quotes, CR), INI files (DEFAULT keys, sections, duplicate and empty sections,
//! comments, quoting) and binary blobs (NUL bytes, invalid UTF-8, no trailing newline).

use crate::pools::{self, Rng};

const ENV_KEYS: &[&str] = &[
    "PASSWORD",
    "API_TOKEN",
    "HOST",
    "PORT",
    "name",
    "lower.dotted",
    "DB_URL",
    "EMPTY",
    "SECRET_ENC",
    "PORT_PLAIN",
    "DEBUG_unencrypted",
    "data",
    "ÜNÏ",
    "SPACES ",
    "K-DASH",
];

const ENV_VALUES: &[&str] = &[
    "",
    "plain",
    "with spaces",
    " around ",
    "trailing  ",
    "\"double quoted\"",
    "'single'",
    "a=b=c",
    "value # not a comment",
    "line1\\nline2",
    "ends\\n",
    "\\n",
    "back\\slash",
    "tab\there",
    "unicode ✓ 日本語 🔐",
    "RTL שלום",
    "e\u{301}",
    "bom\u{feff}x",
    "cr\r",
    "$HOME and ${VAR}",
    "`cmd`",
    "hunter2",
    "0",
    "true",
    "null",
    "1e10",
    "{\"json\": 1}",
];

/// A dotenv file: comments, blank lines, `KEY=value` and `export KEY=value` lines.
pub fn dotenv(rng: &mut Rng) -> String {
    let mut out = String::new();
    let mut used: Vec<String> = Vec::new();
    for _ in 0..rng.below(9) {
        match rng.below(10) {
            0 => out.push_str(&format!("#{}\n", comment_text(rng))),
            1 => out.push('\n'),
            _ => {
                let base = if rng.chance(1, 2) {
                    rng.pick(ENV_KEYS).to_string()
                } else {
                    format!("VAR_{}", rng.below(500))
                };
                let key = if rng.chance(1, 6) {
                    format!("export {base}")
                } else {
                    base
                };
                if used.contains(&key) {
                    continue;
                }
                used.push(key.clone());
                out.push_str(&format!("{key}={}\n", env_value(rng)));
            }
        }
    }
    out
}

fn comment_text(rng: &mut Rng) -> String {
    let c = pools::comment(rng);
    if rng.chance(1, 2) {
        format!(" {c}")
    } else {
        c
    }
}

fn env_value(rng: &mut Rng) -> String {
    if rng.chance(2, 3) {
        return rng.pick(ENV_VALUES).to_string();
    }
    // A random string on one line: real newlines become the `\n` escape.
    pools::string(rng).replace('\n', "\\n").replace('\r', "")
}

const INI_KEYS: &[&str] = &[
    "password",
    "token",
    "host",
    "port",
    "name",
    "key with spaces",
    "ünï",
    "dotted.key",
    "secret_enc",
    "note_plain",
    "debug_unencrypted",
    "UPPER",
    "x",
    "empty",
];

const INI_VALUES: &[&str] = &[
    "plain",
    "with spaces",
    "42",
    "true",
    "x=y",
    "a:b",
    "unicode ✓ 日本語",
    "hunter2",
    "http://example.com/?q=1",
    "RTL שלום",
    "e\u{301}",
    "",
    "1e10",
    "-0.0",
    "null",
];

/// An INI file: keys before any section (DEFAULT), sections (some repeated or empty),
/// comments before sections and keys, inline comments, quoted values.
pub fn ini(rng: &mut Rng) -> String {
    let mut out = String::new();
    if rng.chance(1, 3) {
        ini_keys(rng, &mut out);
    }
    let mut names: Vec<String> = Vec::new();
    for _ in 0..1 + rng.below(4) {
        let name = if !names.is_empty() && rng.chance(1, 8) {
            names[rng.below(names.len())].clone()
        } else {
            rng.pick(&[
                "section1",
                "section.two",
                "server",
                "db",
                "empty",
                "ünï",
                "a b",
            ])
            .to_string()
        };
        names.push(name.clone());
        if rng.chance(1, 3) {
            out.push_str(&format!(
                "{} {}\n",
                rng.pick(&[";", "#"]),
                pools::comment(rng)
            ));
        }
        if !out.is_empty() && rng.chance(1, 2) {
            out.push('\n');
        }
        out.push_str(&format!("[{name}]\n"));
        if name != "empty" {
            ini_keys(rng, &mut out);
        }
    }
    out
}

fn ini_keys(rng: &mut Rng, out: &mut String) {
    let mut used: Vec<&str> = Vec::new();
    for _ in 0..1 + rng.below(5) {
        let key = rng.pick(INI_KEYS);
        if used.contains(&key) {
            continue;
        }
        used.push(key);
        if rng.chance(1, 5) {
            out.push_str(&format!(
                "{} {}\n",
                rng.pick(&[";", "#"]),
                pools::comment(rng)
            ));
        }
        let delim = rng.pick(&[" = ", "=", ": ", " =  "]);
        out.push_str(&format!("{key}{delim}{}", ini_value(rng)));
        if rng.chance(1, 8) {
            out.push_str(" ; inline comment");
        }
        out.push('\n');
    }
}

fn ini_value(rng: &mut Rng) -> String {
    match rng.below(8) {
        0 => format!(
            "\"{}\"",
            rng.pick(&["  padded  ", "a;b", "a # b", "quoted value", ""])
        ),
        1 => format!(
            "`{}`",
            rng.pick(&["semi;colon", "hash # here", "\"quotes\""])
        ),
        2 => format!(
            "\"\"\"{}\"\"\"",
            rng.pick(&["line1\nline2", "multi\nline\ntext", "one"])
        ),
        _ => rng.pick(INI_VALUES).to_string(),
    }
}

/// Binary content: random bytes (NUL, invalid UTF-8), text with or without a final newline,
/// or nothing.
pub fn binary(rng: &mut Rng) -> Vec<u8> {
    match rng.below(6) {
        0 => Vec::new(),
        1 => b"just text, no trailing newline".to_vec(),
        2 => "text with newline ✓\n".as_bytes().to_vec(),
        3 => vec![0u8; 1 + rng.below(40)],
        _ => (0..rng.below(400))
            .map(|_| (rng.next() & 0xff) as u8)
            .collect(),
    }
}
