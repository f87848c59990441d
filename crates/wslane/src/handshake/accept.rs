//! The `Sec-WebSocket-Key` nonce and the `Sec-WebSocket-Accept` answer (RFC 6455 section 4.2.2, step 5.4).

use alloc::string::String;

use crate::handshake_rules;

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
    let accept = handshake_rules::accept_key(key.as_bytes());
    // Base64 is ASCII.
    String::from(core::str::from_utf8(&accept).unwrap_or_default())
}

/// The `Sec-WebSocket-Key` for a client's 16 random bytes.
pub(crate) fn client_key(nonce: [u8; 16]) -> String {
    let key = handshake_rules::client_key(nonce);
    String::from(core::str::from_utf8(&key).unwrap_or_default())
}

#[cfg(test)]
use handshake_rules::is_valid_key;

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
