//! Reader and writer halves of a [`WebSocket`] that can live in two tasks.

use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::{Arc, Mutex, MutexGuard};

use futures_core::Stream;
use futures_sink::Sink;

use crate::runtime::{Runtime, Transport};
use crate::topics::{Deliver, Subscriber};
use crate::{AbortHandle, Error, TrySendError, TrySendPreparedError, WebSocket};
use wslane::CloseCode;
use wslane::Event;
use wslane::Message;
use wslane::PreparedMessage;

/// The receiving half. It also transmits pongs and the close reply, and runs the timers, so keep polling
/// it for the connection to stay healthy.
#[derive(Debug)]
pub struct ReadHalf<S, R: Runtime> {
    shared: Arc<Mutex<WebSocket<S, R>>>,
}

/// The sending half.
#[derive(Debug)]
pub struct WriteHalf<S, R: Runtime> {
    shared: Arc<Mutex<WebSocket<S, R>>>,
}

fn lock<S, R: Runtime>(shared: &Mutex<WebSocket<S, R>>) -> MutexGuard<'_, WebSocket<S, R>> {
    // A panic in another half's poll leaves the connection state consistent (every update is a single
    // assignment after the fact), so a poisoned lock is still usable.
    shared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl<S: Unpin, R: Transport<S>> WebSocket<S, R> {
    /// Splits into a reading and a writing half. The transport's read and write wakers are kept apart by
    /// the transport itself (as TCP streams do), so each half waits on its own direction.
    pub fn split(self) -> (ReadHalf<S, R>, WriteHalf<S, R>) {
        let shared = Arc::new(Mutex::new(self));
        (
            ReadHalf {
                shared: Arc::clone(&shared),
            },
            WriteHalf { shared },
        )
    }
}

impl<S: Unpin, R: Transport<S>> ReadHalf<S, R> {
    /// Receives the next whole message, as [`WebSocket::recv`].
    pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
        core::future::poll_fn(|cx| lock(&self.shared).poll_recv(cx)).await
    }

    /// Receives the next event, borrowed, as [`WebSocket::recv_with`].
    pub async fn recv_with<F, O>(&mut self, mut f: F) -> Option<Result<O, Error>>
    where
        F: FnMut(Event<'_>) -> O,
    {
        core::future::poll_fn(|cx| lock(&self.shared).poll_event_with(cx, &mut f)).await
    }
}

impl<S: Unpin, R: Transport<S>> ReadHalf<S, R> {
    /// A handle that aborts the connection (both halves) from any task: see [`AbortHandle`].
    pub fn abort_handle(&self) -> AbortHandle {
        lock(&self.shared).abort_handle()
    }
}

impl<S: Unpin, R: Transport<S>> Stream for ReadHalf<S, R> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        lock(&self.shared).poll_recv(cx)
    }
}

impl<S: Unpin, R: Transport<S>> WriteHalf<S, R> {
    /// Queues a message without flushing, waiting while the output buffer is full.
    pub async fn feed(&mut self, message: Message) -> Result<(), Error> {
        core::future::poll_fn(|cx| lock(&self.shared).poll_ready_to_send(cx)).await?;
        lock(&self.shared).queue(message)
    }

    /// Queues a message and flushes.
    pub async fn send(&mut self, message: Message) -> Result<(), Error> {
        self.feed(message).await?;
        self.flush().await
    }

    /// Writes everything queued and flushes the transport.
    pub async fn flush(&mut self) -> Result<(), Error> {
        core::future::poll_fn(|cx| lock(&self.shared).poll_flush_all(cx)).await
    }

    /// Queues a message without waiting, or hands it back when the output is full, as
    /// [`WebSocket::try_send`]. The read half, if a task is waiting in it, is woken to write it out.
    pub fn try_send(&mut self, message: Message) -> Result<(), TrySendError> {
        lock(&self.shared).try_send(message)
    }

    /// Queues a [`PreparedMessage`] without waiting, as [`WebSocket::try_send_prepared`]. The read half,
    /// if a task is waiting in it, is woken to write it out.
    pub fn try_send_prepared(
        &mut self,
        message: &PreparedMessage,
    ) -> Result<(), TrySendPreparedError> {
        lock(&self.shared).try_send_prepared(message)
    }

    /// Queues a [`PreparedMessage`] without flushing, waiting while the output buffer is full, as
    /// [`WebSocket::feed_prepared`].
    pub async fn feed_prepared(&mut self, message: &PreparedMessage) -> Result<(), Error> {
        core::future::poll_fn(|cx| lock(&self.shared).poll_ready_to_send(cx)).await?;
        Ok(lock(&self.shared).conn.send_prepared(message)?)
    }

    /// A handle for [`Topics`](crate::topics::Topics): publishing to it queues messages on this
    /// connection, and a subscriber too slow to take them is aborted through it. The read half must keep
    /// being polled (as always): it writes what is published.
    pub fn subscriber(&self) -> Subscriber
    where
        WebSocket<S, R>: Send + 'static,
    {
        Subscriber::new(Arc::clone(&self.shared) as Arc<dyn Deliver>)
    }

    /// Bytes queued for transmission: the output level that [`try_send`](Self::try_send) compares with
    /// [`Config::max_output_buffer`](wslane::Config::max_output_buffer).
    pub fn buffered_output(&self) -> usize {
        lock(&self.shared).connection().buffered_output()
    }

    /// A handle that aborts the connection (both halves) from any task: see [`AbortHandle`].
    pub fn abort_handle(&self) -> AbortHandle {
        lock(&self.shared).abort_handle()
    }

    /// Sends a close frame and flushes it. The read half sees the peer's close and then the end.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        lock(&self.shared).conn.sender().close(code, reason)?;
        self.flush().await
    }
}

impl<S: Unpin, R: Transport<S>> Sink<Message> for WriteHalf<S, R> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        lock(&self.shared).poll_ready_to_send(cx)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        lock(&self.shared).queue(message)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Pin::new(&mut *lock(&self.shared)).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Pin::new(&mut *lock(&self.shared)).poll_close(cx)
    }
}
