//! The rule of RFC 6455 section 4.1: a client has at most one connection in the CONNECTING state to the
//! same remote address (IP and port); later ones wait their turn.

use core::future::poll_fn;
use core::task::{Poll, Waker};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock};
use std::vec::Vec;

/// A set of remote addresses with a connection attempt in progress. [`ConnectGate::global`] is the one
/// the adapters use, so the rule holds across the whole process.
#[derive(Debug, Default)]
pub struct ConnectGate {
    busy: Mutex<HashMap<SocketAddr, Vec<Waker>>>,
}

/// The right to connect to one address; dropping it (when the opening handshake ends, either way) lets
/// the next waiting connection go.
#[derive(Debug)]
pub struct GateGuard<'a> {
    gate: &'a ConnectGate,
    addr: SocketAddr,
}

impl ConnectGate {
    /// An empty gate (for tests; adapters use [`ConnectGate::global`]).
    #[must_use]
    pub fn new() -> ConnectGate {
        ConnectGate::default()
    }

    /// The process-wide gate.
    pub fn global() -> &'static ConnectGate {
        static GLOBAL: OnceLock<ConnectGate> = OnceLock::new();
        GLOBAL.get_or_init(ConnectGate::new)
    }

    /// Waits until no other connection to `addr` is connecting, then holds the address until the guard
    /// is dropped. A waiting call that is cancelled leaves no trace.
    pub async fn acquire(&self, addr: SocketAddr) -> GateGuard<'_> {
        poll_fn(|cx| {
            let mut busy = self.lock();
            match busy.get_mut(&addr) {
                None => {
                    busy.insert(addr, Vec::new());
                    Poll::Ready(GateGuard { gate: self, addr })
                }
                Some(waiters) => {
                    if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
                        waiters.push(cx.waker().clone());
                    }
                    Poll::Pending
                }
            }
        })
        .await
    }

    /// Whether a connection to `addr` is connecting now.
    pub fn is_busy(&self, addr: SocketAddr) -> bool {
        self.lock().contains_key(&addr)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, Vec<Waker>>> {
        // The map stays consistent even if a holder panicked: every change is a single insert or remove.
        self.busy
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for GateGuard<'_> {
    fn drop(&mut self) {
        let waiters = self.gate.lock().remove(&self.addr);
        // Wake every waiter: one takes the address, the others wait again. No wake-up is lost to a
        // waiter that was cancelled meanwhile.
        waiters.into_iter().flatten().for_each(Waker::wake);
    }
}

/// Connects to the first of `addrs` that answers, holding the [global gate](ConnectGate::global) for the
/// address being tried (so a timeout inside `connect` bounds the attempt, not the wait for the gate).
/// Returns the transport with the guard: hold it until the opening handshake ends.
pub async fn connect_gated<S, E, F, Fut>(
    addrs: impl IntoIterator<Item = SocketAddr>,
    mut connect: F,
) -> Result<(S, GateGuard<'static>), E>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: core::future::Future<Output = Result<S, E>>,
    E: From<std::io::Error>,
{
    let mut last_error = None;
    for addr in addrs {
        let guard = ConnectGate::global().acquire(addr).await;
        match connect(addr).await {
            Ok(stream) => return Ok((stream, guard)),
            Err(err) => last_error = Some(err),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::NotFound, "the host has no address").into()
    }))
}
