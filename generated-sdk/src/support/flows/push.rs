//! The `server_push` engine and the typed items pushed chunks become.

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use serde_json::{Map, Value};

use super::chunks::*;
use super::shape::*;
use crate::core::content::Content;
use crate::core::error::{Error, Result};
use crate::RoomClient;

/// `server_push`: the client sends the `start` chunk if the tool has one, then the
/// server sends chunks without pulls until it closes; each item is one chunk (`error`
/// chunks become errors).
pub async fn server_push(
    room: &RoomClient,
    shape: &FlowShape,
    toolkit: &str,
    tool: &str,
    start: Option<Value>,
) -> Result<impl Stream<Item = Result<Content>> + Send> {
    shape.check(&format!("{toolkit}.{tool}"), ChunkEncoding::Binary)?;
    let mut stream = shape.open(room, toolkit, tool).await?;
    if let Some(start) = start {
        let start = headers_with_kind("start", start);
        stream.send_binary(start, Bytes::new()).await?;
    }
    // The tool's name rides along for errors only.
    let id: std::sync::Arc<str> = format!("{toolkit}.{tool}").into();
    Ok(futures::stream::unfold(Some(stream), move |s| {
        let id = id.clone();
        async move {
            let mut s = s?;
            match s.recv().await {
                Ok(Some(Content::Error { text, code })) => {
                    let err = Error::server(code, text).in_call(&id);
                    Some((Err(err), Some(s)))
                }
                Ok(Some(chunk)) => Some((Ok(chunk), Some(s))),
                Ok(None) => {
                    let _ = s.close().await;
                    None
                }
                Err(e) => Some((Err(e), None)),
            }
        }
    }))
}

/// One entry of a log stream: its type and its data.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LogEntry {
    /// The entry's type, e.g. `info`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The entry's data, a JSON object (`{}` when the chunk carried none).
    pub data: Value,
}

/// Pushed chunks as text: the UTF-8 payload of each binary chunk on one of `channels` (the
/// spec's `text_channels`; other channels, e.g. an exit status, are skipped), in arrival
/// order. Invalid UTF-8 is replaced, as a chunk boundary may split a character.
pub fn text_items(
    s: impl Stream<Item = Result<Content>> + Send + 'static,
    channels: &'static [i64],
) -> BoxStream<'static, Result<String>> {
    s.filter_map(move |item| {
        futures::future::ready(match item {
            Ok(Content::Binary { headers, data }) => headers
                .get("channel")
                .and_then(Value::as_i64)
                .is_some_and(|c| channels.contains(&c))
                .then(|| Ok(String::from_utf8_lossy(&data).into_owned())),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        })
    })
    .boxed()
}

/// Pushed chunks as log entries: a binary chunk's `type` header and its payload, UTF-8
/// JSON of an object (empty means `{}`); anything else is an unexpected-response error.
pub fn log_entries(
    s: impl Stream<Item = Result<Content>> + Send + 'static,
    tool: &'static str,
) -> BoxStream<'static, Result<LogEntry>> {
    s.map(move |item| match item? {
        Content::Binary { headers, data } => {
            let kind = headers.get("type").and_then(Value::as_str);
            let data = if data.is_empty() {
                Ok(Value::Object(Map::new()))
            } else {
                serde_json::from_slice::<Value>(&data).map_err(|e| e.to_string())
            };
            match (kind, data) {
                (Some(kind), Ok(data @ Value::Object(_))) => Ok(LogEntry {
                    kind: kind.to_string(),
                    data,
                }),
                (None, _) => Err(Error::unexpected(tool, "log chunk without `type`")),
                (_, Ok(other)) => Err(Error::unexpected(
                    tool,
                    format!("log data is not an object: {other}"),
                )),
                (_, Err(e)) => Err(Error::unexpected(tool, format!("log data: {e}"))),
            }
        }
        other => Err(chunk_error(tool, other)),
    })
    .boxed()
}
