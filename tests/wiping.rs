//! Key material and plaintext are wiped before their memory goes back to the allocator.
//!
//! This test target's global allocator is the binary's (`ZeroAlloc<System>`, which wipes
//! every block it frees) with a checker in front of it that looks at every block just before
//! it is freed, while it still holds what the program left in it:
//! - a test can *watch* one allocation (by its pointer) and later ask whether it was all
//!   zeros when it was freed, so dropping a `SecretBytes` or a `Box<DataKey>`, and every
//!   reallocation on the way, is checked without touching freed memory;
//! - while a test is *armed*, every freed block is searched for the fixture key material
//!   (age identity, the ssh host key's text and seed, its ssh-to-age conversion, data keys);
//!   a hit is traced back to the code that freed it: in sops-install's own code it fails the
//!   test, in a dependency (age parses and decrypts into buffers it does not wipe) it is
//!   reported, and must have been wiped by `ZeroAlloc` before `System` got the block back.
//!
//! `realloc` is not forwarded to `System.realloc`: the trait's default allocates, copies and
//! frees through `dealloc`, so a buffer that grows is checked like one that is dropped. Plain
//! `Vec`s serve as controls: they must be seen *not* wiped.

// Test support: a failed step is a failed test (Cargo.toml [lints] denies these in shipped code).
#![allow(clippy::unwrap_used, clippy::expect_used)]
// The one exception to Cargo.toml's `unsafe_code = "deny"`: this test installs a checking
// global allocator (GlobalAlloc is an unsafe trait); the library and binary forbid unsafe.
#![allow(unsafe_code)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering::SeqCst};
use std::sync::{Mutex, MutexGuard, OnceLock};

use base64::Engine;
use sops_install::commands::decrypt::{self, DecryptArgs, KeyEnv};
use sops_install::keys::Identities;
use sops_install::secret_bytes::SecretBytes;
use sops_install::sops::data_key::DataKey;
use zeroize::Zeroizing;
use zeroizing_alloc::ZeroAlloc;

/// Inspects a block, hands it to `ZeroAlloc`, which wipes it and passes it to `Freed`.
struct Checking(ZeroAlloc<AfterWipe>);
/// Last stop before `System`: counts blocks that reach it not wiped.
struct AfterWipe;

#[global_allocator]
static ALLOCATOR: Checking = Checking(ZeroAlloc(AfterWipe));

const SLOTS: usize = 16;
const FREE: usize = 0;
const DONE: usize = usize::MAX;
const PENDING: u8 = 0;
const WIPED: u8 = 1;
const DIRTY: u8 = 2;
static WATCHED: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(FREE) }; SLOTS];
static VERDICTS: [AtomicU8; SLOTS] = [const { AtomicU8::new(PENDING) }; SLOTS];

const MAX_NEEDLES: usize = 64;
static ARMED: AtomicBool = AtomicBool::new(false);
static NEEDLES: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
/// Per needle: freed unwiped by sops-install's code / by a dependency's.
static OURS: [AtomicUsize; MAX_NEEDLES] = [const { AtomicUsize::new(0) }; MAX_NEEDLES];
static THEIRS: [AtomicUsize; MAX_NEEDLES] = [const { AtomicUsize::new(0) }; MAX_NEEDLES];
static NOT_WIPED_AFTER_ZEROALLOC: AtomicUsize = AtomicUsize::new(0);
static IN_HOOK: AtomicBool = AtomicBool::new(false);

// SAFETY: every call is forwarded unchanged (same pointer and layout) to the next allocator;
// `dealloc` reads only the block it is handed, which is still allocated, before passing it on.
unsafe impl GlobalAlloc for Checking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { self.0.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` is a live block of `layout.size()` bytes until it is passed on.
        let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
        inspect(ptr as usize, block);
        unsafe { self.0.dealloc(ptr, layout) }
    }
}

// SAFETY: as above, forwarding to `System`.
unsafe impl GlobalAlloc for AfterWipe {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` is a live block of `layout.size()` bytes until `System.dealloc`.
        let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
        if block.iter().any(|&b| b != 0) {
            NOT_WIPED_AFTER_ZEROALLOC.fetch_add(1, SeqCst);
        }
        unsafe { System.dealloc(ptr, layout) }
    }
}

