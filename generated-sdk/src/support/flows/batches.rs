//! The `write_batches` and `read_batches` engines: JSON row batches paced by pulls.

use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use serde_json::{Map, Value};

use super::chunks::*;
use super::shape::*;
use crate::core::content::Content;
use crate::core::error::{Error, Result};
use crate::RoomClient;

/// `write_batches`: sends the `start` chunk (JSON), then one batch per server `pull`; when
/// the batches run out, closes the request side and waits for the server's close.
/// Each batch is the JSON object of a `rows` chunk (without `kind`).
pub async fn write_batches(
    room: &RoomClient,
    shape: &FlowShape,
    toolkit: &str,
    tool: &str,
    start: Value,
    mut batches: BoxStream<'static, Result<Value>>,
) -> Result<()> {
    let id = format!("{toolkit}.{tool}");
    shape.check(&id, ChunkEncoding::Json)?;
    let mut stream = shape.open(room, toolkit, tool).await?;
    stream.send(json_chunk("start", start)).await?;
    while let Some(chunk) = stream.recv().await? {
        if shape.pull_of(&chunk).is_none() {
            return Err(chunk_error(&id, chunk));
        }
        match batches.next().await {
            Some(batch) => stream.send(json_chunk("rows", batch?)).await?,
            None => stream.close().await?,
        }
    }
    stream.close().await
}

/// `read_batches`: sends the `start` chunk (JSON) and, once the call is open, a first `pull`, then one
/// `pull` per `rows` chunk received; yields each rows chunk's JSON until the server closes.
pub async fn read_batches(
    room: &RoomClient,
    shape: &FlowShape,
    toolkit: &str,
    tool: &str,
    start: Value,
) -> Result<impl Stream<Item = Result<Value>> + Send> {
    let id = format!("{toolkit}.{tool}");
    shape.check(&id, ChunkEncoding::Json)?;
    let shape = *shape;
    let mut stream = shape.open(room, toolkit, tool).await?;
    stream.send(json_chunk("start", start)).await?;
    if shape.eager_pull() {
        // The eager first pull waits for the open (an `error` reply means no pull, only
        // the close sent on drop, as the SDKs do).
        stream.ensure_open().await?;
        stream.send(shape.pull_chunk()).await?;
    }
    Ok(futures::stream::unfold(
        Some((stream, id)),
        move |state| async move {
            let (mut s, id) = state?;
            let item = match s.recv().await {
                Ok(Some(chunk)) if json_kind(&chunk) == Some("rows") => {
                    match s.send(shape.pull_chunk()).await {
                        Ok(()) => match chunk {
                            Content::Json(v) => Ok(v),
                            other => Err(chunk_error(&id, other)),
                        },
                        Err(e) => Err(e),
                    }
                }
                Ok(Some(chunk)) => Err(chunk_error(&id, chunk)),
                Ok(None) => {
                    let _ = s.close().await;
                    return None;
                }
                Err(e) => Err(e),
            };
            let next = item.is_ok().then_some((s, id));
            Some((item, next))
        },
    ))
}

/// Batches to write, each becoming the `rows`-style chunk `{<field>: batch}`.
pub struct Batches(BoxStream<'static, Result<Value>>);

impl std::fmt::Debug for Batches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Batches")
    }
}

impl Batches {
    /// Wraps `batches`; each is serialized under `field` as it is pulled.
    pub fn new<T: serde::Serialize + Send + 'static>(
        field: &'static str,
        batches: impl Stream<Item = T> + Send + 'static,
    ) -> Batches {
        Batches(
            batches
                .map(move |b| {
                    let mut m = Map::new();
                    m.insert(
                        field.to_string(),
                        serde_json::to_value(b)
                            .map_err(|e| Error::InvalidArguments(e.to_string()))?,
                    );
                    Ok(Value::Object(m))
                })
                .boxed(),
        )
    }

    /// The chunks' JSON, for [`write_batches`].
    pub fn into_stream(self) -> BoxStream<'static, Result<Value>> {
        self.0
    }
}

/// Takes `field` out of a chunk's JSON as a `T`.
pub fn field<T: serde::de::DeserializeOwned>(
    mut chunk: Value,
    field: &str,
    tool: &str,
) -> Result<T> {
    let v = chunk.get_mut(field).map(Value::take).unwrap_or(Value::Null);
    serde_json::from_value(v).map_err(|e| Error::unexpected(tool, format!("chunk `{field}`: {e}")))
}
