//! The receiving side of messaging streams: the route of `room.tool_call.messaging` and
//! `room.tool_call_request_chunk.messaging` (Python 0.56 `_handle_stream_tool_call` and
//! `_handle_stream_tool_call_request_chunk`), the offers, and the accepted streams' replies.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use serde_json::{json, Map, Value};
use tokio::sync::mpsc;

use super::{attachment, MessagingStream, MessagingStreamEvent, Side, EVENT_BUFFER, OFFER_BUFFER};
use crate::core::client::RoomClient;
use crate::core::content::{Content, Control};
use crate::core::error::{Error, Result};
use crate::core::framing::Message;
use crate::core::link::ConnectionEvent;
use crate::core::packing::{pack, unpack};
use crate::core::router::{Match, Route, Router};
use crate::core::shared::Shared;
use crate::packets::client as cp;
use crate::packets::server as sp;

/// Close status of a stream ended for a protocol error (Python `INVALID_DATA`).
const CLOSE_INVALID_DATA: i64 = 1007;

type Events = mpsc::Sender<Result<MessagingStreamEvent>>;

/// The incoming messaging streams of this connection, by call id.
pub(crate) struct MessagingStreams {
    offers: mpsc::Sender<IncomingMessagingStream>,
    taken: Mutex<Option<mpsc::Receiver<IncomingMessagingStream>>>,
    calls: Mutex<HashMap<String, Call>>,
    me: Weak<MessagingStreams>,
}

struct Call {
    /// The id of the `room.tool_call.messaging` push, which every reply reuses.
    message_id: u64,
    caller_id: String,
    state: State,
}

enum State {
    /// Opened; the first message has not arrived.
    Awaiting,
    /// Offered to the application.
    Pending,
    /// Accepted: events go to the stream's reader.
    Accepted(Events),
}

/// Registers the route with the connection's router.
pub(crate) fn install(router: &mut Router) {
    let (offers, taken) = mpsc::channel(OFFER_BUFFER);
    let route = Arc::new_cyclic(|me| MessagingStreams {
        offers,
        taken: Mutex::new(Some(taken)),
        calls: Mutex::default(),
        me: me.clone(),
    });
    router.register(
        route,
        &[
            Match::Exact(sp::ROOM_TOOL_CALL_MESSAGING),
            Match::Exact(sp::ROOM_TOOL_CALL_REQUEST_CHUNK_MESSAGING),
        ],
    );
}

/// The offers of `room`'s connection (once).
pub(super) fn take(room: &RoomClient) -> Result<IncomingMessagingStreams> {
    let streams = room
        .shared()
        .route::<MessagingStreams>()
        .ok_or_else(|| Error::InvalidArguments("messaging streams are not routed".into()))?;
    let taken = streams
        .taken
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    taken
        .map(|offers| IncomingMessagingStreams { offers })
        .ok_or_else(|| {
            Error::InvalidArguments("the incoming messaging streams are already taken".into())
        })
}

/// The offers of messaging streams to this client, from
/// [`crate::messaging::Messaging::incoming_streams`].
#[derive(Debug)]
pub struct IncomingMessagingStreams {
    offers: mpsc::Receiver<IncomingMessagingStream>,
}

impl IncomingMessagingStreams {
    /// The next offer; `None` once the client is gone.
    pub async fn next(&mut self) -> Option<IncomingMessagingStream> {
        self.offers.recv().await
    }
}

/// A messaging stream another participant offers: its first message, to
/// [`accept`](IncomingMessagingStream::accept) or [`reject`](IncomingMessagingStream::reject).
/// Dropped undecided, it is rejected.
#[derive(Debug)]
pub struct IncomingMessagingStream {
    /// The stream's id (the room's call id).
    pub stream_id: String,
    /// Who offers the stream.
    pub from_participant_id: String,
    /// The first message's type.
    pub message_type: String,
    /// The first message (a JSON object).
    pub message: Value,
    /// The first message's attachment.
    pub attachment: Option<bytes::Bytes>,
    streams: Weak<MessagingStreams>,
    shared: Weak<Shared>,
    decided: bool,
}

impl IncomingMessagingStream {
    /// Accepts the stream: the other side's messages arrive on the returned stream.
    pub async fn accept(mut self) -> Result<MessagingStream> {
        self.decided = true;
        let (streams, shared) = self.parts()?;
        let (tx, rx) = mpsc::channel(EVENT_BUFFER);
        let message_id = {
            let mut calls = streams.lock();
            match calls.get_mut(&self.stream_id) {
                Some(call) if matches!(call.state, State::Pending) => {
                    call.state = State::Accepted(tx);
                    call.message_id
                }
                _ => return Err(no_longer_pending()),
            }
        };
        let open = Content::Control(Control::Open);
        if let Err(e) = respond(&shared, message_id, &open).await {
            streams.lock().remove(&self.stream_id);
            return Err(e);
        }
        Ok(MessagingStream {
            stream_id: self.stream_id.clone(),
            remote_participant_id: self.from_participant_id.clone(),
            side: Side::Receiver(Responder {
                streams: self.streams.clone(),
                shared: self.shared.clone(),
                message_id,
                tool_call_id: self.stream_id.clone(),
                events: rx,
                closed: false,
            }),
            done: false,
        })
    }

