//! Branches -> YAML text exactly as `sops decrypt` prints it with yaml.v3 (indent 4, unlimited
//! width): block layout with yaml.v3's indentation, empty collections as `{}`/`[]`, long or
//! multi-line keys in the explicit `? `/`: ` form, and comments placed where yaml.v3 puts the
//! head and foot comments sops attaches to its nodes.
//!
//! Submodules: `scalar` (style decision and scalar writers; which strings need quotes is
//! `yaml::typing`, shared with the reader), `go_float` (float spelling), `writer` (the output
//! cursor), `chars` (character classes both writers use).

mod chars;
mod go_float;
mod scalar;
mod writer;

#[cfg(test)]
mod tests_layout;
#[cfg(test)]
mod tests_sweep;

use crate::secret_bytes::SecretBytes;
use crate::sops::stores::StoreError;
use crate::sops::tree::inline_comment;
use crate::sops::tree::{Entry, Map, Value};

use scalar::{plain_scalar, string_scalar, write_scalar, Scalar};
use writer::Out;

/// Deepest nesting of maps and lists the emitter accepts.
const MAX_DEPTH: usize = 256;

/// Longest simple key (tag included), as yaml.v3 allows.
const MAX_SIMPLE_KEY: usize = 128;

/// Prints all branches as a YAML stream, documents separated by `---`.
pub fn emit_file(branches: &[Map]) -> Result<SecretBytes, StoreError> {
    let mut e = Emitter::new();
    for (n, branch) in branches.iter().enumerate() {
        if n > 0 {
            e.out.write_indent(0);
            e.out.indicator(b"---", true, false, false);
            e.out.write_indent(0);
        }
        let (head, entries, foot) = split_map(branch);
        if entries.is_empty() {
            e.out.comments(&head, 0);
            e.out.indicator(b"{}", true, false, false);
        } else {
            e.out.comments(&head, 0);
            e.block_map(&entries, &foot, 0, 1)?;
        }
        e.end_document();
    }
    Ok(e.out.buf)
}

/// Prints one value (from `--extract`) as a standalone YAML document.
pub fn emit_value(value: &Value) -> Result<SecretBytes, StoreError> {
    let mut e = Emitter::new();
    match value {
        Value::Map(m) => {
            let (head, entries, foot) = split_map(m);
            e.out.comments(&head, 0);
            if entries.is_empty() {
                e.out.indicator(b"{}", true, false, false);
            } else {
                e.block_map(&entries, &foot, 0, 1)?;
            }
        }
        Value::List(items) => {
            let (head, elems, foot) = split_list(items);
            e.out.comments(&head, 0);
            if elems.is_empty() {
                e.out.indicator(b"[]", true, false, false);
            } else {
                e.block_list(&elems, &foot, 0, 1)?;
            }
        }
        Value::Comment(_) => return Err(StoreError::new("a comment cannot be printed as a value")),
        leaf => {
            let sc = leaf_scalar(leaf).ok_or_else(|| StoreError::new("unprintable value"))?;
            write_scalar(&mut e.out, &sc, 4);
        }
    }
    e.end_document();
    Ok(e.out.buf)
}

/// A map entry with the comments printed before its key.
struct Pair<'a> {
    head: Vec<&'a [u8]>,
    /// Inline comments (sops 3.13), printed after the value on its line.
    line: Vec<&'a [u8]>,
    key: &'a str,
    value: &'a Value,
}

/// A list element with the comments printed before its dash.
struct Elem<'a> {
    head: Vec<&'a [u8]>,
    line: Vec<&'a [u8]>,
    value: &'a Value,
}

type Comments<'a> = Vec<&'a [u8]>;

