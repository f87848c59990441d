//! [`WebSocket`]: a connection driven over an async transport.

use core::future::poll_fn;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use std::sync::Arc;

use futures_core::Stream;

use crate::abort::{self, AbortHandle, Check, Side};
use crate::runtime::{Runtime, Timer, Transport};
use crate::wakers::WakerGroup;
use crate::{Error, TrySendError, TrySendPreparedError};
use wslane::CloseCode;
use wslane::Instant;
use wslane::Message;
use wslane::PreparedMessage;
use wslane::{Connection, Event, Sender, State};

/// A WebSocket over a stream `S` of runtime `R` (TCP, TLS, an upgraded HTTP connection, an in-memory
/// pipe). Implements
/// `Stream<Item = Result<Message, Error>>` and `Sink<Message>`, and has plain async methods
/// ([`recv`](Self::recv), [`send`](Self::send), [`close`](Self::close)).
///
/// Receiving also runs the keepalive and close timers and, whenever the received input is used up, writes
/// out everything queued: pongs and the close reply, and messages queued with [`feed`](Self::feed). So a
/// task that only reads keeps the connection healthy, and an echo loop that feeds each reply sends a whole
/// batch of replies in one write:
///
/// ```no_run
/// # async fn echo<S: Unpin, R: wslane_async::Transport<S>>(
/// #     mut ws: wslane_async::WebSocket<S, R>,
/// # ) -> Result<(), wslane_async::Error> {
/// while let Some(message) = ws.recv().await {
///     let message = message?;
///     if message.is_data() {
///         ws.feed(message).await?; // queued; written when the input runs dry
///     }
/// }
/// # Ok(()) }
/// ```
///
/// # Slow peers
///
/// `feed`, `send` and the `Sink` wait while the output is at
/// [`Config::max_output_buffer`](wslane::Config::max_output_buffer); against a peer that never reads they
/// wait for ever. Two tools cut such a peer off:
///
/// - [`try_send`](Self::try_send) never waits: it queues the message, or hands it back with
///   [`TrySendError::Full`], so a broadcaster can decide what to do with a peer that does not keep up.
///   The output level is [`connection().buffered_output()`](wslane::Connection::buffered_output).
/// - [`abort_handle`](Self::abort_handle) gives a cloneable [`AbortHandle`] whose
///   [`abort`](AbortHandle::abort) works from any task: the task blocked in `feed`, `send`, `flush` or
///   `recv` wakes and fails with [`Error::Aborted`], after a best-effort close frame (written only if
///   the transport takes it at once), and the transport is dropped then and there.
///
/// # Cancel safety
///
/// Every call keeps its progress in the socket, never in its future, so a future dropped before it
/// completes (the losing branch of a `select!`, a timeout) never corrupts the connection: the peer only
/// ever sees whole, valid frames. What a cancelled call leaves behind:
///
/// | Call | Cancel-safe | When cancelled |
/// |---|---|---|
/// | [`recv`](Self::recv), [`poll_recv`](Self::poll_recv), `Stream::poll_next`, [`ReadHalf::recv`](crate::ReadHalf::recv), the read half's `Stream` | yes | Nothing is lost: bytes read stay in the connection's buffer and a message leaves it only in the poll that returns it. Call again to go on. |
/// | [`recv_with`](Self::recv_with), [`recv_with_reply`](Self::recv_with_reply), [`ReadHalf::recv_with`](crate::ReadHalf::recv_with) | yes | The same: `f` runs only in the poll that completes the call. Output written while waiting for room stays written. |
/// | [`feed`](Self::feed), [`WriteHalf::feed`](crate::WriteHalf::feed) | yes, as tokio's `mpsc::Sender::send` | The message was not queued, and is dropped with the future: a message is queued whole, in the poll that completes the call, or not at all. To keep it, wait with `Sink::poll_ready` and then queue it with `Sink::start_send`. |
/// | [`send`](Self::send), [`WriteHalf::send`](crate::WriteHalf::send) | no | Either the message was not queued (dropped, as for `feed`), or it was queued whole and goes out with the next flush, receive or send; the caller cannot tell which. Use `feed` and then `flush` to know. |
/// | [`flush`](Self::flush), [`WriteHalf::flush`](crate::WriteHalf::flush), `Sink::poll_flush` | yes | What was written stays written; call again to write the rest. |
/// | [`close`](Self::close) | no | Its first poll queues the close frame, so calling `close` again fails with [`Error::Closed`]. Finish the close handshake by receiving until `None` (or stop there: the close frame goes out with the next flush or receive). |
/// | [`WriteHalf::close`](crate::WriteHalf::close) | no | As `close`: the close frame is queued; finish with [`WriteHalf::flush`](crate::WriteHalf::flush), or let the read half's receiving send it. |
/// | `Sink::poll_ready`, `start_send`, `poll_close` (socket and write half) | yes | Poll methods with no future of their own; `poll_close` queues the close frame once and can be called again. |
///
/// `crates/wslane-tokio/tests/cancel.rs` holds these promises to account: every receive call raced against
/// a timer while the peer trickles messages in, a few bytes at a time (every message arrives whole and in
/// order); `send` and `feed` raced against a timer while the peer reads nothing (the peer then reads only
/// whole frames: every completed send, no cancelled `feed`); `flush` and `close` cancelled and resumed.
pub struct WebSocket<S, R: Runtime> {
    /// `None` once an abort dropped it.
    io: Option<S>,
    pub(crate) conn: Connection,
    timer: R::Timer,
    armed: Option<Instant>,
    epoch: std::time::Instant,
    /// Bytes were written since the last transport flush.
    unflushed: bool,
    phase: Phase,
    transport_closed: bool,
    /// Every task waiting for the transport to take output. The transport keeps one write waker; it is
    /// given this set, so the reader half's flush never steals the writer half's wake-up.
    write_wakers: WakerGroup,
    /// Shared with every [`AbortHandle`] of this socket.
    abort: Arc<abort::Shared>,
    /// The abort was carried out: the transport is gone.
    aborted: bool,
    /// The receive side has returned [`Error::Aborted`] (after that it returns the end).
    abort_reported: bool,
    /// Every task waiting for the connection's timer, for the same reason: a writer blocked on a full
    /// transport polls the timer too (for the write timeout), and must not steal the reader's wake-up.
    timer_wakers: WakerGroup,
    /// The task that last joined `timer_wakers` for the armed deadline, and the group's wake count then.
    timer_waiting: Option<(Waker, usize)>,
    /// The task last registered with the abort handles as the receiver.
    reader_registered: Option<Waker>,
}

