//! `Sink<Message>` for [`WebSocket`]: queueing is separate from flushing, so many messages go out in one
//! write.

use core::pin::Pin;
use core::task::{Context, Poll};

use futures_sink::Sink;

use crate::runtime::Transport;
use crate::{Error, WebSocket};
use wslane::CloseCode;
use wslane::Message;

impl<S: Unpin, R: Transport<S>> Sink<Message> for WebSocket<S, R> {
    type Error = Error;

    /// Ready while the output buffer is below its limit; otherwise writes it out first.
    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().poll_ready_to_send(cx)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        self.get_mut().queue(message)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().poll_flush_all(cx).map_err(Error::from)
    }

    /// Sends a normal close (unless one was sent already) and flushes. Keep reading the stream to see the
    /// peer's close and the end of the connection.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        if this.conn.state().can_send() {
            this.conn.sender().close(CloseCode::NORMAL, "")?;
        }
        this.poll_flush_all(cx).map_err(Error::from)
    }
}
