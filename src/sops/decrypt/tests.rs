//! The spec's worked example (`frozen/mac-example`), built as a tree by hand so that the crypto
//! core is tested independently of any store: age unwrap, every value type, the MAC.

use super::*;
use crate::keys::Identities;
use crate::sops::tree::{Entry, Value};

const ENC_AGE: &str = "-----BEGIN AGE ENCRYPTED FILE-----
YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSByTkJnQmw2RWpKc3RxWUlD
b0tJeUhKaCtGL3RBSG9jN3hhUmFvaUxkS1hvCkRnRUN4dWNYUG5MZnppS2l2L0JQ
aEd1UGlkdyswaFdYOW1tZCtIZ1VZU2MKLS0tIEx4bEFSS1gxYjJnZlVBRSt3TjdB
SDFkcDdYd3NYcE15YlkwdGxPblJQMlEK2jgLAaAGovI4TO4hOvqv1fFsZh+earz4
su1+/Uc6+LHHbVlUa6uVVdW+BE7jod/DQ8F/BcxntwX2phETzlRQ0A==
-----END AGE ENCRYPTED FILE-----
";
const KEY: &str = "AGE-SECRET-KEY-1ETP60FCL6YUZM7ARLFKM3JEU6CVQXRDE5MC2TAK6QLQ44A2FPAASGT2GY3";
const MAC: &str = "ENC[AES256_GCM,data:cxPINXTekWeQnAnQyimcDzD/51ujzSAK3eGfxbgh2rPFgicgnAWnLLy5StykwOuQ3FCh5eTdUutOl0F6fPmOxVbUoN7OwEpks05iFnnXHC2OWiJsltRQhDzs3H34rltcdc7HDfOf3qcn6DZFov49+WFmECusLpSwppdtiVq893g=,iv:0Jx9DEnfjypyng8aF55l7DKSZkAudNRn/MZhRiIt1gM=,tag:vWj8q3dm+aFD8laZ3LqhzQ==,type:str]";

fn s(v: &str) -> Value {
    Value::str(v)
}

fn data_tree() -> Map {
    let mut db = Map::new();
    db.push("user", s("ENC[AES256_GCM,data:tOgQRis=,iv:O+Kh7ut7GwdJIuY3bxwciF+gdec5QrOFG8sEES5wOvs=,tag:9Kgou5GWwoFStKGHNMik2Q==,type:str]"));
    db.push("port", s("ENC[AES256_GCM,data:g9o0qQ==,iv:INJypETQ5lYfZi0j+8Uy+p8EmLPpNm4tVyr/kvogIOk=,tag:xTZx17mJeijqzh+O+bsnOw==,type:int]"));
    let mut top = Map::new();
    top.0.push(Entry::Comment("ENC[AES256_GCM,data:HQOsbGUdHKAnmGiu1mjI8c+I,iv:okGyO4kMhJFz7uwHZUXCcckYadKk96++j+IrRQ/NPno=,tag:wu+g8NAmSS8nAuXgeu4MHA==,type:comment]".into()));
    top.push("db", Value::Map(db));
    top.push("ratio", s("ENC[AES256_GCM,data:dA==,iv:3/Qk4rKZNRyCQVB+8wENoTKgaf8BNQ4sR4s8whi2ik4=,tag:H5rPDzN1rO+eqUOKKA4uJw==,type:float]"));
    top.push("enabled", s("ENC[AES256_GCM,data:ikWmow==,iv:99G6ej3SEprQISbFh2C67Aag/VIuC+BhQ4nEkVutqE4=,tag:0FOMG5ovxUdH6TzEBJZiCQ==,type:bool]"));
    top.push(
        "hosts",
        Value::List(vec![
            s("ENC[AES256_GCM,data:ItB3notg+GbD,iv:qT/HjffrFOpVGz3BlbEHgbN25dG+c96NZQ7rMp+oDxE=,tag:7Mhc1UJtyaEEL060iFty+g==,type:str]"),
            s("ENC[AES256_GCM,data:aUMI6KBJYBTx,iv:3GyXoa8lWmg7oF/TTbLtghShBNrdndkJEP9iWmlLsCE=,tag:Rp7XJkfSb1kmmNDGuSH1OQ==,type:str]"),
        ]),
    );
    top.push("empty", s(""));
    top.push("nothing", Value::Null);
    top.push("debug_unencrypted", Value::Bool(false));
    top
}

fn metadata_tree(mac: &str) -> Value {
    let mut age = Map::new();
    age.push(
        "recipient",
        s("age1djsxgv54gvgumrn56qmmlyht9nwvwxps3ud7f98p970k63wa5dnq3cwvv3"),
    );
    age.push("enc", s(ENC_AGE));
    let mut m = Map::new();
    m.push("age", Value::List(vec![Value::Map(age)]));
    m.push("lastmodified", s("2026-11-22T11:16:41Z"));
    m.push("mac", s(mac));
    m.push("unencrypted_suffix", s("_unencrypted"));
    m.push("version", s("3.11.0"));
    Value::Map(m)
}

fn identities(text: &str) -> Identities {
    let mut ids = Identities::new();
    ids.add_age_keys_text(text, "test key");
    ids
}

