//! The client's options: deadlines, liveness, reconnection and the bounds on every buffer.
//! Each default suits both one busy room and many idle ones; every one is documented here.

use std::sync::Arc;
use std::time::Duration;

use crate::core::framing::Limits;
use crate::core::link::{Keepalive, ReconnectPolicy};

/// Options for [`RoomClient::connect`](crate::RoomClient::connect) and
/// [`RoomClient::with_transport`](crate::RoomClient::with_transport): start from
/// `ConnectOptions::default()` and set what differs.
///
/// ```
/// # use std::time::Duration;
/// let options = meshagent_room::ConnectOptions::default()
///     .handshake_timeout(Duration::from_secs(5))
///     .request_timeout(Duration::from_secs(60));
/// assert_eq!(options.request_timeout, Some(Duration::from_secs(60)));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// Longest time for the whole connect: TCP, TLS, the websocket upgrade, `room_ready` and
    /// `connected` ([`Error::Timeout`](crate::Error::Timeout) after; default 30 s). A server
    /// that accepts and never answers, or answers one byte at a time, cannot hold a connect
    /// longer. Each reconnection attempt has the same deadline.
    pub connect_timeout: Duration,
    /// How long to wait for `room_ready` and `connected` (default 30 s).
    pub handshake_timeout: Duration,
    /// Bounds on incoming messages (see [`Limits`]).
    pub limits: Limits,
    /// TLS settings for `wss` (default: rustls with the Mozilla roots).
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// Longest wait for the reply to a request, [`Error::Timeout`](crate::Error::Timeout)
    /// after (default 5 minutes: long enough for agent calls and waiting receives; `None`
    /// waits forever, as the official SDKs do). Override per call with
    /// [`RoomClient::with_request_timeout`](crate::RoomClient::with_request_timeout).
    pub request_timeout: Option<Duration>,
    /// Longest quiet time on an open stream before its next chunk, `Error::Timeout` after
    /// (default none: a stream may wait on purpose, e.g. a log tail).
    pub stream_idle_timeout: Option<Duration>,
    /// Websocket ping/pong liveness (default: ping after 20 s of quiet, dead 20 s later).
    /// `None` turns it off.
    pub keepalive: Option<Keepalive>,
    /// Automatic reconnection (default on, see [`ReconnectPolicy`]). `None` turns it off: a
    /// lost connection then closes the client.
    pub reconnect: Option<ReconnectPolicy>,
    /// Bounds on each event subscriber's queue (see [`EventBuffer`]).
    pub event_buffer: EventBuffer,
    /// Bytes of response chunks one open stream holds unread before the client stops
    /// reading the connection until the stream's reader catches up (default 4 MiB).
    /// Nothing is dropped: the room's writes back up instead.
    pub stream_buffer: usize,
    /// Calls to hosted toolkits served at once; at the limit the client stops reading the
    /// connection until one finishes (default 64).
    pub hosted_calls: usize,
    /// Bytes of outgoing messages queued before senders wait for the socket (default 4 MiB).
    pub send_queue: usize,
}

/// Bounds on each event subscriber's queue. When an unread queue is over either bound the
/// oldest events are dropped and the subscriber receives
/// `RoomEvent::Lagged` with how many, as tokio's broadcast
/// channel does: a slow reader never holds the connection back, and never grows without
/// bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventBuffer {
    /// Most events held (default 4096).
    pub events: usize,
    /// Most bytes held, counted as the events' sizes on the wire (default 16 MiB).
    pub bytes: usize,
}

impl Default for EventBuffer {
    fn default() -> Self {
        EventBuffer {
            events: 4096,
            bytes: 16 << 20,
        }
    }
}

impl EventBuffer {
    /// Holds at most `events` events and `bytes` bytes per subscriber.
    pub fn new(events: usize, bytes: usize) -> EventBuffer {
        EventBuffer {
            events: events.max(1),
            bytes,
        }
    }
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            connect_timeout: Duration::from_secs(30),
            handshake_timeout: Duration::from_secs(30),
            limits: Limits::default(),
            tls: None,
            request_timeout: Some(Duration::from_secs(300)),
            stream_idle_timeout: None,
            keepalive: Some(Keepalive::default()),
            reconnect: Some(ReconnectPolicy::default()),
            event_buffer: EventBuffer::default(),
            stream_buffer: 4 << 20,
            hosted_calls: 64,
            send_queue: 4 << 20,
        }
    }
}

impl ConnectOptions {
    /// Sets the longest time for the whole connect (TCP, TLS, upgrade and handshake).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets how long to wait for the room's handshake.
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Sets the incoming message limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets the longest wait for any request's reply.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// Waits for replies without a limit, as the official SDKs do.
    pub fn no_request_timeout(mut self) -> Self {
        self.request_timeout = None;
        self
    }

    /// Sets the longest quiet time on an open stream (`None`: no limit).
    pub fn stream_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.stream_idle_timeout = timeout;
        self
    }

    /// Sets the websocket liveness check (`None`: off).
    pub fn keepalive(mut self, keepalive: Option<Keepalive>) -> Self {
        self.keepalive = keepalive;
        self
    }

    /// Sets the reconnection policy (`None`: a lost connection closes the client).
    pub fn reconnect(mut self, policy: Option<ReconnectPolicy>) -> Self {
        self.reconnect = policy;
        self
    }

    /// Sets the bounds of each event subscriber's queue.
    pub fn event_buffer(mut self, buffer: EventBuffer) -> Self {
        self.event_buffer = buffer;
        self
    }

    /// Sets the unread bytes one stream holds before reading pauses.
    pub fn stream_buffer(mut self, bytes: usize) -> Self {
        self.stream_buffer = bytes.max(1);
        self
    }

    /// Sets how many hosted tool calls are served at once.
    pub fn hosted_calls(mut self, calls: usize) -> Self {
        self.hosted_calls = calls.max(1);
        self
    }

    /// Sets the bytes of outgoing messages queued before senders wait.
    pub fn send_queue(mut self, bytes: usize) -> Self {
        self.send_queue = bytes.max(1);
        self
    }

    /// Sets the TLS configuration used for `wss`.
    pub fn tls(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.tls = Some(config);
        self
    }
}
