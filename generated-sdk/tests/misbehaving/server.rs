//! The scripted room server's building blocks: a tungstenite peer (`WsPeer` from
//! `support`), a hand-made upgrade on raw TCP, raw websocket frames, and the usual replies.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use meshagent_room::wire::framing::encode_message;
use serde_json::{json, Value};
pub use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
pub use tokio_tungstenite::tungstenite::protocol::Role;
pub use tokio_tungstenite::tungstenite::Message as WsMessage;
pub use tokio_tungstenite::WebSocketStream;

pub use crate::support::{listen, packed, read_request, WsPeer};

pub const RESPONSE: &str = "__response__";

/// Aborts the server task when the scenario ends, so it never outlives it.
pub struct Server(pub tokio::task::JoinHandle<()>);

impl Drop for Server {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs a script as the server.
pub fn spawn<F: Future<Output = ()> + Send + 'static>(script: F) -> Server {
    Server(tokio::spawn(script))
}

/// Accepts one websocket client (tungstenite's upgrade), bounded.
pub async fn accept(listener: &TcpListener) -> Option<WsPeer> {
    tokio::time::timeout(Duration::from_secs(5), WsPeer::accept(listener))
        .await
        .ok()
}

/// Accepts a client and sends the room handshake.
pub async fn handshaken(listener: &TcpListener) -> Option<WsPeer> {
    let mut peer = accept(listener).await?;
    peer.handshake().await;
    Some(peer)
}

/// A `storage.exists` reply body.
pub fn exists(value: bool) -> Value {
    json!({"type": "json", "json": {"exists": value}})
}

/// Answers every `room.invoke_tool` with `exists: true` until the client leaves.
pub async fn answer_calls(mut peer: WsPeer) {
    while let Some((id, kind, ..)) = peer.recv().await {
        if kind == "room.invoke_tool" {
            peer.reply(id, exists(true)).await;
        }
    }
}

/// Like [`WsPeer::recv`], but waits up to `limit` and never panics: `None` when the client
/// left, a frame was malformed, or nothing came.
pub async fn next_call(peer: &mut WsPeer, limit: Duration) -> Option<(u64, String, Value)> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let frame = tokio::time::timeout_at(deadline, peer.ws.next())
            .await
            .ok()??;
        let packet = match frame {
            Ok(WsMessage::Binary(b)) => b,
            Ok(WsMessage::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        };
        if let Some(m) = peer.reassembler.push(packet).ok()? {
            let p = meshagent_room::wire::packing::unpack(m.data).ok()?;
            return Some((m.id, m.message_type, Value::Object(p.header)));
        }
    }
}

/// The id of the client's first `room.invoke_tool`.
pub async fn first_call(peer: &mut WsPeer) -> Option<u64> {
    loop {
        let (id, kind, _) = next_call(peer, Duration::from_secs(5)).await?;
        if kind == "room.invoke_tool" {
            return Some(id);
        }
    }
}

/// A raw websocket frame: `fin`, the three reserved bits, `opcode`, an optional mask.
pub fn frame(fin: bool, rsv: u8, opcode: u8, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![(u8::from(fin) << 7) | ((rsv & 7) << 4) | (opcode & 0x0f)];
    let m = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => f.push(m | n as u8),
        n if n <= 0xffff => {
            f.push(m | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(m | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(key) => {
            f.extend_from_slice(&key);
            f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => f.extend_from_slice(payload),
    }
    f
}

/// The raw frames (one binary frame per packet) of one protocol message.
pub fn message_frames(id: u64, packet_type: &str, data: &[u8]) -> Vec<u8> {
    encode_message(id, packet_type, data)
        .iter()
        .flat_map(|p| frame(true, 0, 2, None, p))
        .collect()
}

/// Flushes the websocket, then writes `bytes` straight onto its TCP stream.
pub async fn write_raw(peer: &mut WsPeer, bytes: &[u8]) -> bool {
    if peer.ws.flush().await.is_err() {
        return false;
    }
    let tcp = peer.ws.get_mut();
    tcp.write_all(bytes).await.is_ok() && tcp.flush().await.is_ok()
}

/// The `101 Switching Protocols` answer to `request`.
pub fn upgrade_response(request: &str) -> Option<String> {
    let key = request.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("sec-websocket-key")
            .then(|| value.trim().to_string())
    })?;
    Some(format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        derive_accept_key(key.as_bytes())
    ))
}

/// Accepts TCP and performs the websocket upgrade by hand: the stream is then ours to
/// write any bytes on.
pub async fn raw_upgrade(listener: &TcpListener) -> Option<TcpStream> {
    let (mut tcp, _) = tokio::time::timeout(Duration::from_secs(5), listener.accept())
        .await
        .ok()?
        .ok()?;
    let request = read_request(&mut tcp).await?;
    let response = upgrade_response(&request)?;
    tcp.write_all(response.as_bytes()).await.ok()?;
    Some(tcp)
}

/// A hand-upgraded stream as a websocket peer (to read the client's frames).
pub async fn peer_over(tcp: TcpStream) -> WsPeer {
    let ws = WebSocketStream::from_raw_socket(tcp, Role::Server, None).await;
    WsPeer {
        ws,
        reassembler: Default::default(),
        next_id: 1000,
        request_uri: String::new(),
        authorization: None,
        extensions: None,
    }
}

/// The room handshake as raw frames.
pub fn handshake_frames() -> Vec<u8> {
    let mut out = message_frames(1, "room_ready", &packed(&crate::support::room_ready(), &[]));
    out.extend(message_frames(
        2,
        "connected",
        &packed(&crate::support::connected(), &[]),
    ));
    out
}

/// Keeps reading (and discarding) until the client is gone or `limit` passes.
pub async fn drain(peer: &mut WsPeer, limit: Duration) {
    let _ = tokio::time::timeout(limit, async {
        while let Some(Ok(_)) = peer.ws.next().await {}
    })
    .await;
}

/// Sends the `__response__` to `id` and keeps answering calls.
pub async fn reply_then_serve(mut peer: WsPeer, id: u64, body: Value) {
    peer.reply(id, body).await;
    answer_calls(peer).await;
}

/// A text websocket frame.
pub async fn send_text(peer: &mut WsPeer, text: &str) -> bool {
    peer.ws.send(WsMessage::Text(text.into())).await.is_ok()
}

/// Bytes of a packed `__response__` whose JSON header is `json` verbatim.
pub fn raw_packed(json: &str) -> Vec<u8> {
    [&(json.len() as u64).to_be_bytes()[..], json.as_bytes()].concat()
}

/// Sends the packets of `id`'s `__response__` carrying `data`.
pub async fn send_reply_data(peer: &mut WsPeer, id: u64, data: &[u8]) {
    peer.send_raw_message(id, RESPONSE, data).await;
}

pub fn header_packet(id: u64, count: u32, packet_type: &str) -> Bytes {
    [
        &id.to_be_bytes()[..],
        &0u32.to_be_bytes(),
        &count.to_be_bytes(),
        packet_type.as_bytes(),
    ]
    .concat()
    .into()
}

pub fn data_packet(id: u64, index: u32, payload: &[u8]) -> Bytes {
    [&id.to_be_bytes()[..], &index.to_be_bytes(), payload]
        .concat()
        .into()
}
