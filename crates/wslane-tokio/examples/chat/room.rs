//! The room every front end shares: its members, the broadcast, and the cut-off of slow members.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use wslane::handshake::HttpVersion;
use wslane_tokio::{CloseCode, Error, Message, TrySendError, WebSocketStream, WriteHalf};

/// The members' sending halves by id, over connections of type `S` (TCP, or an upgraded HTTP
/// connection or HTTP/2 stream), and the next guest number.
pub(crate) struct Room<S> {
    members: Mutex<HashMap<u64, WriteHalf<S>>>,
    next_id: AtomicU64,
}

impl<S> Room<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    pub(crate) fn new() -> Arc<Room<S>> {
        Arc::new(Room {
            members: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
        })
    }

    /// One member, from its upgrade to its end: it takes the next guest number and is told its name; its
    /// messages go to everyone; everyone's messages are queued on its sending half, and its receiving loop
    /// writes them out. `version` is the HTTP version its WebSocket came over, for the log.
    pub(crate) async fn join(
        &self,
        ws: WebSocketStream<S>,
        version: HttpVersion,
    ) -> Result<(), Error> {
        let mut ws = ws;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let name = format!("guest-{id}");
        println!("{name} joined over {version}");
        ws.send(Message::text(welcome(&name))).await?;
        let (mut reader, writer) = ws.split();
        self.members.lock().unwrap().insert(id, writer);
        self.broadcast(&notice(&format!("{name} joined")));

        let result = async {
            while let Some(message) = reader.next().await {
                if let Message::Text(text) = message? {
                    self.broadcast(&said(&name, &text));
                }
            }
            Ok(())
        }
        .await;

        let removed = self.members.lock().unwrap().remove(&id).is_some();
        if removed {
            self.broadcast(&notice(&format!("{name} left")));
        }
        match result {
            // Cut off by `broadcast`, which said so.
            Err(Error::Aborted) => Ok(()),
            result => result,
        }
    }

    /// Queues `line` for every member, without waiting. A member whose output is full is aborted: its
    /// socket is closed now, even though its receiving loop waits on a peer that does not read.
    fn broadcast(&self, line: &str) {
        let mut members = self.members.lock().unwrap();
        members.retain(|id, ws| match ws.try_send(Message::text(line)) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                eprintln!("guest-{id}: too slow, disconnecting with 1013");
                ws.abort_handle()
                    .abort(CloseCode::TRY_AGAIN_LATER, "too slow");
                false
            }
            Err(_) => false,
        });
    }
}

/// Tells a new member its own name.
fn welcome(name: &str) -> String {
    format!(r#"{{"kind":"welcome","name":{}}}"#, json_string(name))
}

fn notice(text: &str) -> String {
    format!(r#"{{"kind":"notice","text":{}}}"#, json_string(text))
}

fn said(from: &str, text: &str) -> String {
    format!(
        r#"{{"kind":"message","from":{},"text":{}}}"#,
        json_string(from),
        json_string(text)
    )
}

/// A JSON string literal.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
