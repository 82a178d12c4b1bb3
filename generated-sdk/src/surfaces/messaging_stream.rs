//! Messaging streams (0.56 `messaging.stream`, Python `MessagingClient.stream`): a two-way
//! stream of messages between two participants, relayed by the room.
//!
//! * The initiator calls [`crate::messaging::Messaging::stream`]: the call opens, the first
//!   request chunk names the receiver and carries the first message, and the first response
//!   chunk must be `{kind: accepted, stream_id}`. Then both sides send messages freely.
//! * The receiver gets the offer as an [`IncomingMessagingStream`] from
//!   [`crate::messaging::Messaging::incoming_streams`] (the room pushes
//!   `room.tool_call.messaging`, then the first message as
//!   `room.tool_call_request_chunk.messaging`), and accepts it (`room.tool_call_response`
//!   `control/open`) or rejects it (an `error` reply). After accepting, its messages go out
//!   as `room.tool_call_response_chunk`s.
//!
//! Either side ends with a close. A lost connection fails an open stream with
//! [`Error::Disconnected`] (streams do not survive a reconnection). Buffers are bounded:
//! offers nobody takes ([`OFFER_BUFFER`]) are rejected, and a receiver that falls
//! [`EVENT_BUFFER`] events behind has its stream closed as a protocol error.

mod incoming;

use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Map, Value};

use crate::core::content::Content;
use crate::core::error::{Error, Result};
use crate::core::stream::{RequestHalf, ResponseHalf};

pub(crate) use incoming::install;
pub use incoming::{IncomingMessagingStream, IncomingMessagingStreams};

/// The tool, for errors.
const TOOL: &str = "messaging.stream";

/// Offers kept until the application takes them; more are rejected.
pub const OFFER_BUFFER: usize = 16;

/// Events an accepted incoming stream keeps for its reader; one more closes the stream.
pub const EVENT_BUFFER: usize = 256;

/// What arrives on a [`MessagingStream`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MessagingStreamEvent {
    /// A message from the other side.
    Message {
        /// The participant that sent it.
        from_participant_id: String,
        /// The message type chosen by the application.
        message_type: String,
        /// The message body (a JSON object).
        message: Value,
        /// Bytes attached to the message.
        attachment: Option<Bytes>,
    },
    /// The other participant left the stream.
    ClientDisconnected {
        /// Who left.
        participant_id: String,
    },
    /// The room closed the stream; no more events follow.
    Closed {
        /// Why (e.g. `protocol_error`).
        reason: String,
        /// More detail, when given.
        message: Option<String>,
    },
}

/// An accepted messaging stream, on either side: send messages with
/// [`MessagingStream::send_message`], read the other side's with
/// [`MessagingStream::next_event`], end it with [`MessagingStream::close`] (or drop).
#[derive(Debug)]
pub struct MessagingStream {
    stream_id: String,
    remote_participant_id: String,
    side: Side,
    done: bool,
}

#[derive(Debug)]
enum Side {
    /// This client opened the stream (a `messaging.stream` call).
    Initiator {
        request: RequestHalf,
        response: ResponseHalf,
    },
    /// The room offered it to this client, which accepted.
    Receiver(incoming::Responder),
}

impl crate::messaging::Messaging {
    /// Opens a messaging stream to participant `to_participant_id` with a first message
    /// (`message_type`, `message` — a JSON object — and an optional attachment), and waits
    /// until the receiver accepts it. A refusal fails with the room's error (Python 0.56
    /// reports every refusal as "did not acknowledge acceptance", code 1100).
    pub async fn stream(
        &self,
        to_participant_id: impl Into<String>,
        message_type: impl Into<String>,
        message: Value,
        attachment: Option<Bytes>,
    ) -> Result<MessagingStream> {
        let to = to_participant_id.into();
        let stream = self.room.open_stream("messaging", "stream").await?;
        let (mut request, mut response) = stream.split();
        let first = json!({
            "to_participant_id": to,
            "type": message_type.into(),
            "message_json": message_json(&message)?,
            "attachment_base64": attachment.map(|a| b64().encode(a)),
        });
        request.send(Content::Json(first)).await?;
        let stream_id = match response.recv().await? {
            Some(Content::Json(v)) if v.get("kind").and_then(Value::as_str) == Some("accepted") => {
                v.get("stream_id")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            }
            Some(Content::Error { text, code }) => {
                return Err(Error::server(code, text).in_call(TOOL))
            }
            _ => None,
        };
        // Dropping the halves closes the request side.
        let stream_id = stream_id.ok_or_else(|| {
            Error::unexpected(TOOL, "messaging.stream did not acknowledge acceptance")
        })?;
        Ok(MessagingStream {
            stream_id,
            remote_participant_id: to,
            side: Side::Initiator { request, response },
            done: false,
        })
    }

