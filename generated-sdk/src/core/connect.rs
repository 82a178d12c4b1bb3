//! The room handshake: after the websocket opens, the server sends `room_ready` (the
//! room's name, URL and session id) and `connected` (who this client is). A connection
//! becomes a [`RoomClient`] once both have arrived. After a reconnection the same
//! handshake comes again; between handshakes a `connected` is ignored, so the local
//! participant never changes under the client.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use serde_json::{Map, Value};
use tokio::sync::watch;

use futures::future::BoxFuture;

use crate::core::client::RoomClient;
use crate::core::error::{Error, Result};
use crate::core::framing::Message;
use crate::core::link::ConnectionEvent;
pub use crate::core::options::ConnectOptions;
use crate::core::packing::{pack_header, unpack};
use crate::core::router::{Match, Route, Router};
use crate::core::shared::Shared;
use crate::core::stream::StreamRoutes;
use crate::core::transport::Transport;
use crate::packets::{client as cp, server as sp};

// The handshake shapes (`room_ready`, `connected`) are generated from spec/room.yaml.
use crate::packets::server::Connected;
pub use crate::packets::server::RoomInfo;

/// The participant this client is, from the `connected` packet.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LocalParticipant {
    /// Participant id.
    pub id: String,
    /// Attributes the server gave it at connect.
    pub attributes: Map<String, Value>,
}

/// The handshake's state, and later the local participant's attributes.
pub(crate) struct Handshake {
    state: Mutex<HandshakeState>,
    /// Signalled on each handshake message and on close.
    changed: watch::Sender<()>,
}

struct HandshakeState {
    room: Option<RoomInfo>,
    participant: Option<LocalParticipant>,
    /// A handshake is under way (at first, and after each loss): which of its two
    /// messages are still to come.
    awaiting_room: bool,
    awaiting_participant: bool,
    /// The room as the first complete handshake described it: `connect` returns with it,
    /// even when the connection was lost (and is being reopened) right after.
    first: Option<RoomInfo>,
}

impl Default for HandshakeState {
    fn default() -> Self {
        HandshakeState {
            room: None,
            participant: None,
            awaiting_room: true,
            awaiting_participant: true,
            first: None,
        }
    }
}

impl HandshakeState {
    /// The room, once this connection's handshake is complete.
    fn joined(&self) -> Option<&RoomInfo> {
        match (&self.room, &self.participant) {
            (Some(room), Some(_)) if !self.awaiting_room && !self.awaiting_participant => {
                Some(room)
            }
            _ => None,
        }
    }

    /// Notes the first complete handshake.
    fn note_first(&mut self) {
        if self.first.is_none() {
            self.first = self.joined().cloned();
        }
    }
}

impl Handshake {
    fn lock(&self) -> MutexGuard<'_, HandshakeState> {
        // Poisoning only means a panic elsewhere mid-update of plain values.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Route for Handshake {
    fn handle(&self, _shared: &Arc<Shared>, message: Message) {
        let Message {
            message_type, data, ..
        } = message;
        match message_type.as_str() {
            sp::ROOM_READY => match decode_header::<RoomInfo>(sp::ROOM_READY, data) {
                Ok(info) => {
                    let mut st = self.lock();
                    if !st.awaiting_room {
                        tracing::warn!("ignoring a room_ready after the handshake");
                        return;
                    }
                    st.room = Some(info);
                    st.awaiting_room = false;
                    st.note_first();
                    drop(st);
                    self.changed.send_replace(());
                }
                Err(e) => tracing::warn!(error = %e, "ignoring a malformed room_ready"),
            },
            sp::CONNECTED => match decode_header::<Connected>(sp::CONNECTED, data) {
                Ok(c) if c.type_ == "init" => {
                    let mut st = self.lock();
                    if !st.awaiting_participant {
                        tracing::warn!("ignoring a connected packet after the handshake");
                        return;
                    }
                    st.awaiting_participant = false;
                    match st.participant.as_mut() {
                        // A reconnection: a new id; the local attributes are this client's
                        // and are sent again by `restore`.
                        Some(p) => p.id = c.participant_id,
                        None => {
                            st.participant = Some(LocalParticipant {
                                id: c.participant_id,
                                attributes: c.attributes.into_iter().collect(),
                            })
                        }
                    }
                    st.note_first();
                    drop(st);
                    self.changed.send_replace(());
                }
                Ok(c) => {
                    tracing::debug!(kind = %c.type_, "ignoring a connected packet that is not init")
                }
                Err(e) => tracing::warn!(error = %e, "ignoring a malformed connected"),
            },
            _ => {}
        }
    }

    fn closed(&self, _reason: &str) {
        self.changed.send_replace(());
    }

    fn link(&self, _shared: &Arc<Shared>, event: &ConnectionEvent) {
        if let ConnectionEvent::Disconnected { .. } = event {
            let mut st = self.lock();
            st.awaiting_room = true;
            st.awaiting_participant = true;
        }
    }

