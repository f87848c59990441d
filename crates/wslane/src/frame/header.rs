//! The frame header (RFC 6455 section 5.2).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! |     Extended payload length continued, if payload len == 127  |
//! + - - - - - - - - - - - - - - - +-------------------------------+
//! |                               |Masking-key, if MASK set to 1  |
//! +-------------------------------+-------------------------------+
//! ```

use core::{fmt, ops::Deref};

use super::OpCode;
use crate::error::ProtocolError;

/// The longest header: 2 bytes, a 64-bit length and a masking key.
pub const MAX_HEADER_LEN: usize = 14;

/// A parsed or to-be-encoded frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// FIN: this is the final frame of a message.
    pub fin: bool,
    /// RSV1, RSV2 and RSV3 as the low three bits (`0b100` is RSV1).
    pub rsv: u8,
    /// The opcode.
    pub opcode: OpCode,
    /// The masking key, present on every frame a client sends.
    pub mask: Option<[u8; 4]>,
    /// The payload length.
    pub payload_len: u64,
}

/// The result of parsing a header from the bytes received so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// The header is complete and took `len` bytes.
    Complete {
        /// The header.
        header: FrameHeader,
        /// How many bytes the header took.
        len: usize,
    },
    /// More bytes are needed: at least `needed` more.
    Partial {
        /// The number of missing bytes, as far as can be told yet.
        needed: usize,
    },
}

impl FrameHeader {
    /// A final, unmasked frame header with no RSV bits.
    #[must_use]
    pub const fn new(opcode: OpCode, payload_len: u64) -> FrameHeader {
        FrameHeader {
            fin: true,
            rsv: 0,
            opcode,
            mask: None,
            payload_len,
        }
    }

    /// Parses a header from the start of `buf`, which may hold any number of bytes.
    ///
    /// Fails on a reserved opcode, a 64-bit length with its top bit set, or a length not in its minimal
    /// encoding (all 1002). The other rules (masking by role, control frames, RSV bits, fragmentation) need
    /// the connection's state and live in [`Decoder`](crate::decoder::Decoder).
    pub fn parse(buf: &[u8]) -> Result<Parsed, ProtocolError> {
        let (b0, b1) = match buf {
            [b0, b1, ..] => (*b0, *b1),
            _ => {
                return Ok(Parsed::Partial {
                    needed: 2 - buf.len(),
                })
            }
        };
        let opcode = OpCode::from_u8(b0 & 0x0f).ok_or(ProtocolError::ReservedOpcode(b0 & 0x0f))?;
        let masked = b1 & 0x80 != 0;
        let (len_bytes, short_len) = match b1 & 0x7f {
            126 => (2, None),
            127 => (8, None),
            len => (0, Some(u64::from(len))),
        };
        let total = 2 + len_bytes + if masked { 4 } else { 0 };
        if buf.len() < total {
            return Ok(Parsed::Partial {
                needed: total - buf.len(),
            });
        }
        let payload_len = match short_len {
            Some(len) => len,
            None if len_bytes == 2 => {
                let len = u64::from(u16::from_be_bytes([buf[2], buf[3]]));
                if len < 126 {
                    return Err(ProtocolError::NonMinimalLength);
                }
                len
            }
            None => {
                let mut bytes = [0; 8];
                bytes.copy_from_slice(&buf[2..10]);
                let len = u64::from_be_bytes(bytes);
                if len >> 63 != 0 {
                    return Err(ProtocolError::LengthOverflow);
                }
                if len <= u64::from(u16::MAX) {
                    return Err(ProtocolError::NonMinimalLength);
                }
                len
            }
        };
        let mask = masked.then(|| {
            let at = 2 + len_bytes;
            [buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]
        });
        Ok(Parsed::Complete {
            header: FrameHeader {
                fin: b0 & 0x80 != 0,
                rsv: (b0 >> 4) & 0x07,
                opcode,
                mask,
                payload_len,
            },
            len: total,
        })
    }

    /// How many bytes [`FrameHeader::encode`] writes (the length of [`FrameHeader::to_bytes`]).
    #[must_use]
    pub const fn encoded_len(&self) -> usize {
        let len_bytes = match self.payload_len {
            0..=125 => 0,
            126..=0xffff => 2,
            _ => 8,
        };
        2 + len_bytes + if self.mask.is_some() { 4 } else { 0 }
    }

