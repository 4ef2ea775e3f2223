//! Flow collections (`[a, b]`, `{k: v}`), possibly spanning lines. Comments inside them
//! are kept with the entry holding the collection.

use super::node::Props;
use super::scanner::{PResult, Parser};
use crate::secret_bytes::SecretBytes;
use crate::sops::tree::{Entry, Map, Value};

impl<'a> Parser<'a> {
    /// Skips whitespace, line breaks and comments inside a flow collection.
    fn flow_ws(&mut self) -> PResult<()> {
        let before = self.pending.len();
        self.skip_to_content(false)?;
        let extra: Vec<SecretBytes> = self.pending.drain(before..).map(|p| p.text).collect();
        self.trailing.extend(extra);
        if self.eof() {
            return Err(self.err("unterminated flow collection"));
        }
        Ok(())
    }

    /// Reads a flow sequence or mapping starting at its `[` or `{`.
    pub fn flow_collection(&mut self) -> PResult<Value> {
        self.enter()?;
        let is_seq = self.peek() == Some(b'[');
        let close = if is_seq { b']' } else { b'}' };
        self.pos += 1;
        let mut list = Vec::new();
        let mut map = Map::new();
        loop {
            self.flow_ws()?;
            if self.peek() == Some(close) {
                self.pos += 1;
                break;
            }
            let explicit = self.at_indicator(b'?');
            if explicit {
                self.pos += 1;
                self.flow_ws()?;
            }
            let key_or_item = if self.at_flow_entry_end(close) {
                Value::Null
            } else {
                self.flow_node()?
            };
            self.flow_ws()?;
            let value = if self.peek() == Some(b':') {
                self.pos += 1;
                self.flow_ws()?;
                if self.at_flow_entry_end(close) {
                    Some(Value::Null)
                } else {
                    Some(self.flow_node()?)
                }
            } else {
                None
            };
            if is_seq && value.is_none() && !explicit {
                list.push(key_or_item);
            } else {
                let key = self.key_string(key_or_item)?;
                let value = value.unwrap_or(Value::Null);
                if is_seq {
                    let mut single = Map::new();
                    single.0.push(Entry::Pair(key, value));
                    list.push(Value::Map(single));
                } else {
                    map.0.push(Entry::Pair(key, value));
                }
            }
            self.flow_ws()?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(c) if c == close => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.err_col("expected ',' or the end of a flow collection")),
            }
        }
        self.leave();
        Ok(if is_seq {
            Value::List(list)
        } else {
            Value::Map(map)
        })
    }

    fn at_flow_entry_end(&self, close: u8) -> bool {
        matches!(self.peek(), Some(b',')) || self.peek() == Some(close)
    }

    /// One node inside a flow collection.
    fn flow_node(&mut self) -> PResult<Value> {
        let props = self.parse_props()?;
        if !props.is_empty() {
            self.flow_ws()?;
        }
        let Some(c) = self.peek() else {
            return Err(self.err("unterminated flow collection"));
        };
        match c {
            b'[' | b'{' => {
                let v = self.flow_collection()?;
                self.finish(props, v)
            }
            b'*' => self.alias(),
            b'"' => {
                let t = self.double_quoted()?;
                self.scalar(props, t, false)
            }
            b'\'' => {
                let t = self.single_quoted()?;
                self.scalar(props, t, false)
            }
            b',' | b']' | b'}' => self.scalar(props, SecretBytes::new(), true),
            b':' if self.blank_at(1) => self.scalar(props, SecretBytes::new(), true),
            b'#' | b'&' | b'!' | b'|' | b'>' | b'%' | b'@' | b'`' => {
                Err(self.err_col("unexpected character in a flow collection"))
            }
            _ => self.flow_plain(props),
        }
    }

    fn flow_plain(&mut self, props: Props) -> PResult<Value> {
        let (s, e) = self.plain_line(true);
        if s == e {
            return Err(self.err_col("unexpected character in a flow collection"));
        }
        let mut text = SecretBytes::copy_from(&self.b[s..e]);
        self.plain_continue(&mut text, 0, true)?;
        self.scalar(props, text, true)
    }
}
