//! Our own client of the age plugin protocol, identity side (`age-plugin-<name>
//! --age-plugin=identity-v1`), bounded in time and size.
//!
//! Phase 1 sends `add-identity` for each identity, `recipient-stanza 0 …` for each stanza of
//! the file and `done`. Phase 2 answers the plugin until it says `done`: `msg` (shown, `ok`),
//! `confirm`, `request-public` and `request-secret` (refused with `fail`: nobody is there to
//! answer during activation), `file-key` (kept, `ok`), `error` (kept, `ok`), anything else
//! `unsupported`.
//!
//! The plugin is started as every helper is ([`crate::keys::helper::command`]: absolute path,
//! small environment), in its own process group so that a grandchild holding the pipes dies
//! with it. Everything it writes is bounded: a protocol line by [`LINE_MAX`], a command body by
//! [`BODY_MAX`], all of its output by [`TOTAL_MAX`], its standard error by the last
//! [`STDERR_KEPT`] bytes. One `poll` loop waits on all pipes with the helper deadline
//! (`SOPS_INSTALL_HELPER_TIMEOUT`); after 5 s a warning names the plugin, at the deadline its
//! process group is killed. File keys and everything read are zeroized buffers.

use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use age_core::format::{FileKey, Stanza, FILE_KEY_BYTES};
use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine;
use nix::poll::{PollFd, PollFlags};
use zeroize::Zeroizing;

use crate::keys::helper::SLOW_AFTER;

/// Longest protocol line accepted from a plugin (a command with its arguments).
pub const LINE_MAX: usize = 64 * 1024;
/// Largest command body accepted from a plugin (decoded bytes).
pub const BODY_MAX: usize = 64 * 1024;
/// Most bytes a plugin may write on standard output in one exchange.
pub const TOTAL_MAX: usize = 1024 * 1024;
/// Bytes of a plugin's standard error kept (the end of it).
pub const STDERR_KEPT: usize = 8192;
/// How long a plugin that said `done` gets to exit before its group is killed.
const GRACE: Duration = Duration::from_millis(500);
/// Columns of a stanza body line.
const COLUMNS: usize = 64;
const CHUNK: usize = 4096;

/// What the plugin said or asked that the caller records.
#[derive(Debug, PartialEq, Eq)]
pub enum Note {
    /// A `msg` for the user.
    Message(String),
    /// A question refused: what was asked for, and the plugin's text.
    Refused { what: &'static str, text: String },
}

/// The end of one exchange: the file key if the plugin unwrapped one, and the errors it
/// reported (one line each).
pub struct Outcome {
    pub file_key: Option<FileKey>,
    pub errors: Vec<String>,
}

/// An exchange with a plugin failed: one line naming the plugin (never key material).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PluginError(pub String);

impl From<String> for PluginError {
    fn from(text: String) -> Self {
        PluginError(text)
    }
}

/// One command from the plugin.
struct Command {
    tag: String,
    args: Vec<String>,
    body: Zeroizing<Vec<u8>>,
}

/// Runs `program` (absolute) as plugin `binary` over `identities` and `stanzas` (all of file
/// 0). `Err` is one line naming the plugin: it was killed, flooded, broke the protocol or
/// stopped early.
pub fn unwrap(
    program: &Path,
    binary: &str,
    identities: &[Zeroizing<String>],
    stanzas: &[Stanza],
    timeout: Duration,
    note: &mut dyn FnMut(Note),
) -> Result<Outcome, PluginError> {
    let mut cmd = crate::keys::helper::command(program.as_os_str()).map_err(|e| e.to_string())?;
    cmd.arg("--age-plugin=identity-v1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    let mut exchange = Exchange {
        binary,
        group: nix::unistd::Pid::from_raw(child.id() as i32),
        child,
        start: Instant::now(),
        timeout,
        stderr_tail: Vec::new(),
    };
    let result = exchange.run(identities, stanzas, note);
    exchange.end(result.is_ok());
    result
}

struct Exchange<'a> {
    binary: &'a str,
    child: Child,
    group: nix::unistd::Pid,
    start: Instant,
    timeout: Duration,
    stderr_tail: Vec<u8>,
}