fn inspect(addr: usize, block: &[u8]) {
    for (slot, verdict) in WATCHED.iter().zip(&VERDICTS) {
        if slot.compare_exchange(addr, DONE, SeqCst, SeqCst).is_ok() {
            let wiped = block.iter().all(|&b| b == 0);
            verdict.store(if wiped { WIPED } else { DIRTY }, SeqCst);
        }
    }
    if !ARMED.load(SeqCst) || IN_HOOK.load(SeqCst) {
        return;
    }
    let Some(needles) = NEEDLES.get() else { return };
    for (i, (_, needle)) in needles.iter().enumerate() {
        if block.windows(needle.len()).any(|w| w == &needle[..]) {
            // Capturing allocates: the hook is not re-entered meanwhile.
            IN_HOOK.store(true, SeqCst);
            let trace = std::backtrace::Backtrace::force_capture().to_string();
            match culprit(&trace) {
                Some(f) if f.starts_with("sops_install::") => {
                    OURS[i].fetch_add(1, SeqCst);
                    eprintln!("{} freed unwiped by {f}:\n{trace}", needles[i].0);
                }
                _ => {
                    THEIRS[i].fetch_add(1, SeqCst);
                }
            }
            IN_HOOK.store(false, SeqCst);
        }
    }
}

/// The innermost frame of a backtrace that is neither the standard library nor this test's
/// allocator; a `drop_in_place::<T>` frame stands for the crate of `T` (unless `T` is a std
/// container, whose owner is the next frame out).
fn culprit(trace: &str) -> Option<String> {
    let frames = trace.lines().filter_map(|l| {
        let (n, name) = l.trim_start().split_once(": ")?;
        n.parse::<u32>().ok()?;
        Some(name.trim().to_string())
    });
    let std_like = |f: &str| {
        let f = f.trim_start_matches('<');
        [
            "std::",
            "core::",
            "alloc::",
            "__rustc",
            "wiping::",
            "zeroizing_alloc::",
            "hashbrown::",
        ]
        .iter()
        .any(|p| f.starts_with(p))
            || f.starts_with("[")
            || f.starts_with("T as ")
            || f.starts_with("&")
    };
    for f in frames {
        if let Some(t) = f.strip_prefix("core::ptr::drop_in_place<") {
            if !std_like(t) {
                return Some(t.to_string());
            }
            continue;
        }
        if !std_like(&f) {
            return Some(f.trim_start_matches('<').to_string());
        }
    }
    None
}

/// Tests share the allocator's slots and counters: one at a time, each starting clean.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    for slot in &WATCHED {
        slot.store(FREE, SeqCst);
    }
    guard
}

/// Starts watching the allocation at `ptr`; returns its slot.
fn watch(ptr: *const u8) -> usize {
    let addr = ptr as usize;
    for (i, slot) in WATCHED.iter().enumerate() {
        if slot.compare_exchange(FREE, addr, SeqCst, SeqCst).is_ok() {
            VERDICTS[i].store(PENDING, SeqCst);
            return i;
        }
    }
    panic!("no free watch slot");
}

/// Whether the watched allocation was freed, and if so whether it was all zeros.
#[derive(Debug, PartialEq, Eq)]
enum Freed {
    NotYet,
    Wiped,
    Dirty,
}

fn freed(slot: usize) -> Freed {
    match VERDICTS[slot].load(SeqCst) {
        WIPED => Freed::Wiped,
        DIRTY => Freed::Dirty,
        _ => Freed::NotYet,
    }
}

#[test]
fn control_a_plain_vec_is_freed_dirty() {
    let _s = serial();
    let v = vec![0x41u8; 48];
    let w = watch(v.as_ptr());
    assert_eq!(freed(w), Freed::NotYet);
    drop(v);
    assert_eq!(freed(w), Freed::Dirty, "the checker sees unwiped memory");
}