    /// Rejects the stream with `reason` (default "messaging stream rejected"), the `error`
    /// reply the initiator gets.
    pub async fn reject(mut self, reason: Option<String>) -> Result<()> {
        self.decided = true;
        let (streams, shared) = self.parts()?;
        let call = streams.take_pending(&self.stream_id)?;
        let text = reason.unwrap_or_else(|| "messaging stream rejected".into());
        respond(
            &shared,
            call.message_id,
            &Content::Error { text, code: None },
        )
        .await
    }

    fn parts(&self) -> Result<(Arc<MessagingStreams>, Arc<Shared>)> {
        match (self.streams.upgrade(), self.shared.upgrade()) {
            (Some(s), Some(sh)) => Ok((s, sh)),
            _ => Err(Error::InvalidArguments("the client is gone".into())),
        }
    }
}

impl Drop for IncomingMessagingStream {
    fn drop(&mut self) {
        if self.decided {
            return;
        }
        let Ok((streams, shared)) = self.parts() else {
            return;
        };
        if let Ok(call) = streams.take_pending(&self.stream_id) {
            let error = Content::Error {
                text: "messaging stream rejected".into(),
                code: None,
            };
            spawn_replies(shared, call.message_id, None, vec![error]);
        }
    }
}

/// The accepted side of an incoming stream: its events and its replies.
#[derive(Debug)]
pub(super) struct Responder {
    streams: Weak<MessagingStreams>,
    shared: Weak<Shared>,
    message_id: u64,
    tool_call_id: String,
    events: mpsc::Receiver<Result<MessagingStreamEvent>>,
    closed: bool,
}

impl Responder {
    pub(super) async fn next(&mut self) -> Result<Option<MessagingStreamEvent>> {
        match self.events.recv().await {
            Some(Ok(e)) => Ok(Some(e)),
            Some(Err(e)) => Err(e),
            None => Ok(None),
        }
    }

    pub(super) async fn send(&mut self, chunk: Content) -> Result<()> {
        let open = !self.closed
            && self.streams.upgrade().is_some_and(|s| {
                s.lock()
                    .get(&self.tool_call_id)
                    .is_some_and(|c| matches!(c.state, State::Accepted(_)))
            });
        if !open {
            return Err(Error::InvalidArguments(
                "the messaging stream is closed".into(),
            ));
        }
        let shared = self
            .shared
            .upgrade()
            .ok_or_else(|| Error::InvalidArguments("the client is gone".into()))?;
        respond_chunk(&shared, self.message_id, &self.tool_call_id, &chunk).await
    }

    pub(super) async fn close(&mut self) -> Result<()> {
        if std::mem::replace(&mut self.closed, true) {
            return Ok(());
        }
        let live = self
            .streams
            .upgrade()
            .and_then(|s| s.lock().remove(&self.tool_call_id))
            .is_some();
        match (live, self.shared.upgrade()) {
            (true, Some(shared)) => {
                let close = Content::Control(Control::Close {
                    status_code: 1000,
                    message: None,
                });
                respond_chunk(&shared, self.message_id, &self.tool_call_id, &close).await
            }
            _ => Ok(()),
        }
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        if self.closed {
            return;
        }
        let live = self
            .streams
            .upgrade()
            .and_then(|s| s.lock().remove(&self.tool_call_id))
            .is_some();
        if let (true, Some(shared)) = (live, self.shared.upgrade()) {
            let close = Content::Control(Control::Close {
                status_code: 1000,
                message: None,
            });
            spawn_replies(
                shared,
                self.message_id,
                Some(self.tool_call_id.clone()),
                vec![close],
            );
        }
    }
}

fn no_longer_pending() -> Error {
    Error::InvalidArguments("the messaging stream request is no longer pending".into())
}

impl MessagingStreams {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Call>> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn take_pending(&self, id: &str) -> Result<Call> {
        let mut calls = self.lock();
        match calls.get(id) {
            Some(c) if matches!(c.state, State::Pending) => {
                calls.remove(id).ok_or_else(no_longer_pending)
            }
            _ => Err(no_longer_pending()),
        }
    }

