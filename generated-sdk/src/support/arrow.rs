//! Arrow record batches (feature `arrow`): [`arrow_array::RecordBatch`] to and from the
//! Arrow IPC streams the 0.56 `dataset`/`sqlite` tools carry, and record batches built
//! from JSON rows.
//!
//! The wire form is the SDKs' (`_table_to_arrow_ipc`): each `data` chunk is one whole IPC
//! stream (schema message, batch messages, end-of-stream marker), and a schema alone is an
//! IPC stream with only the schema message.

use std::io::Cursor;
use std::sync::Arc;

use arrow_array::builder::{
    ArrayBuilder, BooleanBuilder, FixedSizeListBuilder, Float32Builder, Float64Builder,
    Int32Builder, Int64Builder, ListBuilder, StringBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde_json::Value;

use crate::core::error::{Error, Result};
use crate::support::flows::{RecordBatchChunk, RecordBatches};

fn encode_error(e: ArrowError) -> Error {
    Error::InvalidArguments(format!("Arrow IPC encoding: {e}"))
}

fn decode_error(e: ArrowError) -> Error {
    Error::Content(format!("Arrow IPC payload: {e}"))
}

/// `schema` as an Arrow IPC stream holding only the schema message (the `start` chunk's
/// payload of a table creation).
pub fn schema_to_ipc(schema: &Schema) -> Result<Bytes> {
    let mut out = Vec::new();
    let mut w = StreamWriter::try_new(&mut out, schema).map_err(encode_error)?;
    w.finish().map_err(encode_error)?;
    drop(w);
    Ok(Bytes::from(out))
}

/// The schema of an Arrow IPC stream (e.g. a `schema` reply, or a `start` payload).
pub fn schema_from_ipc(ipc: &[u8]) -> Result<SchemaRef> {
    check_framing(ipc)?;
    let reader = StreamReader::try_new(Cursor::new(ipc), None).map_err(decode_error)?;
    Ok(reader.schema())
}

/// `batches` (all of one schema) as one whole Arrow IPC stream: the payload of one `data`
/// chunk. An empty slice encodes `schema` alone.
pub fn batches_to_ipc(schema: &Schema, batches: &[RecordBatch]) -> Result<Bytes> {
    let size: usize = batches.iter().map(RecordBatch::get_array_memory_size).sum();
    let mut out = Vec::with_capacity(size + 1024);
    let mut w = StreamWriter::try_new(&mut out, schema).map_err(encode_error)?;
    for b in batches {
        w.write(b).map_err(encode_error)?;
    }
    w.finish().map_err(encode_error)?;
    drop(w);
    Ok(Bytes::from(out))
}

/// One record batch as one whole Arrow IPC stream (schema, batch, end-of-stream).
pub fn batch_to_ipc(batch: &RecordBatch) -> Result<Bytes> {
    batches_to_ipc(&batch.schema(), std::slice::from_ref(batch))
}

/// Every record batch of one Arrow IPC stream (a `data` chunk's payload).
pub fn batches_from_ipc(ipc: &[u8]) -> Result<Vec<RecordBatch>> {
    check_framing(ipc)?;
    let reader = StreamReader::try_new(Cursor::new(ipc), None).map_err(decode_error)?;
    reader
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(decode_error)
}

/// Checks that every message of an IPC stream fits in `ipc` before a reader sees it: the
/// reader allocates each message's metadata and body at their declared lengths, so a few
/// hostile bytes could otherwise ask for gigabytes. Walks `[0xFFFFFFFF] <len> <metadata>
/// <body>` (the continuation marker is optional, as in pre-1.0 streams) up to the
/// end-of-stream marker or the end of the bytes.
fn check_framing(ipc: &[u8]) -> Result<()> {
    let bad = |what: &str| Error::Content(format!("Arrow IPC payload: {what}"));
    let word = |at: usize| {
        ipc.get(at..at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_le_bytes)
    };
    let mut at = 0;
    while let Some(w) = word(at) {
        let (len, meta) = match w {
            0xFFFF_FFFF => (
                word(at + 4).ok_or_else(|| bad("truncated message length"))?,
                at + 8,
            ),
            len => (len, at + 4),
        };
        if len == 0 {
            return Ok(());
        }
        let meta_end = meta
            .checked_add(len as usize)
            .filter(|end| *end <= ipc.len())
            .ok_or_else(|| bad("a message is longer than the payload"))?;
        let message = arrow_ipc::root_as_message(&ipc[meta..meta_end])
            .map_err(|e| bad(&format!("message header: {e}")))?;
        let body = usize::try_from(message.bodyLength())
            .ok()
            .and_then(|b| meta_end.checked_add(b))
            .filter(|end| *end <= ipc.len())
            .ok_or_else(|| bad("a message body is longer than the payload"))?;
        at = body;
    }
    Ok(())
}

impl RecordBatches {
    /// Record batches, each encoded as one IPC stream when the server pulls it (memory stays
    /// bounded by the batch being sent). No schema in the `start` chunk; add one with
    /// [`RecordBatches::with_schema`].
    pub fn from_record_batches(
        batches: impl Stream<Item = RecordBatch> + Send + 'static,
    ) -> RecordBatches {
        RecordBatches::from_ipc(batches.map(|b| batch_to_ipc(&b)))
    }

    /// Record batches from an iterator (e.g. a `Vec<RecordBatch>`).
    pub fn from_record_batch_iter<I>(batches: I) -> RecordBatches
    where
        I: IntoIterator<Item = RecordBatch>,
        I::IntoIter: Send + 'static,
    {
        RecordBatches::from_record_batches(futures::stream::iter(batches))
    }

    /// Sends `schema` as the `start` chunk's payload (what a table creation needs).
    pub fn with_schema(self, schema: &Schema) -> Result<RecordBatches> {
        Ok(self.with_schema_ipc(schema_to_ipc(schema)?))
    }
}

impl From<RecordBatch> for RecordBatches {
    fn from(batch: RecordBatch) -> RecordBatches {
        RecordBatches::from_record_batch_iter(vec![batch])
    }
}

impl From<Vec<RecordBatch>> for RecordBatches {
    fn from(batches: Vec<RecordBatch>) -> RecordBatches {
        RecordBatches::from_record_batch_iter(batches)
    }
}

impl RecordBatchChunk {
    /// The chunk's record batches (none for events without data).
    pub fn record_batches(&self) -> Result<Vec<RecordBatch>> {
        if self.ipc.is_empty() {
            return Ok(Vec::new());
        }
        batches_from_ipc(&self.ipc)
    }
}

/// A record batch of `schema` from JSON rows (objects keyed by column name; a missing key
/// or `null` is a null). A small converter for the column types tables usually have —
/// `Int64`, `Int32`, `Float64`, `Float32`, `Utf8`, `Boolean`, and `List` / `FixedSizeList`
/// of `Float32` or `Float64` (vectors) — not a general JSON reader: other types are an
/// [`Error::InvalidArguments`], as is a value of the wrong JSON type.
pub fn rows_to_batch(schema: SchemaRef, rows: &[Value]) -> Result<RecordBatch> {
    let columns = schema
        .fields()
        .iter()
        .map(|f| column(f, rows))
        .collect::<Result<Vec<_>>>()?;
    RecordBatch::try_new(schema, columns).map_err(encode_error)
}

fn bad(field: &Field, row: usize, v: &Value) -> Error {
    Error::InvalidArguments(format!(
        "row {row}, column `{}` ({}): cannot take {v}",
        field.name(),
        field.data_type()
    ))
}

fn column(field: &Field, rows: &[Value]) -> Result<ArrayRef> {
    let name = field.name();
    let values = rows.iter().map(|r| r.get(name).unwrap_or(&Value::Null));
    let n = rows.len();
    let mut b: Box<dyn ArrayBuilder> = match field.data_type() {
        DataType::Int64 => Box::new(Int64Builder::with_capacity(n)),
        DataType::Int32 => Box::new(Int32Builder::with_capacity(n)),
        DataType::Float64 => Box::new(Float64Builder::with_capacity(n)),
        DataType::Float32 => Box::new(Float32Builder::with_capacity(n)),
        DataType::Utf8 => Box::new(StringBuilder::with_capacity(n, n * 8)),
        DataType::Boolean => Box::new(BooleanBuilder::with_capacity(n)),
        DataType::List(item) if is_float(item.data_type()) => Box::new(
            ListBuilder::with_capacity(float_builder(item, n * 8), n).with_field(item.clone()),
        ),
        DataType::FixedSizeList(item, size) if is_float(item.data_type()) => Box::new(
            FixedSizeListBuilder::with_capacity(
                float_builder(item, n * (*size).max(0) as usize),
                *size,
                n,
            )
            .with_field(item.clone()),
        ),
        other => {
            return Err(Error::InvalidArguments(format!(
                "rows_to_batch: column `{name}` has type {other}, which it does not convert"
            )))
        }
    };
    for (row, v) in values.enumerate() {
        append(b.as_mut(), field, row, v)?;
    }
    Ok(b.finish())
}

/// Whether `t` is a float type: the item types of the vector columns converted both ways.
pub(crate) fn is_float(t: &DataType) -> bool {
    matches!(t, DataType::Float32 | DataType::Float64)
}

fn float_builder(item: &Arc<Field>, capacity: usize) -> Box<dyn ArrayBuilder> {
    match item.data_type() {
        DataType::Float32 => Box::new(Float32Builder::with_capacity(capacity)),
        _ => Box::new(Float64Builder::with_capacity(capacity)),
    }
}

fn downcast<T: 'static>(b: &mut dyn ArrayBuilder) -> &mut T {
    match b.as_any_mut().downcast_mut::<T>() {
        Some(t) => t,
        // The builder was made for the field's type just above.
        None => unreachable!("builder matches its column type"),
    }
}

