//! Server-side echo only, in memory: masked client frames replayed from memory into each library's server
//! on a current-thread tokio runtime (the core driven by hand), the output copied, counted and checked, no
//! client task in the loop (`wslane_benches::server`). One group per message kind and size
//! (`server_<kind>_<size>`), one benchmark per implementation; the throughput is in messages, so criterion
//! reports the time per message.
// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode, Throughput,
};
use wslane_benches::echo::{Case, Echo};
use wslane_benches::server::{
    CoreServer, Fastwebsockets, ServerOnly, TokioTungstenite, TokioWebsockets, WslaneTokio,
    WslaneTokioOwned,
};

fn bench<E: Echo>(group: &mut BenchmarkGroup<'_, WallTime>, case: &Case) {
    let mut harness = E::new(case);
    harness.verify(case);
    let expected = case.expected_output().len();
    group.bench_function(E::NAME, |b| {
        b.iter(|| {
            let written = harness.round();
            assert_eq!(written, expected, "{}: bytes echoed", E::NAME);
            black_box(written)
        });
    });
}

fn server(c: &mut Criterion) {
    for case in Case::all() {
        let name = case.group_name().replacen("echo_", "server_", 1);
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(case.batch as u64));
        if case.size >= 16 << 10 {
            group.sampling_mode(SamplingMode::Flat);
            group.sample_size(if case.size >= 1 << 20 { 10 } else { 30 });
        }
        bench::<CoreServer>(&mut group, &case);
        bench::<ServerOnly<WslaneTokio>>(&mut group, &case);
        bench::<ServerOnly<WslaneTokioOwned>>(&mut group, &case);
        bench::<ServerOnly<Fastwebsockets>>(&mut group, &case);
        bench::<ServerOnly<TokioWebsockets>>(&mut group, &case);
        bench::<ServerOnly<TokioTungstenite>>(&mut group, &case);
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
    targets = server
}
criterion_main!(benches);