/// The most slices one vectored write takes (frames and received payloads alternate).
const WRITE_PIECES: usize = 64;

/// The slices of a usual write: a frame, a payload sent on from the receive buffer, the frames after it.
/// The arrays of slices are made for every write; making two of [`WRITE_PIECES`] cost a 16 KiB echo
/// about 500 instructions a message (`docs/performance-notes.md`).
const FEW_PIECES: usize = 4;

/// Where the stream is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Open,
    /// Writing what is left and closing the transport, until the deadline.
    Ending(std::time::Instant),
    Done,
}

impl<S, R: Runtime> core::fmt::Debug for WebSocket<S, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WebSocket")
            .field("conn", &self.conn)
            .field("phase", &self.phase)
            .finish_non_exhaustive()
    }
}

impl<S: Unpin, R: Transport<S>> WebSocket<S, R> {
    /// Drives `conn`, an established connection, over `io`. The connection's clock starts here: create it
    /// with [`Instant::ZERO`](wslane::Instant::ZERO) as its `now` (the instants this socket passes to it
    /// count from this call, on the runtime's clock).
    pub fn new(io: S, conn: Connection) -> WebSocket<S, R> {
        WebSocket {
            io: Some(io),
            conn,
            armed: None,
            epoch: R::now(),
            timer: R::timer(),
            unflushed: false,
            phase: Phase::Open,
            transport_closed: false,
            write_wakers: WakerGroup::default(),
            abort: Arc::default(),
            aborted: false,
            abort_reported: false,
            timer_wakers: WakerGroup::default(),
            timer_waiting: None,
            reader_registered: None,
        }
    }

    /// The connection, for its state and settings.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The transport; `None` once an [abort](AbortHandle) dropped it.
    pub fn get_ref(&self) -> Option<&S> {
        self.io.as_ref()
    }

    /// A handle that aborts this socket from any task, even while another task waits in `feed`, `send`,
    /// `flush` or `recv`: see [`AbortHandle`].
    pub fn abort_handle(&self) -> AbortHandle {
        AbortHandle::new(Arc::clone(&self.abort))
    }

