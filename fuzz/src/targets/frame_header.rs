//! `FrameHeader::parse` on raw bytes.
//!
//! Invariants:
//! - a complete header re-encodes to exactly the bytes it was parsed from (lengths are minimal, since
//!   non-minimal ones are rejected), and `encode` into a buffer one byte short changes nothing;
//! - over the prefixes of the input the answers are consistent: `Partial { needed }` has `needed >= 1` and
//!   is a true lower bound (the next `needed - 1` prefixes are still partial, with consistent counts), an
//!   error stays the same error on longer input, and a complete header is complete from exactly `len`
//!   bytes on, with the same header;
//! - any header built from the input's bytes (payload length below 2^63) encodes and parses back to itself.

use wslane::frame::{EncodeError, FrameHeader, Parsed, MAX_HEADER_LEN};
use wslane::OpCode;

use crate::hex;

/// Runs the target on one input.
pub fn run(data: &[u8]) {
    check_prefixes(data);
    if let Ok(Parsed::Complete { header, len }) = FrameHeader::parse(data) {
        check_reencode(&data[..len], header, len);
    }
    if let Some(header) = header_from(data) {
        check_roundtrip(header);
    }
}

fn check_prefixes(data: &[u8]) {
    // Past MAX_HEADER_LEN bytes nothing can change.
    let end = data.len().min(MAX_HEADER_LEN + 1);
    let results: Vec<_> = (0..=end).map(|k| FrameHeader::parse(&data[..k])).collect();
    for (k, result) in results.iter().enumerate() {
        match *result {
            Ok(Parsed::Partial { needed }) => {
                assert!(
                    needed >= 1,
                    "Partial {{ needed: 0 }} for {}",
                    hex(&data[..k])
                );
                assert!(
                    k + needed <= MAX_HEADER_LEN,
                    "needed {needed} past the longest header"
                );
                for j in 1..needed {
                    let Some(later) = results.get(k + j) else {
                        break;
                    };
                    match *later {
                        Ok(Parsed::Partial { needed: n }) => assert!(
                            n >= needed - j,
                            "{k} bytes need {needed} more, but {} bytes need only {n}: {}",
                            k + j,
                            hex(&data[..k + j])
                        ),
                        ref other => panic!(
                            "{k} bytes need {needed} more, but {} bytes give {other:?}: {}",
                            k + j,
                            hex(&data[..k + j])
                        ),
                    }
                }
            }
            Ok(Parsed::Complete { header, len }) => {
                assert!((2..=MAX_HEADER_LEN).contains(&len), "header length {len}");
                assert!(len <= k, "header of {len} bytes from {k} bytes");
                assert_eq!(
                    results[len],
                    Ok(Parsed::Complete { header, len }),
                    "complete at {k} bytes but not at its own length: {}",
                    hex(&data[..k])
                );
                for later in &results[k..] {
                    assert_eq!(
                        *later,
                        Ok(Parsed::Complete { header, len }),
                        "{}",
                        hex(data)
                    );
                }
            }
            Err(err) => {
                for later in &results[k..] {
                    assert_eq!(
                        *later,
                        Err(err),
                        "error changed on longer input: {}",
                        hex(data)
                    );
                }
            }
        }
    }
}

fn check_reencode(bytes: &[u8], header: FrameHeader, len: usize) {
    assert_eq!(header.encoded_len(), len);
    assert!(header.payload_len >> 63 == 0);
    assert!(header.rsv <= 0b111);
    let encoded = header.to_bytes();
    let n = encoded.len();
    assert_eq!(
        &encoded[..n],
        bytes,
        "re-encoding {header:?} differs from its bytes"
    );
    let mut exact = vec![0; len];
    assert_eq!(header.encode(&mut exact), Ok(len));
    assert_eq!(exact, bytes);
    let mut short = vec![0xa5; len - 1];
    assert_eq!(
        header.encode(&mut short),
        Err(EncodeError::BufferTooSmall { needed: len })
    );
    assert!(
        short.iter().all(|&b| b == 0xa5),
        "a failed encode wrote into the buffer"
    );
}

/// A header whose fields come from the input, or `None` when the input is too short.
fn header_from(data: &[u8]) -> Option<FrameHeader> {
    const OPCODES: [OpCode; 6] = [
        OpCode::Continuation,
        OpCode::Text,
        OpCode::Binary,
        OpCode::Close,
        OpCode::Ping,
        OpCode::Pong,
    ];
    let d: &[u8; 14] = data.get(..14)?.try_into().ok()?;
    let mut len = [0; 8];
    len.copy_from_slice(&d[6..14]);
    // Shift right by a data-chosen amount so short, 16-bit and 64-bit lengths are all common.
    let payload_len = (u64::from_be_bytes(len) >> (d[1] & 63)) & (u64::MAX >> 1);
    Some(FrameHeader {
        fin: d[0] & 0x80 != 0,
        rsv: (d[0] >> 4) & 0b111,
        opcode: OPCODES[usize::from(d[0] & 0x0f) % OPCODES.len()],
        mask: (d[1] & 0x80 != 0).then(|| [d[2], d[3], d[4], d[5]]),
        payload_len,
    })
}

fn check_roundtrip(header: FrameHeader) {
    let bytes = header.to_bytes();
    let len = bytes.len();
    assert_eq!(len, header.encoded_len());
    assert_eq!(
        FrameHeader::parse(&bytes[..len]),
        Ok(Parsed::Complete { header, len }),
        "{header:?} encoded as {} does not parse back",
        hex(&bytes[..len])
    );
}