fn decrypt_tree(data: Map, meta: Value, ids: &Identities) -> Result<DecryptedFile, SopsError> {
    let meta = metadata::decode(&meta).map_err(SopsError::Metadata)?;
    let key = data_key::recover(&meta, ids).map_err(SopsError::NoKey)?;
    let loaded = LoadedFile {
        branches: vec![data],
        metadata: None,
    };
    decrypt_with_key(loaded, Format::Yaml, &meta, &key)
}

#[test]
fn the_worked_example_decrypts_with_every_type_and_a_matching_mac() {
    let file = decrypt_tree(data_tree(), metadata_tree(MAC), &identities(KEY)).unwrap();
    let top = &file.branches[0];
    assert_eq!(top.0[0], Entry::Comment(" database settings".into()));
    let Some(Value::Map(db)) = top.get("db") else {
        panic!("db is a map")
    };
    assert_eq!(db.get("user"), Some(&s("admin")));
    assert_eq!(db.get("port"), Some(&Value::Int(5432)));
    assert_eq!(top.get("ratio"), Some(&Value::Float(1.0)));
    assert_eq!(top.get("enabled"), Some(&Value::Bool(true)));
    assert_eq!(
        top.get("hosts"),
        Some(&Value::List(vec![s("a.example"), s("b.example")]))
    );
    assert_eq!(top.get("debug_unencrypted"), Some(&Value::Bool(false)));
}

#[test]
fn a_changed_clear_value_is_a_mac_mismatch() {
    let mut data = data_tree();
    data.0
        .retain(|e| !matches!(e, Entry::Pair(k, _) if k == "debug_unencrypted"));
    data.push("debug_unencrypted", Value::Bool(true));
    let err = decrypt_tree(data, metadata_tree(MAC), &identities(KEY)).unwrap_err();
    assert!(matches!(err, SopsError::MacMismatch), "{err}");
    assert_eq!(err.exit_code(), 51);
}

#[test]
fn a_missing_or_undecryptable_mac_is_an_error() {
    let err = decrypt_tree(data_tree(), metadata_tree(""), &identities(KEY)).unwrap_err();
    assert!(matches!(err, SopsError::MacMissing));
    let tampered = MAC.replace("data:cxPI", "data:cxPJ");
    let err = decrypt_tree(data_tree(), metadata_tree(&tampered), &identities(KEY)).unwrap_err();
    assert!(matches!(err, SopsError::MacUndecryptable));
}

#[test]
fn a_value_moved_to_another_key_fails_with_its_path() {
    let mut data = data_tree();
    let Some(Entry::Pair(_, Value::Map(db))) = data.0.get_mut(1) else {
        panic!()
    };
    let (Entry::Pair(_, user), Entry::Pair(_, port)) = (db.0[0].clone(), db.0[1].clone()) else {
        panic!()
    };
    db.0[0] = Entry::Pair("user".into(), port);
    db.0[1] = Entry::Pair("port".into(), user);
    let err = decrypt_tree(data, metadata_tree(MAC), &identities(KEY)).unwrap_err();
    assert_eq!(err.exit_code(), 25);
    assert!(
        err.to_string().starts_with("value db/user: cannot decrypt"),
        "{err}"
    );
}

#[test]
fn a_wrong_key_lists_the_file_recipients_and_the_loaded_ones() {
    let other = age::x25519::Identity::generate();
    use age::secrecy::ExposeSecret;
    let err = decrypt_tree(
        data_tree(),
        metadata_tree(MAC),
        &identities(other.to_string().expose_secret()),
    )
    .unwrap_err();
    assert_eq!(err.exit_code(), 128);
    let msg = err.to_string();
    assert!(
        msg.starts_with("no loaded key can open it; recipients: age1djsxgv54"),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("loaded: {} (from test key)", other.to_public())),
        "{msg}"
    );
}

#[test]
fn a_plain_value_where_ciphertext_belongs_is_an_error() {
    let mut data = data_tree();
    data.push("extra", Value::Int(7));
    let err = decrypt_tree(data, metadata_tree(MAC), &identities(KEY)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "value extra: should be encrypted but is a plain integer"
    );
}

#[test]
fn a_value_typed_bytes_is_an_error_where_sops_panics() {
    // The type tag is not authenticated: `type:str` edited to `type:bytes` still decrypts,
    // and sops then panics (hash of unhashable type []uint8). We fail with one line.
    let mut data = data_tree();
    let Some(Entry::Pair(_, Value::Map(db))) = data.0.get_mut(1) else {
        panic!()
    };
    let Entry::Pair(_, Value::Str(user)) = db.0[0].clone() else {
        panic!()
    };
    let edited = String::from_utf8_lossy(user.as_bytes()).replace("type:str]", "type:bytes]");
    db.0[0] = Entry::Pair("user".into(), s(&edited));
    let err = decrypt_tree(data, metadata_tree(MAC), &identities(KEY)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "value db/user: its ENC[…] type is \"bytes\", which sops cannot decrypt (it panics)"
    );
    assert_ne!(err.exit_code(), 0);
}
