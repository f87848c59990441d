//! The clock from embassy-time.

use core::future::Future;

use wslane::Instant;

use crate::Clock;

/// [`Clock`] on embassy-time: its monotonic `Instant` (ticks since boot) and its `Timer`.
#[derive(Clone, Copy, Debug, Default)]
pub struct EmbassyClock;

impl Clock for EmbassyClock {
    fn now(&self) -> Instant {
        Instant::from_nanos(
            embassy_time::Instant::now()
                .as_micros()
                .saturating_mul(1000),
        )
    }

    fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()> {
        embassy_time::Timer::at(embassy_time::Instant::from_micros(
            deadline.as_nanos() / 1000,
        ))
    }
}
