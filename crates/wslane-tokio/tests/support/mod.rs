//! Shared helpers for the adapter's integration tests: a time bound for every test, loopback listeners, an
//! echo server, in-memory pairs for tests on tokio's paused clock, and a raw peer (hand-written handshake
//! and frames) that can misbehave on purpose.
//!
//! Each test file uses a different subset, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio::net::{TcpListener, TcpStream};
use wslane_tokio::{Acceptance, ClientRequest, Config, ServerConfig, Url, WebSocketStream};

/// The longest any one test may take; well above what each needs, so only a hang reaches it.
pub(crate) const LIMIT: Duration = Duration::from_secs(10);

/// Opcodes, for the raw peer.
pub(crate) const TEXT: u8 = 0x1;
pub(crate) const BINARY: u8 = 0x2;
pub(crate) const CLOSE: u8 = 0x8;
pub(crate) const PING: u8 = 0x9;
pub(crate) const PONG: u8 = 0xa;

/// The key of the RFC 6455 section 1.3 example and its accept value.
pub(crate) const SAMPLE_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
pub(crate) const SAMPLE_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// Bytes each way in an in-memory pair: more than any test has in flight, so no write waits for the reader.
pub(crate) const PIPE: usize = 64 << 10;

/// How late a deadline may be reached on tokio's paused clock. The clock jumps straight to the next timer,
/// but tokio's timer wheel counts whole milliseconds and rounds a deadline up to the next one, so a
/// deadline `d` after a start fires at `d` or up to a millisecond later (a little more where one timer is
/// armed when another fires). Nothing else moves the paused clock, so a larger lateness is a real delay.
pub(crate) const TIMER_SLACK: Duration = Duration::from_millis(5);

/// Asserts that `took`, measured on the paused clock, is `expected`: at least `expected` (the rule's
/// deadline) and within [`TIMER_SLACK`] of it.
#[track_caller]
pub(crate) fn assert_virtual_time(took: Duration, expected: Duration, what: &str) {
    assert!(
        took >= expected && took < expected + TIMER_SLACK,
        "{what} after {took:?} of virtual time, expected {expected:?}"
    );
}

/// Runs `future` within [`LIMIT`], failing the test if it hangs.
pub(crate) async fn bounded<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(LIMIT, future)
        .await
        .expect("the test hung")
}

/// A listener on an ephemeral loopback port.
pub(crate) async fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// The `ws://` URL of `addr` with `path`.
pub(crate) fn ws_url(addr: SocketAddr, path: &str) -> String {
    format!("ws://{addr}{path}")
}

/// Echoes every data message until the stream ends; returns how it ended.
pub(crate) async fn echo<S>(mut ws: WebSocketStream<S>) -> Result<(), wslane_tokio::Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    while let Some(message) = ws.next().await {
        let message = message?;
        if message.is_data() {
            ws.feed(message).await?;
        }
    }
    Ok(())
}

/// An echo server on loopback accepting any number of connections with `config`.
pub(crate) async fn echo_server(config: Config) -> SocketAddr {
    let (listener, addr) = listener().await;
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let ws = wslane_tokio::accept_with(tcp, ServerConfig::default(), config, |_| {
                    Ok(Acceptance::new())
                })
                .await?;
                echo(ws).await
            });
        }
    });
    addr
}

/// A client's upgrade request for `/` with the sample key; `version` is the `Sec-WebSocket-Version`.
pub(crate) fn raw_request(version: &str) -> String {
    format!(
        "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {SAMPLE_KEY}\r\nSec-WebSocket-Version: {version}\r\n\r\n"
    )
}

/// Reads an HTTP head up to its blank line, byte by byte so nothing behind it is consumed.
pub(crate) async fn read_head<S: AsyncRead + Unpin>(stream: &mut S) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let byte = stream.read_u8().await.expect("the head ended early");
        head.push(byte);
    }
    String::from_utf8(head).unwrap()
}

/// The raw client's side of the handshake on `stream`: sends the upgrade request and checks the 101.
pub(crate) async fn raw_client_handshake<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S) {
    stream
        .write_all(raw_request("13").as_bytes())
        .await
        .unwrap();
    let head = read_head(stream).await;
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert!(head.contains(SAMPLE_ACCEPT), "{head}");
}

/// Connects to `addr` as a raw client: sends the upgrade request and checks the 101.
pub(crate) async fn raw_client(addr: SocketAddr) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    raw_client_handshake(&mut tcp).await;
    tcp
}

/// A server socket from `accept_with` with `config`, and a raw client connected to it.
pub(crate) async fn server_with_raw_client(
    config: Config,
) -> (WebSocketStream<TcpStream>, TcpStream) {
    let (listener, addr) = listener().await;
    let (raw, accepted) = tokio::join!(raw_client(addr), async {
        let (tcp, _) = listener.accept().await.unwrap();
        wslane_tokio::accept_with(tcp, ServerConfig::default(), config, |_| {
            Ok(Acceptance::new())
        })
        .await
        .unwrap()
    });
    (accepted, raw)
}

