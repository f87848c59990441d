//! Interop tests of the wslane adapters against independent WebSocket implementations: Python
//! [`websockets`](https://websockets.readthedocs.io/), Node [`ws`](https://github.com/websockets/ws), and
//! Chromium's own client (driven by playwright-core). Every adapter's test suite runs the same peers
//! against its own examples:
//!
//! ```no_run
//! // crates/wslane-<adapter>/tests/interop.rs
//! use wslane_interop::Peer;
//!
//! #[test]
//! fn python_client_against_echo_server() {
//!     let (_server, url) = wslane_interop::spawn_echo_server("wslane-tokio", "echo_server");
//!     wslane_interop::run_client(Peer::Python, &url);
//! }
//! ```
//!
//! # The peers
//!
//! The peer scripts are in `tests/interop/` at the repository root: `py_client.py` and `node_client.js`
//! check an echo server (text, binary, empty messages, 1 MiB messages, fragmented messages, a ping's pong,
//! a close code answered with the same code), without compression; `py_deflate_client.py` and
//! `node_client.js --deflate` check one with permessage-deflate; `py_server.py` and `node_server.js` are echo servers that
//! print the close code each connection ended with. The `browser_*.js` scripts drive the examples' pages in
//! headless Chromium: `browser_chat.js` the chat page in two tabs (of one chat process, or of two sharing
//! their rooms through Redis), `browser_ticker.js` the ticker page
//! across a server restart, `browser_client.js` the client page the echo servers serve, and
//! `browser_echo.js` a blank page's WebSocket against an echo server. Each page script saves a screenshot
//! in `target/interop/artifacts/` (not committed), to look at after a run.
//! `scripts/setup-interop.sh` installs what they need, pinned, and writes `target/interop/env.sh`, which
//! `scripts/test.sh` sources:
//!
//! | variable | what | default |
//! |---|---|---|
//! | `WSLANE_INTEROP_PYTHON` | a Python with `websockets` and `pproxy` | `target/interop/venv/bin/python` |
//! | `WSLANE_INTEROP_NODE` | Node 20 or later | `node` on the `PATH` |
//! | `WSLANE_INTEROP_NODE_PATH` | `node_modules` with `ws` and `playwright-core` | `target/interop/node/node_modules` |
//! | `WSLANE_INTEROP_CHROMIUM` | a Chromium binary | `/usr/bin/chromium` |
//! | `WSLANE_INTEROP_REDIS` | a `redis-server` binary, for the chat's scale-out tests ([`RedisServer`]) | `/usr/bin/redis-server` |
//!
//! A missing peer fails the test, never skips it: the panic says what to run.
//!
//! # The examples
//!
//! The tests run the adapters' example binaries directly ([`example_binary`]): a `cargo run` inside a test
//! is slow and waits on the build lock the running `cargo test` holds. `cargo test` with the default target
//! selection, as `scripts/test.sh` runs it, builds every example as a runnable binary before it runs any
//! test. `cargo test --all-targets` (or `--examples`) does not: it builds the examples as test harnesses
//! instead, and the interop tests then fail saying so. The examples the helpers start take the address to
//! listen on as their first argument and print the URL they serve (`ws://…` or `http://…`) on standard
//! output.
//!
//! # Time
//!
//! Every wait is bounded by [`TIMEOUT`], and every process is killed when its [`Process`] guard drops,
//! also when a test panics (its output is then printed, to say why).

use std::collections::VecDeque;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

mod redis;

pub use redis::RedisServer;

/// The bound on every wait: a peer starting, a script finishing, a line appearing.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// How long a process gets to exit after a polite termination request before it is killed.
const GRACE: Duration = Duration::from_secs(3);

/// An independent WebSocket implementation with a client and an echo server script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Peer {
    /// Python `websockets` (asyncio API).
    Python,
    /// Node `ws`.
    Node,
}

