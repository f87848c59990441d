//! Test payloads and wire frames for the benchmarks, built here by hand rather than with the code under test,
//! so a bug in wslane's encoder cannot hide in both the input and the expected output.
//!
//! Client frames are masked, as a client sends them; server frames are not. Payloads are deterministic:
//! binary payloads are pseudo-random bytes, text payloads are JSON-like UTF-8 that is mostly ASCII with
//! some two-, three- and four-byte characters, so text validation does real work.

/// The message sizes the echo benchmarks run: 20 B, 1 KiB, 16 KiB and 1 MiB.
pub const SIZES: [usize; 4] = [20, 1 << 10, 16 << 10, 1 << 20];

/// The kind of a data message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A binary message (opcode 0x2).
    Binary,
    /// A text message (opcode 0x1), valid UTF-8.
    Text,
}

impl Kind {
    /// Both kinds, binary first.
    pub const ALL: [Kind; 2] = [Kind::Binary, Kind::Text];

    /// The opcode of the message's first frame.
    #[must_use]
    pub const fn opcode(self) -> u8 {
        match self {
            Kind::Binary => 0x2,
            Kind::Text => 0x1,
        }
    }

    /// The name used in benchmark ids: `binary` or `text`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Binary => "binary",
            Kind::Text => "text",
        }
    }
}

/// A short label for a size, as used in benchmark ids: `20B`, `1KiB`, `16KiB`, `1MiB`.
#[must_use]
pub fn size_label(size: usize) -> String {
    if size >= 1 << 20 && size.is_multiple_of(1 << 20) {
        format!("{}MiB", size >> 20)
    } else if size >= 1 << 10 && size.is_multiple_of(1 << 10) {
        format!("{}KiB", size >> 10)
    } else {
        format!("{size}B")
    }
}

/// The text payloads repeat this; it holds 2-, 3- and 4-byte characters among ASCII.
const TEXT_PATTERN: &str =
    "{\"user\":\"Zoë\",\"text\":\"naïve café — 1 € ≈ 1.08 $, ok 🚀\",\"seq\":1234567},\n";

/// A deterministic payload of exactly `size` bytes. Text is valid UTF-8 (a character that would not fit
/// at the end is replaced by spaces).
#[must_use]
pub fn payload(kind: Kind, size: usize) -> Vec<u8> {
    match kind {
        Kind::Binary => {
            // xorshift64*: cheap, deterministic, and incompressible enough.
            let mut state = 0x9e37_79b9_7f4a_7c15_u64;
            (0..size)
                .map(|_| {
                    state ^= state >> 12;
                    state ^= state << 25;
                    state ^= state >> 27;
                    (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
                })
                .collect()
        }
        Kind::Text => {
            let mut text = String::with_capacity(size);
            'fill: while text.len() < size {
                for c in TEXT_PATTERN.chars() {
                    if text.len() + c.len_utf8() > size {
                        break 'fill;
                    }
                    text.push(c);
                }
            }
            while text.len() < size {
                text.push(' ');
            }
            text.into_bytes()
        }
    }
}

/// The masking key of the `index`-th frame of a batch: distinct keys, as a client's key source gives.
#[must_use]
pub fn mask_key(index: usize) -> [u8; 4] {
    let mixed = (index as u32 ^ 0x5bd1_e995)
        .wrapping_mul(0x9e37_79b9)
        .rotate_left(13);
    mixed.to_be_bytes()
}

/// Appends one frame to `out`: FIN flag, opcode, payload, and a masking key for client frames. The length
/// uses its minimal encoding.
pub fn encode_frame(
    out: &mut Vec<u8>,
    fin: bool,
    opcode: u8,
    payload: &[u8],
    mask: Option<[u8; 4]>,
) {
    out.push(if fin { 0x80 } else { 0 } | opcode);
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
    match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
}

/// `count` single-frame messages as a client sends them (masked, each with its own key).
#[must_use]
pub fn client_batch(kind: Kind, payload: &[u8], count: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(count * (payload.len() + 14));
    for index in 0..count {
        encode_frame(
            &mut out,
            true,
            kind.opcode(),
            payload,
            Some(mask_key(index)),
        );
    }
    out
}

/// `count` single-frame messages as a server sends them (unmasked): the echo of [`client_batch`].
#[must_use]
pub fn server_batch(kind: Kind, payload: &[u8], count: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(count * (payload.len() + 10));
    for _ in 0..count {
        encode_frame(&mut out, true, kind.opcode(), payload, None);
    }
    out
}

/// One message split into `fragments` frames (the first with the message's opcode, the rest continuation
/// frames, the last with FIN), masked as a client sends them. Pieces are as even as possible; text is split
/// at byte boundaries, possibly inside a character, as a sender may.
#[must_use]
pub fn fragmented_message(kind: Kind, payload: &[u8], fragments: usize) -> Vec<u8> {
    let fragments = fragments.max(1);
    let mut out = Vec::with_capacity(payload.len() + fragments * 14);
    let mut at = 0;
    for index in 0..fragments {
        let end = payload.len() * (index + 1) / fragments;
        let opcode = if index == 0 { kind.opcode() } else { 0x0 };
        let fin = index + 1 == fragments;
        encode_frame(
            &mut out,
            fin,
            opcode,
            &payload[at..end],
            Some(mask_key(index)),
        );
        at = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_have_the_exact_size_and_text_is_utf8() {
        for size in [0, 1, 2, 3, 20, 100, 1 << 10, 16 << 10] {
            assert_eq!(payload(Kind::Binary, size).len(), size);
            let text = payload(Kind::Text, size);
            assert_eq!(text.len(), size);
            assert!(std::str::from_utf8(&text).is_ok());
        }
        assert!(payload(Kind::Text, 1 << 10).iter().any(|b| *b >= 0x80));
    }

    #[test]
    fn frames_match_rfc_6455_examples() {
        // Section 5.7: a masked "Hello" and an unmasked 256-byte binary frame header.
        let mut out = Vec::new();
        encode_frame(
            &mut out,
            true,
            0x1,
            b"Hello",
            Some([0x37, 0xfa, 0x21, 0x3d]),
        );
        assert_eq!(
            out,
            [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        );
        out.clear();
        encode_frame(&mut out, true, 0x2, &[0; 256], None);
        assert_eq!(out[..4], [0x82, 0x7e, 0x01, 0x00]);
        out.clear();
        encode_frame(&mut out, true, 0x2, &[0; 65536], None);
        assert_eq!(out[..10], [0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]);
    }

    #[test]
    fn labels() {
        let labels: Vec<_> = SIZES.iter().map(|&s| size_label(s)).collect();
        assert_eq!(labels, ["20B", "1KiB", "16KiB", "1MiB"]);
    }
}
