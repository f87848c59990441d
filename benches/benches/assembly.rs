//! Receiving, below the echo: message assembly through `Connection` (server side) and the no-heap
//! `Decoder` alone.
//!
//! - `assembly_<kind>_<size>`: one message of 16 KiB or 1 MiB, whole or split into 2, 16 and 256 frames
//!   (continuation frames), fed to a server `Connection` as one input; an iteration ends with the
//!   message's event. The one-frame case is the reference: it is delivered from the receive buffer with
//!   no copy, while fragments are copied into the reassembly buffer.
//! - `decoder_<kind>`: 64 frames of 16 KiB (1 MiB) through a `Decoder`: with all the input present
//!   (whole frames), and with the input arriving in 4 KiB reads, delivered as whole frames or streamed.
//!   The decoder unmasks in place, so every iteration starts from a fresh copy of the masked input (the
//!   copy is not timed).
// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use wslane::decoder::{Decoded, Decoder, DecoderConfig, Delivery, Item};
use wslane::{Config, Connection, Event, Instant, Role};
use wslane_benches::frames::{self, Kind};

/// Receives one message and returns its length.
fn receive(conn: &mut Connection, wire: &[u8]) -> usize {
    conn.handle_input(Instant::ZERO, wire);
    match conn.poll_event() {
        Ok(Some(Event::Binary(data))) => data.len(),
        Ok(Some(Event::Text(text))) => text.len(),
        other => panic!("expected a message, got {other:?}"),
    }
}

fn assembly(c: &mut Criterion) {
    for kind in Kind::ALL {
        for size in [16 << 10, 1 << 20] {
            let mut group = c.benchmark_group(format!(
                "assembly_{}_{}",
                kind.name(),
                frames::size_label(size)
            ));
            group.throughput(Throughput::Bytes(size as u64));
            if size >= 1 << 20 {
                group.sample_size(20);
            }
            let payload = frames::payload(kind, size);
            for fragments in [1, 2, 16, 256] {
                let wire = frames::fragmented_message(kind, &payload, fragments);
                let mut conn = Connection::server(Instant::ZERO, Config::default());
                // Checked once, outside the timed loop: the message arrives whole and intact.
                conn.handle_input(Instant::ZERO, &wire);
                match conn.poll_event() {
                    Ok(Some(Event::Binary(data))) => assert_eq!(data, payload),
                    Ok(Some(Event::Text(text))) => assert_eq!(text.as_bytes(), payload),
                    other => panic!("expected a message, got {other:?}"),
                }
                let id = if fragments == 1 {
                    "1_frame".to_owned()
                } else {
                    format!("{fragments}_fragments")
                };
                group.bench_function(id, |b| {
                    b.iter(|| receive(&mut conn, black_box(&wire)));
                });
            }
            group.finish();
        }
    }
}

/// The size of one simulated transport read in the streamed decoder benchmarks.
const READ: usize = 4 << 10;

fn decoder_config(delivery: Delivery) -> DecoderConfig {
    DecoderConfig {
        role: Role::Server,
        max_frame_size: 16 << 20,
        max_message_size: 64 << 20,
        extension_rsv: 0,
        delivery,
    }
}

/// Decodes all of `buf` at once; returns the payload bytes handed out.
fn decode_whole(decoder: &mut Decoder, buf: &mut [u8]) -> usize {
    let mut at = 0;
    let mut payload = 0;
    while at < buf.len() {
        match decoder.decode(&mut buf[at..]) {
            Ok(Decoded::Item {
                consumed,
                item: Item::Data(chunk),
            }) => {
                payload += chunk.payload.len();
                at += consumed;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    payload
}

/// Decodes `buf` as if it arrived in reads of [`READ`] bytes: each call sees the bytes not yet consumed
/// followed by those received so far. Returns the payload bytes handed out.
fn decode_in_reads(decoder: &mut Decoder, buf: &mut [u8]) -> usize {
    let (mut start, mut end) = (0, 0);
    let mut payload = 0;
    while end < buf.len() {
        end = (end + READ).min(buf.len());
        loop {
            match decoder.decode(&mut buf[start..end]) {
                Ok(Decoded::NeedMore { .. }) => break,
                Ok(Decoded::Item {
                    consumed,
                    item: Item::Data(chunk),
                }) => {
                    payload += chunk.payload.len();
                    start += consumed;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    payload
}

fn decoder(c: &mut Criterion) {
    const FRAMES: usize = 64;
    const SIZE: usize = 16 << 10;
    type Run = fn(&mut Decoder, &mut [u8]) -> usize;
    let runs: [(&str, Delivery, Run); 3] = [
        ("whole_frames", Delivery::WholeFrames, decode_whole),
        (
            "whole_frames_4KiB_reads",
            Delivery::WholeFrames,
            decode_in_reads,
        ),
        ("streaming_4KiB_reads", Delivery::Streaming, decode_in_reads),
    ];
    for kind in Kind::ALL {
        let mut group = c.benchmark_group(format!("decoder_{}", kind.name()));
        group.throughput(Throughput::Bytes((FRAMES * SIZE) as u64));
        let input = frames::client_batch(kind, &frames::payload(kind, SIZE), FRAMES);
        for (id, delivery, run) in runs {
            let mut decoder = Decoder::new(decoder_config(delivery));
            assert_eq!(run(&mut decoder, &mut input.clone()), FRAMES * SIZE, "{id}");
            group.bench_function(id, |b| {
                b.iter_batched_ref(
                    || input.clone(),
                    |buf| run(&mut decoder, buf),
                    BatchSize::LargeInput,
                );
            });
        }
        group.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .nresamples(20_000)
}

criterion_group! {
    name = benches;
    config = config();
    targets = assembly, decoder
}
criterion_main!(benches);
