//! The `dataset` conveniences: rows in (Python's `insert`/`merge` with records,
//! `create_table_with_schema` with rows, `create_table_from_json_data`) and `add_columns`
//! with an Arrow schema.

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::Schema;
use futures::StreamExt;
use serde_json::{Map, Value};

use crate::core::content::Content;
use crate::core::error::{Error, Result};
use crate::dataset::{CreateMode, Dataset, TOOLKIT};
use crate::support::arrow::{rows_to_batch, schema_to_ipc};
use crate::support::flows::{write_pulled, RecordBatches, ARROW_STREAM_CONTENT_TYPE};
use crate::support::rows::ROWS_PER_BATCH;
use crate::types::MetadataEntry;

/// Where a table lives: its namespace and branch (`None`: the default namespace, the
/// main branch).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableAt {
    /// Namespace path of the table.
    pub namespace: Option<Vec<String>>,
    /// Branch of the table.
    pub branch: Option<String>,
}

/// How a table is created: mode, place and metadata (`None`: the defaults).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateTableOptions {
    /// What to do when the table exists (`create` when unset).
    pub mode: Option<CreateMode>,
    /// Namespace and branch of the new table.
    pub at: TableAt,
    /// Metadata of the table, as key/value pairs.
    pub metadata: Option<Vec<MetadataEntry>>,
}

impl Dataset {
    /// Appends JSON rows to `table`, as Python's `insert(table, records)` with a list of
    /// dicts: inspects the table (at `at`), builds one record batch of its schema from the
    /// rows ([`crate::arrow::rows_to_batch`]) and inserts it.
    pub async fn insert_rows(&self, table: &str, rows: &[Value], at: &TableAt) -> Result<()> {
        let batch = self.batch_of_table(table, rows, at).await?;
        let mut call = self.insert(table, batch);
        if let Some(ns) = at.namespace.clone() {
            call = call.namespace(ns);
        }
        if let Some(b) = at.branch.clone() {
            call = call.branch(b);
        }
        call.await
    }

    /// Upserts JSON rows into `table` keyed on column `on`, as Python's `merge(table, on,
    /// records)` with a list of dicts (the table is inspected first, as for
    /// [`Dataset::insert_rows`]).
    pub async fn merge_rows(
        &self,
        table: &str,
        on: &str,
        rows: &[Value],
        at: &TableAt,
    ) -> Result<()> {
        let batch = self.batch_of_table(table, rows, at).await?;
        let mut call = self.merge(table, on, batch);
        if let Some(ns) = at.namespace.clone() {
            call = call.namespace(ns);
        }
        if let Some(b) = at.branch.clone() {
            call = call.branch(b);
        }
        call.await
    }

    async fn batch_of_table(
        &self,
        table: &str,
        rows: &[Value],
        at: &TableAt,
    ) -> Result<RecordBatch> {
        let mut call = self.inspect(table);
        if let Some(ns) = at.namespace.clone() {
            call = call.namespace(ns);
        }
        if let Some(b) = at.branch.clone() {
            call = call.branch(b);
        }
        rows_to_batch(call.await?.arrow_schema()?, rows)
    }

    /// Creates table `name` with `schema` and JSON rows, as Python's
    /// `create_table_with_schema(schema, data=rows)`: the metadata is merged into the schema
    /// (sent in the `start` chunk) and the rows go as one record batch of that schema.
    pub async fn create_table_with_rows(
        &self,
        name: &str,
        schema: &Schema,
        rows: &[Value],
        options: &CreateTableOptions,
    ) -> Result<()> {
        let mut metadata = schema.metadata().clone();
        for e in options.metadata.iter().flatten() {
            metadata.insert(e.key.clone(), e.value.clone());
        }
        let schema = Arc::new(schema.clone().with_metadata(metadata));
        let batches =
            RecordBatches::from(rows_to_batch(schema.clone(), rows)?).with_schema(&schema)?;
        let mut call = self.create_table(name, batches);
        if let Some(m) = options.mode.clone() {
            call = call.mode(m);
        }
        if let Some(ns) = options.at.namespace.clone() {
            call = call.namespace(ns);
        }
        if let Some(b) = options.at.branch.clone() {
            call = call.branch(b);
        }
        if let Some(m) = options.metadata.clone() {
            call = call.metadata(m);
        }
        call.await
    }

