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
mod tests {
    use super::*;

    #[test]
    fn rfc_6455_example_key() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
