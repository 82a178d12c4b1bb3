//! Live collaborative documents: `sync.open` with a [`yrs::Doc`] (cargo feature
//! `sync-doc`). See [`SyncDocument`] for the behaviour and the wire format.
#![cfg(feature = "sync-doc")]

use std::future::IntoFuture;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use yrs::{Doc, Options, Origin, XmlFragmentRef};

use crate::core::content::Content;
use crate::core::error::{Error, Result};
use crate::RoomClient;

pub use yrs;

mod driver;
mod wire;
use driver::{Driver, Reopen, Status};
pub use wire::{decode_sync_payload, encode_sync_payload, normalize_sync_path};

/// Toolkit of the stream.
const TOOLKIT: &str = "sync";
/// Tool of the stream.
const TOOL: &str = "open";
/// `toolkit.tool`, for errors.
const TOOL_ID: &str = "sync.open";

/// Name of the document's root shared type, an XML fragment, in every MeshAgent document.
pub const ROOT_NAME: &str = "xml";

/// Origin of the transactions that apply remote updates (compare with
/// `txn.origin()` in yrs observers to tell them from local changes).
pub const REMOTE_ORIGIN: &str = "meshagent-room/sync/remote";

#[cfg_attr(docsrs, doc(cfg(feature = "sync-doc")))]
impl RoomClient {
    /// Opens the collaborative document at `path` (`sync.open`); `.await` the returned
    /// request for a [`SyncDocument`] holding the server's state. Optional arguments:
    /// [`create`](SyncOpen::create) (default `true`), [`initial_json`](SyncOpen::initial_json),
    /// [`schema`](SyncOpen::schema), [`options`](SyncOpen::options),
    /// [`echo_remote_updates`](SyncOpen::echo_remote_updates).
    ///
    /// ```no_run
    /// # async fn demo(room: meshagent_room::RoomClient) -> meshagent_room::Result<()> {
    /// use meshagent_room::yrs::{Transact, XmlElementPrelim, XmlFragment, Xml};
    ///
    /// let doc = room.sync_open("/docs/notes.thread").create(true).await?;
    /// {
    ///     let mut txn = doc.doc().transact_mut();
    ///     let el = doc.root().push_back(&mut txn, XmlElementPrelim::empty("message"));
    ///     el.insert_attribute(&mut txn, "$id", "m2");
    /// } // committed: sent as one sync chunk
    /// doc.flush().await?; // acknowledged by the server
    /// doc.close().await?;
    /// # Ok(()) }
    /// ```
    pub fn sync_open(&self, path: impl Into<String>) -> SyncOpen {
        SyncOpen {
            room: self.clone(),
            path: path.into(),
            create: true,
            initial_json: None,
            schema: None,
            options: None,
            echo_remote: true,
        }
    }
}

/// A `sync.open` call; `.await` it to open the document.
#[must_use = "a request does nothing until it is awaited"]
pub struct SyncOpen {
    room: RoomClient,
    path: String,
    create: bool,
    initial_json: Option<Value>,
    schema: Option<Value>,
    options: Option<Options>,
    echo_remote: bool,
}

impl std::fmt::Debug for SyncOpen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncOpen")
            .field("path", &self.path)
            .field("create", &self.create)
            .field("initial_json", &self.initial_json)
            .field("schema", &self.schema)
            .field("echo_remote", &self.echo_remote)
            .finish_non_exhaustive()
    }
}

impl SyncOpen {
    /// Create the document when it does not exist (default `true`).
    pub fn create(mut self, create: bool) -> Self {
        self.create = create;
        self
    }

    /// Content of a newly created document: a JSON object shaped by its schema (e.g.
    /// `{"thread": {...}}`). Sent as `null` when not set.
    pub fn initial_json(mut self, json: Value) -> Self {
        self.initial_json = Some(json);
        self
    }

    /// The document's schema, a MeshSchema as JSON. Sent as `null` when not set.
    pub fn schema(mut self, schema: Value) -> Self {
        self.schema = Some(schema);
        self
    }

    /// Options of the local [`yrs::Doc`] (client id, offset kind, ...). Default:
    /// `Options::default()` (a random client id).
    pub fn options(mut self, options: Options) -> Self {
        self.options = Some(options);
        self
    }

    /// Whether remote updates are sent back to the server as both SDKs do (default `true`:
    /// the first sync chunk is then the server's own state). With `false` only transactions
    /// whose origin is not [`REMOTE_ORIGIN`] are sent.
    pub fn echo_remote_updates(mut self, echo: bool) -> Self {
        self.echo_remote = echo;
        self
    }

    /// What opening the document again (after a reconnection) sends.
    fn reopen(&self, path: &str) -> Reopen {
        Reopen {
            path: path.to_string(),
            create: self.create,
            schema: self.schema.clone(),
            initial_json: self.initial_json.clone(),
        }
    }

