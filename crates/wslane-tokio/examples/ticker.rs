//! A live price ticker: the server pushes prices to every browser on its own. One process serves the page
//! on `/` and the WebSocket endpoint on `/ws`, on one port.
//!
//! ```text
//! cargo run -p wslane-tokio --example ticker              # http://127.0.0.1:8081/
//! cargo run -p wslane-tokio --example ticker -- 0.0.0.0:9000
//! ```
//!
//! One task moves the prices (a random walk) twice a second and publishes each update, a JSON text
//! message, on a `watch` channel. Every connection queues the latest update with `try_send`, which never
//! waits: a browser that stops reading fills its output buffer and is cut off with 1013 (try again
//! later), so it never holds the others back. The page reconnects with backoff when the server goes away.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use wslane_tokio::{
    Acceptance, CloseCode, Config, Error, Message, ServerConfig, ServerError, ServerHandshake,
    TrySendError, WebSocketStream,
};

const PAGE: &str = include_str!("ticker.html");
/// The symbols and their opening prices.
const SYMBOLS: [(&str, f64); 5] = [
    ("ACME", 120.00),
    ("BOLT", 42.50),
    ("CRUX", 310.00),
    ("DYNE", 18.20),
    ("ECHO", 77.70),
];
/// How often the prices move.
const PERIOD: Duration = Duration::from_millis(500);
/// Bytes of output a browser may have waiting before it counts as too slow (a few hundred updates).
const BACKLOG: usize = 64 << 10;

/// The latest update, as the JSON text every subscriber sends.
type Update = Arc<str>;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8081".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("ticker on http://{}/", listener.local_addr()?);
    let mut market = Market::new();
    let (publisher, updates) = watch::channel(market.tick());
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(PERIOD);
        ticks.tick().await; // the first tick is now: the channel already holds it
        loop {
            ticks.tick().await;
            publisher.send_replace(market.tick());
        }
    });
    loop {
        let (tcp, peer) = listener.accept().await?;
        let updates = updates.clone();
        tokio::spawn(async move {
            if let Err(err) = serve(tcp, updates).await {
                eprintln!("{peer}: {err}");
            }
        });
    }
}

/// Routes one HTTP connection: the page, the WebSocket endpoint, or 404.
async fn serve(mut tcp: TcpStream, updates: watch::Receiver<Update>) -> Result<(), Error> {
    tcp.set_nodelay(true)?;
    let mut handshake = ServerHandshake::new(ServerConfig::default());
    let request = match wslane_tokio::read_request(&mut tcp, &mut handshake).await {
        Ok(request) => request,
        // A plain HTTP request: the page, or nothing.
        Err(Error::Request(ServerError::NotWebSocketUpgrade)) => {
            return match handshake.target() {
                Some("/") => respond(tcp, "200 OK", "text/html; charset=utf-8", PAGE).await,
                _ => respond(tcp, "404 Not Found", "text/plain", "not found\n").await,
            };
        }
        // A browser may open a connection it never uses.
        Err(Error::Io(err)) if err.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
        Err(Error::Request(err)) => {
            tcp.write_all(&err.to_response()).await?;
            return Err(Error::Request(err));
        }
        Err(err) => return Err(err),
    };
    if request.path() != "/ws" {
        return respond(tcp, "404 Not Found", "text/plain", "not found\n").await;
    }
    // The prices are public: any page may subscribe.
    let mut config = Config::default();
    config.max_output_buffer = BACKLOG;
    let ws = wslane_tokio::upgrade(tcp, request, Acceptance::new(), config).await?;
    subscribe(ws, updates).await
}

async fn respond(mut tcp: TcpStream, status: &str, kind: &str, body: &str) -> Result<(), Error> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await?;
    tcp.write_all(body.as_bytes()).await?;
    tcp.shutdown().await?;
    Ok(())
}

/// Sends one browser the latest prices, then every update, until it leaves. Updates are queued with
/// `try_send` and written out by the receiving branch, which also answers pings and the close.
async fn subscribe(
    mut ws: WebSocketStream<TcpStream>,
    mut updates: watch::Receiver<Update>,
) -> Result<(), Error> {
    updates.mark_changed();
    loop {
        tokio::select! {
            // Receiving first, so that an abort below is carried out (with its close frame) at once.
            biased;
            message = ws.next() => match message {
                Some(Ok(_)) => {} // the page sends nothing
                Some(Err(Error::Aborted)) | None => return Ok(()),
                Some(Err(err)) => return Err(err),
            },
            changed = updates.changed() => {
                if changed.is_err() {
                    return ws.close(CloseCode::GOING_AWAY, "shutting down").await;
                }
                let update = updates.borrow_and_update().clone();
                match ws.try_send(Message::text(&*update)) {
                    Ok(()) => {}
                    // Still behind with earlier updates: cut it off rather than queue more.
                    Err(TrySendError::Full(_)) => {
                        eprintln!("a subscriber is too slow, disconnecting with 1013");
                        ws.abort_handle().abort(CloseCode::TRY_AGAIN_LATER, "too slow");
                    }
                    // Closing: the receiving branch sees the end.
                    Err(_) => {}
                }
            }
        }
    }
}

/// The prices, moved by a random walk.
struct Market {
    random: XorShift,
    prices: [f64; SYMBOLS.len()],
}

impl Market {
    fn new() -> Market {
        Market {
            random: XorShift::from_clock(),
            prices: SYMBOLS.map(|(_, open)| open),
        }
    }

    /// Moves every price by up to 0.5 % either way and returns the update: the time (milliseconds since
    /// the Unix epoch) and each symbol's price and change since the open, in percent.
    ///
    /// `{"time":1700000000000,"prices":[{"symbol":"ACME","price":120.31,"change":0.26},…]}`
    fn tick(&mut self) -> Update {
        let time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |t| t.as_millis());
        let mut quotes = Vec::with_capacity(SYMBOLS.len());
        for ((symbol, open), price) in SYMBOLS.iter().zip(&mut self.prices) {
            let step = (self.random.next_unit() - 0.5) * 0.01;
            *price = (*price * (1.0 + step)).max(0.01);
            let change = (*price / open - 1.0) * 100.0;
            quotes.push(format!(
                r#"{{"symbol":"{symbol}","price":{price:.2},"change":{change:.2}}}"#
            ));
        }
        format!(r#"{{"time":{time},"prices":[{}]}}"#, quotes.join(",")).into()
    }
}

/// Marsaglia's xorshift64: plenty for a demo's prices (not for anything secret).
struct XorShift(u64);

impl XorShift {
    fn from_clock() -> XorShift {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |t| t.as_nanos() as u64);
        // Spread the clock's bits over the whole word (a seed with few bits set starts with small
        // numbers); any seed but zero.
        XorShift(nanos.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// A number in [0, 1).
    fn next_unit(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}
