//! End-to-end checks of the flat stores through the crypto core: every encrypted fixture and
//! corpus file decrypts to exactly what `sops decrypt` printed (or fails where sops failed).

use super::tests_corpus::{cases, corpus, fixtures, listed, KINDS};
use crate::keys::Identities;
use crate::sops::decrypt;
use crate::sops::stores::Format;

fn identities() -> Identities {
    let text = std::fs::read_to_string(fixtures().join("keys/age1.txt")).unwrap();
    let mut ids = Identities::new();
    ids.add_age_keys_text(&text, "age1.txt");
    ids
}

fn decrypt_to_text(input: &[u8], format: Format, ids: &Identities) -> Result<String, String> {
    let file = decrypt(input, format, ids).map_err(|e| e.to_string())?;
    let out = file.emit(format).map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(out.as_bytes()).into_owned())
}

#[test]
fn the_flat_fixtures_decrypt_to_exactly_what_sops_printed() {
    let ids = identities();
    let dir = fixtures();
    for (enc, out, format) in [
        ("enc/basic.env", "out/dotenv-basic.out", Format::Dotenv),
        ("enc/empty.env", "out/dotenv-empty.out", Format::Dotenv),
        ("enc/basic.ini", "out/ini-basic.out", Format::Ini),
    ] {
        let got = decrypt_to_text(&std::fs::read(dir.join(enc)).unwrap(), format, &ids);
        let want = String::from_utf8_lossy(&std::fs::read(dir.join(out)).unwrap()).into_owned();
        assert_eq!(got.as_deref(), Ok(want.as_str()), "{enc}");
    }
}

#[test]
fn every_encrypted_corpus_file_decrypts_as_sops_decrypt_did() {
    let ids = identities();
    for (kind, ext, _, _) in KINDS {
        let format = Format::from_name(kind).unwrap();
        let fails = listed("decrypt-fails.txt", kind);
        for name in cases(kind) {
            let enc = corpus().join(format!("enc/{kind}/{name}.{ext}"));
            if !enc.exists() {
                continue;
            }
            let got = decrypt_to_text(&std::fs::read(&enc).unwrap(), format, &ids);
            if fails.contains(&name) {
                assert!(got.is_err(), "{kind}/{name}: sops could not decrypt it");
                continue;
            }
            let out = corpus().join(format!("out/{kind}/{name}.out"));
            let want = String::from_utf8_lossy(&std::fs::read(out).unwrap()).into_owned();
            assert_eq!(got.as_deref(), Ok(want.as_str()), "{kind}/{name}");
        }
    }
}
