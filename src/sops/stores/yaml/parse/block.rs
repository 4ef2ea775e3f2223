//! Block collections: mappings and sequences laid out by indentation, and the placement of
//! comments in them (see the module doc of `parse` for the rules).

use super::node::{Cand, Props};
use super::scanner::{self, PResult, Parser};
use crate::secret_bytes::SecretBytes;
use crate::sops::tree::{inline_comment, Entry, Map, Value, INLINE_MARK};

/// Where a node sits, which decides what may start on its line.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(super) enum Ctx {
    Document,
    MapValue,
    SeqItem,
    ExplicitKey,
    /// The value after the `: ` of a `? key` entry: like a sequence item, a compact
    /// collection may start on the indicator's line (`: - a` or `:   k: v`).
    ExplicitValue,
}

impl<'a> Parser<'a> {
    /// Parses the node after `key:`, `- `, `? ` or at the start of a document. `n` is the
    /// indentation of the collection holding it (-1 at the top of a document).
    pub fn block_value(&mut self, n: isize, ctx: Ctx) -> PResult<Value> {
        self.skip_inline_ws();
        let props = self.parse_props()?;
        if !(self.at_eol() || self.peek() == Some(b'#')) {
            return self.node_content(n, ctx, props, false);
        }
        let same_line = self.trailing.len();
        self.skip_to_content(true)?;
        let c = self.col() as isize;
        let nested = !self.eof()
            && !self.at_doc_marker()
            && (c > n
                || (c == n
                    && matches!(ctx, Ctx::MapValue | Ctx::ExplicitValue)
                    && self.at_indicator(b'-')));
        if nested && ctx == Ctx::SeqItem && self.at_indicator(b'-') {
            // `- # c` with a sequence on the next lines: yaml.v3 gives the comment to that
            // sequence's first element, so it leads the inner list (before any comment lines).
            let col = c as usize;
            let moved: Vec<_> = self.trailing.drain(same_line..).collect();
            let lead = moved.into_iter().map(|text| scanner::Pending { col, text });
            self.pending.splice(0..0, lead);
        }
        if nested {
            self.node_content(n, ctx, props, true)
        } else {
            self.scalar(props, Default::default(), true)
        }
    }

    /// Parses a node whose first character is at `pos`; `line_start` tells whether it is the
    /// first thing on its line (a nested block) or follows an indicator on the same line.
    pub fn node_content(
        &mut self,
        n: isize,
        ctx: Ctx,
        outer: Props,
        line_start: bool,
    ) -> PResult<Value> {
        let c = self.col();
        let compact_ok = line_start || matches!(ctx, Ctx::SeqItem | Ctx::ExplicitValue);
        if self.at_indicator(b'-') || self.at_indicator(b'?') {
            if !compact_ok {
                return Err(self.err_col("block collection not allowed on this line"));
            }
            let v = if self.peek() == Some(b'-') {
                self.block_seq(c, line_start && c as isize == n, !line_start)?
            } else {
                self.block_map(c, None, !line_start)?
            };
            return self.finish(outer, v);
        }
        if matches!(self.peek(), Some(b'|' | b'>')) {
            let text = self.block_scalar(n)?;
            if line_start {
                self.pending_to_trailing();
            }
            return self.scalar(outer, text, false);
        }
        let (inner, outer) = if line_start {
            (self.parse_props()?, outer)
        } else {
            (outer, Props::default())
        };
        if self.at_eol() || self.peek() == Some(b'#') {
            return Err(self.err("node properties alone on a line are not supported"));
        }
        let min_indent = (n + 1).max(0) as usize;
        match self.candidate(inner, min_indent)? {
            Cand::Key(k) => {
                if !compact_ok {
                    return Err(self.err_col("mapping values are not allowed here"));
                }
                self.pos += 1;
                let v = self.block_map(c, Some(k), !line_start)?;
                self.finish(outer, v)
            }
            Cand::Node(v) => {
                if line_start {
                    self.pending_to_trailing();
                }
                self.finish(outer, v)
            }
        }
    }

    /// Comments before a scalar that sits on its own line belong before its entry.
    fn pending_to_trailing(&mut self) {
        let p = self.take_all_pending();
        self.trailing.extend(p);
    }