#[test]
fn control_a_growing_plain_vec_leaves_its_old_buffer_dirty() {
    let _s = serial();
    let mut v: Vec<u8> = Vec::with_capacity(8);
    v.extend_from_slice(b"12345678");
    let w = watch(v.as_ptr());
    v.extend_from_slice(&[9u8; 1000]);
    assert_eq!(freed(w), Freed::Dirty, "the old buffer went back unwiped");
    drop(v);
}

#[test]
fn control_zeroizing_is_freed_wiped() {
    let _s = serial();
    let v = Zeroizing::new(vec![0x41u8; 48]);
    let w = watch(v.as_ptr());
    drop(v);
    assert_eq!(freed(w), Freed::Wiped);
}

#[test]
fn secret_bytes_are_wiped_on_drop() {
    let _s = serial();
    for s in [
        SecretBytes::copy_from(b"plaintext value"),
        SecretBytes::from("from a str"),
        SecretBytes::from(String::from("from a String")),
        SecretBytes::from(vec![7u8; 100]),
    ] {
        let w = watch(s.as_bytes().as_ptr());
        drop(s);
        assert_eq!(freed(w), Freed::Wiped);
    }
    let cloned = SecretBytes::copy_from(b"cloned value");
    let copy = cloned.clone();
    let (a, b) = (
        watch(cloned.as_bytes().as_ptr()),
        watch(copy.as_bytes().as_ptr()),
    );
    drop(cloned);
    drop(copy);
    assert_eq!((freed(a), freed(b)), (Freed::Wiped, Freed::Wiped));
    let mut shortened = SecretBytes::copy_from(b"long plaintext value");
    shortened.truncate(4);
    let w = watch(shortened.as_bytes().as_ptr());
    drop(shortened);
    assert_eq!(
        freed(w),
        Freed::Wiped,
        "the whole capacity, not only the kept length"
    );
}

#[test]
fn taking_a_vec_or_string_does_not_copy_it() {
    let _s = serial();
    let v = vec![1u8; 32];
    let p = v.as_ptr();
    assert_eq!(SecretBytes::from_vec(v).as_bytes().as_ptr(), p);
    let s = String::from("a string secret");
    let p = s.as_ptr();
    assert_eq!(SecretBytes::from(s).as_bytes().as_ptr(), p);
}

#[test]
fn every_buffer_a_growing_secret_leaves_behind_is_wiped() {
    let _s = serial();
    let mut s = SecretBytes::copy_from(b"abcd");
    let mut slots = vec![watch(s.as_bytes().as_ptr())];
    let grow: [&dyn Fn(&mut SecretBytes); 4] = [
        &|s| s.extend_from_slice(&[0x55; 300]),
        &|s| (0..2000).for_each(|_| s.push(0x66)),
        &|s| s.push_str(&"x".repeat(5000)),
        &|s| s.reserve(100_000),
    ];
    for g in grow {
        let before = s.as_bytes().as_ptr();
        g(&mut s);
        assert_ne!(s.as_bytes().as_ptr(), before, "the buffer moved");
        slots.push(watch(s.as_bytes().as_ptr()));
    }
    let last = slots.pop().expect("slot");
    for w in &slots {
        assert_eq!(
            freed(*w),
            Freed::Wiped,
            "an outgrown buffer was freed unwiped"
        );
    }
    drop(s);
    assert_eq!(freed(last), Freed::Wiped);
    // Growth within the capacity keeps the buffer.
    let mut s = SecretBytes::with_capacity(64);
    s.push_str("abc");
    let p = s.as_bytes().as_ptr();
    s.push_str("def");
    assert_eq!(s.as_bytes().as_ptr(), p);
}

