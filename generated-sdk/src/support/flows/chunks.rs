//! Chunk helpers shared by the engines: `kind` headers, and errors for unexpected chunks.

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::core::content::Content;
use crate::core::error::Error;

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
        Content::Error { text, code } => Error::Server { code, text },
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
