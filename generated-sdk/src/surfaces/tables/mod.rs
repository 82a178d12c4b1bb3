//! Arrow conveniences of the 0.56 `dataset` and `sqlite` toolkits (feature `arrow`), as the
//! Python SDK 0.56.0 offers them over the generated methods:
//!
//! * rows in: `insert_rows` / `merge_rows` inspect the table first and build one record
//!   batch of its schema from JSON rows (Python's `insert(table, records)` with a list of
//!   dicts); `create_table_with_rows` builds it from a given schema
//!   (`create_table_with_schema(schema, data)`); `create_table_from_json_rows` sends the rows
//!   as JSON chunks (`create_table_from_json_data`);
//! * rows out: [`RecordBatchChunk::rows`] (a `search` / `read_sql_query` chunk as
//!   `Table.to_pylist()`), [`TableWatchEvent`] (a `watch_table` event, Python's
//!   `DatasetWatchEvent`);
//! * schemas: `arrow_schema()` on every reply that carries an Arrow IPC schema.
//!
//! The conversions are those of `support::arrow` and `support::arrow_json`.

#[cfg(any(feature = "dataset", feature = "sqlite"))]
use arrow_schema::SchemaRef;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::core::error::Result;
use crate::support::arrow::batches_from_ipc;
use crate::support::arrow_json::batch_to_rows;
use crate::support::flows::RecordBatchChunk;

#[cfg(feature = "dataset")]
mod dataset;
#[cfg(all(feature = "dispatch", any(feature = "dataset", feature = "sqlite")))]
pub(crate) mod dispatch;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "dataset")]
pub use dataset::{CreateTableOptions, TableAt};

impl RecordBatchChunk {
    /// The rows of the chunk's record batches as JSON objects (none for events without
    /// data), as the SDKs' `Table.to_pylist()` gives them; see
    /// [`crate::arrow::batch_to_rows`] for the column types converted.
    pub fn rows(&self) -> Result<Vec<Map<String, Value>>> {
        let mut rows = Vec::new();
        if self.ipc.is_empty() {
            return Ok(rows);
        }
        for batch in batches_from_ipc(&self.ipc)? {
            rows.extend(batch_to_rows(&batch)?);
        }
        Ok(rows)
    }
}

/// One event of `dataset.watch_table`, as Python's `DatasetWatchEvent`: a `ready` event
/// (a phase is complete at `version`) or `data` (rows of the snapshot or of one change).
/// Versions arrive as numbers or numeric strings and are read as integers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableWatchEvent {
    /// `ready` or `data`.
    pub kind: String,
    /// The phase (e.g. `snapshot`, `change`).
    pub phase: Option<String>,
    /// The rows of a `data` event; `None` for `ready`.
    pub table: Option<Vec<Map<String, Value>>>,
    /// The table version the event is at.
    pub version: Option<i64>,
    /// What changed (e.g. `insert`).
    pub change_type: Option<String>,
    /// First version of a change.
    pub begin_version: Option<i64>,
    /// Last version of a change.
    pub end_version: Option<i64>,
    /// The server's id of the change.
    pub watch_event: Option<String>,
}

impl TableWatchEvent {
    /// The event a `watch_table` chunk carries (its rows decoded when it has data).
    pub fn from_chunk(chunk: &RecordBatchChunk) -> Result<TableWatchEvent> {
        let text = |k: &str| chunk.header_str(k).map(str::to_string);
        Ok(TableWatchEvent {
            kind: chunk.kind().to_string(),
            phase: text("phase"),
            table: if chunk.is_data() {
                Some(chunk.rows()?)
            } else {
                None
            },
            version: chunk.header_i64("version"),
            change_type: text("change_type"),
            begin_version: chunk.header_i64("begin_version"),
            end_version: chunk.header_i64("end_version"),
            watch_event: text("watch_event"),
        })
    }
}

/// The Arrow schema of a reply's IPC schema bytes.
#[cfg(any(feature = "dataset", feature = "sqlite"))]
fn decode_schema(ipc: &crate::Base64Bytes) -> Result<SchemaRef> {
    crate::support::arrow::schema_from_ipc(&ipc.0)
}

#[cfg(feature = "dataset")]
impl crate::dataset::DatasetSchema {
    /// The table's schema, decoded from the reply's Arrow IPC bytes.
    pub fn arrow_schema(&self) -> Result<SchemaRef> {
        decode_schema(&self.schema)
    }
}

#[cfg(feature = "dataset")]
impl crate::dataset::SqlQuery {
    /// The schema of the query's rows, decoded from the reply's Arrow IPC bytes.
    pub fn arrow_schema(&self) -> Result<SchemaRef> {
        decode_schema(&self.schema)
    }
}

#[cfg(feature = "dataset")]
impl crate::dataset::SqlExecution {
    /// For a query, the schema of its rows (decoded); `None` for a statement.
    pub fn arrow_schema(&self) -> Option<Result<SchemaRef>> {
        match self {
            Self::Query { schema, .. } => Some(decode_schema(schema)),
            Self::Statement { .. } => None,
        }
    }
}

#[cfg(feature = "sqlite")]
impl crate::sqlite::OpenSqlQueryOutput {
    /// The schema of the query's rows, decoded from the reply's Arrow IPC bytes.
    pub fn arrow_schema(&self) -> Result<SchemaRef> {
        decode_schema(&self.schema)
    }
}

#[cfg(feature = "sqlite")]
impl crate::sqlite::SqliteSqlExecution {
    /// For a query, the schema of its rows (decoded); `None` for a statement.
    pub fn arrow_schema(&self) -> Option<Result<SchemaRef>> {
        match self {
            Self::Query { schema, .. } => Some(decode_schema(schema)),
            Self::Statement { .. } => None,
        }
    }
}

#[cfg(feature = "sqlite")]
impl crate::sqlite::SqliteBatchResult {
    /// For a query, the schema of its rows (decoded); `None` for a statement.
    pub fn arrow_schema(&self) -> Option<Result<SchemaRef>> {
        match self {
            Self::Query { schema_base64, .. } => Some(decode_schema(schema_base64)),
            Self::Statement { .. } => None,
        }
    }
}
