//! The rule of RFC 6455 section 4.1: a client has at most one connection in the CONNECTING state to the
//! same remote address (IP and port); later ones wait their turn. Feature `std`.
//!
//! One process-wide gate serves every adapter, async ([`ConnectGate::acquire`]) or blocking
//! ([`ConnectGate::acquire_blocking`]), so the rule holds across them.

use core::future::poll_fn;
use core::task::{Context, Poll, Waker};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::Wake;
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
        poll_fn(|cx| self.poll_acquire(cx, addr)).await
    }

    /// [`acquire`](Self::acquire) for blocking code: parks the thread while it waits.
    pub fn acquire_blocking(&self, addr: SocketAddr) -> GateGuard<'_> {
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        loop {
            match self.poll_acquire(&mut cx, addr) {
                Poll::Ready(guard) => return guard,
                Poll::Pending => std::thread::park(),
            }
        }
    }

    fn poll_acquire(&self, cx: &mut Context<'_>, addr: SocketAddr) -> Poll<GateGuard<'_>> {
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

/// Wakes a parked thread.
struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::boxed::Box;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    #[test]
    fn a_blocking_acquire_waits_for_the_holder() {
        let gate: &'static ConnectGate = Box::leak(Box::new(ConnectGate::new()));
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let other: SocketAddr = "127.0.0.1:10".parse().unwrap();
        let first = gate.acquire_blocking(addr);
        drop(gate.acquire_blocking(other)); // another address does not wait
        let released = Arc::new(AtomicBool::new(false));
        let waiter = {
            let released = Arc::clone(&released);
            std::thread::spawn(move || {
                let _second = gate.acquire_blocking(addr);
                assert!(
                    released.load(Ordering::SeqCst),
                    "entered before the first left"
                );
            })
        };
        std::thread::sleep(Duration::from_millis(50));
        assert!(gate.is_busy(addr));
        released.store(true, Ordering::SeqCst);
        drop(first);
        waiter.join().unwrap();
        assert!(!gate.is_busy(addr));
    }
}