    /// Creates table `name` from JSON rows sent as JSON, as Python's
    /// `create_table_from_json_data`: a json `start` chunk, then one `{kind: rows, rows}`
    /// chunk of up to 128 rows per server pull, each row `{columns: [{name, value}]}` (lists
    /// as `{list: [...]}`; an object value is refused, as Python does). The server decides
    /// the schema.
    pub async fn create_table_from_json_rows(
        &self,
        name: &str,
        rows: &[Map<String, Value>],
        options: &CreateTableOptions,
    ) -> Result<()> {
        let start = serde_json::json!({
            "kind": "start",
            "name": name,
            "mode": options.mode.clone().unwrap_or(CreateMode::Create),
            "namespace": options.at.namespace,
            "branch": options.at.branch,
            "metadata": options.metadata,
        });
        let chunks = rows
            .chunks(ROWS_PER_BATCH)
            .map(|part| {
                let rows = part.iter().map(json_row).collect::<Result<Vec<_>>>()?;
                Ok(Content::Json(
                    serde_json::json!({"kind": "rows", "rows": rows}),
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        write_pulled(
            &self.room,
            &crate::flow_shapes::WRITE_RECORD_BATCHES,
            TOOLKIT,
            "create_table",
            Content::Json(start),
            futures::stream::iter(chunks.into_iter().map(Ok)).boxed(),
        )
        .await
    }

    /// Adds the columns of `columns` (an Arrow schema) to `table`, as Python's
    /// `add_columns(table, new_columns)` with Arrow types: a `binary` call whose headers are
    /// `{table, namespace, branch, content_type}` and whose payload is the schema as an IPC
    /// stream; the reply must be empty.
    pub async fn add_columns_schema(
        &self,
        table: &str,
        columns: &Schema,
        at: &TableAt,
    ) -> Result<()> {
        let headers = serde_json::json!({
            "table": table,
            "namespace": at.namespace,
            "branch": at.branch,
            "content_type": ARROW_STREAM_CONTENT_TYPE,
        });
        let reply = self
            .room
            .invoke_binary(TOOLKIT, "add_columns", &headers, schema_to_ipc(columns)?)
            .await?;
        crate::support::decode::empty(reply, "dataset.add_columns")
    }
}

/// A row as Python's `_dataset_stream_rows_chunk` writes it.
fn json_row(row: &Map<String, Value>) -> Result<Value> {
    let columns = row
        .iter()
        .map(|(name, v)| Ok(serde_json::json!({"name": name, "value": json_value(v)?})))
        .collect::<Result<Vec<Value>>>()?;
    Ok(serde_json::json!({ "columns": columns }))
}

/// A value as Python's `_encode_record_value` writes plain JSON: lists as `{list: [...]}`,
/// scalars as they are; objects are refused (Python wants `DatasetStruct`/`DatasetJson`).
fn json_value(v: &Value) -> Result<Value> {
    match v {
        Value::Array(items) => {
            let items = items.iter().map(json_value).collect::<Result<Vec<_>>>()?;
            Ok(serde_json::json!({ "list": items }))
        }
        Value::Object(_) => Err(Error::InvalidArguments(
            "create_table_from_json_rows: an object value needs a typed wrapper (as Python's DatasetStruct or DatasetJson)".into(),
        )),
        other => Ok(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_rows_are_written_as_python_writes_them() {
        let Value::Object(row) = json!({"id": 1, "v": [0.5, null], "s": null}) else {
            unreachable!()
        };
        assert_eq!(
            json_row(&row).expect("plain values"),
            json!({"columns": [
                {"name": "id", "value": 1},
                {"name": "v", "value": {"list": [0.5, null]}},
                {"name": "s", "value": null},
            ]})
        );
        let Value::Object(bad) = json!({"o": {"k": 1}}) else {
            unreachable!()
        };
        assert!(matches!(json_row(&bad), Err(Error::InvalidArguments(_))));
    }
}
