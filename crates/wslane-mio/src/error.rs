//! The adapter's error: the one every wslane adapter uses, with the cause kept.

pub use wslane_async::Error;
