//! Keepalive, write and close timeouts, driven by the instants the caller passes in.
//!
//! Every input carries the time, from the connection's creation on, so a timer is armed at the instant
//! its cause happened: keepalive from the last input that brought bytes (the creation at first), the
//! pong timeout from the ping, the write timeout from the last transmission that made progress, the close
//! timer when a close frame is received (at the instant of the input that brought it). The causes without
//! a time are commands: [`Sender::close`](crate::Sender::close) starts the close timer, and a message
//! queued on an empty output starts the write timer; each is armed by the next call that carries the
//! time. Until then [`Timers::poll`] reports the latest instant seen, already past, so the driver calls
//! back at once with the real time. A call before a deadline changes nothing.
//!
//! The keepalive deadline reported is never later than the real one, and need not move at every input:
//! bytes received only record the instant, and a call at the old deadline re-arms it from that instant.
//! So a busy connection's timer is not re-armed at every read.

use core::time::Duration;

use crate::error::Error;
use crate::lifecycle::state::{Input, Lifecycle};
use crate::time::Instant;

/// What a timeout asks the connection to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimerAction {
    SendPing,
    KeepaliveExpired,
    WriteExpired,
    CloseExpired,
}

/// Which timers apply in the connection's state, and whether output is queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Applies {
    /// The keepalive timer runs.
    pub(crate) keepalive: bool,
    /// The close timer runs.
    pub(crate) closing: bool,
    /// The write timer runs (output is queued, and the connection still reads).
    pub(crate) writing: bool,
}

impl TimerAction {
    /// What an expired timer means for the state table and the caller: the input and the error, or
    /// `None` for a keepalive ping to send.
    pub(crate) fn failure(self) -> Option<(Input, Error)> {
        match self {
            TimerAction::SendPing => None,
            TimerAction::KeepaliveExpired => Some((Input::Failure, Error::KeepaliveTimeout)),
            TimerAction::WriteExpired => Some((Input::Failure, Error::WriteTimeout)),
            TimerAction::CloseExpired => Some((Input::CloseTimeout, Error::CloseTimeout)),
        }
    }
}