/// Splits a map as sops hands it to yaml.v3: comments before the first pair (the mapping's
/// head), pairs with the comments before them, comments after the last pair (its foot).
fn split_map(m: &Map) -> (Comments<'_>, Vec<Pair<'_>>, Comments<'_>) {
    let mut pending = Vec::new();
    let mut inline = Vec::new();
    let mut head = Vec::new();
    let mut pairs: Vec<Pair<'_>> = Vec::new();
    for entry in &m.0 {
        match entry {
            Entry::Comment(c) => match inline_comment(c.as_bytes()) {
                Some(text) => inline.push(text),
                None => pending.push(c.as_bytes()),
            },
            Entry::Pair(k, v) => {
                let h = std::mem::take(&mut pending);
                let line = std::mem::take(&mut inline);
                if pairs.is_empty() {
                    head = h;
                    pairs.push(Pair {
                        head: Vec::new(),
                        line,
                        key: k,
                        value: v,
                    });
                } else {
                    pairs.push(Pair {
                        head: h,
                        line,
                        key: k,
                        value: v,
                    });
                }
            }
        }
    }
    // sops hands leftover inline comments on after the ordinary ones.
    pending.extend(inline);
    if pairs.is_empty() {
        return (pending, pairs, Vec::new());
    }
    (head, pairs, pending)
}

/// Splits a list the same way (comments are `Value::Comment` elements).
fn split_list(items: &[Value]) -> (Comments<'_>, Vec<Elem<'_>>, Comments<'_>) {
    let mut pending = Vec::new();
    let mut inline = Vec::new();
    let mut head = Vec::new();
    let mut elems: Vec<Elem<'_>> = Vec::new();
    for item in items {
        match item {
            Value::Comment(c) => match inline_comment(c.as_bytes()) {
                Some(text) => inline.push(text),
                None => pending.push(c.as_bytes()),
            },
            v => {
                let h = std::mem::take(&mut pending);
                let line = std::mem::take(&mut inline);
                if elems.is_empty() {
                    head = h;
                    elems.push(Elem {
                        head: Vec::new(),
                        line,
                        value: v,
                    });
                } else {
                    elems.push(Elem {
                        head: h,
                        line,
                        value: v,
                    });
                }
            }
        }
    }
    pending.extend(inline);
    if elems.is_empty() {
        return (pending, elems, Vec::new());
    }
    (head, elems, pending)
}

/// The head comments a collection prints before its dash when it is a list element (those
/// before its first pair or element; none for an empty or scalar value).
fn own_head<'a>(v: &'a Value) -> Comments<'a> {
    match v {
        Value::Map(m) => {
            let (own, pairs, _) = split_map(m);
            if pairs.is_empty() {
                Vec::new()
            } else {
                own
            }
        }
        Value::List(l) => {
            let (own, elems, _) = split_list(l);
            if elems.is_empty() {
                Vec::new()
            } else {
                own
            }
        }
        _ => Vec::new(),
    }
}

/// Whether the value is printed as an indented block (a non-empty map or list).
fn opens_block(v: &Value) -> bool {
    match v {
        Value::Map(m) => m.0.iter().any(|e| matches!(e, Entry::Pair(..))),
        Value::List(l) => l.iter().any(|x| !matches!(x, Value::Comment(_))),
        _ => false,
    }
}

/// The smallest multiple of 4 greater than `c`.
fn next4(c: usize) -> usize {
    (c / 4 + 1) * 4
}

/// The scalar for a non-collection value (`None` for maps, lists and comments).
fn leaf_scalar(v: &Value) -> Option<Scalar<'_>> {
    Some(match v {
        Value::Null => plain_scalar("null".to_string()),
        Value::Bool(b) => plain_scalar(b.to_string()),
        Value::Int(i) => plain_scalar(i.to_string()),
        Value::Float(f) => plain_scalar(go_float::yaml_float(*f)),
        Value::Time(t) => plain_scalar(t.to_rfc3339_nano()),
        Value::Str(s) => string_scalar(s.as_bytes()),
        Value::Map(_) | Value::List(_) | Value::Comment(_) => return None,
    })
}

struct Emitter<'a> {
    out: Out,
    /// Comments of an empty list, printed at the next place yaml.v3 prints head comments.
    pending: Comments<'a>,
    /// Foot comments of a map or list that is the last element of a list: yaml.v3 prints them
    /// at the next place it prints foot comments (after the next scalar value or element, after
    /// the next `key:` or `-` that opens a block, or at the end of the document).
    deferred: Comments<'a>,
}

