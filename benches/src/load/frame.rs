//! Client frames built once per scenario, and a streaming reader of the server's frames.
//!
//! The reader does not keep payloads: it counts whole messages, checks the opcode and the total length of
//! each against what was sent, and compares a sample of payloads byte for byte, as they stream past.

use std::fmt;

/// Opcode of a continuation frame.
pub const OP_CONTINUATION: u8 = 0x0;
/// Opcode of a text frame.
pub const OP_TEXT: u8 = 0x1;
/// Opcode of a binary frame.
pub const OP_BINARY: u8 = 0x2;
/// Opcode of a close frame.
pub const OP_CLOSE: u8 = 0x8;
/// Opcode of a ping frame.
pub const OP_PING: u8 = 0x9;
/// Opcode of a pong frame.
pub const OP_PONG: u8 = 0xA;

/// One payload in `VERIFY_EVERY` is compared with what was sent (the first one of every connection included).
pub const VERIFY_EVERY: u64 = 16;

/// The masking key of every frame the tool sends. It is fixed so that frames can be built once; it is not
/// zero, so servers really unmask.
pub const MASK_KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A final, masked client frame with this opcode and payload.
#[must_use]
pub fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(payload.len() + 14);
    frame.push(0x80 | opcode);
    let len = payload.len();
    if len < 126 {
        frame.push(0x80 | len as u8);
    } else if len <= usize::from(u16::MAX) {
        frame.push(0x80 | 126);
        frame.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        frame.push(0x80 | 127);
        frame.extend_from_slice(&(len as u64).to_be_bytes());
    }
    frame.extend_from_slice(&MASK_KEY);
    frame.extend(
        payload
            .iter()
            .zip(MASK_KEY.iter().cycle())
            .map(|(byte, key)| byte ^ key),
    );
    frame
}

/// A masked close frame with status code 1000 (normal closure).
#[must_use]
pub fn close_frame() -> Vec<u8> {
    client_frame(OP_CLOSE, &1000u16.to_be_bytes())
}

/// What the server must send back: data messages of this opcode and payload.
#[derive(Clone, Copy, Debug)]
pub struct Expect<'a> {
    /// Opcode of every data message ([`OP_TEXT`] or [`OP_BINARY`]).
    pub opcode: u8,
    /// The payload of every data message.
    pub payload: &'a [u8],
}

/// A server frame or message that is not the echo that was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The server masked a frame.
    Masked,
    /// A reserved bit is set although no extension was negotiated.
    Reserved(u8),
    /// An opcode that does not belong here.
    Opcode(u8),
    /// A message with another opcode than the one sent.
    WrongOpcode {
        /// The opcode received.
        got: u8,
        /// The opcode sent.
        sent: u8,
    },
    /// A message of another length than the one sent.
    WrongLength {
        /// The length received (so far, when it is already too long).
        got: u64,
        /// The length sent.
        sent: u64,
    },
    /// A sampled payload differs from the one sent at this offset.
    WrongPayload(u64),
    /// A control frame that is fragmented or longer than 125 bytes.
    BadControl,
    /// A data message arrived after the server's close frame.
    AfterClose,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Masked => write!(f, "the server sent a masked frame"),
            FrameError::Reserved(bits) => write!(f, "reserved bits {bits:#x} set"),
            FrameError::Opcode(op) => write!(f, "unexpected opcode {op:#x}"),
            FrameError::WrongOpcode { got, sent } => {
                write!(f, "echo has opcode {got:#x}, sent {sent:#x}")
            }
            FrameError::WrongLength { got, sent } => {
                write!(f, "echo is {got} bytes long, sent {sent}")
            }
            FrameError::WrongPayload(at) => write!(f, "echo differs from the message at byte {at}"),
            FrameError::BadControl => write!(f, "malformed control frame"),
            FrameError::AfterClose => write!(f, "data after the close frame"),
        }
    }
}

impl std::error::Error for FrameError {}

/// What one call to [`FrameReader::feed`] found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fed {
    /// Whole data messages completed.
    pub messages: u64,
    /// The server's close frame was completed.
    pub close: bool,
}