impl Peer {
    /// Every peer.
    pub const ALL: [Peer; 2] = [Peer::Python, Peer::Node];

    /// A short name for messages.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Peer::Python => "python-websockets",
            Peer::Node => "node-ws",
        }
    }

    fn client_script(self) -> &'static str {
        match self {
            Peer::Python => "py_client.py",
            Peer::Node => "node_client.js",
        }
    }

    /// The client script with permessage-deflate on, and the arguments that come before the URL.
    fn deflate_client(self) -> (&'static str, &'static [&'static str]) {
        match self {
            Peer::Python => ("py_deflate_client.py", &[]),
            Peer::Node => ("node_client.js", &["--deflate"]),
        }
    }

    fn server_script(self) -> &'static str {
        match self {
            Peer::Python => "py_server.py",
            Peer::Node => "node_server.js",
        }
    }

    /// The command that runs `script` from `tests/interop/`.
    fn command(self, script: &str) -> Command {
        match self {
            Peer::Python => python_command(script),
            Peer::Node => node_command(script),
        }
    }
}

/// The repository root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The peer scripts' directory.
fn scripts_dir() -> PathBuf {
    root().join("tests/interop")
}

/// `name` from the environment, or `default`; never empty.
fn setting(name: &str, default: impl FnOnce() -> PathBuf) -> PathBuf {
    match std::env::var_os(name) {
        Some(value) if !value.is_empty() => PathBuf::from(value),
        _ => default(),
    }
}

/// Fails the test for a peer that is not installed.
fn missing(what: &str, variable: &str, path: &Path) -> ! {
    panic!(
        "interop peer missing: {what} not found at {} (from {variable} or its default). Run \
         scripts/setup-interop.sh and source target/interop/env.sh, or run scripts/test.sh, which does both.",
        path.display()
    )
}

fn python_command(script: &str) -> Command {
    let mut command = python();
    command.arg(scripts_dir().join(script));
    command
}

/// The interop venv's Python, unbuffered.
fn python() -> Command {
    let python = setting("WSLANE_INTEROP_PYTHON", || {
        root().join("target/interop/venv/bin/python")
    });
    if !python.is_file() {
        missing(
            "a Python with `websockets`",
            "WSLANE_INTEROP_PYTHON",
            &python,
        );
    }
    let mut command = Command::new(python);
    command
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    command
}

fn node_command(script: &str) -> Command {
    let node = setting("WSLANE_INTEROP_NODE", || PathBuf::from("node"));
    if node.components().count() > 1 && !node.is_file() {
        missing("Node", "WSLANE_INTEROP_NODE", &node);
    }
    let modules = setting("WSLANE_INTEROP_NODE_PATH", || {
        root().join("target/interop/node/node_modules")
    });
    for package in ["ws", "playwright-core"] {
        let path = modules.join(package).join("package.json");
        if !path.is_file() {
            missing(
                &format!("the Node package `{package}`"),
                "WSLANE_INTEROP_NODE_PATH",
                &path,
            );
        }
    }
    let mut command = Command::new(node);
    command
        .arg(scripts_dir().join(script))
        .env("NODE_PATH", modules);
    command
}

/// Where the browser scripts save their screenshots (created on first use).
///
/// # Panics
/// When the directory cannot be created.
#[must_use]
pub fn artifacts_dir() -> PathBuf {
    let dir = root().join("target/interop/artifacts");
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|err| panic!("cannot create {}: {err}", dir.display()));
    dir
}

/// The command that runs a browser script from `tests/interop/`, told where Chromium is and where to
/// save its screenshots.
fn browser_command(script: &str) -> Command {
    let mut command = node_command(script);
    command
        .env("WSLANE_INTEROP_CHROMIUM", chromium())
        .env("WSLANE_INTEROP_ARTIFACTS", artifacts_dir());
    command
}

