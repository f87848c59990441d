//! The `Sec-WebSocket-Extensions` header grammar (RFC 6455 section 9.1): one [`ExtensionElement`] per
//! element, parsed by [`parse_extensions`] and written by its `Display`.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// One element of a `Sec-WebSocket-Extensions` header, in a request (an offer) or a response (an
/// acceptance): an extension name and its parameters.
///
/// Its `Display` writes the element as it goes in the header:
///
/// ```
/// use wslane::extension::ExtensionElement;
///
/// let offer = ExtensionElement::new("permessage-deflate")
///     .param("client_max_window_bits", None)
///     .param("server_max_window_bits", Some("10"));
/// assert_eq!(
///     offer.to_string(),
///     "permessage-deflate; client_max_window_bits; server_max_window_bits=10"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ExtensionElement {
    /// The extension token, such as `permessage-deflate`.
    pub name: String,
    /// Parameters in order: a name and an optional value (quotes removed).
    pub params: Vec<(String, Option<String>)>,
}

impl ExtensionElement {
    /// An element with no parameters.
    #[must_use]
    pub fn new(name: &str) -> ExtensionElement {
        ExtensionElement {
            name: name.into(),
            params: Vec::new(),
        }
    }

    /// Adds a parameter, for building offers and responses.
    #[must_use]
    pub fn param(mut self, name: &str, value: Option<&str>) -> ExtensionElement {
        self.params.push((name.into(), value.map(Into::into)));
        self
    }
}

impl fmt::Display for ExtensionElement {
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

/// Parses a `Sec-WebSocket-Extensions` header value into its elements, appending them to `out`.
///
/// Grammar (RFC 6455 section 9.1): `1#( token *( ";" token [ "=" ( token / quoted-string ) ] ) )`.
/// Several header lines are parsed by calling this once per line.
///
/// ```
/// use wslane::extension::{parse_extensions, ExtensionElement};
///
/// let mut elements = Vec::new();
/// parse_extensions("permessage-deflate; server_max_window_bits=\"10\", x-foo", &mut elements)?;
/// assert_eq!(
///     elements,
///     [
///         ExtensionElement::new("permessage-deflate").param("server_max_window_bits", Some("10")),
///         ExtensionElement::new("x-foo"),
///     ]
/// );
/// assert!(parse_extensions("a b", &mut elements).is_err());
/// # Ok::<(), wslane::extension::InvalidExtensionHeader>(())
/// ```
pub fn parse_extensions(
    value: &str,
    out: &mut Vec<ExtensionElement>,
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
        let mut parsed = ExtensionElement::new(name);
        for param in parts {
            let (key, value) = match param.split_once('=') {
                Some((key, value)) => (key.trim_matches(is_ows), Some(param_value(value)?)),
                None => (param.trim_matches(is_ows), None),
            };
            if !is_token(key) {
                return Err(InvalidExtensionHeader);
            }
            parsed.params.push((key.into(), value));
        }
        out.push(parsed);
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
pub(crate) use crate::handshake_rules::is_token;

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn parse(value: &str) -> Result<Vec<ExtensionElement>, InvalidExtensionHeader> {
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
                ExtensionElement::new("permessage-deflate").param("client_max_window_bits", None),
                ExtensionElement::new("permessage-deflate")
                    .param("server_max_window_bits", Some("10")),
                ExtensionElement::new("x-foo"),
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
