//! Scripted room peers shared by the hardening tests: one over the in-memory transport,
//! one over a real loopback websocket (tokio-tungstenite). Every wait is bounded.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::future::IntoFuture;
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use meshagent_room::wire::framing::{encode_message, Message, Reassembler};
use meshagent_room::wire::packing::{pack, unpack};
use meshagent_room::{ConnectOptions, RoomClient, RoomEvents, Transport};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::WebSocketStream;
use url::Url;

/// The longest any single step of a test may take.
pub const STEP: Duration = Duration::from_secs(5);

/// Bounds `fut` by [`STEP`], panicking with `what` when it takes longer.
pub async fn within<F: std::future::IntoFuture>(what: &str, fut: F) -> F::Output {
    match tokio::time::timeout(STEP, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {STEP:?} waiting for {what}"),
    }
}

/// A packed message (JSON header + tail).
pub fn packed(header: &Value, tail: &[u8]) -> Vec<u8> {
    pack(header, tail).expect("test headers are objects")
}

/// The `room_ready` header of the scripted rooms.
pub fn room_ready() -> Value {
    json!({"room_name": "r", "room_url": "ws://127.0.0.1/rooms/r", "session_id": "s-1"})
}

/// The `connected` header of the scripted rooms.
pub fn connected() -> Value {
    json!({"type": "init", "participantId": "p-1", "attributes": {}})
}

/// A message the client sent: id, packet type, header, tail.
pub type Sent = (u64, String, Value, Bytes);

/// The room side of an in-memory connection (or of any [`Transport`]).
pub struct Peer<T> {
    pub io: T,
    pub reassembler: Reassembler,
    pub next_id: u64,
}

impl<T: Transport> Peer<T> {
    pub fn new(io: T) -> Self {
        Peer {
            io,
            reassembler: Reassembler::default(),
            next_id: 1000,
        }
    }

    pub async fn send_packets(&mut self, packets: Vec<Bytes>) {
        for p in packets {
            within("the client to take a packet", self.io.send(p))
                .await
                .expect("client is listening");
        }
    }

    pub async fn send_raw_message(&mut self, id: u64, packet_type: &str, data: &[u8]) {
        self.send_packets(encode_message(id, packet_type, data))
            .await;
    }

    pub async fn send(&mut self, id: u64, packet_type: &str, header: Value, tail: &[u8]) {
        self.send_raw_message(id, packet_type, &packed(&header, tail))
            .await;
    }

    pub async fn push(&mut self, packet_type: &str, header: Value) {
        self.next_id += 1;
        let id = self.next_id;
        self.send(id, packet_type, header, &[]).await;
    }

    pub async fn reply(&mut self, id: u64, content: Value) {
        self.send(id, "__response__", content, &[]).await;
    }

    /// The client's next complete message.
    pub async fn recv(&mut self) -> Sent {
        loop {
            let packet = within("a message from the client", self.io.next())
                .await
                .expect("client still connected")
                .expect("no transport error");
            if let Some(Message {
                id,
                message_type,
                data,
            }) = self.reassembler.push(packet).expect("valid framing")
            {
                let p = unpack(data).expect("valid packing");
                return (id, message_type, Value::Object(p.header), p.tail);
            }
        }
    }

    /// The client's next `room.invoke_tool` of `toolkit.tool`, skipping anything else
    /// (hosted-tool answers, stream closes, ...).
    pub async fn recv_invoke(&mut self, toolkit: &str, tool: &str) -> Sent {
        loop {
            let sent = self.recv().await;
            if sent.1 == "room.invoke_tool"
                && sent.2["toolkit"] == json!(toolkit)
                && sent.2["tool"] == json!(tool)
            {
                return sent;
            }
        }
    }

    pub async fn handshake(&mut self) {
        self.push("room_ready", room_ready()).await;
        self.push("connected", connected()).await;
    }

    /// Pushes a message with a tail under a fresh server id.
    pub async fn push_tail(&mut self, packet_type: &str, header: Value, tail: &[u8]) {
        self.next_id += 1;
        let id = self.next_id;
        self.send(id, packet_type, header, tail).await;
    }

