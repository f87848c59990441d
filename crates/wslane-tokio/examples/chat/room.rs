//! The rooms every front end shares: each room is a topic of one [`Topics`], each member a subscriber,
//! and every line is one [`PreparedMessage`] published to the room (framed, and compressed, once for all
//! its members). Topics cut off a member that does not read. With `--redis` the lines also go to the
//! other processes through the [`Relay`], and theirs come back into the same topics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use wslane::handshake::HttpVersion;
use wslane_tokio::{Error, Message, PreparedMessage, SlowPolicy, Topics, WebSocketStream};

use crate::event::ChatEvent;
use crate::redis_relay::Relay;
use crate::BACKLOG;

/// The room a page joins when its URL names none.
pub(crate) const DEFAULT_ROOM: &str = "lobby";
/// The longest room name.
const MAX_ROOM: usize = 32;

/// The rooms: their members (by topic), the next guest number, and the relay to other processes.
pub(crate) struct Rooms {
    topics: Topics,
    next_id: AtomicU64,
    /// `@<tag>` after each name when processes share rooms, so that names stay unique among them.
    suffix: String,
    relay: Option<Relay>,
}

impl Rooms {
    /// Rooms in this process only.
    pub(crate) fn new() -> Arc<Rooms> {
        Rooms::with_topics(topics(), String::new(), None)
    }

    /// Rooms over `topics`, naming members `guest-<n><suffix>`, sending each line to `relay` too.
    pub(crate) fn with_topics(topics: Topics, suffix: String, relay: Option<Relay>) -> Arc<Rooms> {
        Arc::new(Rooms {
            topics,
            next_id: AtomicU64::new(1),
            suffix,
            relay,
        })
    }

    /// One member of `room`, from its upgrade to its end: it takes the next guest number and is told its
    /// name; its messages go to everyone in the room; what the room publishes is queued on its sending
    /// half, and its receiving loop writes it out. `version` is the HTTP version its WebSocket came over,
    /// for the log.
    pub(crate) async fn join<S>(
        &self,
        ws: WebSocketStream<S>,
        version: HttpVersion,
        room: &str,
    ) -> Result<(), Error>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let mut ws = ws;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let name = format!("guest-{id}{}", self.suffix);
        println!("{name} joined over {version}");
        let welcome = ChatEvent::Welcome {
            name: name.clone(),
            room: room.to_owned(),
        };
        ws.send(Message::text(welcome.to_json())).await?;
        let (mut reader, writer) = ws.split();
        let me = writer.subscriber();
        self.topics.subscribe(room, &me);
        self.broadcast(room, &ChatEvent::joined(&name));

        let result = async {
            while let Some(message) = reader.next().await {
                if let Message::Text(text) = message? {
                    let said = ChatEvent::Message {
                        from: name.clone(),
                        text: text.to_string(),
                    };
                    self.broadcast(room, &said);
                }
            }
            Ok(())
        }
        .await;

        self.topics.unsubscribe_all(&me);
        self.broadcast(room, &ChatEvent::left(&name));
        match result {
            // Cut off by a publish that found its output full: the topics aborted it with 1013.
            Err(Error::Aborted) => {
                eprintln!("{name}: too slow, disconnecting with 1013");
                Ok(())
            }
            result => result,
        }
    }

    /// Publishes `event` to the members of `room` here, without waiting on any, and hands it to the relay.
    fn broadcast(&self, room: &str, event: &ChatEvent) {
        self.topics
            .publish(room, &PreparedMessage::text(&event.to_json()));
        if let Some(relay) = &self.relay {
            relay.publish(room, event);
        }
    }
}

/// The topics of a chat: a member may have [`BACKLOG`] bytes waiting, and is cut off (1013) by the
/// first line that does not fit, so that nobody silently misses a line.
pub(crate) fn topics() -> Topics {
    let mut policy = SlowPolicy::default();
    policy.max_buffered = BACKLOG;
    policy.max_dropped = 0;
    Topics::with_policy(policy)
}

/// Why a request's room is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BadRoom {
    /// Empty, longer than 32 bytes, or with a byte other than ASCII letters, digits, `-` and `_`.
    Name,
}

impl std::fmt::Display for BadRoom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadRoom::Name => write!(
                f,
                "a room name is 1 to {MAX_ROOM} letters, digits, '-' or '_'"
            ),
        }
    }
}

/// The room a WebSocket request target asks for (`/ws?room=NAME`), [`DEFAULT_ROOM`] when it names none.
pub(crate) fn room_of(target: &str) -> Result<String, BadRoom> {
    let query = target.split_once('?').map_or("", |(_, query)| query);
    let named = query.split('&').find_map(|pair| pair.strip_prefix("room="));
    match named {
        None => Ok(DEFAULT_ROOM.to_owned()),
        Some(name) if is_room_name(name) => Ok(name.to_owned()),
        Some(_) => Err(BadRoom::Name),
    }
}

/// Whether `name` may name a room: 1 to 32 ASCII letters, digits, `-` or `_` (safe in a Redis channel
/// name and in a URL as it is).
pub(crate) fn is_room_name(name: &str) -> bool {
    (1..=MAX_ROOM).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
