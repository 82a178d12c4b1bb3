//! Server-pushed events: every message no other route takes is decoded into a
//! [`RoomEvent`] (or kept as [`RoomEvent::Unknown`]), applied to the room state kept by
//! `participants`, then fanned out to every [`RoomEvents`] subscriber, together with the
//! client's own reports about its connection ([`RoomEvent::Connection`]).
//!
//! Each subscriber's queue is bounded ([`EventBuffer`]): over the bound the oldest events
//! are dropped and the subscriber reads [`RoomEvent::Lagged`] first, as with tokio's
//! broadcast channel. A subscriber that does not read never holds the connection back.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use futures::Stream;
use serde_json::{Map, Value};

use crate::core::client::RoomClient;
use crate::core::framing::Message;
use crate::core::link::ConnectionEvent;
use crate::core::options::{ConnectOptions, EventBuffer};
use crate::core::packing::unpack;
use crate::core::router::{Match, Route, Router};
use crate::core::shared::Shared;
use crate::core::types::UnknownPacket;
use crate::surfaces::participants::Participants;
use crate::RoomEvent;

/// Size counted for an event the client makes itself (a connection report).
const LOCAL_EVENT_SIZE: usize = 64;

/// A stream of events: every subscriber sees every event pushed after it subscribed, and
/// the client's connection reports; the stream ends after
/// [`ConnectionEvent::Closed`]. A subscriber that falls behind by more than
/// `ConnectOptions::event_buffer` loses the oldest events and reads
/// [`RoomEvent::Lagged`] with their number instead.
#[derive(Debug)]
pub struct RoomEvents {
    queue: Arc<Queue>,
}