    /// Acknowledges a request (an `empty` reply).
    pub async fn ack(&mut self, id: u64) {
        self.reply(id, json!({"type": "empty"})).await;
    }

    /// Expects a request chunk without acknowledging it: message id, chunk header, tail.
    pub async fn chunk_unacked(&mut self) -> (u64, Value, Bytes) {
        let (id, kind, header, tail) = self.recv().await;
        assert_eq!(kind, "room.tool_call_request_chunk", "{header}");
        (id, header["chunk"].clone(), tail)
    }

    /// Expects a request chunk, acknowledges it, returns its chunk header and tail.
    pub async fn chunk(&mut self) -> (Value, Bytes) {
        let (id, chunk, tail) = self.chunk_unacked().await;
        self.ack(id).await;
        (chunk, tail)
    }

    /// Nothing arrives from the client for a while.
    pub async fn silent(&mut self) {
        let got = tokio::time::timeout(Duration::from_millis(100), self.io.next()).await;
        assert!(got.is_err(), "unexpected message from the client");
    }

    /// Pushes a response chunk of stream `call`.
    pub async fn respond(&mut self, call: &str, chunk: Value, tail: &[u8]) {
        let header = json!({"tool_call_id": call, "chunk": chunk});
        self.push_tail("room.tool_call_response_chunk", header, tail)
            .await;
    }

    /// Expects the streaming invoke of `toolkit.tool`, answers `control/open`, returns
    /// the stream's `tool_call_id`.
    pub async fn open(&mut self, toolkit: &str, tool: &str) -> String {
        let header = self.open_invoke(toolkit, tool).await;
        header["tool_call_id"]
            .as_str()
            .expect("tool_call_id")
            .to_string()
    }

    /// Like [`Peer::open`], returning the whole invoke header.
    pub async fn open_invoke(&mut self, toolkit: &str, tool: &str) -> Value {
        let (id, kind, header, _) = self.recv().await;
        assert_eq!(kind, "room.invoke_tool");
        assert_eq!(
            (header["toolkit"].as_str(), header["tool"].as_str()),
            (Some(toolkit), Some(tool))
        );
        assert_eq!(
            header["arguments"],
            json!({"type": "control", "method": "open"})
        );
        self.reply(id, json!({"type": "control", "method": "open"}))
            .await;
        header
    }
}

/// A client connected over an in-memory pair, with the room side.
pub async fn connect_memory() -> (
    RoomClient,
    RoomEvents,
    Peer<meshagent_room::MemoryTransport>,
) {
    let (client_io, server_io) = meshagent_room::memory_pair();
    let mut peer = Peer::new(server_io);
    let (client, ()) = tokio::join!(
        RoomClient::with_transport(client_io, ConnectOptions::default()),
        peer.handshake()
    );
    let (room, events) = client.expect("handshake completes");
    (room, events, peer)
}

/// The room side of a loopback websocket, as a transport.
pub type Loopback = Box<dyn Transport>;

/// A client connected over a real loopback websocket (`RoomClient::connect` to
/// `127.0.0.1`), with the room side driven like [`connect_memory`]'s.
pub async fn connect_loopback() -> (RoomClient, RoomEvents, Peer<Loopback>) {
    let (listener, url) = listen().await;
    // Reconnection off: these tests check what a lost connection does to a client that
    // does not reconnect (tests/reconnect.rs covers the reconnecting client).
    let client = tokio::spawn(
        RoomClient::connect(url, "token")
            .reconnect(None)
            .into_future(),
    );
    let ws = WsPeer::accept(&listener).await.ws;
    let mut peer: Peer<Loopback> = Peer::new(Box::new(meshagent_room::websocket_transport(ws)));
    peer.handshake().await;
    let (room, events) = within("the client's handshake", client)
        .await
        .expect("connect task")
        .expect("handshake completes");
    (room, events, peer)
}

