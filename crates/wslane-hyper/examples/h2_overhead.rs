//! The extra cost per message of a WebSocket over an HTTP/2 stream against one over HTTP/1.1, in one run:
//! an axum echo route on loopback, our client over each version, 64-byte binary messages, both as
//! sequential round trips and as pipelined batches.
//!
//! ```text
//! cargo run --release -p wslane-hyper --features axum --example h2_overhead -- 20000
//! ```

use std::time::{Duration, Instant};

use axum::response::Response;
use axum::routing::any;
use axum::serve::ListenerExt;
use axum::Router;
use tokio::net::TcpStream;
use wslane_hyper::{ClientRequest, Config, H2Client, Message, Url, WebSocketUpgrade};

async fn echo(ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(|mut ws| async move {
        while let Some(Ok(message)) = ws.recv().await {
            if message.is_data() && ws.send(message).await.is_err() {
                break;
            }
        }
    })
}

/// Sequential round trips, then `count` messages sent in batches of 100 before reading their echoes.
async fn measure<S, R>(ws: &mut wslane_async::WebSocket<S, R>, count: u32) -> (Duration, Duration)
where
    S: Unpin,
    R: wslane_async::Transport<S>,
{
    let payload = Message::binary(vec![7; 64]);
    let start = Instant::now();
    for _ in 0..count {
        ws.send(payload.clone()).await.expect("send");
        ws.recv().await.expect("an echo").expect("an echo");
    }
    let round_trips = start.elapsed();
    let start = Instant::now();
    for _ in 0..count / 100 {
        for _ in 0..100 {
            ws.feed(payload.clone()).await.expect("feed");
        }
        ws.flush().await.expect("flush");
        for _ in 0..100 {
            ws.recv().await.expect("an echo").expect("an echo");
        }
    }
    (round_trips, start.elapsed())
}

fn per_message(total: Duration, count: u32) -> f64 {
    total.as_secs_f64() * 1e9 / f64::from(count)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let count: u32 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000)
        .max(100);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    // Replies go out one write each: without TCP_NODELAY, Nagle's algorithm holds them back.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tokio::spawn(async move { axum::serve(listener, Router::new().fallback(any(echo))).await });
    let url = Url::parse(&format!("ws://{addr}/")).map_err(std::io::Error::other)?;

    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let request = ClientRequest::new(url.clone());
    let (mut h1, _) =
        wslane_async::client_on::<wslane_async::Tokio, _>(tcp, request, Config::default())
            .await
            .map_err(std::io::Error::other)?;
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let client = H2Client::handshake(tcp)
        .await
        .map_err(std::io::Error::other)?;
    let (mut h2, _) = client
        .connect(ClientRequest::new(url), Config::default())
        .await
        .map_err(std::io::Error::other)?;

    // Warm both up, then measure each twice, alternating, and keep the better run of each.
    measure(&mut h1, 1000).await;
    measure(&mut h2, 1000).await;
    let mut best = [(Duration::MAX, Duration::MAX); 2];
    for _ in 0..2 {
        for (slot, result) in [measure(&mut h1, count).await, measure(&mut h2, count).await]
            .into_iter()
            .enumerate()
        {
            best[slot].0 = best[slot].0.min(result.0);
            best[slot].1 = best[slot].1.min(result.1);
        }
    }
    let [(h1_rt, h1_batch), (h2_rt, h2_batch)] = best;
    println!("{count} messages of 64 bytes, ns per message (best of 2)");
    println!("                 HTTP/1.1   HTTP/2   extra");
    for (name, a, b) in [
        ("round trip", h1_rt, h2_rt),
        ("pipelined", h1_batch, h2_batch),
    ] {
        let (a, b) = (per_message(a, count), per_message(b, count));
        println!("{name:<16} {a:>8.0} {b:>8.0} {:>7.0}", b - a);
    }
    Ok(())
}
