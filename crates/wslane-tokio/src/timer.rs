//! The tokio timer the driver arms from the connection's deadline.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::time::Sleep;
use wslane::driver::Timer;

/// One `tokio::time::Sleep`, allocated the first time a deadline is armed (a connection without keepalive
/// never needs one until it closes).
#[derive(Debug, Default)]
pub struct TokioTimer {
    sleep: Option<Pin<Box<Sleep>>>,
}

impl Timer for TokioTimer {
    fn reset(&mut self, deadline: std::time::Instant) {
        let deadline = tokio::time::Instant::from_std(deadline);
        match &mut self.sleep {
            Some(sleep) => sleep.as_mut().reset(deadline),
            None => self.sleep = Some(Box::pin(tokio::time::sleep_until(deadline))),
        }
    }

    /// tokio's clock, so paused test time drives the connection's timers too.
    fn now(&self) -> std::time::Instant {
        tokio::time::Instant::now().into_std()
    }

    fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match &mut self.sleep {
            Some(sleep) => sleep.as_mut().poll(cx),
            None => Poll::Pending,
        }
    }
}
