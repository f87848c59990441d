//! Fan-out on loopback: one publisher, N subscribers. Deliveries per second and server CPU per delivery,
//! for wslane's topics with prepared messages, a per-connection send loop on wslane, and tokio-tungstenite
//! with `tokio::sync::broadcast`, with and without permessage-deflate, in one run.
//!
//! ```text
//! fanout [--subscribers 1000,10000] [--seconds 3] [--size 2048] [--modes topics,loop,tungstenite]
//!        [--compression off,on]
//! ```
//!
//! Each case starts a server (this binary, `fanout serve ...`) on an ephemeral port and opens N client
//! connections to it from one mio thread that reads frames' headers only (no inflating, no copies), so
//! the client costs little next to the server. Once every subscriber is in, the server publishes text
//! messages of `--size` bytes (JSON-like, compressible about 3:1, each with its sequence number) for
//! `--seconds` as fast as its subscribers take them: a publisher that finds a subscriber's queue full (64 KiB,
//! or 32 messages in the broadcast channel) counts the message dropped for it and backs off for 1 ms. The
//! client counts the frames that arrive until none has for 300 ms. The server's CPU time (user and system,
//! all threads, from `/proc`) is read when publishing starts and when the last frame has arrived.
//!
//! - `topics`: `Topics::publish` of one `PreparedMessage` per message; each subscriber's read task writes.
//! - `loop`: the same server, but the publisher calls `WriteHalf::try_send(Message::text(..))` on every
//!   connection (a copy, a frame and, with compression, a compression per connection).
//! - `tungstenite`: tokio-tungstenite; each connection's task receives from a `broadcast` channel and
//!   feeds the message (shared `Utf8Bytes`), flushing when the channel is empty. tokio-tungstenite has no
//!   permessage-deflate, so it runs without compression only.
//!
//! With compression the server sends with `server_no_context_takeover`, window 15 and memory level 8 for
//! both wslane modes, so they differ only in compressing once or per connection.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use tokio::net::TcpListener;
use wslane_benches::load::procfs;
use wslane_tokio::{
    Acceptance, Config, DeflateConfig, Message, PerMessageDeflate, PreparedMessage, ServerConfig,
    SlowPolicy, Topics, WriteHalf,
};

/// A subscriber's queue: bytes on wslane, messages in the broadcast channel.
const QUEUE_BYTES: usize = 64 << 10;
const QUEUE_MESSAGES: usize = 32;
/// How long the client waits for more frames before deciding the run is over.
const QUIET: Duration = Duration::from_millis(300);

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve") {
        return serve(&args[1..]);
    }
    let mut subscribers = vec![1000usize, 10_000];
    let mut seconds = 3.0f64;
    let mut size = 2048usize;
    let mut modes = vec!["topics".to_owned(), "loop".into(), "tungstenite".into()];
    let mut compression = vec![false, true];
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let value = it.next().map(String::as_str).unwrap_or("");
        match arg.as_str() {
            "--subscribers" => subscribers = value.split(',').map(|v| v.parse().unwrap()).collect(),
            "--seconds" => seconds = value.parse().unwrap(),
            "--size" => size = value.parse().unwrap(),
            "--modes" => modes = value.split(',').map(str::to_owned).collect(),
            "--compression" => compression = value.split(',').map(|v| v == "on").collect(),
            _ => {
                eprintln!("usage: fanout [--subscribers 1000,10000] [--seconds 3] [--size 2048] [--modes topics,loop,tungstenite] [--compression off,on]");
                std::process::exit(2);
            }
        }
    }
    println!(
        "| subscribers | server | compression | deliveries/s | server CPU µs/delivery | deliveries per CPU-second | dropped |"
    );
    println!("|---:|---|---|---:|---:|---:|---:|");
    for &n in &subscribers {
        for &compress in &compression {
            for mode in &modes {
                if compress && mode == "tungstenite" {
                    continue;
                }
                let result = run_case(mode, compress, n, seconds, size)?;
                println!(
                    "| {n} | {mode} | {} | {:.0} | {:.3} | {:.0} | {} |",
                    if compress { "deflate" } else { "off" },
                    result.delivered as f64 / result.wall.as_secs_f64(),
                    result.cpu.as_secs_f64() * 1e6 / result.delivered.max(1) as f64,
                    result.delivered as f64 / result.cpu.as_secs_f64(),
                    result.dropped,
                );
            }
        }
    }
    Ok(())
}

struct CaseResult {
    delivered: u64,
    dropped: u64,
    wall: Duration,
    cpu: Duration,
}