impl Applies {
    /// The timers that apply: keepalive and the close timer as the state table says; the write timer
    /// while output is queued and the connection still reads (once it stops, the close timer or the
    /// driver's own ending bounds the wait).
    pub(crate) fn now(state: &Lifecycle, output_queued: bool) -> Applies {
        Applies {
            keepalive: state.keepalive_applies(),
            closing: state.close_timer_applies(),
            writing: state.can_receive() && output_queued,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Timers {
    /// The latest instant the caller gave.
    now: Instant,
    ping_interval: Option<Duration>,
    pong_timeout: Duration,
    /// The last instant bytes arrived (the creation at first).
    last_received: Instant,
    /// When the keepalive ping went out, while nothing has been received since.
    ping_sent: Option<Instant>,
    /// The keepalive deadline reported: never later than the real one.
    keepalive_at: Option<Instant>,
    write_timeout: Option<Duration>,
    /// The start of the current stall: when queued output was first seen, or last made progress. `None`
    /// while the output is empty, or queued by a command that carried no time yet.
    write_since: Option<Instant>,
    close_timeout: Duration,
    close_at: Option<Instant>,
}

impl Timers {
    /// Timers for a connection created at `now`: keepalive, if on, is armed from it.
    pub(crate) fn new(
        now: Instant,
        ping_interval: Option<Duration>,
        pong_timeout: Duration,
        write_timeout: Option<Duration>,
        close_timeout: Duration,
    ) -> Timers {
        Timers {
            now,
            ping_interval,
            pong_timeout,
            last_received: now,
            ping_sent: None,
            keepalive_at: ping_interval.map(|interval| now + interval),
            write_timeout,
            write_since: None,
            close_timeout,
            close_at: None,
        }
    }

    /// The caller's time is `now` (never moves backwards). Arms the close timer if closing started
    /// without a time, and the write timer if output was queued without one.
    pub(crate) fn advance(&mut self, now: Instant, applies: Applies) {
        self.now = self.now.max(now);
        if applies.closing && self.close_at.is_none() {
            self.close_at = Some(self.now + self.close_timeout);
        }
        if !applies.writing {
            self.write_since = None;
        } else if self.write_since.is_none() {
            self.write_since = Some(self.now);
        }
    }

    /// Closing started at the latest instant given (a close frame arrived with that input).
    pub(crate) fn start_close(&mut self) {
        if self.close_at.is_none() {
            self.close_at = Some(self.now + self.close_timeout);
        }
    }

    /// Bytes arrived from the peer at the latest instant given: it is alive.
    pub(crate) fn on_receive(&mut self) {
        self.last_received = self.now;
        if self.ping_sent.take().is_some() {
            // The deadline was the pong timeout's; the next ping is due an interval from now.
            self.keepalive_at = self.ping_interval.map(|interval| self.now + interval);
        }
    }

    /// Some output was transmitted at the latest instant given; `left` says whether some is still queued.
    pub(crate) fn on_transmit(&mut self, left: bool) {
        self.write_since = left.then_some(self.now);
    }

    /// The next deadline among the timers that apply.
    pub(crate) fn poll(&self, applies: Applies) -> Option<Instant> {
        let keepalive = self.keepalive_at.filter(|_| applies.keepalive);
        // A close or a write started by a command is armed by the next call with the time: "call now".
        let close = applies.closing.then(|| self.close_at.unwrap_or(self.now));
        let write = self
            .write_timeout
            .filter(|_| applies.writing)
            .map(|timeout| self.write_since.map_or(self.now, |since| since + timeout));
        [keepalive, close, write].into_iter().flatten().min()
    }

    /// Advances to `now`, firing an expired timer.
    pub(crate) fn handle(&mut self, now: Instant, applies: Applies) -> Option<TimerAction> {
        self.advance(now, applies);
        let now = self.now;
        if applies.closing && self.close_at.is_some_and(|at| now >= at) {
            return Some(TimerAction::CloseExpired);
        }
        if applies.writing {
            if let Some((timeout, since)) = self.write_timeout.zip(self.write_since) {
                if now >= since + timeout {
                    return Some(TimerAction::WriteExpired);
                }
            }
        }
        if !applies.keepalive || !self.keepalive_at.is_some_and(|at| now >= at) {
            return None;
        }
        let interval = self.ping_interval?;
        if let Some(sent) = self.ping_sent {
            // Nothing arrived since the ping (an arrival clears it).
            if now >= sent + self.pong_timeout {
                return Some(TimerAction::KeepaliveExpired);
            }
            self.keepalive_at = Some(sent + self.pong_timeout);
            return None;
        }
        let due = self.last_received + interval;
        if now < due {
            // Bytes arrived since the deadline was set: it moves to an interval after them.
            self.keepalive_at = Some(due);
            return None;
        }
        self.ping_sent = Some(now);
        self.keepalive_at = Some(now + self.pong_timeout);
        Some(TimerAction::SendPing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Duration = Duration::from_secs(1);

    fn at(secs: u64) -> Instant {
        Instant::from_millis(secs * 1000)
    }

    const OPEN: Applies = Applies {
        keepalive: true,
        closing: false,
        writing: false,
    };
    const CLOSING: Applies = Applies {
        keepalive: false,
        closing: true,
        writing: false,
    };
    const NONE: Applies = Applies {
        keepalive: false,
        closing: false,
        writing: false,
    };
    const WRITING: Applies = Applies {
        keepalive: false,
        closing: false,
        writing: true,
    };

    /// Keepalive with a 1 s interval and a 3 s pong timeout, created at 10 s.
    fn keepalive() -> Timers {
        Timers::new(at(10), Some(SEC), 3 * SEC, None, SEC)
    }

    #[test]
    fn keepalive_pings_after_the_interval_then_fails_after_the_pong_timeout() {
        let mut t = keepalive();
        assert_eq!(t.poll(OPEN), Some(at(11)), "a real deadline from the start");
        assert_eq!(t.handle(at(10), OPEN), None, "early call is a no-op");
        assert_eq!(t.handle(at(11), OPEN), Some(TimerAction::SendPing));
        assert_eq!(
            t.poll(OPEN),
            Some(at(14)),
            "the pong timeout runs from the ping"
        );
        assert_eq!(t.handle(at(13), OPEN), None);
        assert_eq!(t.handle(at(14), OPEN), Some(TimerAction::KeepaliveExpired));
    }

    #[test]
    fn keepalive_runs_from_the_last_bytes_received() {
        let mut t = keepalive();
        t.advance(Instant::from_millis(10_500), OPEN);
        t.on_receive();
        // The deadline reported stays (no re-arming per read); the call at it moves it.
        assert_eq!(t.poll(OPEN), Some(at(11)));
        assert_eq!(t.handle(at(11), OPEN), None, "bytes came half a second ago");
        assert_eq!(t.poll(OPEN), Some(Instant::from_millis(11_500)));
        assert_eq!(
            t.handle(Instant::from_millis(11_500), OPEN),
            Some(TimerAction::SendPing)
        );
        // An answer a second later: the next ping is an interval after it, not after the pong timeout.
        t.advance(Instant::from_millis(12_500), OPEN);
        t.on_receive();
        assert_eq!(t.poll(OPEN), Some(Instant::from_millis(13_500)));
        assert_eq!(
            t.handle(Instant::from_millis(13_500), OPEN),
            Some(TimerAction::SendPing)
        );
    }

    #[test]
    fn keepalive_off_or_not_applying_reports_nothing() {
        let mut t = Timers::new(at(5), None, SEC, None, SEC);
        assert_eq!(t.poll(OPEN), None);
        assert_eq!(t.handle(at(100), OPEN), None);
        let mut t = keepalive();
        assert_eq!(t.poll(NONE), None);
        assert_eq!(t.handle(at(100), NONE), None);
    }

    #[test]
    fn write_timer_fails_a_stall_and_restarts_at_each_progress() {
        let mut t = Timers::new(at(0), None, SEC, Some(2 * SEC), SEC);
        assert_eq!(t.poll(NONE), None, "nothing queued");
        // Output queued by a command: armed by the next call with the time.
        assert_eq!(t.poll(WRITING), Some(at(0)), "call now");
        assert_eq!(t.handle(at(1), WRITING), None);
        assert_eq!(t.poll(WRITING), Some(at(3)));
        // Some of it goes out at 2 s: the stall starts again.
        t.advance(at(2), WRITING);
        t.on_transmit(true);
        assert_eq!(t.poll(WRITING), Some(at(4)));
        assert_eq!(t.handle(at(3), WRITING), None);
        assert_eq!(t.handle(at(4), WRITING), Some(TimerAction::WriteExpired));
    }

    #[test]
    fn write_timer_stops_when_the_output_drains() {
        let mut t = Timers::new(at(0), None, SEC, Some(2 * SEC), SEC);
        t.advance(at(0), WRITING);
        t.advance(at(1), WRITING);
        t.on_transmit(false);
        assert_eq!(t.poll(NONE), None);
        // Queued again at 5 s: a new stall, from 5 s.
        t.advance(at(5), WRITING);
        assert_eq!(t.poll(WRITING), Some(at(7)));
        assert_eq!(t.handle(at(6), WRITING), None);
    }

    #[test]
    fn close_timer_started_by_an_input_runs_from_that_instant() {
        let mut t = Timers::new(at(0), None, SEC, None, SEC);
        t.advance(at(5), NONE);
        t.start_close();
        assert_eq!(t.poll(CLOSING), Some(at(6)));
        assert_eq!(t.handle(at(5), CLOSING), None);
        assert_eq!(t.handle(at(6), CLOSING), Some(TimerAction::CloseExpired));
    }

    #[test]
    fn close_timer_started_by_a_command_is_armed_by_the_next_time() {
        let mut t = Timers::new(at(0), Some(Duration::from_secs(60)), SEC, None, SEC);
        t.advance(at(5), NONE);
        // Closing started with no time: due at once, at the latest instant seen.
        assert_eq!(t.poll(CLOSING), Some(at(5)));
        assert_eq!(t.handle(at(30), CLOSING), None, "armed from the real time");
        assert_eq!(t.poll(CLOSING), Some(at(31)));
        assert_eq!(t.handle(at(31), CLOSING), Some(TimerAction::CloseExpired));
    }

    #[test]
    fn time_never_moves_backwards() {
        let mut t = Timers::new(at(10), None, SEC, None, SEC);
        t.advance(at(3), CLOSING);
        assert_eq!(t.poll(CLOSING), Some(at(11)));
    }
}
