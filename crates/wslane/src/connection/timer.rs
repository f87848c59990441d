//! Keepalive and close timeouts, driven by the instants the caller passes in.
//!
//! A timer that should start "now" is reported by [`Timers::poll`] as due at the last instant the caller
//! gave (or [`Instant::ZERO`]), so the caller calls back at once with the real time and the timer is armed
//! from it. A call before a deadline changes nothing.

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
    now: Instant,
    keepalive: Option<Duration>,
    keepalive_at: Option<Instant>,
    received: bool,
    ping_outstanding: bool,
    close_timeout: Duration,
    close_at: Option<Instant>,
}

impl Timers {
    pub(crate) fn new(keepalive: Option<Duration>, close_timeout: Duration) -> Timers {
        Timers {
            now: Instant::ZERO,
            keepalive,
            keepalive_at: None,
            received: false,
            ping_outstanding: false,
            close_timeout,
            close_at: None,
        }
    }

    /// Bytes arrived from the peer: it is alive.
    pub(crate) fn on_receive(&mut self) {
        self.received = true;
    }

    /// The next deadline. `keepalive` and `closing` say which timers apply in the connection's state.
    pub(crate) fn poll(&self, keepalive: bool, closing: bool) -> Option<Instant> {
        let keepalive =
            (keepalive && self.keepalive.is_some()).then(|| self.keepalive_at.unwrap_or(self.now));
        let close = closing.then(|| self.close_at.unwrap_or(self.now));
        match (keepalive, close) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Advances to `now`, arming pending timers and firing expired ones.
    pub(crate) fn handle(
        &mut self,
        now: Instant,
        keepalive: bool,
        closing: bool,
    ) -> Option<TimerAction> {
        self.now = self.now.max(now);
        let now = self.now;
        if closing {
            match self.close_at {
                None => self.close_at = Some(now + self.close_timeout),
                Some(at) if now >= at => return Some(TimerAction::CloseExpired),
                Some(_) => {}
            }
        }
        let interval = self.keepalive.filter(|_| keepalive)?;
        match self.keepalive_at {
            None => {
                self.keepalive_at = Some(now + interval);
                None
            }
            Some(at) if now < at => None,
            Some(_) => {
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
    fn keepalive_pings_a_quiet_peer_then_gives_up() {
        let mut t = Timers::new(Some(SEC), SEC);
        assert_eq!(t.poll(true, false), Some(Instant::ZERO), "asks to be armed");
        assert_eq!(t.handle(at(10), true, false), None);
        assert_eq!(t.poll(true, false), Some(at(11)));
        assert_eq!(t.handle(at(10), true, false), None, "early call is a no-op");
        assert_eq!(t.handle(at(11), true, false), Some(TimerAction::SendPing));
        t.on_receive();
        assert_eq!(t.handle(at(12), true, false), None, "the peer answered");
        assert_eq!(t.handle(at(13), true, false), Some(TimerAction::SendPing));
        assert_eq!(
            t.handle(at(14), true, false),
            Some(TimerAction::KeepaliveExpired)
        );
    }

    #[test]
    fn close_timer_arms_when_closing_starts() {
        let mut t = Timers::new(None, SEC);
        assert_eq!(t.poll(true, false), None);
        assert_eq!(t.handle(at(5), true, false), None);
        assert_eq!(t.poll(true, true), Some(at(5)));
        assert_eq!(t.handle(at(5), true, true), None);
        assert_eq!(t.poll(true, true), Some(at(6)));
        assert_eq!(t.handle(at(6), true, true), Some(TimerAction::CloseExpired));
    }
}
