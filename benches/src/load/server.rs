//! The servers under test: how they are named and started, and the child processes they run as.

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::Duration;

use super::procfs::{self, Memory};

/// The placeholder a command line may use for the listen address; without it, the address is the first
/// argument.
pub const ADDR_PLACEHOLDER: &str = "{addr}";

/// A server to measure: a name and a command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerSpec {
    /// The name in reports, e.g. `wslane-tokio`.
    pub name: String,
    /// The program and its arguments.
    pub command: Vec<String>,
}

impl ServerSpec {
    /// Parses `NAME=PROGRAM [ARGS...]` (arguments separated by whitespace).
    ///
    /// # Errors
    ///
    /// When the name or the program is missing.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let (name, command) = spec
            .split_once('=')
            .ok_or_else(|| format!("server spec {spec:?} is not NAME=COMMAND"))?;
        let command: Vec<String> = command.split_whitespace().map(str::to_owned).collect();
        if name.is_empty() || command.is_empty() {
            return Err(format!("server spec {spec:?} is not NAME=COMMAND"));
        }
        Ok(Self {
            name: name.to_owned(),
            command,
        })
    }

    /// The command line to listen on `addr`.
    #[must_use]
    pub fn argv(&self, addr: SocketAddr) -> Vec<String> {
        let addr = addr.to_string();
        if self
            .command
            .iter()
            .any(|arg| arg.contains(ADDR_PLACEHOLDER))
        {
            self.command
                .iter()
                .map(|arg| arg.replace(ADDR_PLACEHOLDER, &addr))
                .collect()
        } else {
            let mut argv = self.command.clone();
            argv.insert(1, addr);
            argv
        }
    }
}

/// What a server wrote to its standard error.
#[derive(Clone, Debug, Default)]
pub struct ErrorLog {
    /// Lines written so far.
    pub lines: u64,
    /// The first few lines.
    pub first: Vec<String>,
    /// The last few lines, oldest first.
    pub last: VecDeque<String>,
}

impl ErrorLog {
    /// The lines written after the first `before` lines, as far as they were kept (the last few).
    #[must_use]
    pub fn since(&self, before: u64) -> Vec<String> {
        let new = (self.lines - before.min(self.lines)) as usize;
        self.last
            .iter()
            .skip(self.last.len().saturating_sub(new))
            .cloned()
            .collect()
    }
}

const ERROR_LINES_KEPT: usize = 5;
const OUTPUT_LINES_KEPT: usize = 16;

/// A running server, killed when dropped.
#[derive(Debug)]
pub struct ServerProcess {
    /// The spec's name.
    pub name: String,
    /// Where it listens.
    pub addr: SocketAddr,
    child: Child,
    errors: Arc<Mutex<ErrorLog>>,
    /// The last lines of standard output after the listening line.
    output: Arc<Mutex<VecDeque<String>>>,
}

