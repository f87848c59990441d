//! UTF-8 validation: wslane's `validate` and streaming `Utf8Validator` against `core::str::from_utf8`.
//!
//! Inputs of 20 B, 1 KiB, 16 KiB and 1 MiB in three kinds: ASCII, mixed multilingual text (Latin,
//! Cyrillic, CJK and some emoji) and emoji only (4-byte characters), all built deterministically.
//! Each input is checked four ways, with the throughput in bytes of input: `core` is
//! `core::str::from_utf8` on the whole buffer, `validate` is `wslane::utf8::validate` on it, `whole` is one
//! `Utf8Validator::feed` of it and `finish`, and `split` feeds it in pieces of about 1 KiB cut at byte
//! offsets that ignore character boundaries (inputs up to 1 KiB in three pieces), so most cuts fall inside
//! a character and the validator carries it over.
//!
//! Two more runs start from the input masked, as a client sends it (a fresh copy per iteration, made
//! outside the timing): `mask_feed` unmasks it with `apply_mask` and then feeds it whole, the way a
//! decoder did before the two were fused; `feed_masked` does both with `Utf8Validator::feed_masked`, in
//! one pass where the CPU has AVX-512.
//!
//! Run with `cargo bench -p wslane-benches --bench utf8` (add `-- --quick` for a short run).

// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{
    criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use wslane::frame::apply_mask;
use wslane::utf8::{validate, Utf8Validator};

/// The masking key of the masked runs.
const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A masked run: unmasks and validates its buffer, and says whether the text was valid.
type MaskedRun = fn(&mut Vec<u8>) -> bool;

const SIZES: [(usize, &str); 4] = [
    (20, "20B"),
    (1024, "1KiB"),
    (16 * 1024, "16KiB"),
    (1024 * 1024, "1MiB"),
];

/// Piece lengths of the `split` runs, used in turn: about 1 KiB, none a multiple of a character width.
const PIECES: [usize; 4] = [1021, 997, 1031, 1013];

/// A small deterministic generator (xorshift64*), so every run measures the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const ASCII_WORDS: [&str; 8] = [
    "the ", "quick ", "brown ", "fox ", "jumps ", "over ", "lazy ", "dogs. ",
];
const LATIN_WORDS: [&str; 6] = ["Grüße ", "naïve ", "café ", "Straße ", "señor ", "déjà vu "];
const CYRILLIC_WORDS: [&str; 6] = [
    "Привет ",
    "мир ",
    "сообщение ",
    "текст ",
    "быстро ",
    "проверка ",
];
const CJK_WORDS: [&str; 6] = ["你好", "世界", "こんにちは", "日本語", "한국어 ", "文字列"];
const EMOJI: [&str; 8] = ["😀", "🎉", "🚀", "👍", "🦀", "🌍", "💡", "🔥"];

/// Text of exactly `len` bytes (padded with spaces after the last whole character).
fn text(len: usize, kind: &str) -> Vec<u8> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ len as u64);
    let mut out = String::with_capacity(len + 16);
    while out.len() < len {
        let piece = match kind {
            "ascii" => rng.pick(&ASCII_WORDS),
            "emoji" => rng.pick(&EMOJI),
            // Mixed: runs of each script in turn, with the occasional emoji.
            _ => match rng.next() % 16 {
                0..=3 => rng.pick(&ASCII_WORDS),
                4..=6 => rng.pick(&LATIN_WORDS),
                7..=10 => rng.pick(&CYRILLIC_WORDS),
                11..=14 => rng.pick(&CJK_WORDS),
                _ => rng.pick(&EMOJI),
            },
        };
        if out.len() + piece.len() > len {
            break;
        }
        out.push_str(piece);
    }
    while out.len() < len {
        out.push(' ');
    }
    out.into_bytes()
}

/// The pieces of a `split` run.
fn pieces(bytes: &[u8]) -> Vec<&[u8]> {
    if bytes.len() <= 1024 {
        let (a, b) = (bytes.len() / 3, bytes.len() * 2 / 3 + 1);
        return vec![&bytes[..a], &bytes[a..b], &bytes[b..]];
    }
    let mut out = Vec::new();
    let mut rest = bytes;
    for &len in PIECES.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (piece, tail) = rest.split_at(len.min(rest.len()));
        out.push(piece);
        rest = tail;
    }
    out
}

fn utf8(c: &mut Criterion) {
    for kind in ["ascii", "mixed", "emoji"] {
        let mut group = c.benchmark_group(format!("utf8/{kind}"));
        // Short enough for `--quick` (which stops at the measurement time) to finish the file in well under
        // a minute; the 1 MiB runs take fewer samples of equal size.
        group
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_millis(200));
        for (len, label) in SIZES {
            if len >= 1024 * 1024 {
                group.sample_size(20).sampling_mode(SamplingMode::Flat);
            } else {
                group.sample_size(100).sampling_mode(SamplingMode::Auto);
            }
            let bytes = text(len, kind);
            assert!(core::str::from_utf8(&bytes).is_ok());
            let split = pieces(&bytes);
            group.throughput(Throughput::Bytes(len as u64));
            group.bench_with_input(BenchmarkId::new("core", label), &bytes, |b, bytes| {
                b.iter(|| core::str::from_utf8(black_box(bytes)).is_ok())
            });
            group.bench_with_input(BenchmarkId::new("validate", label), &bytes, |b, bytes| {
                b.iter(|| validate(black_box(bytes)).is_ok())
            });
            group.bench_with_input(BenchmarkId::new("whole", label), &bytes, |b, bytes| {
                b.iter(|| {
                    let mut v = Utf8Validator::new();
                    v.feed(black_box(bytes)).is_ok() && v.finish().is_ok()
                })
            });
            group.bench_with_input(BenchmarkId::new("split", label), &split, |b, split| {
                b.iter(|| {
                    let mut v = Utf8Validator::new();
                    black_box(split).iter().all(|piece| v.feed(piece).is_ok()) && v.finish().is_ok()
                })
            });
            let mut masked = bytes.clone();
            apply_mask(&mut masked, KEY, 0);
            let batch = if len >= 1024 * 1024 {
                BatchSize::LargeInput
            } else {
                BatchSize::SmallInput
            };
            let runs: [(&str, MaskedRun); 2] = [
                ("mask_feed", |buf| {
                    apply_mask(buf, KEY, 0);
                    let mut v = Utf8Validator::new();
                    v.feed(buf).is_ok() && v.finish().is_ok()
                }),
                ("feed_masked", |buf| {
                    let mut v = Utf8Validator::new();
                    v.feed_masked(buf, KEY, 0).is_ok() && v.finish().is_ok()
                }),
            ];
            for (name, run) in runs {
                group.bench_with_input(BenchmarkId::new(name, label), &masked, |b, masked| {
                    b.iter_batched_ref(|| masked.clone(), run, batch)
                });
            }
        }
        group.finish();
    }
}

criterion_group!(benches, utf8);
criterion_main!(benches);
