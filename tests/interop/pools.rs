//! The interop generator's raw material: a seeded random source, pools of keys, strings,
//! comments and scalar spellings, and the quoting helpers of the YAML and JSON renderers.

/// splitmix64: small, seeded, the same on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: usize, den: usize) -> bool {
        self.below(den) < num
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

pub const YAML_INTS: &[&str] = &[
    "0",
    "1",
    "-1",
    "42",
    "-17",
    "5432",
    "1000000",
    "9223372036854775807",
    "-9223372036854775808",
    "0x1F",
    "0o17",
    "+12",
    "1_000",
    "007",
];
pub const JSON_INTS: &[&str] = &[
    "0",
    "1",
    "-1",
    "42",
    "-17",
    "5432",
    "1000000",
    "9007199254740993",
    "-9223372036854775808",
    "123456789012",
];
pub const YAML_FLOATS: &[&str] = &[
    "1.0",
    "1e10",
    "0.1",
    "-0.0",
    "1e-7",
    "3.14159",
    "-2.5",
    "1.5e300",
    "6.02e+23",
    "100.0",
    "0.000001",
    "123456789.123",
    ".inf",
    "-.inf",
    ".nan",
    "1E3",
    "2.50",
];
pub const JSON_FLOATS: &[&str] = &[
    "1.0",
    "1e10",
    "0.1",
    "-0.0",
    "1e-7",
    "3.14159",
    "-2.5",
    "1.5e300",
    "6.02e+23",
    "100.0",
    "0.000001",
    "123456789.123",
    "1E3",
    "2.50",
    "5e-324",
];
pub const YAML_BOOLS: &[&str] = &["true", "false", "True", "FALSE", "yes", "on", "No"];
pub const YAML_NULLS: &[&str] = &["null", "~", "", "Null"];
pub const YAML_TIMES: &[&str] = &[
    "2001-12-14t21:59:43.10-05:00",
    "2002-12-14",
    "2024-01-01T00:00:00Z",
    "2024-02-29T12:34:56.789+01:00",
    "2001-12-14 21:59:43.10",
    "2021-6-7",
    "1999-12-31T23:59:59.123456789Z",
];

const KEYS: &[&str] = &[
    "name",
    "host",
    "port",
    "password",
    "token",
    "api_token",
    "user",
    "db",
    "servers",
    "data",
    "stringData",
    "config",
    "note_plain",
    "secret_enc",
    "cert_enc",
    "port_unencrypted",
    "debug_unencrypted",
    "description",
    "items",
    "matrix",
    "empty",
    "nested",
    "ünï",
    "日本語",
    "emoji🔑",
    "with space",
    "colon: inside",
    "#hash",
    "-dash",
    "yes",
    "null",
    "123",
    "1.5",
    "true",
    "key\"quote",
    "back\\slash",
    "a,b",
    "*star",
    "&amp",
    "!bang",
    "%pct",
    "@at",
    "`tick",
    "'single'",
    "? q",
    "key:",
    "trailing ",
    " lead",
    "dotted.key",
    "UPPER_CASE",
];

/// A map key: from the pool (rule-matching names, keys that need quoting) or made up.
pub fn key(rng: &mut Rng) -> String {
    match rng.below(10) {
        0..=4 => rng.pick(KEYS).to_string(),
        5 => format!("{}{}", "long_key_".repeat(15), rng.below(10)),
        6 => format!(
            "field_{}{}",
            rng.below(100),
            rng.pick(&["_enc", "_plain", "_unencrypted"])
        ),
        _ => format!("field_{}", rng.below(1000)),
    }
}

