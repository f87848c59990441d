//! Payload masking (RFC 6455 section 5.3): the dispatched `apply_mask` (the widest SIMD kernel the CPU has)
//! against the portable word-at-a-time `apply_mask_portable` and the byte-at-a-time reference.
//!
//! `mask/size` covers frame sizes from one byte to 1 MiB at key offset 0 (the reference only to 16 KiB);
//! `mask/offset` every key offset 0 to 3, with the buffer starting the same number of bytes past a 64-byte
//! boundary (so the long kernels also meet misaligned buffers), at a frame-sized, an L1-sized and a larger
//! size.
//!
//! ```text
//! cargo bench -p wslane-benches --bench mask              # under a minute
//! cargo bench -p wslane-benches --bench mask -- --quick   # about 20 seconds
//! ```
// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use wslane::frame::{apply_mask, apply_mask_portable, apply_mask_reference};

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

const SIZES: [(usize, &str); 7] = [
    (1, "1B"),
    (20, "20B"),
    (125, "125B"),
    (1 << 10, "1KiB"),
    (16 << 10, "16KiB"),
    (64 << 10, "64KiB"),
    (1 << 20, "1MiB"),
];

/// The largest size the byte-at-a-time reference is measured at.
const REFERENCE_MAX: usize = 16 << 10;

type Routine = fn(&mut [u8], [u8; 4], usize);

const ROUTINES: [(&str, Routine); 3] = [
    ("apply_mask", apply_mask),
    ("portable", apply_mask_portable),
    ("reference", apply_mask_reference),
];

/// A buffer of `len` bytes starting `skew` bytes past a 64-byte boundary, in a vector that holds it.
fn buffer(len: usize, skew: usize) -> (Vec<u8>, usize) {
    let storage: Vec<u8> = (0..len + 64 + skew).map(|i| i as u8).collect();
    let start = storage.as_ptr().align_offset(64) + skew;
    (storage, start)
}

fn sizes(c: &mut Criterion) {
    let mut group = c.benchmark_group("mask/size");
    for (len, label) in SIZES {
        group.throughput(Throughput::Bytes(len as u64));
        let (mut storage, start) = buffer(len, 0);
        let buf = &mut storage[start..start + len];
        for (name, routine) in ROUTINES {
            if name == "reference" && len > REFERENCE_MAX {
                continue;
            }
            group.bench_function(BenchmarkId::new(name, label), |b| {
                b.iter(|| routine(black_box(&mut *buf), black_box(KEY), black_box(0)));
            });
        }
    }
    group.finish();
}

fn offsets(c: &mut Criterion) {
    let mut group = c.benchmark_group("mask/offset");
    for (len, label) in [(20, "20B"), (16 << 10, "16KiB"), (1 << 20, "1MiB")] {
        group.throughput(Throughput::Bytes(len as u64));
        for offset in 0..4 {
            let (mut storage, start) = buffer(len, offset);
            let buf = &mut storage[start..start + len];
            for (name, routine) in &ROUTINES[..2] {
                let id = BenchmarkId::new(*name, format!("{label}/{offset}"));
                group.bench_function(id, |b| {
                    b.iter(|| routine(black_box(&mut *buf), black_box(KEY), black_box(offset)));
                });
            }
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(500))
        .sample_size(30)
        .nresamples(20_000);
    targets = sizes, offsets
}
criterion_main!(benches);
