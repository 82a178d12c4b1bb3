//! The background task of a [`SyncDocument`](super::SyncDocument): it owns the stream,
//! sends local updates, applies remote ones, and opens the document again after a
//! reconnection.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot, watch};
use yrs::updates::encoder::Encode;
use yrs::{AsyncTransact, Doc, ReadTxn, StateVector};

use super::{
    check_path, decode_sync_payload, encode_sync_payload, state_chunk, REMOTE_ORIGIN, TOOL,
    TOOLKIT, TOOL_ID,
};
use crate::core::content::Content;
use crate::core::error::{Error, Result};
use crate::core::stream::ToolCallStream;
use crate::RoomClient;

/// How the document is opened: its path and the start chunk's arguments.
pub(super) struct Reopen {
    pub(super) path: String,
    pub(super) create: bool,
    pub(super) schema: Option<Value>,
    pub(super) initial_json: Option<Value>,
}

impl Reopen {
    /// The start chunk's headers, exactly as the Python SDK writes them; `vector` is the
    /// base64 state vector when opening again.
    fn start_headers(&self, vector: Option<String>) -> Value {
        json!({
            "kind": "start",
            "path": self.path,
            "create": self.create,
            "vector": vector,
            "schema": self.schema.clone().unwrap_or(Value::Null),
            "schema_path": null,
            "initial_json": self.initial_json.clone().unwrap_or(Value::Null),
        })
    }

    /// Opens the stream and reads the state chunk: the stream, the schema and the state.
    pub(super) async fn open(
        &self,
        room: &RoomClient,
        vector: Option<String>,
    ) -> Result<(ToolCallStream, Value, Bytes)> {
        let mut stream = room.open_stream(TOOLKIT, TOOL).await?;
        // The SDKs send the start chunk without waiting for the reply to the invoke.
        stream
            .send_binary(self.start_headers(vector), Bytes::new())
            .await?;
        let first = stream.recv().await?.ok_or_else(|| {
            Error::unexpected(
                TOOL_ID,
                "sync.open stream closed before the initial document state was returned",
            )
        })?;
        let (schema, state) = state_chunk(first, &self.path)?;
        Ok((stream, schema, state))
    }
}

/// What the background task has done so far.
#[derive(Debug, Default)]
pub(super) struct Status {
    /// Sequence number of the last local update the server acknowledged.
    pub(super) acked: u64,
    /// Number of remote updates applied since the state chunk (not counting it).
    pub(super) remote: u64,
    /// Set once the task ended: `Ok` after the server's normal close.
    pub(super) ended: Option<std::result::Result<(), Arc<Error>>>,
}

/// Owns the stream: sends local updates, applies remote ones.
pub(super) struct Driver {
    pub(super) room: RoomClient,
    pub(super) stream: ToolCallStream,
    pub(super) doc: Doc,
    pub(super) reopen: Reopen,
    pub(super) updates: mpsc::UnboundedReceiver<(u64, Vec<u8>)>,
    /// Sequence number of the last local update committed.
    pub(super) queued: Arc<AtomicU64>,
    pub(super) status: watch::Sender<Status>,
}

impl Driver {
    pub(super) async fn run(mut self, close: oneshot::Receiver<()>) -> Result<()> {
        let result = self.session(close).await;
        let ended = match &result {
            Ok(()) => Ok(()),
            Err(e) => {
                tracing::debug!(path = %self.reopen.path, error = %e, "sync document ended");
                Err(Arc::new(e.replicate()))
            }
        };
        self.status.send_modify(|s| s.ended = Some(ended));
        // On error the stream's drop sends the request-side close, without waiting here.
        result
    }

    async fn session(&mut self, mut close: oneshot::Receiver<()>) -> Result<()> {
        let mut closing = false;
        let mut local_open = true;
        loop {
            tokio::select! {
                biased;
                update = self.updates.recv(), if local_open && !closing => match update {
                    Some((seq, update)) => match self.send_update(seq, update).await {
                        Err(Error::Disconnected { .. }) => self.resume().await?,
                        other => other?,
                    },
                    None => local_open = false,
                },
                _ = &mut close, if !closing => {
                    closing = true;
                    self.drain().await?;
                    self.stream.close().await?;
                }
                chunk = self.stream.recv() => match chunk {
                    Err(Error::Disconnected { .. }) if !closing => self.resume().await?,
                    Err(e) => return Err(e),
                    Ok(None) => {
                        // The server closed first: like the SDKs, send what is queued, then
                        // the request-side close.
                        if !closing {
                            self.drain().await?;
                            self.stream.close().await?;
                        }
                        return Ok(());
                    }
                    Ok(Some(chunk)) => self.apply(chunk).await?,
                }
            }
        }
    }