fn chromium() -> PathBuf {
    let chromium = setting("WSLANE_INTEROP_CHROMIUM", || {
        PathBuf::from("/usr/bin/chromium")
    });
    if !chromium.is_file() {
        missing("Chromium", "WSLANE_INTEROP_CHROMIUM", &chromium);
    }
    chromium
}

/// Output captured from a process, both streams in arrival order.
type Log = Arc<Mutex<String>>;

/// A spawned process, killed when dropped. Its standard output and error are captured: lines of standard
/// output can be awaited with [`wait_for_line`](Self::wait_for_line).
#[derive(Debug)]
pub struct Process {
    name: String,
    child: Child,
    log: Log,
    lines: Receiver<String>,
    /// Lines of standard output received but not yet examined by `wait_for_line`.
    pending: VecDeque<String>,
    /// Signals from the reader threads, one each at the end of their stream.
    drained: Receiver<()>,
    status: Option<ExitStatus>,
}

impl Process {
    /// Starts `command` with its output captured. `name` is used in messages.
    ///
    /// # Panics
    /// When the process cannot start.
    #[must_use]
    pub fn spawn(name: impl Into<String>, mut command: Command) -> Process {
        let name = name.into();
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|err| panic!("{name}: cannot start {command:?}: {err}"));
        let log = Log::default();
        let (line_tx, lines) = mpsc::channel();
        let (drained_tx, drained) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        {
            let (log, drained_tx) = (log.clone(), drained_tx.clone());
            thread::spawn(move || {
                read_stdout(stdout, &log, &line_tx);
                let _ = drained_tx.send(());
            });
        }
        {
            let log = log.clone();
            thread::spawn(move || {
                read_stderr(stderr, &log);
                let _ = drained_tx.send(());
            });
        }
        Process {
            name,
            child,
            log,
            lines,
            pending: VecDeque::new(),
            drained,
            status: None,
        }
    }

    /// The process id.
    #[must_use]
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Everything the process wrote so far; standard error lines start with `[stderr] `.
    #[must_use]
    pub fn output(&self) -> String {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits up to `timeout` for a line of standard output that `matches`, and returns it. Lines before it
    /// are passed over; lines after it stay for the next call.
    ///
    /// # Panics
    /// When no such line arrives in time or the process ends first, with the process's output.
    pub fn wait_for_line(
        &mut self,
        what: &str,
        timeout: Duration,
        mut matches: impl FnMut(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            while let Some(line) = self.pending.pop_front() {
                if matches(&line) {
                    return line;
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self
                .lines
                .recv_timeout(left.min(Duration::from_millis(200)))
            {
                Ok(line) => self.pending.push_back(line),
                Err(RecvTimeoutError::Timeout) if Instant::now() < deadline => {}
                Err(RecvTimeoutError::Timeout) => panic!(
                    "{}: no {what} within {timeout:?}; output so far:\n{}",
                    self.name,
                    self.output()
                ),
                Err(RecvTimeoutError::Disconnected) => {
                    // Standard output closed: the process has ended, or is about to.
                    thread::sleep(Duration::from_millis(100));
                    let status = self.child.try_wait().ok().flatten();
                    panic!(
                        "{}: ended ({status:?}) before printing {what}; output:\n{}",
                        self.name,
                        self.output()
                    )
                }
            }
        }
    }

    /// Waits up to `timeout` until everything the process wrote so far (as [`output`](Self::output)) makes
    /// `ready` true. Unlike [`wait_for_line`](Self::wait_for_line) it passes over nothing, so it also finds
    /// lines written before ones already waited for.
    ///
    /// # Panics
    /// When `ready` is still false after `timeout`, with the process's output.
    pub fn wait_for_output(
        &mut self,
        what: &str,
        timeout: Duration,
        mut ready: impl FnMut(&str) -> bool,
    ) {
        let deadline = Instant::now() + timeout;
        while !ready(&self.output()) {
            assert!(
                Instant::now() < deadline,
                "{}: no {what} within {timeout:?}; output so far:\n{}",
                self.name,
                self.output()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the URL with `scheme` (`"ws"`, `"http"`) the process prints on standard output, and
    /// returns it.
    ///
    /// # Panics
    /// As [`wait_for_line`](Self::wait_for_line).
    pub fn wait_for_url(&mut self, scheme: &str) -> String {
        let prefix = format!("{scheme}://");
        let line = self.wait_for_line(&format!("a {prefix} URL"), TIMEOUT, |line| {
            line.contains(&prefix)
        });
        let start = line.find(&prefix).expect("the line has the URL");
        line[start..]
            .split_whitespace()
            .next()
            .expect("a URL")
            .to_owned()
    }

    /// Waits up to `timeout` for the process to exit by itself; kills it when the time is up.
    ///
    /// # Panics
    /// When the process had to be killed, with its output.
    pub fn wait_with_timeout(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
                Ok(None) => {
                    self.stop();
                    panic!(
                        "{}: still running after {timeout:?}, killed; output:\n{}",
                        self.name,
                        self.output()
                    );
                }
                Err(err) => panic!("{}: cannot wait: {err}", self.name),
            }
        };
        self.status = Some(status);
        // The output may still be in the pipes; a grandchild holding them open must not stall the test.
        let until = Instant::now() + GRACE;
        for _ in 0..2 {
            let left = until.saturating_duration_since(Instant::now());
            if self.drained.recv_timeout(left).is_err() {
                break;
            }
        }
        status
    }

    /// Asks the process to end (SIGTERM on Unix, so a browser driver can close its browser), then kills it
    /// when it has not exited after a grace period. Does nothing once it has exited.
    fn stop(&mut self) {
        if self.status.is_some() || matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        #[cfg(unix)]
        {
            let asked = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if asked {
                let deadline = Instant::now() + GRACE;
                while Instant::now() < deadline {
                    if matches!(self.child.try_wait(), Ok(Some(_))) {
                        return;
                    }
                    thread::sleep(Duration::from_millis(20));
                }
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.stop();
        if thread::panicking() {
            eprintln!(
                "--- output of {} (pid {}):\n{}--- end of {}",
                self.name,
                self.child.id(),
                self.output(),
                self.name
            );
        }
    }
}

fn read_stdout(stdout: ChildStdout, log: &Log, lines: &mpsc::Sender<String>) {
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        {
            let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
            log.push_str(&line);
            log.push('\n');
        }
        // The receiver is gone once the `Process` dropped; keep draining so the child never blocks.
        let _ = lines.send(line);
    }
}

fn read_stderr(stderr: impl Read, log: &Log) {
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(log, "[stderr] {line}");
    }
}

/// Runs a script to its end under [`TIMEOUT`] (or `timeout`), and fails unless it exits successfully and
/// prints `marker`. Returns its output.
fn run_script(name: &str, command: Command, marker: &str, timeout: Duration) -> String {
    let mut process = Process::spawn(name, command);
    let status = process.wait_with_timeout(timeout);
    let output = process.output();
    // Shown with `--nocapture`, or by the harness when the test fails.
    println!("--- {name}:\n{output}--- {status}");
    assert!(
        status.success() && output.lines().any(|line| line == marker),
        "{name} failed ({status}); output:\n{output}"
    );
    output
}

/// Runs `peer`'s client script against the echo server at `url` and fails the test on any mismatch (the
/// script checks text, binary, empty text and binary, 1 MiB messages, fragmented messages, a ping answered
/// by a pong with the same payload, and close code 4000 answered with 4000). Returns the script's output.
///
/// # Panics
/// On a mismatch, a missing peer, or a script that runs past [`TIMEOUT`].
pub fn run_client(peer: Peer, url: &str) -> String {
    let script = peer.client_script();
    let mut command = peer.command(script);
    command.arg(url);
    let marker = format!(
        "{}: all checks passed",
        script.split('.').next().unwrap_or(script)
    );
    run_script(
        &format!("{} client against {url}", peer.name()),
        command,
        &marker,
        TIMEOUT,
    )
}

/// Runs every peer's client script against the echo server at `url`, one after the other.
///
/// # Panics
/// As [`run_client`].
pub fn check_client_against(url: &str) {
    for peer in Peer::ALL {
        run_client(peer, url);
    }
}

/// Starts `peer`'s echo server on a free 127.0.0.1 port and waits until it listens. Returns the guard that
/// kills it and its `ws://` URL. The server echoes every message, except that the text `close-me <code>
/// <reason>` makes it close with that code and reason; it prints `closed <code> <reason>` (or `closed
/// none`) with the client's close frame when a connection ends: see [`expect_peer_saw_close`].
///
/// # Panics
/// When the peer is missing or does not start listening within [`TIMEOUT`].
#[must_use]
pub fn spawn_peer_server(peer: Peer) -> (Process, String) {
    let mut server = Process::spawn(
        format!("{} echo server", peer.name()),
        peer.command(peer.server_script()),
    );
    let url = server.wait_for_url("ws");
    (server, url)
}

/// Waits for `server` (from [`spawn_peer_server`]) to report a connection that ended with a close frame
/// from the client with `code` and, unless `None`, `reason`.
///
/// # Panics
/// When no such line arrives within [`TIMEOUT`].
pub fn expect_peer_saw_close(server: &mut Process, code: u16, reason: Option<&str>) {
    let prefix = format!("closed {code}");
    let expected = match reason {
        Some(reason) => format!("`closed {code} {reason}`"),
        None => format!("`closed {code} …`"),
    };
    server.wait_for_line(&expected, TIMEOUT, |line| {
        let Some(rest) = line.strip_prefix(&prefix) else {
            return false;
        };
        match reason {
            Some(reason) => rest.strip_prefix(' ').unwrap_or(rest) == reason,
            None => rest.is_empty() || rest.starts_with(' '),
        }
    });
}

/// The runnable binary of the example `example` of the workspace package `package`, as the last `cargo
/// test` (default targets) or `cargo build --examples` built it: in `target/<profile>/examples/`, next to
/// the running test executable's `target/<profile>/deps/`.
///
/// Examples of different packages may share a name (each adapter has an `echo_server`), so the unhashed
/// `examples/<name>` may belong to another package: this looks at the hashed outputs
/// (`examples/<name>-<hash>`) and keeps those cargo's fingerprints (`.fingerprint/<package>-<hash>/`) record
/// as a build (not a test harness) of `package`'s example, taking the newest.
///
/// # Panics
/// When no such binary exists, with the command that builds it.
#[must_use]
pub fn example_binary(package: &str, example: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    // target/<profile>/deps/<test>-<hash>
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| panic!("{} is not in target/<profile>/deps/", exe.display()));
    let examples = profile.join("examples");
    let fingerprints = profile.join(".fingerprint");
    let prefix = format!("{example}-");
    let mut newest: Option<(SystemTime, PathBuf)> = None;
    for entry in std::fs::read_dir(&examples).into_iter().flatten().flatten() {
        let file_name = entry.file_name();
        let Some(name) = file_name.to_str() else {
            continue;
        };
        let Some(hash) = name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(std::env::consts::EXE_SUFFIX))
        else {
            continue;
        };
        if hash.len() != 16 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        let built = fingerprints
            .join(format!("{package}-{hash}"))
            .join(format!("example-{example}"));
        if !built.is_file() {
            continue; // another package's example, or a test harness build (`test-example-…`)
        }
        let Ok(modified) = entry.metadata().and_then(|m| m.modified()) else {
            continue;
        };
        if newest.as_ref().map_or(true, |(time, _)| modified > *time) {
            newest = Some((modified, entry.path()));
        }
    }
    match newest {
        Some((_, path)) => path,
        None => panic!(
            "the example `{example}` of `{package}` is not built in {}: run the tests with `cargo test` \
             and the default targets (as scripts/test.sh does), or build it first with `cargo build -p \
             {package} --examples` (`cargo test --all-targets` builds examples as test harnesses, which \
             cannot serve)",
            examples.display()
        ),
    }
}

/// Starts the example `example` of `package` with `args` (see [`example_binary`]).
///
/// # Panics
/// When the binary is not built or cannot start.
#[must_use]
pub fn spawn_example<I, S>(package: &str, example: &str, args: I) -> Process
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let binary = example_binary(package, example);
    let mut command = Command::new(&binary);
    command.args(args);
    let process = Process::spawn(format!("{package} example {example}"), command);
    let _ = writeln!(
        process.log.lock().unwrap_or_else(|e| e.into_inner()),
        "[harness] running {}",
        binary.display()
    );
    process
}