    /// The messaging streams other participants offer to this client, in arrival order.
    /// Offers that arrive before this is called wait (at most 16; later
    /// ones are rejected); it can be taken once per connection.
    pub fn incoming_streams(&self) -> Result<IncomingMessagingStreams> {
        incoming::take(&self.room)
    }
}

impl MessagingStream {
    /// The stream's id (the initiator's from the `accepted` chunk, the receiver's the call id).
    pub fn stream_id(&self) -> &str {
        &self.stream_id
    }

    /// The participant on the other side.
    pub fn remote_participant_id(&self) -> &str {
        &self.remote_participant_id
    }

    /// Sends a message (`message` is a JSON object) with an optional attachment.
    pub async fn send_message(
        &mut self,
        message_type: impl Into<String>,
        message: Value,
        attachment: Option<Bytes>,
    ) -> Result<()> {
        let attachment = attachment.map(|a| b64().encode(a));
        match &mut self.side {
            Side::Initiator { request, .. } => {
                let chunk = json!({
                    "type": message_type.into(),
                    "message_json": message_json(&message)?,
                    "attachment_base64": attachment,
                });
                request.send(Content::Json(chunk)).await
            }
            Side::Receiver(r) => {
                let chunk = json!({
                    "kind": "message",
                    "type": message_type.into(),
                    "message": message,
                    "attachment_base64": attachment,
                });
                r.send(Content::Json(chunk)).await
            }
        }
    }

    /// The next event from the other side; `Ok(None)` once the stream is over. A lost
    /// connection is [`Error::Disconnected`]; a malformed chunk or an `error` chunk fails.
    pub async fn next_event(&mut self) -> Result<Option<MessagingStreamEvent>> {
        if self.done {
            return Ok(None);
        }
        let event = match &mut self.side {
            Side::Initiator { response, .. } => match response.recv().await {
                Ok(Some(chunk)) => initiator_event(chunk, &self.remote_participant_id).map(Some),
                Ok(None) => Ok(None),
                Err(e) => Err(e),
            },
            Side::Receiver(r) => r.next().await,
        };
        match &event {
            Ok(Some(MessagingStreamEvent::Closed { .. })) | Ok(None) | Err(_) => self.done = true,
            _ => {}
        }
        event
    }

    /// Ends the stream from this side (a normal close; once).
    pub async fn close(&mut self) -> Result<()> {
        match &mut self.side {
            Side::Initiator { request, .. } => request.close().await,
            Side::Receiver(r) => r.close().await,
        }
    }
}

/// A response chunk of the initiator's call as an event.
fn initiator_event(chunk: Content, remote: &str) -> Result<MessagingStreamEvent> {
    let bad = || Error::unexpected(TOOL, "unexpected chunk from messaging.stream");
    let raw = match chunk {
        Content::Json(Value::Object(m)) => m,
        Content::Error { text, code } => return Err(Error::server(code, text).in_call(TOOL)),
        _ => return Err(bad()),
    };
    let text = |k: &str| raw.get(k).and_then(Value::as_str).map(str::to_string);
    match raw.get("kind").and_then(Value::as_str) {
        Some("message") => match (text("type"), raw.get("message")) {
            (Some(message_type), Some(message @ Value::Object(_))) => {
                Ok(MessagingStreamEvent::Message {
                    from_participant_id: remote.to_string(),
                    message_type,
                    message: message.clone(),
                    attachment: attachment(&raw)?,
                })
            }
            _ => Err(Error::unexpected(
                TOOL,
                "invalid message chunk from messaging.stream",
            )),
        },
        Some("client_disconnected") => Ok(MessagingStreamEvent::ClientDisconnected {
            participant_id: text("participant_id").unwrap_or_else(|| remote.to_string()),
        }),
        Some("closed") => Ok(MessagingStreamEvent::Closed {
            reason: text("reason").unwrap_or_else(|| "closed".into()),
            message: text("message"),
        }),
        _ => Err(bad()),
    }
}

/// The `attachment_base64` of a chunk: none when absent, null or empty.
fn attachment(raw: &Map<String, Value>) -> Result<Option<Bytes>> {
    match raw.get("attachment_base64").and_then(Value::as_str) {
        None | Some("") => Ok(None),
        Some(s) => b64()
            .decode(s)
            .map(|b| Some(Bytes::from(b)))
            .map_err(|e| Error::unexpected(TOOL, format!("attachment: {e}"))),
    }
}

/// A message body as the JSON text the wire carries; it must be an object.
fn message_json(message: &Value) -> Result<String> {
    if !message.is_object() {
        return Err(Error::InvalidArguments(
            "messaging.stream: a message must be a JSON object".into(),
        ));
    }
    serde_json::to_string(message).map_err(|e| Error::InvalidArguments(e.to_string()))
}

fn b64() -> &'static base64::engine::GeneralPurpose {
    &base64::engine::general_purpose::STANDARD
}