/// Kills the server when the case ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run_case(
    mode: &str,
    compress: bool,
    n: usize,
    seconds: f64,
    size: usize,
) -> io::Result<CaseResult> {
    let exe = std::env::current_exe()?;
    let mut server = Server(
        Command::new(exe)
            .args(["serve", mode, if compress { "on" } else { "off" }])
            .arg(n.to_string())
            .arg(seconds.to_string())
            .arg(size.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?,
    );
    let pid = server.0.id();
    let mut lines = BufReader::new(server.0.stdout.take().unwrap()).lines();
    let mut stdin = server.0.stdin.take().unwrap();
    let port: u16 = lines.next().unwrap()?.trim().parse().unwrap();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut clients = Clients::open(addr, n, compress)?;
    // The server says when all N are subscribed.
    let ready = lines.next().unwrap()?;
    assert_eq!(ready.trim(), "ready");
    let cpu0 = procfs::cpu_time(pid)?;
    let start = Instant::now();
    writeln!(stdin, "go")?;
    let last = clients.count_until_quiet(Duration::from_secs_f64(seconds))?;
    let cpu1 = procfs::cpu_time(pid)?;
    writeln!(stdin, "stats")?;
    let dropped: u64 = lines.next().unwrap()?.trim().parse().unwrap();
    Ok(CaseResult {
        delivered: clients.received,
        dropped,
        wall: last - start,
        cpu: cpu1 - cpu0,
    })
}

/// The subscribers' side: N connections on one mio loop, counting frames.
struct Clients {
    poll: Poll,
    conns: Vec<Conn>,
    received: u64,
}

struct Conn {
    stream: TcpStream,
    /// Request bytes still to write.
    request: Vec<u8>,
    /// The response head, until it is whole.
    head: Option<Vec<u8>>,
    /// Header bytes of the frame being read.
    header: [u8; 14],
    header_len: usize,
    /// Payload bytes of the current frame still to skip.
    skip: u64,
}

impl Conn {
    /// Counts whole frames in `data`.
    fn feed(&mut self, mut data: &[u8]) -> u64 {
        let mut frames = 0;
        while !data.is_empty() {
            if self.skip > 0 {
                let take = (self.skip as usize).min(data.len());
                self.skip -= take as u64;
                data = &data[take..];
                if self.skip == 0 {
                    frames += 1;
                }
                continue;
            }
            self.header[self.header_len] = data[0];
            self.header_len += 1;
            data = &data[1..];
            if self.header_len < 2 {
                continue;
            }
            let need = match self.header[1] & 0x7f {
                126 => 4,
                127 => 10,
                _ => 2,
            };
            if self.header_len < need {
                continue;
            }
            let len = match need {
                4 => u64::from(u16::from_be_bytes([self.header[2], self.header[3]])),
                10 => u64::from_be_bytes(self.header[2..10].try_into().unwrap()),
                _ => u64::from(self.header[1] & 0x7f),
            };
            self.header_len = 0;
            self.skip = len;
            if len == 0 {
                frames += 1;
            }
        }
        frames
    }
}

impl Clients {
    fn open(addr: SocketAddr, n: usize, compress: bool) -> io::Result<Clients> {
        let poll = Poll::new()?;
        let mut clients = Clients {
            poll,
            conns: Vec::with_capacity(n),
            received: 0,
        };
        let extension = if compress {
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
        } else {
            ""
        };
        let request = format!(
            "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extension}\r\n"
        )
        .into_bytes();
        let mut events = Events::with_capacity(1024);
        let mut open = 0;
        let mut pending = 0;
        let deadline = Instant::now() + Duration::from_secs(60);
        while open < n {
            // At most 256 handshakes at a time, so the listen backlog never overflows.
            while pending < 256 && clients.conns.len() < n {
                let mut stream = TcpStream::connect(addr)?;
                let token = Token(clients.conns.len());
                clients.poll.registry().register(
                    &mut stream,
                    token,
                    Interest::READABLE | Interest::WRITABLE,
                )?;
                clients.conns.push(Conn {
                    stream,
                    request: request.clone(),
                    head: Some(Vec::new()),
                    header: [0; 14],
                    header_len: 0,
                    skip: 0,
                });
                pending += 1;
            }
            clients
                .poll
                .poll(&mut events, Some(Duration::from_millis(100)))?;
            for event in &events {
                let conn = &mut clients.conns[event.token().0];
                if event.is_writable() && !conn.request.is_empty() {
                    match conn.stream.write(&conn.request) {
                        Ok(written) => {
                            conn.request.drain(..written);
                        }
                        Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                        Err(err) if err.kind() == io::ErrorKind::NotConnected => {}
                        Err(err) => return Err(err),
                    }
                }
                if event.is_readable() {
                    if let Some(head) = conn.head.as_mut() {
                        let mut buf = [0; 4096];
                        loop {
                            match conn.stream.read(&mut buf) {
                                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                                Ok(read) => head.extend_from_slice(&buf[..read]),
                                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                                Err(err) => return Err(err),
                            }
                        }
                        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                            assert!(head.starts_with(b"HTTP/1.1 101"), "refused");
                            let rest = head[end + 4..].to_vec();
                            conn.head = None;
                            conn.feed(&rest);
                            open += 1;
                            pending -= 1;
                        }
                    }
                }
            }
            if Instant::now() > deadline {
                return Err(io::Error::other(format!("only {open} of {n} connected")));
            }
        }
        Ok(clients)
    }

    /// Counts frames for at least `at_least`, then until none arrives for [`QUIET`]; returns when the last
    /// one arrived.
    fn count_until_quiet(&mut self, at_least: Duration) -> io::Result<Instant> {
        let start = Instant::now();
        let mut last = start;
        let mut events = Events::with_capacity(1024);
        let mut buf = vec![0; 256 << 10];
        loop {
            self.poll
                .poll(&mut events, Some(Duration::from_millis(20)))?;
            let mut got = 0;
            for event in &events {
                if !event.is_readable() {
                    continue;
                }
                let conn = &mut self.conns[event.token().0];
                loop {
                    match conn.stream.read(&mut buf) {
                        Ok(0) => break,
                        Ok(read) => got += conn.feed(&buf[..read]),
                        Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                        Err(err) => return Err(err),
                    }
                }
            }
            let now = Instant::now();
            if got > 0 {
                self.received += got;
                last = now;
            } else if now - start > at_least && now - last > QUIET {
                return Ok(last);
            }
        }
    }
}