/// Starts `package`'s echo server example (`echo_server`, `async_std_echo_server`, …) on a free 127.0.0.1
/// port and returns its guard and `ws://` URL.
///
/// # Panics
/// When the example is not built or does not print its URL within [`TIMEOUT`].
#[must_use]
pub fn spawn_echo_server(package: &str, example: &str) -> (Process, String) {
    let mut server = spawn_example(package, example, ["127.0.0.1:0"]);
    let url = server.wait_for_url("ws");
    (server, url)
}

/// Starts `package`'s `chat` example on a free 127.0.0.1 port and returns its guard and the page's
/// `http://` URL.
///
/// # Panics
/// When the example is not built or does not print its URL within [`TIMEOUT`].
#[must_use]
pub fn spawn_chat(package: &str) -> (Process, String) {
    spawn_chat_with(package, &[])
}

/// Starts `package`'s `chat` example on a free 127.0.0.1 port with the options `flags` (`--axum`,
/// `--tls`) and returns its guard and the page's URL: `https://` with `--tls`, else `http://`.
///
/// # Panics
/// When the example is not built or does not print its URL within [`TIMEOUT`].
#[must_use]
pub fn spawn_chat_with(package: &str, flags: &[&str]) -> (Process, String) {
    let mut args = vec!["127.0.0.1:0"];
    args.extend_from_slice(flags);
    let mut server = spawn_example(package, "chat", args);
    let scheme = if flags.contains(&"--tls") {
        "https"
    } else {
        "http"
    };
    let url = server.wait_for_url(scheme);
    (server, url)
}

