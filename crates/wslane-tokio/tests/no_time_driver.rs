//! A tokio runtime built without its time driver (`enable_io()` only): the handshake calls refuse it with
//! an `Unsupported` error that names `enable_time()`, and a socket that reaches such a runtime anyway runs
//! and closes without its timers. Nothing panics, and tokio's "timers are disabled" message never reaches
//! the panic hook's output.

mod support;

use std::io::ErrorKind;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

use support::{in_memory_request, PIPE};
use tokio::io::AsyncWriteExt;
use wslane_tokio::{
    Acceptance, CloseCode, Config, Error, Message, ServerConfig, ServerHandshake, WebSocketStream,
};

/// Panics that reached the hook with tokio's message for a missing time driver.
static TIMER_PANICS: AtomicUsize = AtomicUsize::new(0);

/// Installs a hook that counts tokio's "timers are disabled" panics, before anything can probe (so the
/// probe's own hook wraps this one, as it wraps any application's hook). Every test calls it first.
fn count_timer_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.to_string().contains("timers are disabled") {
                TIMER_PANICS.fetch_add(1, Ordering::SeqCst);
            }
            previous(info);
        }));
    });
}

/// A runtime with I/O and no timers.
fn runtime_without_time() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap()
}

/// The refusal: an I/O error of kind `Unsupported` that tells how to fix the runtime.
#[track_caller]
fn assert_refused<T: std::fmt::Debug>(result: Result<T, Error>) {
    match result {
        Err(Error::Io(err)) => {
            assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
            let message = err.to_string();
            assert!(
                message.contains("enable_time()") && message.contains("enable_all()"),
                "the error should name the fix: {message}"
            );
        }
        other => panic!("expected an Unsupported I/O error, got {other:?}"),
    }
    assert_eq!(
        TIMER_PANICS.load(Ordering::SeqCst),
        0,
        "a panic reached the hook"
    );
}

#[test]
fn accept_refuses_a_runtime_without_timers() {
    count_timer_panics();
    runtime_without_time().block_on(async {
        let (server_io, mut raw) = tokio::io::duplex(PIPE);
        // The client's request is already there: the refusal does not depend on the peer.
        raw.write_all(support::raw_request("13").as_bytes())
            .await
            .unwrap();
        assert_refused(wslane_tokio::accept(server_io).await);
    });
}

#[test]
fn accept_with_read_request_and_upgrade_refuse_a_runtime_without_timers() {
    count_timer_panics();
    // `upgrade` needs a request: read one on a runtime with timers, then upgrade on one without.
    let (mut server_io, _raw) = tokio::io::duplex(PIPE);
    let request = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let (mut upgraded_io, mut raw) = tokio::io::duplex(PIPE);
            raw.write_all(support::raw_request("13").as_bytes())
                .await
                .unwrap();
            let mut handshake = ServerHandshake::new(ServerConfig::default());
            wslane_tokio::read_request(&mut upgraded_io, &mut handshake)
                .await
                .unwrap()
        });
    runtime_without_time().block_on(async {
        let (accepted_io, _raw) = tokio::io::duplex(PIPE);
        assert_refused(
            wslane_tokio::accept_with(
                accepted_io,
                ServerConfig::default(),
                Config::default(),
                |_| Ok(Acceptance::new()),
            )
            .await,
        );
        let mut handshake = ServerHandshake::new(ServerConfig::default());
        assert_refused(wslane_tokio::read_request(&mut server_io, &mut handshake).await);
        assert_refused(
            wslane_tokio::upgrade(server_io, request, Acceptance::new(), Config::default()).await,
        );
    });
}

#[test]
fn client_on_refuses_a_runtime_without_timers() {
    count_timer_panics();
    runtime_without_time().block_on(async {
        let (client_io, _raw) = tokio::io::duplex(PIPE);
        assert_refused(
            wslane_tokio::client_on(client_io, in_memory_request(), Config::default()).await,
        );
    });
}

#[test]
fn connect_refuses_a_runtime_without_timers() {
    count_timer_panics();
    runtime_without_time().block_on(async {
        // A real listener on loopback: the refusal comes before any connection is made.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/", listener.local_addr().unwrap());
        assert_refused(wslane_tokio::connect(&url).await);
    });
}

/// Outside any runtime, the refusal names the runtime too (the handshake future is polled by hand).
#[test]
fn a_handshake_polled_outside_a_runtime_is_refused() {
    count_timer_panics();
    let (client_io, _raw) = tokio::io::duplex(PIPE);
    let result = futures_util::FutureExt::now_or_never(wslane_tokio::client_on(
        client_io,
        in_memory_request(),
        Config::default(),
    ))
    .expect("refused at once");
    match result {
        Err(Error::Io(err)) => assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}"),
        other => panic!("expected an Unsupported I/O error, got {other:?}"),
    }
}

/// The case: a connection that reaches a runtime without timers and closes there. Both sides are
/// made on a runtime with timers, over an in-memory pipe (which belongs to no runtime), then run on one
/// without: messages go both ways and the close handshake completes, with no panic.
#[test]
fn a_socket_on_a_runtime_without_timers_runs_and_closes() {
    count_timer_panics();
    let (mut server, mut client): (WebSocketStream<_>, WebSocketStream<_>) =
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let (server_io, client_io) = tokio::io::duplex(PIPE);
                let (server, client) = tokio::join!(
                    wslane_tokio::accept(server_io),
                    wslane_tokio::client_on(client_io, in_memory_request(), Config::default())
                );
                (server.unwrap(), client.unwrap().0)
            });
    runtime_without_time().block_on(async move {
        let echo = tokio::spawn(async move {
            while let Some(message) = server.recv().await {
                let message = message.unwrap();
                if message.is_data() {
                    server.send(message).await.unwrap();
                }
            }
        });
        client.send(Message::text("hello")).await.unwrap();
        assert_eq!(
            client.recv().await.transpose().unwrap(),
            Some(Message::text("hello"))
        );
        client.close(CloseCode::NORMAL, "bye").await.unwrap();
        echo.await.unwrap();
    });
    assert_eq!(
        TIMER_PANICS.load(Ordering::SeqCst),
        0,
        "a panic reached the hook"
    );
}
