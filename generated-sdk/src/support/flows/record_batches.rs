//! The `write_record_batches`, `read_record_batches` and `watch_record_batches` engines:
//! 0.56 binary record batches (Arrow IPC streams) paced by pulls.
//!
//! Every data chunk is a binary chunk `{kind: data, content_type:
//! "application/vnd.apache.arrow.stream"}` whose payload is one whole Arrow IPC stream
//! (schema message, record batch messages, end-of-stream marker), as the SDKs'
//! `_table_to_arrow_ipc` writes it. The engines never look inside the payload: without the
//! `arrow` feature callers hand over and receive the IPC bytes; with it,
//! [`RecordBatches::from_record_batches`] and [`RecordBatchChunk::record_batches`] convert
//! (see `support::arrow`).

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use serde_json::{Map, Value};

use super::chunks::*;
use super::shape::*;
use crate::core::content::Content;
use crate::core::error::{Error, Result};
use crate::RoomClient;

/// The MIME type of an Arrow IPC stream, the `content_type` of every data chunk.
pub const ARROW_STREAM_CONTENT_TYPE: &str = "application/vnd.apache.arrow.stream";

/// Record batches to write: an optional schema (sent as the `start` chunk's payload, an
/// IPC stream holding only the schema message) and the batches, each one whole Arrow IPC
/// stream sent as one `data` chunk per server pull. Batches are produced only as the server
/// pulls them, so memory stays bounded by one batch.
///
/// Whether a tool wants the schema in its `start` chunk is the tool's rule: the SDKs send
/// it to create a table, and an empty `start` payload to insert into an existing one.
pub struct RecordBatches {
    schema: Option<Bytes>,
    batches: BoxStream<'static, Result<Bytes>>,
}

impl std::fmt::Debug for RecordBatches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordBatches")
            .field("schema_bytes", &self.schema.as_ref().map(Bytes::len))
            .finish_non_exhaustive()
    }
}

impl RecordBatches {
    /// Batches already encoded as Arrow IPC streams, one per `data` chunk; no schema in
    /// the `start` chunk.
    pub fn from_ipc(batches: impl Stream<Item = Result<Bytes>> + Send + 'static) -> RecordBatches {
        RecordBatches {
            schema: None,
            batches: batches.boxed(),
        }
    }

    /// Batches from an iterator of IPC streams (e.g. a `Vec<Bytes>`).
    pub fn from_ipc_iter<I>(batches: I) -> RecordBatches
    where
        I: IntoIterator<Item = Bytes>,
        I::IntoIter: Send + 'static,
    {
        RecordBatches::from_ipc(futures::stream::iter(batches.into_iter().map(Ok)))
    }

    /// No batches at all (e.g. to create an empty table from its schema).
    pub fn empty() -> RecordBatches {
        RecordBatches::from_ipc(futures::stream::empty())
    }

    /// Sends `schema` (an Arrow IPC stream holding the schema message) as the `start`
    /// chunk's payload.
    pub fn with_schema_ipc(mut self, schema: Bytes) -> RecordBatches {
        self.schema = Some(schema);
        self
    }

    /// The schema bytes sent in the `start` chunk, if any.
    pub fn schema_ipc(&self) -> Option<&Bytes> {
        self.schema.as_ref()
    }
}

impl From<Vec<Bytes>> for RecordBatches {
    fn from(batches: Vec<Bytes>) -> RecordBatches {
        RecordBatches::from_ipc_iter(batches)
    }
}

/// One chunk read from a record-batch stream: its headers (`kind` and the rest, e.g.
/// `content_type`, or a watch's `phase`, `version`, `change_type`, ...) and its payload,
/// an Arrow IPC stream for `data` chunks, empty for `watch_table`'s json `ready` events
/// (whose JSON object becomes the headers).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordBatchChunk {
    /// The chunk's headers, `kind` included.
    pub headers: Map<String, Value>,
    /// The Arrow IPC stream (empty for events without data).
    pub ipc: Bytes,
}

impl RecordBatchChunk {
    /// The chunk's `kind`: `data`, or an event's kind (`ready`).
    pub fn kind(&self) -> &str {
        self.headers
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// Whether the chunk carries record batches.
    pub fn is_data(&self) -> bool {
        self.kind() == "data"
    }

    /// A header as a string, e.g. `phase` or `change_type`.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(Value::as_str)
    }

    /// A header as an integer, whether the server sent a number or a numeric string (the
    /// SDKs accept both for `version`, `begin_version`, `end_version`).
    pub fn header_i64(&self, name: &str) -> Option<i64> {
        match self.headers.get(name)? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }
}

/// `write_record_batches`: sends the `start` chunk (binary; the method's arguments as
/// headers, the schema as payload when given), then one `data` chunk per server pull
/// (json or binary, as the shape says); when the batches run out, closes the request side
/// and waits for the server's close. An `error` chunk fails the call.
pub async fn write_record_batches(
    room: &RoomClient,
    shape: &FlowShape,
    toolkit: &str,
    tool: &str,
    start: Value,
    batches: RecordBatches,
) -> Result<()> {
    shape.check(&format!("{toolkit}.{tool}"), ChunkEncoding::Binary)?;
    let RecordBatches { schema, batches } = batches;
    let headers = match headers_with_kind("start", start) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let start = Content::Binary {
        headers,
        data: schema.unwrap_or_default(),
    };
    let chunks = batches.map(|b| b.map(data_chunk)).boxed();
    write_pulled(room, shape, toolkit, tool, start, chunks).await
}