    /// `room.tool_call.messaging`: a stream opens; its first message follows.
    fn on_call(&self, shared: &Arc<Shared>, id: u64, data: bytes::Bytes) {
        let Ok(packed) = unpack(data) else {
            tracing::warn!("ignoring a malformed messaging stream call");
            return;
        };
        let h = &packed.header;
        let text = |k: &str| h.get(k).and_then(Value::as_str).map(str::to_string);
        let (Some("stream"), Some(caller_id), Some(tool_call_id), Some(Value::Object(args))) = (
            h.get("name").and_then(Value::as_str),
            text("caller_id"),
            text("tool_call_id"),
            h.get("arguments"),
        ) else {
            tracing::warn!("ignoring an invalid messaging stream call");
            return;
        };
        let refuse = |text: &str| {
            let error = Content::Error {
                text: text.into(),
                code: None,
            };
            spawn_replies(shared.clone(), id, None, vec![error]);
        };
        match Content::from_parts(args.clone(), packed.tail) {
            Ok(Content::Control(Control::Open)) => {}
            Ok(_) => {
                return refuse("messaging.stream request must start with an open control chunk")
            }
            Err(e) => return refuse(&e.to_string()),
        }
        let mut calls = self.lock();
        if calls.contains_key(&tool_call_id) {
            drop(calls);
            return refuse("messaging stream tool_call_id is already active");
        }
        calls.insert(
            tool_call_id,
            Call {
                message_id: id,
                caller_id,
                state: State::Awaiting,
            },
        );
    }

    /// `room.tool_call_request_chunk.messaging`: the first message, later messages, or the close.
    fn on_chunk(&self, shared: &Arc<Shared>, data: bytes::Bytes) {
        let Ok(packed) = unpack(data) else {
            tracing::warn!("ignoring a malformed messaging stream chunk");
            return;
        };
        let (Some(tool_call_id), Some(Value::Object(chunk))) = (
            packed.header.get("tool_call_id").and_then(Value::as_str),
            packed.header.get("chunk"),
        ) else {
            tracing::warn!("ignoring an invalid messaging stream chunk");
            return;
        };
        let tool_call_id = tool_call_id.to_string();
        let mut calls = self.lock();
        let Some(call) = calls.get_mut(&tool_call_id) else {
            tracing::debug!(%tool_call_id, "ignoring a chunk of an unknown messaging stream");
            return;
        };
        let content = match Content::from_parts(chunk.clone(), packed.tail) {
            Ok(c) => c,
            Err(e) => return self.fail(shared, calls, &tool_call_id, &e.to_string()),
        };
        let raw = match content {
            Content::Control(Control::Close { .. }) => {
                let Some(call) = calls.remove(&tool_call_id) else {
                    return;
                };
                match call.state {
                    State::Accepted(events) => {
                        let _ = events.try_send(Ok(MessagingStreamEvent::ClientDisconnected {
                            participant_id: call.caller_id,
                        }));
                    }
                    State::Awaiting | State::Pending => {
                        let error = Content::Error {
                            text: "messaging stream closed before acceptance".into(),
                            code: None,
                        };
                        spawn_replies(shared.clone(), call.message_id, None, vec![error]);
                    }
                }
                return;
            }
            Content::Json(Value::Object(raw)) => raw,
            _ => {
                let m = "messaging.stream requires JSON object chunks";
                return self.fail(shared, calls, &tool_call_id, m);
            }
        };
        let parsed = parse_message(&raw);
        let (message_type, message, attachment) = match parsed {
            Ok(p) => p,
            Err(m) => return self.fail(shared, calls, &tool_call_id, &m),
        };
        match &call.state {
            State::Awaiting => {
                let Some(from) = raw.get("from_participant_id").and_then(Value::as_str) else {
                    let m = "initial messaging stream chunk has no participant id";
                    return self.fail(shared, calls, &tool_call_id, m);
                };
                call.state = State::Pending;
                let offer = IncomingMessagingStream {
                    stream_id: tool_call_id.clone(),
                    from_participant_id: from.to_string(),
                    message_type,
                    message,
                    attachment,
                    streams: self.me.clone(),
                    shared: Arc::downgrade(shared),
                    decided: false,
                };
                if let Err(e) = self.offers.try_send(offer) {
                    let mut offer = e.into_inner();
                    offer.decided = true;
                    self.fail(
                        shared,
                        calls,
                        &tool_call_id,
                        "participant does not accept streams",
                    );
                }
            }
            State::Pending => {
                let m = "messaging stream received a message before acceptance";
                self.fail(shared, calls, &tool_call_id, m)
            }
            State::Accepted(events) => {
                let event = MessagingStreamEvent::Message {
                    from_participant_id: call.caller_id.clone(),
                    message_type,
                    message,
                    attachment,
                };
                match events.try_send(Ok(event)) {
                    Ok(()) => {}
                    // The reader dropped the stream: its drop closes the call.
                    Err(mpsc::error::TrySendError::Closed(_)) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        self.fail(shared, calls, &tool_call_id, "the receiver fell behind")
                    }
                }
            }
        }
    }

    /// Ends call `id` for a protocol error (Python `_fail_stream_call`): an accepted stream
    /// gets an `error` chunk and a 1007 close, an unaccepted one an `error` reply.
    fn fail(
        &self,
        shared: &Arc<Shared>,
        mut calls: MutexGuard<'_, HashMap<String, Call>>,
        id: &str,
        message: &str,
    ) {
        let Some(call) = calls.remove(id) else {
            return;
        };
        drop(calls);
        let error = Content::Error {
            text: message.into(),
            code: None,
        };
        match call.state {
            State::Accepted(events) => {
                let _ = events.try_send(Ok(MessagingStreamEvent::Closed {
                    reason: "protocol_error".into(),
                    message: Some(message.into()),
                }));
                let close = Content::Control(Control::Close {
                    status_code: CLOSE_INVALID_DATA,
                    message: Some(message.into()),
                });
                spawn_replies(
                    shared.clone(),
                    call.message_id,
                    Some(id.to_string()),
                    vec![error, close],
                );
            }
            State::Awaiting | State::Pending => {
                spawn_replies(shared.clone(), call.message_id, None, vec![error])
            }
        }
    }

    /// Fails every open stream with `error` and forgets every call.
    fn fail_all(&self, error: impl Fn() -> Error) {
        for (_, call) in self.lock().drain() {
            if let State::Accepted(events) = call.state {
                let _ = events.try_send(Err(error()));
            }
        }
    }
}

