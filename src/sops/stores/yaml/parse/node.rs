//! Node properties (anchors and tags), aliases, and the "scalar or implicit key" decision
//! used by block and flow parsing.

use super::resolve::{resolve, Tag};
use super::scanner::{Anchored, PResult, Parser, MAX_DEPTH};
use crate::secret_bytes::SecretBytes;
use crate::sops::tree::{Entry, Value};

/// Anchor and tag written before a node.
#[derive(Default)]
pub(super) struct Props {
    pub anchor: Option<String>,
    pub tag: Option<Tag>,
}

impl Props {
    pub fn is_empty(&self) -> bool {
        self.anchor.is_none() && self.tag.is_none()
    }
}

/// What was found at a node position in block context.
pub(super) enum Cand {
    /// An implicit key; `pos` is at its `:`.
    Key(String),
    Node(Value),
}

fn is_anchor_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// Nodes plus string bytes, and nesting height, of a value.
fn measure(v: &Value) -> (usize, usize) {
    match v {
        Value::Str(s) | Value::Comment(s) => (1 + s.len(), 0),
        Value::Map(m) => m.0.iter().fold((1, 1), |(w, h), e| match e {
            Entry::Pair(k, v) => {
                let (vw, vh) = measure(v);
                (w + 1 + k.len() + vw, h.max(vh + 1))
            }
            Entry::Comment(c) => (w + 1 + c.len(), h),
        }),
        Value::List(l) => l.iter().fold((1, 1), |(w, h), v| {
            let (vw, vh) = measure(v);
            (w + vw, h.max(vh + 1))
        }),
        _ => (1, 0),
    }
}

impl<'a> Parser<'a> {
    /// Reads anchor and tag properties (each at most once), with the spaces after them.
    pub fn parse_props(&mut self) -> PResult<Props> {
        let mut props = Props::default();
        loop {
            match self.peek() {
                Some(b'&') if props.anchor.is_none() => {
                    self.pos += 1;
                    let s = self.pos;
                    while self.peek().is_some_and(is_anchor_char) {
                        self.pos += 1;
                    }
                    if s == self.pos {
                        return Err(self.err_col("anchor without a name"));
                    }
                    props.anchor = Some(self.text(s, self.pos)?.to_string());
                }
                Some(b'!') if props.tag.is_none() => {
                    let s = self.pos;
                    while !self.blank_at(0)
                        && !matches!(self.peek(), Some(b',' | b'[' | b']' | b'{' | b'}'))
                    {
                        self.pos += 1;
                    }
                    props.tag = Some(Tag::from_text(self.text(s, self.pos)?));
                }
                _ => return Ok(props),
            }
            self.skip_inline_ws();
        }
    }

    /// Registers the anchor of `props` for `v`, if any, and returns `v`.
    pub fn finish(&mut self, props: Props, v: Value) -> PResult<Value> {
        if let Some(name) = props.anchor {
            let (weight, height) = measure(&v);
            self.charge(weight)?;
            self.anchors.insert(
                name,
                Anchored {
                    value: v.clone(),
                    weight,
                    height,
                },
            );
        }
        Ok(v)
    }

    fn charge(&mut self, weight: usize) -> PResult<()> {
        if weight > self.budget {
            return Err(self.err("anchors and aliases expand beyond the size limit"));
        }
        self.budget -= weight;
        Ok(())
    }

    /// Expands the alias at `*`.
    pub fn alias(&mut self) -> PResult<Value> {
        self.pos += 1;
        let s = self.pos;
        while self.peek().is_some_and(is_anchor_char) {
            self.pos += 1;
        }
        let name = self.text(s, self.pos)?;
        let Some(a) = self.anchors.get(name) else {
            return Err(self.err_col("alias to an unknown anchor"));
        };
        let (weight, height) = (a.weight, a.height);
        if self.depth + height > MAX_DEPTH {
            return Err(self.err(format_args!("nesting deeper than {MAX_DEPTH} levels")));
        }
        self.charge(weight)?;
        self.anchors
            .get(name)
            .map(|a| a.value.clone())
            .ok_or_else(|| self.err("alias to an unknown anchor"))
    }

    /// Types a scalar with the tag of `props` and registers its anchor.
    pub fn scalar(&mut self, props: Props, text: SecretBytes, plain: bool) -> PResult<Value> {
        let v = resolve(text, plain, props.tag).map_err(|e| self.err(e))?;
        self.finish(props, v)
    }

    /// A map key must be a string.
    pub fn key_string(&self, v: Value) -> PResult<String> {
        match v {
            Value::Str(s) => s
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| self.err("map key is not valid UTF-8")),
            other => Err(self.err(format_args!("non-string key ({})", other.kind_name()))),
        }
    }

    /// At `c` followed by a blank (`- `, `? `, `: `).
    pub fn at_indicator(&self, c: u8) -> bool {
        self.peek() == Some(c) && self.blank_at(1)
    }

    /// Reads a flow collection, alias, quoted or plain scalar at `pos` (block context) and
    /// tells whether it is an implicit key (followed by `: `). Plain scalars that are not keys
    /// continue on following lines indented at least `min_indent`.
    pub fn candidate(&mut self, props: Props, min_indent: usize) -> PResult<Cand> {
        let Some(c) = self.peek() else {
            return Err(self.err("unexpected end of input"));
        };
        let v = match c {
            b'[' | b'{' => {
                let v = self.flow_collection()?;
                self.finish(props, v)?
            }
            b'*' => self.alias()?,
            b'"' => {
                let t = self.double_quoted()?;
                self.scalar(props, t, false)?
            }
            b'\'' => {
                let t = self.single_quoted()?;
                self.scalar(props, t, false)?
            }
            b'#' | b',' | b']' | b'}' | b'&' | b'!' | b'|' | b'>' | b'%' | b'@' | b'`' => {
                return Err(self.err_col("unexpected character"));
            }
            b'-' | b'?' | b':' if self.blank_at(1) => {
                return Err(self.err_col("unexpected indicator"));
            }
            _ => {
                let (s, e) = self.plain_line(false);
                let saved = (self.pos, self.line, self.line_start);
                self.skip_inline_ws();
                if self.at_indicator(b':') {
                    let v = self.scalar(props, SecretBytes::copy_from(&self.b[s..e]), true)?;
                    return Ok(Cand::Key(self.key_string(v)?));
                }
                self.restore(saved);
                let mut text = SecretBytes::copy_from(&self.b[s..e]);
                self.plain_continue(&mut text, min_indent, false)?;
                let v = self.scalar(props, text, true)?;
                self.tab_ok_from = Some(min_indent);
                return Ok(Cand::Node(v));
            }
        };
        let saved = (self.pos, self.line, self.line_start);
        self.skip_inline_ws();
        if self.at_indicator(b':') {
            return Ok(Cand::Key(self.key_string(v)?));
        }
        self.restore(saved);
        Ok(Cand::Node(v))
    }
}