    async fn open(self) -> Result<SyncDocument> {
        let path = normalize_sync_path(&self.path);
        let doc = Doc::with_options(self.options.clone().unwrap_or_default());
        let root = doc.get_or_insert_xml_fragment(ROOT_NAME);

        let reopen = self.reopen(&path);
        let (stream, schema, state) = reopen.open(&self.room, None).await?;

        // Observe before applying the state, so it is echoed first (as the SDKs do).
        let (updates_tx, updates) = mpsc::unbounded_channel();
        let queued = Arc::new(AtomicU64::new(0));
        let observer_key = Origin::from(format!("meshagent-room/sync/{}", stream.tool_call_id()));
        let echo_remote = self.echo_remote;
        let counter = queued.clone();
        let remote = Origin::from(REMOTE_ORIGIN);
        doc.observe_update_v1(observer_key.clone(), move |txn, event| {
            if !echo_remote && txn.origin() == Some(&remote) {
                return;
            }
            // Observers run inside the commit, one at a time: sequence numbers follow the
            // order of the updates.
            let seq = counter.fetch_add(1, Ordering::SeqCst) + 1;
            let _ = updates_tx.send((seq, event.update.clone()));
        })
        .map_err(|e| Error::unexpected(TOOL_ID, format!("cannot observe the document: {e}")))?;
        driver::apply_remote(&doc, &state, "the state").await?;

        let (status_tx, status) = watch::channel(Status::default());
        let (close_tx, close_rx) = oneshot::channel();
        let driver = Driver {
            room: self.room.clone(),
            stream,
            doc: doc.clone(),
            reopen,
            updates,
            queued: queued.clone(),
            status: status_tx,
        };
        let task = tokio::spawn(driver.run(close_rx));
        Ok(SyncDocument {
            doc,
            root,
            path,
            schema,
            queued,
            status,
            close_tx: Some(close_tx),
            task: Some(task),
            observer_key,
        })
    }
}

impl IntoFuture for SyncOpen {
    type Output = Result<SyncDocument>;
    type IntoFuture = BoxFuture<'static, Result<SyncDocument>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.open())
    }
}

/// The first response chunk: `{kind: state, path, schema}` with the state in the tail.
pub(crate) fn state_chunk(chunk: Content, path: &str) -> Result<(Value, Bytes)> {
    let (headers, data) = match chunk {
        Content::Binary { headers, data } => (headers, data),
        Content::Error { text, code } => return Err(Error::server(code, text)),
        other => {
            return Err(Error::unexpected(
                TOOL_ID,
                format!("expected the state chunk, got {}", other.type_name()),
            ))
        }
    };
    let schema = match (headers.get("kind"), headers.get("schema")) {
        (Some(Value::String(k)), Some(schema @ Value::Object(_))) if k == "state" => schema.clone(),
        _ => {
            return Err(Error::unexpected(
                TOOL_ID,
                format!(
                    "the state chunk needs kind \"state\" and an object schema: {}",
                    Value::Object(headers)
                ),
            ))
        }
    };
    check_path(&headers, path)?;
    Ok((schema, data))
}

pub(crate) fn check_path(headers: &Map<String, Value>, path: &str) -> Result<()> {
    match headers.get("path").and_then(Value::as_str) {
        Some(p) if normalize_sync_path(p) == path => Ok(()),
        Some(_) => Err(Error::unexpected(
            TOOL_ID,
            "sync.open stream returned a mismatched path",
        )),
        None => Err(Error::unexpected(TOOL_ID, "a sync chunk without a path")),
    }
}

/// An open collaborative document: a [`yrs::Doc`] kept in sync with the room.
///
/// Edit it with ordinary yrs transactions on [`SyncDocument::doc`]; each committed
/// transaction is sent as one update. Remote changes arrive in transactions whose origin is
/// [`REMOTE_ORIGIN`]; observe them with yrs (`root().observe_deep(..)`, ...).
///
/// # Behaviour
///
/// [`RoomClient::sync_open`] opens the document at a path and returns a [`SyncDocument`] once
/// the server's state has been applied (as the SDKs' `open()` returns after
/// `doc.synchronized`). From then on a background task, owned by the document:
///
/// * applies every remote update (`sync` chunks) in a transaction whose origin is
///   [`REMOTE_ORIGIN`], so yrs observers see them like any other change;
/// * sends every committed transaction of the document, in order, as one `{kind: sync}`
///   request chunk and waits for its acknowledgement before the next.
///
/// Like both official SDKs, whose observers also fire for remote updates, remote updates are
/// echoed back too, so the first sync chunk sent is the server's own state
/// ([`SyncOpen::echo_remote_updates`] turns that off). Every sync tail, both directions, is
/// the ASCII text of standard base64 (with padding) of a Yjs **v1** update. The document has
/// one root shared type, the XML fragment [`ROOT_NAME`] (`"xml"`), whose children are
/// `XmlElement`s with a `"$id"` attribute and the element's properties as attributes, and
/// `XmlText` inside `text` elements.
///
/// Ending: [`SyncDocument::close`] sends what is still queued, then the request-side
/// `control/close`, and waits for the server's `control/close` (if the server never closes,
/// it waits forever, as in both SDKs: bound it with a timeout). Dropping the document stops
/// its task at once; the stream then sends its close on its own, and updates not yet sent are
/// lost. A disconnect, an `error` chunk or an abnormal close ends the task with that error,
/// which [`SyncDocument::closed`], [`SyncDocument::flush`] and [`SyncDocument::close`] return.
///
/// Differences from the SDKs: each `sync_open` is its own stream (the SDKs share one stream
/// per path through a reference count), and chunk headers are checked leniently (`kind` of
/// `sync` or `state`, a matching `path`; other keys are ignored), as TypeScript does.
pub struct SyncDocument {
    doc: Doc,
    root: XmlFragmentRef,
    path: String,
    schema: Value,
    queued: Arc<AtomicU64>,
    status: watch::Receiver<Status>,
    close_tx: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<()>>>,
    observer_key: Origin,
}

