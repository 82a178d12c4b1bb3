//! Chunk helpers shared by the engines: `kind` headers, errors for unexpected chunks, and
//! writing a download out.

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::core::content::Content;
use crate::core::error::{Error, Result};

/// A `binary` chunk with only a `kind` header.
pub(super) fn kind_chunk(kind: &str, data: Bytes) -> Content {
    let mut headers = Map::new();
    headers.insert("kind".into(), kind.into());
    Content::Binary { headers, data }
}

pub(super) fn headers_with_kind(kind: &str, headers: Value) -> Value {
    let mut m = match headers {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    // `kind` first, as the SDKs write it.
    let mut out = Map::new();
    out.insert("kind".into(), kind.into());
    out.append(&mut m);
    Value::Object(out)
}

pub(super) fn binary_kind(chunk: &Content) -> Option<(&str, &Map<String, Value>, &Bytes)> {
    match chunk {
        Content::Binary { headers, data } => headers
            .get("kind")
            .and_then(Value::as_str)
            .map(|k| (k, headers, data)),
        _ => None,
    }
}

pub(super) fn chunk_error(tool: &str, chunk: Content) -> Error {
    match chunk {
        Content::Error { text, code } => Error::server(code, text).in_call(tool),
        other => Error::unexpected(tool, format!("unexpected stream chunk: {}", other.header())),
    }
}

pub(super) fn json_kind(chunk: &Content) -> Option<&str> {
    match chunk {
        Content::Json(v) => v.get("kind").and_then(Value::as_str),
        _ => None,
    }
}

pub(super) fn json_chunk(kind: &str, body: Value) -> Content {
    Content::Json(headers_with_kind(kind, body))
}

/// Writes every piece of a download to `writer`, then flushes: the bytes written. Memory
/// stays bounded by one piece. I/O errors are `Error::Io` with `context`.
pub(super) async fn write_pieces(
    pieces: impl futures::Stream<Item = Result<Bytes>>,
    writer: &mut (impl tokio::io::AsyncWrite + Unpin),
    context: &'static str,
) -> Result<u64> {
    use futures::StreamExt;
    use tokio::io::AsyncWriteExt;
    let io = |source| Error::Io { context, source };
    let mut pieces = std::pin::pin!(pieces);
    let mut written = 0u64;
    while let Some(piece) = pieces.next().await {
        let piece = piece?;
        writer.write_all(&piece).await.map_err(io)?;
        written += piece.len() as u64;
    }
    writer.flush().await.map_err(io)?;
    Ok(written)
}

/// The forms of ids drawn for `fresh` start headers (`spec`: `fresh: uuid_hex`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreshId {
    /// A random UUID (v4) as 32 lowercase hex digits, as Python draws.
    UuidHex,
}

/// Fills `key` of a start chunk's headers with a fresh id when the caller left it unset.
pub fn fill_fresh_id(start: &mut Value, key: &str, form: FreshId) {
    if let Value::Object(h) = start {
        let unset = h.get(key).is_none_or(Value::is_null);
        if unset {
            let id = match form {
                FreshId::UuidHex => crate::core::client::new_tool_call_id(),
            };
            h.insert(key.to_string(), Value::String(id));
        }
    }
}
