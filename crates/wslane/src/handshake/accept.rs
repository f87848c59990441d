//! The `Sec-WebSocket-Key` nonce and the `Sec-WebSocket-Accept` answer (RFC 6455 section 4.2.2, step 5.4).

use alloc::string::String;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// The GUID that RFC 6455 appends to the key before hashing.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key`: base64(SHA-1(key + GUID)).
///
/// ```
/// assert_eq!(
///     wslane::handshake::accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
///     "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
/// );
/// ```
#[must_use]
pub fn accept_key(key: &str) -> String {
    let mut sha1 = sha1_smol::Sha1::new();
    sha1.update(key.as_bytes());
    sha1.update(GUID.as_bytes());
    STANDARD.encode(sha1.digest().bytes())
}

/// The `Sec-WebSocket-Key` for a client's 16 random bytes.
pub(crate) fn client_key(nonce: [u8; 16]) -> String {
    STANDARD.encode(nonce)
}

/// Whether a received `Sec-WebSocket-Key` is the base64 encoding of exactly 16 bytes.
pub(crate) fn is_valid_key(key: &[u8]) -> bool {
    // Any 16 bytes encode to 24 characters; checking the length first bounds the work on hostile input.
    key.len() == 24 && STANDARD.decode(key).is_ok_and(|nonce| nonce.len() == 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6455_example_key() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn keys_are_16_bytes_of_base64() {
        assert!(is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ=="));
        assert_eq!(client_key(*b"the sample nonce"), "dGhlIHNhbXBsZSBub25jZQ==");
        // 15 and 17 bytes, unpadded, non-canonical trailing bits, not base64 at all.
        for bad in [
            &b"dGhlIHNhbXBsZSBub25jZQ"[..],
            b"dGhlIHNhbXBsZSBub25j",
            b"dGhlIHNhbXBsZSBub25jZTE=",
            b"dGhlIHNhbXBsZSBub25jZR==",
            b"dGhlIHNhbXBsZSBub25jZ!==",
            b"",
        ] {
            assert!(!is_valid_key(bad), "{bad:?}");
        }
    }
}