impl std::fmt::Debug for SyncDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncDocument")
            .field("path", &self.path)
            .field("client_id", &self.doc.client_id())
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

impl SyncDocument {
    /// The yrs document.
    pub fn doc(&self) -> &Doc {
        &self.doc
    }

    /// The root XML fragment ([`ROOT_NAME`]).
    pub fn root(&self) -> XmlFragmentRef {
        self.root.clone()
    }

    /// The normalized path of the document.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The document's schema as the server sent it (MeshSchema JSON).
    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// Whether the stream has ended (closed by the server, failed or disconnected); local
    /// changes are then no longer sent.
    pub fn is_closed(&self) -> bool {
        self.status.borrow().ended.is_some()
    }

    /// Waits until every update committed so far has been acknowledged by the server.
    /// Fails with the stream's error (or [`Error::Closed`]) if it ended before that.
    pub async fn flush(&self) -> Result<()> {
        let target = self.queued.load(Ordering::SeqCst);
        self.wait_status(
            |s| s.acked >= target,
            |_| {
                format!(
                    "sync document {} closed before its updates were sent",
                    self.path
                )
            },
        )
        .await
    }

    /// Number of remote updates (`sync` chunks with a payload) applied since the document
    /// was opened; the initial state is not counted.
    pub fn remote_updates(&self) -> u64 {
        self.status.borrow().remote
    }

    /// Waits until at least `count` remote updates have been applied (see
    /// [`remote_updates`](Self::remote_updates)). Fails with the stream's error (or
    /// [`Error::Closed`]) if it ended before that.
    pub async fn wait_remote_updates(&self, count: u64) -> Result<()> {
        self.wait_status(
            |s| s.remote >= count,
            |s| {
                format!(
                    "sync document {} closed after {} of {count} remote updates",
                    self.path, s.remote
                )
            },
        )
        .await
    }

    /// Waits until `done` holds for the status, or fails once the sync task ended first:
    /// with the stream's error, or [`Error::Closed`] with `closed`'s reason.
    async fn wait_status(
        &self,
        done: impl Fn(&Status) -> bool,
        closed: impl FnOnce(&Status) -> String,
    ) -> Result<()> {
        let mut status = self.status.clone();
        let s = status
            .wait_for(|s| done(s) || s.ended.is_some())
            .await
            .map_err(|_| self.ended_error())?;
        if done(&s) {
            return Ok(());
        }
        Err(match &s.ended {
            Some(Err(e)) => e.replicate(),
            _ => Error::Closed { reason: closed(&s) },
        })
    }

    /// Waits until the stream ends: `Ok` after the server's normal close, else its error
    /// (e.g. [`Error::Closed`] when the connection drops).
    pub async fn closed(&self) -> Result<()> {
        let mut status = self.status.clone();
        let s = status
            .wait_for(|s| s.ended.is_some())
            .await
            .map_err(|_| self.ended_error())?;
        match &s.ended {
            Some(Err(e)) => Err(e.replicate()),
            _ => Ok(()),
        }
    }

    fn ended_error(&self) -> Error {
        Error::Closed {
            reason: format!("the sync task of {} is gone", self.path),
        }
    }

    /// Sends the queued updates and the request-side `control/close`, then waits for the
    /// server's `control/close`. Returns the stream's error if it had failed.
    pub async fn close(mut self) -> Result<()> {
        if let Some(tx) = self.close_tx.take() {
            let _ = tx.send(());
        }
        // Awaited in place: if this future is dropped, `Drop` still stops the task.
        let Some(task) = self.task.as_mut() else {
            return Ok(());
        };
        let joined = task.await;
        self.task = None;
        joined.unwrap_or_else(|e| {
            Err(Error::Closed {
                reason: format!("the sync task of {} failed: {e}", self.path),
            })
        })
    }
}

impl Drop for SyncDocument {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        // Fails only while a transaction is open elsewhere; the observer then finds its
        // channel closed and drops what it sees.
        let _ = self.doc.unobserve_update_v1(self.observer_key.clone());
    }
}
