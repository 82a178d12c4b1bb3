//! The in-process server: the scripted room (storage upload and download with flow
//! control) and the raw baseline's peer.

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use meshagent_room::wire::framing::{encode_message_parts, Limits, Message, Reassembler};
use meshagent_room::wire::packing::{pack_header, unpack};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::WebSocketStream;

use crate::raw::serve_raw;
use crate::{bad, byte_at, file_bytes, pull_size, BoxError};

// The in-process server

pub(crate) type ServerWs = WebSocketStream<TcpStream>;

/// Accepts connections forever; `/rooms/...` gets the scripted room, `/raw` the baseline.
pub(crate) async fn serve(listener: TcpListener) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            let _ = tcp.set_nodelay(true);
            let mut path = String::new();
            // The signature is tungstenite's `Callback`.
            #[allow(clippy::result_large_err)]
            let callback = |req: &Request, resp: Response| {
                path = req.uri().path().to_string();
                Ok(resp)
            };
            let ws = match tokio_tungstenite::accept_hdr_async(tcp, callback).await {
                Ok(ws) => ws,
                Err(e) => return eprintln!("server: handshake failed: {e}"),
            };
            let result = if path.starts_with("/rooms/") {
                serve_room(Peer::new(ws)).await
            } else {
                serve_raw(ws).await
            };
            if let Err(e) = result {
                eprintln!("server: {e}");
            }
        });
    }
}

/// A scripted room server speaking the SDK's framing and packing (as `tests/streams.rs`).
/// Like a real server it batches its writes: a chunk's acknowledgement is queued and goes
/// out in one flush with the pull or data that follows it (or before the next read).
pub(crate) struct Peer {
    ws: ServerWs,
    reassembler: Reassembler,
    next_id: u64,
    unflushed: bool,
}

/// A message from the client: id, type, header, tail.
pub(crate) type Sent = (u64, String, Value, Bytes);

impl Peer {
    fn new(ws: ServerWs) -> Peer {
        Peer {
            ws,
            reassembler: Reassembler::new(Limits::default()),
            next_id: 1 << 32,
            unflushed: false,
        }
    }

    async fn send(
        &mut self,
        id: u64,
        packet_type: &str,
        header: &Value,
        tail: &[u8],
    ) -> Result<(), BoxError> {
        self.queue(id, packet_type, header, tail).await?;
        self.unflushed = false;
        Ok(self.ws.flush().await?)
    }

    /// Writes a message without flushing it; the next `send` or `recv` flushes.
    async fn queue(
        &mut self,
        id: u64,
        packet_type: &str,
        header: &Value,
        tail: &[u8],
    ) -> Result<(), BoxError> {
        let head = pack_header(header)?;
        for p in encode_message_parts(id, packet_type, &[&head, tail]) {
            self.ws.feed(WsMessage::Binary(p)).await?;
        }
        self.unflushed = true;
        Ok(())
    }

    async fn push(
        &mut self,
        packet_type: &str,
        header: &Value,
        tail: &[u8],
    ) -> Result<(), BoxError> {
        self.next_id += 1;
        self.send(self.next_id, packet_type, header, tail).await
    }

    /// The next whole message, or `None` once the client has gone.
    async fn recv(&mut self) -> Result<Option<Sent>, BoxError> {
        if self.unflushed {
            self.unflushed = false;
            self.ws.flush().await?;
        }
        while let Some(frame) = self.ws.next().await {
            let packet = match frame {
                Ok(WsMessage::Binary(b)) => b,
                Ok(WsMessage::Close(_)) | Err(_) => break,
                Ok(_) => continue,
            };
            if let Some(Message {
                id,
                message_type,
                data,
            }) = self.reassembler.push(packet)?
            {
                let p = unpack(data)?;
                return Ok(Some((id, message_type, Value::Object(p.header), p.tail)));
            }
        }
        Ok(None)
    }

    /// Expects a request chunk, acknowledges it, returns its chunk header and tail.
    async fn chunk(&mut self) -> Result<(Value, Bytes), BoxError> {
        let (id, kind, mut header, tail) = self
            .recv()
            .await?
            .ok_or_else(|| bad("client left mid-stream"))?;
        if kind != "room.tool_call_request_chunk" {
            return Err(bad(format!("expected a request chunk, got {kind}")));
        }
        self.queue(id, "__response__", &json!({"type": "empty"}), &[])
            .await?;
        Ok((header["chunk"].take(), tail))
    }

    async fn respond(&mut self, call: &str, chunk: Value, tail: &[u8]) -> Result<(), BoxError> {
        let header = json!({"tool_call_id": call, "chunk": chunk});
        self.push("room.tool_call_response_chunk", &header, tail)
            .await
    }
}

