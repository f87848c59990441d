//! One server-only benchmark case run a fixed number of times, for instruction counts under callgrind
//! (repeatable on a loaded machine, where wall-clock times are not).
//!
//! ```text
//! server_rounds <library> <binary|text> <size in bytes> <rounds>
//! ```
//!
//! It prints the wall-clock time per message of the rounds (after the check). `library` is one of
//! `wslane_core`, `wslane_tokio`, `wslane_tokio_owned` (owned messages: `recv` then `feed`),
//! `fastwebsockets`, `tokio_websockets`, `tokio_tungstenite`, or one of three floors that are not echoes:
//! `floor` (no WebSocket: the input written back, the cost of the harness itself), `floor_unmask` (the
//! same with every byte read unmasked in place: the work any server that hands out what it received must
//! do) and `floor_message` (the same holding each whole frame before writing it back: a whole-message
//! server's least work, written plainly). The harness is the one of the `server` bench
//! (`wslane_benches::server`), checked once before the rounds. Instructions per message: run twice with
//! different `rounds` and divide the difference by the extra messages (`rounds` × the case's batch),
//! which cancels the setup:
//!
//! ```text
//! valgrind --tool=callgrind --callgrind-out-file=a.out server_rounds wslane_tokio binary 16384 20
//! valgrind --tool=callgrind --callgrind-out-file=b.out server_rounds wslane_tokio binary 16384 120
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use wslane_benches::echo::{Case, Echo};
use wslane_benches::frames::Kind;
use wslane_benches::server::{
    CoreServer, Fastwebsockets, Floor, FloorMessage, FloorUnmask, ServerOnly, TokioTungstenite,
    TokioWebsockets, WslaneTokio, WslaneTokioOwned,
};

/// Runs `rounds` rounds after the check; returns their wall-clock time.
fn run<E: Echo>(case: &Case, rounds: usize) -> Duration {
    let mut harness = E::new(case);
    let floors = [
        <Floor as wslane_benches::server::Server>::NAME,
        <FloorUnmask as wslane_benches::server::Server>::NAME,
        <FloorMessage as wslane_benches::server::Server>::NAME,
    ];
    let expected = if floors.contains(&E::NAME) {
        // The whole input, written back.
        case.input().len()
    } else {
        harness.verify(case);
        case.expected_output().len()
    };
    let started = Instant::now();
    for _ in 0..rounds {
        assert_eq!(black_box(harness.round()), expected, "bytes echoed");
    }
    started.elapsed()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [library, kind, size, rounds] = &args[..] else {
        eprintln!("usage: server_rounds <library> <binary|text> <size in bytes> <rounds>");
        std::process::exit(2);
    };
    let kind = match kind.as_str() {
        "binary" => Kind::Binary,
        "text" => Kind::Text,
        other => panic!("unknown kind {other}"),
    };
    let case = Case::new(kind, size.parse().expect("a size in bytes"));
    let rounds: usize = rounds.parse().expect("a number of rounds");
    let elapsed = match library.as_str() {
        "wslane_core" => run::<CoreServer>(&case, rounds),
        "wslane_tokio" => run::<ServerOnly<WslaneTokio>>(&case, rounds),
        "wslane_tokio_owned" => run::<ServerOnly<WslaneTokioOwned>>(&case, rounds),
        "fastwebsockets" => run::<ServerOnly<Fastwebsockets>>(&case, rounds),
        "tokio_websockets" => run::<ServerOnly<TokioWebsockets>>(&case, rounds),
        "tokio_tungstenite" => run::<ServerOnly<TokioTungstenite>>(&case, rounds),
        "floor" => run::<ServerOnly<Floor>>(&case, rounds),
        "floor_unmask" => run::<ServerOnly<FloorUnmask>>(&case, rounds),
        "floor_message" => run::<ServerOnly<FloorMessage>>(&case, rounds),
        other => panic!("unknown library {other}"),
    };
    let messages = rounds * case.batch;
    // (Under callgrind the time means nothing; the instruction counts do.)
    println!(
        "{messages} messages, {:.0} ns per message",
        elapsed.as_nanos() as f64 / messages.max(1) as f64
    );
}
