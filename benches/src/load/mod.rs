//! The loopback load tool's pieces (`wsload`): a small WebSocket client that is cheap enough not to hide the
//! server's cost, the servers it starts, the scenarios it runs, and the numbers it reports.
//!
//! The client speaks just enough of RFC 6455 to drive an echo server: it performs the opening handshake,
//! writes frames that were masked once per scenario, and parses the server's unmasked frames only far enough
//! to count messages, check their opcode and length, and compare a sample of payloads with what was sent.

pub mod after;
pub mod client;
pub mod engine;
pub mod frame;
pub mod handshake;
pub mod idle;
pub mod json;
pub mod limits;
pub mod procfs;
pub mod run;
pub mod scenario;
pub mod server;
pub mod stats;
pub mod table;
