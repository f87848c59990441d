//! The opening handshake over loopback TCP: what `accept_with`'s callback sees, accepting with a
//! subprotocol and extra fields, the caller's refusals and the handshake's own (426, 403), the handshake
//! timeout on both sides, and `wss://` with and without a TLS feature.
//!
//! The handshake timeouts of `accept_with` and `client_on` are timed on tokio's paused clock over
//! in-memory pipes (real sockets would not do: the paused clock also jumps while a task waits for the
//! OS). `connect_with`'s timeout stays on real time, over loopback TCP, which it resolves and connects.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wslane_tokio::{
    Acceptance, ClientError, ClientRequest, CloseCode, Config, ConnectGate, Connector, Error,
    Limits, Message, OriginPolicy, Rejection, ServerConfig, ServerError, ServerHandshake, Url,
};

/// What the server's callback saw.
#[derive(Debug, Default)]
struct Seen {
    path: String,
    host: String,
    origin: Option<String>,
    token: Option<String>,
    protocols: Vec<String>,
}

#[tokio::test]
async fn callback_sees_the_request_and_client_sees_the_acceptance() {
    bounded(async {
        let (listener, addr) = listener().await;
        let seen = Arc::new(Mutex::new(Seen::default()));
        let record = Arc::clone(&seen);
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let ws = wslane_tokio::accept_with(
                tcp,
                ServerConfig::default(),
                Config::default(),
                move |request| {
                    *record.lock().unwrap() = Seen {
                        path: request.path().to_owned(),
                        host: request.host().to_owned(),
                        origin: request.origin().map(str::to_owned),
                        token: request.headers().get_str("x-token").map(str::to_owned),
                        protocols: request.protocols().to_vec(),
                    };
                    Acceptance::new()
                        .protocol("chat.v1")
                        .header("Set-Cookie", "session=42")
                        .map_err(|_| Rejection::new(500).unwrap())
                },
            )
            .await
            .unwrap();
            echo(ws).await
        });

        let request = ClientRequest::new(Url::parse(&ws_url(addr, "/chat?room=7")).unwrap())
            .origin("https://app.example")
            .unwrap()
            .protocol("chat.v2")
            .unwrap()
            .protocol("chat.v1")
            .unwrap()
            .header("X-Token", "secret")
            .unwrap();
        let (mut ws, upgrade) =
            wslane_tokio::connect_with(request, Config::default(), Connector::Default)
                .await
                .unwrap();
        assert_eq!(upgrade.protocol.as_deref(), Some("chat.v1"));
        assert_eq!(upgrade.headers.get_str("set-cookie"), Some("session=42"));

        {
            let seen = seen.lock().unwrap();
            assert_eq!(seen.path, "/chat?room=7");
            assert_eq!(seen.host, addr.to_string());
            assert_eq!(seen.origin.as_deref(), Some("https://app.example"));
            assert_eq!(seen.token.as_deref(), Some("secret"));
            assert_eq!(seen.protocols, ["chat.v2", "chat.v1"]);
        }

        ws.send(Message::text("after the handshake")).await.unwrap();
        assert_eq!(
            ws.recv().await.unwrap().unwrap(),
            Message::text("after the handshake")
        );
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        server.await.unwrap().unwrap();
    })
    .await;
}

#[tokio::test]
async fn refusal_with_401_reaches_the_client_with_its_fields() {
    bounded(async {
        let (listener, addr) = listener().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            wslane_tokio::accept_with(tcp, ServerConfig::default(), Config::default(), |_| {
                Err(Rejection::new(401)
                    .unwrap()
                    .header("WWW-Authenticate", "Bearer realm=\"chat\"")
                    .unwrap())
            })
            .await
        });
        let err = wslane_tokio::connect(&ws_url(addr, "/"))
            .await
            .expect_err("the server refused");
        assert_eq!(err.http_status(), Some(401), "{err}");
        match &err {
            Error::Response(response) => match response.as_ref() {
                ClientError::Status { code, headers, .. } => {
                    assert_eq!(*code, 401);
                    assert_eq!(
                        headers.get_str("www-authenticate"),
                        Some("Bearer realm=\"chat\"")
                    );
                }
                other => panic!("expected a status error, got {other:?}"),
            },
            other => panic!("expected Error::Response, got {other:?}"),
        }
        let server_err = server.await.unwrap().expect_err("refused");
        assert!(
            matches!(server_err, Error::Rejected { status: 401 }),
            "{server_err:?}"
        );
        assert_eq!(server_err.http_status(), Some(401));
    })
    .await;
}

