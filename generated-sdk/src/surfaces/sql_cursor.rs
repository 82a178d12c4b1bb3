//! SQL cursors of the 0.56 `dataset` and `sqlite` toolkits as a typed handle: open, read
//! its batches, cancel, close, and closed on drop (the server keeps an open query until
//! `close_sql_query`, so a forgotten cursor would hold its result there).
//!
//! One handle for both toolkits: each has `read_sql_query`, `close_sql_query` and
//! `cancel_sql_query` with the same shapes, bound here through [`SqlTools`].

use futures::future::BoxFuture;
use futures::stream::BoxStream;

use crate::core::error::Result;
use crate::support::flows::RecordBatchChunk;

mod sealed {
    pub trait Sealed {}
}

/// The SQL cursor tools of a toolkit (`dataset` or `sqlite`), which [`SqlCursor`] calls.
/// Sealed: implemented by [`crate::dataset::Dataset`] and [`crate::sqlite::Sqlite`].
pub trait SqlTools: sealed::Sealed + Clone + Send + Sync + 'static {
    /// What `cancel_sql_query` answers.
    type CancelStatus;
    /// The toolkit's wire name.
    const TOOLKIT: &'static str;

    /// `read_sql_query`: the cursor's rows as record batches, one per pull.
    fn read(
        &self,
        query_id: String,
    ) -> BoxFuture<'static, Result<BoxStream<'static, Result<RecordBatchChunk>>>>;
    /// `close_sql_query`.
    fn close(&self, query_id: String) -> BoxFuture<'static, Result<()>>;
    /// `cancel_sql_query`.
    fn cancel(&self, query_id: String) -> BoxFuture<'static, Result<Self::CancelStatus>>;
}

/// An open SQL query on the server (a cursor): read its rows with
/// [`batches`](SqlCursor::batches), then [`close`](SqlCursor::close) it. Dropped without
/// `close`, it sends `close_sql_query` in the background (on the current tokio runtime;
/// a failure is only logged). [`into_query_id`](SqlCursor::into_query_id) keeps the query
/// open and hands its id over.
#[must_use = "an open cursor holds its result on the server until closed"]
pub struct SqlCursor<T: SqlTools> {
    tools: T,
    query_id: String,
    schema: bytes::Bytes,
    open: bool,
}

impl<T: SqlTools> std::fmt::Debug for SqlCursor<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlCursor")
            .field("toolkit", &T::TOOLKIT)
            .field("query_id", &self.query_id)
            .field("schema_bytes", &self.schema.len())
            .field("open", &self.open)
            .finish()
    }
}

impl<T: SqlTools> SqlCursor<T> {
    /// Takes charge of the open query `query_id` (e.g. from `execute_sql`'s `Query` reply),
    /// whose result has the Arrow IPC schema `schema`: it is closed when this handle is
    /// closed or dropped.
    pub fn adopt(tools: T, query_id: impl Into<String>, schema: impl Into<bytes::Bytes>) -> Self {
        SqlCursor {
            tools,
            query_id: query_id.into(),
            schema: schema.into(),
            open: true,
        }
    }

    /// The query's id on the server.
    pub fn query_id(&self) -> &str {
        &self.query_id
    }

    /// The Arrow IPC schema of the result rows, as the server sent it.
    pub fn schema_ipc(&self) -> &bytes::Bytes {
        &self.schema
    }

    /// The result's Arrow schema (feature `arrow`).
    #[cfg(feature = "arrow")]
    #[cfg_attr(docsrs, doc(cfg(feature = "arrow")))]
    pub fn schema(&self) -> Result<arrow_schema::SchemaRef> {
        crate::support::arrow::schema_from_ipc(&self.schema)
    }

    /// Reads the result rows (`read_sql_query`): a stream of record-batch chunks, one per
    /// pull, that ends when the server has sent them all.
    pub async fn batches(&self) -> Result<BoxStream<'static, Result<RecordBatchChunk>>> {
        self.tools.read(self.query_id.clone()).await
    }

    /// Asks the server to cancel the query (`cancel_sql_query`); the cursor stays open
    /// until closed.
    pub async fn cancel(&self) -> Result<T::CancelStatus> {
        self.tools.cancel(self.query_id.clone()).await
    }

    /// Closes the query (`close_sql_query`) and waits for the server's answer.
    pub async fn close(mut self) -> Result<()> {
        self.open = false;
        self.tools.close(std::mem::take(&mut self.query_id)).await
    }

    /// Keeps the query open on the server and returns its id; closing it is then the
    /// caller's (`close_sql_query`).
    pub fn into_query_id(mut self) -> String {
        self.open = false;
        std::mem::take(&mut self.query_id)
    }
}

impl<T: SqlTools> Drop for SqlCursor<T> {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        let query_id = std::mem::take(&mut self.query_id);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(
                toolkit = T::TOOLKIT,
                query_id,
                "SQL cursor dropped outside a tokio runtime: close_sql_query not sent"
            );
            return;
        };
        let close = self.tools.close(query_id.clone());
        runtime.spawn(async move {
            if let Err(e) = close.await {
                tracing::debug!(toolkit = T::TOOLKIT, query_id, error = %e, "closing a dropped SQL cursor failed");
            }
        });
    }
}

/// Binds [`SqlTools`] to a generated sub-client and adds its `.cursor()` constructors.
macro_rules! sql_tools {
    ($feature:literal, $module:ident, $client:ident, $status:ty, $open_output:ty) => {
        #[cfg(feature = $feature)]
        impl sealed::Sealed for crate::$module::$client {}

        #[cfg(feature = $feature)]
        impl SqlTools for crate::$module::$client {
            type CancelStatus = $status;
            const TOOLKIT: &'static str = $feature;

            fn read(
                &self,
                query_id: String,
            ) -> BoxFuture<'static, Result<BoxStream<'static, Result<RecordBatchChunk>>>> {
                Box::pin(std::future::IntoFuture::into_future(
                    self.read_sql_query(query_id),
                ))
            }

            fn close(&self, query_id: String) -> BoxFuture<'static, Result<()>> {
                Box::pin(std::future::IntoFuture::into_future(
                    self.close_sql_query(query_id),
                ))
            }

            fn cancel(&self, query_id: String) -> BoxFuture<'static, Result<$status>> {
                let cancel = self.cancel_sql_query(query_id);
                Box::pin(async move { Ok(cancel.await?.status) })
            }
        }

        #[cfg(feature = $feature)]
        impl crate::$module::OpenSqlQueryRequest {
            /// Opens the query (`open_sql_query`) as a [`SqlCursor`], which closes it on
            /// drop.
            pub async fn cursor(self) -> Result<SqlCursor<crate::$module::$client>> {
                let tools = crate::$module::$client {
                    room: self.room.clone(),
                };
                let opened: $open_output = self.await?;
                Ok(SqlCursor::adopt(tools, opened.query_id, opened.schema))
            }
        }
    };
}

sql_tools!(
    "dataset",
    dataset,
    Dataset,
    crate::dataset::SqlCancelStatus,
    crate::dataset::SqlQuery
);
sql_tools!(
    "sqlite",
    sqlite,
    Sqlite,
    crate::sqlite::SqliteCancelStatus,
    crate::sqlite::OpenSqlQueryOutput
);