impl Exchange<'_> {
    fn run(
        &mut self,
        identities: &[Zeroizing<String>],
        stanzas: &[Stanza],
        note: &mut dyn FnMut(Note),
    ) -> Result<Outcome, PluginError> {
        let binary = self.binary;
        let mut out: Zeroizing<Vec<u8>> = Zeroizing::new(Vec::new());
        for identity in identities {
            encode(&mut out, "add-identity", &[identity.as_str()], &[]);
        }
        for stanza in stanzas {
            let mut args = vec!["0", stanza.tag.as_str()];
            args.extend(stanza.args.iter().map(String::as_str));
            encode(&mut out, "recipient-stanza", &args, &stanza.body);
        }
        encode(&mut out, "done", &[], &[]);
        let mut written = 0;

        let mut stdin = self.child.stdin.take();
        let mut stdout = self.child.stdout.take();
        let mut stderr = self.child.stderr.take();
        for fd in [
            stdin.as_ref().map(|f| f.as_fd()),
            stdout.as_ref().map(|f| f.as_fd()),
            stderr.as_ref().map(|f| f.as_fd()),
        ]
        .into_iter()
        .flatten()
        {
            nonblocking(fd).map_err(|e| format!("cannot set up the pipes of {binary}: {e}"))?;
        }

        let mut parser = Parser::new(binary);
        let mut state = Phase2 {
            binary,
            file_key: None,
            errors: Vec::new(),
        };
        let deadline = self.start + self.timeout;
        let warn_at = self.start + SLOW_AFTER;
        let mut warned = false;
        let mut chunk = Zeroizing::new([0u8; CHUNK]);
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Err(self.timed_out());
            }
            if !warned && now >= warn_at {
                warned = true;
                tracing::warn!(
                    "waiting for {binary} (killed after {} s; SOPS_INSTALL_HELPER_TIMEOUT)",
                    self.timeout.as_secs()
                );
            }
            let Some(reader) = stdout.as_mut() else {
                drain(stderr.as_mut(), &mut self.stderr_tail);
                return Err(self.stopped_early());
            };
            let until = if warned {
                deadline
            } else {
                warn_at.min(deadline)
            };
            let wait = until.saturating_duration_since(now).as_millis();
            let wait = u16::try_from(wait.saturating_add(1)).unwrap_or(u16::MAX);
            let want_write = written < out.len();
            let (in_ready, out_ready, err_ready) = {
                let mut fds = Vec::with_capacity(3);
                let writing = stdin.as_ref().filter(|_| want_write);
                if let Some(w) = writing {
                    fds.push(PollFd::new(w.as_fd(), PollFlags::POLLOUT));
                }
                fds.push(PollFd::new(reader.as_fd(), PollFlags::POLLIN));
                if let Some(e) = stderr.as_ref() {
                    fds.push(PollFd::new(e.as_fd(), PollFlags::POLLIN));
                }
                match nix::poll::poll(&mut fds, wait) {
                    Ok(_) => {}
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(e) => return Err(PluginError(format!("cannot wait for {binary}: {e}"))),
                }
                let ready = |f: &PollFd| f.revents().is_some_and(|r| !r.is_empty());
                let mut it = fds.iter();
                let in_ready = writing.is_some() && it.next().is_some_and(ready);
                let out_ready = it.next().is_some_and(ready);
                let err_ready = stderr.is_some() && it.next().is_some_and(ready);
                (in_ready, out_ready, err_ready)
            };
            if in_ready {
                if let Some(w) = stdin.as_mut() {
                    match w.write(&out[written..]) {
                        Ok(n) => written += n,
                        Err(e) if would_block(&e) => {}
                        // The plugin closed its input; what it says next decides.
                        Err(_) => stdin = None,
                    }
                }
            }
            if err_ready && !read_tail(stderr.as_mut(), &mut self.stderr_tail) {
                stderr = None;
            }
            if out_ready {
                match reader.read(&mut chunk[..]) {
                    Ok(0) => stdout = None,
                    Ok(n) => {
                        for command in parser.feed(&chunk[..n])? {
                            if state.handle(command, &mut out, note) {
                                return Ok(Outcome {
                                    file_key: state.file_key,
                                    errors: state.errors,
                                });
                            }
                        }
                    }
                    Err(e) if would_block(&e) => {}
                    Err(e) => return Err(PluginError(format!("cannot read from {binary}: {e}"))),
                }
            }
        }
    }

    fn timed_out(&self) -> PluginError {
        PluginError(format!(
            "{} did not finish within {} s and was killed (SOPS_INSTALL_HELPER_TIMEOUT)",
            self.binary,
            self.timeout.as_secs()
        ))
    }

    fn stopped_early(&mut self) -> PluginError {
        // Give it a moment to exit, for the status.
        let until = Instant::now() + GRACE;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(s)) => break Some(s),
                Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(10)),
                _ => break None,
            }
        };
        let text = String::from_utf8_lossy(&self.stderr_tail);
        let last = text.lines().map(str::trim).rfind(|l| !l.is_empty());
        let mut msg = format!(
            "{} stopped before finishing the plugin protocol",
            self.binary
        );
        if let Some(s) = status {
            msg.push_str(&format!(" ({s})"));
        }
        if let Some(last) = last {
            msg.push_str(&format!(": {}", shown(last)));
        }
        PluginError(msg)
    }

    /// Closes the plugin's input, lets a plugin that finished exit, then kills its process
    /// group (whatever it left running) and reaps it.
    fn end(&mut self, finished: bool) {
        drop(self.child.stdin.take());
        if finished {
            let until = (Instant::now() + GRACE).min(self.start + self.timeout);
            while Instant::now() < until {
                match self.child.try_wait() {
                    Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                    _ => break,
                }
            }
        }
        // The group outlives a leader that is not yet reaped, so this never hits a stranger.
        let _ = nix::sys::signal::killpg(self.group, nix::sys::signal::Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

fn would_block(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted)
}

fn nonblocking(fd: std::os::fd::BorrowedFd<'_>) -> nix::Result<()> {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    let flags = OFlag::from_bits_truncate(fcntl(fd, FcntlArg::F_GETFL)?);
    fcntl(fd, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    Ok(())
}

/// Reads what is available into the kept tail; false at end of file or on an error.
fn read_tail(pipe: Option<&mut std::process::ChildStderr>, tail: &mut Vec<u8>) -> bool {
    let Some(pipe) = pipe else {
        return false;
    };
    let mut chunk = [0u8; CHUNK];
    match pipe.read(&mut chunk) {
        Ok(0) => false,
        Ok(n) => {
            tail.extend_from_slice(&chunk[..n]);
            if tail.len() > STDERR_KEPT {
                tail.drain(..tail.len() - STDERR_KEPT);
            }
            true
        }
        Err(e) => would_block(&e),
    }
}

/// Reads what standard error holds now (bounded: it is not waited for).
fn drain(mut pipe: Option<&mut std::process::ChildStderr>, tail: &mut Vec<u8>) {
    for _ in 0..(TOTAL_MAX / CHUNK) {
        let before = tail.len();
        if !read_tail(pipe.as_deref_mut(), tail) || tail.len() == before {
            break;
        }
    }
}

/// Appends one command in the age stanza format: `-> tag args…`, then the body in standard
/// base64 without padding, 64 columns a line, ended by a shorter (maybe empty) line.
fn encode(out: &mut Vec<u8>, tag: &str, args: &[&str], body: &[u8]) {
    out.extend_from_slice(b"->");
    for word in std::iter::once(tag).chain(args.iter().copied()) {
        out.push(b' ');
        out.extend_from_slice(word.as_bytes());
    }
    out.push(b'\n');
    let text = Zeroizing::new(STANDARD_NO_PAD.encode(body));
    let mut rest = text.as_bytes();
    loop {
        let (line, more) = rest.split_at(rest.len().min(COLUMNS));
        out.extend_from_slice(line);
        out.push(b'\n');
        if line.len() < COLUMNS {
            break;
        }
        rest = more;
    }
}

/// Phase 2 as seen from the client.
struct Phase2<'a> {
    binary: &'a str,
    file_key: Option<FileKey>,
    errors: Vec<String>,
}

impl Phase2<'_> {
    /// Answers one command; true when the plugin said `done`.
    fn handle(&mut self, command: Command, out: &mut Vec<u8>, note: &mut dyn FnMut(Note)) -> bool {
        let text = || String::from_utf8_lossy(&command.body).into_owned();
        let mut refuse = |what: &'static str| {
            note(Note::Refused { what, text: text() });
            encode(out, "fail", &[], &[]);
        };
        match command.tag.as_str() {
            "done" => return true,
            "msg" => {
                note(Note::Message(text()));
                encode(out, "ok", &[], &[]);
            }
            "confirm" => refuse("a confirmation"),
            "request-public" => refuse("input"),
            "request-secret" => refuse("a PIN or passphrase"),
            "file-key" => {
                let wanted = command.args.len() == 1 && command.args[0] == "0";
                if wanted && self.file_key.is_none() && command.body.len() == FILE_KEY_BYTES {
                    self.file_key = Some(FileKey::init_with_mut(|k| {
                        k.copy_from_slice(&command.body);
                    }));
                    encode(out, "ok", &[], &[]);
                } else {
                    if command.body.len() != FILE_KEY_BYTES {
                        self.errors.push(format!(
                            "{} gave a file key of {} bytes, not {FILE_KEY_BYTES}",
                            self.binary,
                            command.body.len()
                        ));
                    }
                    encode(out, "fail", &[], &[]);
                }
            }
            "error" => {
                let kind = match command.args.as_slice() {
                    [kind, index] if kind == "identity" => format!("identity {index}: "),
                    [kind, index] if kind == "stanza" => format!("stanza {index}: "),
                    _ => String::new(),
                };
                self.errors
                    .push(format!("{} failed: {kind}{}", self.binary, shown(&text())));
                encode(out, "ok", &[], &[]);
            }
            _ => encode(out, "unsupported", &[], &[]),
        }
        false
    }
}

