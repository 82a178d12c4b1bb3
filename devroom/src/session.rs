//! One connection: the handshake, then every client message read in order and answered;
//! calls run in their own tasks (bounded per connection) and the replies and pushes go
//! out through the participant's bounded outbox, written by a task of their own.

use std::sync::Arc;

use bytes::Bytes;
use futures::{SinkExt, Stream, StreamExt};
use meshagent_room::wire::framing::{encode_message, Limits, Message, Reassembler};
use meshagent_room::wire::packing::unpack;
use meshagent_room::{Content, Control, ErrorCode};
use serde_json::{json, Map, Value};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch, Semaphore};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::WebSocketStream;

use crate::auth::Identity;
use crate::dialect::Dialect;
use crate::hosting::{call_hosted, find_host};
use crate::participant::Participant;
use crate::room::Room;
use crate::streams::{StreamCall, Streams};
use crate::toolkits::{self, Ctx};
use crate::wire::{pack_content, pack_value, Outgoing, ToolError, RESPONSE};

/// What the upgrade request decided.
pub(crate) struct Accepted {
    pub room: Arc<Room>,
    pub identity: Identity,
    pub dialect: Dialect,
    /// The room URL as the client reached it, for `room_ready`.
    pub room_url: String,
}

type Ws = WebSocketStream<TcpStream>;

/// Serves one connection until the client leaves, breaks the protocol, falls behind, or
/// the server shuts down.
pub(crate) async fn run(ws: Ws, accepted: Accepted, mut shutdown: watch::Receiver<bool>) {
    let Accepted {
        room,
        identity,
        dialect,
        room_url,
    } = accepted;
    let options = room.options.clone();
    let (outbox, pending) = mpsc::channel(options.outbox_len.max(1));
    let mut attributes = Map::new();
    attributes.insert("name".into(), Value::String(identity.name));
    let id = uuid::Uuid::new_v4().simple().to_string();
    let participant = Arc::new(Participant::new(
        id.clone(),
        dialect,
        attributes.clone(),
        outbox,
    ));
    let (sink, stream) = ws.split();
    let (close_tx, close_rx) = oneshot::channel();
    let writer = tokio::spawn(write_loop(
        sink,
        pending,
        close_rx,
        options.idle_timeout,
        participant.clone(),
    ));

    let ready = json!({"room_name": room.name, "room_url": room_url, "session_id": id});
    let connected = json!({"type": "init", "participantId": id, "attributes": attributes});
    participant
        .send(participant.next_id(), "room_ready", pack_value(&ready, &[]))
        .await;
    participant
        .send(
            participant.next_id(),
            "connected",
            pack_value(&connected, &[]),
        )
        .await;
    room.join(participant.clone());
    tracing::info!(room = %room.name, participant = %id, ?dialect, "joined");

    let mut session = Session {
        ctx: Ctx {
            room: room.clone(),
            participant: participant.clone(),
        },
        streams: Streams::default(),
        calls: JoinSet::new(),
        slots: Arc::new(Semaphore::new(options.max_calls_per_client.max(1))),
    };
    let close = session
        .read_loop(stream, &mut shutdown, options.max_message_size)
        .await;
    room.leave(&participant);
    // Aborts the calls still running; their streams unregister as they drop.
    drop(session);
    tracing::info!(room = %room.name, participant = %id, reason = ?close, "left");
    let _ = close_tx.send(close);
    let mut writer = writer;
    if tokio::time::timeout(options.idle_timeout, &mut writer)
        .await
        .is_err()
    {
        writer.abort();
    }
}