#[test]
fn a_boxed_data_key_is_wiped_on_drop() {
    let _s = serial();
    let key = Box::new(DataKey::from_bytes([0xa5; 32]));
    let w = watch(key.as_bytes().as_ptr());
    drop(key);
    assert_eq!(freed(w), Freed::Wiped);
    // Control: a boxed plain array with the same bytes is not.
    let plain = Box::new([0xa5u8; 32]);
    let w = watch(plain.as_ptr());
    drop(plain);
    assert_eq!(freed(w), Freed::Dirty);
}

/// The fixture key material, read once (before any test arms the scan).
fn needles() -> &'static [(String, Vec<u8>)] {
    NEEDLES.get_or_init(|| {
        let keys = common::fixtures_dir().join("keys");
        let mut out: Vec<(String, Vec<u8>)> = Vec::new();
        for (what, file) in [
            ("age identity", "age1.txt"),
            ("converted ssh identity", "ssh_host_ed25519_key.age.txt"),
        ] {
            let text = std::fs::read_to_string(keys.join(file)).expect("key file");
            let line = text
                .lines()
                .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
                .expect("identity line");
            // Without the checksum, so a copy of the data part alone is found too.
            let data = &line["AGE-SECRET-KEY-1".len()..line.len() - 6];
            out.push((format!("{what} text"), data.as_bytes().to_vec()));
            out.push((
                format!("{what} text, lower case"),
                data.to_lowercase().into_bytes(),
            ));
            out.push((format!("{what} bytes"), bech32_data(&data.to_lowercase())));
        }
        let pem = std::fs::read_to_string(keys.join("ssh_host_ed25519_key")).expect("ssh key");
        let lines: Vec<&str> = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        // Lines in the middle of the body carry the private half.
        for (i, l) in lines.iter().enumerate().skip(1) {
            out.push((format!("ssh key base64 line {i}"), l.as_bytes().to_vec()));
        }
        let raw = base64::engine::general_purpose::STANDARD
            .decode(lines.concat())
            .expect("base64");
        let private = ssh_private_half(&raw);
        out.push(("ssh key seed".into(), private[..32].to_vec()));
        for (what, refname) in [
            ("data key of basic.yaml", "yaml-basic-age1.json"),
            ("data key of ssh.native.yaml", "yaml-ssh-native.json"),
            ("data key of ssh.converted.yaml", "yaml-ssh-converted.json"),
        ] {
            let text = std::fs::read_to_string(common::fixtures_dir().join("ref").join(refname))
                .expect("ref");
            let v: serde_json::Value = serde_json::from_str(&text).expect("json");
            let h = v["data_key_hex"].as_str().expect("data key");
            out.push((what.to_string(), hex::decode(h).expect("hex")));
        }
        assert!(out.len() <= MAX_NEEDLES);
        out
    })
}

/// The bytes a bech32 data part (lower case, no checksum) encodes.
fn bech32_data(data: &str) -> Vec<u8> {
    const CHARSET: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    let (mut acc, mut bits, mut out) = (0u32, 0u32, Vec::new());
    for c in data.bytes() {
        let v = CHARSET.iter().position(|&x| x == c).expect("bech32 char") as u32;
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// The 64-byte private half of an unencrypted OpenSSH ed25519 key.
fn ssh_private_half(raw: &[u8]) -> Vec<u8> {
    fn take<'a>(r: &mut &'a [u8]) -> &'a [u8] {
        let n = u32::from_be_bytes(r[..4].try_into().expect("len")) as usize;
        let s = &r[4..4 + n];
        *r = &r[4 + n..];
        s
    }
    let mut r = &raw[b"openssh-key-v1\0".len()..];
    for _ in 0..3 {
        take(&mut r);
    }
    r = &r[4..];
    take(&mut r);
    let mut p = &take(&mut r)[8..];
    take(&mut p);
    take(&mut p);
    take(&mut p).to_vec()
}

/// What an armed run found freed unwiped: by sops-install's code, by dependencies.
#[derive(Debug, Default)]
struct Found {
    ours: Vec<String>,
    theirs: Vec<String>,
}