/// A server socket from `accept_with` with `config` and a raw client, joined by an in-memory pipe: nothing
/// between them waits on the OS, so tests on tokio's paused clock see time move only by their timers.
pub(crate) async fn server_with_raw_client_in_memory(
    config: Config,
) -> (WebSocketStream<DuplexStream>, DuplexStream) {
    let (server_io, mut raw) = tokio::io::duplex(PIPE);
    let (accepted, ()) = tokio::join!(
        wslane_tokio::accept_with(server_io, ServerConfig::default(), config, |_| {
            Ok(Acceptance::new())
        }),
        raw_client_handshake(&mut raw)
    );
    (accepted.unwrap(), raw)
}

/// A client's request for an in-memory pipe (the URL names no real host).
pub(crate) fn in_memory_request() -> ClientRequest {
    ClientRequest::new(Url::parse("ws://localhost/").unwrap())
}

/// Answers one client's handshake by hand on `stream` and returns the request head.
pub(crate) async fn raw_server_handshake<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
) -> String {
    let head = read_head(stream).await;
    let key = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("sec-websocket-key")
                .then(|| value.trim().to_owned())
        })
        .expect("a Sec-WebSocket-Key");
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        wslane::handshake::accept_key(&key)
    );
    stream.write_all(response.as_bytes()).await.unwrap();
    head
}

/// A frame as the raw peer writes it: FIN set, masked with `mask` if given.
pub(crate) fn frame(opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = vec![0x80 | opcode];
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        len @ 0..=125 => out.push(mask_bit | len as u8),
        len @ 126..=0xffff => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// A masked frame, as a client sends.
pub(crate) fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    frame(opcode, payload, Some([0x37, 0xfa, 0x21, 0x3d]))
}

/// A close frame body: the code, big-endian, then the reason.
pub(crate) fn close_body(code: u16, reason: &str) -> Vec<u8> {
    let mut body = code.to_be_bytes().to_vec();
    body.extend_from_slice(reason.as_bytes());
    body
}

/// A frame the raw peer read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct RawFrame {
    pub(crate) fin: bool,
    pub(crate) opcode: u8,
    pub(crate) masked: bool,
    /// Unmasked.
    pub(crate) payload: Vec<u8>,
}

impl RawFrame {
    /// The close code of a close frame.
    pub(crate) fn close_code(&self) -> u16 {
        assert_eq!(self.opcode, CLOSE, "not a close frame: {self:?}");
        u16::from_be_bytes([self.payload[0], self.payload[1]])
    }
}

/// Reads one frame; `None` at a clean end of stream before its first byte.
pub(crate) async fn read_frame<S: AsyncRead + Unpin>(stream: &mut S) -> Option<RawFrame> {
    let first = match stream.read_u8().await {
        Ok(byte) => byte,
        Err(err) if err.kind() == std::io::ErrorKind::UnexpectedEof => return None,
        Err(err) => panic!("reading a frame: {err}"),
    };
    let second = stream.read_u8().await.unwrap();
    let len = match second & 0x7f {
        126 => u64::from(stream.read_u16().await.unwrap()),
        127 => stream.read_u64().await.unwrap(),
        len => u64::from(len),
    };
    let masked = second & 0x80 != 0;
    let mut key = [0; 4];
    if masked {
        stream.read_exact(&mut key).await.unwrap();
    }
    let mut payload = vec![0; usize::try_from(len).unwrap()];
    stream.read_exact(&mut payload).await.unwrap();
    if masked {
        payload
            .iter_mut()
            .enumerate()
            .for_each(|(i, b)| *b ^= key[i % 4]);
    }
    Some(RawFrame {
        fin: first & 0x80 != 0,
        opcode: first & 0x0f,
        masked,
        payload,
    })
}

/// Reads until the end of the stream, failing if anything more arrives.
pub(crate) async fn expect_eof<S: AsyncRead + Unpin>(stream: &mut S) {
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty(), "unexpected bytes before EOF: {rest:?}");
}

/// A config with the given close timeout.
pub(crate) fn config_with_close_timeout(timeout: Duration) -> Config {
    let mut config = Config::default();
    config.close_timeout = timeout;
    config
}

/// A `client_on` client over loopback TCP and the raw server at the other end, with small socket buffers
/// (our send buffer, the raw side's receive buffer), so a raw side that does not read soon stalls writes.
pub(crate) async fn small_buffer_client(config: Config) -> (WebSocketStream<TcpStream>, TcpStream) {
    let listening = tokio::net::TcpSocket::new_v4().unwrap();
    listening.set_recv_buffer_size(8 << 10).unwrap();
    listening.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = listening.listen(8).unwrap();
    let addr = listener.local_addr().unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_send_buffer_size(8 << 10).unwrap();
    let request =
        wslane_tokio::ClientRequest::new(wslane_tokio::Url::parse(&ws_url(addr, "/")).unwrap());
    let (client, raw) = tokio::join!(
        async {
            let tcp = socket.connect(addr).await.unwrap();
            wslane_tokio::client_on(tcp, request, config).await
        },
        async {
            let (mut raw, _) = listener.accept().await.unwrap();
            raw_server_handshake(&mut raw).await;
            raw
        }
    );
    (client.unwrap().0, raw)
}