/// Opens the chat page at `url` in two Chromium tabs (headless, fresh profile), sends a message from each,
/// and fails unless both messages and a join notice appear on both tabs, each tab shows its own name, the
/// two names are consecutive guest numbers (loading a page takes none), and no request of either tab got
/// a 404 (the icon included). Saves `chat.png`. Returns the script's output.
///
/// # Panics
/// On a failed check, a missing peer, or a run past three times [`TIMEOUT`] (starting a browser is slow).
pub fn check_browser_chat(url: &str) -> String {
    check_browser_chat_saving(url, "chat.png")
}

/// As [`check_browser_chat`], saving the screenshot as `screenshot`. For an `https://` URL Chromium
/// accepts the server's self-signed certificate, and each page must have loaded over HTTP/2.
///
/// # Panics
/// As [`check_browser_chat`].
pub fn check_browser_chat_saving(url: &str, screenshot: &str) -> String {
    let mut command = browser_command("browser_chat.js");
    command.arg(url).arg(screenshot);
    run_script(
        &format!("Chromium chat pages against {url}"),
        command,
        "browser_chat: all checks passed",
        TIMEOUT * 3,
    )
}

/// As [`check_browser_chat_saving`], with the second page opened on `other_url`: another chat process
/// sharing the rooms through Redis. The names are checked to be distinct rather than consecutive (each
/// process numbers its own guests, and tags them with the process).
///
/// # Panics
/// As [`check_browser_chat`].
pub fn check_browser_chat_across(url: &str, other_url: &str, screenshot: &str) -> String {
    let mut command = browser_command("browser_chat.js");
    command.arg(url).arg(screenshot).arg(other_url);
    run_script(
        &format!("Chromium chat pages against {url} and {other_url}"),
        command,
        "browser_chat: all checks passed",
        TIMEOUT * 3,
    )
}

