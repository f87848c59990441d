//! The `async-io` timer the driver arms from the connection's deadline.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_io::Timer as IoTimer;
use wslane::driver::Timer;

/// One `async_io::Timer`, re-armed in place.
#[derive(Debug)]
pub struct AsyncIoTimer {
    timer: IoTimer,
}

impl Default for AsyncIoTimer {
    fn default() -> AsyncIoTimer {
        AsyncIoTimer {
            timer: IoTimer::never(),
        }
    }
}

impl Timer for AsyncIoTimer {
    fn reset(&mut self, deadline: std::time::Instant) {
        self.timer.set_at(deadline);
    }

    fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.timer).poll(cx).map(|_| ())
    }
}
