//! Owned header lists, the comma-separated token lists of HTTP, and the checks on headers a caller adds.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::error::BuildError;
use crate::extension::is_token;

/// The header fields of a parsed request or response, in the order received, names as sent.
///
/// Lookups by name are ASCII case-insensitive. Values are bytes because HTTP allows bytes that are not
/// UTF-8 (obs-text); [`Headers::get_str`] gives them as text when they are.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers {
    fields: Vec<(String, Vec<u8>)>,
}

impl Headers {
    /// No fields.
    #[must_use]
    pub fn new() -> Headers {
        Headers::default()
    }

    /// Adds a field at the end, for a caller whose HTTP layer has already parsed the head (hyper, h2).
    pub fn push(&mut self, name: &str, value: &[u8]) {
        self.fields.push((name.into(), value.into()));
    }

    /// The total size of the names and values, which the handshake bounds by
    /// [`Limits::max_head_size`](super::Limits::max_head_size) when a head comes already parsed.
    pub(crate) fn size(&self) -> usize {
        self.fields
            .iter()
            .map(|(name, value)| name.len().saturating_add(value.len()))
            .fold(0, usize::saturating_add)
    }

    pub(crate) fn from_parsed(parsed: &[httparse::Header<'_>]) -> Headers {
        Headers {
            fields: parsed
                .iter()
                .map(|h| (String::from(h.name), Vec::from(h.value)))
                .collect(),
        }
    }

    /// The value of the first field named `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The value of the first field named `name`, if it is UTF-8.
    #[must_use]
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| core::str::from_utf8(v).ok())
    }

    /// The values of every field named `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Every field as a name and a value, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> + '_ {
        self.fields.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    /// How many fields there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there are no fields.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The value of the field named `name` (whitespace trimmed) when there is exactly one such field;
    /// `Err(n)` with the number of fields otherwise.
    pub(crate) fn single(&self, name: &str) -> Result<&[u8], usize> {
        let mut found = None;
        let mut count = 0;
        for (field, value) in &self.fields {
            if field.eq_ignore_ascii_case(name) {
                count += 1;
                found = Some(value.trim_ascii());
            }
        }
        match found {
            Some(value) if count == 1 => Ok(value),
            _ => Err(count),
        }
    }

    /// Whether some field named `name` lists `token` (ASCII case-insensitive), as `Connection: keep-alive,
    /// Upgrade` lists `upgrade`.
    pub(crate) fn has_token(&self, name: &str, token: &str) -> bool {
        self.get_all(name)
            .flat_map(list_elements)
            .any(|element| element.eq_ignore_ascii_case(token.as_bytes()))
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>> FromIterator<(N, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(fields: I) -> Headers {
        let mut headers = Headers::new();
        for (name, value) in fields {
            headers.push(name.as_ref(), value.as_ref());
        }
        headers
    }
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in self.iter() {
            match core::str::from_utf8(value) {
                Ok(value) => map.entry(&name, &value),
                Err(_) => map.entry(&name, &value),
            };
        }
        map.finish()
    }
}

/// The non-empty elements of a comma-separated list (`#rule` of RFC 7230 section 7), whitespace trimmed.
pub(crate) fn list_elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(|element| element.trim_ascii())
        .filter(|element| !element.is_empty())
}

/// Appends the tokens of a `Sec-WebSocket-Protocol` value to `out`; `Err` when an element is not a token.
pub(crate) fn parse_protocols(value: &[u8], out: &mut Vec<String>) -> Result<(), ()> {
    for element in list_elements(value) {
        match core::str::from_utf8(element) {
            Ok(token) if is_token(token) => out.push(token.into()),
            _ => return Err(()),
        }
    }
    Ok(())
}

/// Header names the handshake writes itself; a caller may not add them.
const RESERVED: &[&str] = &[
    "host",
    "upgrade",
    "connection",
    "content-length",
    "transfer-encoding",
    "origin",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-accept",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
];

/// A header field value that cannot end the line early or inject another field: visible characters,
/// spaces, tabs and non-ASCII text.
pub(crate) fn is_field_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || (b >= b' ' && b != 0x7f))
}

/// Checks a header a caller wants to add to a request or response.
pub(crate) fn check_extra(name: &str, value: &str) -> Result<(), BuildError> {
    if !is_token(name) {
        return Err(BuildError::InvalidHeaderName);
    }
    if !is_field_value(value) {
        return Err(BuildError::InvalidHeaderValue);
    }
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name)) {
        return Err(BuildError::ReservedHeader);
    }
    Ok(())
}

/// Appends `name: value\r\n`.
pub(crate) fn write_field(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn token_lists_are_trimmed_and_case_insensitive() {
        let headers = Headers {
            fields: vec![
                ("Connection".into(), b"keep-alive".to_vec()),
                ("connection".into(), b" , UpGrade ,".to_vec()),
            ],
        };
        assert!(headers.has_token("CONNECTION", "upgrade"));
        assert!(!headers.has_token("Connection", "close"));
        assert_eq!(headers.single("connection"), Err(2));
        assert_eq!(headers.single("upgrade"), Err(0));
        assert_eq!(headers.get_str("Connection"), Some("keep-alive"));
    }

    #[test]
    fn protocol_lists_must_be_tokens() {
        let mut out = Vec::new();
        assert_eq!(parse_protocols(b"chat, , v2.json", &mut out), Ok(()));
        assert_eq!(out, ["chat", "v2.json"]);
        assert_eq!(parse_protocols(b"a b", &mut out), Err(()));
        assert_eq!(parse_protocols(b"a;b", &mut out), Err(()));
    }

    #[test]
    fn extra_headers_cannot_inject_or_override() {
        assert_eq!(check_extra("Set-Cookie", "a=b; Path=/"), Ok(()));
        assert_eq!(
            check_extra("X-A", "x\r\nEvil: 1"),
            Err(BuildError::InvalidHeaderValue)
        );
        assert_eq!(
            check_extra("X-A", "x\ny"),
            Err(BuildError::InvalidHeaderValue)
        );
        assert_eq!(check_extra("X A", "x"), Err(BuildError::InvalidHeaderName));
        assert_eq!(check_extra("", "x"), Err(BuildError::InvalidHeaderName));
        assert_eq!(
            check_extra("sec-websocket-ACCEPT", "x"),
            Err(BuildError::ReservedHeader)
        );
    }
}
