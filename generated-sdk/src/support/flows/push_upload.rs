//! The `push_upload` engine: bytes pushed without pulls, then one final reply (0.56
//! `containers.build`).

use std::pin::pin;

use bytes::Bytes;
use futures::StreamExt;
use serde_json::Value;

use super::chunks::*;
use super::shape::*;
use super::source::*;
use crate::core::content::Content;
use crate::core::error::{Error, Result};
use crate::core::stream::{RequestHalf, ResponseHalf};
use crate::RoomClient;

/// Largest payload of one `data` chunk; bigger pieces of the source are cut to it.
pub const PUSH_CHUNK_SIZE: usize = DEFAULT_CHUNK_SIZE;

/// `push_upload`: sends the start chunk, then one `data` chunk per piece of the source (cut
/// to at most [`PUSH_CHUNK_SIZE`]) without waiting for the server, then closes the request
/// side, and returns the final json reply: the reply to the invoke itself, or the first
/// json chunk after `control/open` (as Python 0.56 reads it).
///
/// When the server answers the invoke with its result at once, the rest of the source is
/// still sent (as Python does); an `error` reply or chunk stops the upload and fails. The
/// source is read one piece at a time, each piece queued on the connection before the
/// next is read, so memory stays bounded; the source's progress callback hears the bytes
/// sent after each chunk. `size`, when the caller left it null, is the source's length
/// when known.
pub async fn push_upload(
    room: &RoomClient,
    shape: &FlowShape,
    toolkit: &str,
    tool: &str,
    start: Value,
    source: ByteSource,
) -> Result<Value> {
    let id = format!("{toolkit}.{tool}");
    shape.check(&id, ChunkEncoding::Binary)?;
    let mut start = headers_with_kind("start", start);
    if let Value::Object(h) = &mut start {
        if h.get("size").is_some_and(Value::is_null) {
            h.insert("size".into(), source.len.map_or(Value::Null, Value::from));
        }
    }
    let headers = match start {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    let (request, mut response) = shape.open(room, toolkit, tool).await?.split();
    let mut send = pin!(send_all(request, headers, source));
    let mut sent = false;
    let mut opened = false;
    let mut result: Option<Value> = None;
    loop {
        tokio::select! {
            done = &mut send, if !sent => {
                done?;
                sent = true;
                if let Some(v) = result.take() {
                    return Ok(v);
                }
            }
            next = next_reply(&mut response, &mut opened, &id), if result.is_none() => match next {
                Ok(Some(v)) if sent => return Ok(v),
                Ok(Some(v)) => result = Some(v),
                Ok(None) => {}
                // A long upload outlasts the reply timeouts: only fatal once all is sent.
                Err(Error::Timeout(..)) if !sent => {}
                Err(e) => return Err(e),
            },
        }
    }
}

/// The start chunk, every piece of the source as `data` chunks, then the close.
async fn send_all(
    mut request: RequestHalf,
    start: serde_json::Map<String, Value>,
    source: ByteSource,
) -> Result<()> {
    request
        .send(Content::Binary {
            headers: start,
            data: Bytes::new(),
        })
        .await?;
    let (mut pieces, progress) = (source.stream, source.progress);
    let mut sent = 0u64;
    while let Some(piece) = pieces.next().await {
        let mut piece = piece.map_err(|source| Error::Io {
            context: "reading the upload source",
            source,
        })?;
        // One chunk per piece (an empty piece too, as Python sends it), cut to size.
        loop {
            let part = piece.split_to(piece.len().min(PUSH_CHUNK_SIZE));
            let n = part.len() as u64;
            request.send(kind_chunk("data", part)).await?;
            sent += n;
            ByteSource::report(&progress, sent);
            if piece.is_empty() {
                break;
            }
        }
    }
    request.close().await
}

/// The next step of the response side: `Some(json)` once the final reply is there,
/// `None` when the call opened as a stream (the reply follows as a chunk).
async fn next_reply(
    response: &mut ResponseHalf,
    opened: &mut bool,
    id: &str,
) -> Result<Option<Value>> {
    if !*opened {
        let reply = response.open_or_reply().await?;
        *opened = true;
        return match reply {
            None => Ok(None),
            Some(Content::Json(v)) => Ok(Some(v)),
            Some(other) => Err(reply_error(id, other)),
        };
    }
    match response.recv().await? {
        Some(Content::Json(v)) => Ok(Some(v)),
        Some(other) => Err(reply_error(id, other)),
        None => Err(Error::unexpected(
            id,
            "the stream closed before the final reply".to_string(),
        )),
    }
}

fn reply_error(id: &str, chunk: Content) -> Error {
    match chunk {
        Content::Error { .. } => chunk_error(id, chunk),
        other => Error::unexpected(id, format!("unexpected reply: {}", other.type_name())),
    }
}
