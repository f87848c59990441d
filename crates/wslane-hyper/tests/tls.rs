//! HTTP/2 over TLS: an axum app served with rustls (ALPN `h2` and `http/1.1`, a certificate made at
//! start for 127.0.0.1), our `H2Client` opening many WebSockets on one TLS connection, and the typed
//! error when the server does not choose `h2`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::response::Response;
use axum::routing::any;
use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use wslane::handshake::HttpVersion;
use wslane_hyper::rustls::pki_types::{PrivatePkcs8KeyDer, ServerName};
use wslane_hyper::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use wslane_hyper::{
    ClientRequest, CloseCode, Config, H2Client, H2TlsError, Message, Url, WebSocketUpgrade,
};

/// What the server saw: TCP connections accepted, and the HTTP version of each WebSocket.
#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
    versions: Mutex<Vec<HttpVersion>>,
}

/// A server certificate for 127.0.0.1, and a client configuration that trusts it.
fn certificate() -> (ServerConfig, ClientConfig) {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let cert = certified.cert.der().clone();
    let key = PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key.into())
        .unwrap();
    let mut roots = RootCertStore::empty();
    roots.add(cert).unwrap();
    let client = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (server, client)
}

/// Serves an echo route on an OS-chosen loopback port over TLS with the ALPN protocols `alpn`, each
/// connection through `wslane_hyper::server_builder` (HTTP/1.1 or HTTP/2, as ALPN chose).
async fn tls_echo_server(alpn: &[&[u8]]) -> (SocketAddr, Arc<ClientConfig>, Arc<Seen>) {
    let (mut server, client) = certificate();
    server.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
    let seen = Arc::new(Seen::default());
    let app = {
        let seen = seen.clone();
        Router::new().route(
            "/ws",
            any(move |ws: WebSocketUpgrade| echo(ws, seen.clone())),
        )
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = seen.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            accepted.connections.fetch_add(1, Ordering::SeqCst);
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = TowerToHyperService::new(app);
                let _ = wslane_hyper::server_builder()
                    .serve_connection_with_upgrades(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (addr, Arc::new(client), seen)
}

async fn echo(ws: WebSocketUpgrade, seen: Arc<Seen>) -> Response {
    seen.versions.lock().unwrap().push(ws.request().version());
    ws.on_upgrade(|mut ws| async move {
        while let Some(Ok(message)) = ws.recv().await {
            if message.is_data() && ws.send(message).await.is_err() {
                break;
            }
        }
    })
}

fn localhost() -> ServerName<'static> {
    ServerName::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST).into())
}

#[tokio::test]
async fn fifty_websockets_share_one_http2_connection_over_tls() {
    const SOCKETS: usize = 50;
    let (addr, client_config, seen) = tls_echo_server(&[b"h2", b"http/1.1"]).await;
    let tcp = TcpStream::connect(addr).await.unwrap();
    let client = H2Client::handshake_tls(tcp, localhost(), client_config)
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..SOCKETS {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let url = Url::parse(&format!("wss://{addr}/ws")).unwrap();
            let (mut ws, _) = client
                .connect(ClientRequest::new(url), Config::default())
                .await
                .unwrap();
            let text = format!("hello {i} over TLS {}", "x".repeat(i * 100));
            ws.send(Message::text(text.clone())).await.unwrap();
            assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text(text));
            let binary = vec![i as u8; 1 + i * 1000];
            ws.send(Message::binary(binary.clone())).await.unwrap();
            assert_eq!(ws.recv().await.unwrap().unwrap(), Message::binary(binary));
            ws.close(CloseCode::NORMAL, "bye").await.unwrap();
            while let Some(message) = ws.recv().await {
                assert!(matches!(message, Ok(Message::Close(_))), "{message:?}");
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(
        seen.connections.load(Ordering::SeqCst),
        1,
        "one TCP connection"
    );
    let versions = seen.versions.lock().unwrap().clone();
    assert_eq!(versions, vec![HttpVersion::Http2; SOCKETS]);
}

#[tokio::test]
async fn a_server_that_does_not_choose_h2_is_a_typed_error() {
    for (alpn, chosen) in [
        (&[b"http/1.1".as_slice()][..], Some(b"http/1.1".to_vec())),
        (&[][..], None),
    ] {
        let (addr, client_config, seen) = tls_echo_server(alpn).await;
        let tcp = TcpStream::connect(addr).await.unwrap();
        let err = H2Client::handshake_tls(tcp, localhost(), client_config)
            .await
            .unwrap_err();
        match &err {
            H2TlsError::NotH2 { protocol } => assert_eq!(*protocol, chosen, "{err}"),
            other => panic!("expected NotH2, got {other:?}"),
        }
        assert!(err.to_string().contains("not h2"), "{err}");
        assert!(seen.versions.lock().unwrap().is_empty());
    }
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_tls_error() {
    let (addr, _, _) = tls_echo_server(&[b"h2"]).await;
    // A client that trusts another certificate than the server's.
    let (_, other) = certificate();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let err = H2Client::handshake_tls(tcp, localhost(), Arc::new(other))
        .await
        .unwrap_err();
    assert!(matches!(err, H2TlsError::Tls(_)), "{err:?}");
}