    /// Encodes the header. This cannot fail: every header fits in [`MAX_HEADER_LEN`] bytes.
    ///
    /// The payload length must be below 2^63 and the RSV bits within `0b111`; extra bits are dropped.
    ///
    /// ```
    /// use wslane::frame::{FrameHeader, OpCode};
    ///
    /// let header = FrameHeader::new(OpCode::Binary, 256);
    /// assert_eq!(&*header.to_bytes(), &[0x82, 0x7e, 0x01, 0x00]);
    /// ```
    #[must_use]
    pub fn to_bytes(&self) -> EncodedHeader {
        let mut bytes = [0; MAX_HEADER_LEN];
        bytes[0] = (u8::from(self.fin) << 7) | ((self.rsv & 0x07) << 4) | self.opcode as u8;
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        // Without a mask the key written is zeros, past the header's end: the bytes after it stay zero.
        let key = self.mask.unwrap_or_default();
        // Every index below is a constant within the array, so none can panic.
        let len = match self.payload_len {
            // The match arm bounds the value, so the cast cannot truncate.
            short @ 0..=125 => {
                bytes[1] = mask_bit | short as u8;
                bytes[2..6].copy_from_slice(&key);
                2
            }
            medium @ 126..=0xffff => {
                bytes[1] = mask_bit | 126;
                bytes[2..4].copy_from_slice(&(medium as u16).to_be_bytes());
                bytes[4..8].copy_from_slice(&key);
                4
            }
            long => {
                bytes[1] = mask_bit | 127;
                bytes[2..10].copy_from_slice(&(long & (u64::MAX >> 1)).to_be_bytes());
                bytes[10..14].copy_from_slice(&key);
                10
            }
        } + if self.mask.is_some() { 4 } else { 0 };
        EncodedHeader {
            bytes,
            len: len as u8,
        }
    }

    /// Encodes the header into the start of `buf` and returns its length. If `buf` is too short, nothing is
    /// written and the error says how many bytes are needed.
    ///
    /// The payload length must be below 2^63 and the RSV bits within `0b111`; extra bits are dropped.
    ///
    /// ```
    /// use wslane::frame::{EncodeError, FrameHeader, OpCode};
    ///
    /// let header = FrameHeader::new(OpCode::Text, 5);
    /// let mut buf = [0; 8];
    /// assert_eq!(header.encode(&mut buf), Ok(2));
    /// assert_eq!(&buf[..2], &[0x81, 0x05]);
    /// assert_eq!(
    ///     header.encode(&mut buf[..1]),
    ///     Err(EncodeError::BufferTooSmall { needed: 2 })
    /// );
    /// ```
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        let encoded = self.to_bytes();
        let needed = encoded.len();
        let out = buf
            .get_mut(..needed)
            .ok_or(EncodeError::BufferTooSmall { needed })?;
        out.copy_from_slice(&encoded);
        Ok(needed)
    }
}

/// An encoded frame header, from [`FrameHeader::to_bytes`]: up to [`MAX_HEADER_LEN`] bytes held inline,
/// read as a byte slice through `Deref` or `AsRef`.
#[derive(Clone, Copy)]
pub struct EncodedHeader {
    /// The header in its first `len` bytes, zeros after.
    bytes: [u8; MAX_HEADER_LEN],
    /// At most `MAX_HEADER_LEN`.
    len: u8,
}

impl EncodedHeader {
    /// The header's bytes.
    #[must_use]
    pub fn as_slice(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

impl Deref for EncodedHeader {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for EncodedHeader {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl PartialEq for EncodedHeader {
    fn eq(&self, other: &EncodedHeader) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for EncodedHeader {}

impl fmt::Debug for EncodedHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("EncodedHeader")
            .field(&self.as_slice())
            .finish()
    }
}

/// A frame header could not be encoded into the caller's buffer. Nothing was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// The buffer is shorter than the header.
    BufferTooSmall {
        /// How many bytes the header needs.
        needed: usize,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::BufferTooSmall { needed } => {
                write!(
                    f,
                    "buffer too small for the frame header: {needed} bytes needed"
                )
            }
        }
    }
}

impl core::error::Error for EncodeError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(buf: &[u8]) -> (FrameHeader, usize) {
        match FrameHeader::parse(buf) {
            Ok(Parsed::Complete { header, len }) => (header, len),
            other => panic!("expected a complete header, got {other:?}"),
        }
    }