    /// Queues `message` without waiting, or hands it back in [`TrySendError::Full`] when the output is
    /// at [`Config::max_output_buffer`](wslane::Config::max_output_buffer): the status uWS's `send`
    /// returns, for a broadcaster that must not wait on one slow peer. Other failures (the connection is
    /// closing, aborted) are [`TrySendError::Failed`].
    ///
    /// This writes nothing itself: the message goes out with the next [`flush`](Self::flush), `send`, or
    /// receive (a task waiting in [`recv`](Self::recv) is woken to write it). The output level is
    /// [`connection().buffered_output()`](wslane::Connection::buffered_output).
    ///
    /// ```no_run
    /// # fn broadcast<S: Unpin, R: wslane_async::Transport<S>>(
    /// #     sockets: &mut Vec<wslane_async::WriteHalf<S, R>>,
    /// #     line: &str,
    /// # ) {
    /// use wslane::{CloseCode, Message};
    /// use wslane_async::TrySendError;
    ///
    /// sockets.retain_mut(|ws| match ws.try_send(Message::text(line)) {
    ///     Ok(()) => true,
    ///     Err(TrySendError::Full(_)) => {
    ///         ws.abort_handle().abort(CloseCode::TRY_AGAIN_LATER, "too slow");
    ///         false
    ///     }
    ///     Err(_) => false, // closing or aborted
    /// });
    /// # }
    /// ```
    pub fn try_send(&mut self, message: Message) -> Result<(), TrySendError> {
        // No task to register: a task waiting on this socket is woken by the abort handle itself.
        if self.aborted || self.abort.was_asked() {
            let waker = self.write_wakers.waker().clone();
            if let Err(err) = self.check_abort(&Context::from_waker(&waker), None) {
                return Err(TrySendError::Failed(err));
            }
        }
        // A data message is taken (its payload not copied) when the output has room: the one refusal
        // that hands the message back cannot happen then.
        let data = matches!(message, Message::Text(_) | Message::Binary(_));
        let result = if data && !self.conn.is_output_full() {
            self.conn.send_owned(message)
        } else {
            match self.conn.send(&message) {
                Err(wslane::SendError::BufferFull) => return Err(TrySendError::Full(message)),
                result => result,
            }
        };
        match result {
            Ok(()) => {
                self.abort.wake_reader();
                Ok(())
            }
            Err(err) => Err(TrySendError::Failed(err.into())),
        }
    }

    /// Queues a [`PreparedMessage`] without waiting, as [`try_send`](Self::try_send) does an owned message:
    /// on a server, a reference to the message's shared frame, written from there (no copy, no allocation;
    /// see [`wslane::prepared`]). [`TrySendPreparedError::Full`] when the output is full (nothing queued).
    ///
    /// ```
    /// # async fn publish<S: Unpin, R: wslane_async::Transport<S>>(
    /// #     sockets: &mut Vec<wslane_async::WebSocket<S, R>>,
    /// # ) {
    /// use wslane::PreparedMessage;
    ///
    /// let message = PreparedMessage::text("tick");
    /// sockets.retain_mut(|ws| ws.try_send_prepared(&message).is_ok());
    /// # }
    /// ```
    pub fn try_send_prepared(
        &mut self,
        message: &PreparedMessage,
    ) -> Result<(), TrySendPreparedError> {
        if self.aborted || self.abort.was_asked() {
            let waker = self.write_wakers.waker().clone();
            if let Err(err) = self.check_abort(&Context::from_waker(&waker), None) {
                return Err(TrySendPreparedError::Failed(err));
            }
        }
        match self.conn.send_prepared(message) {
            Ok(()) => {
                self.abort.wake_reader();
                Ok(())
            }
            Err(wslane::SendError::BufferFull) => Err(TrySendPreparedError::Full),
            Err(err) => Err(TrySendPreparedError::Failed(err.into())),
        }
    }

