//! RFC 6455 section 4.1: at most one connection to an address is in the CONNECTING state at a time.
//! `connect` against a server that answers slowly, and `ConnectGate` on its own.
//!
//! The `connect` tests run on real time over loopback TCP: the gate is `connect_with`'s, which resolves
//! and connects TCP itself, and tokio's paused clock would not do there, as it also jumps while a task
//! waits for the OS (a handshake timeout could fire before a loopback peer had answered). Their time
//! checks are one-sided or have wide margins. The tests of `ConnectGate` on its own involve no I/O and run
//! on the paused clock, where a timeout fires only once every task waits: exactly "this acquire waits".

mod support;

use std::net::SocketAddr;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use support::*;
use tokio::time::timeout;
use wslane_tokio::{ClientRequest, CloseCode, Config, ConnectGate, Connector, Error, Limits, Url};

/// How long the slow server holds each handshake.
const DELAY: Duration = Duration::from_millis(300);
/// Long enough to say a future is waiting.
const WAIT: Duration = Duration::from_millis(50);

/// Connections the server has accepted but not yet answered, now and at most; and all it accepted.
#[derive(Default)]
struct Connecting {
    now: AtomicUsize,
    max: AtomicUsize,
    accepted: AtomicUsize,
}

/// A server that holds every handshake for `delay` before answering, and counts the connections waiting
/// for their answer. The first `dropped` connections are closed at once, unanswered (and not counted).
async fn slow_server(delay: Duration, dropped: usize) -> (SocketAddr, Arc<Connecting>) {
    let (listener, addr) = listener().await;
    let connecting = Arc::new(Connecting::default());
    let counts = Arc::clone(&connecting);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let counts = Arc::clone(&counts);
            tokio::spawn(async move {
                let nth = counts.accepted.fetch_add(1, Ordering::SeqCst);
                if nth < dropped {
                    return;
                }
                let now = counts.now.fetch_add(1, Ordering::SeqCst) + 1;
                counts.max.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(delay).await;
                // No longer connecting once the answer goes out.
                counts.now.fetch_sub(1, Ordering::SeqCst);
                if let Ok(ws) = wslane_tokio::accept(tcp).await {
                    let _ = echo(ws).await;
                }
            });
        }
    });
    (addr, connecting)
}

#[tokio::test]
async fn concurrent_connects_to_one_address_take_turns() {
    bounded(async {
        let (addr, connecting) = slow_server(DELAY, 0).await;
        let url = ws_url(addr, "/");
        let started = Instant::now();
        let (a, b, c) = tokio::join!(
            wslane_tokio::connect(&url),
            wslane_tokio::connect(&url),
            wslane_tokio::connect(&url),
        );
        let took = started.elapsed();
        assert_eq!(
            connecting.max.load(Ordering::SeqCst),
            1,
            "overlapping handshakes"
        );
        assert_eq!(connecting.accepted.load(Ordering::SeqCst), 3);
        assert!(
            took >= 3 * DELAY,
            "three handshakes in {took:?}: not one after another"
        );
        assert!(!ConnectGate::global().is_busy(addr));
        for result in [a, b, c] {
            let (mut ws, _) = result.unwrap();
            ws.close(CloseCode::NORMAL, "").await.unwrap();
        }
    })
    .await;
}

/// A connection attempt that fails (the server drops it without an answer) lets the next one go.
#[tokio::test]
async fn failed_attempt_lets_the_next_one_connect() {
    bounded(async {
        let (addr, connecting) = slow_server(Duration::from_millis(50), 1).await;
        let url = ws_url(addr, "/");
        let (first, second) =
            tokio::join!(wslane_tokio::connect(&url), wslane_tokio::connect(&url));
        // Either may have gone first; the one the server dropped failed.
        let (failed, connected) = match (first, second) {
            (Err(err), Ok(ws)) | (Ok(ws), Err(err)) => (err, ws),
            (first, second) => panic!("expected one failure: {first:?} / {second:?}"),
        };
        assert!(matches!(&failed, Error::Io(_)), "{failed:?}");
        assert_eq!(connecting.accepted.load(Ordering::SeqCst), 2);
        assert_eq!(connecting.max.load(Ordering::SeqCst), 1);
        assert!(!ConnectGate::global().is_busy(addr));
        let (mut ws, _) = connected;
        ws.close(CloseCode::NORMAL, "").await.unwrap();
    })
    .await;
}

