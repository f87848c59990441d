//! Commands: messages, control frames and the close, encoded into the transmit buffer.

use super::state::Transition;
use super::Connection;
use crate::close::{CloseCode, MAX_REASON_LEN};
use crate::error::SendError;
use crate::frame::{FrameHeader, OpCode, MAX_CONTROL_PAYLOAD};

impl Connection {
    /// Queues a text message.
    pub fn send_text(&mut self, text: &str) -> Result<(), SendError> {
        self.send_message(OpCode::Text, text.as_bytes())
    }

    /// Queues a binary message.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), SendError> {
        self.send_message(OpCode::Binary, data)
    }

    /// Queues a message without passing it through the negotiated extension (for example, to send
    /// already-compressed data uncompressed). `opcode` is [`OpCode::Text`] or [`OpCode::Binary`].
    ///
    /// Text must be valid UTF-8; that is the caller's promise (use [`send_text`](Self::send_text) to have
    /// the type system keep it).
    pub fn send_raw(&mut self, opcode: OpCode, data: &[u8]) -> Result<(), SendError> {
        self.check_data_send(opcode)?;
        self.write_data(opcode, 0, data);
        Ok(())
    }

    /// Queues one piece of a message sent in pieces: the first call starts a message of type `opcode`
    /// ([`OpCode::Text`] or [`OpCode::Binary`]), later calls with the same opcode continue it, and `fin`
    /// ends it. Other messages cannot be sent in between; control frames can. Pieces bypass the extension.
    pub fn send_fragment(
        &mut self,
        opcode: OpCode,
        data: &[u8],
        fin: bool,
    ) -> Result<(), SendError> {
        if !self.state.can_send() {
            return Err(SendError::Closed);
        }
        if !matches!(opcode, OpCode::Text | OpCode::Binary) {
            return Err(SendError::NoMessageInProgress);
        }
        let frame_opcode = match self.sending {
            Some(current) if current != opcode => return Err(SendError::MessageInProgress),
            Some(_) => OpCode::Continuation,
            None => opcode,
        };
        self.check_room()?;
        let header = self.header(frame_opcode, fin, 0, data.len() as u64);
        self.tx.push_frame(&header, data);
        self.sending = if fin { None } else { Some(opcode) };
        Ok(())
    }

    /// Queues a ping (payload at most 125 bytes).
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), SendError> {
        self.send_control(OpCode::Ping, payload)
    }

    /// Queues a pong (payload at most 125 bytes); unsolicited pongs serve as a one-way heartbeat.
    pub fn pong(&mut self, payload: &[u8]) -> Result<(), SendError> {
        self.send_control(OpCode::Pong, payload)
    }

    /// Starts the close handshake: queues a close frame with `code` and `reason` (at most 123 bytes).
    /// Afterwards nothing more can be sent; received data is still delivered until the peer's close.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), SendError> {
        if !self.state.can_send() {
            return Err(SendError::Closed);
        }
        if !code.is_sendable() {
            return Err(SendError::InvalidCloseCode(code.get()));
        }
        if reason.len() > MAX_REASON_LEN {
            return Err(SendError::ControlTooLong);
        }
        let mut body = [0; MAX_CONTROL_PAYLOAD];
        body[..2].copy_from_slice(&code.get().to_be_bytes());
        body[2..2 + reason.len()].copy_from_slice(reason.as_bytes());
        // A pong held back for lack of room goes first: the close stays the last frame we send.
        self.release_held_pong();
        self.write_control(OpCode::Close, &body[..2 + reason.len()]);
        self.state = self.state.next(Transition::CloseSent);
        Ok(())
    }

    fn send_message(&mut self, opcode: OpCode, data: &[u8]) -> Result<(), SendError> {
        self.check_data_send(opcode)?;
        let Some(extension) = self.extension.as_mut() else {
            self.write_data(opcode, 0, data);
            return Ok(());
        };
        let mut encoded = core::mem::take(&mut self.encoded);
        encoded.clear();
        let result = extension.encode(opcode, data, &mut encoded);
        match result {
            Ok(Some(rsv)) => self.write_data(opcode, rsv, &encoded),
            Ok(None) => self.write_data(opcode, 0, data),
            Err(_) => {}
        }
        self.encoded = encoded;
        result.map(|_| ())
    }

    fn check_data_send(&self, opcode: OpCode) -> Result<(), SendError> {
        if !self.state.can_send() {
            return Err(SendError::Closed);
        }
        if self.sending.is_some() {
            return Err(SendError::MessageInProgress);
        }
        if !matches!(opcode, OpCode::Text | OpCode::Binary) {
            return Err(SendError::NoMessageInProgress);
        }
        self.check_room()
    }

    fn check_room(&self) -> Result<(), SendError> {
        if self.is_output_full() {
            Err(SendError::BufferFull)
        } else {
            Ok(())
        }
    }

    fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), SendError> {
        if !self.state.can_send() {
            return Err(SendError::Closed);
        }
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(SendError::ControlTooLong);
        }
        self.check_room()?;
        self.write_control(opcode, payload);
        Ok(())
    }

    /// Writes a whole message as one or more frames of at most `fragment_size` payload bytes.
    fn write_data(&mut self, opcode: OpCode, rsv: u8, payload: &[u8]) {
        let size = self.config.fragment_size.unwrap_or(usize::MAX).max(1);
        let mut chunks = payload.chunks(size);
        let mut frame_opcode = opcode;
        let mut frame_rsv = rsv;
        let mut next = chunks.next();
        loop {
            let chunk = next.unwrap_or(&[]);
            next = chunks.next();
            let header = self.header(frame_opcode, next.is_none(), frame_rsv, chunk.len() as u64);
            self.tx.push_frame(&header, chunk);
            if next.is_none() {
                return;
            }
            frame_opcode = OpCode::Continuation;
            frame_rsv = 0;
        }
    }

    /// Writes a control frame (payload already checked to fit).
    pub(super) fn write_control(&mut self, opcode: OpCode, payload: &[u8]) {
        let header = self.header(opcode, true, 0, payload.len() as u64);
        self.tx.push_frame(&header, payload);
    }

    /// Answers a ping: at once while the output has room, otherwise by holding only the latest pong
    /// (RFC 6455 section 5.5.3 allows answering just the most recent ping), so a peer that pings without
    /// reading cannot grow the output without bound.
    ///
    /// RFC 6455 section 5.5.2: a ping is answered unless a close was received, so also after ours.
    pub(super) fn answer_ping(&mut self, payload: &[u8]) {
        if !self.state.can_receive() {
            return;
        }
        if !self.is_output_full() {
            self.write_control(OpCode::Pong, payload);
        } else {
            let mut held = [0; MAX_CONTROL_PAYLOAD];
            let len = payload.len().min(MAX_CONTROL_PAYLOAD);
            held[..len].copy_from_slice(&payload[..len]);
            self.held_pong = Some((held, len as u8));
        }
    }

    /// Writes the held pong, if any.
    pub(super) fn release_held_pong(&mut self) {
        if let Some((payload, len)) = self.held_pong.take() {
            self.write_control(OpCode::Pong, &payload[..usize::from(len)]);
        }
    }

    /// A frame header for this role: clients mask with a fresh key.
    pub(super) fn header(&mut self, opcode: OpCode, fin: bool, rsv: u8, len: u64) -> FrameHeader {
        FrameHeader {
            fin,
            rsv,
            opcode,
            mask: self.keys.as_mut().map(|keys| keys.next_key()),
            payload_len: len,
        }
    }
}