/// A JSON-like text of `size` bytes that compresses about 3:1, with `seq` in front.
fn message_text(template: &str, seq: u64) -> String {
    let mut text = String::with_capacity(template.len());
    let head = format!("{{\"seq\":{seq:012},");
    text.push_str(&head);
    text.push_str(&template[head.len()..]);
    text
}

fn template(size: usize) -> String {
    let mut out = String::from("{\"seq\":000000000000,\"quotes\":[");
    let mut x = 6455u32;
    let symbols = ["EURUSD", "GBPUSD", "USDJPY", "AUDUSD", "USDCHF", "NZDUSD"];
    let mut i = 0;
    while out.len() < size {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        out.push_str(&format!(
            "{{\"s\":\"{}\",\"bid\":1.{:05},\"ask\":1.{:05}}},",
            symbols[i % symbols.len()],
            (x >> 8) % 100_000,
            (x >> 12) % 100_000
        ));
        i += 1;
    }
    out.truncate(size.max(40));
    out
}

/// The server side: `serve <mode> <on|off> <n> <seconds> <size>`.
fn serve(args: &[String]) -> io::Result<()> {
    let mode = args[0].clone();
    let compress = args[1] == "on";
    let n: usize = args[2].parse().unwrap();
    let seconds: f64 = args[3].parse().unwrap();
    let size: usize = args[4].parse().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        println!("{}", listener.local_addr()?.port());
        let publish_for = Duration::from_secs_f64(seconds);
        let template = template(size);
        let dropped = Arc::new(AtomicU64::new(0));
        let publisher = match mode.as_str() {
            "topics" | "loop" => {
                wslane_publisher(
                    &listener,
                    &mode,
                    compress,
                    n,
                    publish_for,
                    template,
                    &dropped,
                )
                .await?
            }
            "tungstenite" => {
                tungstenite_publisher(&listener, n, publish_for, template, &dropped).await?
            }
            _ => panic!("unknown mode {mode}"),
        };
        publisher.await.unwrap();
        // "stats": the publisher's drops (the client waits until the deliveries stop first).
        let mut line = String::new();
        tokio::task::spawn_blocking(move || io::stdin().read_line(&mut line))
            .await
            .unwrap()?;
        println!("{}", dropped.load(Ordering::Relaxed));
        Ok(())
    })
}

/// Waits for the driver's "go".
async fn wait_for_go() {
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        io::stdin().read_line(&mut line).unwrap();
    })
    .await
    .unwrap();
}

