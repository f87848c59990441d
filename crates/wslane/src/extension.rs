//! The extension point (RFC 6455 section 9): negotiation in the opening handshake, and one hook through which
//! a negotiated extension claims RSV bits and transforms message payloads.
//!
//! Without a negotiated extension, any RSV bit fails the connection (1002). With one, the RSV bits it claims
//! are allowed on the first frame of a data message only; continuation and control frames must carry none
//! (the rule of every registered extension, permessage-deflate included).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::error::{ProtocolError, SendError};
use crate::frame::OpCode;

/// A negotiated extension's payload transform, owned by one [`Connection`](crate::Connection).
pub trait Extension: Send {
    /// The RSV bits (as in the frame's first byte shifted right by 4: RSV1 = `0b100`) that this extension may
    /// set on the first frame of a data message.
    fn rsv_bits(&self) -> u8;

    /// Decodes a received message whose first frame carried `rsv` (non-zero, within [`Extension::rsv_bits`]).
    ///
    /// Called with the message's payload in order, one or more chunks, `fin` set on the last. Appends the
    /// decoded bytes to `out` and never lets `out` grow past `limit` bytes: past it, return
    /// [`ProtocolError::MessageTooLarge`] (this is the defence against decompression bombs). Undecodable input
    /// is [`ProtocolError::ExtensionData`] (1007).
    fn decode(
        &mut self,
        rsv: u8,
        input: &[u8],
        fin: bool,
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), ProtocolError>;

    /// Encodes a whole message to send. Appends the encoded payload to `out` and returns the RSV bits for its
    /// first frame, or returns `Ok(None)` (leaving `out` empty) to send the message as it is.
    fn encode(
        &mut self,
        opcode: OpCode,
        input: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<Option<u8>, SendError>;
}

/// One element of a `Sec-WebSocket-Extensions` header: an extension name and its parameters.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ExtensionOffer {
    /// The extension token, such as `permessage-deflate`.
    pub name: String,
    /// Parameters in order: a name and an optional value (quotes removed).
    pub params: Vec<(String, Option<String>)>,
}

impl ExtensionOffer {
    /// An offer with no parameters.
    #[must_use]
    pub fn new(name: &str) -> ExtensionOffer {
        ExtensionOffer {
            name: name.into(),
            params: Vec::new(),
        }
    }

    /// Adds a parameter, for building offers and responses.
    #[must_use]
    pub fn param(mut self, name: &str, value: Option<&str>) -> ExtensionOffer {
        self.params.push((name.into(), value.map(Into::into)));
        self
    }
}

impl fmt::Display for ExtensionOffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        for (name, value) in &self.params {
            match value {
                Some(value) => write!(f, "; {name}={value}")?,
                None => write!(f, "; {name}")?,
            }
        }
        Ok(())
    }
}

/// A `Sec-WebSocket-Extensions` header value that does not follow the grammar of RFC 6455 section 9.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidExtensionHeader;

impl fmt::Display for InvalidExtensionHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("malformed Sec-WebSocket-Extensions header")
    }
}

impl core::error::Error for InvalidExtensionHeader {}

/// Parses a `Sec-WebSocket-Extensions` header value into its offers, appending them to `out`.
///
/// Grammar (RFC 6455 section 9.1): `1#( token *( ";" token [ "=" ( token / quoted-string ) ] ) )`.
/// Several header lines are parsed by calling this once per line.
pub fn parse_extensions(
    value: &str,
    out: &mut Vec<ExtensionOffer>,
) -> Result<(), InvalidExtensionHeader> {
    for element in split_outside_quotes(value, b',') {
        let element = element.trim_matches(is_ows);
        if element.is_empty() {
            continue; // `1#` lists allow empty elements
        }
        let mut parts = split_outside_quotes(element, b';');
        let name = parts.next().unwrap_or("").trim_matches(is_ows);
        if !is_token(name) {
            return Err(InvalidExtensionHeader);
        }
        let mut offer = ExtensionOffer::new(name);
        for param in parts {
            let (key, value) = match param.split_once('=') {
                Some((key, value)) => (key.trim_matches(is_ows), Some(param_value(value)?)),
                None => (param.trim_matches(is_ows), None),
            };
            if !is_token(key) {
                return Err(InvalidExtensionHeader);
            }
            offer.params.push((key.into(), value));
        }
        out.push(offer);
    }
    Ok(())
}

