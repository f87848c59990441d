//! A throwaway `redis-server` on loopback, for the chat's scale-out tests.
//!
//! Redis cannot pick its own port (`--port 0` turns TCP off), so [`RedisServer::start`] asks the operating
//! system for a free port (binding port 0 and letting it go), starts Redis there, and tries another port
//! when another process took that one in between. TCP rather than a Unix socket, so that the tests use the
//! `redis://HOST:PORT/` URLs a user gives. Nothing is persisted (`--save ""`, `--appendonly no`), so a
//! restart starts empty, as after a crash.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::thread;
use std::time::Duration;

use crate::{missing, setting, Process, TIMEOUT};

/// How many ports [`RedisServer::start`] tries before giving up.
const ATTEMPTS: usize = 5;

/// A `redis-server` on `127.0.0.1`, killed when dropped.
#[derive(Debug)]
pub struct RedisServer {
    process: Option<Process>,
    port: u16,
}

/// The `redis-server` binary: `WSLANE_INTEROP_REDIS`, or Debian's. Fails the test when it is missing.
fn binary() -> PathBuf {
    let redis = setting("WSLANE_INTEROP_REDIS", || {
        PathBuf::from("/usr/bin/redis-server")
    });
    if !redis.is_file() {
        missing("redis-server", "WSLANE_INTEROP_REDIS", &redis);
    }
    redis
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.local_addr().expect("its address").port()
}

/// How one start went.
enum Started {
    Ready(Process),
    PortTaken,
}

/// Starts Redis on `port` and waits until it accepts connections, or says the port is taken.
fn start_on(port: u16) -> Started {
    let mut command = Command::new(binary());
    command.args([
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--logfile",
        "",
        "--loglevel",
        "notice",
    ]);
    command.current_dir(std::env::temp_dir());
    let mut process = Process::spawn(format!("redis-server on port {port}"), command);
    let line = process.wait_for_line("Redis ready, or the port taken", TIMEOUT, |line| {
        line.contains("Ready to accept connections") || line.contains("Address already in use")
    });
    if line.contains("Address already in use") {
        Started::PortTaken
    } else {
        Started::Ready(process)
    }
}

impl RedisServer {
    /// Starts Redis on a free loopback port and waits until it accepts connections.
    ///
    /// # Panics
    /// When `redis-server` is missing (the message says how to install it), or it does not start.
    #[must_use]
    pub fn start() -> RedisServer {
        for _ in 0..ATTEMPTS {
            let port = free_port();
            if let Started::Ready(process) = start_on(port) {
                return RedisServer {
                    process: Some(process),
                    port,
                };
            }
        }
        panic!("redis-server: every one of {ATTEMPTS} free ports was taken before it could bind");
    }

    /// The URL the chat's `--redis` takes: `redis://127.0.0.1:<port>/`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Stops Redis (SIGTERM, then SIGKILL after a grace period): every client connection ends.
    pub fn stop(&mut self) {
        drop(self.process.take());
    }

    /// Starts Redis again on the same port, empty, and waits until it accepts connections. The port was
    /// freed by [`stop`](Self::stop); another process taking it meanwhile is retried for a while.
    ///
    /// # Panics
    /// When the port stays taken, or Redis does not start.
    pub fn restart(&mut self) {
        self.stop();
        for _ in 0..ATTEMPTS {
            match start_on(self.port) {
                Started::Ready(process) => {
                    self.process = Some(process);
                    return;
                }
                Started::PortTaken => thread::sleep(Duration::from_millis(200)),
            }
        }
        panic!(
            "redis-server: port {} stayed taken after the restart",
            self.port
        );
    }

    /// Everything Redis logged, for a failure message.
    #[must_use]
    pub fn output(&self) -> String {
        self.process
            .as_ref()
            .map(Process::output)
            .unwrap_or_default()
    }
}
