//! Support for the generated `dispatch` methods (feature `dispatch`): JSON arguments in,
//! typed call, JSON result out. The conformance replay drives every recorded case
//! through them.
//!
//! Streaming tools exchange JSON too:
//! - input (`input` argument): `pull_upload` and `checked_upload` tools take base64
//!   strings, one per source chunk; `write_batches` tools take one JSON value per batch (e.g. a list of rows);
//!   other flows take none.
//! - output: a `pull_download` tool gives `{name, mime_type, size, data}` (`data` is all
//!   the bytes, base64); a `checked_download` tool the list of its pieces (base64); `read_batches` tools give a list with one entry per batch;
//!   `server_push` tools give a list with one entry per item: text items as strings, log
//!   entries as `{type, data}`, raw chunks as their JSON header (as on the wire, with
//!   `type`) plus `data` (base64) when they have a payload. Rows are plain JSON objects
//!   both ways (see [`crate::support::rows`]).
//! - Arrow data (0.56 `dataset`/`sqlite`): without the `arrow` feature, record batches are
//!   base64 Arrow IPC streams both ways (`write_record_batches` input items, `{"schema":
//!   base64}` for the `start` payload; read chunks as their headers plus `data`). With it,
//!   [`conveniences`] answers first: JSON rows in and out, schemas as fields, and an integer
//!   input item that stops a watch after that many events (`surfaces::tables::dispatch`).

use base64::Engine;
use futures::{Stream, StreamExt};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

#[cfg(any(feature = "containers", feature = "database", feature = "developer"))]
use crate::core::content::Content;
use crate::core::error::{Error, Result};
#[cfg(any(feature = "storage", feature = "sqlite"))]
use crate::support::flows::ByteSource;
#[cfg(feature = "sqlite")]
use crate::support::flows::CheckedDownload;
#[cfg(feature = "storage")]
use crate::support::flows::Download;
use crate::support::flows::{RecordBatchChunk, RecordBatches};
#[cfg(feature = "database")]
use crate::types::Row;

/// Decodes a tool's JSON arguments (an object with wire names; `null` means none).
pub(crate) fn args<T: DeserializeOwned>(tool: &str, args: Value) -> Result<T> {
    let args = if args.is_null() {
        Value::Object(Default::default())
    } else {
        args
    };
    serde_json::from_value(args).map_err(|e| Error::InvalidArguments(format!("{tool}: {e}")))
}

/// Encodes a typed result as JSON (`()` becomes `null`).
pub(crate) fn result<T: Serialize>(r: Result<T>) -> Result<Value> {
    serde_json::to_value(r?)
        .map_err(|e| Error::InvalidArguments(format!("result is not JSON: {e}")))
}

