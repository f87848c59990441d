//! The relay's format on Redis: one channel per room, one JSON object per line.
//!
//! ```text
//! channel  wslane-chat:room:<room>
//! payload  {"origin":"5f0c…","event":{"kind":"message","from":"guest-3@k7qx","text":"hi"}}
//! ```
//!
//! `origin` is the publishing process's random id ([`Node::origin`](crate::node::Node::origin)); `event` is
//! the line as pages receive it ([`ChatEvent`]), a `notice` or a `message` (a `welcome` is never
//! relayed). Anything else is refused with a [`BadPayload`], which the relay logs and drops.

use serde::{Deserialize, Serialize};

use crate::event::ChatEvent;
use crate::room::is_room_name;

/// What every channel name starts with; the room follows.
pub(crate) const CHANNEL_PREFIX: &str = "wslane-chat:room:";
/// The pattern every process subscribes to: every room.
pub(crate) const PATTERN: &str = "wslane-chat:room:*";
/// The largest payload accepted: a chat line is at most 4 KiB of text, escaped at most 6 bytes a byte.
pub(crate) const MAX_PAYLOAD: usize = 32 << 10;

/// A line on its way between processes.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<O, E> {
    origin: O,
    event: E,
}

/// A line from Redis, checked.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Incoming {
    /// The room, from the channel name.
    pub(crate) room: String,
    /// The process that published it.
    pub(crate) origin: String,
    /// A notice or a message.
    pub(crate) event: ChatEvent,
}

/// Why a message from Redis was dropped.
#[derive(Debug)]
pub(crate) enum BadPayload {
    /// The channel is not `wslane-chat:room:<room>` with a valid room name.
    Channel(String),
    /// The payload is larger than [`MAX_PAYLOAD`].
    TooLarge(usize),
    /// The payload is not the JSON envelope.
    Json(serde_json::Error),
    /// The event is a `welcome`, which only the process a member joined sends, to that member.
    Welcome,
    /// Not a `pmessage` with a channel and a payload (Redis sent something else on the connection).
    Shape,
}

impl std::fmt::Display for BadPayload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadPayload::Channel(channel) => write!(f, "not a room's channel: {channel:?}"),
            BadPayload::TooLarge(len) => {
                write!(f, "payload of {len} bytes, more than {MAX_PAYLOAD}")
            }
            BadPayload::Json(err) => write!(f, "not a relayed chat line: {err}"),
            BadPayload::Welcome => f.write_str("a welcome is never relayed"),
            BadPayload::Shape => f.write_str("not a pattern message with a channel and a payload"),
        }
    }
}

/// The channel of `room`.
pub(crate) fn channel(room: &str) -> String {
    format!("{CHANNEL_PREFIX}{room}")
}

/// The payload that carries `event` from the process `origin`.
pub(crate) fn encode(origin: &str, event: &ChatEvent) -> String {
    let envelope = Envelope { origin, event };
    // Strings into a `String`: cannot fail.
    serde_json::to_string(&envelope).unwrap_or_default()
}

/// Checks a message received on `channel`.
pub(crate) fn decode(channel: &[u8], payload: &[u8]) -> Result<Incoming, BadPayload> {
    let room = std::str::from_utf8(channel)
        .ok()
        .and_then(|channel| channel.strip_prefix(CHANNEL_PREFIX))
        .filter(|room| is_room_name(room))
        .ok_or_else(|| BadPayload::Channel(String::from_utf8_lossy(channel).into_owned()))?;
    if payload.len() > MAX_PAYLOAD {
        return Err(BadPayload::TooLarge(payload.len()));
    }
    let envelope: Envelope<String, ChatEvent> =
        serde_json::from_slice(payload).map_err(BadPayload::Json)?;
    if matches!(envelope.event, ChatEvent::Welcome { .. }) {
        return Err(BadPayload::Welcome);
    }
    Ok(Incoming {
        room: room.to_owned(),
        origin: envelope.origin,
        event: envelope.event,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_goes_through() {
        let event = ChatEvent::Message {
            from: "guest-1@abcd".into(),
            text: "hé \"there\"\n".into(),
        };
        let payload = encode("00ff", &event);
        let incoming = decode(channel("lobby").as_bytes(), payload.as_bytes()).unwrap();
        assert_eq!(
            incoming,
            Incoming {
                room: "lobby".into(),
                origin: "00ff".into(),
                event
            }
        );
    }

    #[test]
    fn malformed_messages_are_refused() {
        let good = encode("1", &ChatEvent::joined("guest-1"));
        let lobby = channel("lobby");
        for (channel, payload) in [
            ("other:lobby", good.as_str()),
            ("wslane-chat:room:", good.as_str()),
            ("wslane-chat:room:a b", good.as_str()),
            (lobby.as_str(), "not json"),
            (lobby.as_str(), "{\"origin\":\"1\"}"),
            (
                lobby.as_str(),
                "{\"origin\":\"1\",\"event\":{\"kind\":\"shout\"}}",
            ),
            (
                lobby.as_str(),
                "{\"origin\":\"1\",\"event\":{\"kind\":\"welcome\",\"name\":\"x\",\"room\":\"y\"}}",
            ),
        ] {
            assert!(
                decode(channel.as_bytes(), payload.as_bytes()).is_err(),
                "{channel} {payload}"
            );
        }
        let huge = vec![b' '; MAX_PAYLOAD + 1];
        assert!(matches!(
            decode(lobby.as_bytes(), &huge),
            Err(BadPayload::TooLarge(_))
        ));
        assert!(decode(&[0xff], good.as_bytes()).is_err());
    }
}
