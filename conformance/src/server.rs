//! A scripted room server for one case: it accepts one websocket client on
//! `127.0.0.1:0`, sends the handshake, then walks the case's frames in order and records
//! every message the client sends. Every wait is bounded, so a broken client fails the
//! case instead of hanging it.

use std::net::SocketAddr;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Map, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::case::{Direction, Frame};
use crate::wire::{self, Reassembler, WireError};

/// The room name in the URL and in `room_ready`.
pub const ROOM_NAME: &str = "test-room";

/// The header key of a tool call's id.
const TOOL_CALL_ID: &str = "tool_call_id";

/// The packet type of replies.
pub const RESPONSE: &str = "__response__";

/// Message id of the server's first handshake message (as the recorder's fake room).
pub const FIRST_SERVER_ID: u64 = 1001;

/// Why the scripted server failed.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A socket operation failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The websocket failed or the client broke the protocol.
    #[error("websocket: {0}")]
    WebSocket(#[from] tokio_tungstenite::tungstenite::Error),
    /// The client's packets broke the wire format.
    #[error("wire format: {0}")]
    Wire(#[from] WireError),
    /// Something took longer than the limit.
    #[error("timed out after {limit:?} waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// The limit.
        limit: Duration,
    },
    /// The client broke the script (closed early, sent text, ...).
    #[error("{0}")]
    Script(String),
    /// The server task panicked or was cancelled.
    #[error("server task: {0}")]
    Task(String),
}

/// A message the client sent, as received.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientMessage {
    /// The client's message id.
    pub id: u64,
    /// The packet type.
    pub packet_type: String,
    /// The decoded JSON header, nothing stripped.
    pub header: Map<String, Value>,
    /// The binary tail.
    pub tail: Vec<u8>,
}

/// Everything the server saw of the client.
#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    /// The websocket request's path and query.
    pub request_uri: String,
    /// The websocket request's `Authorization` header, if any.
    pub authorization: Option<String>,
    /// Every message the client sent, in order, including any after the script ended.
    pub messages: Vec<ClientMessage>,
}

/// A running scripted server.
#[derive(Debug)]
pub struct ScriptedServer {
    addr: SocketAddr,
    task: JoinHandle<Result<Transcript, ServerError>>,
}

impl ScriptedServer {
    /// Binds `127.0.0.1:0` and starts playing `frames` to the first client. Each wait
    /// (connect, a client message, a send, the client's close) is bounded by `limit`.
    /// Must be called inside a tokio runtime.
    pub async fn start(frames: Vec<Frame>, limit: Duration) -> Result<Self, ServerError> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(serve(listener, frames, limit));
        Ok(ScriptedServer { addr, task })
    }

    /// The room's websocket URL, e.g. `ws://127.0.0.1:PORT/rooms/test-room`.
    pub fn room_url(&self) -> String {
        format!("ws://{}/rooms/{ROOM_NAME}", self.addr)
    }

    /// Waits until the script is played and the client has closed; returns what the
    /// client sent.
    pub async fn finish(self) -> Result<Transcript, ServerError> {
        self.task
            .await
            .map_err(|e| ServerError::Task(e.to_string()))?
    }
}

async fn within<F: std::future::Future>(
    limit: Duration,
    what: &str,
    fut: F,
) -> Result<F::Output, ServerError> {
    tokio::time::timeout(limit, fut)
        .await
        .map_err(|_| ServerError::Timeout {
            what: what.to_string(),
            limit,
        })
}

async fn serve(
    listener: TcpListener,
    frames: Vec<Frame>,
    limit: Duration,
) -> Result<Transcript, ServerError> {
    let (tcp, _) = within(limit, "the client to connect", listener.accept()).await??;
    let mut request_uri = String::new();
    let mut authorization = None;
    // The error type is fixed by tungstenite's `Callback` signature; it is never built here.
    #[allow(clippy::result_large_err)]
    let callback = |req: &Request, resp: Response| {
        request_uri = req.uri().to_string();
        authorization = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(resp)
    };
    let ws = within(
        limit,
        "the websocket handshake",
        tokio_tungstenite::accept_hdr_async(tcp, callback),
    )
    .await??;
    let mut conn = Connection {
        ws,
        reassembler: Reassembler::default(),
        limit,
        messages: Vec::new(),
    };
    conn.handshake().await?;
    conn.play(&frames).await?;
    // After the script, record whatever else the client sends until it closes.
    while conn.receive().await?.is_some() {}
    Ok(Transcript {
        request_uri,
        authorization,
        messages: conn.messages,
    })
}

struct Connection {
    ws: WebSocketStream<TcpStream>,
    reassembler: Reassembler,
    limit: Duration,
    messages: Vec<ClientMessage>,
}