impl Route for MessagingStreams {
    fn handle(&self, shared: &Arc<Shared>, message: Message) {
        match message.message_type.as_str() {
            sp::ROOM_TOOL_CALL_MESSAGING => self.on_call(shared, message.id, message.data),
            sp::ROOM_TOOL_CALL_REQUEST_CHUNK_MESSAGING => self.on_chunk(shared, message.data),
            _ => {}
        }
    }

    fn closed(&self, reason: &str) {
        self.fail_all(|| Error::Closed {
            reason: reason.to_string(),
        });
    }

    fn link(&self, _shared: &Arc<Shared>, event: &ConnectionEvent) {
        if let ConnectionEvent::Disconnected { reason } = event {
            self.fail_all(|| Error::Disconnected {
                reason: reason.clone(),
            });
        }
    }
}

/// The type, body and attachment of a message chunk (`type`, `message_json`, `attachment_base64`).
fn parse_message(
    raw: &Map<String, Value>,
) -> std::result::Result<(String, Value, Option<bytes::Bytes>), String> {
    let (Some(t), Some(text)) = (
        raw.get("type").and_then(Value::as_str),
        raw.get("message_json").and_then(Value::as_str),
    ) else {
        return Err("invalid messaging stream chunk".into());
    };
    let message: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if !message.is_object() {
        return Err("messaging stream message must be a JSON object".into());
    }
    let attachment = attachment(raw).map_err(|e| e.to_string())?;
    Ok((t.to_string(), message, attachment))
}

/// Sends `room.tool_call_response` (the reply to the call push `id`).
async fn respond(shared: &Shared, id: u64, content: &Content) -> Result<()> {
    let packed = pack(&content.header(), content.tail())
        .map_err(|e| Error::InvalidArguments(e.to_string()))?;
    shared
        .send(id, cp::ROOM_TOOL_CALL_RESPONSE, &packed, &[])
        .await
}

/// Sends one `room.tool_call_response_chunk` of stream `tool_call_id`.
async fn respond_chunk(
    shared: &Shared,
    id: u64,
    tool_call_id: &str,
    chunk: &Content,
) -> Result<()> {
    let header = json!({"tool_call_id": tool_call_id, "chunk": chunk.header()});
    let packed = pack(&header, chunk.tail()).map_err(|e| Error::InvalidArguments(e.to_string()))?;
    shared
        .send(id, cp::ROOM_TOOL_CALL_RESPONSE_CHUNK, &packed, &[])
        .await
}

/// Sends replies from a task (the route cannot wait): chunks of `stream` when given, else
/// one `room.tool_call_response` per content.
fn spawn_replies(shared: Arc<Shared>, id: u64, stream: Option<String>, replies: Vec<Content>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    runtime.spawn(async move {
        for reply in replies {
            let sent = match &stream {
                Some(s) => respond_chunk(&shared, id, s, &reply).await,
                None => respond(&shared, id, &reply).await,
            };
            if let Err(e) = sent {
                tracing::debug!(error = %e, "cannot answer a messaging stream");
                return;
            }
        }
    });
}
