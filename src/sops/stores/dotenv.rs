//! The dotenv store (spec 2.5, 7.3): `KEY=value` lines and `#` comments, no quoting; the
//! `sops_`-prefixed lines carry the flattened metadata (spec 2.7).

use super::flatten::unflatten;
use super::ini::text::push_scalar;
use super::{LoadedFile, StoreError};
use crate::secret_bytes::SecretBytes;
use crate::sops::tree::{Entry, Map, Value};

const SOPS_PREFIX: &str = "sops_";

/// Copies `s` with every backslash-`n` pair replaced by a newline.
fn decode_newlines(s: &[u8]) -> SecretBytes {
    let mut out = SecretBytes::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\' && s.get(i + 1) == Some(&b'n') {
            out.push(b'\n');
            i += 2;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

/// Reads a dotenv file: one branch with the data items, the `sops_` items as metadata.
pub fn load(input: &[u8]) -> Result<LoadedFile, StoreError> {
    let mut data = Map::new();
    let mut metadata = Vec::new();
    for (n, line) in input.split(|&b| b == b'\n').enumerate() {
        let line_no = n + 1;
        if line.is_empty() {
            continue;
        }
        if let Some(text) = line.strip_prefix(b"#") {
            data.0.push(Entry::Comment(SecretBytes::copy_from(text)));
            continue;
        }
        let Some(eq) = line.iter().position(|&b| b == b'=') else {
            return Err(StoreError::at_line(line_no, "a line without `=`"));
        };
        let key = std::str::from_utf8(&line[..eq])
            .map_err(|_| StoreError::at_line(line_no, "the key is not valid UTF-8"))?;
        let raw = &line[eq + 1..];
        if let Some(name) = key.strip_prefix(SOPS_PREFIX) {
            // sops decodes `\n` here and again in the metadata; the second pass changes
            // nothing, so unflatten's single pass over the raw text is the same.
            let value = std::str::from_utf8(raw)
                .map_err(|_| StoreError::at_line(line_no, "a sops_ value is not valid UTF-8"))?;
            metadata.push((name.to_string(), value.to_string()));
        } else {
            data.push(key, Value::Str(decode_newlines(raw)));
        }
    }
    let metadata = if metadata.is_empty() {
        None
    } else {
        Some(unflatten(metadata)?)
    };
    Ok(LoadedFile {
        branches: vec![data],
        metadata,
    })
}

/// Prints the first branch as `sops decrypt --output-type dotenv` does.
pub fn emit_file(branches: &[Map]) -> Result<SecretBytes, StoreError> {
    let mut out = SecretBytes::new();
    let Some(branch) = branches.first() else {
        return Ok(out);
    };
    for (n, entry) in branch.0.iter().enumerate() {
        match entry {
            Entry::Comment(text) => {
                out.push(b'#');
                out.extend_from_slice(crate::sops::tree::comment_text(text.as_bytes()));
            }
            Entry::Pair(key, value) => {
                out.push_str(key);
                out.push(b'=');
                let mut rendered = SecretBytes::new();
                push_scalar(&mut rendered, value).map_err(|kind| {
                    StoreError::new(format!("item {}: a dotenv value cannot be a {kind}", n + 1))
                })?;
                for &b in rendered.as_bytes() {
                    if b == b'\n' {
                        out.extend_from_slice(b"\\n");
                    } else {
                        out.push(b);
                    }
                }
            }
        }
        out.push(b'\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(m: &Map) -> Vec<(String, String)> {
        m.0.iter()
            .map(|e| match e {
                Entry::Comment(c) => (
                    "#".into(),
                    String::from_utf8_lossy(crate::sops::tree::comment_text(c.as_bytes())).into(),
                ),
                Entry::Pair(k, Value::Str(v)) => {
                    (k.clone(), String::from_utf8_lossy(v.as_bytes()).into())
                }
                Entry::Pair(k, _) => (k.clone(), "<not a string>".into()),
            })
            .collect()
    }

    #[test]
    fn keys_are_verbatim_and_values_decode_backslash_n_only() {
        let f = load(b"#c\nexport A=\"q\"\nSPACES = x \n\nM=a\\nb\\\\n\nCR=x\r\nE=\n").unwrap();
        let got = entries(&f.branches[0]);
        let want = [
            ("#", "c"),
            ("export A", "\"q\""),
            ("SPACES ", " x "),
            ("M", "a\nb\\\n"),
            ("CR", "x\r"),
            ("E", ""),
        ];
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert_eq!((g.0.as_str(), g.1.as_str()), w);
        }
        assert!(f.metadata.is_none());
    }

    #[test]
    fn sops_lines_become_metadata_wherever_they_are() {
        let f = load(b"sops_version=3.11.0\nA=1\nsops_age__list_0__map_enc=x\\ny\n").unwrap();
        assert_eq!(
            entries(&f.branches[0]),
            [("A".to_string(), "1".to_string())]
        );
        let Some(Value::Map(md)) = f.metadata else {
            panic!("no metadata")
        };
        assert_eq!(md.get("version"), Some(&Value::str("3.11.0")));
        let Some(Value::List(age)) = md.get("age") else {
            panic!("no age list")
        };
        let Value::Map(key) = &age[0] else { panic!() };
        assert_eq!(key.get("enc"), Some(&Value::str("x\ny")));
    }

    #[test]
    fn a_line_without_equals_is_an_error_naming_the_line_only() {
        let err = load(b"A=1\nSECRET\n").unwrap_err();
        assert_eq!(err.to_string(), "line 2: a line without `=`");
        assert!(load(b"A=1\n \n").is_err());
        assert!(load(b"\r\n").is_err());
    }

    #[test]
    fn emit_prints_items_and_escapes_newlines_only() {
        let mut m = Map::new();
        m.0.push(Entry::Comment(SecretBytes::from(" c")));
        m.push("A", Value::str("x\ny\r"));
        m.push("B", Value::Int(5));
        m.push("C", Value::Float(1.0));
        m.push("D", Value::Null);
        m.push("E", Value::Bool(false));
        let out = emit_file(&[m, Map::new()]).unwrap();
        assert_eq!(
            out.as_bytes(),
            b"# c\nA=x\\ny\r\nB=5\nC=1.0\nD=<nil>\nE=false\n"
        );
        assert!(emit_file(&[]).unwrap().is_empty());
    }

    #[test]
    fn emit_refuses_maps_and_lists() {
        let mut m = Map::new();
        m.push("A", Value::List(vec![]));
        assert!(emit_file(&[m]).is_err());
        let mut m = Map::new();
        m.push("A", Value::Map(Map::new()));
        assert!(emit_file(&[m]).is_err());
    }
}
