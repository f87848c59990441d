//! Owned header lists, the comma-separated token lists of HTTP, and the checks on headers a caller adds.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::handshake_rules as rules;

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
}

impl rules::Fields for Headers {
    fn field(&self, i: usize) -> Option<(&str, &[u8])> {
        self.fields.get(i).map(|(n, v)| (n.as_str(), v.as_slice()))
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

pub(crate) use rules::{check_extra, is_field_value};

/// Appends the tokens of a `Sec-WebSocket-Protocol` value to `out`; `Err` when an element is not a token.
pub(crate) fn parse_protocols(value: &[u8], out: &mut Vec<String>) -> Result<(), ()> {
    for token in rules::protocol_tokens(value) {
        out.push(token?.into());
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
    use crate::handshake_rules::BuildError;
    use alloc::vec;

    #[test]
    fn token_lists_are_trimmed_and_case_insensitive() {
        let headers = Headers {
            fields: vec![
                ("Connection".into(), b"keep-alive".to_vec()),
                ("connection".into(), b" , UpGrade ,".to_vec()),
            ],
        };
        assert!(rules::has_token(&headers, "CONNECTION", "upgrade"));
        assert!(!rules::has_token(&headers, "Connection", "close"));
        assert_eq!(rules::single(&headers, "connection"), Err(2));
        assert_eq!(rules::single(&headers, "upgrade"), Err(0));
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
