//! `utf8::Utf8Validator` fed arbitrary chunks.
//!
//! Invariants, with `from_utf8` on the concatenation as the reference:
//! - exact fail-fast: after each chunk, `feed` has failed exactly when the bytes so far are no longer a
//!   prefix of any valid string (`from_utf8` reports an error with an `error_len`), so at the latest in the
//!   chunk holding the byte at `valid_up_to + error_len` (or the last byte), and never earlier;
//!   `is_mid_character` is true exactly when the bytes so far end inside a character;
//! - `finish` succeeds exactly when the whole input is valid UTF-8, and resets the validator: a second
//!   pass with other chunk sizes over the same validator gives the same answers.

use arbitrary::{Arbitrary, Unstructured};
use wslane::utf8::{validate, Utf8Validator};

use crate::hex;

/// The target's input.
#[derive(Arbitrary, Debug)]
pub struct Input<'a> {
    /// Chunk sizes of the first pass, used in turn; 0 is an empty chunk (all 0: the input at once).
    pub first: [u8; 4],
    /// Chunk sizes of the second pass.
    pub second: [u8; 4],
    /// The bytes.
    pub bytes: &'a [u8],
}

/// Runs the target on one input.
pub fn run(data: &[u8]) {
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let bytes = input.bytes;
    assert_eq!(validate(bytes).is_ok(), core::str::from_utf8(bytes).is_ok());
    let mut validator = Utf8Validator::new();
    pass(&mut validator, &input.first, bytes);
    pass(&mut validator, &input.second, bytes);
}

fn pass(validator: &mut Utf8Validator, sizes: &[u8; 4], bytes: &[u8]) {
    let whole = core::str::from_utf8(bytes);
    // The index of the byte that makes the input invalid.
    let deadline = whole.err().and_then(|e| {
        let len = e.error_len()?;
        Some((e.valid_up_to() + len).min(bytes.len() - 1))
    });
    let all_empty = sizes.iter().all(|&s| s == 0);
    let mut pos = 0;
    let mut failed = false;
    for (i, &size) in sizes.iter().cycle().enumerate() {
        if pos == bytes.len() && i > 0 {
            break;
        }
        let size = if all_empty {
            bytes.len()
        } else {
            usize::from(size)
        };
        let end = (pos + size).min(bytes.len());
        let result = validator.feed(&bytes[pos..end]);
        pos = end;
        let so_far = core::str::from_utf8(&bytes[..pos]);
        let invalid = matches!(so_far, Err(e) if e.error_len().is_some());
        assert_eq!(
            result.is_err(),
            invalid,
            "feed after {pos} bytes returned {result:?}: {}",
            hex(&bytes[..pos])
        );
        if let Some(deadline) = deadline {
            assert!(
                pos <= deadline || result.is_err(),
                "failed later than byte {deadline}"
            );
        }
        if result.is_err() {
            failed = true;
            break;
        }
        assert_eq!(
            validator.is_mid_character(),
            so_far.is_err(),
            "is_mid_character after {}",
            hex(&bytes[..pos])
        );
    }
    let finished = validator.finish();
    if !failed {
        assert_eq!(finished.is_ok(), whole.is_ok(), "finish on {}", hex(bytes));
    }
    assert!(!validator.is_mid_character(), "finish did not reset");
}
