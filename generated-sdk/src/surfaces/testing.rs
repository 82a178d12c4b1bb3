//! A scripted room for unit tests (feature `test-util`): the client under test talks to it
//! over an in-memory transport, and the test plays the room, one step at a time: expect a
//! request, answer it with a reply, a stream or an error, push an event.
//!
//! Every wait is bounded ([`ScriptedRoom::step_timeout`], 5 s by default), and every
//! mismatch is a [`ScriptError`] naming what was expected and what came, so a test fails
//! with a message instead of hanging.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use meshagent_room::testing::ScriptedRoom;
//! use serde_json::json;
//!
//! let (room, _events, mut script) = ScriptedRoom::connect().await?;
//! // The code under test, e.g. a function of yours that takes the client.
//! let call = tokio::spawn(async move { room.queues().list().await });
//! // The room's side: the request the code sent, and the answer.
//! let request = script.expect_invoke("queues", "list").await?;
//! assert_eq!(request.arguments()?, meshagent_room::Content::Json(json!({})));
//! script.reply_json(&request, json!({"queues": [{"name": "jobs", "size": 2}]})).await?;
//! let queues = call.await??;
//! assert_eq!(queues[0].name, "jobs");
//! # Ok(()) }
//! ```

use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};

use crate::core::content::{Content, Control};
use crate::core::framing::{encode_message, Limits, Reassembler};
use crate::core::packing::{pack, unpack};
use crate::core::transport::{memory_pair, MemoryTransport};
use crate::packets::client as cp;
use crate::packets::server as sp;
use crate::{ConnectOptions, RoomClient, RoomEvents};

/// Why a scripted step failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScriptError {
    /// Nothing came within the step timeout.
    #[error("timed out after {after:?} waiting for {waiting_for}")]
    Timeout {
        /// What the script waited for.
        waiting_for: String,
        /// The step timeout.
        after: Duration,
    },
    /// Something else came than what the script expected.
    #[error("expected {expected}, but the client sent {got}")]
    Unexpected {
        /// What the script expected.
        expected: String,
        /// A summary of what came.
        got: String,
    },
    /// The client sent something that is not a valid message.
    #[error("the client sent a malformed message: {0}")]
    Malformed(String),
    /// The client went away.
    #[error("the client disconnected")]
    Disconnected,
    /// The client failed its handshake with the scripted room.
    #[error("the client did not connect: {0}")]
    Connect(#[from] crate::Error),
}

/// A message the client sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The message id (a reply carries it back).
    pub id: u64,
    /// The packet type, e.g. `room.invoke_tool`.
    pub packet_type: String,
    /// The JSON header.
    pub header: Value,
    /// The binary tail.
    pub tail: Bytes,
}

impl Request {
    /// The toolkit of a `room.invoke_tool`.
    pub fn toolkit(&self) -> Option<&str> {
        self.header["toolkit"].as_str()
    }

    /// The tool of a `room.invoke_tool`.
    pub fn tool(&self) -> Option<&str> {
        self.header["tool"].as_str()
    }

    /// The arguments of a `room.invoke_tool` (or the chunk of a request chunk) as content.
    pub fn arguments(&self) -> Result<Content, ScriptError> {
        let key = if self.packet_type == cp::ROOM_TOOL_CALL_REQUEST_CHUNK {
            "chunk"
        } else {
            "arguments"
        };
        match &self.header[key] {
            Value::Object(m) => Content::from_parts(m.clone(), self.tail.clone())
                .map_err(|e| ScriptError::Malformed(e.to_string())),
            other => Err(ScriptError::Malformed(format!("`{key}` is {other}"))),
        }
    }

    fn summary(&self) -> String {
        match (self.toolkit(), self.tool()) {
            (Some(tk), Some(t)) => format!("{} {tk}.{t}", self.packet_type),
            _ => self.packet_type.clone(),
        }
    }
}

/// A tool call the client opened as a stream, answered with `control/open`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamCall {
    /// The call's `tool_call_id`, which every chunk carries.
    pub tool_call_id: String,
}

