//! Every masking routine against the byte-at-a-time reference: each length up to 4 KiB at every offset,
//! random large buffers at any address, keys and split points, and each SIMD kernel the CPU supports
//! called directly, so kernels the dispatch does not pick on this machine are covered too.
#![allow(unsafe_code)]

extern crate std;

use proptest::prelude::*;
use proptest::sample::Index;
use std::vec::Vec;

use super::*;

/// A masking routine under test, with the signature of [`apply_mask`].
type Routine = fn(&mut [u8], [u8; 4], usize);

/// The public routines and every kernel this CPU can run, by name.
fn routines() -> Vec<(&'static str, Routine)> {
    let mut all: Vec<(&'static str, Routine)> = std::vec![
        ("apply_mask", apply_mask),
        ("apply_mask_portable", apply_mask_portable),
    ];
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        #[cfg(target_feature = "sse2")]
        all.push(("sse2", |buf, key, offset| {
            x86::sse2(buf, rotate(key, offset))
        }));
        all.push(("sse2_long", |buf, key, offset| {
            x86::sse2_long(buf, rotate(key, offset))
        }));
        if std::is_x86_feature_detected!("avx2") {
            all.push(("avx2", |buf, key, offset| {
                // SAFETY: this routine is listed only after the CPU was found to support AVX2.
                unsafe { x86::avx2(buf, rotate(key, offset)) }
            }));
        }
    }
    #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
    all.push(("neon", |buf, key, offset| {
        aarch64::neon(buf, rotate(key, offset))
    }));
    all
}

/// Bytes that differ from each other and from their neighbours' masks.
fn sample(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + 7) as u8).collect()
}

#[test]
fn rfc_6455_masked_hello() {
    for (name, routine) in routines() {
        let mut payload = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
        routine(&mut payload, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(&payload, b"Hello", "{name}");
    }
}

/// Masks `data[start..start + len]` with `routine` for each `len` in `lens` and checks it against the
/// prefix of `expected` (`data` masked by the reference), and that the bytes around it are untouched.
fn check_lengths(
    name: &str,
    routine: Routine,
    (data, expected): (&[u8], &[u8]),
    key: [u8; 4],
    offset: usize,
    start: usize,
    lens: core::ops::RangeInclusive<usize>,
) {
    let mut buf = data.to_vec();
    for len in lens {
        let end = start + len;
        routine(&mut buf[start..end], key, offset + start);
        assert!(
            buf[start..end] == expected[start..end],
            "{name}: len {len}, offset {offset}, start {start}"
        );
        assert_eq!(
            buf[..start],
            data[..start],
            "{name}: wrote before the buffer"
        );
        assert_eq!(
            buf[end..end + 1],
            data[end..end + 1],
            "{name}: wrote past the buffer"
        );
        buf[start..end].copy_from_slice(&data[start..end]);
    }
}

/// A few lengths past 1 KiB, where the long kernels first align the buffer start: few enough to run under
/// Miri (`scripts/miri.sh`), which cannot afford the sweep below.
#[test]
fn aligning_prologue_of_the_long_kernels() {
    let key = [0x01, 0x80, 0x7f, 0xfe];
    let data = sample(1100 + 64);
    for offset in [0, 3] {
        let mut expected = data.clone();
        apply_mask_reference(&mut expected, key, offset);
        let both = (&data[..], &expected[..]);
        for (name, routine) in routines() {
            // From an aligned and from odd addresses, so the prologue masks 0 to 31 bytes first.
            for start in [0, 1, 7, 31] {
                check_lengths(name, routine, both, key, offset, start, 1024..=1030);
            }
        }
    }
}

#[test]
fn every_length_to_4_kib_at_every_offset_and_start() {
    let key = [0x01, 0x80, 0x7f, 0xfe];
    let data = sample(4096 + 64);
    for offset in 0..8 {
        // The reference over the longest buffer; a part of it is the reference for that part.
        let mut expected = data.clone();
        apply_mask_reference(&mut expected, key, offset);
        let both = (&data[..], &expected[..]);
        // Past every threshold (a vector, the SIMD kernels, the aligning) for each phase of the key;
        // offsets from 4 on only repeat those phases, so they stop a little past 1 KiB.
        let longest = if offset < 4 { 4096 } else { 1100 };
        for (name, routine) in routines() {
            // Every length from an aligned and from an odd address; to 256 bytes from every start within
            // the widest vector.
            for start in [0, 1] {
                check_lengths(name, routine, both, key, offset, start, 0..=longest);
            }
            for start in 2..32 {
                check_lengths(name, routine, both, key, offset, start, 0..=256);
            }
        }
    }
}

#[test]
fn pieces_at_any_offset_equal_the_whole() {
    let key = [1, 2, 3, 4];
    let data = sample(301);
    let mut whole = data.clone();
    apply_mask_reference(&mut whole, key, 0);
    for (name, routine) in routines() {
        for cut in 0..=data.len() {
            let mut pieces = data.clone();
            let (a, b) = pieces.split_at_mut(cut);
            routine(a, key, 0);
            routine(b, key, cut);
            assert!(pieces == whole, "{name}: cut at {cut}");
        }
    }
}

/// A length: mostly within a few KiB, sometimes up to a MiB and a bit.
fn length() -> impl Strategy<Value = usize> {
    prop_oneof![8 => 0usize..=4096, 1 => 4096usize..=(1 << 20) + 100]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_routine_matches_the_reference(
        len in length(),
        start in 0usize..64,
        offset in 0usize..8,
        key in any::<[u8; 4]>(),
        seed in any::<u8>(),
    ) {
        let data: Vec<u8> = (0..start + len).map(|i| (i as u8).wrapping_mul(seed | 1) ^ seed).collect();
        let mut expected = data.clone();
        apply_mask_reference(&mut expected[start..], key, offset);
        for (name, routine) in routines() {
            let mut buf = data.clone();
            routine(&mut buf[start..], key, offset);
            prop_assert!(buf == expected, "{}", name);
            routine(&mut buf[start..], key, offset);
            prop_assert!(buf == data, "{}: unmasking restores", name);
        }
    }

    #[test]
    fn masking_in_pieces_equals_masking_whole(
        len in length(),
        offset in 0usize..8,
        key in any::<[u8; 4]>(),
        cuts in prop::collection::vec(any::<Index>(), 0..6),
    ) {
        let data = sample(len);
        let mut whole = data.clone();
        apply_mask_reference(&mut whole, key, offset);
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(len + 1)).collect();
        points.sort_unstable();
        for (name, routine) in routines() {
            let mut pieces = data.clone();
            let mut at = 0;
            for end in points.iter().copied().chain([len]) {
                routine(&mut pieces[at..end], key, offset + at);
                at = end;
            }
            prop_assert!(pieces == whole, "{}: cut at {:?}", name, points);
        }
    }
}