/// Starts `package`'s `ticker` example on `addr` (`127.0.0.1:0` for a free port) and returns its guard and
/// the page's `http://` URL.
///
/// # Panics
/// When the example is not built or does not print its URL within [`TIMEOUT`].
#[must_use]
pub fn spawn_ticker(package: &str, addr: &str) -> (Process, String) {
    let mut server = spawn_example(package, "ticker", [addr]);
    let url = server.wait_for_url("http");
    (server, url)
}

/// Drives `package`'s `ticker` page in Chromium across a server restart: the table fills and updates at
/// least twice and the page says it is connected; the server is stopped and the page says it is
/// reconnecting; the server is started again on the same port and the page reconnects by itself and
/// updates again. Saves `ticker.png` and `ticker-reconnected.png`. Returns the script's output.
///
/// # Panics
/// On a failed check, a missing peer, or a run past three times [`TIMEOUT`].
pub fn check_browser_ticker(package: &str) -> String {
    let (server, url) = spawn_ticker(package, "127.0.0.1:0");
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut command = browser_command("browser_ticker.js");
    command.arg(&url);
    let name = format!("Chromium ticker page against {url}");
    let mut browser = Process::spawn(&name, command);
    browser.wait_for_line("the page live", TIMEOUT * 2, |line| line == "ok live");
    // The server goes away; the page must notice on its own.
    drop(server);
    browser.wait_for_line("the page reconnecting", TIMEOUT, |line| {
        line == "ok reconnecting"
    });
    let (_server, again) = spawn_ticker(package, &addr);
    assert_eq!(again, url, "the restarted ticker's URL");
    let status = browser.wait_with_timeout(TIMEOUT * 2);
    let output = browser.output();
    println!("--- {name}:\n{output}--- {status}");
    assert!(
        status.success()
            && output
                .lines()
                .any(|line| line == "browser_ticker: all checks passed"),
        "{name} failed ({status}); output:\n{output}"
    );
    output
}

