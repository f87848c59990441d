//! Every server-only harness, on every benchmark case, writes exactly the expected server frames, round
//! after round.

use wslane::frame::apply_mask;
use wslane_benches::echo::{Case, Echo};
use wslane_benches::frames::Kind;
use wslane_benches::server::{
    CoreServer, Fastwebsockets, Floor, FloorMessage, FloorUnmask, ServerOnly, TokioTungstenite,
    TokioWebsockets, WslaneTokio, FLOOR_KEY,
};

fn verify_all<E: Echo>() {
    for case in Case::all() {
        E::new(&case).verify(&case);
    }
}

#[test]
fn wslane_core_serves_every_case() {
    verify_all::<CoreServer>();
}

#[test]
fn wslane_tokio_serves_every_case() {
    verify_all::<ServerOnly<WslaneTokio>>();
}

#[test]
fn fastwebsockets_serves_every_case() {
    verify_all::<ServerOnly<Fastwebsockets>>();
}

#[test]
fn tokio_websockets_serves_every_case() {
    verify_all::<ServerOnly<TokioWebsockets>>();
}

#[test]
fn tokio_tungstenite_serves_every_case() {
    verify_all::<ServerOnly<TokioTungstenite>>();
}

/// The floors of `server_rounds` are not echoes, but they must do the work they stand for: write back every
/// byte read, the unmasking ones each byte unmasked once (`FloorMessage` from each frame's start, where it
/// begins its buffer; `FloorUnmask` over the stream as a whole).
#[test]
fn floors_write_back_every_byte_unmasked_once() {
    for size in [20, 16 << 10, 1 << 20] {
        let case = Case::new(Kind::Binary, size);
        let input = case.input();
        assert_eq!(
            ServerOnly::<Floor>::new(&case).round_captured(),
            input,
            "floor, {size} B"
        );

        let mut unmasked = input.clone();
        apply_mask(&mut unmasked, FLOOR_KEY, 0);
        assert_eq!(
            ServerOnly::<FloorUnmask>::new(&case).round_captured(),
            unmasked,
            "floor_unmask, {size} B"
        );

        let frame = input.len() / case.batch;
        let mut per_frame = input.clone();
        for chunk in per_frame.chunks_mut(frame) {
            apply_mask(chunk, FLOOR_KEY, 0);
        }
        let captured = ServerOnly::<FloorMessage>::new(&case).round_captured();
        if size >= 16 << 10 {
            // One buffer per frame.
            assert_eq!(captured, per_frame, "floor_message, {size} B");
        } else {
            // Frames smaller than the least buffer share it: what is read at once is unmasked at once.
            assert_eq!(captured.len(), input.len(), "floor_message, {size} B");
        }
    }
}