/// The room's side of a client connected over an in-memory transport.
pub struct ScriptedRoom {
    io: MemoryTransport,
    reassembler: Reassembler,
    next_id: u64,
    step: Duration,
}

impl ScriptedRoom {
    /// A client connected to a new scripted room (handshake done: room `test-room`,
    /// participant `p-1`), its events, and the room's side.
    pub async fn connect() -> Result<(RoomClient, RoomEvents, ScriptedRoom), ScriptError> {
        Self::connect_with(ConnectOptions::default()).await
    }

    /// [`ScriptedRoom::connect`] with the client's options.
    pub async fn connect_with(
        options: ConnectOptions,
    ) -> Result<(RoomClient, RoomEvents, ScriptedRoom), ScriptError> {
        let (client_io, server_io) = memory_pair();
        let mut script = ScriptedRoom {
            io: server_io,
            reassembler: Reassembler::new(Limits::default()),
            next_id: 0,
            step: Duration::from_secs(5),
        };
        let handshake = async {
            script
                .push(
                    "room_ready",
                    json!({"room_name": "test-room", "room_url": "memory://test-room",
                           "session_id": "session-1"}),
                )
                .await?;
            script
                .push(
                    "connected",
                    json!({"type": "init", "participantId": "p-1", "attributes": {}}),
                )
                .await
        };
        let (client, sent) =
            tokio::join!(RoomClient::with_transport(client_io, options), handshake);
        sent?;
        let (room, events) = client?;
        Ok((room, events, script))
    }

    /// Sets how long each step waits (5 s by default).
    pub fn step_timeout(&mut self, step: Duration) -> &mut Self {
        self.step = step;
        self
    }

    /// The client's next message, whatever it is.
    pub async fn next_request(&mut self) -> Result<Request, ScriptError> {
        let step = self.step;
        tokio::time::timeout(step, self.read())
            .await
            .map_err(|_| ScriptError::Timeout {
                waiting_for: "a message from the client".into(),
                after: step,
            })?
    }

    async fn read(&mut self) -> Result<Request, ScriptError> {
        loop {
            let packet = match self.io.next().await {
                Some(Ok(p)) => p,
                Some(Err(e)) => return Err(ScriptError::Malformed(e.to_string())),
                None => return Err(ScriptError::Disconnected),
            };
            let message = self
                .reassembler
                .push(packet)
                .map_err(|e| ScriptError::Malformed(e.to_string()))?;
            if let Some(m) = message {
                let p = unpack(m.data).map_err(|e| ScriptError::Malformed(e.to_string()))?;
                return Ok(Request {
                    id: m.id,
                    packet_type: m.message_type,
                    header: Value::Object(p.header),
                    tail: p.tail,
                });
            }
        }
    }

    /// Expects a plain `room.invoke_tool` of `toolkit.tool` as the client's next message.
    pub async fn expect_invoke(
        &mut self,
        toolkit: &str,
        tool: &str,
    ) -> Result<Request, ScriptError> {
        let r = self.next_request().await?;
        if r.packet_type == cp::ROOM_INVOKE_TOOL
            && r.toolkit() == Some(toolkit)
            && r.tool() == Some(tool)
        {
            Ok(r)
        } else {
            Err(ScriptError::Unexpected {
                expected: format!("room.invoke_tool {toolkit}.{tool}"),
                got: r.summary(),
            })
        }
    }

    /// Expects `toolkit.tool` opened as a stream, and answers `control/open`.
    pub async fn expect_stream(
        &mut self,
        toolkit: &str,
        tool: &str,
    ) -> Result<StreamCall, ScriptError> {
        let r = self.expect_invoke(toolkit, tool).await?;
        let id = r.header["tool_call_id"].as_str().map(str::to_owned);
        match (r.arguments()?, id) {
            (Content::Control(Control::Open), Some(tool_call_id)) => {
                self.reply(&r, Content::Control(Control::Open)).await?;
                Ok(StreamCall { tool_call_id })
            }
            (other, _) => Err(ScriptError::Unexpected {
                expected: format!("{toolkit}.{tool} opened as a stream (control/open)"),
                got: format!("arguments of type {}", other.type_name()),
            }),
        }
    }