/// Drives the WebSocket client page an echo server serves on `url` (`http://…/`) in Chromium: its URL
/// field points back at the server; connect, send text and see it echoed in the event log, disconnect
/// with 1000 and see the `close` event with the server's 1000. Saves `<name>.png`. Returns the script's
/// output.
///
/// # Panics
/// On a failed check, a missing peer, or a run past three times [`TIMEOUT`].
pub fn check_browser_client(url: &str, name: &str) -> String {
    let mut command = browser_command("browser_client.js");
    command.arg(url).arg(name);
    run_script(
        &format!("Chromium client page against {url}"),
        command,
        "browser_client: all checks passed",
        TIMEOUT * 3,
    )
}

/// The page URL (`http://…/`) of an echo server whose WebSocket URL is `ws_url` (`ws://host:port`).
#[must_use]
pub fn page_url(ws_url: &str) -> String {
    let host = ws_url.trim_start_matches("ws://").trim_end_matches('/');
    format!("http://{host}/")
}

/// Runs `peer`'s client with permessage-deflate on against the echo server at `url`: the extension must be
/// negotiated and every message must come back intact. Python `websockets` (`py_deflate_client.py`, which
/// offers the extension by default) sends text, random and zero-filled messages from 0 bytes to 1 MiB, and a
/// fragmented compressed message; Node `ws` (`node_client.js --deflate`, compressing every message) runs
/// the checks of [`run_client`] compressed, and fails unless far fewer bytes crossed the connection than
/// its messages held, in each direction. Returns the script's output.
///
/// # Panics
/// On a failed check, a missing peer, or a run past twice [`TIMEOUT`].
pub fn run_deflate_client(peer: Peer, url: &str) -> String {
    let (script, args) = peer.deflate_client();
    let mut command = peer.command(script);
    command.args(args).arg(url);
    let marker = format!(
        "{}: all checks passed",
        script.split('.').next().unwrap_or(script)
    );
    run_script(
        &format!("{} deflate client against {url}", peer.name()),
        command,
        &marker,
        TIMEOUT * 2,
    )
}

