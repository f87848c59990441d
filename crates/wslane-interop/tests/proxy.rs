//! Clients through real proxy software: pproxy (from the interop venv) serving HTTP `CONNECT` and
//! SOCKS5, with and without credentials, to a wslane echo server over `ws://` and `wss://`; the typed
//! errors of refused credentials; the handshake timeout around a proxy that never answers.

mod support;

use std::time::{Duration, Instant};

use support::{check_echo, spawn_echo};
use wslane_interop::spawn_proxy;
use wslane_tokio::{ClientRequest, Config, ConnectOptions, Error, Limits, Proxy, ProxyError, Url};

/// The credentials pproxy requires, and the same percent-encoded for a proxy address: reserved
/// characters in the password check the decoding.
const CREDENTIALS: &str = "wslane:p@ss:w/rd";
const ENCODED: &str = "wslane:p%40ss%3Aw%2Frd";

fn proxy(scheme: &str, userinfo: Option<&str>, address: &str) -> Proxy {
    let userinfo = userinfo.map(|u| format!("{u}@")).unwrap_or_default();
    Proxy::parse(&format!("{scheme}://{userinfo}{address}")).unwrap()
}

#[tokio::test]
async fn http_connect_with_credentials_over_ws_and_wss() {
    let (_pproxy, address) = spawn_proxy(Some(CREDENTIALS));
    for tls in [false, true] {
        let echo = spawn_echo(tls).await;
        let through = proxy("http", Some(ENCODED), &address);
        check_echo(&echo, through).await.unwrap();
    }
}

#[tokio::test]
async fn socks5_with_credentials_over_ws_and_wss_resolving_on_either_side() {
    let (_pproxy, address) = spawn_proxy(Some(CREDENTIALS));
    for scheme in ["socks5", "socks5h"] {
        for tls in [false, true] {
            let echo = spawn_echo(tls).await;
            let through = proxy(scheme, Some(ENCODED), &address);
            check_echo(&echo, through)
                .await
                .unwrap_or_else(|err| panic!("{scheme} to {}: {err}", echo.url));
        }
    }
}

#[tokio::test]
async fn open_proxy_without_credentials() {
    let (_pproxy, address) = spawn_proxy(None);
    for scheme in ["http", "socks5", "socks5h"] {
        for tls in [false, true] {
            let echo = spawn_echo(tls).await;
            check_echo(&echo, proxy(scheme, None, &address))
                .await
                .unwrap_or_else(|err| panic!("{scheme} to {}: {err}", echo.url));
        }
    }
}

#[tokio::test]
async fn http_proxy_refusing_credentials_is_a_typed_407() {
    let (_pproxy, address) = spawn_proxy(Some(CREDENTIALS));
    let echo = spawn_echo(false).await;
    for (userinfo, sent) in [(None, false), (Some("wslane:wrong"), true)] {
        let err = check_echo(&echo, proxy("http", userinfo, &address))
            .await
            .unwrap_err();
        let Error::Proxy(err) = err else {
            panic!("not a proxy error: {err:?}");
        };
        assert_eq!(
            err,
            ProxyError::AuthenticationRequired {
                status: 407,
                credentials_sent: sent
            }
        );
        assert_eq!(err.status(), Some(407));
    }
}

#[tokio::test]
async fn socks5_proxy_refusing_credentials_is_typed() {
    let (_pproxy, address) = spawn_proxy(Some(CREDENTIALS));
    let echo = spawn_echo(false).await;
    // pproxy closes the connection in answer to wrong credentials (no RFC 1929 status).
    let err = check_echo(&echo, proxy("socks5h", Some("wslane:wrong"), &address))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Proxy(ProxyError::SocksAuthenticationFailed { status: None })
        ),
        "{err:?}"
    );
    // Offered no credentials, it closes the connection too, without choosing a method.
    let err = check_echo(&echo, proxy("socks5h", None, &address))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Proxy(ProxyError::Closed)), "{err:?}");
}

/// The same API from wslane-async-std, through the same proxy.
#[test]
fn async_std_connects_through_the_proxy() {
    let (_pproxy, address) = spawn_proxy(Some(CREDENTIALS));
    let tokio = tokio::runtime::Runtime::new().unwrap();
    let echo = tokio.block_on(spawn_echo(false));
    async_std::task::block_on(async {
        for scheme in ["http", "socks5h"] {
            let request = ClientRequest::new(Url::parse(&echo.url).unwrap());
            let options = ConnectOptions::new().proxy(proxy(scheme, Some(ENCODED), &address));
            let (mut ws, _) = wslane_async_std::connect_with(request, Config::default(), options)
                .await
                .unwrap();
            let message = wslane_async_std::Message::text(scheme);
            ws.send(message.clone()).await.unwrap();
            assert_eq!(ws.recv().await.unwrap().unwrap(), message);
        }
    });
}

/// A proxy that takes the connection and never answers: the handshake timeout ends the attempt.
#[tokio::test]
async fn a_silent_proxy_is_bounded_by_the_handshake_timeout() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = silent.local_addr().unwrap().to_string();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = silent.accept().await {
            held.push(tcp);
        }
    });
    let mut limits = Limits::default();
    limits.timeout = Duration::from_millis(300);
    for scheme in ["http", "socks5", "socks5h"] {
        let request = ClientRequest::new(Url::parse("ws://127.0.0.1:9/").unwrap()).limits(limits);
        let options = ConnectOptions::new().proxy(proxy(scheme, None, &address));
        let started = Instant::now();
        let err = wslane_tokio::connect_with(request, Config::default(), options)
            .await
            .unwrap_err();
        let took = started.elapsed();
        assert!(
            matches!(&err, Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut),
            "{scheme}: {err:?}"
        );
        assert!(
            took >= limits.timeout && took < Duration::from_secs(5),
            "{scheme}: {took:?}"
        );
    }
    hold.abort();
}