/// The pull loop of [`write_record_batches`] for any chunks: sends `start`, then one of
/// `chunks` per server pull; when they run out, closes the request side and waits for the
/// server's close. An `error` chunk fails the call. Python's `create_table_from_json_data`
/// uses the same loop with json chunks (a json `start`, then `{kind: rows, rows}` chunks).
pub(crate) async fn write_pulled(
    room: &RoomClient,
    shape: &FlowShape,
    toolkit: &str,
    tool: &str,
    start: Content,
    mut chunks: BoxStream<'static, Result<Content>>,
) -> Result<()> {
    let id = format!("{toolkit}.{tool}");
    let mut stream = shape.open(room, toolkit, tool).await?;
    stream.send(start).await?;
    let mut done = false;
    while let Some(chunk) = stream.recv().await? {
        if shape.pull_of(&chunk).is_none() {
            return Err(chunk_error(&id, chunk));
        }
        if done {
            // A pull after our close: nothing more to send.
            continue;
        }
        match chunks.next().await {
            Some(chunk) => stream.send(chunk?).await?,
            None => {
                done = true;
                stream.close().await?;
            }
        }
    }
    stream.close().await
}

/// A `data` chunk carrying one Arrow IPC stream.
pub(crate) fn data_chunk(ipc: Bytes) -> Content {
    let mut headers = Map::new();
    headers.insert("kind".into(), "data".into());
    headers.insert("content_type".into(), ARROW_STREAM_CONTENT_TYPE.into());
    Content::Binary { headers, data: ipc }
}

/// `read_record_batches`: sends the `start` chunk (binary; the method's arguments as
/// headers) and, once the call is open, a first pull; then one pull each time the caller
/// asks for the next item after a `data` chunk. Yields each data chunk until the server closes; an `error` chunk fails the
/// stream. Dropping the stream closes the call.
pub async fn read_record_batches(
    room: &RoomClient,
    shape: &FlowShape,
    toolkit: &str,
    tool: &str,
    start: Value,
) -> Result<impl Stream<Item = Result<RecordBatchChunk>> + Send> {
    read(room, shape, toolkit, tool, start, false).await
}

/// `watch_record_batches`: as [`read_record_batches`], and json events (`{kind: "ready",
/// ...}`) are items too (their JSON object as headers, no payload), each answered with a
/// pull. The server does not end the stream: it runs until the caller drops it.
pub async fn watch_record_batches(
    room: &RoomClient,
    shape: &FlowShape,
    toolkit: &str,
    tool: &str,
    start: Value,
) -> Result<impl Stream<Item = Result<RecordBatchChunk>> + Send> {
    read(room, shape, toolkit, tool, start, true).await
}

async fn read(
    room: &RoomClient,
    shape: &FlowShape,
    toolkit: &str,
    tool: &str,
    start: Value,
    events: bool,
) -> Result<impl Stream<Item = Result<RecordBatchChunk>> + Send> {
    let id = format!("{toolkit}.{tool}");
    shape.check(&id, ChunkEncoding::Binary)?;
    let shape = *shape;
    let mut stream = shape.open(room, toolkit, tool).await?;
    stream
        .send_binary(headers_with_kind("start", start), Bytes::new())
        .await?;
    if shape.eager_pull() {
        // The eager first pull waits for the open (an `error` reply means no pull).
        stream.ensure_open().await?;
        stream.send(shape.pull_chunk()).await?;
    }
    // The next pull goes out when the caller asks for the next item (as the SDKs'
    // `request_next` after each yield), so a caller that stops early sends no extra pull.
    Ok(futures::stream::unfold(
        Some((stream, id, false)),
        move |state| async move {
            let (mut s, id, owe_pull) = state?;
            if owe_pull {
                if let Err(e) = s.send(shape.pull_chunk()).await {
                    return Some((Err(e), None));
                }
            }
            let item = match s.recv().await {
                Ok(Some(chunk)) => response_item(chunk, events).map_err(|c| chunk_error(&id, c)),
                Ok(None) => {
                    let _ = s.close().await;
                    return None;
                }
                Err(e) => Err(e),
            };
            let next = item.is_ok().then_some((s, id, true));
            Some((item, next))
        },
    ))
}

/// A response chunk as an item: a binary `data` chunk, or (for watches) a json event with
/// a string `kind`; anything else is handed back as unexpected.
fn response_item(chunk: Content, events: bool) -> std::result::Result<RecordBatchChunk, Content> {
    match chunk {
        Content::Binary { headers, data }
            if headers.get("kind").and_then(Value::as_str) == Some("data") =>
        {
            Ok(RecordBatchChunk { headers, ipc: data })
        }
        Content::Json(Value::Object(headers))
            if events
                && headers
                    .get("kind")
                    .and_then(Value::as_str)
                    .is_some_and(|k| k != "data" && k != "pull") =>
        {
            Ok(RecordBatchChunk {
                headers,
                ipc: Bytes::new(),
            })
        }
        other => Err(other),
    }
}

/// Record-batch chunks as one stream item type for the generated methods.
pub fn boxed_chunks(
    s: impl Stream<Item = Result<RecordBatchChunk>> + Send + 'static,
) -> BoxStream<'static, Result<RecordBatchChunk>> {
    s.boxed()
}

/// The error for a chunk whose payload is not what its `content_type` claims.
pub(crate) fn bad_payload(tool: &str, why: impl std::fmt::Display) -> Error {
    Error::unexpected(tool, format!("Arrow IPC payload: {why}"))
}
