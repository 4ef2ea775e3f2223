//! YAML text -> branches and metadata, as sops 3.11 reads a file with yaml.v3.
//!
//! Every document becomes one branch (its top node must be a mapping; an empty document is an
//! empty map). The value of the top-level `sops` key of the first document is the metadata
//! (comments dropped); every top-level `sops` entry is removed from every document.
//!
//! Comments are placed the way yaml.v3 attaches them and sops turns them into items:
//! * a full-line comment goes to the innermost open collection whose items start at or left of
//!   its column: before the next item when that collection goes on, at its end otherwise (a
//!   comment at the dash column after the last element of a list whose last element is a map
//!   goes to the end of that map);
//! * a comment after content on the same line goes just before that entry or element (for the
//!   first key of a map that starts on a `- ` line: before that list element);
//! * comments between `key:` and a scalar value on a later line go before the entry;
//! * a comment after a bare `- ` with a sequence starting on the next lines leads that inner
//!   sequence (yaml.v3 gives it to the inner sequence's first element).
//!
//! Scalars are typed by `resolve` (tags; plain scalars by the shared `yaml::typing`); aliases
//! are expanded as copies within a size budget; nesting is capped.

mod block;
mod block_scalar;
mod flow;
mod node;
mod resolve;
mod scalar;
mod scanner;

#[cfg(test)]
mod tests_docs;
#[cfg(test)]
mod tests_fixtures;
#[cfg(test)]
mod tests_robust;
#[cfg(test)]
mod tests_roundtrip;
#[cfg(test)]
mod tests_units;

use block::Ctx;
use scanner::{PResult, Parser, Pending};

use crate::sops::stores::{LoadedFile, StoreError};
use crate::sops::tree::{Entry, Map, Value};

/// Parses a YAML file into its documents and the `sops` metadata of the first one.
pub fn load(input: &[u8]) -> Result<LoadedFile, StoreError> {
    if let Err(e) = std::str::from_utf8(input) {
        let line = 1 + input[..e.valid_up_to()]
            .iter()
            .filter(|&&c| c == b'\n')
            .count();
        return Err(StoreError::at_line(line, "invalid UTF-8"));
    }
    let mut parser = Parser::new(input);
    let mut branches = parser.documents()?;
    // sops 3.13 decodes the whole first document with yaml.v3's unique-key check: a key
    // repeated in any map of it (block or flow, data or metadata, `"a"` and `a` alike) is an
    // error. Later documents are not checked. (sops 3.11 and 3.12 checked only the top and the
    // metadata.)
    if let Some(first) = branches.first() {
        unique_keys(first)?;
    }
    let mut metadata = None;
    for (i, doc) in branches.iter_mut().enumerate() {
        let entries = std::mem::take(&mut doc.0);
        for e in entries {
            match e {
                Entry::Pair(k, v) if k == "sops" => {
                    if i == 0 && metadata.is_none() {
                        metadata = Some(strip_comments(v));
                    }
                }
                other => doc.0.push(other),
            }
        }
    }
    Ok(LoadedFile { branches, metadata })
}

/// Fails on the first key that a map, or any map below it, repeats.
fn unique_keys(map: &Map) -> Result<(), StoreError> {
    let mut seen = std::collections::HashSet::new();
    for (k, v) in map.pairs() {
        if !seen.insert(k) {
            return Err(StoreError::new(format!(
                "mapping key {k:?} already defined"
            )));
        }
        unique_keys_in(v)?;
    }
    Ok(())
}

fn unique_keys_in(v: &Value) -> Result<(), StoreError> {
    match v {
        Value::Map(m) => unique_keys(m),
        Value::List(items) => items.iter().try_for_each(unique_keys_in),
        _ => Ok(()),
    }
}

/// Removes comment items from a value (nesting is bounded by the parser's cap).
fn strip_comments(v: Value) -> Value {
    match v {
        Value::Map(m) => Value::Map(Map(m
            .0
            .into_iter()
            .filter_map(|e| match e {
                Entry::Pair(k, v) => Some(Entry::Pair(k, strip_comments(v))),
                Entry::Comment(_) => None,
            })
            .collect())),
        Value::List(l) => Value::List(
            l.into_iter()
                .filter(|v| !matches!(v, Value::Comment(_)))
                .map(strip_comments)
                .collect(),
        ),
        other => other,
    }
}

impl<'a> Parser<'a> {
    fn documents(&mut self) -> PResult<Vec<Map>> {
        let mut docs = Vec::new();
        loop {
            self.skip_to_content(true)?;
            let mut directive = false;
            let mut seen_version = false;
            while !self.eof() && self.col() == 0 && self.peek() == Some(b'%') {
                self.directive(&mut seen_version)?;
                directive = true;
                self.skip_to_content(true)?;
            }
            if self.at_doc_marker() && self.peek() == Some(b'-') {
                self.pos += 3;
                if let Some(first_block) = self.comment_block_after_marker_to_the_end() {
                    if !docs.is_empty() {
                        // `---` then only comments to the end, the first right below it:
                        // yaml.v3 hands that first block to the document before (sops prints
                        // it before the `---`); later blocks stay in this document.
                        let mut doc = self.document()?;
                        let n = first_block.min(doc.0.len());
                        if doc.0[..n].iter().all(|e| matches!(e, Entry::Comment(_))) {
                            let moved: Vec<Entry> = doc.0.drain(..n).collect();
                            if let Some(prev) = docs.last_mut() {
                                let prev: &mut Map = prev;
                                prev.0.extend(moved);
                            }
                        }
                        docs.push(doc);
                        continue;
                    }
                }
            } else if self.at_doc_marker() {
                self.pos += 3;
                self.trailing.clear();
                continue;
            } else if self.eof() {
                if directive {
                    return Err(self.err("directive without a document"));
                }
                break;
            }
            docs.push(self.document()?);
        }
        Ok(docs)
    }

