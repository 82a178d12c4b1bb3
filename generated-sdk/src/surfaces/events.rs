//! Server-pushed events: every message no other route takes is decoded into a
//! [`RoomEvent`] (or kept as [`RoomEvent::Unknown`]), applied to the room state kept by
//! `participants`, then fanned out to every [`RoomEvents`] subscriber.

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use futures::Stream;
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::core::client::{RoomClient, Shared};
use crate::core::framing::Message;
use crate::core::packing::unpack;
use crate::core::router::{Match, Route, Router};
use crate::core::types::UnknownPacket;
use crate::surfaces::participants::Participants;
use crate::RoomEvent;

/// A stream of server-pushed events. Every subscriber sees every event pushed after it
/// subscribed; the stream ends when the connection closes. Events wait in an unbounded
/// queue until read, so none is lost to a slow reader.
#[derive(Debug)]
pub struct RoomEvents {
    rx: mpsc::UnboundedReceiver<RoomEvent>,
}

impl Stream for RoomEvents {
    type Item = RoomEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<RoomEvent>> {
        self.rx.poll_recv(cx)
    }
}

/// The event route: decoding and fan-out.
pub(crate) struct Events {
    state: Mutex<EventsState>,
    participants: Arc<Participants>,
}

#[derive(Default)]
struct EventsState {
    /// Set once the connection closed: later subscribers get an ended stream.
    closed: bool,
    subscribers: Vec<mpsc::UnboundedSender<RoomEvent>>,
}

/// Registers the event route (everything no other route takes) and returns the first
/// subscriber, which sees events from the first message on.
pub(crate) fn install(router: &mut Router, participants: Arc<Participants>) -> RoomEvents {
    let events = Arc::new(Events {
        state: Mutex::new(EventsState::default()),
        participants,
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
        let (tx, rx) = mpsc::unbounded_channel();
        let mut st = self.lock();
        if !st.closed {
            st.subscribers.push(tx);
        }
        RoomEvents { rx }
    }

    fn publish(&self, shared: &Arc<Shared>, event: RoomEvent) {
        self.participants.observe(shared, &event);
        let dismissed = dismissal(&event);
        self.lock()
            .subscribers
            .retain(|s| s.send(event.clone()).is_ok());
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
        match unpack(data) {
            Ok(packed) => {
                // Decoded by reference, so an unknown packet keeps its header without a copy.
                let header = Value::Object(packed.header);
                match RoomEvent::decode(&message_type, &header, packed.tail.clone()) {
                    Some(Ok(event)) => self.publish(shared, event),
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
                    ),
                }
            }
            Err(e) => {
                tracing::warn!(packet = %message_type, error = %e, "skipping an unpackable packet")
            }
        }
    }

    fn closed(&self, _reason: &str) {
        let mut st = self.lock();
        st.closed = true;
        st.subscribers.clear();
    }
}

impl RoomClient {
    /// A new subscriber to server-pushed events (from now on).
    pub fn subscribe(&self) -> RoomEvents {
        match self.shared().route::<Events>() {
            Some(events) => events.subscribe(),
            // No event route on this connection: a stream that has already ended.
            None => RoomEvents {
                rx: mpsc::unbounded_channel().1,
            },
        }
    }
}
