//! Keepalive and close timeouts, driven by the instants the caller passes in.
//!
//! Every input carries the time, from the connection's creation on, so a timer is armed at the instant
//! its cause happened: keepalive when the connection is created (and again at each deadline), the close
//! timer when a close frame is received (at the instant of the input that brought it). The one cause
//! without a time is a command: [`Sender::close`](super::Sender::close) starts the close timer, and it is
//! armed by the next call that carries the time. Until then [`Timers::poll`] reports the latest instant
//! seen, already past, so the driver calls back at once with the real time. A call before a deadline
//! changes nothing.

use core::time::Duration;

use crate::time::Instant;

/// What a timeout asks the connection to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimerAction {
    SendPing,
    KeepaliveExpired,
    CloseExpired,
}

#[derive(Clone, Debug)]
pub(crate) struct Timers {
    /// The latest instant the caller gave.
    now: Instant,
    keepalive: Option<Duration>,
    /// Armed at creation when keepalive is on.
    keepalive_at: Option<Instant>,
    received: bool,
    ping_outstanding: bool,
    close_timeout: Duration,
    close_at: Option<Instant>,
}

impl Timers {
    /// Timers for a connection created at `now`: keepalive, if on, is armed from it.
    pub(crate) fn new(
        now: Instant,
        keepalive: Option<Duration>,
        close_timeout: Duration,
    ) -> Timers {
        Timers {
            now,
            keepalive,
            keepalive_at: keepalive.map(|interval| now + interval),
            received: false,
            ping_outstanding: false,
            close_timeout,
            close_at: None,
        }
    }

    /// The caller's time is `now` (never moves backwards). Arms the close timer if `closing` started
    /// without a time.
    pub(crate) fn advance(&mut self, now: Instant, closing: bool) {
        self.now = self.now.max(now);
        if closing && self.close_at.is_none() {
            self.close_at = Some(self.now + self.close_timeout);
        }
    }

    /// Closing started at the latest instant given (a close frame arrived with that input).
    pub(crate) fn start_close(&mut self) {
        if self.close_at.is_none() {
            self.close_at = Some(self.now + self.close_timeout);
        }
    }

    /// Bytes arrived from the peer: it is alive.
    pub(crate) fn on_receive(&mut self) {
        self.received = true;
    }

    /// The next deadline. `keepalive` and `closing` say which timers apply in the connection's state.
    pub(crate) fn poll(&self, keepalive: bool, closing: bool) -> Option<Instant> {
        let keepalive = self.keepalive_at.filter(|_| keepalive);
        // A close started by a command is armed by the next call with the time: "call now".
        let close = closing.then(|| self.close_at.unwrap_or(self.now));
        match (keepalive, close) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Advances to `now`, firing an expired timer.
    pub(crate) fn handle(
        &mut self,
        now: Instant,
        keepalive: bool,
        closing: bool,
    ) -> Option<TimerAction> {
        self.advance(now, closing);
        let now = self.now;
        if closing && self.close_at.is_some_and(|at| now >= at) {
            return Some(TimerAction::CloseExpired);
        }
        if !keepalive {
            return None;
        }
        let (interval, at) = self.keepalive.zip(self.keepalive_at)?;
        if now < at {
            return None;
        }
        self.keepalive_at = Some(now + interval);
        if core::mem::take(&mut self.received) {
            self.ping_outstanding = false;
            None
        } else if !self.ping_outstanding {
            self.ping_outstanding = true;
            Some(TimerAction::SendPing)
        } else {
            Some(TimerAction::KeepaliveExpired)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Duration = Duration::from_secs(1);

    fn at(secs: u64) -> Instant {
        Instant::from_millis(secs * 1000)
    }

    #[test]
    fn keepalive_is_armed_at_creation_then_pings_a_quiet_peer_and_gives_up() {
        let mut t = Timers::new(at(10), Some(SEC), SEC);
        assert_eq!(
            t.poll(true, false),
            Some(at(11)),
            "a real deadline from the start"
        );
        assert_eq!(t.handle(at(10), true, false), None, "early call is a no-op");
        assert_eq!(t.poll(true, false), Some(at(11)));
        assert_eq!(t.handle(at(11), true, false), Some(TimerAction::SendPing));
        assert_eq!(t.poll(true, false), Some(at(12)));
        t.on_receive();
        assert_eq!(t.handle(at(12), true, false), None, "the peer answered");
        assert_eq!(t.handle(at(13), true, false), Some(TimerAction::SendPing));
        assert_eq!(
            t.handle(at(14), true, false),
            Some(TimerAction::KeepaliveExpired)
        );
    }

    #[test]
    fn keepalive_off_or_not_applying_reports_nothing() {
        let mut t = Timers::new(at(5), None, SEC);
        assert_eq!(t.poll(true, false), None);
        assert_eq!(t.handle(at(100), true, false), None);
        let mut t = Timers::new(at(5), Some(SEC), SEC);
        assert_eq!(t.poll(false, false), None);
        assert_eq!(t.handle(at(100), false, false), None);
    }

    #[test]
    fn close_timer_started_by_an_input_runs_from_that_instant() {
        let mut t = Timers::new(at(0), None, SEC);
        t.advance(at(5), false);
        t.start_close();
        assert_eq!(t.poll(false, true), Some(at(6)));
        assert_eq!(t.handle(at(5), false, true), None);
        assert_eq!(
            t.handle(at(6), false, true),
            Some(TimerAction::CloseExpired)
        );
    }

    #[test]
    fn close_timer_started_by_a_command_is_armed_by_the_next_time() {
        let mut t = Timers::new(at(0), Some(Duration::from_secs(60)), SEC);
        t.advance(at(5), false);
        // Closing started with no time: due at once, at the latest instant seen.
        assert_eq!(t.poll(false, true), Some(at(5)));
        assert_eq!(
            t.handle(at(30), false, true),
            None,
            "armed from the real time"
        );
        assert_eq!(t.poll(false, true), Some(at(31)));
        assert_eq!(
            t.handle(at(31), false, true),
            Some(TimerAction::CloseExpired)
        );
    }

    #[test]
    fn time_never_moves_backwards() {
        let mut t = Timers::new(at(10), None, SEC);
        t.advance(at(3), true);
        assert_eq!(t.poll(false, true), Some(at(11)));
    }
}