/// Sends `request` over raw TCP to a fresh `accept_with` server; returns the whole response (the server
/// closes after a refusal) and the server's error.
async fn refused(server: ServerConfig, request: &str) -> (String, Error) {
    let (listener, addr) = listener().await;
    let accepting = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        wslane_tokio::accept_with(tcp, server, Config::default(), |_| Ok(Acceptance::new())).await
    });
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tcp.read_to_string(&mut response).await.unwrap();
    let err = accepting.await.unwrap().expect_err("refused");
    (response, err)
}

#[tokio::test]
async fn unsupported_version_gets_426() {
    bounded(async {
        let (response, err) = refused(ServerConfig::default(), &raw_request("8")).await;
        assert!(response.starts_with("HTTP/1.1 426 "), "{response}");
        assert!(
            response.contains("Sec-WebSocket-Version: 13\r\n"),
            "{response}"
        );
        assert!(
            matches!(err, Error::Request(ServerError::UnsupportedVersion)),
            "{err:?}"
        );
        assert_eq!(err.http_status(), Some(426));
    })
    .await;
}

#[tokio::test]
async fn refused_origin_gets_403() {
    bounded(async {
        let mut server = ServerConfig::default();
        server.origin = OriginPolicy::List(vec!["https://good.example".into()]);
        let request =
            raw_request("13").replace("\r\n\r\n", "\r\nOrigin: https://evil.example\r\n\r\n");
        let (response, err) = refused(server, &request).await;
        assert!(response.starts_with("HTTP/1.1 403 "), "{response}");
        assert!(
            matches!(err, Error::Request(ServerError::OriginRefused)),
            "{err:?}"
        );
        assert_eq!(err.http_status(), Some(403));
    })
    .await;
}

/// The same origin policy seen from a `connect_with` client: a listed origin is let in, another gets
/// `Error::Response` with 403.
#[tokio::test]
async fn origin_policy_seen_from_the_client() {
    bounded(async {
        let (listener, addr) = listener().await;
        tokio::spawn(async move {
            let mut server = ServerConfig::default();
            server.origin = OriginPolicy::List(vec!["https://good.example".into()]);
            let server = Arc::new(server);
            while let Ok((tcp, _)) = listener.accept().await {
                let server = Arc::clone(&server);
                tokio::spawn(async move {
                    let ws = wslane_tokio::accept_with(tcp, server, Config::default(), |_| {
                        Ok(Acceptance::new())
                    })
                    .await?;
                    echo(ws).await
                });
            }
        });
        let connect = |origin: &'static str| async move {
            let request = ClientRequest::new(Url::parse(&ws_url(addr, "/")).unwrap())
                .origin(origin)
                .unwrap();
            wslane_tokio::connect_with(request, Config::default(), Connector::Default).await
        };
        let err = connect("https://evil.example").await.expect_err("refused");
        assert_eq!(err.http_status(), Some(403), "{err}");
        let (mut ws, _) = connect("https://GOOD.example").await.unwrap();
        ws.close(CloseCode::NORMAL, "").await.unwrap();
    })
    .await;
}

/// A client that connects and sends nothing: `accept_with` gives up at exactly `limits.timeout`. On the
/// paused clock.
#[tokio::test(start_paused = true)]
async fn silent_client_times_out_the_server_handshake() {
    bounded(async {
        let (server_io, _silent) = tokio::io::duplex(PIPE);
        let mut server = ServerConfig::default();
        server.limits.timeout = Duration::from_millis(100);
        let started = tokio::time::Instant::now();
        let err = wslane_tokio::accept_with(server_io, server, Config::default(), |_| {
            Ok(Acceptance::new())
        })
        .await
        .expect_err("the client sent nothing");
        assert!(
            matches!(&err, Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut),
            "{err:?}"
        );
        assert_virtual_time(
            started.elapsed(),
            Duration::from_millis(100),
            "the handshake timed out",
        );
    })
    .await;
}