/// A plugin's text as part of one report line: control characters and runs of white space
/// become one space, and it is cut at 300 characters.
pub fn shown(text: &str) -> String {
    let plain: String = text
        .replace(['\u{2068}', '\u{2069}'], "")
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let joined = plain.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() > 300 {
        let cut: String = joined.chars().take(300).collect();
        format!("{cut}…")
    } else {
        joined
    }
}

/// Splits the plugin's output into commands, within the limits.
struct Parser<'a> {
    binary: &'a str,
    /// Bytes not yet forming a whole line; never reallocated (its capacity is fixed).
    buf: Zeroizing<Vec<u8>>,
    total: usize,
    /// The command whose body lines are being read: tag, arguments, base64 so far.
    current: Option<(String, Vec<String>, Zeroizing<Vec<u8>>)>,
}

impl<'a> Parser<'a> {
    fn new(binary: &'a str) -> Self {
        Parser {
            binary,
            buf: Zeroizing::new(Vec::with_capacity(LINE_MAX + CHUNK)),
            total: 0,
            current: None,
        }
    }

    fn broken(&self, what: &str) -> PluginError {
        PluginError(format!(
            "{} broke the age plugin protocol: {what}",
            self.binary
        ))
    }

    /// Takes `bytes` (at most [`CHUNK`]); the commands they complete.
    fn feed(&mut self, bytes: &[u8]) -> Result<Vec<Command>, PluginError> {
        self.total += bytes.len();
        if self.total > TOTAL_MAX {
            return Err(PluginError(format!(
                "{} wrote more than {TOTAL_MAX} bytes and was stopped",
                self.binary
            )));
        }
        self.buf.extend_from_slice(bytes);
        let mut done = Vec::new();
        while let Some(end) = self.buf.iter().position(|b| *b == b'\n') {
            let line: Zeroizing<Vec<u8>> = Zeroizing::new(self.buf[..end].to_vec());
            self.buf.drain(..=end);
            if let Some(command) = self.line(&line)? {
                done.push(command);
            }
        }
        if self.buf.len() > LINE_MAX {
            return Err(PluginError(format!(
                "{} wrote a line longer than {LINE_MAX} bytes and was stopped",
                self.binary
            )));
        }
        Ok(done)
    }

