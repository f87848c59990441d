//! The bridge between `std::time::Instant` and the core's [`wslane::Instant`]: an epoch read once.

use std::time::Duration;

use wslane::Instant;

/// A monotonic clock whose [`wslane::Instant`]s count from the moment it was made.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    epoch: std::time::Instant,
}

impl Clock {
    pub(crate) fn new() -> Clock {
        Clock {
            epoch: std::time::Instant::now(),
        }
    }

    /// The time now, for [`wslane::Connection::handle_timeout`].
    pub(crate) fn now(&self) -> Instant {
        Instant::from_duration(self.epoch.elapsed())
    }

    /// `now` plus `duration`, saturating.
    pub(crate) fn after(&self, duration: Duration) -> Instant {
        self.now() + duration
    }
}
