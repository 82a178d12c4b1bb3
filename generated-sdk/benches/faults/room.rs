//! The scripted rooms' building blocks: a loopback listener, the websocket upgrade
//! (tokio-tungstenite's), the room handshake, and messages written as raw websocket frames
//! straight onto the TCP stream, so that a scripted room can flood, go silent (read
//! nothing, hence answer no ping), or drop its socket with a FIN or a reset.

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use meshagent_room::wire::framing::{encode_message, Reassembler, DATA_PACKET_PAYLOAD};
use meshagent_room::wire::packing::{pack, unpack};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::WebSocketStream;
use url::Url;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub const RESPONSE: &str = "__response__";

/// A loopback listener and the room URL that reaches it.
pub async fn listen() -> Result<(TcpListener, Url), BoxError> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = room_url(listener.local_addr()?)?;
    Ok((listener, url))
}

pub fn room_url(addr: std::net::SocketAddr) -> Result<Url, BoxError> {
    Ok(Url::parse(&format!("ws://{addr}/rooms/bench"))?)
}

/// A packed message: JSON header, then `tail`.
pub fn packed(header: &Value, tail: &[u8]) -> Vec<u8> {
    pack(header, tail).expect("the bench's headers are JSON objects")
}

/// One websocket frame from the server (unmasked): `opcode` 2 is binary, 8 close.
pub fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x80 | opcode];
    match payload.len() {
        n if n < 126 => f.push(n as u8),
        n if n <= 0xffff => {
            f.push(126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    f.extend_from_slice(payload);
    f
}

/// The raw frames (one binary frame per packet) of one protocol message.
pub fn message_frames(id: u64, kind: &str, data: &[u8]) -> Vec<u8> {
    encode_message(id, kind, data)
        .iter()
        .flat_map(|p| frame(2, p))
        .collect()
}

/// The room handshake of session `session`: `room_ready`, then `connected`.
pub fn handshake_frames(session: &str) -> Vec<u8> {
    let ready = json!({"room_name": "bench", "room_url": "ws://127.0.0.1/rooms/bench",
        "session_id": session});
    let connected = json!({"type": "init", "participantId": format!("p-{session}"),
        "attributes": {}});
    let mut out = message_frames(1, "room_ready", &packed(&ready, &[]));
    out.extend(message_frames(2, "connected", &packed(&connected, &[])));
    out
}

/// Accepts one client: the websocket upgrade, then the room handshake. The TCP stream is
/// returned bare: nothing reads it (no pong either) until the script says so.
pub async fn accept(listener: &TcpListener, session: &str) -> Result<TcpStream, BoxError> {
    let (tcp, _) = listener.accept().await?;
    tcp.set_nodelay(true)?;
    let ws = tokio::time::timeout(Duration::from_secs(5), tokio_tungstenite::accept_async(tcp))
        .await??;
    // The client sends nothing before the handshake, so tungstenite buffered nothing.
    let mut tcp = ws.into_inner();
    tcp.write_all(&handshake_frames(session)).await?;
    Ok(tcp)
}

/// Reads client messages on a websocket view of `tcp`.
pub struct Reader<S> {
    ws: WebSocketStream<S>,
    reassembler: Reassembler,
}

impl<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin> Reader<S> {
    pub async fn over(io: S) -> Reader<S> {
        Reader {
            ws: WebSocketStream::from_raw_socket(io, Role::Server, None).await,
            reassembler: Reassembler::default(),
        }
    }

    /// The client's next message (id, type, header, tail); `None` once it is gone.
    pub async fn next(&mut self) -> Option<(u64, String, Value, Bytes)> {
        loop {
            let packet = match self.ws.next().await? {
                Ok(WsMessage::Binary(b)) => b,
                Ok(WsMessage::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            };
            if let Some(m) = self.reassembler.push(packet).ok()? {
                let p = unpack(m.data).ok()?;
                return Some((m.id, m.message_type, Value::Object(p.header), p.tail));
            }
        }
    }
}

/// The read side of a split room socket, as a websocket (its own writes, pongs and the
/// like, are dropped: the write half belongs to the script).
pub type ReadSide = Reader<tokio::io::Join<OwnedReadHalf, tokio::io::Sink>>;

/// Splits an accepted socket into its websocket reader and its raw write half.
pub async fn split(tcp: TcpStream) -> (ReadSide, OwnedWriteHalf) {
    let (rd, wr) = tcp.into_split();
    (
        Reader::over(tokio::io::join(rd, tokio::io::sink())).await,
        wr,
    )
}

/// Answers every `room.invoke_tool` with `{"exists": true}` until the client leaves.
pub async fn answer_calls(reader: &mut ReadSide, wr: &mut OwnedWriteHalf) {
    let reply = packed(&json!({"type": "json", "json": {"exists": true}}), &[]);
    while let Some((id, kind, ..)) = reader.next().await {
        if kind == "room.invoke_tool"
            && wr
                .write_all(&message_frames(id, RESPONSE, &reply))
                .await
                .is_err()
        {
            return;
        }
    }
}

/// `count` copies of one message's frames, written about 1 MiB at a time.
pub async fn flood<W: tokio::io::AsyncWrite + Unpin>(
    wr: &mut W,
    one: &[u8],
    count: usize,
) -> std::io::Result<()> {
    let per_batch = (1 << 20) / one.len().max(1) + 1;
    let batch = one.repeat(per_batch);
    let mut sent = 0;
    while sent < count {
        let n = per_batch.min(count - sent);
        wr.write_all(&batch[..n * one.len()]).await?;
        sent += n;
    }
    Ok(())
}

/// A large message body made on the fly: `head`, then `fill` repeated `fill_len` times,
/// then `tail` (a 50 MB reply without the server holding 50 MB).
pub struct Body {
    pub head: Vec<u8>,
    pub fill: u8,
    pub fill_len: usize,
    pub tail: Vec<u8>,
}

impl Body {
    fn len(&self) -> usize {
        self.head.len() + self.fill_len + self.tail.len()
    }

    /// Appends bytes `start..end` of the body to `out`.
    fn copy(&self, start: usize, end: usize, out: &mut Vec<u8>) {
        let (h, f) = (self.head.len(), self.head.len() + self.fill_len);
        for (from, to, part) in [(0, h, 0), (h, f, 1), (f, self.len(), 2)] {
            let (s, e) = (start.max(from), end.min(to));
            if s >= e {
                continue;
            }
            match part {
                0 => out.extend_from_slice(&self.head[s..e]),
                1 => out.resize(out.len() + (e - s), self.fill),
                _ => out.extend_from_slice(&self.tail[s - f..e - f]),
            }
        }
    }
}

/// Writes message `id` of type `kind` carrying `body`, packet by packet, about 1 MiB of
/// frames at a time.
pub async fn write_large<W: tokio::io::AsyncWrite + Unpin>(
    wr: &mut W,
    id: u64,
    kind: &str,
    body: &Body,
) -> std::io::Result<()> {
    let total = body.len();
    let count = total.div_ceil(DATA_PACKET_PAYLOAD);
    let header: Vec<u8> = [
        &id.to_be_bytes()[..],
        &0u32.to_be_bytes(),
        &(count as u32).to_be_bytes(),
        kind.as_bytes(),
    ]
    .concat();
    let mut raw = frame(2, &header);
    let mut packet = Vec::with_capacity(12 + DATA_PACKET_PAYLOAD);
    for index in 1..=count {
        let start = (index - 1) * DATA_PACKET_PAYLOAD;
        let end = (start + DATA_PACKET_PAYLOAD).min(total);
        packet.clear();
        packet.extend_from_slice(&id.to_be_bytes());
        packet.extend_from_slice(&(index as u32).to_be_bytes());
        body.copy(start, end, &mut packet);
        raw.extend(frame(2, &packet));
        if raw.len() > 1 << 20 || index == count {
            wr.write_all(&raw).await?;
            raw.clear();
        }
    }
    Ok(())
}