/// The attributes the scripted server gives the client in `connected`.
pub fn initial_attributes() -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("name".into(), json!("alice"));
    m
}

impl Connection {
    /// Sends `room_ready` and `connected`, as a room does on accept.
    async fn handshake(&mut self) -> Result<(), ServerError> {
        let ready = json!({
            "room_name": ROOM_NAME,
            "room_url": format!("ws://127.0.0.1/rooms/{ROOM_NAME}"),
            "session_id": "sess-1",
        });
        let connected = json!({
            "type": "init",
            "participantId": "p-local",
            "attributes": initial_attributes(),
        });
        for (offset, (packet_type, header)) in [("room_ready", ready), ("connected", connected)]
            .into_iter()
            .enumerate()
        {
            let header = header.as_object().cloned().unwrap_or_default();
            self.send(FIRST_SERVER_ID + offset as u64, packet_type, &header, &[])
                .await?;
        }
        Ok(())
    }

    /// Walks the frames: waits for each `send`, answers each `__response__` under the id
    /// of the client's latest request, pushes every other `recv`. A `tool_call_id` the
    /// recording's client drew is replaced, in pushes, by the one this client drew for the
    /// same message (both draw them at random; stream chunks are routed by it).
    async fn play(&mut self, frames: &[Frame]) -> Result<(), ServerError> {
        let mut last_request = None;
        let mut call_ids: Vec<(Value, Value)> = Vec::new();
        for (i, frame) in frames.iter().enumerate() {
            match frame.dir {
                Direction::Send => {
                    let Some(id) = self.receive().await? else {
                        return Err(ServerError::Script(format!(
                            "the client closed before sending frame {i} ({})",
                            frame.packet_type
                        )));
                    };
                    last_request = Some(id);
                    let sent = self
                        .messages
                        .last()
                        .and_then(|m| m.header.get(TOOL_CALL_ID));
                    if let (Some(recorded), Some(actual)) = (frame.header.get(TOOL_CALL_ID), sent) {
                        if !call_ids.iter().any(|(r, _)| r == recorded) {
                            call_ids.push((recorded.clone(), actual.clone()));
                        }
                    }
                }
                Direction::Recv if frame.packet_type == RESPONSE => {
                    let Some(id) = last_request else {
                        return Err(ServerError::Script(format!(
                            "frame {i} is a reply but the client sent no request before it"
                        )));
                    };
                    self.send(id, RESPONSE, &frame.header, &frame.tail).await?;
                }
                Direction::Recv => {
                    let (id, ty) = (frame.id, &frame.packet_type);
                    let mut header = frame.header.clone();
                    if let Some(v) = header.get_mut(TOOL_CALL_ID) {
                        if let Some((_, actual)) = call_ids.iter().find(|(r, _)| r == v) {
                            *v = actual.clone();
                        }
                    }
                    self.send(id, ty, &header, &frame.tail).await?;
                }
            }
        }
        Ok(())
    }

    async fn send(
        &mut self,
        id: u64,
        packet_type: &str,
        header: &Map<String, Value>,
        tail: &[u8],
    ) -> Result<(), ServerError> {
        let data = wire::pack(header, tail)?;
        for packet in wire::encode(id, packet_type, &data)? {
            let what = format!("sending {packet_type}");
            within(
                self.limit,
                &what,
                self.ws.feed(Message::Binary(packet.into())),
            )
            .await??;
        }
        within(self.limit, "a flush", self.ws.flush()).await??;
        Ok(())
    }

    /// Reads the client's next complete message and records it; returns its id, or
    /// `None` when the client closed the websocket between messages.
    async fn receive(&mut self) -> Result<Option<u64>, ServerError> {
        loop {
            let next = within(self.limit, "a client message", self.ws.next()).await?;
            let packet = match next {
                Some(Ok(Message::Binary(packet))) => packet,
                Some(Ok(Message::Text(_))) => {
                    return Err(ServerError::Script("the client sent a text frame".into()))
                }
                Some(Ok(Message::Close(_))) | None if self.reassembler.is_idle() => {
                    return Ok(None)
                }
                Some(Ok(Message::Close(_))) | None => {
                    return Err(ServerError::Script(
                        "the client closed in the middle of a message".into(),
                    ))
                }
                Some(Ok(_)) => continue, // ping, pong
                Some(Err(e)) => return Err(e.into()),
            };
            if let Some(raw) = self.reassembler.push(&packet)? {
                let (header, tail) = wire::unpack(&raw.data)?;
                self.messages.push(ClientMessage {
                    id: raw.id,
                    packet_type: raw.packet_type,
                    header,
                    tail,
                });
                return Ok(Some(raw.id));
            }
        }
    }
}
