//! The frame codec alone: `FrameHeader::parse`, `FrameHeader::encode` and `FrameHeader::to_bytes` for each
//! length encoding (7-bit, 16-bit, 64-bit), masked (as a client sends) and unmasked (as a server sends).
// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use wslane::frame::{FrameHeader, OpCode, Parsed, MAX_HEADER_LEN};

/// (id, payload length): one per length encoding.
const LENGTHS: [(&str, u64); 3] = [("7bit", 20), ("16bit", 16 << 10), ("64bit", 1 << 20)];

/// Each header in both forms, with its id: `<length>_<masked|unmasked>`.
fn headers() -> Vec<(String, FrameHeader)> {
    let mut out = Vec::new();
    for (name, len) in LENGTHS {
        for masked in [true, false] {
            let mut header = FrameHeader::new(OpCode::Binary, len);
            let id = if masked {
                header.mask = Some([0x37, 0xfa, 0x21, 0x3d]);
                format!("{name}_masked")
            } else {
                format!("{name}_unmasked")
            };
            out.push((id, header));
        }
    }
    out
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("frame_parse");
    for (id, header) in headers() {
        let bytes = header.to_bytes();
        let len = bytes.len();
        // The header followed by payload bytes, as it sits in a receive buffer.
        let mut buf = bytes.to_vec();
        buf.resize(len + 64, 0xa5);
        assert_eq!(
            FrameHeader::parse(&buf),
            Ok(Parsed::Complete { header, len }),
            "{id}"
        );
        group.bench_function(id, |b| b.iter(|| FrameHeader::parse(black_box(&buf))));
    }
    group.finish();
}

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("frame_encode");
    for (id, header) in headers() {
        let mut buf = [0; MAX_HEADER_LEN];
        group.bench_function(id, |b| {
            b.iter(|| black_box(&header).encode(black_box(&mut buf)))
        });
    }
    group.finish();
    let mut group = c.benchmark_group("frame_to_bytes");
    for (id, header) in headers() {
        group.bench_function(id, |b| b.iter(|| black_box(&header).to_bytes()));
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(1))
        .nresamples(20_000)
}

criterion_group! {
    name = benches;
    config = config();
    targets = parse, encode
}
criterion_main!(benches);
