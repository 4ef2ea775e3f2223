//! `age-plugin-sopstest`: a tiny real age plugin for the tests, built with the `age-plugin`
//! crate. Its identity `AGE-PLUGIN-SOPSTEST-1…` carries an X25519 secret key (and optionally a
//! PIN); over the identity-v1 protocol it unwraps ordinary `X25519` stanzas with that key, so a
//! file sops encrypted to the matching `age1…` recipient opens through the plugin. An identity
//! with a PIN asks for it through the protocol first and fails without it.
//!
//! Besides `--age-plugin=identity-v1` it has one command for the tests:
//! `age-plugin-sopstest --identity-for AGE-SECRET-KEY-1… [--pin PIN]` prints a
//! `# recipient: age1…` comment and the plugin identity for that key.

// Test support: a failed step is a failed test (Cargo.toml [lints] denies these in shipped code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use age_core::format::{FileKey, Stanza};
use age_core::primitives::{bech32_decode, bech32_encode};
use age_plugin::identity::{self, IdentityPluginV1};
use age_plugin::{run_state_machine, Callbacks, PluginHandler};

const NAME: &str = "sopstest";

struct Handler;

impl PluginHandler for Handler {
    type RecipientV1 = Infallible;
    type IdentityV1 = Plugin;

    fn identity_v1(self) -> io::Result<Plugin> {
        Ok(Plugin::default())
    }
}

/// (X25519 identity, PIN it wants) per added identity, by index.
#[derive(Default)]
struct Plugin {
    identities: Vec<(usize, age::x25519::Identity, Option<String>)>,
}

impl IdentityPluginV1 for Plugin {
    fn add_identity(
        &mut self,
        index: usize,
        plugin_name: &str,
        bytes: &[u8],
    ) -> Result<(), identity::Error> {
        let bad = |message: &str| identity::Error::Identity {
            index,
            message: message.to_string(),
        };
        if plugin_name != NAME || bytes.len() < 32 {
            return Err(bad("not a sopstest identity"));
        }
        let secret = bech32_encode(
            bech32::Hrp::parse_unchecked("age-secret-key-"),
            &bytes[..32],
        )
        .to_uppercase();
        let key = age::x25519::Identity::from_str(&secret).map_err(|_| bad("bad key"))?;
        let pin = (bytes.len() > 32).then(|| String::from_utf8_lossy(&bytes[32..]).into_owned());
        self.identities.push((index, key, pin));
        Ok(())
    }

    fn unwrap_file_keys(
        &mut self,
        files: Vec<Vec<Stanza>>,
        mut callbacks: impl Callbacks<identity::Error>,
    ) -> io::Result<HashMap<usize, Result<FileKey, Vec<identity::Error>>>> {
        let mut out = HashMap::new();
        for (file, stanzas) in files.iter().enumerate() {
            let mut errors = Vec::new();
            for (index, key, pin) in &self.identities {
                if let Some(pin) = pin {
                    let given = callbacks.request_secret("PIN for the sopstest identity")?;
                    let message = match given {
                        Ok(s) if s.expose_secret() == pin => None,
                        Ok(_) => Some("wrong PIN"),
                        Err(_) => Some("no PIN was given"),
                    };
                    if let Some(message) = message {
                        errors.push(identity::Error::Identity {
                            index: *index,
                            message: message.to_string(),
                        });
                        continue;
                    }
                }
                match age::Identity::unwrap_stanzas(key, stanzas) {
                    Some(Ok(file_key)) => {
                        out.insert(file, Ok(file_key));
                        errors.clear();
                        break;
                    }
                    Some(Err(_)) => errors.push(identity::Error::Identity {
                        index: *index,
                        message: "a stanza is malformed".to_string(),
                    }),
                    None => {}
                }
            }
            if !errors.is_empty() && !out.contains_key(&file) {
                out.insert(file, Err(errors));
            }
        }
        Ok(out)
    }
}

fn identity_for(secret: &str, pin: Option<&str>) -> Result<(), String> {
    let key = age::x25519::Identity::from_str(secret).map_err(|e| e.to_string())?;
    let mut bytes: Vec<u8> = bech32_decode(
        secret,
        |_| "not bech32".to_string(),
        |_| Ok(()),
        |_, data| Ok(data.collect()),
    )?;
    bytes.extend(pin.unwrap_or("").as_bytes());
    let hrp = bech32::Hrp::parse_unchecked("age-plugin-sopstest-");
    println!("# recipient: {}", key.to_public());
    println!("{}", bech32_encode(hrp, &bytes).to_uppercase());
    Ok(())
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [machine] if machine.starts_with("--age-plugin=") => {
            run_state_machine(&machine["--age-plugin=".len()..], Handler).map_err(|e| e.to_string())
        }
        ["--identity-for", secret] => identity_for(secret, None),
        ["--identity-for", secret, "--pin", pin] => identity_for(secret, Some(pin)),
        _ => Err("usage: age-plugin-sopstest --identity-for AGE-SECRET-KEY-1… [--pin PIN]".into()),
    }
}