const STRINGS: &[&str] = &[
    "alpha",
    "hello world",
    "hunter2",
    "p@ssw0rd!",
    "",
    " leading space",
    "trailing space ",
    "yes",
    "no",
    "on",
    "off",
    "null",
    "~",
    "true",
    "123",
    "1.5",
    "0x1F",
    "1e3",
    "-",
    "---",
    "...",
    "- item",
    "key: value",
    "#not a comment",
    "a # b",
    "@at",
    "`tick",
    "!bang",
    "%percent",
    "&anchor",
    "*alias",
    "|pipe",
    ">gt",
    "{brace}",
    "[bracket]",
    "'single'",
    "\"double\"",
    "back\\slash",
    "tab\there",
    "nul\0byte",
    "bell\x07",
    "del\x7f",
    "\u{85}nel",
    "line1\nline2",
    "line1\nline2\n",
    "trailing newlines\n\n",
    "\nleading newline",
    "crlf\r\nline",
    "emoji 🔐🗝️ keys",
    "combining e\u{301} and a\u{308}",
    "RTL שלום עולם مرحبا",
    "bom\u{feff}inside",
    "\u{feff}bom first",
    "zero\u{200b}width",
    "ls\u{2028}ps\u{2029}",
    "日本語テキスト",
    "  ",
    "a:b",
    "http://example.com/path?q=1#frag",
    "2024-01-01",
    "=",
    "<html> & \"quotes\"",
    "multi\nline\n  indented\n\ttabbed\n",
    "ends with colon:",
    "-----BEGIN KEY-----\nMIIB\n-----END KEY-----\n",
    "0",
    "-0",
    ".inf",
    "1_000",
    "0o17",
];

const ATOMS: &[&str] = &[
    "a", "Z", "9", " ", "-", "_", ":", "#", "'", "\"", "\\", "\n", "\t", "é", "🔐", "\u{301}", "ש",
    "\u{feff}", "\0", "\x7f", "{", "[", "&", "*", "!", "|", ">", "%", "@", "`", ",", "?", "=",
    "  ", "\r", "word", "secret", "ünï", "<", "/",
];

/// A string: curated awkward values, long lines, or random mixes of awkward atoms.
pub fn string(rng: &mut Rng) -> String {
    match rng.below(10) {
        0..=4 => rng.pick(STRINGS).to_string(),
        5 => "lorem ipsum dolor sit amet "
            .repeat(1 + rng.below(8))
            .trim_end()
            .to_string(),
        6 => "x".repeat(60 + rng.below(120)),
        _ => (0..1 + rng.below(8)).map(|_| rng.pick(ATOMS)).collect(),
    }
}

const COMMENTS: &[&str] = &[
    "note",
    "secret: rotate me",
    "public: visible",
    "TODO fix this",
    "unicode ✓ 日本語 🔐",
    "",
    "  indented text",
    "# double hash",
    "key: value",
    "a secret and public both",
];

pub fn comment(rng: &mut Rng) -> String {
    rng.pick(COMMENTS).to_string()
}

/// A string YAML reads back unchanged without quotes (and that is not another type).
pub fn is_plain_safe(s: &str) -> bool {
    const RESERVED: &[&str] = &["yes", "no", "on", "off", "true", "false", "null", "y", "n"];
    let Some(first) = s.chars().next() else {
        return false;
    };
    (first.is_alphabetic() || first == '_')
        && !s.ends_with(' ')
        && !s.contains("  ")
        && s.chars()
            .all(|c| c.is_alphanumeric() || " _./@-".contains(c))
        && !RESERVED.contains(&s.to_ascii_lowercase().as_str())
}

/// A string that can be written in single quotes (printable, one line).
pub fn single_quotable(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| !c.is_control() && !"\u{feff}\u{2028}\u{2029}".contains(c))
}

/// A key that can appear in an `--extract` path.
pub fn is_path_safe(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || "_-. ".contains(c))
}

pub fn yaml_double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() => out.push_str(&format!("\\x{:02X}", c as u32)),
            '\u{feff}' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{feff}' | '\u{2028}' => out.push_str(&format!("\\u{:04X}", c as u32)),
            '🔐' => out.push_str("\\ud83d\\udd10"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