/// An upload source from base64 strings, one chunk each, handed over as given. One chunk
/// is a buffer, whose size is known (as the SDKs' `upload(data)`); several are a stream
/// of unknown size (as `upload_stream(chunks)`).
#[cfg(any(feature = "storage", feature = "sqlite"))]
pub(crate) fn byte_source(tool: &str, input: Vec<Value>) -> Result<ByteSource> {
    let chunks = input
        .into_iter()
        .map(|v| {
            let text = v.as_str().ok_or_else(|| {
                Error::InvalidArguments(format!("{tool}: input chunks are base64 strings"))
            })?;
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .map(bytes::Bytes::from)
                .map_err(|e| Error::InvalidArguments(format!("{tool}: input chunk: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(match <[bytes::Bytes; 1]>::try_from(chunks) {
        Ok([one]) => ByteSource::from(one),
        Err(chunks) => ByteSource::from_stream(futures::stream::iter(chunks.into_iter().map(Ok))),
    })
}

/// Batches for a `write_batches` tool, each read as the tool's batch type.
#[cfg(feature = "database")]
// 0.56 has no `write_batches` tool until the Arrow toolkits (issue 14).
#[cfg_attr(not(feature = "protocol-0-35-8"), allow(dead_code))]
pub(crate) fn batches<T: FromJson>(
    tool: &str,
    input: Vec<Value>,
) -> Result<futures::stream::Iter<std::vec::IntoIter<T>>> {
    let batches = T::from_input(input)
        .map_err(|e| Error::InvalidArguments(format!("{tool}: input batch: {e}")))?;
    Ok(futures::stream::iter(batches))
}

/// Record batches for a `write_record_batches` tool: each input item is one Arrow IPC
/// stream, base64, sent as one `data` chunk; an item `{"schema": <base64>}` is the IPC
/// schema sent as the `start` chunk's payload instead.
#[allow(dead_code)] // called by the generated arms of record-batch tools, when enabled
pub(crate) fn record_batches(tool: &str, input: Vec<Value>) -> Result<RecordBatches> {
    let decode = |v: &Value| {
        let text = v.as_str().ok_or_else(|| {
            Error::InvalidArguments(format!(
                "{tool}: input items are base64 Arrow IPC streams or {{\"schema\": base64}}"
            ))
        })?;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map(bytes::Bytes::from)
            .map_err(|e| Error::InvalidArguments(format!("{tool}: input item: {e}")))
    };
    let mut schema = None;
    let mut batches = Vec::new();
    for item in &input {
        match item.get("schema") {
            Some(s) => schema = Some(decode(s)?),
            None => batches.push(decode(item)?),
        }
    }
    let out = RecordBatches::from_ipc_iter(batches);
    Ok(match schema {
        Some(s) => out.with_schema_ipc(s),
        None => out,
    })
}

/// Reads a whole download: its metadata and every byte.
#[cfg(feature = "storage")]
pub(crate) async fn download(d: Result<Download>) -> Result<Value> {
    let d = d?;
    let (name, mime_type, size) = (d.name.clone(), d.mime_type.clone(), d.size);
    let data = d.bytes().await?;
    Ok(serde_json::json!({
        "name": name,
        "mime_type": mime_type,
        "size": size,
        "data": base64::engine::general_purpose::STANDARD.encode(&data),
    }))
}

/// Reads a whole checked download: a list of its pieces (base64), as they came.
#[cfg(feature = "sqlite")]
// 0.35.8 has no sqlite toolkit.
#[cfg_attr(feature = "protocol-0-35-8", allow(dead_code))]
pub(crate) async fn checked_download(d: Result<CheckedDownload>) -> Result<Value> {
    let mut d = d?;
    let mut out = Vec::new();
    while let Some(piece) = d.chunk().await? {
        out.push(Value::String(
            base64::engine::general_purpose::STANDARD.encode(&piece),
        ));
    }
    Ok(Value::Array(out))
}

/// A stream's items as a JSON list; the first error ends it.
#[allow(dead_code)] // which streaming toolkits are enabled decides whether anything calls it
pub(crate) async fn collect<T: ToJson, S: Stream<Item = Result<T>> + Unpin>(
    s: Result<S>,
) -> Result<Value> {
    let mut s = s?;
    let mut out = Vec::new();
    while let Some(item) = s.next().await {
        out.push(item?.to_json()?);
    }
    Ok(Value::Array(out))
}

/// How a stream item appears in a dispatch result.
pub(crate) trait ToJson {
    /// The item as JSON.
    fn to_json(self) -> Result<Value>;
}

/// How a batch for a `write_batches` tool is read from dispatch input.
#[cfg(feature = "database")]
#[cfg_attr(not(feature = "protocol-0-35-8"), allow(dead_code))]
pub(crate) trait FromJson: Sized {
    /// The batch from JSON, or why it is not one.
    fn from_json(v: Value) -> std::result::Result<Self, String>;

    /// The batches of a whole input list: one per item.
    fn from_input(input: Vec<Value>) -> std::result::Result<Vec<Self>, String> {
        input.into_iter().map(Self::from_json).collect()
    }
}

/// Rows are plain JSON objects, typed by the SDKs' rules (see [`crate::support::rows`]).
/// A single input item is a whole list of records, sent in batches of 128 rows as the
/// SDKs' `insert(records)` does ([`Row::batches`]); several items are the batches of a
/// stream, sent as given.
#[cfg(feature = "database")]
impl FromJson for Vec<Row> {
    fn from_input(input: Vec<Value>) -> std::result::Result<Vec<Self>, String> {
        match <[Value; 1]>::try_from(input) {
            Ok([records]) => Ok(crate::support::rows::in_batches(Self::from_json(records)?)),
            Err(batches) => batches.into_iter().map(Self::from_json).collect(),
        }
    }

    fn from_json(v: Value) -> std::result::Result<Self, String> {
        let Value::Array(rows) = v else {
            return Err("a batch is a list of row objects".into());
        };
        rows.into_iter()
            .map(|r| match r {
                Value::Object(m) => Ok(Row::from(m)),
                other => Err(format!("a row is an object, not {other}")),
            })
            .collect()
    }
}

#[cfg(any(feature = "containers", feature = "database", feature = "developer"))]
impl ToJson for String {
    fn to_json(self) -> Result<Value> {
        Ok(Value::String(self))
    }
}

#[cfg(feature = "developer")]
impl ToJson for crate::LogEntry {
    fn to_json(self) -> Result<Value> {
        result(Ok(self))
    }
}

/// Rows read back become plain JSON objects, as the SDKs hand them out.
#[cfg(feature = "database")]
impl ToJson for Vec<Row> {
    fn to_json(self) -> Result<Value> {
        Ok(Value::Array(
            self.iter().map(|r| Value::Object(r.to_json())).collect(),
        ))
    }
}

/// A record-batch chunk: its headers plus `data`, the Arrow IPC stream in base64, when
/// it has one.
impl ToJson for RecordBatchChunk {
    fn to_json(self) -> Result<Value> {
        let mut h = self.headers;
        if !self.ipc.is_empty() {
            let data = base64::engine::general_purpose::STANDARD.encode(&self.ipc);
            h.insert("data".into(), Value::String(data));
        }
        Ok(Value::Object(h))
    }
}

#[cfg(any(feature = "containers", feature = "database", feature = "developer"))]
impl ToJson for Content {
    fn to_json(self) -> Result<Value> {
        let mut header = self.header();
        let tail = self.tail();
        if let (Value::Object(h), false) = (&mut header, tail.is_empty()) {
            let data = base64::engine::general_purpose::STANDARD.encode(tail);
            h.insert("data".into(), Value::String(data));
        }
        Ok(header)
    }
}
