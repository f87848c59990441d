//! The Autobahn|Testsuite client testee: runs every case of a `wstest -m fuzzingserver`, echoing each
//! message, then asks the server to write its reports.
//!
//! ```text
//! cargo run -p wslane-async-std --example async_std_autobahn_client -- ws://127.0.0.1:9001
//! ```

use futures_util::StreamExt;
use wslane_async_std::{
    ClientRequest, Config, Connector, DeflateConfig, Message, PerMessageDeflate, Url,
};

const AGENT: &str = "wslane";

async fn open(
    url: &str,
) -> Result<
    wslane_async_std::WebSocketStream<wslane_async_std::MaybeTlsStream>,
    wslane_async_std::Error,
> {
    let mut config = Config::default();
    config.max_message_size = 64 << 20;
    config.max_frame_size = 64 << 20;
    let request = ClientRequest::new(Url::parse(url)?)
        .extension(std::sync::Arc::new(PerMessageDeflate::new(
            DeflateConfig::fastest(),
        )))
        .map_err(std::io::Error::other)?;
    Ok(
        wslane_async_std::connect_with(request, config, Connector::Default)
            .await?
            .0,
    )
}

#[async_std::main]
async fn main() -> Result<(), wslane_async_std::Error> {
    let base = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let mut ws = open(&format!("{base}/getCaseCount")).await?;
    let count: u32 = match ws.next().await.transpose()? {
        Some(Message::Text(text)) => text.trim().parse().map_err(std::io::Error::other)?,
        other => {
            return Err(std::io::Error::other(format!("unexpected case count: {other:?}")).into())
        }
    };
    while ws.next().await.is_some() {}

    let mut refused = 0;
    for case in 1..=count {
        // A case whose opening handshake fails is reported and the run goes on, as other testees do: the
        // server records the case as failed.
        let mut ws = match open(&format!("{base}/runCase?case={case}&agent={AGENT}")).await {
            Ok(ws) => ws,
            Err(err) => {
                eprintln!("case {case}: the opening handshake failed: {err}");
                refused += 1;
                continue;
            }
        };
        while let Some(message) = ws.next().await {
            match message {
                Ok(message) if message.is_data() => {
                    if ws.feed(message).await.is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                // A case that fails the connection on purpose ends here; the server judges it.
                Err(_) => break,
            }
        }
    }

    let mut ws = open(&format!("{base}/updateReports?agent={AGENT}")).await?;
    while ws.next().await.is_some() {}
    println!("ran {count} cases ({refused} refused in the opening handshake)");
    Ok(())
}