    /// After `---`: when the rest of its line is blank, the next line is a comment and only
    /// comment and blank lines follow to the end of the input, the number of comment lines in
    /// the first block (up to the first blank line).
    fn comment_block_after_marker_to_the_end(&self) -> Option<usize> {
        let rest = self.b.get(self.pos..).unwrap_or_default();
        let mut lines = rest.split(|&c| c == b'\n').map(|l| {
            let l = l.strip_suffix(b"\r").unwrap_or(l);
            let skip = l.iter().take_while(|&&c| c == b' ' || c == b'\t').count();
            &l[skip..]
        });
        if !lines.next()?.is_empty() {
            return None;
        }
        let rest: Vec<&[u8]> = lines.collect();
        if !rest.first()?.starts_with(b"#") {
            return None;
        }
        if !rest.iter().all(|l| l.is_empty() || l.starts_with(b"#")) {
            return None;
        }
        Some(rest.iter().take_while(|l| l.starts_with(b"#")).count())
    }

    /// One directive line at `%`, checked as yaml.v3 checks it: `%YAML` must say 1.1 and
    /// appear once per document, `%TAG` is accepted, any other name is refused.
    fn directive(&mut self, seen_version: &mut bool) -> PResult<()> {
        self.pos += 1;
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        {
            self.pos += 1;
        }
        let name = &self.b[start..self.pos];
        if name == b"YAML" {
            self.skip_inline_ws();
            let major = self.directive_number()?;
            if self.peek() != Some(b'.') {
                return Err(self.err("did not find expected digit or '.' character"));
            }
            self.pos += 1;
            let minor = self.directive_number()?;
            if !matches!(self.peek(), None | Some(b' ' | b'\t' | b'\n' | b'\r')) {
                return Err(self.err("did not find expected comment or line break"));
            }
            self.skip_inline_ws();
            if !self.at_eol() && self.peek() != Some(b'#') {
                return Err(self.err("did not find expected comment or line break"));
            }
            if *seen_version {
                return Err(self.err("found duplicate %YAML directive"));
            }
            *seen_version = true;
            if (major, minor) != (1, 1) {
                return Err(self.err("found incompatible YAML document (only %YAML 1.1)"));
            }
        } else if name != b"TAG" {
            return Err(self.err("found unknown directive name"));
        }
        while !self.at_eol() {
            self.pos += 1;
        }
        Ok(())
    }

    /// The digits of a `%YAML` version part (at most 9, as yaml.v3 allows).
    fn directive_number(&mut self) -> PResult<u32> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let digits = &self.b[start..self.pos];
        if digits.is_empty() {
            return Err(self.err("did not find expected version number"));
        }
        if digits.len() > 9 {
            return Err(self.err("found extremely long version number"));
        }
        Ok(digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    }

    /// One document body, from after its `---` (if any) to its end.
    fn document(&mut self) -> PResult<Map> {
        self.skip_to_content(true)?;
        for text in std::mem::take(&mut self.trailing) {
            self.pending.insert(0, Pending { col: 0, text });
        }
        let mut map = if self.eof() || self.at_doc_marker() {
            Map::new()
        } else {
            let at_line_start = self
                .b
                .get(self.line_start..self.pos)
                .unwrap_or_default()
                .iter()
                .all(|&c| c == b' ' || c == b'\t');
            let v = if at_line_start {
                let props = self.parse_props()?;
                self.node_content(-1, Ctx::Document, props, true)?
            } else {
                self.block_value(-1, Ctx::Document)?
            };
            match v {
                Value::Map(m) => m,
                Value::Null => Map::new(),
                other => {
                    return Err(self.err(format_args!(
                        "the top level of a document must be a mapping, not a {}",
                        other.kind_name()
                    )))
                }
            }
        };
        self.skip_to_content(true)?;
        map.0.extend(
            self.trailing
                .drain(..)
                .map(Entry::Comment)
                .collect::<Vec<_>>(),
        );
        for t in self.take_all_pending() {
            map.0.push(Entry::Comment(t));
        }
        if self.at_doc_marker() && self.peek() == Some(b'.') {
            self.pos += 3;
            self.trailing.clear();
            self.skip_to_content(true)?;
            self.trailing.clear();
        } else if !self.eof() && !self.at_doc_marker() {
            return Err(self.err_col("unexpected content after the document"));
        }
        Ok(map)
    }
}
