//! Frames on the wire, written and read independently of the code under test (except that
//! [`split_frames`] uses `FrameHeader::parse`, which the `frame_header` target checks on its own).

use wslane::frame::{apply_mask_reference, FrameHeader, Parsed};

/// Encodes one frame byte by byte from RFC 6455 section 5.2, with any 4-bit opcode (reserved ones too) and
/// the minimal length encoding. The payload is given unmasked and masked here when `mask` is set.
pub fn encode_frame(
    fin: bool,
    rsv: u8,
    opcode: u8,
    mask: Option<[u8; 4]>,
    payload: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 14);
    out.push((u8::from(fin) << 7) | ((rsv & 7) << 4) | (opcode & 0x0f));
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    let len = payload.len();
    if len < 126 {
        out.push(mask_bit | len as u8);
    } else if len <= 0xffff {
        out.push(mask_bit | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(mask_bit | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    let at = out.len() + if mask.is_some() { 4 } else { 0 };
    if let Some(key) = mask {
        out.extend_from_slice(&key);
    }
    out.extend_from_slice(payload);
    if let Some(key) = mask {
        for (i, b) in out[at..].iter_mut().enumerate() {
            *b ^= key[i % 4];
        }
    }
    out
}

/// A frame read back from transmitted bytes, payload unmasked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireFrame {
    /// The header as parsed.
    pub header: FrameHeader,
    /// The payload, unmasked.
    pub payload: Vec<u8>,
}

/// Splits `bytes` into complete frames. Fails on a malformed header, or when the bytes end inside a frame.
pub fn split_frames(mut bytes: &[u8]) -> Result<Vec<WireFrame>, String> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let at = frames.len();
        let (header, len) = match FrameHeader::parse(bytes) {
            Ok(Parsed::Complete { header, len }) => (header, len),
            Ok(Parsed::Partial { needed }) => {
                return Err(format!(
                    "frame {at}: header truncated ({needed} bytes missing)"
                ))
            }
            Err(err) => return Err(format!("frame {at}: {err}")),
        };
        let payload_len = usize::try_from(header.payload_len).map_err(|_| {
            format!(
                "frame {at}: payload length {} too large",
                header.payload_len
            )
        })?;
        let rest = &bytes[len..];
        if rest.len() < payload_len {
            return Err(format!(
                "frame {at}: payload truncated ({} of {payload_len} bytes)",
                rest.len()
            ));
        }
        let mut payload = rest[..payload_len].to_vec();
        if let Some(key) = header.mask {
            apply_mask_reference(&mut payload, key, 0);
        }
        frames.push(WireFrame { header, payload });
        bytes = &rest[payload_len..];
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6455_section_5_7_examples() {
        assert_eq!(encode_frame(true, 0, 1, None, b"Hello"), b"\x81\x05Hello");
        assert_eq!(
            encode_frame(true, 0, 1, Some([0x37, 0xfa, 0x21, 0x3d]), b"Hello"),
            [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        );
        assert_eq!(
            &encode_frame(true, 0, 2, None, &[0; 256])[..4],
            &[0x82, 0x7e, 0x01, 0x00]
        );
        assert_eq!(
            &encode_frame(true, 0, 2, None, &[0; 65536])[..10],
            &[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]
        );
        let two = [
            encode_frame(false, 0, 1, None, b"Hel"),
            encode_frame(true, 0, 0, None, b"lo"),
        ]
        .concat();
        let frames = split_frames(&two).unwrap();
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[1].payload, b"lo");
        assert!(split_frames(&two[..two.len() - 1]).is_err());
    }
}
