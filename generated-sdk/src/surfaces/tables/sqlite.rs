//! The `sqlite` conveniences: rows in, as Python's `SqliteClient.insert` with records and
//! `create_table_with_schema` with rows.

use arrow_schema::Schema;
use serde_json::Value;

use crate::core::error::Result;
use crate::sqlite::{Sqlite, SqliteCreateMode};
use crate::support::arrow::{rows_to_batch, schema_from_ipc};
use crate::support::flows::RecordBatches;

impl Sqlite {
    /// Appends JSON rows to `table` of `database`, as Python's `insert(database, table,
    /// records)` with a list of dicts: inspects the table, builds one record batch of its
    /// schema from the rows ([`crate::arrow::rows_to_batch`]) and inserts it.
    pub async fn insert_rows(
        &self,
        database: &str,
        table: &str,
        rows: &[Value],
        namespace: Option<Vec<String>>,
    ) -> Result<()> {
        let mut inspect = self.inspect(database, table);
        if let Some(ns) = namespace.clone() {
            inspect = inspect.namespace(ns);
        }
        let schema = schema_from_ipc(&inspect.await?.0)?;
        let mut call = self.insert(database, table, rows_to_batch(schema, rows)?);
        if let Some(ns) = namespace {
            call = call.namespace(ns);
        }
        call.await
    }

    /// Creates table `name` of `database` with `schema` (sent in the `start` chunk) and
    /// JSON rows sent as one record batch of that schema, as Python's
    /// `create_table_with_schema(database, name, schema, data=rows)`.
    pub async fn create_table_with_rows(
        &self,
        database: &str,
        name: &str,
        schema: &Schema,
        rows: &[Value],
        mode: Option<SqliteCreateMode>,
        namespace: Option<Vec<String>>,
    ) -> Result<()> {
        let schema = std::sync::Arc::new(schema.clone());
        let batches =
            RecordBatches::from(rows_to_batch(schema.clone(), rows)?).with_schema(&schema)?;
        let mut call = self.create_table(database, name, batches);
        if let Some(m) = mode {
            call = call.mode(m);
        }
        if let Some(ns) = namespace {
            call = call.namespace(ns);
        }
        call.await
    }
}