    /// The connection was lost: once the client is back, opens the document again with its
    /// state vector, applies what the server has that it lacks, and sends the whole local
    /// state once (duplicates merge), so nothing committed here is lost. Fails with
    /// [`Error::Closed`] when the client closes for good instead.
    async fn resume(&mut self) -> Result<()> {
        loop {
            self.room.wait_connected().await?;
            match self.reopen_stream().await {
                Err(Error::Disconnected { .. }) => continue,
                other => return other,
            }
        }
    }

    async fn reopen_stream(&mut self) -> Result<()> {
        // Async transactions: the user may hold one; the thread never blocks on it.
        let vector = AsyncTransact::transact(&self.doc)
            .await
            .state_vector()
            .encode_v1();
        let vector = base64::engine::general_purpose::STANDARD.encode(vector);
        let (mut stream, _schema, state) = self.reopen.open(&self.room, Some(vector)).await?;
        apply_remote(&self.doc, &state, "the state").await?;
        // Queued updates are in the whole state sent below.
        while self.updates.try_recv().is_ok() {}
        let sent_up_to = self.queued.load(Ordering::SeqCst);
        let full = AsyncTransact::transact(&self.doc)
            .await
            .encode_state_as_update_v1(&StateVector::default());
        stream
            .send_binary(json!({"kind": "sync"}), encode_sync_payload(&full))
            .await?;
        self.stream = stream;
        self.status
            .send_modify(|s| s.acked = s.acked.max(sent_up_to));
        tracing::debug!(path = %self.reopen.path, "sync document opened again after a reconnection");
        Ok(())
    }

    async fn drain(&mut self) -> Result<()> {
        while let Ok((seq, update)) = self.updates.try_recv() {
            self.send_update(seq, update).await?;
        }
        Ok(())
    }

    async fn send_update(&mut self, seq: u64, update: Vec<u8>) -> Result<()> {
        self.stream
            .send_binary(json!({"kind": "sync"}), encode_sync_payload(&update))
            .await?;
        self.status.send_modify(|s| s.acked = seq);
        Ok(())
    }

    async fn apply(&mut self, chunk: Content) -> Result<()> {
        let (headers, data) = match chunk {
            Content::Binary { headers, data } => (headers, data),
            Content::Error { text, code } => return Err(Error::server(code, text)),
            other => {
                return Err(Error::unexpected(
                    TOOL_ID,
                    format!("unexpected stream chunk: {}", other.header()),
                ))
            }
        };
        match headers.get("kind").and_then(Value::as_str) {
            Some("sync" | "state") => {}
            _ => {
                return Err(Error::unexpected(
                    TOOL_ID,
                    format!("unexpected sync chunk: {}", Value::Object(headers)),
                ))
            }
        }
        check_path(&headers, &self.reopen.path)?;
        // An empty tail only marks the document synchronized.
        if data.is_empty() {
            return Ok(());
        }
        apply_remote(&self.doc, &data, "an update").await?;
        self.status.send_modify(|s| s.remote += 1);
        Ok(())
    }
}

/// Applies a sync payload (`what`, for the error) from the room in a transaction whose
/// origin is [`REMOTE_ORIGIN`]; an empty payload changes nothing. Waits for the lock
/// without blocking the thread while the user holds a transaction.
pub(super) async fn apply_remote(doc: &Doc, payload: &[u8], what: &str) -> Result<()> {
    if payload.is_empty() {
        return Ok(());
    }
    let update = decode_sync_payload(payload)?;
    let mut txn = AsyncTransact::transact_mut_with(doc, REMOTE_ORIGIN).await;
    let applied = txn.apply_update(update);
    drop(txn); // commit: observers (and the echo) run here
    applied.map_err(|e| Error::unexpected(TOOL_ID, format!("cannot apply {what}: {e}")))
}
