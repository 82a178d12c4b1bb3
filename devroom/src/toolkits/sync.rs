//! The `sync` toolkit: documents kept as yrs docs. `open` sends a document's state, then
//! applies each participant's updates and passes them on to the others with the same
//! document open.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use base64::Engine;
use bytes::Bytes;
use meshagent_room::yrs::updates::decoder::Decode;
use meshagent_room::yrs::{Doc, ReadTxn, StateVector, Transact};
use meshagent_room::{
    decode_sync_payload, encode_sync_payload, normalize_sync_path, Content, ErrorCode,
};
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;

use super::Ctx;
use crate::streams::{binary, StreamCall};
use crate::wire::{bool_arg, json_args, str_arg, ToolError, ToolResult};

/// Updates one open document may have waiting for its client; a client further behind is
/// dropped from the document (its stream ends with an error).
const PENDING_UPDATES: usize = 256;

/// The tools, for `room.list_toolkits`.
pub(crate) const TOOLS: &[super::ToolInfo] = &[
    ("create", "Creates a document if missing."),
    (
        "open",
        "Opens a document: its state, then updates both ways (stream).",
    ),
];

/// The schema given to documents opened without one: a MeshSchema with an empty root
/// element `document` (the SDKs need an object).
fn default_schema() -> Value {
    let element = json!({
        "type": "object", "additionalProperties": false, "required": ["document"],
        "properties": {"document": {"type": "object", "additionalProperties": false, "required": [], "properties": {}}},
    });
    json!({
        "$root_tag_ref": "#/$defs/document",
        "type": "object", "additionalProperties": false, "required": ["document"],
        "properties": element["properties"].clone(),
        "$defs": {"document": element},
    })
}

struct SyncDoc {
    doc: Mutex<Doc>,
    schema: Mutex<Value>,
    /// The open streams of this document, by subscription number.
    readers: Mutex<HashMap<u64, mpsc::Sender<Bytes>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A room's documents, by normalized path.
#[derive(Default)]
pub(crate) struct SyncDocs {
    docs: Mutex<HashMap<String, Arc<SyncDoc>>>,
    next_reader: AtomicU64,
}

impl SyncDocs {
    fn get(
        &self,
        path: &str,
        create: bool,
        schema: Option<&Value>,
    ) -> Result<Arc<SyncDoc>, ToolError> {
        let mut docs = lock(&self.docs);
        if let Some(doc) = docs.get(path) {
            return Ok(doc.clone());
        }
        if !create {
            return Err(ToolError::new(
                ErrorCode::NotFound,
                format!("document `{path}` was not found"),
            ));
        }
        let doc = Arc::new(SyncDoc {
            doc: Mutex::new(Doc::new()),
            schema: Mutex::new(schema.cloned().unwrap_or_else(default_schema)),
            readers: Mutex::default(),
        });
        docs.insert(path.to_string(), doc.clone());
        Ok(doc)
    }
}

/// An object schema from a tool input, if given.
fn schema_arg(args: &Map<String, Value>) -> Option<&Value> {
    args.get("schema").filter(|s| s.is_object())
}

pub(crate) async fn call(ctx: &Ctx, tool: &str, args: Content) -> ToolResult {
    let args = json_args(args)?;
    match tool {
        "create" => {
            let path = normalize_sync_path(str_arg(&args, "path")?);
            ctx.room.docs.get(&path, true, schema_arg(&args))?;
            Ok(Content::Empty)
        }
        other => Err(super::unknown_tool("sync", other)),
    }
}

/// Unregisters a reader from its document when its stream ends.
struct Reader {
    doc: Arc<SyncDoc>,
    id: u64,
}

impl Drop for Reader {
    fn drop(&mut self) {
        lock(&self.doc.readers).remove(&self.id);
    }
}

pub(crate) async fn open(ctx: &Ctx, mut call: StreamCall) {
    if let Err(e) = try_open(ctx, &mut call).await {
        call.fail(e).await;
    }
}

async fn try_open(ctx: &Ctx, call: &mut StreamCall) -> Result<(), ToolError> {
    let start = match call.next().await? {
        None => {
            return Err(ToolError::invalid(
                "the request stream closed before its start chunk",
            ))
        }
        Some(Content::Binary { headers, .. })
            if headers.get("kind").and_then(Value::as_str) == Some("start") =>
        {
            headers
        }
        Some(other) => {
            return Err(ToolError::invalid(format!(
                "expected a binary start chunk, got {}",
                other.type_name()
            )))
        }
    };
    let path = normalize_sync_path(str_arg(&start, "path")?);
    let doc = ctx
        .room
        .docs
        .get(&path, bool_arg(&start, "create", true)?, schema_arg(&start))?;
    let vector = match start.get("vector") {
        Some(Value::String(b64)) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| ToolError::invalid(format!("`vector` is not base64: {e}")))?;
            StateVector::decode_v1(&bytes)
                .map_err(|e| ToolError::invalid(format!("`vector` is not a state vector: {e}")))?
        }
        _ => StateVector::default(),
    };
    let id = ctx.room.docs.next_reader.fetch_add(1, Ordering::Relaxed);
    let (tx, mut updates) = mpsc::channel(PENDING_UPDATES);
    // Registered before the state is taken: no update falls between the two.
    lock(&doc.readers).insert(id, tx);
    let _reader = Reader {
        doc: doc.clone(),
        id,
    };
    let state = lock(&doc.doc).transact().encode_state_as_update_v1(&vector);
    let schema = lock(&doc.schema).clone();
    call.open().await;
    call.chunk(&binary(
        json!({"kind": "state", "path": path, "schema": schema}),
        encode_sync_payload(&state),
    ))
    .await;
    loop {
        tokio::select! {
            update = updates.recv() => {
                let Some(update) = update else {
                    return Err(ToolError::new(ErrorCode::OperationFailed, "fell too far behind the document's updates"));
                };
                call.chunk(&binary(json!({"kind": "sync", "path": path}), update)).await;
            }
            chunk = call.next_unbounded() => match chunk {
                None => break,
                Some(Content::Binary { headers, data }) if headers.get("kind").and_then(Value::as_str) == Some("sync") => {
                    apply(&doc, id, data)?;
                }
                Some(other) => return Err(ToolError::invalid(format!("expected a binary sync chunk, got {}", other.type_name()))),
            },
        }
    }
    call.close().await;
    Ok(())
}

/// Applies a client's update (a sync tail) and passes it on to the document's other readers.
fn apply(doc: &SyncDoc, from: u64, payload: Bytes) -> Result<(), ToolError> {
    if payload.is_empty() {
        return Ok(());
    }
    let update = decode_sync_payload(&payload).map_err(|e| ToolError::invalid(e.to_string()))?;
    lock(&doc.doc)
        .transact_mut()
        .apply_update(update)
        .map_err(|e| ToolError::invalid(format!("cannot apply the update: {e}")))?;
    lock(&doc.readers).retain(|id, reader| {
        if *id == from {
            return true;
        }
        // A reader whose queue is full is dropped: its stream ends with an error.
        reader.try_send(payload.clone()).is_ok()
    });
    Ok(())
}
