//! [`AbortHandle`]: cutting a connection off from another task.

use core::task::Waker;
use std::string::String;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use wslane::CloseCode;

/// Ends a [`WebSocket`](crate::WebSocket) from any task, at once, even while the task that owns it waits
/// in `feed`, `send`, `flush` or `recv` on a peer that does not read.
///
/// [`abort`](Self::abort) marks the socket and wakes the tasks waiting on it. The next poll of the socket
/// (the woken task's) queues a close frame with the given code if the connection can still send and the
/// output has room, tries once to write it and to close the transport without waiting, drops the
/// transport, and fails with [`Error::Aborted`](crate::Error::Aborted). A socket nobody polls drops its
/// transport when it is dropped.
///
/// Cloneable and cheap: every clone aborts the same socket (both halves of a split one).
///
/// ```no_run
/// # async fn run<S: Unpin, R: wslane_async::Transport<S>>(mut ws: wslane_async::WebSocket<S, R>) {
/// use wslane::{CloseCode, Message};
/// use wslane_async::Error;
///
/// let abort = ws.abort_handle();
/// // Hand `abort` to a watchdog task, which decides the peer is too slow:
/// # let watchdog = move || abort.abort(CloseCode::TRY_AGAIN_LATER, "too slow");
/// // watchdog: abort.abort(CloseCode::TRY_AGAIN_LATER, "too slow");
/// # watchdog();
/// // This send waits while the peer does not read, until the abort: then it fails.
/// let result = ws.send(Message::binary(vec![0; 16 << 20])).await;
/// assert!(matches!(result, Err(Error::Aborted)));
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct AbortHandle {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
pub(crate) struct Shared {
    inner: Mutex<Inner>,
    /// Set with `Inner::aborted`, read without the lock by sends that register no task.
    asked: AtomicBool,
    /// The reader was woken to write out queued output and has not polled since: a further wake is
    /// redundant, as its next poll writes everything queued by then. Queuing and polling both happen
    /// under the socket's own exclusive access, which orders them.
    reader_woken: AtomicBool,
}

#[derive(Debug, Default)]
struct Inner {
    /// The close frame to try, once aborted; taken by the socket when it carries the abort out.
    request: Option<(CloseCode, String)>,
    aborted: bool,
    /// The task last seen receiving, and the task last seen sending.
    reader: Option<Waker>,
    writer: Option<Waker>,
}

/// Which side of the socket a poll comes from: each keeps its own waker, so both halves are woken.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Side {
    Read,
    Write,
}

/// What a poll finds.
#[derive(Debug)]
pub(crate) enum Check {
    /// Not aborted; the waker is registered.
    Running,
    /// Aborted now: carry it out with this close frame.
    Abort(CloseCode, String),
    /// Aborted, and carried out already.
    Aborted,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether an abort was asked for (carried out or not), without taking the lock.
    pub(crate) fn was_asked(&self) -> bool {
        self.asked.load(Ordering::Acquire)
    }

    /// Registers `waker` for `side` (if given) and says whether the socket was aborted.
    pub(crate) fn check(&self, side: Option<Side>, waker: &Waker) -> Check {
        let mut inner = self.lock();
        if inner.aborted {
            return match inner.request.take() {
                Some((code, reason)) => Check::Abort(code, reason),
                None => Check::Aborted,
            };
        }
        let slot = match side {
            Some(Side::Read) => {
                self.reader_polled();
                &mut inner.reader
            }
            Some(Side::Write) => &mut inner.writer,
            None => return Check::Running,
        };
        match slot {
            Some(old) if old.will_wake(waker) => {}
            _ => *slot = Some(waker.clone()),
        }
        Check::Running
    }

    /// The reader polled, registered already: a wake-up from now on is not redundant.
    pub(crate) fn reader_polled(&self) {
        self.reader_woken.store(false, Ordering::Relaxed);
    }

    /// Wakes the task receiving, so that it writes out what was just queued.
    /// Once per poll of the reader at most: a publisher that queues many messages (or on many sockets)
    /// while the reader has not run yet wakes it once.
    pub(crate) fn wake_reader(&self) {
        // A reader not registered yet writes out what is queued when it first polls.
        if self.reader_woken.swap(true, Ordering::Relaxed) {
            return;
        }
        let reader = self.lock().reader.clone();
        if let Some(reader) = reader {
            reader.wake();
        }
    }
}

impl AbortHandle {
    pub(crate) fn new(shared: Arc<Shared>) -> AbortHandle {
        AbortHandle { shared }
    }

    /// Aborts the socket: the tasks waiting on it wake and fail with
    /// [`Error::Aborted`](crate::Error::Aborted), and its transport is dropped, after a best-effort close
    /// frame with `code` and `reason` (none if the reason is over 123 bytes, the code may not be sent, or
    /// the output is full). Only the first call counts.
    pub fn abort(&self, code: CloseCode, reason: &str) {
        let (reader, writer) = {
            let mut inner = self.shared.lock();
            if inner.aborted {
                return;
            }
            inner.aborted = true;
            self.shared.asked.store(true, Ordering::Release);
            inner.request = Some((code, reason.into()));
            (inner.reader.take(), inner.writer.take())
        };
        reader.into_iter().chain(writer).for_each(Waker::wake);
    }

    /// Whether [`abort`](Self::abort) was called.
    #[must_use]
    pub fn is_aborted(&self) -> bool {
        self.shared.lock().aborted
    }
}
