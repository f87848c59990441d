//! The whole server-side echo, in memory, for wslane and its peers: one group per message kind and size
//! (`echo_<kind>_<size>`), one benchmark per implementation. An iteration echoes one batch of messages;
//! the throughput is in messages, so criterion reports the time per message.
//!
//! Before timing, each harness's output for a batch is checked against the expected server frames, so a
//! benchmark cannot silently measure nothing. `scripts/bench.sh` turns the results into a ratio table.
// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode, Throughput,
};
use wslane_benches::echo::fastwebsockets::Fastwebsockets;
use wslane_benches::echo::tokio_websockets::TokioWebsockets;
use wslane_benches::echo::tungstenite::Tungstenite;
use wslane_benches::echo::wslane_core::WslaneCore;
use wslane_benches::echo::wslane_tokio::WslaneTokio;
use wslane_benches::echo::{Case, Echo};

fn bench<E: Echo>(group: &mut BenchmarkGroup<'_, WallTime>, case: &Case) {
    let mut harness = E::new(case);
    harness.verify(case);
    group.bench_function(E::NAME, |b| b.iter(|| black_box(harness.round())));
}

fn echo(c: &mut Criterion) {
    for case in Case::all() {
        let mut group = c.benchmark_group(case.group_name());
        group.throughput(Throughput::Elements(case.batch as u64));
        // An iteration of 16 KiB or 1 MiB messages takes milliseconds: fewer samples, flat sampling.
        if case.size >= 16 << 10 {
            group.sampling_mode(SamplingMode::Flat);
            group.sample_size(if case.size >= 1 << 20 { 10 } else { 30 });
        }
        bench::<WslaneCore>(&mut group, &case);
        bench::<Tungstenite>(&mut group, &case);
        bench::<WslaneTokio>(&mut group, &case);
        bench::<Fastwebsockets>(&mut group, &case);
        bench::<TokioWebsockets>(&mut group, &case);
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
    targets = echo
}
criterion_main!(benches);