/// Runs the Python `websockets` client with permessage-deflate on against the echo server at `url`: see
/// [`run_deflate_client`].
///
/// # Panics
/// As [`run_deflate_client`].
pub fn check_deflate_client_against(url: &str) -> String {
    run_deflate_client(Peer::Python, url)
}

/// Starts the Python `websockets` echo server with permessage-deflate on; returns its guard and URL. It
/// prints `negotiated <extensions>` for each connection.
///
/// # Panics
/// When the peer is missing or does not start listening within [`TIMEOUT`].
#[must_use]
pub fn spawn_python_deflate_server() -> (Process, String) {
    let mut server = Process::spawn(
        "python-websockets deflate echo server",
        python_command("py_deflate_server.py"),
    );
    let url = server.wait_for_url("ws");
    (server, url)
}

/// Chromium's WebSocket client (which always offers permessage-deflate) against the echo server at `url`,
/// from a blank page: the extension must be negotiated and text and random binary messages up to 1 MiB
/// must come back intact. Returns the script's output.
///
/// # Panics
/// On a failed check, a missing peer, or a run past three times [`TIMEOUT`].
pub fn check_browser_echo(url: &str) -> String {
    let mut command = browser_command("browser_echo.js");
    command.arg(url);
    run_script(
        &format!("Chromium echo page against {url}"),
        command,
        "browser_echo: all checks passed",
        TIMEOUT * 3,
    )
}

/// The programs of `docs/adapters.md`, compiled as doc tests (they need servers to run).
#[cfg(doctest)]
#[doc = include_str!("../../../docs/adapters.md")]
pub struct AdaptersDoctests;

/// The programs of `docs/proxies.md`, compiled as doc tests (they need a proxy to run).
#[cfg(doctest)]
#[doc = include_str!("../../../docs/proxies.md")]
pub struct ProxiesDoctests;

/// Starts [pproxy](https://pypi.org/project/pproxy/) (installed in the Python venv beside `websockets`)
/// serving both HTTP `CONNECT` and SOCKS5 on one free 127.0.0.1 port, and waits until it listens. With
/// `credentials` (`user:password`, as they are, not percent-encoded), both protocols require them, on
/// every connection. Returns the guard that kills it and its address (`127.0.0.1:port`).
///
/// pproxy answers a missing or wrong password with 407 over HTTP; over SOCKS5 it closes the connection
/// instead of answering (no RFC 1929 failure status, no 0xFF method).
///
/// # Panics
/// When the venv or pproxy is missing, or it does not start listening within [`TIMEOUT`].
#[must_use]
pub fn spawn_proxy(credentials: Option<&str>) -> (Process, String) {
    let auth = credentials.map(|c| format!("#{c}")).unwrap_or_default();
    let mut command = python();
    // `--auth 0`: check the credentials of every connection (pproxy otherwise trusts an address that
    // authenticated once, for 30 days).
    command.args([
        "-m",
        "pproxy",
        "-l",
        &format!("http+socks5://127.0.0.1:0{auth}"),
        "--auth",
        "0",
    ]);
    let mut proxy = Process::spawn("pproxy", command);
    let line = proxy.wait_for_line("pproxy's \"Serving on\" line", TIMEOUT, |line| {
        line.starts_with("Serving on")
    });
    let address = line
        .split_whitespace()
        .find(|word| word.starts_with("127.0.0.1:"))
        .unwrap_or_else(|| panic!("pproxy: no address in {line:?}"))
        .to_owned();
    (proxy, address)
}