fn param_value(raw: &str) -> Result<String, InvalidExtensionHeader> {
    let raw = raw.trim_matches(is_ows);
    let value = match raw.strip_prefix('"') {
        Some(rest) => {
            let inner = rest.strip_suffix('"').ok_or(InvalidExtensionHeader)?;
            let mut value = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.push(chars.next().ok_or(InvalidExtensionHeader)?),
                    '"' => return Err(InvalidExtensionHeader),
                    c => value.push(c),
                }
            }
            value
        }
        None => raw.into(),
    };
    // RFC 6455 9.1: a quoted value must still be a token once the quotes are removed.
    if is_token(&value) {
        Ok(value)
    } else {
        Err(InvalidExtensionHeader)
    }
}

/// Splits at `sep` wherever it is not inside a quoted string.
fn split_outside_quotes(s: &str, sep: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(s);
    core::iter::from_fn(move || {
        let s = rest?;
        let mut quoted = false;
        let mut escaped = false;
        for (i, b) in s.bytes().enumerate() {
            match b {
                _ if escaped => escaped = false,
                b'\\' if quoted => escaped = true,
                b'"' => quoted = !quoted,
                b if b == sep && !quoted => {
                    rest = Some(&s[i + 1..]);
                    return Some(&s[..i]);
                }
                _ => {}
            }
        }
        rest = None;
        Some(s)
    })
}

fn is_ows(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// An HTTP token (RFC 7230 section 3.2.6).
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A failed negotiation: the peer's offer or response cannot be honoured and the handshake must fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NegotiationError(pub String);

impl fmt::Display for NegotiationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "extension negotiation failed: {}", self.0)
    }
}

impl core::error::Error for NegotiationError {}

/// A server's acceptance of an offer: the response element to send and the extension to install.
pub type Accepted = (ExtensionOffer, Box<dyn Extension>);

/// An extension this endpoint supports, as seen by the opening handshake. Both roles negotiate through it;
/// permessage-deflate is one implementation.
pub trait ExtensionFactory: Send + Sync {
    /// The registered extension name, such as `permessage-deflate`.
    fn name(&self) -> &str;

    /// Client side: the offers to send, most preferred first (each becomes one header element).
    fn offers(&self) -> Vec<ExtensionOffer>;

    /// Server side: given every offer of this extension's name, in the client's order, accept the first one
    /// it can honour. Returns the response element and the extension instance, `Ok(None)` to decline, or an
    /// error when an offer is malformed (the handshake is then refused with 400).
    fn accept(&self, offers: &[ExtensionOffer]) -> Result<Option<Accepted>, NegotiationError>;

    /// Client side: check the server's response element against what was offered and build the extension,
    /// or fail the connection.
    fn confirm(&self, response: &ExtensionOffer) -> Result<Box<dyn Extension>, NegotiationError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn parse(value: &str) -> Result<Vec<ExtensionOffer>, InvalidExtensionHeader> {
        let mut out = Vec::new();
        parse_extensions(value, &mut out).map(|()| out)
    }

    #[test]
    fn parses_offers_with_parameters() {
        let offers =
            parse("permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits=\"10\" ,x-foo")
                .unwrap();
        assert_eq!(
            offers,
            vec![
                ExtensionOffer::new("permessage-deflate").param("client_max_window_bits", None),
                ExtensionOffer::new("permessage-deflate")
                    .param("server_max_window_bits", Some("10")),
                ExtensionOffer::new("x-foo"),
            ]
        );
        assert_eq!(
            offers[1].to_string(),
            "permessage-deflate; server_max_window_bits=10"
        );
    }

    #[test]
    fn rejects_malformed_headers() {
        for bad in [
            "a b",
            "a; =1",
            "a; b=\"1",
            "a; b=\"x y\"",
            "; b",
            "a; b=c d",
            "a;b=\"\"",
        ] {
            assert_eq!(parse(bad), Err(InvalidExtensionHeader), "{bad:?}");
        }
        assert_eq!(parse(" , ").unwrap(), vec![]);
    }
}