fn append(b: &mut dyn ArrayBuilder, field: &Field, row: usize, v: &Value) -> Result<()> {
    let err = || bad(field, row, v);
    match field.data_type() {
        DataType::Int64 => {
            let x = if v.is_null() {
                None
            } else {
                Some(v.as_i64().ok_or_else(err)?)
            };
            downcast::<Int64Builder>(b).append_option(x);
        }
        DataType::Int32 => {
            let x = match v {
                Value::Null => None,
                _ => Some(
                    v.as_i64()
                        .and_then(|x| i32::try_from(x).ok())
                        .ok_or_else(err)?,
                ),
            };
            downcast::<Int32Builder>(b).append_option(x);
        }
        DataType::Float64 => {
            let x = if v.is_null() {
                None
            } else {
                Some(v.as_f64().ok_or_else(err)?)
            };
            downcast::<Float64Builder>(b).append_option(x);
        }
        DataType::Float32 => {
            let x = if v.is_null() {
                None
            } else {
                Some(v.as_f64().ok_or_else(err)? as f32)
            };
            downcast::<Float32Builder>(b).append_option(x);
        }
        DataType::Utf8 => {
            let x = if v.is_null() {
                None
            } else {
                Some(v.as_str().ok_or_else(err)?)
            };
            downcast::<StringBuilder>(b).append_option(x);
        }
        DataType::Boolean => {
            let x = if v.is_null() {
                None
            } else {
                Some(v.as_bool().ok_or_else(err)?)
            };
            downcast::<BooleanBuilder>(b).append_option(x);
        }
        DataType::List(item) => {
            let lb = downcast::<ListBuilder<Box<dyn ArrayBuilder>>>(b);
            match v {
                Value::Null => lb.append_null(),
                Value::Array(xs) => {
                    append_floats(lb.values().as_mut(), item, xs).ok_or_else(err)?;
                    lb.append(true);
                }
                _ => return Err(err()),
            }
        }
        DataType::FixedSizeList(item, size) => {
            let lb = downcast::<FixedSizeListBuilder<Box<dyn ArrayBuilder>>>(b);
            match v {
                Value::Array(xs) if xs.len() == (*size).max(0) as usize => {
                    append_floats(lb.values().as_mut(), item, xs).ok_or_else(err)?;
                    lb.append(true);
                }
                Value::Null => {
                    // A null slot still holds `size` child values.
                    let nulls = vec![Value::Null; (*size).max(0) as usize];
                    append_floats(lb.values().as_mut(), item, &nulls).ok_or_else(err)?;
                    lb.append(false);
                }
                _ => return Err(err()),
            }
        }
        _ => return Err(err()),
    }
    Ok(())
}

fn append_floats(b: &mut dyn ArrayBuilder, item: &Field, xs: &[Value]) -> Option<()> {
    for x in xs {
        let f = if x.is_null() { None } else { Some(x.as_f64()?) };
        match item.data_type() {
            DataType::Float32 => downcast::<Float32Builder>(b).append_option(f.map(|f| f as f32)),
            _ => downcast::<Float64Builder>(b).append_option(f),
        }
    }
    Some(())
}