    /// After an item: what follows must start a new line.
    fn expect_line_end(&self) -> PResult<()> {
        let before = self.b.get(self.line_start..self.pos).unwrap_or_default();
        if !self.eof() && !before.iter().all(|&c| c == b' ' || c == b'\t') {
            return Err(self.err_col("unexpected content after a value"));
        }
        Ok(())
    }

    /// A block mapping whose keys are at column `c`. `first` is an implicit first key already
    /// read (`pos` after its `:`); `compact` is set for a map that starts on a `- ` line.
    pub fn block_map(&mut self, c: usize, first: Option<String>, compact: bool) -> PResult<Value> {
        self.enter()?;
        let mut map = Map::new();
        for t in self.take_all_pending() {
            map.0.push(Entry::Comment(t));
        }
        let mut first = first;
        let mut is_first = true;
        loop {
            let saved = std::mem::take(&mut self.trailing);
            let (key, value_ctx) = match first.take() {
                Some(k) => (k, Some(Ctx::MapValue)),
                None => self.block_key(c)?,
            };
            let on_colon_line = match value_ctx {
                Some(Ctx::ExplicitValue) => self.comment_after_indicator(),
                _ => None,
            };
            let flow_value = value_ctx == Some(Ctx::MapValue) && self.flow_collection_follows();
            let value_on_line = matches!(value_ctx, Some(Ctx::MapValue | Ctx::ExplicitValue))
                && self.content_follows_on_line();
            let mut value = match value_ctx {
                Some(ctx) => self.block_value(c as isize, ctx)?,
                None => Value::Null,
            };
            let before_line_comment = self.trailing.len();
            self.skip_to_content(true)?;
            self.expect_line_end()?;
            let mut mine = std::mem::replace(&mut self.trailing, saved);
            if flow_value {
                // `k: {} # c` / `k: [a] # c`: yaml.v3 gives the comment to the flow collection
                // and sops puts a collection's own comments at its start.
                match &mut value {
                    Value::Map(m) => {
                        m.0.splice(0..0, mine.drain(..).map(Entry::Comment));
                    }
                    Value::List(l) => {
                        l.splice(0..0, mine.drain(..).map(Value::Comment));
                    }
                    _ => {}
                }
            } else if value_on_line && !matches!(value, Value::Map(_) | Value::List(_)) {
                // sops 3.13: the comment after a scalar value on its line stays inline.
                mark_inline(mine.get_mut(before_line_comment..).unwrap_or_default());
            }
            let inline = mine.iter().any(|c| inline_comment(c.as_bytes()).is_some());
            if is_first && compact && !inline {
                self.trailing.extend(mine);
            } else {
                map.0.extend(mine.into_iter().map(Entry::Comment));
            }
            // `:   # c` with the value below: yaml.v3 gives the comment to the key, so it
            // stays before this entry even in a compact map [verified with sops 3.11].
            map.0.extend(on_colon_line.into_iter().map(Entry::Comment));
            map.0.push(Entry::Pair(key, value));
            is_first = false;
            if self.eof() || self.at_doc_marker() || self.col() < c {
                break;
            }
            if self.col() > c {
                return Err(self.err_col("bad indentation of a mapping entry"));
            }
            if self.at_indicator(b'-') {
                return Err(self.err_col("sequence entry where a mapping key was expected"));
            }
            for t in self.take_all_pending() {
                map.0.push(Entry::Comment(t));
            }
        }
        for t in self.take_pending_from(c) {
            map.0.push(Entry::Comment(t));
        }
        self.leave();
        Ok(Value::Map(map))
    }

    /// After an indicator: something other than a comment follows on this line.
    fn content_follows_on_line(&self) -> bool {
        let rest = self.b.get(self.pos..).unwrap_or_default();
        let skip = rest
            .iter()
            .take_while(|&&c| c == b' ' || c == b'\t')
            .count();
        !matches!(rest.get(skip), None | Some(b'#' | b'\n' | b'\r'))
    }

    /// After a `:`: the value on this line is a flow collection (`[` or `{`).
    fn flow_collection_follows(&self) -> bool {
        let rest = self.b.get(self.pos..).unwrap_or_default();
        let skip = rest
            .iter()
            .take_while(|&&c| c == b' ' || c == b'\t')
            .count();
        matches!(rest.get(skip), Some(b'[' | b'{'))
    }

