//! UTF-8 validation that works across fragment boundaries and fails as early as the bytes allow.
//!
//! A text message may be split anywhere, even inside a character. [`Utf8Validator`] carries the bytes of a
//! split character over to the next chunk, and rejects a chunk as soon as it holds a byte that no valid
//! continuation could follow (RFC 6455 section 8.1, "fail fast"). It holds at most 3 bytes and never allocates.

use core::fmt;

/// The bytes are not valid UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Utf8Error;

impl fmt::Display for Utf8Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid UTF-8")
    }
}

impl core::error::Error for Utf8Error {}

/// Validates a complete string.
pub fn validate(bytes: &[u8]) -> Result<&str, Utf8Error> {
    core::str::from_utf8(bytes).map_err(|_| Utf8Error)
}

/// Streaming UTF-8 validator: feed chunks in order, then call [`Utf8Validator::finish`] at the end.
#[derive(Clone, Copy, Debug, Default)]
pub struct Utf8Validator {
    /// The start of a character split across chunks.
    partial: [u8; 4],
    partial_len: u8,
}

impl Utf8Validator {
    /// A validator at the start of a message.
    #[must_use]
    pub const fn new() -> Utf8Validator {
        Utf8Validator {
            partial: [0; 4],
            partial_len: 0,
        }
    }

    /// Validates the next chunk. Fails as soon as the bytes so far cannot start any valid string.
    pub fn feed(&mut self, mut chunk: &[u8]) -> Result<(), Utf8Error> {
        if self.partial_len > 0 {
            chunk = self.complete_partial(chunk)?;
        }
        match core::str::from_utf8(chunk) {
            Ok(_) => Ok(()),
            // `error_len() == None` means the chunk ends in a valid but incomplete character.
            Err(err) if err.error_len().is_none() => {
                let tail = &chunk[err.valid_up_to()..];
                self.partial[..tail.len()].copy_from_slice(tail);
                self.partial_len = tail.len() as u8; // at most 3
                Ok(())
            }
            Err(_) => Err(Utf8Error),
        }
    }

    /// Ends the message: fails if it stopped inside a character. Resets the validator.
    pub fn finish(&mut self) -> Result<(), Utf8Error> {
        let complete = self.partial_len == 0;
        *self = Utf8Validator::new();
        if complete {
            Ok(())
        } else {
            Err(Utf8Error)
        }
    }

    /// Whether the bytes so far end inside a character.
    #[must_use]
    pub const fn is_mid_character(&self) -> bool {
        self.partial_len > 0
    }

    /// Completes a character carried over from the previous chunk; returns the rest of `chunk`.
    fn complete_partial<'a>(&mut self, chunk: &'a [u8]) -> Result<&'a [u8], Utf8Error> {
        let have = usize::from(self.partial_len);
        let need = char_width(self.partial[0]);
        let take = (need - have).min(chunk.len());
        self.partial[have..have + take].copy_from_slice(&chunk[..take]);
        let filled = &self.partial[..have + take];
        match core::str::from_utf8(filled) {
            Ok(_) => {
                self.partial_len = 0;
                Ok(&chunk[take..])
            }
            Err(err) if err.error_len().is_none() => {
                self.partial_len = filled.len() as u8; // still incomplete, at most 3
                Ok(&chunk[take..])
            }
            Err(_) => Err(Utf8Error),
        }
    }
}

/// The width of a character from its first byte (only called on a valid leading byte).
const fn char_width(first: u8) -> usize {
    match first {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_all(chunks: &[&[u8]]) -> Result<(), Utf8Error> {
        let mut v = Utf8Validator::new();
        for chunk in chunks {
            v.feed(chunk)?;
        }
        v.finish()
    }

    #[test]
    fn split_characters_are_carried_over() {
        let text = "κόσμε ☃ 𝄞".as_bytes();
        for i in 0..=text.len() {
            for j in i..=text.len() {
                assert_eq!(feed_all(&[&text[..i], &text[i..j], &text[j..]]), Ok(()));
            }
        }
        // One byte at a time.
        let chunks: [&[u8]; 4] = [&[0xf0], &[0x9d], &[0x84], &[0x9e]];
        assert_eq!(feed_all(&chunks), Ok(()));
    }

    #[test]
    fn fails_fast_on_impossible_prefixes() {
        let mut v = Utf8Validator::new();
        // 0xf4 0x90 starts a code point above U+10FFFF: fail on the second byte.
        v.feed(&[0xf4]).unwrap();
        assert_eq!(v.feed(&[0x90]), Err(Utf8Error));
        // A surrogate (0xed 0xa0) fails at once.
        assert_eq!(Utf8Validator::new().feed(&[0xed, 0xa0]), Err(Utf8Error));
        assert_eq!(Utf8Validator::new().feed(&[0xff]), Err(Utf8Error));
        assert_eq!(Utf8Validator::new().feed(b"ok\xc0"), Err(Utf8Error));
    }

    #[test]
    fn truncated_character_fails_at_finish() {
        let mut v = Utf8Validator::new();
        v.feed(&[0xe2, 0x98]).unwrap();
        assert!(v.is_mid_character());
        assert_eq!(v.finish(), Err(Utf8Error));
        // finish resets
        assert_eq!(v.finish(), Ok(()));
    }
}
