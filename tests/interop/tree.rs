//! The seeded generator of structured documents (maps, lists, scalars and comments) and its
//! YAML and JSON renderings. The scalar and key pools live in `pools`; the random source is
//! `Rng`.

use crate::pools::{self, Rng};

/// A generated value.
pub enum Node {
    Scalar(Scalar),
    Map(Vec<Item>),
    List(Vec<Node>),
}

/// A map entry with its optional comments (YAML only).
pub struct Item {
    pub key: String,
    pub value: Node,
    pub head_comment: Option<String>,
    pub line_comment: Option<String>,
}

/// A scalar; numbers, booleans, nulls and timestamps keep their source text.
pub enum Scalar {
    Str(String),
    Int(&'static str),
    Float(&'static str),
    Bool(&'static str),
    Null(&'static str),
    Time(&'static str),
}

/// Builds a top-level map for the given store (`json` excludes YAML-only scalar forms).
pub fn gen_map(rng: &mut Rng, depth: usize, json: bool) -> Vec<Item> {
    let len = if rng.chance(1, 12) {
        0
    } else {
        1 + rng.below(6)
    };
    let mut used: Vec<String> = Vec::new();
    let mut items = Vec::new();
    for _ in 0..len {
        let key = pools::key(rng);
        if used.contains(&key) {
            continue;
        }
        used.push(key.clone());
        let value = gen_node(rng, depth + 1, json);
        let head_comment = (!json && rng.chance(1, 5)).then(|| pools::comment(rng));
        let line_comment = (!json && matches!(value, Node::Scalar(_)) && rng.chance(1, 6))
            .then(|| pools::comment(rng));
        items.push(Item {
            key,
            value,
            head_comment,
            line_comment,
        });
    }
    items
}

fn gen_node(rng: &mut Rng, depth: usize, json: bool) -> Node {
    let roll = if depth >= 4 { 0 } else { rng.below(20) };
    match roll {
        13..=15 => Node::Map(gen_map(rng, depth, json)),
        16 => Node::List(
            (0..rng.below(4))
                .map(|_| gen_scalar_node(rng, json))
                .collect(),
        ),
        17 => Node::List(
            (0..1 + rng.below(3))
                .map(|_| Node::Map(gen_map(rng, depth + 1, json)))
                .collect(),
        ),
        18 => Node::List(
            (0..1 + rng.below(3))
                .map(|_| gen_node(rng, depth + 2, json))
                .collect(),
        ),
        19 => Node::List(
            (0..1 + rng.below(3))
                .map(|_| {
                    Node::List(
                        (0..rng.below(3))
                            .map(|_| gen_scalar_node(rng, json))
                            .collect(),
                    )
                })
                .collect(),
        ),
        _ => gen_scalar_node(rng, json),
    }
}

fn gen_scalar_node(rng: &mut Rng, json: bool) -> Node {
    Node::Scalar(match rng.below(12) {
        0 => Scalar::Int(rng.pick(if json {
            pools::JSON_INTS
        } else {
            pools::YAML_INTS
        })),
        1 => Scalar::Float(rng.pick(if json {
            pools::JSON_FLOATS
        } else {
            pools::YAML_FLOATS
        })),
        2 => Scalar::Bool(rng.pick(if json {
            &["true", "false"]
        } else {
            pools::YAML_BOOLS
        })),
        3 if rng.chance(1, 2) => Scalar::Null(if json {
            "null"
        } else {
            rng.pick(pools::YAML_NULLS)
        }),
        4 if !json => Scalar::Time(rng.pick(pools::YAML_TIMES)),
        _ => Scalar::Str(pools::string(rng)),
    })
}

/// Renders a document as block-style YAML with comments, quoting and block scalars.
pub fn to_yaml(rng: &mut Rng, docs: &[Vec<Item>]) -> String {
    let mut out = String::new();
    if rng.chance(1, 4) {
        out.push_str(&format!("# {}\n", pools::comment(rng)));
    }
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 || rng.chance(1, 8) {
            out.push_str("---\n");
        }
        if doc.is_empty() {
            out.push_str("{}\n");
        }
        yaml_map(rng, doc, 0, &mut out);
    }
    out
}

fn pad(n: usize) -> String {
    " ".repeat(n)
}

fn yaml_map(rng: &mut Rng, items: &[Item], indent: usize, out: &mut String) {
    for item in items {
        if let Some(c) = &item.head_comment {
            out.push_str(&format!("{}# {c}\n", pad(indent)));
        }
        out.push_str(&pad(indent));
        out.push_str(&yaml_key(rng, &item.key));
        out.push(':');
        yaml_value(rng, &item.value, indent, item.line_comment.as_deref(), out);
    }
}

/// Writes what follows `key:` or `- ` (a space, the value, newline; nested blocks below).
fn yaml_value(rng: &mut Rng, value: &Node, indent: usize, comment: Option<&str>, out: &mut String) {
    let line_end = |out: &mut String| {
        if let Some(c) = comment {
            out.push_str(&format!(" # {c}"));
        }
        out.push('\n');
    };
    match value {
        Node::Scalar(s) => {
            if let Some(block) = block_scalar(rng, s, indent + 2) {
                out.push(' ');
                out.push_str(&block);
            } else {
                let text = yaml_scalar(rng, s);
                if !text.is_empty() {
                    out.push(' ');
                    out.push_str(&text);
                }
                line_end(out);
            }
        }
        Node::Map(m) if m.is_empty() => {
            out.push_str(" {}");
            line_end(out);
        }
        Node::List(l) if l.is_empty() => {
            out.push_str(" []");
            line_end(out);
        }
        Node::List(l) if l.iter().all(|n| matches!(n, Node::Scalar(_))) && rng.chance(1, 4) => {
            let parts: Vec<String> = l.iter().map(flow_scalar).collect();
            out.push_str(&format!(" [{}]", parts.join(", ")));
            line_end(out);
        }
        Node::Map(m) => {
            line_end(out);
            yaml_map(rng, m, indent + 2, out);
        }
        Node::List(l) => {
            line_end(out);
            // Block sequences may sit at the key's own indentation.
            let at = if rng.chance(1, 2) { indent } else { indent + 2 };
            yaml_list(rng, l, at, out);
        }
    }
}

fn yaml_list(rng: &mut Rng, items: &[Node], indent: usize, out: &mut String) {
    for item in items {
        if rng.chance(1, 10) {
            out.push_str(&format!("{}# {}\n", pad(indent), pools::comment(rng)));
        }
        out.push_str(&pad(indent));
        out.push('-');
        match item {
            Node::Map(m) if !m.is_empty() => {
                // Render the map one level deeper, then put the dash on its first line.
                let mut inner = String::new();
                yaml_map(rng, m, indent + 2, &mut inner);
                out.push(' ');
                out.push_str(&inner[indent + 2..]);
            }
            Node::List(l) if !l.is_empty() && rng.chance(1, 2) => {
                let mut inner = String::new();
                yaml_list(rng, l, indent + 2, &mut inner);
                out.push(' ');
                out.push_str(&inner[indent + 2..]);
            }
            Node::List(l) if !l.is_empty() => {
                out.push('\n');
                yaml_list(rng, l, indent + 2, out);
            }
            other => yaml_value(rng, other, indent, None, out),
        }
    }
}

fn yaml_key(rng: &mut Rng, key: &str) -> String {
    if pools::is_plain_safe(key) && rng.chance(5, 6) {
        key.to_string()
    } else {
        pools::yaml_double_quoted(key)
    }
}

fn yaml_scalar(rng: &mut Rng, s: &Scalar) -> String {
    match s {
        Scalar::Str(text) => {
            if pools::is_plain_safe(text) && rng.chance(1, 2) {
                text.clone()
            } else if pools::single_quotable(text) && rng.chance(1, 3) {
                format!("'{}'", text.replace('\'', "''"))
            } else {
                pools::yaml_double_quoted(text)
            }
        }
        Scalar::Int(t) | Scalar::Float(t) | Scalar::Bool(t) | Scalar::Null(t) | Scalar::Time(t) => {
            t.to_string()
        }
    }
}

fn flow_scalar(n: &Node) -> String {
    match n {
        Node::Scalar(Scalar::Str(t)) => pools::yaml_double_quoted(t),
        Node::Scalar(Scalar::Null("")) => "null".to_string(),
        Node::Scalar(
            Scalar::Int(t) | Scalar::Float(t) | Scalar::Bool(t) | Scalar::Null(t) | Scalar::Time(t),
        ) => t.to_string(),
        _ => "null".to_string(),
    }
}

/// A literal block scalar (`|`, `|-`, `|+`) for multi-line printable strings, sometimes.
fn block_scalar(rng: &mut Rng, s: &Scalar, indent: usize) -> Option<String> {
    let Scalar::Str(text) = s else { return None };
    let body = text.trim_end_matches('\n');
    let fits = text.contains('\n')
        && !body.is_empty()
        && !body.starts_with([' ', '\n'])
        && body
            .chars()
            .all(|c| c == '\n' || (!c.is_control() && c != '\u{feff}'))
        && rng.chance(2, 3);
    if !fits {
        return None;
    }
    let chomp = match text.len() - body.len() {
        0 => "-",
        1 => "",
        _ => "+",
    };
    let mut out = format!("|{chomp}\n");
    for line in text[..text.len() - usize::from(chomp.is_empty())].split('\n') {
        if !line.is_empty() {
            out.push_str(&pad(indent));
            out.push_str(line);
        }
        out.push('\n');
    }
    if chomp == "+" {
        // `split` already produced the empty trailing lines; drop the extra one.
        out.pop();
    }
    Some(out)
}

/// Renders a JSON object, pretty (tab or space indented) or compact.
pub fn to_json(rng: &mut Rng, items: &[Item]) -> String {
    let indent = rng.pick(&["", "\t", "  ", "    "]);
    let mut out = String::new();
    json_map(items, indent, 0, &mut out);
    out.push('\n');
    out
}

fn json_break(indent: &str, level: usize, out: &mut String) {
    if !indent.is_empty() {
        out.push('\n');
        out.push_str(&indent.repeat(level));
    }
}

fn json_map(items: &[Item], indent: &str, level: usize, out: &mut String) {
    out.push('{');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_break(indent, level + 1, out);
        out.push_str(&pools::json_string(&item.key));
        out.push_str(if indent.is_empty() { ":" } else { ": " });
        json_node(&item.value, indent, level + 1, out);
    }
    if !items.is_empty() {
        json_break(indent, level, out);
    }
    out.push('}');
}

fn json_node(node: &Node, indent: &str, level: usize, out: &mut String) {
    match node {
        Node::Map(m) => json_map(m, indent, level, out),
        Node::List(l) => {
            out.push('[');
            for (i, n) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_break(indent, level + 1, out);
                json_node(n, indent, level + 1, out);
            }
            if !l.is_empty() {
                json_break(indent, level, out);
            }
            out.push(']');
        }
        Node::Scalar(Scalar::Str(t)) => out.push_str(&pools::json_string(t)),
        Node::Scalar(Scalar::Time(t)) => out.push_str(&pools::json_string(t)),
        Node::Scalar(Scalar::Int(t) | Scalar::Float(t) | Scalar::Bool(t) | Scalar::Null(t)) => {
            out.push_str(t)
        }
    }
}
