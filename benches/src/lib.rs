//! Shared pieces of the benchmarks: in-memory echo drivers for wslane and its peers (with and without a
//! client in the loop), test payloads, and the loopback load tool's protocol helpers.

pub mod copies;
pub mod echo;
pub mod frames;
pub mod load;
pub mod server;