/// Writes the outbox to the socket; ends with a close frame when told, or when a write
/// takes longer than `idle` (a client that stopped reading).
async fn write_loop(
    mut sink: futures::stream::SplitSink<Ws, WsMessage>,
    mut pending: mpsc::Receiver<Outgoing>,
    mut close: oneshot::Receiver<Option<CloseFrame>>,
    idle: std::time::Duration,
    participant: Arc<Participant>,
) {
    // Told on the way out, so that reading stops too when writing failed.
    struct EndsReading(Arc<Participant>);
    impl Drop for EndsReading {
        fn drop(&mut self) {
            self.0.overflow.notify_one();
        }
    }
    let _ends = EndsReading(participant);
    loop {
        tokio::select! {
            biased;
            message = pending.recv() => {
                let Some(m) = message else { break };
                let write = async {
                    for packet in encode_message(m.id, &m.packet_type, &m.data) {
                        sink.feed(WsMessage::Binary(packet)).await?;
                    }
                    sink.flush().await
                };
                match tokio::time::timeout(idle, write).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        tracing::debug!(error = %e, "writing to a client failed");
                        return;
                    }
                    Err(_) => {
                        tracing::warn!("a client stopped reading: dropping its connection");
                        return;
                    }
                }
            }
            frame = &mut close => {
                let frame = frame.ok().flatten();
                let _ = tokio::time::timeout(idle, sink.send(WsMessage::Close(frame))).await;
                break;
            }
        }
    }
    let _ = tokio::time::timeout(idle, sink.close()).await;
}

fn close_frame(code: CloseCode, reason: impl Into<String>) -> Option<CloseFrame> {
    let mut reason: String = reason.into();
    // A close reason must fit a control frame (125 bytes with the code).
    while reason.len() > 120 {
        reason.pop();
    }
    Some(CloseFrame {
        code,
        reason: reason.into(),
    })
}

struct Session {
    ctx: Ctx,
    streams: Streams,
    calls: JoinSet<()>,
    slots: Arc<Semaphore>,
}

