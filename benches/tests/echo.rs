//! Every echo harness, on every benchmark case, echoes exactly the expected server frames: the comparison
//! only means something if each implementation does the same work.

use wslane_benches::echo::fastwebsockets::Fastwebsockets;
use wslane_benches::echo::tokio_websockets::TokioWebsockets;
use wslane_benches::echo::tungstenite::Tungstenite;
use wslane_benches::echo::wslane_core::WslaneCore;
use wslane_benches::echo::wslane_tokio::WslaneTokio;
use wslane_benches::echo::{Case, Echo};

fn verify_all<E: Echo>() {
    for case in Case::all() {
        E::new(&case).verify(&case);
    }
}

#[test]
fn wslane_core_echoes_every_case() {
    verify_all::<WslaneCore>();
}

#[test]
fn wslane_tokio_echoes_every_case() {
    verify_all::<WslaneTokio>();
}

#[test]
fn tungstenite_echoes_every_case() {
    verify_all::<Tungstenite>();
}

#[test]
fn fastwebsockets_echoes_every_case() {
    verify_all::<Fastwebsockets>();
}

#[test]
fn tokio_websockets_echoes_every_case() {
    verify_all::<TokioWebsockets>();
}

#[test]
fn cases_cover_every_size_and_kind() {
    let names: Vec<_> = Case::all().iter().map(Case::group_name).collect();
    assert_eq!(
        names,
        [
            "echo_binary_20B",
            "echo_text_20B",
            "echo_binary_1KiB",
            "echo_text_1KiB",
            "echo_binary_16KiB",
            "echo_text_16KiB",
            "echo_binary_1MiB",
            "echo_text_1MiB",
        ]
    );
}