impl Stream for RoomEvents {
    type Item = RoomEvent;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<RoomEvent>> {
        let mut q = self.queue.lock();
        if q.lagged > 0 {
            return Poll::Ready(Some(RoomEvent::Lagged(std::mem::take(&mut q.lagged))));
        }
        if let Some((event, size)) = q.events.pop_front() {
            q.bytes -= size;
            return Poll::Ready(Some(event));
        }
        if q.ended {
            return Poll::Ready(None);
        }
        // Read up and waiting: the queue's buffer goes (a burst of events, or the reports
        // of a reconnection, is not kept for the life of an idle room).
        if q.events.capacity() > 0 {
            q.events = VecDeque::new();
        }
        q.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for RoomEvents {
    fn drop(&mut self) {
        // The publisher drops this queue on its next event; its events go now.
        let mut q = self.queue.lock();
        q.gone = true;
        q.events.clear();
    }
}

/// One subscriber's queue.
#[derive(Debug)]
struct Queue {
    state: Mutex<QueueState>,
    bound: EventBuffer,
}

#[derive(Debug, Default)]
struct QueueState {
    events: VecDeque<(RoomEvent, usize)>,
    /// Sum of the sizes in `events`.
    bytes: usize,
    /// Events dropped since the subscriber last read.
    lagged: u64,
    /// No more events come.
    ended: bool,
    /// The subscriber dropped its stream.
    gone: bool,
    waker: Option<Waker>,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // Poisoning only means a panic elsewhere mid-update of a plain queue.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds an event, dropping the oldest over the bound. `false` once the subscriber is gone.
    fn push(&self, event: RoomEvent, size: usize) -> bool {
        let mut q = self.lock();
        if q.gone {
            return false;
        }
        q.events.push_back((event, size));
        q.bytes += size;
        // The newest event is always kept, so one event over the byte bound still arrives.
        while q.events.len() > 1
            && (q.events.len() > self.bound.events || q.bytes > self.bound.bytes)
        {
            if let Some((_, dropped)) = q.events.pop_front() {
                q.bytes -= dropped;
                q.lagged += 1;
            }
        }
        if let Some(w) = q.waker.take() {
            w.wake();
        }
        true
    }

    fn end(&self) {
        let mut q = self.lock();
        q.ended = true;
        if let Some(w) = q.waker.take() {
            w.wake();
        }
    }
}

/// The event route: decoding and fan-out.
pub(crate) struct Events {
    state: Mutex<EventsState>,
    participants: Arc<Participants>,
    bound: EventBuffer,
}

#[derive(Default)]
struct EventsState {
    /// Set once the connection closed: later subscribers get an ended stream.
    closed: bool,
    subscribers: Vec<Arc<Queue>>,
}

impl Drop for Events {
    /// The connection is gone (its last client dropped): every subscriber's stream ends.
    fn drop(&mut self) {
        for q in std::mem::take(&mut self.lock().subscribers) {
            q.end();
        }
    }
}

/// Registers the event route (everything no other route takes) and returns the first
/// subscriber, which sees events from the first message on.
pub(crate) fn install(
    router: &mut Router,
    participants: Arc<Participants>,
    options: &ConnectOptions,
) -> RoomEvents {
    let events = Arc::new(Events {
        state: Mutex::new(EventsState::default()),
        participants,
        bound: options.event_buffer,
    });
    let first = events.subscribe();
    router.register(events, &[Match::Rest]);
    first
}

impl Events {
    fn lock(&self) -> MutexGuard<'_, EventsState> {
        // Poisoning only means a panic elsewhere mid-update of a plain list.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn subscribe(&self) -> RoomEvents {
        let queue = Arc::new(Queue {
            state: Mutex::default(),
            bound: self.bound,
        });
        let mut st = self.lock();
        if st.closed {
            queue.end();
        } else {
            st.subscribers.push(queue.clone());
        }
        RoomEvents { queue }
    }

    /// Hands `event` (`size` bytes on the wire) to every subscriber.
    fn fan_out(&self, event: &RoomEvent, size: usize) {
        self.lock()
            .subscribers
            .retain(|q| q.push(event.clone(), size));
    }

    fn publish(&self, shared: &Arc<Shared>, event: RoomEvent, size: usize) {
        self.participants.observe(shared, &event);
        let dismissed = dismissal(&event);
        self.fan_out(&event, size);
        // After the subscribers got the message: their streams end right behind it.
        if let Some(reason) = dismissed {
            shared.close_now(reason);
        }
    }
}

/// The close reason when `event` dismisses this client: a `messaging.send` of type
/// `dismiss`, which closes the client from protocol 0.50 on (Python's `_dismiss`); under
/// older protocols it is an ordinary message.
fn dismissal(event: &RoomEvent) -> Option<String> {
    // The spec gives the protocols where a `dismiss` message closes the client their own
    // event (`messaging.dismissed`, since 0.56.0); older ones deliver it as a message.
    #[cfg(all(feature = "messaging", not(feature = "protocol-0-35-8")))]
    if let RoomEvent::MessagingDismissed(d) = event {
        return Some(match d.message.get("reason").and_then(Value::as_str) {
            Some(reason) => format!("dismissed by the room: {reason}"),
            None => "dismissed by the room".to_string(),
        });
    }
    let _ = event;
    None
}

impl Route for Events {
    fn handle(&self, shared: &Arc<Shared>, message: Message) {
        let Message {
            message_type, data, ..
        } = message;
        let size = data.len();
        match unpack(data) {
            Ok(packed) => {
                // Decoded by reference, so an unknown packet keeps its header without a copy.
                let header = Value::Object(packed.header);
                match RoomEvent::decode(&message_type, &header, packed.tail.clone()) {
                    Some(Ok(event)) => self.publish(shared, event, size),
                    Some(Err(e)) => {
                        tracing::warn!(packet = %message_type, error = %e, "skipping a malformed event")
                    }
                    None => self.publish(
                        shared,
                        RoomEvent::Unknown(UnknownPacket {
                            packet_type: message_type,
                            header: match header {
                                Value::Object(m) => m,
                                _ => Map::new(),
                            },
                            tail: packed.tail,
                        }),
                        size,
                    ),
                }
            }
            Err(e) => {
                tracing::warn!(packet = %message_type, error = %e, "skipping an unpackable packet")
            }
        }
    }

    fn closed(&self, reason: &str) {
        let closed = RoomEvent::Connection(ConnectionEvent::Closed {
            reason: reason.to_string(),
        });
        self.fan_out(&closed, LOCAL_EVENT_SIZE);
        let subscribers = {
            let mut st = self.lock();
            st.closed = true;
            std::mem::take(&mut st.subscribers)
        };
        for q in subscribers {
            q.end();
        }
    }

    fn link(&self, shared: &Arc<Shared>, event: &ConnectionEvent) {
        let event = RoomEvent::Connection(event.clone());
        self.participants.observe(shared, &event);
        self.fan_out(&event, LOCAL_EVENT_SIZE);
    }
}

impl RoomClient {
    /// A new subscriber to server-pushed events (from now on).
    pub fn subscribe(&self) -> RoomEvents {
        match self.shared().route::<Events>() {
            Some(events) => events.subscribe(),
            // No event route on this connection: a stream that has already ended.
            None => {
                let queue = Arc::new(Queue {
                    state: Mutex::default(),
                    bound: EventBuffer::default(),
                });
                queue.end();
                RoomEvents { queue }
            }
        }
    }
}
