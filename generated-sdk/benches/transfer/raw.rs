//! The raw baseline: tokio-tungstenite alone, moving the same bytes in 1036-byte messages.

use bytes::{Bytes, BytesMut};
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::server::ServerWs;
use crate::{bad, byte_at, file_bytes, pull_size, BoxError, CHUNK, PACKET_PAYLOAD, PACKET_PREFIX};

// The raw baseline

/// How a raw transfer paces itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pacing {
    /// As fast as the socket takes it: the throughput ceiling.
    Stream,
    /// One round trip per chunk, like the storage flow control but without the SDK: the
    /// receiver asks for each chunk with a 4-byte message and the sender waits for it.
    Pull,
}

pub(crate) const RAW_UPLOAD: u8 = 1;
pub(crate) const RAW_DOWNLOAD: u8 = 2;
pub(crate) const RAW_UPLOAD_PULLED: u8 = 3;
pub(crate) const RAW_DOWNLOAD_PULLED: u8 = 4;
pub(crate) const RAW_PULL: &[u8] = b"pull";
pub(crate) const RAW_DONE: &[u8] = b"done";

pub(crate) fn raw_request(op: u8, size: u64) -> WsMessage {
    let mut m = vec![op];
    m.extend_from_slice(&size.to_be_bytes());
    WsMessage::Binary(m.into())
}

/// `data` (file bytes from `offset`) as 1036-byte messages `[u64 id][u32 index][1024 bytes]`,
/// all slices of one buffer (as the SDK's framing does).
pub(crate) fn raw_packets(offset: u64, data: &[u8]) -> impl Iterator<Item = WsMessage> {
    let mut buf =
        BytesMut::with_capacity(data.len().div_ceil(PACKET_PAYLOAD) * PACKET_PREFIX + data.len());
    let first = offset / PACKET_PAYLOAD as u64 + 1;
    for (i, payload) in data.chunks(PACKET_PAYLOAD).enumerate() {
        buf.extend_from_slice(&7u64.to_be_bytes());
        buf.extend_from_slice(&((first + i as u64) as u32).to_be_bytes());
        buf.extend_from_slice(payload);
    }
    let buf = buf.freeze();
    let step = PACKET_PREFIX + PACKET_PAYLOAD;
    (0..buf.len())
        .step_by(step)
        .map(move |at| WsMessage::Binary(buf.slice(at..buf.len().min(at + step))))
}

/// Sends `len` file bytes from `offset` as raw packets, generated and flushed 64 KiB at a
/// time.
pub(crate) async fn raw_send<S>(ws: &mut S, offset: u64, len: u64) -> Result<(), BoxError>
where
    S: futures::Sink<WsMessage, Error = tokio_tungstenite::tungstenite::Error> + Unpin,
{
    let mut at = offset;
    while at < offset + len {
        let n = (offset + len - at).min(CHUNK as u64);
        let data = file_bytes(at, n as usize);
        for m in raw_packets(at, &data) {
            ws.feed(m).await?;
        }
        ws.flush().await?;
        at += n;
    }
    Ok(())
}

/// Receives raw packets until `len` payload bytes from `offset` are in.
pub(crate) async fn raw_receive<S>(ws: &mut S, offset: u64, len: u64) -> Result<(), BoxError>
where
    S: futures::Stream<Item = Result<WsMessage, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let mut at = offset;
    while at < offset + len {
        match ws.next().await {
            Some(Ok(WsMessage::Binary(b))) => {
                if b.get(PACKET_PREFIX) != Some(&byte_at(at)) {
                    return Err(bad(format!("wrong bytes at offset {at}")));
                }
                at += (b.len() - PACKET_PREFIX) as u64;
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.into()),
            None => return Err(bad("connection closed mid-transfer")),
        }
    }
    Ok(())
}

/// Waits for the small control message `what`.
pub(crate) async fn raw_expect<S>(ws: &mut S, what: &[u8]) -> Result<(), BoxError>
where
    S: futures::Stream<Item = Result<WsMessage, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    match ws.next().await {
        Some(Ok(WsMessage::Binary(b))) if b == what => Ok(()),
        Some(Ok(other)) => Err(bad(format!("expected {what:?}, got {other:?}"))),
        Some(Err(e)) => Err(e.into()),
        None => Err(bad("connection closed mid-transfer")),
    }
}

pub(crate) async fn raw_say<S>(ws: &mut S, what: &'static [u8]) -> Result<(), BoxError>
where
    S: futures::Sink<WsMessage, Error = tokio_tungstenite::tungstenite::Error> + Unpin,
{
    Ok(ws.send(WsMessage::Binary(Bytes::from_static(what))).await?)
}

/// The `(offset, len)` of each pulled piece of a file of `size` bytes.
pub(crate) fn pulls(size: u64) -> impl Iterator<Item = (u64, u64)> {
    let pull = pull_size() as u64;
    (0..size.div_ceil(pull)).map(move |i| (i * pull, pull.min(size - i * pull)))
}

pub(crate) async fn serve_raw(mut ws: ServerWs) -> Result<(), BoxError> {
    while let Some(frame) = ws.next().await {
        let request = match frame? {
            WsMessage::Binary(b) if b.len() == 9 => b,
            WsMessage::Close(_) => break,
            _ => continue,
        };
        let size = u64::from_be_bytes(request[1..9].try_into()?);
        match request[0] {
            RAW_UPLOAD => {
                raw_receive(&mut ws, 0, size).await?;
                raw_say(&mut ws, RAW_DONE).await?;
            }
            RAW_UPLOAD_PULLED => {
                for (offset, len) in pulls(size) {
                    raw_say(&mut ws, RAW_PULL).await?;
                    raw_receive(&mut ws, offset, len).await?;
                }
                raw_say(&mut ws, RAW_DONE).await?;
            }
            RAW_DOWNLOAD => raw_send(&mut ws, 0, size).await?,
            RAW_DOWNLOAD_PULLED => {
                // The request itself is the first pull.
                for (offset, len) in pulls(size) {
                    if offset > 0 {
                        raw_expect(&mut ws, RAW_PULL).await?;
                    }
                    raw_send(&mut ws, offset, len).await?;
                }
            }
            op => return Err(bad(format!("unknown raw op {op}"))),
        }
    }
    Ok(())
}
