//! An axum route serving WebSockets through the extractor, over HTTP/1.1 (our client, with and without
//! permessage-deflate) and HTTP/2 (100 WebSockets on one h2c connection), refusals answered as the raw
//! adapters answer them, and our HTTP/2 client against axum's own HTTP/2 WebSocket server.

use std::sync::Arc;

use axum::response::Response;
use axum::routing::any;
use axum::{Extension, Router};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wslane_async::Tokio;
use wslane_hyper::{
    ClientRequest, CloseCode, Config, DeflateConfig, H2Client, Message, OriginPolicy,
    PerMessageDeflate, ServerConfig, Url, WebSocketUpgrade,
};

async fn echo(ws: WebSocketUpgrade) -> Response {
    ws.protocols(["echo.v1"]).on_upgrade(|mut ws| async move {
        while let Some(Ok(message)) = ws.recv().await {
            if message.is_data() && ws.send(message).await.is_err() {
                break;
            }
        }
    })
}

fn server_config() -> ServerConfig {
    let mut server = ServerConfig::default();
    server.origin = OriginPolicy::List(vec!["https://allowed.example".into()]);
    server
        .extensions
        .push(Arc::new(PerMessageDeflate::new(DeflateConfig::fastest())));
    server
}

/// Serves `app` on an OS-chosen loopback port with `axum::serve` (HTTP/1.1 and HTTP/2 on one port).
async fn serve(app: Router) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

async fn echo_server() -> std::net::SocketAddr {
    let app = Router::new()
        .route("/ws", any(echo))
        .layer(Extension(Arc::new(server_config())));
    serve(app).await
}

/// Sends a text and a binary message and checks both come back, then closes.
async fn round_trip<S, R>(ws: &mut wslane_async::WebSocket<S, R>, tag: usize)
where
    S: Unpin,
    R: wslane_async::Transport<S>,
{
    let text = format!("hello {tag} {}", "x".repeat(tag % 7 * 300));
    ws.send(Message::text(text.clone())).await.unwrap();
    assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text(text));
    let binary = vec![tag as u8; 1 + tag % 5 * 1000];
    ws.send(Message::binary(binary.clone())).await.unwrap();
    assert_eq!(ws.recv().await.unwrap().unwrap(), Message::binary(binary));
    ws.close(CloseCode::NORMAL, "bye").await.unwrap();
    while let Some(message) = ws.recv().await {
        assert!(matches!(message, Ok(Message::Close(_))), "{message:?}");
    }
}

#[tokio::test]
async fn http1_echo_with_and_without_compression_and_a_subprotocol() {
    let addr = echo_server().await;
    for deflate in [false, true] {
        let url = Url::parse(&format!("ws://{addr}/ws")).unwrap();
        let mut request = ClientRequest::new(url)
            .protocol("echo.v1")
            .unwrap()
            .origin("https://allowed.example")
            .unwrap();
        if deflate {
            let factory = PerMessageDeflate::new(DeflateConfig::default());
            request = request.extension(Arc::new(factory)).unwrap();
        }
        let tcp = TcpStream::connect(addr).await.unwrap();
        let (mut ws, response) =
            wslane_async::client_on::<Tokio, _>(tcp, request, Config::default())
                .await
                .unwrap();
        assert_eq!(response.protocol.as_deref(), Some("echo.v1"));
        let accepted = response.headers.get_str("sec-websocket-extensions");
        assert_eq!(
            accepted.is_some_and(|e| e.starts_with("permessage-deflate")),
            deflate,
            "permessage-deflate negotiated only when offered"
        );
        round_trip(&mut ws, usize::from(deflate)).await;
    }
}

#[tokio::test]
async fn a_hundred_websockets_share_one_http2_connection() {
    let addr = echo_server().await;
    let client = H2Client::handshake(TcpStream::connect(addr).await.unwrap())
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..100 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let url = Url::parse(&format!("ws://{addr}/ws")).unwrap();
            let mut request = ClientRequest::new(url).protocol("echo.v1").unwrap();
            if i % 2 == 0 {
                let factory = PerMessageDeflate::new(DeflateConfig::default());
                request = request.extension(Arc::new(factory)).unwrap();
            }
            let (mut ws, response) = client.connect(request, Config::default()).await.unwrap();
            assert_eq!(response.protocol.as_deref(), Some("echo.v1"));
            let accepted = response.headers.get_str("sec-websocket-extensions");
            assert_eq!(accepted.is_some(), i % 2 == 0);
            round_trip(&mut ws, i).await;
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert!(client.is_connect_enabled());
}

/// A raw HTTP/1.1 exchange: the request bytes out, the whole answer (read to the end) back.
async fn exchange(addr: std::net::SocketAddr, request: &str) -> Vec<u8> {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tcp.read_to_end(&mut answer).await.unwrap();
    answer
}

/// Status, fields without `date` (hyper adds one; the raw adapters do not), names in lower case and
/// sorted, and body.
fn normalize(answer: &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let len = match response.parse(answer).unwrap() {
        httparse::Status::Complete(len) => len,
        httparse::Status::Partial => panic!("partial answer: {answer:?}"),
    };
    let mut fields: Vec<(String, String)> = response
        .headers
        .iter()
        .filter(|h| !h.name.eq_ignore_ascii_case("date"))
        .map(|h| {
            let value = String::from_utf8(h.value.to_vec()).unwrap();
            (h.name.to_ascii_lowercase(), value)
        })
        .collect();
    fields.sort();
    (response.code.unwrap(), fields, answer[len..].to_vec())
}