    #[test]
    fn reports_missing_bytes() {
        assert_eq!(FrameHeader::parse(&[]), Ok(Parsed::Partial { needed: 2 }));
        assert_eq!(
            FrameHeader::parse(&[0x82]),
            Ok(Parsed::Partial { needed: 1 })
        );
        assert_eq!(
            FrameHeader::parse(&[0x82, 0xfe]),
            Ok(Parsed::Partial { needed: 6 })
        );
        assert_eq!(
            FrameHeader::parse(&[0x82, 0x7f, 0]),
            Ok(Parsed::Partial { needed: 7 })
        );
    }

    #[test]
    fn rfc_6455_section_5_7_headers() {
        // Single-frame unmasked text "Hello".
        let (h, len) = complete(&[0x81, 0x05, 0x48, 0x65]);
        assert_eq!((h, len), (FrameHeader::new(OpCode::Text, 5), 2));
        // Masked text "Hello".
        let (h, len) = complete(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d]);
        assert_eq!(len, 6);
        assert_eq!(h.mask, Some([0x37, 0xfa, 0x21, 0x3d]));
        // 256 bytes binary, unmasked.
        let (h, len) = complete(&[0x82, 0x7e, 0x01, 0x00]);
        assert_eq!((h.opcode, h.payload_len, len), (OpCode::Binary, 256, 4));
        // 64 KiB binary, unmasked.
        let (h, len) = complete(&[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]);
        assert_eq!((h.payload_len, len), (65536, 10));
    }

    #[test]
    fn encode_matches_rfc_bytes() {
        let head = FrameHeader::new(OpCode::Binary, 256).to_bytes();
        assert_eq!(&*head, &[0x82, 0x7e, 0x01, 0x00]);
        let head = FrameHeader::new(OpCode::Binary, 65536).to_bytes();
        assert_eq!(head.as_ref(), &[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]);
        let mut masked = FrameHeader::new(OpCode::Text, 5);
        masked.mask = Some([0x37, 0xfa, 0x21, 0x3d]);
        assert_eq!(&*masked.to_bytes(), &[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d]);
        let mut small = [0; 3];
        assert_eq!(
            FrameHeader::new(OpCode::Binary, 256).encode(&mut small),
            Err(EncodeError::BufferTooSmall { needed: 4 })
        );
        assert_eq!(small, [0; 3]);
    }

    #[test]
    fn the_longest_header_fills_the_array() {
        let header = FrameHeader {
            fin: false,
            rsv: 0xff,
            opcode: OpCode::Continuation,
            mask: Some([1, 2, 3, 4]),
            payload_len: u64::MAX,
        };
        let head = header.to_bytes();
        assert_eq!(head.len(), MAX_HEADER_LEN);
        assert_eq!(head.len(), header.encoded_len());
        // Extra RSV bits and the top bit of the length are dropped.
        assert_eq!(
            &*head,
            &[0x70, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4]
        );
        let mut exact = [0; MAX_HEADER_LEN];
        assert_eq!(header.encode(&mut exact), Ok(MAX_HEADER_LEN));
        assert_eq!(&exact[..], &*head);
    }

    #[test]
    #[cfg(feature = "alloc")]
    fn encode_error_says_how_much_is_needed() {
        use alloc::string::ToString;
        let err = EncodeError::BufferTooSmall { needed: 10 };
        assert_eq!(
            err.to_string(),
            "buffer too small for the frame header: 10 bytes needed"
        );
    }

    #[test]
    fn rejects_bad_lengths_and_opcodes() {
        assert_eq!(
            FrameHeader::parse(&[0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0]),
            Err(ProtocolError::LengthOverflow)
        );
        assert_eq!(
            FrameHeader::parse(&[0x82, 0x7e, 0x00, 0x7d]),
            Err(ProtocolError::NonMinimalLength)
        );
        assert_eq!(
            FrameHeader::parse(&[0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0xff, 0xff]),
            Err(ProtocolError::NonMinimalLength)
        );
        for op in [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf] {
            assert_eq!(
                FrameHeader::parse(&[0x80 | op, 0]),
                Err(ProtocolError::ReservedOpcode(op))
            );
        }
    }
}