    /// Expects the client's next request chunk of `call`, returns it as content (and
    /// acknowledges it when the protocol version wants acknowledgements).
    pub async fn expect_chunk(&mut self, call: &StreamCall) -> Result<Content, ScriptError> {
        let r = self.next_request().await?;
        if r.packet_type != cp::ROOM_TOOL_CALL_REQUEST_CHUNK
            || r.header["tool_call_id"].as_str() != Some(&call.tool_call_id)
        {
            return Err(ScriptError::Unexpected {
                expected: format!("a request chunk of call {}", call.tool_call_id),
                got: r.summary(),
            });
        }
        if crate::protocol::REQUEST_CHUNK_ACKS {
            self.reply(&r, Content::Empty).await?;
        }
        r.arguments()
    }

    /// Answers `request` with `content`.
    pub async fn reply(&mut self, request: &Request, content: Content) -> Result<(), ScriptError> {
        self.send(
            request.id,
            "__response__",
            &content.header(),
            content.tail(),
        )
        .await
    }

    /// Answers `request` with a JSON value.
    pub async fn reply_json(&mut self, request: &Request, json: Value) -> Result<(), ScriptError> {
        self.reply(request, Content::Json(json)).await
    }

    /// Answers `request` with an error.
    pub async fn reply_error(
        &mut self,
        request: &Request,
        code: i64,
        text: &str,
    ) -> Result<(), ScriptError> {
        let error = Content::Error {
            text: text.into(),
            code: Some(code),
        };
        self.reply(request, error).await
    }

    /// Sends a response chunk of `call`.
    pub async fn send_chunk(
        &mut self,
        call: &StreamCall,
        chunk: Content,
    ) -> Result<(), ScriptError> {
        let header = json!({"tool_call_id": call.tool_call_id, "chunk": chunk.header()});
        self.push_tail(sp::ROOM_TOOL_CALL_RESPONSE_CHUNK, header, chunk.tail())
            .await
    }

    /// Ends `call` from the room's side (a normal `control/close`).
    pub async fn close_stream(&mut self, call: &StreamCall) -> Result<(), ScriptError> {
        let close = json!({"type": "control", "method": "close", "status_code": 1000});
        let header = json!({"tool_call_id": call.tool_call_id, "chunk": close});
        self.push_tail(sp::ROOM_TOOL_CALL_RESPONSE_CHUNK, header, &[])
            .await
    }

    /// Pushes a server message (an event such as `storage.file.updated`) with `header`.
    pub async fn push(&mut self, packet_type: &str, header: Value) -> Result<(), ScriptError> {
        self.push_tail(packet_type, header, &[]).await
    }

    /// Pushes a server message with a binary tail.
    pub async fn push_tail(
        &mut self,
        packet_type: &str,
        header: Value,
        tail: &[u8],
    ) -> Result<(), ScriptError> {
        self.next_id += 1;
        self.send(self.next_id, packet_type, &header, tail).await
    }

    /// Nothing comes from the client for `quiet`.
    pub async fn expect_silence(&mut self, quiet: Duration) -> Result<(), ScriptError> {
        match tokio::time::timeout(quiet, self.read()).await {
            Err(_) => Ok(()),
            Ok(Ok(r)) => Err(ScriptError::Unexpected {
                expected: format!("nothing for {quiet:?}"),
                got: r.summary(),
            }),
            Ok(Err(e)) => Err(e),
        }
    }

    async fn send(
        &mut self,
        id: u64,
        packet_type: &str,
        header: &Value,
        tail: &[u8],
    ) -> Result<(), ScriptError> {
        let data = pack(header, tail).map_err(|e| ScriptError::Malformed(e.to_string()))?;
        for packet in encode_message(id, packet_type, &data) {
            self.io
                .send(packet)
                .await
                .map_err(|_| ScriptError::Disconnected)?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for ScriptedRoom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptedRoom")
            .field("step", &self.step)
            .finish_non_exhaustive()
    }
}
