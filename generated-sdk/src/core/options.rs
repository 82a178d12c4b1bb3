//! The client's options: deadlines, liveness, reconnection and the bounds on every buffer.
//! Each default suits both one busy room and many idle ones; every one is documented here.

use std::sync::Arc;
use std::time::Duration;

use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::core::framing::Limits;
use crate::core::link::{Keepalive, ReconnectPolicy};

/// The smallest read buffer: a websocket frame header (14 bytes) and then some.
const MIN_BUFFER: usize = 256;

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
    /// The websocket's read buffer: allocated at connect, and the most bytes one read from
    /// the socket takes (default 8 KiB; tungstenite's own default is 128 KiB). It grows to
    /// hold a larger incoming frame while that frame is read. The protocol's websocket
    /// messages are small (data packets carry at most 1024 bytes), so a few KiB hold several
    /// of them: an idle room keeps only this much, and a busy one makes more reads.
    pub read_buffer: usize,
    /// Bytes of outgoing frames the websocket gathers before it writes them to the socket
    /// (default 128 KiB, tungstenite's). The client flushes after each batch of messages
    /// anyway; this splits a large batch (an upload) into writes of about this size. The
    /// buffer grows as frames are gathered (nothing is allocated up front): a room that
    /// only makes calls keeps a few hundred bytes; one that uploaded keeps about this much
    /// (tungstenite does not shrink it). Smaller values cost uploads CPU (more writes:
    /// 16 KiB made an upload's client CPU per MiB about 45 % higher in the transfer bench).
    pub write_buffer: usize,
    /// Most bytes the websocket's write buffer may hold while the socket does not take
    /// them (default 1 MiB, at least `write_buffer` plus one packet). Senders wait on
    /// [`send_queue`](Self::send_queue) long before: this only bounds one oversized batch.
    pub max_write_buffer: usize,
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
            read_buffer: 8 << 10,
            write_buffer: 128 << 10,
            max_write_buffer: 1 << 20,
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

    /// Sets the websocket's read buffer (bytes read from the socket at a time).
    pub fn read_buffer(mut self, bytes: usize) -> Self {
        self.read_buffer = bytes.max(MIN_BUFFER);
        self
    }

    /// Sets the bytes of outgoing frames gathered before a write to the socket.
    pub fn write_buffer(mut self, bytes: usize) -> Self {
        self.write_buffer = bytes;
        self
    }

    /// Sets the most bytes the websocket's write buffer holds.
    pub fn max_write_buffer(mut self, bytes: usize) -> Self {
        self.max_write_buffer = bytes;
        self
    }

    /// The tungstenite configuration the client's websocket is opened with: tungstenite's
    /// defaults with the three buffer sizes above (`max_write_buffer` raised to
    /// `write_buffer` plus one packet if below: tungstenite needs that much). Useful to
    /// give a websocket opened by hand ([`websocket_transport`](crate::websocket_transport))
    /// the same footprint.
    pub fn websocket_config(&self) -> WebSocketConfig {
        let packet = crate::core::framing::DATA_PACKET_PAYLOAD + 64;
        WebSocketConfig::default()
            .read_buffer_size(self.read_buffer.max(MIN_BUFFER))
            .write_buffer_size(self.write_buffer)
            .max_write_buffer_size(self.max_write_buffer.max(self.write_buffer + packet))
    }

    /// Sets the TLS configuration used for `wss`.
    pub fn tls(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.tls = Some(config);
        self
    }
}