impl ServerProcess {
    /// Starts `spec` on a free loopback port and waits until it prints that it listens.
    ///
    /// The port is the one the server prints (`listening on ws://127.0.0.1:PORT` or alike) when its line
    /// holds an address, else the one it was given.
    ///
    /// # Errors
    ///
    /// When the server cannot start, exits, or prints no listening line within `timeout`.
    pub fn start(spec: &ServerSpec, timeout: Duration) -> io::Result<Self> {
        let asked = free_port()?;
        let argv = spec.argv(asked);
        let mut child = Command::new(&argv[0])
            .args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|err| {
                io::Error::new(
                    err.kind(),
                    format!("{}: cannot start {}: {err}", spec.name, argv[0]),
                )
            })?;
        let errors = Arc::new(Mutex::new(ErrorLog::default()));
        let stderr = child.stderr.take().expect("piped");
        let log = errors.clone();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let mut log = log.lock().expect("not poisoned");
                log.lines += 1;
                if log.first.len() < ERROR_LINES_KEPT {
                    log.first.push(line.clone());
                }
                if log.last.len() == ERROR_LINES_KEPT {
                    log.last.pop_front();
                }
                log.last.push_back(line);
            }
        });
        let stdout = child.stdout.take().expect("piped");
        let (lines, listening) = mpsc::channel();
        let output = Arc::new(Mutex::new(VecDeque::new()));
        let kept = output.clone();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // Keep draining after the listening line, so the server never blocks on a full pipe, and
                // keep the last few lines for `output`.
                let mut kept = kept.lock().expect("not poisoned");
                if kept.len() == OUTPUT_LINES_KEPT {
                    kept.pop_front();
                }
                kept.push_back(line.clone());
                drop(kept);
                let _ = lines.send(line);
            }
        });
        let mut server = Self {
            name: spec.name.clone(),
            addr: asked,
            child,
            errors,
            output,
        };
        loop {
            match listening.recv_timeout(timeout) {
                Ok(line) if line.to_ascii_lowercase().contains("listening") => {
                    if let Some(addr) = printed_addr(&line) {
                        server.addr = addr;
                    }
                    return Ok(server);
                }
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    return Err(server.failure("printed no listening line in time"));
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    thread::sleep(Duration::from_millis(100));
                    let status = server.child.try_wait().ok().flatten();
                    let why =
                        status.map_or("closed its output".into(), |s| format!("exited ({s})"));
                    return Err(server.failure(&why));
                }
            }
        }
    }

    fn failure(&self, why: &str) -> io::Error {
        let log = self.error_log();
        io::Error::other(format!("{} {why}; its errors: {:?}", self.name, log.first))
    }

    /// The last lines the server wrote to its standard output (a few), oldest first.
    #[must_use]
    pub fn output(&self) -> Vec<String> {
        self.output
            .lock()
            .expect("not poisoned")
            .iter()
            .cloned()
            .collect()
    }

    /// The process id.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// CPU time the server has used so far.
    ///
    /// # Errors
    ///
    /// When the process is gone.
    pub fn cpu_time(&self) -> io::Result<Duration> {
        procfs::cpu_time(self.pid())
    }

    /// The server's memory now.
    ///
    /// # Errors
    ///
    /// When the process is gone.
    pub fn memory(&self) -> io::Result<Memory> {
        procfs::memory(self.pid())
    }

    /// What the server wrote to its standard error so far.
    #[must_use]
    pub fn error_log(&self) -> ErrorLog {
        self.errors.lock().expect("not poisoned").clone()
    }

    /// `Ok` while the server runs, else how it ended.
    ///
    /// # Errors
    ///
    /// When the server has exited.
    pub fn check_alive(&mut self) -> io::Result<()> {
        match self.child.try_wait()? {
            None => Ok(()),
            Some(status) => Err(self.failure(&format!("exited ({status})"))),
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback address with a port that was free a moment ago.
fn free_port() -> io::Result<SocketAddr> {
    TcpListener::bind("127.0.0.1:0")?.local_addr()
}

/// The address at the end of a line such as `echo server listening on ws://127.0.0.1:9001`.
fn printed_addr(line: &str) -> Option<SocketAddr> {
    let last = line.split_whitespace().last()?;
    let addr = last.trim_start_matches("ws://").trim_end_matches('/');
    addr.parse()
        .ok()
        .filter(|addr: &SocketAddr| addr.port() != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_and_lines() {
        let spec = ServerSpec::parse("ours=bin/echo --flag").unwrap();
        let addr: SocketAddr = "127.0.0.1:9001".parse().unwrap();
        assert_eq!(spec.argv(addr), ["bin/echo", "127.0.0.1:9001", "--flag"]);
        let spec = ServerSpec::parse("x=bin/echo --listen={addr}").unwrap();
        assert_eq!(spec.argv(addr), ["bin/echo", "--listen=127.0.0.1:9001"]);
        assert!(ServerSpec::parse("x=").is_err());
        assert_eq!(
            printed_addr("echo server listening on ws://127.0.0.1:9001"),
            Some(addr)
        );
        assert_eq!(printed_addr("listening on 127.0.0.1:9001"), Some(addr));
        assert_eq!(printed_addr("listening"), None);
    }
}
