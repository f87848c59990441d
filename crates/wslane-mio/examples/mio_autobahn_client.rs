//! The Autobahn|Testsuite client testee, on the blocking client: runs every case of a
//! `wstest -m fuzzingserver`, echoing each message, then asks the server to write its reports.
//!
//! ```text
//! cargo run -p wslane-mio --example mio_autobahn_client -- ws://127.0.0.1:9001
//! ```

use std::net::TcpStream;

use std::sync::Arc;

use wslane_mio::{
    ClientRequest, Config, DeflateConfig, Error, Message, PerMessageDeflate, Url, WebSocket,
};

const AGENT: &str = "wslane-mio";

fn open(url: &str) -> Result<WebSocket<TcpStream>, Error> {
    let mut config = Config::default();
    config.max_message_size = 64 << 20;
    config.max_frame_size = 64 << 20;
    let deflate = PerMessageDeflate::new(DeflateConfig::fastest());
    let request = ClientRequest::new(Url::parse(url)?)
        .extension(Arc::new(deflate))
        .map_err(std::io::Error::other)?;
    Ok(wslane_mio::connect_with(request, config)?.0)
}

/// Reads until the connection ends, whichever way.
fn drain(ws: &mut WebSocket<TcpStream>) {
    while let Some(Ok(_)) = ws.recv() {}
}

fn main() -> Result<(), Error> {
    let base = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let mut ws = open(&format!("{base}/getCaseCount"))?;
    let count: u32 = match ws.recv().transpose()?.unwrap_or(Message::Close(None)) {
        Message::Text(text) => text.trim().parse().map_err(std::io::Error::other)?,
        other => {
            return Err(std::io::Error::other(format!("unexpected case count: {other:?}")).into())
        }
    };
    drain(&mut ws);

    let mut refused = 0;
    for case in 1..=count {
        // A case whose opening handshake fails is reported and the run goes on, as other testees do: the
        // server records the case as failed.
        let mut ws = match open(&format!("{base}/runCase?case={case}&agent={AGENT}")) {
            Ok(ws) => ws,
            Err(err) => {
                eprintln!("case {case}: the opening handshake failed: {err}");
                refused += 1;
                continue;
            }
        };
        loop {
            match ws.recv() {
                Some(Ok(message)) if message.is_data() => {
                    // Queued: written when the next read finds the input used up.
                    if ws.feed(message).is_err() {
                        break;
                    }
                }
                Some(Ok(_)) => {}
                // The end, or a case that fails the connection on purpose; the server judges it.
                None | Some(Err(_)) => break,
            }
        }
    }

    let mut ws = open(&format!("{base}/updateReports?agent={AGENT}"))?;
    drain(&mut ws);
    println!("ran {count} cases ({refused} refused in the opening handshake)");
    Ok(())
}