/// A streaming reader of unmasked server frames.
#[derive(Clone, Debug)]
pub struct FrameReader {
    header: [u8; 14],
    have: usize,
    /// Payload bytes left in the current frame; `None` while reading a header.
    remaining: Option<u64>,
    frame_opcode: u8,
    frame_fin: bool,
    /// The opcode of the data message being read, 0 between messages.
    message_opcode: u8,
    message_len: u64,
    verify: bool,
    messages: u64,
    closed: bool,
}

impl Default for FrameReader {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameReader {
    /// A reader at the start of a stream.
    #[must_use]
    pub fn new() -> Self {
        Self {
            header: [0; 14],
            have: 0,
            remaining: None,
            frame_opcode: 0,
            frame_fin: false,
            message_opcode: 0,
            message_len: 0,
            verify: false,
            messages: 0,
            closed: false,
        }
    }

    /// Whether the server's close frame has been read.
    #[must_use]
    pub fn closed(&self) -> bool {
        self.closed
    }

    /// Reads `data`, the next bytes of the stream.
    ///
    /// # Errors
    ///
    /// When the stream is not the echo of `expect`.
    pub fn feed(&mut self, mut data: &[u8], expect: &Expect<'_>) -> Result<Fed, FrameError> {
        let mut fed = Fed::default();
        while !data.is_empty() {
            match self.remaining {
                None => {
                    let need = self.header_len();
                    let take = (need - self.have).min(data.len());
                    self.header[self.have..self.have + take].copy_from_slice(&data[..take]);
                    self.have += take;
                    data = &data[take..];
                    // The length byte may tell that more header bytes are needed.
                    if self.have == self.header_len() {
                        self.start_frame(expect)?;
                        if self.remaining == Some(0) {
                            self.end_frame(expect, &mut fed)?;
                        }
                    }
                }
                Some(remaining) => {
                    let take = remaining.min(data.len() as u64) as usize;
                    if self.is_data_frame() {
                        if self.verify {
                            let start = self.message_len as usize;
                            let sent = &expect.payload[start..start + take];
                            if sent != &data[..take] {
                                let at = sent.iter().zip(&data[..take]).take_while(|(a, b)| a == b);
                                return Err(FrameError::WrongPayload(
                                    self.message_len + at.count() as u64,
                                ));
                            }
                        }
                        self.message_len += take as u64;
                    }
                    data = &data[take..];
                    self.remaining = Some(remaining - take as u64);
                    if remaining == take as u64 {
                        self.end_frame(expect, &mut fed)?;
                    }
                }
            }
        }
        Ok(fed)
    }

    fn header_len(&self) -> usize {
        if self.have < 2 {
            return 2;
        }
        let masked = if self.header[1] & 0x80 != 0 { 4 } else { 0 };
        match self.header[1] & 0x7f {
            126 => 4 + masked,
            127 => 10 + masked,
            _ => 2 + masked,
        }
    }

    fn is_data_frame(&self) -> bool {
        self.frame_opcode & 0x8 == 0
    }

    fn start_frame(&mut self, expect: &Expect<'_>) -> Result<(), FrameError> {
        let (b0, b1) = (self.header[0], self.header[1]);
        if b1 & 0x80 != 0 {
            return Err(FrameError::Masked);
        }
        if b0 & 0x70 != 0 {
            return Err(FrameError::Reserved(b0 & 0x70));
        }
        let len = match b1 & 0x7f {
            126 => u64::from(u16::from_be_bytes([self.header[2], self.header[3]])),
            127 => u64::from_be_bytes(self.header[2..10].try_into().expect("eight bytes")),
            len => u64::from(len),
        };
        self.frame_opcode = b0 & 0x0f;
        self.frame_fin = b0 & 0x80 != 0;
        match self.frame_opcode {
            OP_TEXT | OP_BINARY => {
                if self.message_opcode != 0 {
                    return Err(FrameError::Opcode(self.frame_opcode));
                }
                if self.closed {
                    return Err(FrameError::AfterClose);
                }
                if self.frame_opcode != expect.opcode {
                    return Err(FrameError::WrongOpcode {
                        got: self.frame_opcode,
                        sent: expect.opcode,
                    });
                }
                self.message_opcode = self.frame_opcode;
                self.message_len = 0;
                self.verify = self.messages.is_multiple_of(VERIFY_EVERY);
            }
            OP_CONTINUATION => {
                if self.message_opcode == 0 {
                    return Err(FrameError::Opcode(self.frame_opcode));
                }
            }
            OP_CLOSE | OP_PING | OP_PONG => {
                if !self.frame_fin || len > 125 {
                    return Err(FrameError::BadControl);
                }
            }
            op => return Err(FrameError::Opcode(op)),
        }
        if self.is_data_frame() {
            let sent = expect.payload.len() as u64;
            if self.message_len + len > sent {
                return Err(FrameError::WrongLength {
                    got: self.message_len + len,
                    sent,
                });
            }
        }
        self.have = 0;
        self.remaining = Some(len);
        Ok(())
    }

