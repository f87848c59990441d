//! Incremental reading of an HTTP head (request or response line and header fields), bounded by [`Limits`].

use alloc::vec::Vec;
use core::time::Duration;

/// Bounds on the opening handshake, the defence against a peer that never ends its head: in size, by the
/// handshake itself, and in time, by the driver that runs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The largest head, in bytes, up to and including the empty line that ends it. Default: 8 KiB.
    pub max_head_size: usize,
    /// The most header fields accepted. Default: 64.
    pub max_headers: usize,
    /// How long the whole opening handshake may take (for a client: connecting, TLS, request and
    /// response; for a server: reading the request and writing the answer). The core has no clock: every
    /// driver (`wslane-async`, `wslane-mio`) drops the transport when this passes. Default: 10 s.
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_head_size: 8 << 10,
            max_headers: 64,
            timeout: Duration::from_secs(10),
        }
    }
}

/// Why a head could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HeadError {
    /// Not valid HTTP.
    Malformed,
    /// Longer than [`Limits::max_head_size`].
    TooLarge,
    /// More fields than [`Limits::max_headers`].
    TooManyHeaders,
}

impl From<httparse::Error> for HeadError {
    fn from(err: httparse::Error) -> HeadError {
        match err {
            httparse::Error::TooManyHeaders => HeadError::TooManyHeaders,
            _ => HeadError::Malformed,
        }
    }
}

/// Collects bytes until a whole head has arrived.
///
/// httparse runs only when an empty line (`\r\n\r\n`, or `\n\n`, which RFC 7230 section 3.5 lets a
/// recipient accept) has just arrived, and only new bytes are scanned for one, so a head fed a byte at a time
/// costs linear time. At most `max_head_size + 1` bytes are ever copied; the rest of the caller's input is
/// handed back untouched.
#[derive(Debug)]
pub(crate) struct HeadReader {
    buf: Vec<u8>,
    /// Where the search for an empty line resumes.
    scanned: usize,
    /// How much of the start of the head httparse has already checked (up to [`EARLY_CHECK`]).
    checked: usize,
    limits: Limits,
}

/// httparse looks at the first this-many bytes as they arrive, so bytes that cannot start an HTTP head (a
/// TLS hello sent to a plain port, say) are refused at once rather than at the head limit. (A prefix that
/// httparse refuses stays refused however it continues, so how the input is split changes nothing.)
const EARLY_CHECK: usize = 1024;

impl HeadReader {
    pub(crate) fn new(limits: Limits) -> HeadReader {
        HeadReader {
            buf: Vec::new(),
            scanned: 0,
            checked: 0,
            limits,
        }
    }

    pub(crate) fn limits(&self) -> Limits {
        self.limits
    }

    /// Adds `input`. When a whole head has arrived, returns what `parse` made of it and the bytes that
    /// followed it (trailing data, such as a first WebSocket frame).
    ///
    /// `parse` gets the buffered bytes up to an empty line and returns how many of them the head took with
    /// its result, or `None` when httparse wants more (the empty line was a leading one).
    pub(crate) fn push<T>(
        &mut self,
        input: &[u8],
        mut parse: impl FnMut(&[u8]) -> Result<Option<(usize, T)>, HeadError>,
    ) -> Result<Option<(T, Vec<u8>)>, HeadError> {
        let max = self.limits.max_head_size;
        let room = max.saturating_add(1).saturating_sub(self.buf.len());
        let (now, later) = input.split_at(room.min(input.len()));
        self.buf.extend_from_slice(now);

        let early = self.buf.len().min(EARLY_CHECK);
        if early > self.checked {
            // A head that is wrong so far is an error already; a partial one is just partial.
            parse(self.buf.get(..early).unwrap_or_default())?;
            self.checked = early;
        }
        while let Some((newline, end)) = find_empty_line(&self.buf, self.scanned) {
            self.scanned = newline + 1;
            if end > max {
                return Err(HeadError::TooLarge);
            }
            // Only the bytes up to the empty line, so that how the input was split cannot change the result.
            if let Some((len, parsed)) = parse(self.buf.get(..end).unwrap_or_default())? {
                let mut trailing = self.buf.split_off(len.min(self.buf.len()));
                trailing.extend_from_slice(later);
                self.buf = Vec::new();
                return Ok(Some((parsed, trailing)));
            }
        }
        // An empty line starting in the last two bytes may still be completed by the next input.
        self.scanned = self.scanned.max(self.buf.len().saturating_sub(2));
        if self.buf.len() > max {
            return Err(HeadError::TooLarge);
        }
        Ok(None)
    }
}

/// Finds, at or after `from`, a line feed followed by an empty line: returns the position of that line feed
/// and the end of the empty line.
fn find_empty_line(buf: &[u8], from: usize) -> Option<(usize, usize)> {
    let tail = buf.get(from..)?;
    tail.iter()
        .enumerate()
        .filter(|&(_, &b)| b == b'\n')
        .find_map(|(i, _)| match tail.get(i + 1..) {
            Some([b'\n', ..]) => Some((from + i, from + i + 2)),
            Some([b'\r', b'\n', ..]) => Some((from + i, from + i + 3)),
            _ => None,
        })
}

/// A header array of `limits.max_headers` empty fields for httparse.
pub(crate) fn header_array(limits: Limits) -> Vec<httparse::Header<'static>> {
    alloc::vec![httparse::EMPTY_HEADER; limits.max_headers]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_crlf_and_lf_empty_lines() {
        assert_eq!(
            find_empty_line(b"GET / HTTP/1.1\r\n\r\nX", 0),
            Some((15, 18))
        );
        assert_eq!(find_empty_line(b"GET / HTTP/1.1\n\nX", 0), Some((14, 16)));
        assert_eq!(find_empty_line(b"a\r\nb\r\n", 0), None);
        assert_eq!(find_empty_line(b"a\r\n\r\n", 9), None);
    }

    /// A parser that takes everything up to the first empty line.
    fn take_head(buf: &[u8]) -> Result<Option<(usize, ())>, HeadError> {
        Ok(find_empty_line(buf, 0).map(|(_, end)| (end, ())))
    }

    #[test]
    fn hands_back_what_follows_the_head() {
        let mut reader = HeadReader::new(Limits::default());
        assert_eq!(reader.push(b"abc\r\n", take_head), Ok(None));
        assert_eq!(reader.push(b"\r", take_head), Ok(None));
        assert_eq!(
            reader.push(b"\nxyz", take_head),
            Ok(Some(((), b"xyz".to_vec())))
        );
    }

    #[test]
    fn bounds_the_head_but_not_what_follows() {
        let limits = Limits {
            max_head_size: 8,
            ..Limits::default()
        };
        let mut reader = HeadReader::new(limits);
        let input = b"abcd\r\n\r\n0123456789";
        assert_eq!(
            reader.push(input, take_head),
            Ok(Some(((), b"0123456789".to_vec())))
        );

        let mut reader = HeadReader::new(limits);
        assert_eq!(reader.push(b"abcde\r\n", take_head), Ok(None));
        assert_eq!(reader.push(b"\r\n", take_head), Err(HeadError::TooLarge));

        let mut reader = HeadReader::new(limits);
        assert_eq!(
            reader.push(b"abcdefghi", take_head),
            Err(HeadError::TooLarge)
        );
    }
}
