//! [`WebSocket`]: a connection driven over an async transport.

use core::future::poll_fn;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use std::vec::Vec;

use futures_core::Stream;
use futures_io::{AsyncRead, AsyncWrite};

use super::{Error, Timer};
use crate::close::CloseCode;
use crate::connection::{Connection, Event};
use crate::message::Message;
use crate::time::Instant;

/// The smallest read handed to the transport.
const READ_CHUNK: usize = 4096;

/// A WebSocket over an async transport `T`, with timers from `R`. Implements
/// `Stream<Item = Result<Message, Error>>` and `Sink<Message>`, and has plain async methods
/// ([`recv`](Self::recv), [`send`](Self::send), [`close`](Self::close)).
///
/// Receiving also runs the keepalive and close timers and, whenever the received input is used up, writes
/// out everything queued: pongs and the close reply, and messages queued with [`feed`](Self::feed). So a
/// task that only reads keeps the connection healthy, and an echo loop that feeds each reply sends a whole
/// batch of replies in one write:
///
/// ```no_run
/// # async fn echo<T, R>(mut ws: wslane::driver::WebSocket<T, R>) -> Result<(), wslane::driver::Error>
/// # where T: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin, R: wslane::driver::Timer {
/// while let Some(message) = ws.recv().await {
///     let message = message?;
///     if message.is_data() {
///         ws.feed(message).await?; // queued; written when the input runs dry
///     }
/// }
/// # Ok(()) }
/// ```
pub struct WebSocket<T, R> {
    pub(super) io: T,
    pub(super) conn: Connection,
    timer: R,
    armed: Option<Instant>,
    epoch: std::time::Instant,
    /// Bytes were written since the last transport flush.
    unflushed: bool,
    /// The stream has ended (after an error or the end of the connection).
    done: bool,
    transport_closed: bool,
    /// Tasks waiting for the transport to take more output. A transport keeps one write waker, so when the
    /// halves of a split socket both wait, the one that makes progress wakes the other.
    write_waiters: Vec<Waker>,
}

