//! The axum front end (`--axum`, `--tls`): a router with `wslane-hyper`'s extractor, each connection served
//! by `wslane_hyper::server_builder` (HTTP/1.1, or HTTP/2 with the extended CONNECT of RFC 8441), over TCP
//! or over rustls.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Extension, Router};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::PrivatePkcs8KeyDer;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use wslane_hyper::WebSocketUpgrade;

use crate::room::{room_of, Rooms};
use crate::{member_config, same_origin, server_config, ICON, PAGE};

/// What the WebSocket route needs: the rooms (their members are upgraded connections or HTTP/2 streams),
/// and the scheme of the page's own origin.
#[derive(Clone)]
struct Chat {
    rooms: Arc<Rooms>,
    scheme: &'static str,
}

/// Serves the chat on `listener`, over TLS when `tls` is given, its members joining `rooms`.
pub(crate) async fn run(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    rooms: Arc<Rooms>,
) -> std::io::Result<()> {
    let chat = Chat {
        rooms,
        scheme: if tls.is_some() { "https" } else { "http" },
    };
    let app = Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route(
            "/favicon.ico",
            get(|| async { ([(header::CONTENT_TYPE, "image/svg+xml")], ICON) }),
        )
        // `any`: over HTTP/2 a WebSocket arrives as CONNECT.
        .route("/ws", any(websocket))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found\n") })
        .layer(Extension(Arc::new(server_config())))
        .with_state(chat);
    loop {
        let (tcp, peer) = listener.accept().await?;
        tcp.set_nodelay(true)?;
        let (app, tls) = (app.clone(), tls.clone());
        tokio::spawn(async move {
            // A browser that leaves (mid-request, or without TLS close_notify) is no news: only a failed
            // TLS handshake is logged, such as a browser refusing the certificate.
            match tls {
                None => serve(tcp, app).await,
                Some(tls) => match tls.accept(tcp).await {
                    Ok(tls) => serve(tls, app).await,
                    Err(err) => eprintln!("{peer}: TLS handshake: {err}"),
                },
            }
        });
    }
}

/// One connection, HTTP/1.1 or HTTP/2 (by its first bytes, which after TLS follow ALPN's choice).
async fn serve<I>(io: I, app: Router)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(app);
    let _ = wslane_hyper::server_builder()
        .serve_connection_with_upgrades(TokioIo::new(io), service)
        .await;
}

/// The WebSocket endpoint: the extractor has checked the request (and answered a refusal itself).
async fn websocket(State(chat): State<Chat>, ws: WebSocketUpgrade) -> Response {
    if !same_origin(ws.request(), chat.scheme) {
        return (StatusCode::FORBIDDEN, "origin not allowed\n").into_response();
    }
    let room = match room_of(ws.request().path()) {
        Ok(room) => room,
        Err(err) => return (StatusCode::BAD_REQUEST, format!("{err}\n")).into_response(),
    };
    let version = ws.request().version();
    ws.config(member_config()).on_upgrade(move |ws| async move {
        if let Err(err) = chat.rooms.join(ws, version, &room).await {
            eprintln!("{err}");
        }
    })
}

/// The TLS settings: a self-signed certificate made now for `localhost`, `127.0.0.1` and the address
/// listened on, and ALPN `h2` then `http/1.1`.
pub(crate) fn tls_acceptor(addr: SocketAddr) -> std::io::Result<TlsAcceptor> {
    let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    if !addr.ip().is_unspecified() && !names.contains(&addr.ip().to_string()) {
        names.push(addr.ip().to_string());
    }
    let certified = rcgen::generate_simple_self_signed(names).map_err(std::io::Error::other)?;
    let key = PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(std::io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key.into())
        .map_err(std::io::Error::other)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
