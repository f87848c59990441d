//! The load client of `wsload run`: a scenario's connections spread over one or more threads, each thread
//! an [`Engine`], all counting into shared counters that the measuring thread samples.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::engine::{CloseReport, Engine};
use super::scenario::Scenario;

/// Handshakes in progress at once, per thread.
const MAX_PENDING: usize = 128;

/// How long a thread waits for readiness before looking at the shared flags again.
const TURN: Duration = Duration::from_millis(20);

#[derive(Debug, Default)]
struct Shared {
    stop: AtomicBool,
    /// Bumped by [`LoadClient::mark`]; each thread then notes every connection's count.
    epoch: AtomicU32,
    received: AtomicU64,
    errors: AtomicU64,
    first_errors: Mutex<Vec<String>>,
}

/// What one thread reports when it ends.
#[derive(Debug, Default)]
struct ThreadReport {
    /// Per connection, the echoes received at each mark.
    marks: Vec<Vec<u64>>,
    close: CloseReport,
}

/// A scenario's connections, open and ready to start.
#[derive(Debug)]
pub struct LoadClient {
    shared: Arc<Shared>,
    go: Vec<mpsc::Sender<()>>,
    threads: Vec<JoinHandle<io::Result<ThreadReport>>>,
}

/// How a load client ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientReport {
    /// Connections that received no echo between the first two marks.
    pub stalled: usize,
    /// Connections that failed.
    pub errors: u64,
    /// The first errors.
    pub first_errors: Vec<String>,
    /// How the closing handshakes went.
    pub close: CloseReport,
}

impl LoadClient {
    /// Opens `scenario`'s connections to `addr` over `threads` threads and returns once all are open.
    ///
    /// # Errors
    ///
    /// When a connection cannot be opened within `timeout`.
    pub fn connect(
        addr: SocketAddr,
        scenario: &Scenario,
        threads: usize,
        timeout: Duration,
    ) -> io::Result<Self> {
        let threads_n = threads.clamp(1, scenario.connections.max(1));
        let shared = Arc::new(Shared::default());
        let (ready_tx, ready_rx) = mpsc::channel();
        let mut go = Vec::new();
        let mut handles = Vec::new();
        for thread_index in 0..threads_n {
            let count = scenario.connections / threads_n
                + usize::from(thread_index < scenario.connections % threads_n);
            let (go_tx, go_rx) = mpsc::channel::<()>();
            go.push(go_tx);
            let shared = shared.clone();
            let ready = ready_tx.clone();
            let workload = scenario.workload();
            handles.push(
                thread::Builder::new()
                    .name(format!("wsload-{thread_index}"))
                    .spawn(move || {
                        let mut engine = Engine::new(addr)?;
                        let opened = engine.open(count, MAX_PENDING, timeout);
                        let failed = opened.as_ref().err().map(ToString::to_string);
                        let _ = ready.send(failed);
                        opened?;
                        if go_rx.recv().is_err() {
                            engine.close(Duration::from_secs(1))?;
                            return Ok(ThreadReport::default());
                        }
                        engine.start(workload, u64::MAX);
                        drive(&mut engine, &shared)
                    })?,
            );
        }
        drop(ready_tx);
        let client = Self {
            shared,
            go,
            threads: handles,
        };
        for _ in 0..threads_n {
            match ready_rx.recv() {
                Ok(None) => {}
                Ok(Some(err)) => return Err(io::Error::other(err)),
                Err(_) => return Err(io::Error::other("a load thread ended before connecting")),
            }
        }
        Ok(client)
    }

    /// Starts sending on every connection.
    pub fn go(&self) {
        for go in &self.go {
            let _ = go.send(());
        }
    }

    /// Echoes received so far, all connections together.
    #[must_use]
    pub fn received(&self) -> u64 {
        self.shared.received.load(Ordering::Relaxed)
    }

    /// Connections that failed so far.
    #[must_use]
    pub fn errors(&self) -> u64 {
        self.shared.errors.load(Ordering::Relaxed)
    }

    /// Has every thread note each connection's count (the start, then the end, of a measurement).
    pub fn mark(&self) {
        self.shared.epoch.fetch_add(1, Ordering::Relaxed);
    }

    /// Stops, closes every connection (each thread waits up to 2 s for the server to close its own) and reports.
    ///
    /// # Errors
    ///
    /// When a thread failed outside a connection (polling, spawning).
    pub fn finish(self) -> io::Result<ClientReport> {
        self.shared.stop.store(true, Ordering::Relaxed);
        drop(self.go);
        let mut report = ClientReport::default();
        for thread in self.threads {
            let thread = thread
                .join()
                .map_err(|_| io::Error::other("a load thread panicked"))??;
            if let [first, second, ..] = &thread.marks[..] {
                report.stalled += first.iter().zip(second).filter(|(a, b)| a == b).count();
            }
            report.close.clean += thread.close.clean;
            report.close.unclean += thread.close.unclean;
            report.close.unanswered += thread.close.unanswered;
        }
        report.errors = self.shared.errors.load(Ordering::Relaxed);
        report.first_errors = self
            .shared
            .first_errors
            .lock()
            .expect("not poisoned")
            .clone();
        Ok(report)
    }
}

/// Runs the engine until told to stop, publishing counts, then closes.
fn drive(engine: &mut Engine, shared: &Shared) -> io::Result<ThreadReport> {
    let mut report = ThreadReport::default();
    let (mut published, mut errors_published, mut epoch) = (0, 0, 0);
    loop {
        engine.turn(TURN)?;
        let received = engine.received();
        if received != published {
            shared
                .received
                .fetch_add(received - published, Ordering::Relaxed);
            published = received;
        }
        let (errors, first) = engine.errors();
        if errors != errors_published {
            shared
                .errors
                .fetch_add(errors - errors_published, Ordering::Relaxed);
            let mut kept = shared.first_errors.lock().expect("not poisoned");
            kept.extend(
                first
                    .iter()
                    .skip(errors_published as usize)
                    .take(5)
                    .cloned(),
            );
            kept.truncate(5);
            errors_published = errors;
        }
        let now = shared.epoch.load(Ordering::Relaxed);
        if now != epoch {
            epoch = now;
            report.marks.push(engine.received_per_connection());
        }
        if shared.stop.load(Ordering::Relaxed) {
            break;
        }
    }
    if report.marks.len() == 1 {
        report.marks.push(engine.received_per_connection());
    }
    report.close = engine.close(Duration::from_secs(2))?;
    Ok(report)
}