async fn wslane_publisher(
    listener: &TcpListener,
    mode: &str,
    compress: bool,
    n: usize,
    publish_for: Duration,
    template: String,
    dropped: &Arc<AtomicU64>,
) -> io::Result<tokio::task::JoinHandle<()>> {
    let mut server = ServerConfig::default();
    if compress {
        let mut deflate = DeflateConfig::default();
        deflate.server_no_context_takeover = true;
        server
            .extensions
            .push(Arc::new(PerMessageDeflate::new(deflate)));
    }
    let server = Arc::new(server);
    let mut config = Config::default();
    config.max_output_buffer = QUEUE_BYTES;
    let mut policy = SlowPolicy::default();
    policy.max_buffered = QUEUE_BYTES;
    policy.max_dropped = u32::MAX;
    let topics = Topics::with_policy(policy);
    let mut halves: Vec<WriteHalf<tokio::net::TcpStream>> = Vec::with_capacity(n);
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    for _ in 0..n {
        let (tcp, _) = listener.accept().await?;
        tcp.set_nodelay(true)?;
        let server = Arc::clone(&server);
        let tx = tx.clone();
        tokio::spawn(async move {
            let ws = wslane_tokio::accept_with(tcp, server, config, |_| Ok(Acceptance::new()))
                .await
                .expect("handshake");
            let (mut read, write) = ws.split();
            tx.send(write).await.unwrap();
            while let Some(Ok(_)) = read.recv().await {}
        });
    }
    for _ in 0..n {
        let write = rx.recv().await.unwrap();
        topics.subscribe("t", &write.subscriber());
        halves.push(write);
    }
    println!("ready");
    wait_for_go().await;
    let per_connection = mode == "loop";
    let dropped = Arc::clone(dropped);
    Ok(tokio::spawn(async move {
        let start = Instant::now();
        let mut seq = 0u64;
        while start.elapsed() < publish_for {
            let text = message_text(&template, seq);
            seq += 1;
            let mut missed = 0;
            if per_connection {
                for write in &mut halves {
                    if write.try_send(Message::text(text.clone())).is_err() {
                        missed += 1;
                    }
                }
            } else {
                let message = PreparedMessage::text(&text);
                missed = topics.publish("t", &message).dropped;
            }
            dropped.fetch_add(missed, Ordering::Relaxed);
            if missed > 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            } else {
                tokio::task::yield_now().await;
            }
        }
        // The connections stay open (and their tasks writing) until the process ends.
        std::mem::forget(halves);
    }))
}

async fn tungstenite_publisher(
    listener: &TcpListener,
    n: usize,
    publish_for: Duration,
    template: String,
    dropped: &Arc<AtomicU64>,
) -> io::Result<tokio::task::JoinHandle<()>> {
    use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
    let (tx, _) = tokio::sync::broadcast::channel::<Utf8Bytes>(QUEUE_MESSAGES);
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(1024);
    for _ in 0..n {
        let (tcp, _) = listener.accept().await?;
        tcp.set_nodelay(true)?;
        let mut rx = tx.subscribe();
        let ready = ready_tx.clone();
        let lagged = Arc::clone(dropped);
        tokio::spawn(async move {
            let ws = tokio_tungstenite::accept_async(tcp)
                .await
                .expect("handshake");
            let (mut sink, mut stream) = ws.split();
            ready.send(()).await.unwrap();
            tokio::spawn(async move { while let Some(Ok(_)) = stream.next().await {} });
            loop {
                let text = match rx.recv().await {
                    Ok(text) => text,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                        lagged.fetch_add(missed, Ordering::Relaxed);
                        continue;
                    }
                    Err(_) => break,
                };
                if sink.feed(Message::Text(text)).await.is_err() {
                    break;
                }
                // Feed whatever else is waiting, then write it all.
                while let Ok(text) = rx.try_recv() {
                    if sink.feed(Message::Text(text)).await.is_err() {
                        return;
                    }
                }
                if sink.flush().await.is_err() {
                    break;
                }
            }
        });
    }
    for _ in 0..n {
        ready_rx.recv().await.unwrap();
    }
    println!("ready");
    wait_for_go().await;
    Ok(tokio::spawn(async move {
        let start = Instant::now();
        let mut seq = 0u64;
        while start.elapsed() < publish_for {
            // Back off while the slowest subscriber is half a queue behind.
            if tx.len() > QUEUE_MESSAGES / 2 {
                tokio::time::sleep(Duration::from_millis(1)).await;
                continue;
            }
            let _ = tx.send(Utf8Bytes::from(message_text(&template, seq)));
            seq += 1;
            tokio::task::yield_now().await;
        }
        std::mem::forget(tx);
    }))
}
