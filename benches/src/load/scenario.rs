//! The load scenarios: how many connections, how many messages each keeps in flight, and what they send.

use super::frame::{client_frame, OP_BINARY, OP_TEXT};

/// One load scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scenario {
    /// The name used on the command line and in reports.
    pub name: &'static str,
    /// Connections open at once.
    pub connections: usize,
    /// Messages each connection keeps in flight: a new one is sent as soon as an echo returns.
    pub in_flight: usize,
    /// Payload size of every message, in bytes.
    pub payload_len: usize,
    /// Text (mixed-script UTF-8) rather than binary messages.
    pub text: bool,
}

/// Every scenario, in the order they run by default.
pub const SCENARIOS: [Scenario; 9] = [
    Scenario::binary("10x20B", 10, 1, 20),
    Scenario::binary("100x1KiB", 100, 1, 1 << 10),
    Scenario::binary("10x16KiB", 10, 1, 16 << 10),
    Scenario::binary("200x16KiB", 200, 1, 16 << 10),
    Scenario::binary("1x1MiB", 1, 1, 1 << 20),
    Scenario {
        name: "text",
        connections: 10,
        in_flight: 1,
        payload_len: 1 << 10,
        text: true,
    },
    Scenario::binary("pipelined", 10, 16, 20),
    // Many connections, each sending a short text and waiting for its echo (ping-pong), in the manner of
    // the public HttpArena `echo-ws` profile.
    Scenario::text("512x5B", 512, 5),
    Scenario::text("4096x5B", 4096, 5),
];

impl Scenario {
    const fn binary(
        name: &'static str,
        connections: usize,
        in_flight: usize,
        payload_len: usize,
    ) -> Self {
        Self {
            name,
            connections,
            in_flight,
            payload_len,
            text: false,
        }
    }

    const fn text(name: &'static str, connections: usize, payload_len: usize) -> Self {
        Self {
            name,
            connections,
            in_flight: 1,
            payload_len,
            text: true,
        }
    }

    /// The scenario called `name`.
    #[must_use]
    pub fn find(name: &str) -> Option<Scenario> {
        SCENARIOS.iter().copied().find(|s| s.name == name)
    }

    /// A one-line description, e.g. "10 connections × 16 in flight × 20 B binary".
    #[must_use]
    pub fn describe(&self) -> String {
        format!(
            "{} connection{} × {} in flight × {} {}",
            self.connections,
            if self.connections == 1 { "" } else { "s" },
            self.in_flight,
            size(self.payload_len),
            if self.text { "UTF-8 text" } else { "binary" },
        )
    }

    /// The message's opcode.
    #[must_use]
    pub fn opcode(&self) -> u8 {
        if self.text {
            OP_TEXT
        } else {
            OP_BINARY
        }
    }

    /// The message's payload.
    #[must_use]
    pub fn payload(&self) -> Vec<u8> {
        if self.text {
            text_payload(self.payload_len).into_bytes()
        } else {
            binary_payload(self.payload_len)
        }
    }

    /// The workload a connection runs for this scenario.
    #[must_use]
    pub fn workload(&self) -> Workload {
        Workload::new(self.opcode(), self.payload(), self.in_flight)
    }
}

/// What every connection sends, with its frames built once.
#[derive(Clone, Debug)]
pub struct Workload {
    /// The message's opcode.
    pub opcode: u8,
    /// The message's payload (what the echo must carry).
    pub payload: Vec<u8>,
    /// Messages kept in flight per connection.
    pub in_flight: usize,
    /// Length of one masked frame.
    pub frame_len: usize,
    /// `in_flight` copies of the masked frame back to back, so that any number of them goes out in one write.
    pub batch: Vec<u8>,
}

impl Workload {
    /// A workload sending `payload` with `opcode`, `in_flight` messages at a time.
    #[must_use]
    pub fn new(opcode: u8, payload: Vec<u8>, in_flight: usize) -> Self {
        let frame = client_frame(opcode, &payload);
        Self {
            opcode,
            payload,
            in_flight,
            frame_len: frame.len(),
            batch: frame.repeat(in_flight),
        }
    }
}

/// `len` as "20 B", "16 KiB" or "1 MiB".
#[must_use]
pub fn size(len: usize) -> String {
    match len {
        len if len >= 1 << 20 && len % (1 << 20) == 0 => format!("{} MiB", len >> 20),
        len if len >= 1 << 10 && len % (1 << 10) == 0 => format!("{} KiB", len >> 10),
        len => format!("{len} B"),
    }
}

/// `len` deterministic, irregular bytes.
#[must_use]
pub fn binary_payload(len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_u32;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}

/// Exactly `len` bytes of UTF-8 mixing scripts and one- to four-byte characters, padded with ASCII.
#[must_use]
pub fn text_payload(len: usize) -> String {
    const SAMPLE: &str = "Hello, world! Grüße aus Zürich, ça va? Привет, мир! Γειά σου Κόσμε! \
                          你好，世界！こんにちは世界。안녕하세요 세계! مرحبا بالعالم שלום עולם \
                          नमस्ते दुनिया 🦀🚀✨ ";
    let mut text = String::with_capacity(len);
    for c in SAMPLE.chars().cycle() {
        if text.len() + c.len_utf8() > len {
            break;
        }
        text.push(c);
    }
    while text.len() < len {
        text.push('.');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_have_their_size() {
        for scenario in SCENARIOS {
            assert_eq!(scenario.payload().len(), scenario.payload_len);
            let workload = scenario.workload();
            assert_eq!(
                workload.batch.len(),
                workload.frame_len * scenario.in_flight
            );
        }
        let text = text_payload(1024);
        assert!(text.chars().any(|c| c.len_utf8() == 4));
        assert_eq!(size(20), "20 B");
        assert_eq!(size(16 << 10), "16 KiB");
        assert_eq!(size(1 << 20), "1 MiB");
    }
}
