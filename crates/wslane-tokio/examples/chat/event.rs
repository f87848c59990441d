//! What the chat says to a page: one JSON object per WebSocket message, the same objects the Redis relay
//! carries between processes.

use serde::{Deserialize, Serialize};

/// One line of the chat, as the page reads it (`{"kind":"message","from":…,"text":…}` and so on).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub(crate) enum ChatEvent {
    /// Tells a new member its own name and room; sent to that member only, never relayed.
    Welcome { name: String, room: String },
    /// A member joined or left.
    Notice { text: String },
    /// A member said something.
    Message { from: String, text: String },
}

impl ChatEvent {
    /// The JSON text a page receives.
    pub(crate) fn to_json(&self) -> String {
        // Serializing strings into a `String` cannot fail: there is no I/O and no map with odd keys.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The notice that `name` joined.
    pub(crate) fn joined(name: &str) -> ChatEvent {
        ChatEvent::Notice {
            text: format!("{name} joined"),
        }
    }

    /// The notice that `name` left.
    pub(crate) fn left(name: &str) -> ChatEvent {
        ChatEvent::Notice {
            text: format!("{name} left"),
        }
    }
}