    /// Sends every local attribute again, in one `set_attributes` (as the 0.56 SDKs do).
    fn restore(&self, room: &RoomClient) -> Option<BoxFuture<'static, ()>> {
        let attributes = self.lock().participant.as_ref()?.attributes.clone();
        if attributes.is_empty() {
            return None;
        }
        let room = room.clone();
        Some(Box::pin(async move {
            let sent = match pack_header(&attributes) {
                Ok(head) => {
                    let shared = room.shared();
                    shared
                        .send(shared.next_id(), cp::SET_ATTRIBUTES, &head, &[])
                        .await
                }
                Err(e) => Err(e.into()),
            };
            if let Err(e) = sent {
                tracing::warn!(error = %e, "sending the local attributes again failed");
            }
        }))
    }
}

/// Waits until the current connection's handshake is complete (after a reconnection);
/// returns the room as its new `room_ready` described it.
pub(crate) async fn rejoined(shared: &Arc<Shared>) -> Result<RoomInfo> {
    let Some(handshake) = shared.route::<Handshake>() else {
        return Err(shared.closed_error());
    };
    let mut changed = handshake.changed.subscribe();
    loop {
        if let Some(room) = handshake.lock().joined() {
            return Ok(room.clone());
        }
        if shared.lock().closed.is_some() || changed.changed().await.is_err() {
            return Err(shared.closed_error());
        }
    }
}

/// The room as the latest `room_ready` described it.
pub(crate) fn room_info(room: &RoomClient) -> Option<RoomInfo> {
    room.shared()
        .route::<Handshake>()
        .and_then(|h| h.lock().room.clone())
}

fn decode_header<T: serde::de::DeserializeOwned>(packet: &str, data: Bytes) -> Result<T> {
    let packed = unpack(data)?;
    serde_json::from_value(Value::Object(packed.header))
        .map_err(|e| Error::mismatch(packet, "malformed handshake", e))
}

/// Runs the protocol over `transport` with the surfaces' `router` (core adds the handshake
/// and the stream engine) and waits for the room's handshake.
pub(crate) async fn connect(
    transport: impl Transport,
    options: ConnectOptions,
    mut router: Router,
    redial: Option<crate::core::reconnect::Redial>,
) -> Result<RoomClient> {
    let (changed, mut changed_rx) = watch::channel(());
    let handshake = Arc::new(Handshake {
        state: Mutex::new(HandshakeState::default()),
        changed,
    });
    router.register(
        handshake.clone(),
        &[Match::Exact(sp::ROOM_READY), Match::Exact(sp::CONNECTED)],
    );
    router.register(
        Arc::new(StreamRoutes::new(options.stream_buffer)),
        &[Match::Exact(sp::ROOM_TOOL_CALL_RESPONSE_CHUNK)],
    );
    // Dropping `started` (on an error, or with this future) stops the I/O loop.
    let mut started = RoomClient::start(transport, &options, router, redial);
    let shared = started.shared.clone();
    let wait = async {
        loop {
            // A completed handshake wins over a close that followed it (e.g. a `dismiss`
            // right behind `connected`): the client is returned, already closed, and its
            // events show why.
            if let Some(room) = &handshake.lock().first {
                return Ok(room.clone());
            }
            if let Some(reason) = &shared.lock().closed {
                return Err(Error::Closed {
                    reason: reason.clone(),
                });
            }
            if changed_rx.changed().await.is_err() {
                return Err(shared.closed_error());
            }
        }
    };
    // The I/O loop runs in this task until the handshake is done: it reads and routes
    // `room_ready` and `connected`, which the wait then finds.
    let mut wait = std::pin::pin!(wait);
    let wait = std::future::poll_fn(|cx| {
        started.poll_io(cx);
        wait.as_mut().poll(cx)
    });
    let info = match tokio::time::timeout(options.handshake_timeout, wait).await {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => return Err(e),
        Err(_) => {
            return Err(Error::Timeout(
                options.handshake_timeout,
                "room_ready and connected",
            ))
        }
    };
    Ok(started.into_client(info, &options))
}

impl RoomClient {
    /// The local participant, with its current attributes.
    pub fn local_participant(&self) -> LocalParticipant {
        self.shared()
            .route::<Handshake>()
            .and_then(|h| h.lock().participant.clone())
            .unwrap_or_else(|| LocalParticipant {
                id: String::new(),
                attributes: Map::new(),
            })
    }

    /// Sets one attribute of the local participant (`set_attributes`, no reply), as both
    /// SDKs do, one key per message.
    pub async fn set_attribute(&self, name: &str, value: Value) -> Result<()> {
        self.ready().await?;
        let mut header = Map::new();
        header.insert(name.to_string(), value.clone());
        let head = pack_header(&header)?;
        let shared = self.shared();
        shared
            .send(shared.next_id(), cp::SET_ATTRIBUTES, &head, &[])
            .await?;
        if let Some(h) = shared.route::<Handshake>() {
            if let Some(p) = h.lock().participant.as_mut() {
                p.attributes.insert(name.to_string(), value);
            }
        }
        Ok(())
    }
}
