//! Payload masking (RFC 6455 section 5.3): `apply_mask` (whichever SIMD kernel the CPU gets) and
//! `apply_mask_portable` against the byte-at-a-time `apply_mask_reference`, on any length, key, payload
//! offset, start address and split into pieces.
//!
//! Input: 10 setup bytes, then the payload.
//!
//! | setup byte | meaning |
//! |---|---|
//! | 0-3 | the masking key |
//! | 4-5 | the payload offset of the first byte, little-endian (any phase of the key, and beyond) |
//! | 6 | where the buffer starts: `value % 64` bytes past a 64-byte boundary |
//! | 7 | repeat: the payload is taken `value % 64 + 1` times, so short inputs reach the long kernels |
//! | 8-9 | two cut points, each `value * len / 255`: the buffer is also masked as up to three pieces |
//!
//! Invariants:
//! - `apply_mask` and `apply_mask_portable` give exactly what `apply_mask_reference` gives, and touch no
//!   byte outside the buffer;
//! - masking the pieces, each at its own payload offset, equals masking the whole;
//! - masking twice restores the payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wslane::frame::{apply_mask, apply_mask_portable, apply_mask_reference};
use wslane_fuzz::hex;

const SETUP: usize = 10;
/// Room around the buffer, to place its start and to check that nothing outside it is written.
const MARGIN: usize = 64;
/// The byte the margins are filled with.
const GUARD: u8 = 0xa5;

type Routine = fn(&mut [u8], [u8; 4], usize);

fuzz_target!(|data: &[u8]| {
    let Some((setup, payload)) = data.split_first_chunk::<SETUP>() else {
        return;
    };
    let key = [setup[0], setup[1], setup[2], setup[3]];
    let offset = usize::from(u16::from_le_bytes([setup[4], setup[5]]));
    let skew = usize::from(setup[6]) % MARGIN;
    let payload = payload.repeat(usize::from(setup[7]) % 64 + 1);
    let len = payload.len();
    let mut cuts = [setup[8], setup[9]].map(|c| usize::from(c) * len / 255);
    cuts.sort_unstable();

    let mut expected = payload.clone();
    apply_mask_reference(&mut expected, key, offset);

    let routines: [(&str, Routine); 2] = [
        ("apply_mask", apply_mask),
        ("apply_mask_portable", apply_mask_portable),
    ];
    // A 64-byte aligned scratch area holding guard bytes, the buffer at `skew`, and guard bytes again.
    let mut scratch = vec![GUARD; len + 3 * MARGIN];
    let base = scratch.as_ptr().align_offset(MARGIN).min(MARGIN) + skew;
    for (name, routine) in routines {
        scratch.fill(GUARD);
        scratch[base..base + len].copy_from_slice(&payload);
        routine(&mut scratch[base..base + len], key, offset);
        let context = || {
            format!(
                "{name}: key {}, offset {offset}, skew {skew}, len {len}",
                hex(&key)
            )
        };
        assert!(scratch[base..base + len] == expected[..], "{}", context());
        assert!(
            scratch[..base]
                .iter()
                .chain(&scratch[base + len..])
                .all(|&b| b == GUARD),
            "{}: wrote outside the buffer",
            context()
        );

        routine(&mut scratch[base..base + len], key, offset);
        assert!(
            scratch[base..base + len] == payload[..],
            "{}: masking twice",
            context()
        );

        let mut at = 0;
        for end in cuts.into_iter().chain([len]) {
            routine(&mut scratch[base + at..base + end], key, offset + at);
            at = end;
        }
        assert!(
            scratch[base..base + len] == expected[..],
            "{}: in pieces cut at {cuts:?}",
            context()
        );
    }
});