/// A client that trickles its request one byte at a time, each byte just before the last one would be
/// stale: `read_request`, the entry point of servers that route requests themselves (the chat demo's), is
/// bounded by the handshake's timeout too, counted from the first read, not from the last byte. On the
/// paused clock.
#[tokio::test(start_paused = true)]
async fn trickling_client_times_out_read_request() {
    bounded(async {
        let (mut server_io, mut client) = tokio::io::duplex(PIPE);
        let trickle = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            for byte in raw_request("13").bytes() {
                if client.write_all(&[byte]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
        let mut server = ServerConfig::default();
        server.limits.timeout = Duration::from_millis(100);
        let mut handshake = ServerHandshake::new(server);
        let started = tokio::time::Instant::now();
        let err = wslane_tokio::read_request(&mut server_io, &mut handshake)
            .await
            .expect_err("the request never completes in time");
        assert!(
            matches!(&err, Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut),
            "{err:?}"
        );
        assert_virtual_time(
            started.elapsed(),
            Duration::from_millis(100),
            "read_request timed out",
        );
        drop(server_io);
        trickle.await.unwrap();
    })
    .await;
}

/// A server that reads the request and never answers: `client_on` gives up at exactly `limits.timeout`.
/// On the paused clock.
#[tokio::test(start_paused = true)]
async fn silent_server_times_out_the_client_handshake_on_a_stream() {
    bounded(async {
        let (client_io, mut raw) = tokio::io::duplex(PIPE);
        let server = tokio::spawn(async move {
            let head = read_head(&mut raw).await;
            assert!(head.starts_with("GET / HTTP/1.1\r\n"), "{head}");
            // Never answer; the client gives up and drops the stream.
            expect_eof(&mut raw).await;
        });
        let mut limits = Limits::default();
        limits.timeout = Duration::from_millis(100);
        let started = tokio::time::Instant::now();
        let err = wslane_tokio::client_on(
            client_io,
            in_memory_request().limits(limits),
            Config::default(),
        )
        .await
        .expect_err("the server never answered");
        assert!(
            matches!(&err, Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut),
            "{err:?}"
        );
        assert_virtual_time(
            started.elapsed(),
            Duration::from_millis(100),
            "the handshake timed out",
        );
        server.await.unwrap();
    })
    .await;
}

/// A server that takes the connection but never answers: `connect_with` gives up after the handshake
/// timeout, and frees the address in the section 4.1 gate.
///
/// This one stays on real time over loopback TCP: freeing the gate is `connect_with`'s, which resolves
/// and connects TCP itself, and on the paused clock the timeout could fire while the TCP connect waits for
/// the OS, before the handshake it is meant to bound has begun. It measures no duration; the exact timing
/// of the client's handshake timeout is pinned on `client_on` by the test above.
#[tokio::test]
async fn silent_server_times_out_the_client_handshake() {
    bounded(async {
        let (listener, addr) = listener().await;
        let accepted = tokio::spawn(async move { listener.accept().await.unwrap() });
        let mut limits = Limits::default();
        limits.timeout = Duration::from_millis(100);
        let request = ClientRequest::new(Url::parse(&ws_url(addr, "/")).unwrap()).limits(limits);
        let err = wslane_tokio::connect_with(request, Config::default(), Connector::Default)
            .await
            .expect_err("the server never answered");
        assert!(
            matches!(&err, Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut),
            "{err:?}"
        );
        assert!(!ConnectGate::global().is_busy(addr));
        drop(accepted.await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn invalid_url_is_refused_before_connecting() {
    bounded(async {
        for url in ["http://127.0.0.1/", "not a url", "ws://"] {
            let err = wslane_tokio::connect(url).await.expect_err(url);
            assert!(matches!(err, Error::Url(_)), "{url}: {err:?}");
        }
    })
    .await;
}

/// Without a TLS feature, `wss://` fails with a clear error naming the features.
#[cfg(not(feature = "tls"))]
#[tokio::test]
async fn wss_without_a_tls_feature_says_so() {
    bounded(async {
        let (listener, addr) = listener().await;
        tokio::spawn(async move {
            let _held = listener.accept().await;
            std::future::pending::<()>().await;
        });
        let err = wslane_tokio::connect(&format!("wss://{addr}/"))
            .await
            .expect_err("no TLS");
        match &err {
            Error::Io(io) => {
                assert_eq!(io.kind(), std::io::ErrorKind::Unsupported);
                assert!(io.to_string().contains("rustls-webpki-roots"), "{io}");
            }
            other => panic!("expected an I/O error, got {other:?}"),
        }
    })
    .await;
}

/// With the webpki roots, `Connector::Default` builds its TLS configuration (no "no roots" error) and a
/// plain-TCP server on the other end makes the TLS handshake fail, rather than hang.
#[cfg(feature = "rustls-webpki-roots")]
#[tokio::test]
async fn wss_to_a_plain_tcp_server_fails_with_a_tls_error() {
    bounded(async {
        let (listener, addr) = listener().await;
        tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            // Read the ClientHello, then answer as a plain HTTP server would.
            let mut hello = [0; 512];
            let n = tcp.read(&mut hello).await.unwrap();
            assert!(n > 0 && hello[0] == 0x16, "expected a TLS handshake record");
            tcp.write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
                .await
                .unwrap();
            let _ = tcp.shutdown().await;
            // Keep the socket until the client is done with it.
            let _ = tcp.read_to_end(&mut Vec::new()).await;
        });
        let err = wslane_tokio::connect(&format!("wss://{addr}/"))
            .await
            .expect_err("not a TLS server");
        match &err {
            Error::Io(io) => {
                assert_eq!(io.kind(), std::io::ErrorKind::InvalidData, "{io}");
            }
            other => panic!("expected an I/O error from TLS, got {other:?}"),
        }
        assert!(!ConnectGate::global().is_busy(addr));
    })
    .await;
}

/// A request head that arrives a byte at a time, and one larger than a single read, are both accepted.
#[tokio::test]
async fn request_head_in_pieces() {
    bounded(async {
        let cookie = "c".repeat(5000);
        let long = raw_request("13").replace("\r\n\r\n", &format!("\r\nCookie: {cookie}\r\n\r\n"));
        for (request, one_byte_writes) in [(raw_request("13"), true), (long, false)] {
            let (server_io, mut raw) = tokio::io::duplex(64);
            let seen = Arc::new(Mutex::new(None));
            let record = Arc::clone(&seen);
            let accepting = tokio::spawn(wslane_tokio::accept_with(
                server_io,
                ServerConfig::default(),
                Config::default(),
                move |request| {
                    *record.lock().unwrap() = request.headers().get_str("cookie").map(str::len);
                    Ok(Acceptance::new())
                },
            ));
            if one_byte_writes {
                for byte in request.as_bytes() {
                    raw.write_all(std::slice::from_ref(byte)).await.unwrap();
                    tokio::task::yield_now().await;
                }
            } else {
                raw.write_all(request.as_bytes()).await.unwrap();
            }
            let head = read_head(&mut raw).await;
            assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
            assert!(head.contains(SAMPLE_ACCEPT), "{head}");
            accepting.await.unwrap().unwrap();
            let expected = (!one_byte_writes).then_some(cookie.len());
            assert_eq!(*seen.lock().unwrap(), expected);
        }
    })
    .await;
}

/// A client that connects and leaves before sending a whole request: `accept_with` reports the end of the
/// stream, without calling the callback.
#[tokio::test]
async fn client_leaving_mid_request_ends_the_accept() {
    bounded(async {
        let (server_io, mut raw) = tokio::io::duplex(1024);
        let accepting = tokio::spawn(wslane_tokio::accept_with(
            server_io,
            ServerConfig::default(),
            Config::default(),
            |_| -> Result<Acceptance, Rejection> { panic!("the request was not complete") },
        ));
        raw.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        drop(raw);
        let err = accepting.await.unwrap().expect_err("no request");
        assert!(
            matches!(&err, Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof),
            "{err:?}"
        );
    })
    .await;
}
