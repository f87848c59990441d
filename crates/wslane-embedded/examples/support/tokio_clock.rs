//! A [`Clock`](wslane_embedded::Clock) on tokio's timer, for running the adapter on a host (the examples
//! and the interop tests; on a microcontroller, `EmbassyClock` or your own).

use std::future::Future;

use wslane::Instant;
use wslane_embedded::Clock;

/// Time since the clock was made, on tokio's monotonic clock.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TokioClock {
    start: tokio::time::Instant,
}

impl TokioClock {
    /// A clock whose zero is now.
    pub(crate) fn new() -> TokioClock {
        TokioClock {
            start: tokio::time::Instant::now(),
        }
    }
}

impl Default for TokioClock {
    fn default() -> TokioClock {
        TokioClock::new()
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Instant {
        Instant::from_duration(self.start.elapsed())
    }

    fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()> {
        tokio::time::sleep_until(self.start + deadline.elapsed_since_epoch())
    }
}
