//! The room handshake: after the websocket opens, the server sends `room_ready` (the
//! room's name, URL and session id) and `connected` (who this client is). A connection
//! becomes a [`RoomClient`] once both have arrived.

use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use serde_json::{Map, Value};
use tokio::sync::watch;

use crate::core::client::{RoomClient, Shared};
use crate::core::error::{Error, Result};
use crate::core::framing::Message;
pub use crate::core::options::ConnectOptions;
use crate::core::packing::{pack_header, unpack};
use crate::core::router::{Match, Route, Router};
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

#[derive(Default)]
struct HandshakeState {
    room: Option<RoomInfo>,
    participant: Option<LocalParticipant>,
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
                    self.lock().room = Some(info);
                    self.changed.send_replace(());
                }
                Err(e) => tracing::warn!(error = %e, "ignoring a malformed room_ready"),
            },
            sp::CONNECTED => match decode_header::<Connected>(sp::CONNECTED, data) {
                Ok(c) if c.type_ == "init" => {
                    self.lock().participant = Some(LocalParticipant {
                        id: c.participant_id,
                        attributes: c.attributes.into_iter().collect(),
                    });
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
        Arc::new(StreamRoutes::default()),
        &[Match::Exact(sp::ROOM_TOOL_CALL_RESPONSE_CHUNK)],
    );
    // Dropping `started` (on an error, or with this future) stops the I/O task.
    let started = RoomClient::start(transport, options.limits, router);
    let shared = started.shared.clone();
    let wait = async {
        loop {
            // A completed handshake wins over a close that followed it (e.g. a `dismiss`
            // right behind `connected`): the client is returned, already closed, and its
            // events show why.
            if let HandshakeState {
                room: Some(room),
                participant: Some(_),
            } = &*handshake.lock()
            {
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
    Ok(started.into_client(info, options.request_timeout))
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
