//! The INI writer: what gopkg.in/ini.v1 prints for the sections sops builds from a tree
//! (spec 7.4), rebuilt from the real binary's output.
//!
//! Every top-level pair of every branch is a section (comments there are dropped); inside a
//! section a leading comment is the section comment, later comments belong to the key before
//! them (the last one wins), a repeated key replaces the earlier value in place.

use crate::sops::tree::comment_text;
use std::collections::HashMap;

use super::text::{push_scalar, trim};
use crate::secret_bytes::SecretBytes;
use crate::sops::stores::StoreError;
use crate::sops::tree::{Entry, Map, Value};

/// Alignment makes the output (longest key × number of keys) bytes long at least; refuse
/// hostile trees that would blow that up.
const MAX_ALIGNED_BYTES: usize = 256 << 20;

struct OutKey<'a> {
    name: &'a str,
    value: SecretBytes,
    comment: Option<&'a SecretBytes>,
}

struct OutSection<'a> {
    name: &'a str,
    comment: Option<&'a SecretBytes>,
    keys: Vec<OutKey<'a>>,
}

fn build_section<'a>(n: usize, name: &'a str, map: &'a Map) -> Result<OutSection<'a>, StoreError> {
    if name.is_empty() {
        return Err(StoreError::new(format!("section {n}: empty section name")));
    }
    let mut entries = map.0.iter().peekable();
    let comment = match entries.peek() {
        Some(Entry::Comment(c)) => {
            entries.next();
            Some(c)
        }
        _ => None,
    };
    let mut keys: Vec<OutKey<'a>> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut last: Option<usize> = None;
    for entry in entries {
        match entry {
            Entry::Comment(c) => {
                if let Some(key) = last.and_then(|i| keys.get_mut(i)) {
                    key.comment = Some(c);
                }
            }
            Entry::Pair(key, value) => {
                if key.is_empty() {
                    return Err(StoreError::new(format!("section {n}: empty key name")));
                }
                let mut rendered = SecretBytes::new();
                push_scalar(&mut rendered, value).map_err(|kind| {
                    StoreError::new(format!("section {n}: an INI value cannot be a {kind}"))
                })?;
                match index.get(key.as_str()) {
                    Some(&i) => {
                        if let Some(k) = keys.get_mut(i) {
                            k.value = rendered;
                        }
                        last = Some(i);
                    }
                    None => {
                        index.insert(key, keys.len());
                        last = Some(keys.len());
                        keys.push(OutKey {
                            name: key,
                            value: rendered,
                            comment: None,
                        });
                    }
                }
            }
        }
    }
    Ok(OutSection {
        name,
        comment,
        keys,
    })
}

/// Writes a comment line by line; `trim_plain` trims lines without a marker (key comments).
fn push_comment(out: &mut SecretBytes, text: &[u8], trim_plain: bool) -> Result<(), StoreError> {
    for line in text.split(|&b| b == b'\n') {
        match line.first() {
            None => {
                return Err(StoreError::new(
                    "a comment with an empty line cannot be printed",
                ))
            }
            Some(&marker @ (b';' | b'#')) => {
                out.push(marker);
                out.push(b' ');
                out.extend_from_slice(trim(&line[1..]));
            }
            Some(_) => {
                out.extend_from_slice(b"; ");
                out.extend_from_slice(if trim_plain { trim(line) } else { line });
            }
        }
        out.push(b'\n');
    }
    Ok(())
}

/// The key as written (quoted when needed) and the extra bytes the quotes add.
fn quoted_key(name: &str) -> (&'static str, &'static str) {
    if name.contains(['"', '=', ':']) {
        ("`", "`")
    } else if name.contains('`') {
        ("\"\"\"", "\"\"\"")
    } else {
        ("", "")
    }
}

fn push_value(out: &mut SecretBytes, v: &[u8]) {
    let quote: &[u8] = if v.iter().any(|&b| b == b'\n' || b == b'`') {
        b"\"\"\""
    } else if v.iter().any(|&b| b == b'#' || b == b';') {
        b"`"
    } else if trim(v).len() != v.len() {
        b"\""
    } else {
        b""
    };
    out.extend_from_slice(quote);
    out.extend_from_slice(v);
    out.extend_from_slice(quote);
}

/// Prints the branches as `sops decrypt --output-type ini` does.
pub fn emit(branches: &[Map]) -> Result<SecretBytes, StoreError> {
    let mut sections = Vec::new();
    for branch in branches {
        for entry in &branch.0 {
            match entry {
                Entry::Comment(_) => {}
                Entry::Pair(name, Value::Map(map)) => {
                    sections.push(build_section(sections.len() + 1, name, map)?)
                }
                Entry::Pair(_, _) => {
                    return Err(StoreError::new(format!(
                        "section {}: a top-level INI value must be a map (a section)",
                        sections.len() + 1
                    )))
                }
            }
        }
    }
    let mut out = SecretBytes::new();
    let count = sections.len();
    for (i, section) in sections.iter().enumerate() {
        if let Some(c) = section.comment.filter(|c| !c.is_empty()) {
            push_comment(&mut out, comment_text(c.as_bytes()), false)?;
        }
        if i > 0 || section.name.to_uppercase() != "DEFAULT" {
            out.push(b'[');
            out.push_str(section.name);
            out.extend_from_slice(b"]\n");
        } else if section.keys.is_empty() {
            continue;
        }
        let width = section
            .keys
            .iter()
            .map(|k| {
                let (open, close) = quoted_key(k.name);
                k.name.len() + open.len() + close.len()
            })
            .max()
            .unwrap_or(0);
        if width.saturating_mul(section.keys.len()) > MAX_ALIGNED_BYTES {
            return Err(StoreError::new(format!(
                "section {}: too many bytes of alignment padding",
                i + 1
            )));
        }
        for key in &section.keys {
            if let Some(c) = key.comment.filter(|c| !c.is_empty()) {
                push_comment(&mut out, comment_text(c.as_bytes()), true)?;
            }
            let (open, close) = quoted_key(key.name);
            out.push_str(open);
            out.push_str(key.name);
            out.push_str(close);
            let written = key.name.len() + open.len() + close.len();
            for _ in written..width {
                out.push(b' ');
            }
            out.extend_from_slice(b" = ");
            push_value(&mut out, key.value.as_bytes());
            out.push(b'\n');
        }
        if i + 1 < count {
            out.push(b'\n');
        }
    }
    Ok(out)
}