    /// Registers this poll's task for `side` (when given) with the abort handles, and carries out an
    /// abort: a best-effort close frame, one try to write it and close the transport, and the transport
    /// dropped. `Err(Error::Aborted)` once aborted.
    fn check_abort(&mut self, cx: &Context<'_>, side: Option<Side>) -> Result<(), Error> {
        if self.aborted {
            return Err(Error::Aborted);
        }
        let reading = matches!(side, Some(Side::Read));
        if reading
            && !self.abort.was_asked()
            && self
                .reader_registered
                .as_ref()
                .is_some_and(|task| task.will_wake(cx.waker()))
        {
            // Registered already, and no abort asked for: no lock needed.
            self.abort.reader_polled();
            return Ok(());
        }
        let (code, reason) = match self.abort.check(side, cx.waker()) {
            Check::Running => {
                if reading {
                    self.reader_registered = Some(cx.waker().clone());
                }
                return Ok(());
            }
            Check::Abort(code, reason) => (code, reason),
            Check::Aborted => (CloseCode::GOING_AWAY, std::string::String::new()),
        };
        self.aborted = true;
        self.abort_reported = self.phase == Phase::Done;
        self.phase = Phase::Done;
        if self.io.is_some() && !self.transport_closed {
            let mut cx = Context::from_waker(cx.waker());
            if self.conn.state().can_send()
                && !self.conn.is_output_full()
                && self.conn.sender().close(code, &reason).is_ok()
            {
                let _ = self.poll_write_queued(&mut cx, &mut None);
            }
            if let Some(io) = self.io.as_mut() {
                let _ = R::poll_close(Pin::new(io), &mut cx);
            }
        }
        self.io = None;
        self.transport_closed = true;
        // Whoever waits on the transport's write side.
        self.write_wakers.wake();
        Err(Error::Aborted)
    }