    fn end_frame(&mut self, expect: &Expect<'_>, fed: &mut Fed) -> Result<(), FrameError> {
        self.remaining = None;
        if !self.is_data_frame() {
            if self.frame_opcode == OP_CLOSE {
                self.closed = true;
                fed.close = true;
            }
            return Ok(());
        }
        if self.frame_fin {
            let sent = expect.payload.len() as u64;
            if self.message_len != sent {
                return Err(FrameError::WrongLength {
                    got: self.message_len,
                    sent,
                });
            }
            self.message_opcode = 0;
            self.messages += 1;
            fed.messages += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut frame = vec![u8::from(fin) << 7 | opcode];
        match payload.len() {
            len if len < 126 => frame.push(len as u8),
            len if len <= 0xffff => {
                frame.push(126);
                frame.extend_from_slice(&(len as u16).to_be_bytes());
            }
            len => {
                frame.push(127);
                frame.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        frame.extend_from_slice(payload);
        frame
    }

    #[test]
    fn client_frames_are_masked() {
        let frame = client_frame(OP_BINARY, &[1, 2, 3]);
        assert_eq!(frame[..2], [0x82, 0x83]);
        assert_eq!(frame[2..6], MASK_KEY);
        assert_eq!(frame[6], 1 ^ MASK_KEY[0]);
        assert_eq!(client_frame(OP_TEXT, &[0; 200])[1], 0x80 | 126);
        assert_eq!(client_frame(OP_TEXT, &[0; 70_000])[1], 0x80 | 127);
    }

    #[test]
    fn counts_messages_fed_a_byte_at_a_time() {
        let payload: Vec<u8> = (0..70_000u32).map(|i| (i * 7) as u8).collect();
        let expect = Expect {
            opcode: OP_BINARY,
            payload: &payload,
        };
        let mut wire = server_frame(true, OP_BINARY, &payload);
        wire.extend(server_frame(true, OP_PING, b"hi"));
        wire.extend(server_frame(false, OP_BINARY, &payload[..100]));
        wire.extend(server_frame(true, OP_CONTINUATION, &payload[100..]));
        wire.extend(server_frame(true, OP_CLOSE, &1000u16.to_be_bytes()));
        let mut reader = FrameReader::new();
        let mut total = Fed::default();
        for byte in &wire {
            let fed = reader.feed(std::slice::from_ref(byte), &expect).unwrap();
            total.messages += fed.messages;
            total.close |= fed.close;
        }
        assert_eq!(
            total,
            Fed {
                messages: 2,
                close: true
            }
        );
        let mut reader = FrameReader::new();
        assert_eq!(reader.feed(&wire, &expect).unwrap(), total);
    }

    #[test]
    fn rejects_wrong_echoes() {
        let expect = Expect {
            opcode: OP_TEXT,
            payload: b"hello",
        };
        let feed = |wire: Vec<u8>| FrameReader::new().feed(&wire, &expect);
        assert_eq!(
            feed(server_frame(true, OP_TEXT, b"hellO")),
            Err(FrameError::WrongPayload(4))
        );
        assert!(matches!(
            feed(server_frame(true, OP_TEXT, b"hell")),
            Err(FrameError::WrongLength { got: 4, sent: 5 })
        ));
        assert!(matches!(
            feed(server_frame(true, OP_BINARY, b"hello")),
            Err(FrameError::WrongOpcode { .. })
        ));
        assert_eq!(feed(vec![0x81, 0x85, 0, 0, 0, 0]), Err(FrameError::Masked));
    }
}
