//! Record-batch streams of any tool by name: the engines behind the generated methods of
//! the 0.56 Arrow tools (`dataset`, `sqlite`), for tools the spec does not know (e.g. a
//! hosted toolkit's) and for callers that build the `start` headers themselves.

use futures::stream::BoxStream;
use serde_json::Value;

use crate::core::error::Result;
use crate::support::flows::{self, RecordBatchChunk, RecordBatches};
use crate::RoomClient;

impl RoomClient {
    /// Writes record batches to `toolkit.tool` as the `write_record_batches` flow shape:
    /// a binary `start` chunk with `start`'s keys as headers (and the schema, if `batches`
    /// has one, as payload), then one `data` chunk per server pull; returns once the
    /// server closes. Generated methods of such tools call the same engine.
    pub async fn write_record_batches(
        &self,
        toolkit: &str,
        tool: &str,
        start: Value,
        batches: impl Into<RecordBatches>,
    ) -> Result<()> {
        flows::write_record_batches(
            self,
            &crate::flow_shapes::WRITE_RECORD_BATCHES,
            toolkit,
            tool,
            start,
            batches.into(),
        )
        .await
    }

    /// Reads record batches from `toolkit.tool` as the `read_record_batches` flow shape:
    /// a binary `start` chunk with `start`'s keys as headers, an eager first pull, then a
    /// pull each time the next chunk is asked for, until the server closes.
    pub async fn read_record_batches(
        &self,
        toolkit: &str,
        tool: &str,
        start: Value,
    ) -> Result<BoxStream<'static, Result<RecordBatchChunk>>> {
        flows::read_record_batches(
            self,
            &crate::flow_shapes::READ_RECORD_BATCHES,
            toolkit,
            tool,
            start,
        )
        .await
        .map(flows::boxed_chunks)
    }

    /// Watches `toolkit.tool` as the `watch_record_batches` flow shape: as
    /// [`RoomClient::read_record_batches`], and json events (`{kind: "ready", ...}`) are
    /// items too. Unbounded: drop the stream to stop.
    pub async fn watch_record_batches(
        &self,
        toolkit: &str,
        tool: &str,
        start: Value,
    ) -> Result<BoxStream<'static, Result<RecordBatchChunk>>> {
        flows::watch_record_batches(
            self,
            &crate::flow_shapes::WATCH_RECORD_BATCHES,
            toolkit,
            tool,
            start,
        )
        .await
        .map(flows::boxed_chunks)
    }
}