    /// The receive side's abort check: [`Error::Aborted`] once, then the end.
    fn poll_read_aborted<O>(&mut self, cx: &Context<'_>) -> Option<Poll<Option<Result<O, Error>>>> {
        let err = self.check_abort(cx, Some(Side::Read)).err()?;
        if self.abort_reported {
            return Some(Poll::Ready(None));
        }
        self.abort_reported = true;
        Some(Poll::Ready(Some(Err(err))))
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

    /// Receives the next event and hands it, borrowed, to `f` together with the connection's [`Sender`],
    /// so a reply can be queued straight from the received payload: no copy into an owned message, no
    /// allocation. Waits first while the output buffer is full (backpressure, as [`feed`](Self::feed)
    /// does), so a reply queued from `f` always finds room. Replies go out, with everything else queued,
    /// when the received input runs dry.
    ///
    /// ```no_run
    /// # async fn echo<S: Unpin, R: wslane_async::Transport<S>>(
    /// #     mut ws: wslane_async::WebSocket<S, R>,
    /// # ) -> Result<(), wslane_async::Error> {
    /// use wslane::Event;
    ///
    /// while let Some(result) = ws
    ///     .recv_with_reply(|event, sender| match event {
    ///         Event::Text(text) => sender.send_text(text),
    ///         Event::Binary(data) => sender.send_binary(data),
    ///         _ => Ok(()),
    ///     })
    ///     .await
    /// {
    ///     result??;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn recv_with_reply<F, O>(&mut self, mut f: F) -> Option<Result<O, Error>>
    where
        F: FnMut(Event<'_>, &mut Sender<'_>) -> O,
    {
        poll_fn(|cx| {
            if let Some(aborted) = self.poll_read_aborted(cx) {
                return aborted;
            }
            if self.phase == Phase::Open {
                if let Err(err) = core::task::ready!(self.poll_room(cx)) {
                    return self.transport_failed(err);
                }
            }
            self.poll_next_event(cx, &mut f)
        })
        .await
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
        self.poll_next_event(cx, &mut |event, _: &mut Sender<'_>| f(event))
    }

    /// Writes queued output while the output buffer is full.
    fn poll_room(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        while self.conn.is_output_full() {
            core::task::ready!(self.poll_write_queued(cx, &mut None))?;
        }
        Poll::Ready(Ok(()))
    }

    /// The receive loop: hands the next event and the sender to `f`.
    fn poll_next_event<F, O>(
        &mut self,
        cx: &mut Context<'_>,
        f: &mut F,
    ) -> Poll<Option<Result<O, Error>>>
    where
        F: FnMut(Event<'_>, &mut Sender<'_>) -> O,
    {
        if let Some(aborted) = self.poll_read_aborted(cx) {
            return aborted;
        }
        loop {
            let mut turn = None;
            match self.phase {
                Phase::Open => {}
                Phase::Ending(deadline) => return self.poll_ending(cx, deadline).map(|()| None),
                Phase::Done => return Poll::Ready(None),
            }
            match self.conn.poll_event_with(&mut *f) {
                Ok(Some(output)) => return Poll::Ready(Some(Ok(output))),
                Ok(None) => {}
                Err(err) => {
                    // The close frame is queued: report the error now; the next polls deliver the close
                    // frame and close the transport.
                    self.begin_ending(cx);
                    return Poll::Ready(Some(Err(err.into())));
                }
            }
            // The received input is used up: before waiting for more, write out everything queued (replies
            // fed while handling that input, pongs, a close reply) in as few writes as possible. A full
            // transport must not stop reading, so this is best effort.
            if let Poll::Ready(Err(err)) = self.poll_flush_queued(cx, &mut turn) {
                return self.transport_failed(err);
            }
            if self.conn.should_close_transport() {
                self.begin_ending(cx);
                continue;
            }
            if self.poll_timers(cx, &mut turn).is_ready() {
                continue;
            }
            let buf = self.conn.read_buffer(1);
            let io = match transport(&mut self.io) {
                Ok(io) => io,
                Err(err) => return self.transport_failed(err),
            };
            match R::poll_read(io, cx, buf) {
                Poll::Ready(Ok(0)) => {
                    let now = self.now(&mut turn);
                    self.conn.handle_eof(now);
                }
                Poll::Ready(Ok(n)) => {
                    let now = self.now(&mut turn);
                    self.conn.handle_read(now, n);
                }
                Poll::Ready(Err(err)) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(err)) => return self.transport_failed(err),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// The transport failed. Once the close handshake is done (a peer may reset the connection right
    /// after its close frame, as browsers do), that is the end, not an error.
    fn transport_failed<O>(&mut self, err: std::io::Error) -> Poll<Option<Result<O, Error>>> {
        self.phase = Phase::Done;
        if self.conn.state() == State::Closed {
            Poll::Ready(None)
        } else {
            Poll::Ready(Some(Err(err.into())))
        }
    }

    /// Starts writing what is left and closing the transport, bounded by the close timeout.
    fn begin_ending(&mut self, cx: &mut Context<'_>) {
        let deadline = R::now() + self.conn.config().close_timeout;
        self.timer.reset(deadline);
        self.armed = None;
        self.phase = Phase::Ending(deadline);
        // Most of the time the transport takes it all at once.
        let _ = self.poll_ending(cx, deadline);
    }

    /// Drives the ending; ready when the transport is closed, failed, or the deadline passed.
    fn poll_ending(&mut self, cx: &mut Context<'_>, deadline: std::time::Instant) -> Poll<()> {
        let finished = match self.poll_shutdown(cx) {
            Poll::Ready(_) => true,
            Poll::Pending => R::now() >= deadline || self.timer.poll_expired(cx).is_ready(),
        };
        if finished {
            self.phase = Phase::Done;
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// Fires the connection's timer when due and arms the runtime's timer for the next deadline.
    /// Ready when a timeout was handled (so there may be new work).
    pub(crate) fn poll_timers(
        &mut self,
        cx: &mut Context<'_>,
        turn: &mut Option<Instant>,
    ) -> Poll<()> {
        let Some(deadline) = self.conn.poll_timeout() else {
            self.armed = None;
            return Poll::Pending;
        };
        let now = self.now(turn);
        if deadline <= now {
            self.conn.handle_timeout(now);
            return Poll::Ready(());
        }
        if self.armed != Some(deadline) {
            self.timer
                .reset(self.epoch + deadline.elapsed_since_epoch());
            self.armed = Some(deadline);
            self.timer_waiting = None;
        }
        // The same task polling again for the same deadline, with no wake-up since it joined the timer's
        // group, is still registered: polling the timer again would only register it again.
        if let Some((task, wakes)) = &self.timer_waiting {
            if *wakes == self.timer_wakers.wakes() && task.will_wake(cx.waker()) {
                return Poll::Pending;
            }
        }
        let wakes = self.timer_wakers.wakes();
        let timer = &mut self.timer;
        match self.timer_wakers.poll(cx, |cx| timer.poll_expired(cx)) {
            Poll::Pending => {
                self.timer_waiting = Some((cx.waker().clone(), wakes));
                Poll::Pending
            }
            Poll::Ready(()) => {
                // Trust the clock, not the timer: handle_timeout ignores an early call.
                self.armed = None;
                let now = self.clock();
                self.conn.handle_timeout(now);
                Poll::Ready(())
            }
        }
    }

    /// The connection's time now, read from the runtime's clock.
    fn clock(&self) -> Instant {
        Instant::from_duration(R::now().saturating_duration_since(self.epoch))
    }

    /// The time of `turn`: read from the clock once, when first needed, and shared by everything the turn
    /// does without waiting (a turn of the receive loop writes, checks the timers and reads at one
    /// instant, rather than reading the clock three times a message).
    fn now(&self, turn: &mut Option<Instant>) -> Instant {
        *turn.get_or_insert_with(|| self.clock())
    }

    /// Writes queued output until none is left or the transport would block. While it blocks, the
    /// connection's timers still run: a timeout that fails the connection (the write timeout above all)
    /// ends the wait with the connection's error, inside an [`std::io::ErrorKind::TimedOut`] error
    /// (converted back by `Error::from`), and starts closing the transport.
    pub(crate) fn poll_write_queued(
        &mut self,
        cx: &mut Context<'_>,
        turn: &mut Option<Instant>,
    ) -> Poll<std::io::Result<()>> {
        loop {
            // Frames and the payloads sent on from the receive buffer, written together without copying.
            let Some(written) = write_pieces::<S, R, FEW_PIECES>(
                &mut self.conn,
                &mut self.io,
                &self.write_wakers,
                cx,
            ) else {
                return Poll::Ready(Ok(()));
            };
            match written {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()))
                }
                Poll::Ready(Ok(n)) => {
                    let now = self.now(turn);
                    self.conn.advance_transmit(now, n);
                    self.unflushed = true;
                }
                Poll::Ready(Err(err)) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                Poll::Pending => {
                    if self.poll_timers(cx, turn).is_pending() {
                        return Poll::Pending;
                    }
                    if let Some(err) = self.failed_while_writing(cx) {
                        return Poll::Ready(Err(err));
                    }
                }
            }
        }
    }

    /// Writes all queued output and flushes the transport, for a sending call: fails once aborted.
    pub(crate) fn poll_flush_all(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.check_abort(cx, Some(Side::Write))?;
        self.poll_flush_queued(cx, &mut None).map_err(Error::from)
    }

    /// After a timeout fired while the transport would not take output: if it failed the connection,
    /// takes the connection's error and starts closing the transport (the output is dropped after a
    /// write timeout, so the close is not held up by it).
    fn failed_while_writing(&mut self, cx: &mut Context<'_>) -> Option<std::io::Error> {
        if self.phase != Phase::Open || self.conn.state() != State::Failed {
            return None;
        }
        let err = self.conn.poll_event().err()?;
        self.begin_ending(cx);
        Some(std::io::Error::new(std::io::ErrorKind::TimedOut, err))
    }

    /// Writes all queued output and flushes the transport.
    fn poll_flush_queued(
        &mut self,
        cx: &mut Context<'_>,
        turn: &mut Option<Instant>,
    ) -> Poll<std::io::Result<()>> {
        if let Err(err) = core::task::ready!(self.poll_write_queued(cx, turn)) {
            return Poll::Ready(Err(err));
        }
        if self.unflushed {
            let mut io = transport(&mut self.io)?;
            core::task::ready!(self
                .write_wakers
                .poll(cx, |cx| R::poll_flush(io.as_mut(), cx)))?;
            self.unflushed = false;
        }
        Poll::Ready(Ok(()))
    }

    /// Flushes what is queued, then closes the transport (once).
    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        if self.transport_closed {
            return Poll::Ready(Ok(()));
        }
        core::task::ready!(self.poll_flush_queued(cx, &mut None))?;
        core::task::ready!(R::poll_close(transport(&mut self.io)?, cx))?;
        self.transport_closed = true;
        Poll::Ready(Ok(()))
    }

    /// Queues `message` without flushing, waiting first while the output buffer is full (backpressure).
    /// Flush with [`flush`](Self::flush), or use [`send`](Self::send) for both. A data payload of 2 KiB
    /// or more is written from the message's own allocation, not copied (see
    /// [`Connection::send_owned`](wslane::Connection::send_owned)).
    pub async fn feed(&mut self, message: Message) -> Result<(), Error> {
        poll_fn(|cx| self.poll_ready_to_send(cx)).await?;
        self.queue(message)
    }

    /// Queues `message` and flushes it to the transport.
    pub async fn send(&mut self, message: Message) -> Result<(), Error> {
        self.feed(message).await?;
        self.flush().await
    }

    /// Queues a [`PreparedMessage`] without flushing, waiting first while the output buffer is full, as
    /// [`feed`](Self::feed). Cancel-safe as `feed`: queued whole in the poll that completes, or not at all.
    pub async fn feed_prepared(&mut self, message: &PreparedMessage) -> Result<(), Error> {
        poll_fn(|cx| self.poll_ready_to_send(cx)).await?;
        Ok(self.conn.send_prepared(message)?)
    }

    /// Queues a [`PreparedMessage`] and flushes it to the transport.
    pub async fn send_prepared(&mut self, message: &PreparedMessage) -> Result<(), Error> {
        self.feed_prepared(message).await?;
        self.flush().await
    }

    /// Writes everything queued to the transport and flushes it.
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.poll_flush_all(cx)).await
    }

