//! The life of a connection across network trouble: websocket liveness ([`Keepalive`]),
//! automatic reconnection ([`ReconnectPolicy`], as the 0.56 SDKs do it since 0.38) and the
//! status the client reports about both ([`ConnectionEvent`]).
//!
//! The decisions are data: which losses are retried ([`Loss::retryable`]), which HTTP
//! statuses never are ([`ReconnectPolicy::no_retry_statuses`]) and how long to wait before
//! each attempt ([`ReconnectPolicy::delay`]).

use std::time::Duration;

/// Websocket ping/pong liveness: a peer that sends nothing (not even a pong) for
/// `interval + timeout` is taken as dead, and the connection is lost (then reconnected, if
/// the policy allows). Only the websocket transport has it; custom transports bring their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Keepalive {
    /// Quiet time after which the client sends a ping (default 20 s).
    pub interval: Duration,
    /// How long the client waits after that ping for anything from the peer (default 20 s).
    pub timeout: Duration,
}

impl Default for Keepalive {
    fn default() -> Self {
        Keepalive {
            interval: Duration::from_secs(20),
            timeout: Duration::from_secs(20),
        }
    }
}

impl Keepalive {
    /// Pings after `interval` of quiet and gives up `timeout` later.
    pub fn new(interval: Duration, timeout: Duration) -> Keepalive {
        Keepalive { interval, timeout }
    }
}

/// When and how often a lost connection is opened again.
///
/// The defaults are the 0.56 SDKs': a first attempt after 0.5 s, doubling up to 30 s, no
/// total limit, and no retry on HTTP 403, 404 or 423 (401 is added: the same token will
/// not become valid by itself). Each delay is jittered (drawn from its upper half), so
/// many clients dropped at once do not come back in step.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReconnectPolicy {
    /// Delay before the first attempt (default 0.5 s).
    pub initial_delay: Duration,
    /// Longest delay between attempts (default 30 s).
    pub max_delay: Duration,
    /// Most attempts before giving up (default none: no limit).
    pub max_attempts: Option<u32>,
    /// Longest time from the loss to giving up (default none: no limit).
    pub max_elapsed: Option<Duration>,
    /// HTTP statuses of a refused upgrade that end the client instead of being retried.
    pub no_retry_statuses: Vec<u16>,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_attempts: None,
            max_elapsed: None,
            no_retry_statuses: vec![401, 403, 404, 423],
        }
    }
}

impl ReconnectPolicy {
    /// Gives up after `attempts` failed attempts.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = Some(attempts);
        self
    }

    /// Gives up `elapsed` after the loss.
    pub fn max_elapsed(mut self, elapsed: Duration) -> Self {
        self.max_elapsed = Some(elapsed);
        self
    }

    /// Sets the first delay and the cap of the doubling delays.
    pub fn delays(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_delay = initial;
        self.max_delay = max.max(initial);
        self
    }

    /// The wait before attempt `attempt` (1-based): `initial · 2^(attempt-1)`, capped at
    /// `max_delay`, then drawn uniformly from its upper half (`jitter` in `[0, 1]`).
    pub fn delay(&self, attempt: u32, jitter: f64) -> Duration {
        let doublings = attempt.saturating_sub(1).min(30);
        let full = self
            .initial_delay
            .saturating_mul(1u32 << doublings)
            .min(self.max_delay);
        full.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
    }

    /// Whether a refused upgrade with this HTTP status is final.
    pub fn refuses(&self, status: u16) -> bool {
        self.no_retry_statuses.contains(&status)
    }
}

/// What the client reports about its connection, on the event stream as
/// `RoomEvent::Connection`. As JSON it is `{"status": "disconnected", ...}`, the
/// statuses the 0.56 SDKs report as `room.status`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ConnectionEvent {
    /// The connection was lost. Calls in flight failed with [`crate::Error::Disconnected`]
    /// (retryable; nothing is re-sent by the client); new calls wait for the reconnection.
    Disconnected {
        /// Why it was lost.
        reason: String,
    },
    /// An attempt to reconnect starts after `delay`.
    Reconnecting {
        /// 1 for the first attempt after a loss.
        attempt: u32,
        /// The wait before this attempt.
        #[serde(serialize_with = "millis")]
        delay: Duration,
    },
    /// The connection is back and the client's state was restored on it (local attributes,
    /// messaging, hosted toolkits, sync documents).
    Reconnected {
        /// The new session's id.
        session_id: String,
    },
    /// The connection is over for good: the client closed it, the room ended it, or
    /// reconnecting gave up. The event stream ends after this.
    Closed {
        /// Why.
        reason: String,
    },
}

/// A duration as whole milliseconds, in JSON.
fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// How a connection was lost, as the I/O task saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Loss {
    pub(crate) reason: String,
    /// The websocket close code, when the server closed with one.
    pub(crate) close_code: Option<u16>,
}

/// Close codes after which the server expects the client back: going away (a restart),
/// internal error, service restart, try again later, bad gateway.
const RETRY_CLOSE_CODES: [u16; 5] = [1001, 1011, 1012, 1013, 1014];

impl Loss {
    /// Whether reconnecting makes sense: a connection that broke (no close frame: reset,
    /// EOF, a dead peer) or that the server closed with a code asking the client back. A
    /// normal close (1000), a policy close (1008) and application codes are final.
    pub(crate) fn retryable(&self) -> bool {
        match self.close_code {
            None => true,
            Some(code) => RETRY_CLOSE_CODES.contains(&code),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_with_jitter_in_the_upper_half() {
        let p = ReconnectPolicy::default();
        assert_eq!(p.delay(1, 1.0), Duration::from_millis(500));
        assert_eq!(p.delay(1, 0.0), Duration::from_millis(250));
        assert_eq!(p.delay(2, 1.0), Duration::from_secs(1));
        assert_eq!(p.delay(7, 1.0), Duration::from_secs(30));
        assert_eq!(p.delay(1000, 1.0), Duration::from_secs(30));
        assert_eq!(p.delay(1000, 0.0), Duration::from_secs(15));
        assert!(p.refuses(423) && p.refuses(401) && !p.refuses(502));
    }

    #[test]
    fn only_broken_connections_and_come_back_codes_are_retried() {
        let loss = |close_code| Loss {
            reason: String::new(),
            close_code,
        };
        assert!(loss(None).retryable());
        assert!(loss(Some(1001)).retryable());
        assert!(loss(Some(1012)).retryable());
        assert!(!loss(Some(1000)).retryable());
        assert!(!loss(Some(1008)).retryable());
        assert!(!loss(Some(4000)).retryable());
    }
}