/// The handshake timeout (`Limits::timeout`) bounds each connection's own handshake, not the time it spends queued behind
/// other connections to the same address: three connects that each take 150 ms all succeed under a
/// 400 ms limit, although the last one waits 300 ms for its turn.
///
/// On real time, over loopback TCP (see the module's doc): what is under test is how `connect_with`
/// composes the gate with the timeout, and no in-memory entry point goes through the gate (`client_on`
/// leaves it to the caller). The margin is wide: an attempt would have to take 250 ms more than the
/// server's 150 ms to fail the test.
#[tokio::test]
async fn handshake_timeout_does_not_count_the_queue() {
    bounded(async {
        let (addr, connecting) = slow_server(Duration::from_millis(150), 0).await;
        let connect = || {
            let mut limits = Limits::default();
            limits.timeout = Duration::from_millis(400);
            let request =
                ClientRequest::new(Url::parse(&ws_url(addr, "/")).unwrap()).limits(limits);
            wslane_tokio::connect_with(request, Config::default(), Connector::Default)
        };
        let (a, b, c) = tokio::join!(connect(), connect(), connect());
        assert_eq!(connecting.max.load(Ordering::SeqCst), 1);
        for result in [a, b, c] {
            let (mut ws, _) = result.unwrap();
            ws.close(CloseCode::NORMAL, "").await.unwrap();
        }
    })
    .await;
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 1], port))
}

#[tokio::test(start_paused = true)]
async fn second_acquire_waits_for_the_first_guard() {
    bounded(async {
        let gate = ConnectGate::new();
        let first = gate.acquire(addr(80)).await;
        assert!(gate.is_busy(addr(80)));
        let mut second = pin!(gate.acquire(addr(80)));
        assert!(timeout(WAIT, &mut second).await.is_err(), "did not wait");
        drop(first);
        let second = second.await;
        assert!(gate.is_busy(addr(80)));
        drop(second);
        assert!(!gate.is_busy(addr(80)));
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn different_addresses_do_not_wait_for_each_other() {
    bounded(async {
        let gate = ConnectGate::new();
        let _a = gate.acquire(addr(80)).await;
        let b = timeout(WAIT, gate.acquire(addr(81))).await;
        assert!(b.is_ok(), "another port waited");
        let c = timeout(WAIT, gate.acquire(SocketAddr::from(([192, 0, 2, 2], 80)))).await;
        assert!(c.is_ok(), "another host waited");
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn cancelled_waiter_does_not_block_others() {
    bounded(async {
        let gate: &'static ConnectGate = Box::leak(Box::new(ConnectGate::new()));
        let first = gate.acquire(addr(80)).await;

        // One waiter polled once and dropped, another that times out: both leave.
        assert!(gate.acquire(addr(80)).now_or_never().is_none());
        assert!(timeout(WAIT, gate.acquire(addr(80))).await.is_err());

        // Two waiting tasks; one is cancelled right as the address frees up. The paused clock passes the
        // sleep only once both tasks wait in `acquire`.
        let cancelled = tokio::spawn(gate.acquire(addr(80)).map(drop));
        let waiting = tokio::spawn(async move {
            let _guard = gate.acquire(addr(80)).await;
        });
        tokio::time::sleep(WAIT).await;
        assert!(!waiting.is_finished() && !cancelled.is_finished());
        drop(first);
        cancelled.abort();
        waiting.await.unwrap();
        assert!(!gate.is_busy(addr(80)));
        let _again = timeout(WAIT, gate.acquire(addr(80)))
            .await
            .expect("the address is free");
    })
    .await;
}

/// Many tasks on many threads contend for one address: at most one holds it at any time, and all get it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn contended_gate_admits_one_at_a_time() {
    bounded(async {
        let gate: &'static ConnectGate = Box::leak(Box::new(ConnectGate::new()));
        let holders = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..32)
            .map(|_| {
                let holders = Arc::clone(&holders);
                tokio::spawn(async move {
                    let _guard = gate.acquire(addr(443)).await;
                    assert_eq!(holders.fetch_add(1, Ordering::SeqCst), 0, "two holders");
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    holders.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert!(!gate.is_busy(addr(443)));
    })
    .await;
}