impl<'a> Emitter<'a> {
    fn new() -> Self {
        Emitter {
            out: Out::new(),
            pending: Vec::new(),
            deferred: Vec::new(),
        }
    }

    fn end_document(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        self.out.comments(&pending, 0);
        let deferred = std::mem::take(&mut self.deferred);
        if !deferred.is_empty() {
            self.out.force_foot_indent(Some(0));
            self.out.foot_comments(&deferred, 0);
        }
        self.out.force_foot_indent(None);
        self.out.write_indent(0);
    }

    /// A place where yaml.v3 prints foot comments: the node's own, else any deferred ones.
    fn foot_point(&mut self, own: &[&'a [u8]], indent: usize) {
        if own.is_empty() {
            let deferred = std::mem::take(&mut self.deferred);
            self.out.foot_comments(&deferred, indent);
        } else {
            self.deferred.clear();
            self.out.foot_comments(own, indent);
        }
    }

    /// Writes head comments at `indent`; without any, the pending comments of an empty list
    /// take their place (yaml.v3 keeps one head comment at a time, so a node's own head
    /// comments replace pending ones, which are then lost [verified with sops 3.11]).
    fn head(&mut self, head: &[&'a [u8]], indent: usize) {
        let pending = std::mem::take(&mut self.pending);
        if head.is_empty() {
            self.out.comments(&pending, indent);
        } else {
            self.out.comments(head, indent);
        }
    }

    /// A non-empty block map whose keys are at column `indent`.
    fn block_map(
        &mut self,
        pairs: &[Pair<'a>],
        foot: &[&'a [u8]],
        indent: usize,
        depth: usize,
    ) -> Result<(), StoreError> {
        if depth > MAX_DEPTH {
            return Err(StoreError::new("document nested too deeply to print"));
        }
        for (n, pair) in pairs.iter().enumerate() {
            self.head(&pair.head, indent);
            self.out.write_indent(indent);
            let key = string_scalar(pair.key.as_bytes());
            let key_len = key.text.bytes().len() + key.tag.map_or(0, str::len);
            if !key.multiline && key_len <= MAX_SIMPLE_KEY {
                write_scalar(&mut self.out, &key, next4(indent));
                self.out.indicator(b":", false, false, false);
            } else {
                self.out.indicator(b"?", true, false, true);
                write_scalar(&mut self.out, &key, next4(indent));
                self.out.write_indent(indent);
                self.out.indicator(b":", true, false, true);
            }
            let last = n + 1 == pairs.len();
            let value_foot: &[&'a [u8]] = if last { foot } else { &[] };
            if opens_block(pair.value) {
                self.line_comments(&pair.line, indent);
                self.foot_point(&[], indent);
                self.value(pair.value, next4(indent), depth)?;
                self.out.foot_comments(value_foot, indent);
            } else {
                self.header_line(&pair.line);
                self.value(pair.value, next4(indent), depth)?;
                self.line_comments(&pair.line, indent);
                self.foot_point(value_foot, indent);
            }
        }
        let pending = std::mem::take(&mut self.pending);
        self.out.comments(&pending, indent);
        Ok(())
    }

    /// A non-empty block list whose dashes are at column `indent`.
    fn block_list(
        &mut self,
        elems: &[Elem<'a>],
        foot: &[&'a [u8]],
        indent: usize,
        depth: usize,
    ) -> Result<(), StoreError> {
        if depth > MAX_DEPTH {
            return Err(StoreError::new("document nested too deeply to print"));
        }
        for (n, elem) in elems.iter().enumerate() {
            let mut head = elem.head.clone();
            // A collection's own head comments go before its dash too.
            head.extend(own_head(elem.value));
            self.head(&head, indent);
            self.out.write_indent(indent);
            self.out.indicator(b"-", true, false, true);
            let own: &[&'a [u8]] = if n + 1 == elems.len() { foot } else { &[] };
            if opens_block(elem.value) {
                self.line_comments(&elem.line, indent);
                self.foot_point(&[], indent);
                self.item(elem.value, indent + 2, depth)?;
                if !own.is_empty() {
                    self.deferred = own.to_vec();
                }
            } else {
                self.header_line(&elem.line);
                self.item(elem.value, indent + 2, depth)?;
                self.line_comments(&elem.line, indent);
                self.foot_point(own, indent);
            }
        }
        Ok(())
    }

    /// The value of a map entry; `inner` is the column its contents start at.
    fn value(&mut self, v: &'a Value, inner: usize, depth: usize) -> Result<(), StoreError> {
        match v {
            Value::Map(m) => {
                let (head, pairs, foot) = split_map(m);
                if pairs.is_empty() {
                    self.empty_map(&head, inner);
                } else {
                    self.head(&head, inner);
                    self.block_map(&pairs, &foot, inner, depth + 1)?;
                }
            }
            Value::List(l) => {
                let (head, elems, foot) = split_list(l);
                if elems.is_empty() {
                    self.empty_list(&head);
                } else {
                    // A map value's head comments wait in yaml.v3's one head-comment slot
                    // until the first dash; a first element with head comments of its own
                    // replaces them there [verified with sops 3.11]. A list element or a
                    // document root prints its head at once, so nothing is lost there.
                    if own_head(elems[0].value).is_empty() {
                        self.head(&head, inner);
                    } else {
                        self.pending.clear();
                    }
                    self.block_list(&elems, &foot, inner, depth + 1)?;
                }
            }
            leaf => self.leaf(leaf, inner)?,
        }
        Ok(())
    }

    /// A list element after its dash; `inner` is the column two right of the dash. Its head
    /// comments were already printed before the dash.
    fn item(&mut self, v: &'a Value, inner: usize, depth: usize) -> Result<(), StoreError> {
        match v {
            Value::Map(m) => {
                let (head, pairs, foot) = split_map(m);
                if pairs.is_empty() {
                    self.empty_map(&head, inner);
                } else {
                    self.block_map(&pairs, &foot, inner, depth + 1)?;
                }
            }
            Value::List(l) => {
                let (head, elems, foot) = split_list(l);
                if elems.is_empty() {
                    self.empty_list(&head);
                } else {
                    self.block_list(&elems, &foot, inner, depth + 1)?;
                }
            }
            leaf => self.leaf(leaf, inner)?,
        }
        Ok(())
    }

    /// Offers a single line comment to a block scalar's header line (taken if one is written).
    fn header_line(&mut self, texts: &[&'a [u8]]) {
        self.out.header_comment = match texts {
            [one] => Some(crate::secret_bytes::SecretBytes::copy_from(one)),
            _ => None,
        };
    }

    /// yaml.v3's line comment of a value: ` #text` after it on its line (more than one go on
    /// the following lines at `indent`).
    fn line_comments(&mut self, texts: &[&'a [u8]], indent: usize) {
        if self.out.header_comment.take().is_none() && texts.len() == 1 {
            // Written on the block scalar's header line already.
            return;
        }
        for (n, text) in texts.iter().enumerate() {
            if n == 0 {
                if !self.out.at_whitespace() {
                    self.out.write(b" ");
                }
            } else {
                self.out.put_break();
                self.out.write_indent(indent);
            }
            self.out.write(b"#");
            self.out.write(text);
            self.out.left_indentation();
        }
    }

    fn leaf(&mut self, v: &Value, indent: usize) -> Result<(), StoreError> {
        let sc = leaf_scalar(v).ok_or_else(|| StoreError::new("unprintable value in a map"))?;
        write_scalar(&mut self.out, &sc, indent);
        Ok(())
    }

    /// `{}`, or a `{` line, the comments at `inner` and `}` at column 0 when it holds only
    /// comments.
    fn empty_map(&mut self, head: &[&'a [u8]], inner: usize) {
        self.out.indicator(b"{", true, true, false);
        self.out.comments(head, inner);
        self.out.indicator(b"}", false, false, false);
    }

    /// `[]`; its comments follow at the next head-comment position.
    fn empty_list(&mut self, head: &[&'a [u8]]) {
        self.out.indicator(b"[]", true, false, false);
        self.pending.extend_from_slice(head);
    }
}