#[tokio::test]
async fn refusals_are_answered_as_the_raw_adapters_answer_them() {
    let axum_addr = echo_server().await;
    let raw = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let raw_addr = raw.local_addr().unwrap();
    tokio::spawn(async move {
        let server = Arc::new(server_config());
        while let Ok((tcp, _)) = raw.accept().await {
            let server = server.clone();
            tokio::spawn(async move {
                let accept = |_: &wslane_hyper::Request| Ok(wslane_hyper::Acceptance::new());
                let _ = wslane_async::accept_with::<Tokio, _, _>(
                    tcp,
                    server,
                    Config::default(),
                    accept,
                )
                .await;
            });
        }
    });
    let base =
        "GET /ws HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
    let key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    let cases = [
        (
            "wrong version",
            426,
            format!("{base}{key}Sec-WebSocket-Version: 8\r\n\r\n"),
        ),
        (
            "refused origin",
            403,
            format!("{base}{key}Sec-WebSocket-Version: 13\r\nOrigin: https://evil.example\r\n\r\n"),
        ),
        (
            "no key",
            400,
            format!("{base}Sec-WebSocket-Version: 13\r\n\r\n"),
        ),
        (
            "no upgrade",
            400,
            format!(
                "GET /ws HTTP/1.1\r\nHost: example.com\r\n{key}Sec-WebSocket-Version: 13\r\n\r\n"
            ),
        ),
    ];
    for (name, status, request) in cases {
        let ours = normalize(&exchange(axum_addr, &request).await);
        let raw = normalize(&exchange(raw_addr, &request).await);
        assert_eq!(ours.0, status, "{name}");
        assert_eq!(ours, raw, "{name}");
    }
}

/// axum 0.8's own WebSocket support, serving HTTP/2 WebSockets: an independent server for our client.
async fn axum_ws_echo(ws: axum::extract::ws::WebSocketUpgrade) -> Response {
    use axum::extract::ws::Message as AxumMessage;
    ws.on_upgrade(|mut socket| async move {
        while let Some(Ok(message)) = socket.recv().await {
            let reply = match message {
                AxumMessage::Text(_) | AxumMessage::Binary(_) => message,
                AxumMessage::Close(_) => break,
                _ => continue,
            };
            if socket.send(reply).await.is_err() {
                break;
            }
        }
    })
}

#[tokio::test]
async fn our_http2_client_against_axums_own_http2_websocket_server() {
    let addr = serve(Router::new().route("/ws", any(axum_ws_echo))).await;
    let client = H2Client::handshake(TcpStream::connect(addr).await.unwrap())
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..10 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let url = Url::parse(&format!("ws://{addr}/ws")).unwrap();
            let request = ClientRequest::new(url);
            let (mut ws, _) = client.connect(request, Config::default()).await.unwrap();
            round_trip(&mut ws, i).await;
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

/// Subscribes every WebSocket of the route to the topic "news" until it ends.
async fn news(
    ws: WebSocketUpgrade,
    Extension(topics): Extension<wslane_hyper::Topics>,
) -> Response {
    ws.on_upgrade(move |ws| async move {
        let (mut read, write) = ws.split();
        let me = write.subscriber();
        topics.subscribe("news", &me);
        while let Some(Ok(_)) = read.recv().await {}
        topics.unsubscribe_all(&me);
    })
}

#[tokio::test]
async fn topics_publish_to_http1_and_http2_websockets_alike() {
    let topics = wslane_hyper::Topics::new();
    let app = Router::new()
        .route("/news", any(news))
        .layer(Extension(topics.clone()));
    let addr = serve(app).await;
    let url = Url::parse(&format!("ws://{addr}/news")).unwrap();
    let mut clients = Vec::new();
    for _ in 0..2 {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let (ws, _) = wslane_async::client_on::<Tokio, _>(
            tcp,
            ClientRequest::new(url.clone()),
            Config::default(),
        )
        .await
        .unwrap();
        clients.push(ws);
    }
    let h2 = H2Client::handshake(TcpStream::connect(addr).await.unwrap())
        .await
        .unwrap();
    let mut h2_clients = Vec::new();
    for _ in 0..2 {
        let (ws, _) = h2
            .connect(ClientRequest::new(url.clone()), Config::default())
            .await
            .unwrap();
        h2_clients.push(ws);
    }
    // The server subscribes each connection once its upgrade completes.
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while topics.subscribers("news") < 4 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("all four subscribed");
    let payload = vec![7u8; 8192];
    let message = wslane_hyper::PreparedMessage::binary(&payload);
    assert_eq!(topics.publish("news", &message).delivered, 4);
    for ws in &mut clients {
        assert_eq!(
            ws.recv().await.unwrap().unwrap(),
            Message::binary(payload.clone())
        );
    }
    for ws in &mut h2_clients {
        assert_eq!(
            ws.recv().await.unwrap().unwrap(),
            Message::binary(payload.clone())
        );
    }
}