    fn line(&mut self, line: &[u8]) -> Result<Option<Command>, PluginError> {
        let Some((tag, args, mut body)) = self.current.take() else {
            let Some(words) = line.strip_prefix(b"-> ") else {
                return Err(self.broken("a line that is not a command"));
            };
            let mut words = words.split(|b| *b == b' ').map(|w| {
                let printable = !w.is_empty() && w.iter().all(|b| (33..=126).contains(b));
                printable.then(|| String::from_utf8_lossy(w).into_owned())
            });
            let Some(Some(tag)) = words.next() else {
                return Err(self.broken("a command without a name"));
            };
            let args: Option<Vec<String>> = words.collect();
            let Some(args) = args else {
                return Err(self.broken(&format!("bad arguments to {}", shown(&tag))));
            };
            self.current = Some((tag, args, Zeroizing::new(Vec::new())));
            return Ok(None);
        };
        let base64 = |b: &u8| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/';
        if line.len() > COLUMNS || !line.iter().all(base64) {
            return Err(self.broken(&format!("a bad body line in {}", shown(&tag))));
        }
        body.extend_from_slice(line);
        if body.len() > BODY_MAX / 3 * 4 + 4 {
            return Err(PluginError(format!(
                "{} sent a {} body larger than {BODY_MAX} bytes and was stopped",
                self.binary,
                shown(&tag)
            )));
        }
        if line.len() == COLUMNS {
            self.current = Some((tag, args, body));
            return Ok(None);
        }
        let decoded = STANDARD_NO_PAD
            .decode(&body[..])
            .map(Zeroizing::new)
            .map_err(|_| self.broken(&format!("a body of {} that is not base64", shown(&tag))))?;
        Ok(Some(Command {
            tag,
            args,
            body: decoded,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Parsed = (String, Vec<String>, Vec<u8>);

    fn parse(text: &[u8]) -> Result<Vec<Parsed>, String> {
        let mut p = Parser::new("age-plugin-t");
        let mut all = Vec::new();
        for chunk in text.chunks(CHUNK) {
            for c in p.feed(chunk).map_err(|e| e.to_string())? {
                all.push((c.tag, c.args, c.body.to_vec()));
            }
        }
        Ok(all)
    }

    #[test]
    fn what_we_encode_parses_back_at_every_body_length() {
        for len in [0usize, 1, 47, 48, 49, 96, 1000] {
            let body: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut out = Vec::new();
            encode(&mut out, "file-key", &["0"], &body);
            encode(&mut out, "done", &[], &[]);
            let got = parse(&out).unwrap();
            assert_eq!(got.len(), 2);
            assert_eq!(got[0], ("file-key".into(), vec!["0".into()], body));
            assert_eq!(got[1].0, "done");
        }
        let mut out = Vec::new();
        encode(&mut out, "done", &[], &[]);
        assert_eq!(out, b"-> done\n\n");
    }

    #[test]
    fn floods_and_malformed_output_are_named_errors() {
        let long_line = vec![b'y'; LINE_MAX + 10];
        assert!(parse(&long_line)
            .unwrap_err()
            .contains("line longer than 65536"));
        let mut big_body = b"-> msg\n".to_vec();
        for _ in 0..2000 {
            big_body.extend_from_slice(&[b'A'; 64]);
            big_body.push(b'\n');
        }
        assert!(parse(&big_body)
            .unwrap_err()
            .contains("msg body larger than 65536"));
        let many: Vec<u8> = b"-> msg\n\n".repeat(TOTAL_MAX / 8 + 1);
        assert!(parse(&many)
            .unwrap_err()
            .contains("more than 1048576 bytes"));
        assert!(parse(b"y\n").unwrap_err().contains("not a command"));
        assert!(parse(b"-> msg\nAAA=\n")
            .unwrap_err()
            .contains("bad body line"));
        assert!(parse(b"-> msg  x\n\n")
            .unwrap_err()
            .contains("bad arguments"));
    }

    #[test]
    fn questions_are_refused_and_file_keys_kept() {
        let mut state = Phase2 {
            binary: "age-plugin-t",
            file_key: None,
            errors: Vec::new(),
        };
        let mut notes = Vec::new();
        let mut out = Vec::new();
        let cmd = |tag: &str, args: &[&str], body: &[u8]| Command {
            tag: tag.into(),
            args: args.iter().map(|s| s.to_string()).collect(),
            body: Zeroizing::new(body.to_vec()),
        };
        let mut note = |n: Note| notes.push(n);
        assert!(!state.handle(cmd("request-secret", &[], b"PIN?"), &mut out, &mut note));
        assert!(!state.handle(cmd("file-key", &["0"], &[7u8; 16]), &mut out, &mut note));
        assert!(!state.handle(cmd("file-key", &["0"], &[8u8; 16]), &mut out, &mut note));
        assert!(!state.handle(
            cmd("error", &["identity", "0"], b"no\nPIN"),
            &mut out,
            &mut note
        ));
        assert!(!state.handle(cmd("grease-x", &[], b""), &mut out, &mut note));
        assert!(state.handle(cmd("done", &[], b""), &mut out, &mut note));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "-> fail\n\n-> ok\n\n-> fail\n\n-> ok\n\n-> unsupported\n\n"
        );
        assert_eq!(
            notes,
            [Note::Refused {
                what: "a PIN or passphrase",
                text: "PIN?".into()
            }]
        );
        assert_eq!(state.errors, ["age-plugin-t failed: identity 0: no PIN"]);
        let key = state.file_key.expect("kept");
        assert_eq!(age::secrecy::ExposeSecret::expose_secret(&key), &[7u8; 16]);
    }
}