    /// Runs the close handshake: sends a close frame, then reads (dropping data messages) until the peer's
    /// close arrives and the transport is closed, or the close timeout passes.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.conn.sender().close(code, reason)?;
        self.flush().await?;
        while let Some(result) = self.recv_with(|_| ()).await {
            result?;
        }
        Ok(())
    }

    /// Waits while the output buffer is at its limit, writing it out.
    pub(crate) fn poll_ready_to_send(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.check_abort(cx, Some(Side::Write))?;
        if let Err(err) = core::task::ready!(self.poll_room(cx)) {
            return Poll::Ready(Err(err.into()));
        }
        if !self.conn.state().can_send() {
            return Poll::Ready(Err(Error::Closed));
        }
        Poll::Ready(Ok(()))
    }

    /// Queues a message on the connection.
    pub(crate) fn queue(&mut self, message: Message) -> Result<(), Error> {
        Ok(self.conn.send_owned(message)?)
    }
}

/// Writes queued pieces with one write, from an array of `N` slices made for this write (a small one
/// costs less to make); `None` when nothing is queued. When the array is full and smaller than
/// [`WRITE_PIECES`], more may be queued: the write is made from an array of that size instead.
///
/// Several pieces go out with one vectored write (`writev`); a single piece, the common case for small
/// messages, with a plain write, which Linux takes on a shorter path (`send` rather than `writev`: about
/// 0.2 µs less system time per write on a loopback socket).
fn write_pieces<S: Unpin, R: Transport<S>, const N: usize>(
    conn: &mut Connection,
    io: &mut Option<S>,
    wakers: &WakerGroup,
    cx: &Context<'_>,
) -> Option<Poll<std::io::Result<usize>>> {
    let mut pieces = [&[][..]; N];
    let count = conn.poll_transmit_vectored(&mut pieces);
    if count == 0 {
        return None;
    }
    if count == N && N < WRITE_PIECES {
        return write_pieces::<S, R, WRITE_PIECES>(conn, io, wakers, cx);
    }
    let mut io = match transport(io) {
        Ok(io) => io,
        Err(err) => return Some(Poll::Ready(Err(err))),
    };
    if count == 1 {
        let piece = pieces[0];
        return Some(wakers.poll(cx, |cx| R::poll_write(io.as_mut(), cx, piece)));
    }
    let mut slices = [std::io::IoSlice::new(&[]); N];
    for (slice, piece) in slices.iter_mut().zip(&pieces[..count]) {
        *slice = std::io::IoSlice::new(piece);
    }
    Some(wakers.poll(cx, |cx| {
        R::poll_write_vectored(io.as_mut(), cx, &slices[..count])
    }))
}

/// The transport, unless an abort dropped it.
fn transport<S: Unpin>(io: &mut Option<S>) -> std::io::Result<Pin<&mut S>> {
    io.as_mut()
        .map(Pin::new)
        .ok_or_else(|| std::io::ErrorKind::NotConnected.into())
}

impl<S: Unpin, R: Transport<S>> Stream for WebSocket<S, R> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_recv(cx)
    }
}
