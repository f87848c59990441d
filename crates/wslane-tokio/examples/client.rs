//! A small command-line client: sends each line of standard input as a text message and prints what
//! arrives; closes cleanly at the end of input.
//!
//! ```text
//! cargo run -p wslane-tokio --example client -- ws://127.0.0.1:9001/
//! ```

use futures_util::StreamExt;
use tokio::io::{AsyncBufReadExt, BufReader};
use wslane_tokio::{CloseCode, Message};

#[tokio::main]
async fn main() -> Result<(), wslane_tokio::Error> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9001/".into());
    let (ws, _response) = wslane_tokio::connect(&url).await?;
    eprintln!("connected to {url}");
    let (mut reader, mut writer) = ws.split();

    let printer = tokio::spawn(async move {
        while let Some(message) = reader.next().await {
            match message {
                Ok(Message::Text(text)) => println!("{text}"),
                Ok(Message::Binary(data)) => println!("<{} bytes of binary>", data.len()),
                Ok(Message::Close(frame)) => {
                    if let Some(frame) = frame {
                        eprintln!("closed: {} {}", frame.code, frame.reason);
                    }
                }
                Ok(_) => {}
                Err(err) => return Err(err),
            }
        }
        Ok(())
    });

    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        writer.send(Message::text(line)).await?;
    }
    writer.close(CloseCode::NORMAL, "end of input").await?;
    printer.await.map_err(std::io::Error::other)?
}
