//! Every server-only harness, on every benchmark case, writes exactly the expected server frames, round
//! after round.

use wslane_benches::echo::{Case, Echo};
use wslane_benches::server::{
    CoreServer, Fastwebsockets, ServerOnly, TokioTungstenite, TokioWebsockets, WslaneTokio,
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