    /// A comment right after an explicit `:` (nothing else on that line before it).
    fn comment_after_indicator(&mut self) -> Option<crate::secret_bytes::SecretBytes> {
        let start = self.pos;
        self.skip_inline_ws();
        if self.pos > start && self.peek() == Some(b'#') {
            return Some(self.read_comment());
        }
        self.pos = start;
        None
    }

    /// Reads a key at column `c`: `? key` (then an optional `: ` line) or an implicit key.
    /// Returns the key and, when a value follows (`pos` after the `:`), where that value sits.
    fn block_key(&mut self, c: usize) -> PResult<(String, Option<Ctx>)> {
        if self.at_indicator(b'?') {
            self.pos += 1;
            let v = self.block_value(c as isize, Ctx::ExplicitKey)?;
            let key = self.key_string(v)?;
            self.skip_to_content(true)?;
            if !self.eof() && self.col() == c && self.at_indicator(b':') {
                self.pos += 1;
                return Ok((key, Some(Ctx::ExplicitValue)));
            }
            return Ok((key, None));
        }
        let props = self.parse_props()?;
        match self.candidate(props, usize::MAX)? {
            Cand::Key(k) => {
                self.pos += 1;
                Ok((k, Some(Ctx::MapValue)))
            }
            Cand::Node(_) => Err(self.err("could not find the ':' of a mapping entry")),
        }
    }

    /// A block sequence whose dashes are at column `d`. `at_parent_col` is set for a
    /// sequence that is a map value written at the column of its key (`key:\n- a`);
    /// `compact` for one that starts on the `- ` line of an outer sequence (`- - a`).
    pub fn block_seq(&mut self, d: usize, at_parent_col: bool, compact: bool) -> PResult<Value> {
        self.enter()?;
        let mut list: Vec<Value> = self
            .take_all_pending()
            .into_iter()
            .map(Value::Comment)
            .collect();
        loop {
            let saved = std::mem::take(&mut self.trailing);
            self.pos += 1;
            let value_on_line = self.content_follows_on_line();
            let v = self.block_value(d as isize, Ctx::SeqItem)?;
            let before_line_comment = self.trailing.len();
            self.skip_to_content(true)?;
            self.expect_line_end()?;
            let mut mine = std::mem::replace(&mut self.trailing, saved);
            if value_on_line && !matches!(v, Value::Map(_) | Value::List(_)) {
                mark_inline(mine.get_mut(before_line_comment..).unwrap_or_default());
            }
            let inline = mine.iter().any(|c| inline_comment(c.as_bytes()).is_some());
            if compact && list.is_empty() && !inline {
                self.trailing.extend(mine);
            } else {
                list.extend(mine.into_iter().map(Value::Comment));
            }
            list.push(v);
            if self.eof() || self.at_doc_marker() || self.col() < d {
                break;
            }
            if self.col() > d {
                return Err(self.err_col("bad indentation of a sequence entry"));
            }
            if !self.at_indicator(b'-') {
                if at_parent_col {
                    break;
                }
                return Err(self.err_col("expected a sequence entry"));
            }
            for t in self.take_all_pending() {
                list.push(Value::Comment(t));
            }
        }
        let min_col = if at_parent_col && !self.eof() && self.col() == d {
            d + 1
        } else {
            d
        };
        let tail = self.take_pending_from(min_col);
        match list.last_mut() {
            Some(Value::Map(m)) => m.0.extend(tail.into_iter().map(Entry::Comment)),
            Some(Value::List(l)) => l.extend(tail.into_iter().map(Value::Comment)),
            _ => list.extend(tail.into_iter().map(Value::Comment)),
        }
        self.leave();
        Ok(Value::List(list))
    }
}

/// Marks comments as inline (see [`INLINE_MARK`]).
fn mark_inline(comments: &mut [SecretBytes]) {
    for c in comments.iter_mut() {
        let mut marked = SecretBytes::copy_from(&[INLINE_MARK]);
        marked.extend_from_slice(c.as_bytes());
        *c = marked;
    }
}