impl Session {
    /// Reads until the connection ends; returns the close frame to answer with, if any.
    async fn read_loop(
        &mut self,
        mut stream: impl Stream<Item = Result<WsMessage, tokio_tungstenite::tungstenite::Error>> + Unpin,
        shutdown: &mut watch::Receiver<bool>,
        max_message_size: usize,
    ) -> Option<CloseFrame> {
        let mut reassembler = Reassembler::new(Limits::with_max_message_size(max_message_size));
        let participant = self.ctx.participant.clone();
        loop {
            // Finished calls are reaped as we go, so the set stays as large as what runs.
            while self.calls.try_join_next().is_some() {}
            let frame = tokio::select! {
                _ = shutdown.changed() => return close_frame(CloseCode::Away, "the room server is shutting down"),
                _ = participant.overflow.notified() => return close_frame(CloseCode::Policy, "too many unread messages"),
                frame = stream.next() => frame,
            };
            match frame {
                None | Some(Ok(WsMessage::Close(_))) => return None,
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "reading from a client failed");
                    return None;
                }
                Some(Ok(WsMessage::Binary(packet))) => match reassembler.push(packet) {
                    Ok(Some(message)) => self.dispatch(message).await,
                    Ok(None) => {}
                    Err(e) => return close_frame(CloseCode::Protocol, format!("bad packet: {e}")),
                },
                Some(Ok(WsMessage::Text(_))) => {
                    return close_frame(
                        CloseCode::Unsupported,
                        "text frames are not part of the protocol",
                    )
                }
                Some(Ok(_)) => {} // ping, pong: tungstenite answers pings itself
            }
        }
    }

    async fn reply(&self, id: u64, content: &Content) {
        self.ctx
            .participant
            .send(id, RESPONSE, pack_content(content))
            .await;
    }

    async fn dispatch(&mut self, message: Message) {
        let Message {
            id,
            message_type,
            data,
        } = message;
        match message_type.as_str() {
            "room.invoke_tool" => self.invoke(id, data).await,
            "room.tool_call_request_chunk" => self.request_chunk(id, data).await,
            "room.tool_call_response" => {
                if !self.ctx.participant.answer_hosted_call(id, data) {
                    tracing::debug!(id, "an answer to no pending hosted call");
                }
            }
            "room.list_toolkits"
            | "room.register_toolkit"
            | "room.unregister_toolkit"
            | "room.call" => {
                let result = match unpack(data) {
                    Ok(packed) => self.room_request(&message_type, packed.header),
                    Err(e) => Err(ToolError::invalid(format!("malformed request: {e}"))),
                };
                self.reply(id, &result.unwrap_or_else(|e| e.content()))
                    .await;
            }
            "set_attributes" => match unpack(data) {
                Ok(packed) => {
                    let attributes = self.ctx.participant.merge_attributes(&packed.header);
                    self.ctx
                        .room
                        .announce_attributes(&self.ctx.participant, attributes);
                }
                Err(e) => tracing::debug!(error = %e, "malformed set_attributes"),
            },
            other => tracing::debug!(packet = %other, "ignoring a packet devroom does not serve"),
        }
    }

    fn room_request(
        &self,
        packet_type: &str,
        header: Map<String, Value>,
    ) -> Result<Content, ToolError> {
        let room = &self.ctx.room;
        let me = &self.ctx.participant.id;
        match packet_type {
            "room.list_toolkits" => {
                let by_id = header
                    .get("participant_id")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let by_name = header.get("participant_name").and_then(Value::as_str);
                let filter = match (by_id, by_name) {
                    (Some(id), _) => Some(id),
                    (None, Some(name)) => Some(
                        room.participant_named(name)
                            .map(|p| p.id.clone())
                            .ok_or_else(|| {
                                ToolError::new(
                                    ErrorCode::NotFound,
                                    format!("no participant named `{name}`"),
                                )
                            })?,
                    ),
                    (None, None) => None,
                };
                let mut tools = match filter {
                    Some(_) => Map::new(),
                    None => toolkits::descriptions(),
                };
                tools.extend(room.toolkits.describe(filter.as_deref()));
                Ok(Content::Json(json!({"tools": tools})))
            }
            "room.register_toolkit" => {
                let id = room.toolkits.register(me, header)?;
                Ok(Content::Json(json!({"id": id})))
            }
            "room.unregister_toolkit" => {
                let id = header
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| ToolError::invalid("`id` must be a string"))?;
                room.toolkits.unregister(me, id)?;
                Ok(Content::Empty)
            }
            _ => Err(ToolError::new(
                ErrorCode::OperationFailed,
                format!("{packet_type} is not served by devroom"),
            )),
        }
    }

    async fn invoke(&mut self, id: u64, data: Bytes) {
        match self.start_call(id, data) {
            Ok(()) => {}
            Err(e) => self.reply(id, &e.content()).await,
        }
    }

    /// Starts a call in its own task, or says why it cannot start.
    fn start_call(&mut self, id: u64, data: Bytes) -> Result<(), ToolError> {
        let packed =
            unpack(data).map_err(|e| ToolError::invalid(format!("malformed request: {e}")))?;
        let header = packed.header;
        let text = |key: &str| header.get(key).and_then(Value::as_str).map(str::to_owned);
        let (Some(toolkit), Some(tool)) = (text("toolkit"), text("tool")) else {
            return Err(ToolError::invalid("`toolkit` and `tool` must be strings"));
        };
        let arguments = match header.get("arguments") {
            Some(Value::Object(a)) if a.get("type").is_some_and(Value::is_string) => {
                Content::from_parts(a.clone(), packed.tail.clone())
                    .map_err(|e| ToolError::invalid(e.to_string()))?
            }
            // Legacy: a plain object is JSON input.
            Some(Value::Object(a)) => Content::Json(Value::Object(a.clone())),
            None | Some(Value::Null) => Content::Empty,
            Some(other) => {
                return Err(ToolError::invalid(format!(
                    "`arguments` must be an object, got {other}"
                )))
            }
        };
        let participant_id = text("participant_id");
        let permit = self.slots.clone().try_acquire_owned().map_err(|_| {
            ToolError::new(
                ErrorCode::OperationFailed,
                "too many calls in progress on this connection",
            )
        })?;
        let ctx = self.ctx.clone();

        let routed = participant_id.is_some() || !toolkits::is_built_in(&toolkit);
        if routed {
            let host =
                find_host(&ctx.room, &toolkit, participant_id.as_deref()).ok_or_else(|| {
                    ToolError::new(
                        ErrorCode::NotFound,
                        format!("toolkit `{toolkit}` was not found"),
                    )
                })?;
            if matches!(arguments, Content::Control(_)) {
                return Err(ToolError::new(
                    ErrorCode::OperationFailed,
                    "streamed calls to hosted toolkits are not served by devroom",
                ));
            }
            let arguments = header.get("arguments").cloned().unwrap_or(Value::Null);
            let timeout = ctx.room.options.hosted_call_timeout;
            self.calls.spawn(async move {
                let _permit = permit;
                let me = &ctx.participant;
                let data = match call_hosted(
                    &host,
                    &me.id,
                    &toolkit,
                    &tool,
                    arguments,
                    packed.tail,
                    timeout,
                )
                .await
                {
                    Ok(reply) => reply.to_vec(),
                    Err(e) => pack_content(&e.content()),
                };
                me.send(id, RESPONSE, data).await;
            });
            return Ok(());
        }

        if toolkits::is_streamed(&toolkit, &tool) {
            if !matches!(arguments, Content::Control(Control::Open)) {
                return Err(ToolError::invalid(format!(
                    "{toolkit}.{tool} streams: invoke it with control/open arguments"
                )));
            }
            let tool_call_id = text("tool_call_id")
                .ok_or_else(|| ToolError::invalid("a streamed call needs a `tool_call_id`"))?;
            let (entry, input) = self.streams.open(&tool_call_id).ok_or_else(|| {
                ToolError::new(
                    ErrorCode::AlreadyExists,
                    format!("stream `{tool_call_id}` is open already"),
                )
            })?;
            let call = StreamCall::new(
                ctx.participant.clone(),
                id,
                tool_call_id,
                input,
                ctx.room.options.idle_timeout,
                entry,
            );
            self.calls.spawn(async move {
                let _permit = permit;
                toolkits::stream(&ctx, &toolkit, &tool, call).await;
            });
        } else {
            self.calls.spawn(async move {
                let _permit = permit;
                let result = toolkits::call(&ctx, &toolkit, &tool, arguments).await;
                let content = result.unwrap_or_else(|e| e.content());
                ctx.participant
                    .send(id, RESPONSE, pack_content(&content))
                    .await;
            });
        }
        Ok(())
    }

    /// A request chunk goes to its stream; answered only in the 0.35.8 dialect.
    async fn request_chunk(&mut self, id: u64, data: Bytes) {
        let acks = self.ctx.participant.dialect.acks_request_chunks();
        let answer = self.deliver_chunk(data).await;
        if acks {
            self.reply(id, &answer.unwrap_or_else(|e| e.content()))
                .await;
        } else if let Err(e) = answer {
            tracing::debug!(error = %e.text, "a request chunk was not delivered");
        }
    }

    async fn deliver_chunk(&self, data: Bytes) -> Result<Content, ToolError> {
        let packed =
            unpack(data).map_err(|e| ToolError::invalid(format!("malformed chunk: {e}")))?;
        let tool_call_id = packed
            .header
            .get("tool_call_id")
            .and_then(Value::as_str)
            .ok_or_else(|| ToolError::invalid("`tool_call_id` must be a string"))?;
        let chunk = match packed.header.get("chunk") {
            Some(Value::Object(c)) => Content::from_parts(c.clone(), packed.tail.clone())
                .map_err(|e| ToolError::invalid(e.to_string()))?,
            _ => return Err(ToolError::invalid("`chunk` must be a content object")),
        };
        let closing = matches!(chunk, Content::Control(Control::Close { .. }));
        let Some(input) = self.streams.input(tool_call_id) else {
            // The client's close after the room ended the stream is normal.
            return if closing {
                Ok(Content::Empty)
            } else {
                Err(ToolError::new(
                    ErrorCode::NotFound,
                    format!("no open stream `{tool_call_id}`"),
                ))
            };
        };
        let idle = self.ctx.room.options.idle_timeout;
        match tokio::time::timeout(idle, input.send(chunk)).await {
            Ok(Ok(())) => Ok(Content::Empty),
            Ok(Err(_)) if closing => Ok(Content::Empty),
            Ok(Err(_)) => Err(ToolError::new(
                ErrorCode::InvalidState,
                format!("stream `{tool_call_id}` has ended"),
            )),
            Err(_) => Err(ToolError::new(
                ErrorCode::Timeout,
                format!("stream `{tool_call_id}` took no chunk within {idle:?}"),
            )),
        }
    }
}
