//! Shared test support: an echo handler that reports what happens, and a server on its own thread.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use wslane_mio::{
    CloseReason, Config, ConnectionId, Context, Error, Event, Handler, Server, ServerConfig,
    StopHandle,
};

/// What the server's handler saw.
#[derive(Debug)]
pub enum Note {
    Open(ConnectionId, SocketAddr),
    Closed(ConnectionId, CloseReason),
    HandshakeError(SocketAddr, Error),
    SendError(ConnectionId, Error),
}

/// Echoes text and binary messages, reporting opens, closes and failures.
pub struct Echo {
    pub notes: Sender<Note>,
    pub open: usize,
    pub max_open: usize,
    pub echoed: u64,
}

impl Echo {
    pub fn new() -> (Echo, Receiver<Note>) {
        let (notes, rx) = mpsc::channel();
        (
            Echo {
                notes,
                open: 0,
                max_open: 0,
                echoed: 0,
            },
            rx,
        )
    }
}

impl Handler for Echo {
    fn on_open(&mut self, ctx: &mut Context<'_>, id: ConnectionId) {
        self.open += 1;
        self.max_open = self.max_open.max(self.open);
        let addr = ctx
            .peer_addr(id)
            .expect("an open connection has an address");
        let _ = self.notes.send(Note::Open(id, addr));
    }

    fn on_event(&mut self, ctx: &mut Context<'_>, id: ConnectionId, event: Event<'_>) {
        let result = match event {
            Event::Text(text) => ctx.send_text(id, text),
            Event::Binary(data) => ctx.send_binary(id, data),
            _ => return,
        };
        match result {
            Ok(()) => self.echoed += 1,
            Err(err) => {
                let _ = self.notes.send(Note::SendError(id, err));
            }
        }
    }

    fn on_close(&mut self, _: &mut Context<'_>, id: ConnectionId, reason: CloseReason) {
        self.open -= 1;
        let _ = self.notes.send(Note::Closed(id, reason));
    }

    fn on_handshake_error(&mut self, peer: SocketAddr, error: Error) {
        let _ = self.notes.send(Note::HandshakeError(peer, error));
    }
}

/// A server on its own thread; stop it to get the handler back.
pub struct Running<H> {
    pub addr: SocketAddr,
    stop: StopHandle,
    thread: Option<JoinHandle<H>>,
}

impl<H> Running<H> {
    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }

    pub fn stop(mut self) -> H {
        self.stop.stop();
        self.thread
            .take()
            .expect("stopped once")
            .join()
            .expect("the server thread panicked")
    }
}

impl<H> Drop for Running<H> {
    fn drop(&mut self) {
        self.stop.stop();
    }
}

pub fn spawn<H: Handler + Send + 'static>(
    mut handler: H,
    server: ServerConfig,
    config: Config,
) -> Running<H> {
    let mut server = Server::bind("127.0.0.1:0".parse().unwrap(), server, config).expect("bind");
    let addr = server.local_addr().expect("local address");
    let stop = server.stop_handle();
    let thread = std::thread::spawn(move || {
        server.run(&mut handler).expect("the loop failed");
        handler
    });
    Running {
        addr,
        stop,
        thread: Some(thread),
    }
}

/// The next note, failing after `limit`.
pub fn next_note(notes: &Receiver<Note>, limit: Duration) -> Note {
    match notes.recv_timeout(limit) {
        Ok(note) => note,
        Err(RecvTimeoutError::Timeout) => panic!("no note within {limit:?}"),
        Err(RecvTimeoutError::Disconnected) => panic!("the server is gone"),
    }
}

/// Waits for a note that `pick` accepts, skipping others, failing after `limit`.
pub fn wait_for<T>(
    notes: &Receiver<Note>,
    limit: Duration,
    mut pick: impl FnMut(Note) -> Option<T>,
) -> T {
    let end = Instant::now() + limit;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        if let Some(found) = pick(next_note(notes, left)) {
            return found;
        }
    }
}

/// A descriptor count, as `setrlimit` takes it.
#[cfg(unix)]
pub type Count = libc::rlim_t;
#[cfg(not(unix))]
pub type Count = u64;

/// Makes sure this process may open `wanted` descriptors, raising the soft limit toward the hard one.
/// Returns how many it may open.
#[cfg(unix)]
pub fn fd_limit(wanted: Count) -> Count {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable rlimit for getrlimit to fill.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 1024;
    }
    if limit.rlim_cur >= wanted {
        return limit.rlim_cur;
    }
    let raised = libc::rlimit {
        rlim_cur: limit.rlim_max.min(wanted),
        rlim_max: limit.rlim_max,
    };
    // SAFETY: `raised` is a valid rlimit; the soft limit is within the hard one.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
        raised.rlim_cur
    } else {
        limit.rlim_cur
    }
}

/// Without `setrlimit`, assume the smallest common default.
#[cfg(not(unix))]
pub fn fd_limit(wanted: Count) -> Count {
    wanted.min(512)
}