/// Runs `f` with the heap scan armed.
fn armed(f: impl FnOnce()) -> Found {
    let needles = needles();
    for h in OURS.iter().chain(&THEIRS) {
        h.store(0, SeqCst);
    }
    NOT_WIPED_AFTER_ZEROALLOC.store(0, SeqCst);
    ARMED.store(true, SeqCst);
    f();
    ARMED.store(false, SeqCst);
    assert_eq!(
        NOT_WIPED_AFTER_ZEROALLOC.load(SeqCst),
        0,
        "ZeroAlloc handed back a block that was not wiped"
    );
    let list = |counts: &[AtomicUsize]| -> Vec<String> {
        needles
            .iter()
            .zip(counts)
            .filter(|(_, h)| h.load(SeqCst) > 0)
            .map(|((what, _), h)| format!("{what} ({} blocks)", h.load(SeqCst)))
            .collect()
    };
    Found {
        ours: list(&OURS),
        theirs: list(&THEIRS),
    }
}

#[test]
fn control_the_heap_scan_finds_a_dropped_copy() {
    let _s = serial();
    let needle = needles()[0].1.clone();
    let found = armed(|| drop(needle.clone()));
    assert_eq!(found.ours.len() + found.theirs.len(), 1, "{found:?}");
    let found = armed(|| drop(Zeroizing::new(needle.clone())));
    assert!(
        found.ours.is_empty() && found.theirs.is_empty(),
        "{found:?}"
    );
    drop(Zeroizing::new(needle));
}

#[test]
fn loading_identities_leaves_no_key_material_on_the_heap() {
    let _s = serial();
    let keys = common::fixtures_dir().join("keys");
    needles();
    let found = armed(|| {
        let mut ids = Identities::new();
        ids.add_age_key_file(&keys.join("age1.txt"));
        ids.add_ssh_key(&keys.join("ssh_host_ed25519_key"));
        ids.add_ssh_key_converted(&keys.join("ssh_host_ed25519_key"));
        assert_eq!(ids.loaded().len(), 4, "{:?}", ids.problems());
        drop(ids);
    });
    assert!(
        found.ours.is_empty(),
        "key material freed unwiped: {found:?}"
    );
    eprintln!("left to ZeroAlloc (dependencies): {:?}", found.theirs);
}

#[test]
fn decrypting_leaves_no_key_material_on_the_heap() {
    let _s = serial();
    let keys = common::fixtures_dir().join("keys");
    needles();
    for (file, key) in [
        ("basic.yaml", "--age"),
        ("ssh.native.yaml", "--ssh"),
        ("ssh.converted.yaml", "--ssh"),
    ] {
        let mut args = DecryptArgs {
            file: common::fixtures_dir().join("enc").join(file),
            ..DecryptArgs::default()
        };
        if key == "--age" {
            args.age_key_files.push(keys.join("age1.txt"));
        } else {
            args.ssh_keys.push(keys.join("ssh_host_ed25519_key"));
        }
        let found = armed(|| {
            let (out, _) = decrypt::run(&args, &KeyEnv::default()).expect("decrypts");
            assert!(!out.is_empty());
            drop(out);
        });
        assert!(
            found.ours.is_empty(),
            "{file}: key material freed unwiped: {found:?}"
        );
        eprintln!(
            "{file}: left to ZeroAlloc (dependencies): {:?}",
            found.theirs
        );
    }
}

#[test]
fn the_sops_age_key_variable_is_wiped_and_never_shown() {
    let _s = serial();
    let text = std::fs::read_to_string(common::fixtures_dir().join("keys/age1.txt")).expect("key");
    let env = KeyEnv {
        age_key: Some(Zeroizing::new(text.clone())),
        ..KeyEnv::default()
    };
    let shown = format!("{env:?}");
    assert!(!shown.contains("AGE-SECRET-KEY"), "{shown}");
    let w = watch(env.age_key.as_ref().expect("set").as_ptr());
    drop(env);
    assert_eq!(freed(w), Freed::Wiped);
    drop(Zeroizing::new(text));
}
