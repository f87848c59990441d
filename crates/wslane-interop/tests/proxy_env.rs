//! The proxy from the environment, through real proxy software (pproxy): `connect` and `connect_with`'s
//! default setting read `http_proxy`, `https_proxy`, `all_proxy` and `no_proxy`. One test in a process
//! of its own, since it changes the environment.

mod support;

use support::{check_echo, spawn_echo};
use wslane_interop::spawn_proxy;
use wslane_tokio::{Error, ProxyError, ProxySetting};

const VARIABLES: [&str; 10] = [
    "ws_proxy",
    "wss_proxy",
    "socks_proxy",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
];

/// Sets exactly `vars` among the proxy variables.
fn environment(vars: &[(&str, &str)]) {
    for name in VARIABLES {
        std::env::remove_var(name);
    }
    for (name, value) in vars {
        std::env::set_var(name, value);
    }
}

#[tokio::test]
async fn the_environment_chooses_the_proxy_and_no_proxy_bypasses_it() {
    let (_pproxy, address) = spawn_proxy(Some("wslane:secret"));
    let good = format!("http://wslane:secret@{address}");
    let wrong = format!("http://wslane:wrong@{address}");
    let socks = format!("socks5h://wslane:secret@{address}");
    let ws = spawn_echo(false).await;
    let wss = spawn_echo(true).await;

    // The proxy with the wrong password answers 407: proof that the connection went through it.
    environment(&[("http_proxy", &wrong)]);
    let err = check_echo(&ws, ProxySetting::Environment)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Proxy(ProxyError::AuthenticationRequired { status: 407, .. })
        ),
        "{err:?}"
    );
    // http_proxy is for ws:// only: wss:// connects directly.
    check_echo(&wss, ProxySetting::Environment).await.unwrap();
    // no_proxy by address, by address and port, and `*`, bypasses the proxy.
    let port = ws.url.rsplit(':').next().unwrap().trim_end_matches("/echo");
    for no_proxy in [
        "127.0.0.1".to_owned(),
        format!("127.0.0.1:{port}"),
        "*".to_owned(),
    ] {
        environment(&[("HTTP_PROXY", &wrong), ("NO_PROXY", &no_proxy)]);
        check_echo(&ws, ProxySetting::Environment)
            .await
            .unwrap_or_else(|err| panic!("no_proxy={no_proxy}: {err}"));
    }
    // Another host or port in no_proxy does not.
    environment(&[
        ("http_proxy", &wrong),
        ("no_proxy", "example.com,127.0.0.1:1"),
    ]);
    assert!(check_echo(&ws, ProxySetting::Environment).await.is_err());
    // An explicit Direct ignores the environment.
    check_echo(&ws, ProxySetting::Direct).await.unwrap();

    // Working proxies, by variable: https_proxy serves both schemes, all_proxy is the last resort.
    environment(&[("https_proxy", &good)]);
    check_echo(&ws, ProxySetting::Environment).await.unwrap();
    check_echo(&wss, ProxySetting::Environment).await.unwrap();
    environment(&[("ALL_PROXY", &socks)]);
    check_echo(&wss, ProxySetting::Environment).await.unwrap();
    // wss_proxy comes before https_proxy.
    environment(&[("wss_proxy", &wrong), ("https_proxy", &good)]);
    assert!(check_echo(&wss, ProxySetting::Environment).await.is_err());
    // `connect` itself reads the environment.
    environment(&[("http_proxy", &wrong)]);
    let err = wslane_tokio::connect(&ws.url).await.unwrap_err();
    assert!(matches!(err, Error::Proxy(_)), "{err:?}");
    environment(&[("http_proxy", "ftp://nowhere")]);
    let err = wslane_tokio::connect(&ws.url).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Proxy(ProxyError::Address {
                variable: Some("http_proxy"),
                ..
            })
        ),
        "{err:?}"
    );
    environment(&[]);
}
