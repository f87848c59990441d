//! `utf8::Utf8Validator` fed arbitrary chunks.
//!
//! Invariants, with `from_utf8` on the concatenation as the reference:
//! - exact fail-fast: after each chunk, `feed` has failed exactly when the bytes so far are no longer a
//!   prefix of any valid string (`from_utf8` reports an error with an `error_len`), so at the latest in the
//!   chunk holding the byte at `valid_up_to + error_len` (or the last byte), and never earlier;
//!   `is_mid_character` is true exactly when the bytes so far end inside a character;
//! - `finish` succeeds exactly when the whole input is valid UTF-8, and resets the validator: a second
//!   pass with other chunk sizes over the same validator gives the same answers;
//! - a third pass feeds a masked copy through `feed_masked` (the key is `first`, the chunk sizes are
//!   `second`'s times 4, so chunks reach the fused kernel's 256 bytes, and the copy starts `first[0] % 64`
//!   bytes into its buffer, so blocks sit at every alignment): the same answers, and every chunk it is
//!   given comes back unmasked, whatever the verdict.

use arbitrary::{Arbitrary, Unstructured};
use wslane::frame::apply_mask_reference;
use wslane::utf8::{validate, Utf8Error, Utf8Validator};

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
    let plain = |validator: &mut Utf8Validator, start: usize, end: usize| validator.feed(&bytes[start..end]);
    pass(&mut validator, input.first.map(usize::from), bytes, plain);
    pass(&mut validator, input.second.map(usize::from), bytes, plain);
    // The masked pass.
    let key = input.first;
    let shift = usize::from(input.first[0]) % 64;
    let mut wire = vec![0; shift];
    wire.extend_from_slice(bytes);
    apply_mask_reference(&mut wire[shift..], key, 0);
    let masked = |validator: &mut Utf8Validator, start: usize, end: usize| {
        let chunk = &mut wire[shift + start..shift + end];
        let result = validator.feed_masked(chunk, key, start);
        assert_eq!(chunk, &bytes[start..end], "feed_masked left bytes {start}..{end} masked");
        result
    };
    pass(&mut validator, input.second.map(|size| usize::from(size) * 4), bytes, masked);
}

fn pass(
    validator: &mut Utf8Validator,
    sizes: [usize; 4],
    bytes: &[u8],
    mut feed: impl FnMut(&mut Utf8Validator, usize, usize) -> Result<(), Utf8Error>,
) {
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
            size
        };
        let end = (pos + size).min(bytes.len());
        let result = feed(validator, pos, end);
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