pub(crate) fn close_chunk() -> Value {
    json!({"type": "control", "method": "close", "status_code": 1000})
}

pub(crate) fn is_close(chunk: &Value) -> bool {
    chunk["type"] == "control" && chunk["method"] == "close"
}

pub(crate) async fn serve_room(mut peer: Peer) -> Result<(), BoxError> {
    let ready = json!({"room_name": "bench", "room_url": "ws://127.0.0.1", "session_id": "s"});
    peer.push("room_ready", &ready, &[]).await?;
    let connected = json!({"type": "init", "participantId": "p", "attributes": {}});
    peer.push("connected", &connected, &[]).await?;
    while let Some((id, kind, header, _)) = peer.recv().await? {
        if kind != "room.invoke_tool" {
            return Err(bad(format!("expected room.invoke_tool, got {kind}")));
        }
        let call = header["tool_call_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let open = json!({"type": "control", "method": "open"});
        peer.send(id, "__response__", &open, &[]).await?;
        let (start, _) = peer.chunk().await?;
        match (header["toolkit"].as_str(), header["tool"].as_str()) {
            (Some("storage"), Some("upload")) => serve_upload(&mut peer, &call, &start).await?,
            (Some("storage"), Some("download")) => serve_download(&mut peer, &call, &start).await?,
            other => return Err(bad(format!("unexpected tool {other:?}"))),
        }
    }
    Ok(())
}

/// Pulls [`pull_size`] bytes at a time until the announced size is in (or, without a size, until the
/// client closes its side), then closes.
pub(crate) async fn serve_upload(
    peer: &mut Peer,
    call: &str,
    start: &Value,
) -> Result<(), BoxError> {
    let size = start["headers"]["size"].as_u64();
    let pull = json!({"type": "binary", "headers": {"kind": "pull", "chunk_size": pull_size()}});
    let mut received = 0u64;
    let mut client_closed = false;
    while size.is_none_or(|s| received < s) {
        peer.respond(call, pull.clone(), &[]).await?;
        let (chunk, tail) = peer.chunk().await?;
        if is_close(&chunk) {
            client_closed = true;
            break;
        }
        if chunk["headers"]["kind"] != "data" {
            return Err(bad(format!("expected data, got {chunk}")));
        }
        let end = received + tail.len() as u64;
        if tail.first() != Some(&byte_at(received)) || tail.last() != Some(&byte_at(end - 1)) {
            return Err(bad(format!("wrong bytes at offset {received}")));
        }
        received += tail.len() as u64;
    }
    if size.is_some_and(|s| s != received) {
        return Err(bad(format!("got {received} of {size:?} bytes")));
    }
    peer.respond(call, close_chunk(), &[]).await?;
    if !client_closed {
        let (chunk, _) = peer.chunk().await?;
        if !is_close(&chunk) {
            return Err(bad(format!("expected the client's close, got {chunk}")));
        }
    }
    Ok(())
}

/// Announces the file, answers each pull with the next chunk, closes after the last byte.
pub(crate) async fn serve_download(
    peer: &mut Peer,
    call: &str,
    start: &Value,
) -> Result<(), BoxError> {
    let headers = &start["headers"];
    let path = headers["path"].as_str().unwrap_or_default();
    let size: u64 = path
        .strip_prefix("bench/")
        .and_then(|s| s.strip_suffix(".bin"))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(format!("no such file {path}")))?;
    let chunk_size = headers["chunk_size"]
        .as_u64()
        .filter(|n| *n > 0)
        .ok_or_else(|| bad(format!("no chunk_size in {start}")))?;
    let announce = json!({"type": "binary", "headers": {"kind": "start", "name": path,
        "mime_type": "application/octet-stream", "size": size}});
    peer.respond(call, announce, &[]).await?;
    let data = json!({"type": "binary", "headers": {"kind": "data"}});
    let mut sent = 0;
    while sent < size {
        let (pull, _) = peer.chunk().await?;
        if pull["headers"]["kind"] != "pull" {
            return Err(bad(format!("expected a pull, got {pull}")));
        }
        let n = chunk_size.min(size - sent);
        peer.respond(call, data.clone(), &file_bytes(sent, n as usize))
            .await?;
        sent += n;
    }
    peer.respond(call, close_chunk(), &[]).await?;
    let (chunk, _) = peer.chunk().await?;
    if !is_close(&chunk) {
        return Err(bad(format!("expected the client's close, got {chunk}")));
    }
    Ok(())
}