impl<T, R> core::fmt::Debug for WebSocket<T, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WebSocket")
            .field("conn", &self.conn)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin, R: Timer> WebSocket<T, R> {
    /// Drives `conn`, an established connection, over `io`.
    pub fn new(io: T, conn: Connection, timer: R) -> WebSocket<T, R> {
        WebSocket {
            io,
            conn,
            timer,
            armed: None,
            epoch: std::time::Instant::now(),
            unflushed: false,
            done: false,
            transport_closed: false,
            write_waiters: Vec::new(),
        }
    }

    /// The connection, for its state and settings.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The transport.
    pub fn get_ref(&self) -> &T {
        &self.io
    }

    /// Receives the next whole message; `None` once the connection has ended cleanly (after the close
    /// message, if the peer sent one).
    pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Receives the next event and hands it, borrowed, to `f`: no copy, no allocation. Works in both
    /// receive modes.
    pub async fn recv_with<F, O>(&mut self, mut f: F) -> Option<Result<O, Error>>
    where
        F: FnMut(Event<'_>) -> O,
    {
        poll_fn(|cx| self.poll_event_with(cx, &mut f)).await
    }

    /// Polls for the next whole message.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message, Error>>> {
        self.poll_event_with(cx, &mut |event| Message::from_event(&event))
            .map(|item| item.map(|result| result.and_then(|m| m.ok_or(Error::FragmentsMode))))
    }

    /// Polls for the next event, handing it to `f`.
    pub fn poll_event_with<F, O>(
        &mut self,
        cx: &mut Context<'_>,
        f: &mut F,
    ) -> Poll<Option<Result<O, Error>>>
    where
        F: FnMut(Event<'_>) -> O,
    {
        loop {
            if self.done {
                return Poll::Ready(None);
            }
            match self.conn.poll_event() {
                Ok(Some(event)) => return Poll::Ready(Some(Ok(f(event)))),
                Ok(None) => {}
                Err(err) => {
                    // The close frame is queued; send it on the way out, ignoring a transport that is gone.
                    let _ = self.poll_shutdown(cx);
                    return self.finish_with(Err(err.into()));
                }
            }
            // The received input is used up: before waiting for more, write out everything queued (replies
            // fed while handling that input, pongs, a close reply) in as few writes as possible. A full
            // transport must not stop reading, so this is best effort.
            if let Poll::Ready(Err(err)) = self.poll_flush_all(cx) {
                return self.finish_with(Err(err.into()));
            }
            if self.conn.should_close_transport() {
                return match self.poll_shutdown(cx) {
                    Poll::Ready(_) => self.finish_with(Ok(())),
                    Poll::Pending => Poll::Pending,
                };
            }
            if self.poll_timers(cx).is_ready() {
                continue;
            }
            let buf = self.conn.read_buffer(READ_CHUNK);
            match Pin::new(&mut self.io).poll_read(cx, buf) {
                Poll::Ready(Ok(0)) => self.conn.handle_eof(),
                Poll::Ready(Ok(n)) => self.conn.handle_read(n),
                Poll::Ready(Err(err)) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(err)) => return self.finish_with(Err(err.into())),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Ends the stream with `result`: `Ok` ends it quietly.
    fn finish_with<O>(&mut self, result: Result<(), Error>) -> Poll<Option<Result<O, Error>>> {
        self.done = true;
        Poll::Ready(result.err().map(Err))
    }

    /// Fires the connection's timer when due and arms the runtime's timer for the next deadline.
    /// Ready when a timeout was handled (so there may be new work).
    pub(super) fn poll_timers(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(deadline) = self.conn.poll_timeout() else {
            self.armed = None;
            return Poll::Pending;
        };
        let now = self.now();
        if deadline <= now {
            self.conn.handle_timeout(now);
            return Poll::Ready(());
        }
        if self.armed != Some(deadline) {
            self.timer
                .reset(self.epoch + deadline.elapsed_since_epoch());
            self.armed = Some(deadline);
        }
        match self.timer.poll_expired(cx) {
            Poll::Ready(()) => {
                // Trust the clock, not the timer: handle_timeout ignores an early call.
                self.armed = None;
                let now = self.now();
                self.conn.handle_timeout(now);
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn now(&self) -> Instant {
        Instant::from_duration(self.epoch.elapsed())
    }

    /// Writes queued output until none is left or the transport would block.
    pub(super) fn poll_write_queued(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        loop {
            let out = self.conn.poll_transmit();
            if out.is_empty() {
                return Poll::Ready(Ok(()));
            }
            match Pin::new(&mut self.io).poll_write(cx, out) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()))
                }
                Poll::Ready(Ok(n)) => {
                    self.conn.advance_transmit(n);
                    self.unflushed = true;
                    self.write_waiters.drain(..).for_each(Waker::wake);
                }
                Poll::Ready(Err(err)) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                Poll::Pending => {
                    self.wait_for_write(cx);
                    return Poll::Pending;
                }
            }
        }
    }

    /// Writes all queued output and flushes the transport.
    pub(super) fn poll_flush_all(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        if let Err(err) = core::task::ready!(self.poll_write_queued(cx)) {
            return Poll::Ready(Err(err));
        }
        if self.unflushed {
            if Pin::new(&mut self.io).poll_flush(cx)?.is_pending() {
                self.wait_for_write(cx);
                return Poll::Pending;
            }
            self.unflushed = false;
            self.write_waiters.drain(..).for_each(Waker::wake);
        }
        Poll::Ready(Ok(()))
    }

    fn wait_for_write(&mut self, cx: &Context<'_>) {
        if !self.write_waiters.iter().any(|w| w.will_wake(cx.waker())) {
            self.write_waiters.push(cx.waker().clone());
        }
    }

    /// Flushes what is queued, then closes the transport (once).
    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        if self.transport_closed {
            return Poll::Ready(Ok(()));
        }
        core::task::ready!(self.poll_flush_all(cx))?;
        core::task::ready!(Pin::new(&mut self.io).poll_close(cx))?;
        self.transport_closed = true;
        Poll::Ready(Ok(()))
    }

    /// Queues `message` without flushing, waiting first while the output buffer is full (backpressure).
    /// Flush with [`flush`](Self::flush), or use [`send`](Self::send) for both.
    pub async fn feed(&mut self, message: Message) -> Result<(), Error> {
        poll_fn(|cx| self.poll_ready_to_send(cx)).await?;
        self.queue(message)
    }

    /// Queues `message` and flushes it to the transport.
    pub async fn send(&mut self, message: Message) -> Result<(), Error> {
        self.feed(message).await?;
        self.flush().await
    }

    /// Writes everything queued to the transport and flushes it.
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.poll_flush_all(cx))
            .await
            .map_err(Error::Io)
    }

    /// Runs the close handshake: sends a close frame, then reads (dropping data messages) until the peer's
    /// close arrives and the transport is closed, or the close timeout passes.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.conn.close(code, reason)?;
        self.flush().await?;
        while let Some(result) = self.recv_with(|_| ()).await {
            result?;
        }
        Ok(())
    }

    /// Waits while the output buffer is at its limit, writing it out.
    pub(super) fn poll_ready_to_send(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        while self.conn.buffered_output() >= self.conn.config().max_output_buffer {
            if let Err(err) = core::task::ready!(self.poll_write_queued(cx)) {
                return Poll::Ready(Err(err.into()));
            }
        }
        if !self.conn.state().can_send() {
            return Poll::Ready(Err(Error::Closed));
        }
        Poll::Ready(Ok(()))
    }

    /// Queues a message on the connection.
    pub(super) fn queue(&mut self, message: Message) -> Result<(), Error> {
        match message {
            Message::Text(text) => self.conn.send_text(&text)?,
            Message::Binary(data) => self.conn.send_binary(&data)?,
            Message::Ping(data) => self.conn.ping(&data)?,
            Message::Pong(data) => self.conn.pong(&data)?,
            Message::Close(frame) => {
                let (code, reason) = frame.map_or((CloseCode::NORMAL, Default::default()), |f| {
                    (f.code, f.reason)
                });
                self.conn.close(code, &reason)?;
            }
        }
        Ok(())
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin, R: Timer> Stream for WebSocket<T, R> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_recv(cx)
    }
}