/// A loopback listener and the room URL that reaches it.
pub async fn listen() -> (TcpListener, Url) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let url = Url::parse(&format!("ws://{addr}/rooms/r")).expect("url");
    (listener, url)
}

/// The room side of a real websocket: raw frames are available through `ws`.
pub struct WsPeer {
    pub ws: WebSocketStream<TcpStream>,
    pub reassembler: Reassembler,
    pub next_id: u64,
    /// The request path and query the client dialled.
    pub request_uri: String,
    /// The upgrade request's `Authorization` header, if any.
    pub authorization: Option<String>,
    /// The upgrade request's `Sec-WebSocket-Extensions` header, if any.
    pub extensions: Option<String>,
}

impl WsPeer {
    /// Accepts one websocket client (without sending the room handshake).
    pub async fn accept(listener: &TcpListener) -> WsPeer {
        let (tcp, _) = within("the client to connect", listener.accept())
            .await
            .expect("accept");
        let mut request_uri = String::new();
        let mut authorization = None;
        let mut extensions = None;
        // The error type is fixed by tungstenite's `Callback` signature.
        #[allow(clippy::result_large_err)]
        let callback = |req: &Request, resp: Response| {
            request_uri = req.uri().to_string();
            authorization = req
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            extensions = req
                .headers()
                .get("sec-websocket-extensions")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            Ok(resp)
        };
        let ws = within(
            "the websocket handshake",
            tokio_tungstenite::accept_hdr_async(tcp, callback),
        )
        .await
        .expect("websocket handshake");
        WsPeer {
            ws,
            reassembler: Reassembler::default(),
            next_id: 1000,
            request_uri,
            authorization,
            extensions,
        }
    }

    pub async fn send_packets(&mut self, packets: Vec<Bytes>) {
        for p in packets {
            within("a send", self.ws.feed(WsMessage::Binary(p)))
                .await
                .expect("send");
        }
        within("a flush", self.ws.flush()).await.expect("flush");
    }

    pub async fn send_raw_message(&mut self, id: u64, packet_type: &str, data: &[u8]) {
        self.send_packets(encode_message(id, packet_type, data))
            .await;
    }

    pub async fn send(&mut self, id: u64, packet_type: &str, header: Value, tail: &[u8]) {
        self.send_raw_message(id, packet_type, &packed(&header, tail))
            .await;
    }

    pub async fn push(&mut self, packet_type: &str, header: Value) {
        self.next_id += 1;
        let id = self.next_id;
        self.send(id, packet_type, header, &[]).await;
    }

    pub async fn reply(&mut self, id: u64, content: Value) {
        self.send(id, "__response__", content, &[]).await;
    }

    pub async fn handshake(&mut self) {
        self.push("room_ready", room_ready()).await;
        self.push("connected", connected()).await;
    }

    /// The client's next complete message, or `None` once the client has closed.
    pub async fn recv(&mut self) -> Option<Sent> {
        loop {
            let frame = within("a message from the client", self.ws.next()).await?;
            let packet = match frame {
                Ok(WsMessage::Binary(b)) => b,
                Ok(WsMessage::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            };
            if let Some(m) = self.reassembler.push(packet).expect("valid framing") {
                let p = unpack(m.data).expect("valid packing");
                return Some((m.id, m.message_type, Value::Object(p.header), p.tail));
            }
        }
    }

    /// Like [`WsPeer::recv`], panicking when the client has closed.
    pub async fn expect_recv(&mut self) -> Sent {
        self.recv().await.expect("the client is still connected")
    }

    /// Waits (bounded) until the client's side of the socket is gone.
    pub async fn wait_closed(&mut self) {
        while self.recv().await.is_some() {}
    }
}

#[cfg(feature = "sync-doc")]
pub mod sync;

/// Reads an HTTP request head (up to the blank line), bounded.
pub async fn read_request(tcp: &mut TcpStream) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(STEP, tcp.read(&mut byte))
            .await
            .ok()?
            .ok()?;
        if n == 0 || head.len() > 64 << 10 {
            return None;
        }
        head.push(byte[0]);
    }
    String::from_utf8(head).ok()
}
