//! The `storage` toolkit: exists, stat, list, delete, move, and the pull-driven
//! `upload` / `download` streams. Changes are pushed to everyone as `storage.file.*`.

use bytes::Bytes;
use meshagent_room::{Content, ErrorCode};
use serde_json::{json, Value};

use super::Ctx;
use crate::streams::{binary, binary_kind, StreamCall};
use crate::wire::{bool_arg, json, json_args, str_arg, ToolError, ToolResult};

/// Bytes asked for per pull, and the most sent per download chunk (the SDKs' default).
const CHUNK_SIZE: u64 = 64 * 1024;
/// The largest download chunk a client may ask for.
const MAX_CHUNK_SIZE: u64 = 1 << 20;

/// The tools, for `room.list_toolkits`.
pub(crate) const TOOLS: &[super::ToolInfo] = &[
    ("exists", "Whether a path exists."),
    ("stat", "A file's or folder's entry."),
    ("list", "The entries of a folder."),
    ("delete", "Deletes a file, or a folder with recursive."),
    ("move", "Moves a file."),
    ("upload", "Uploads a file (stream, pulled by the room)."),
    (
        "download",
        "Downloads a file (stream, pulled by the client).",
    ),
];

pub(crate) async fn call(ctx: &Ctx, tool: &str, args: Content) -> ToolResult {
    let args = json_args(args)?;
    let storage = &ctx.room.storage;
    match tool {
        "exists" => {
            let found = storage.stat(str_arg(&args, "path")?).await?.is_some();
            Ok(json(json!({"exists": found})))
        }
        "stat" => Ok(json(match storage.stat(str_arg(&args, "path")?).await? {
            Some(entry) => {
                let mut v = entry.to_json();
                if let Value::Object(m) = &mut v {
                    m.insert("exists".into(), true.into());
                }
                v
            }
            None => json!({"exists": false}),
        })),
        "list" => {
            let files: Vec<Value> = storage
                .list(str_arg(&args, "path")?)
                .await?
                .iter()
                .map(|e| e.to_json())
                .collect();
            Ok(json(json!({"files": files})))
        }
        "delete" => {
            let path = str_arg(&args, "path")?;
            storage
                .delete(path, bool_arg(&args, "recursive", false)?)
                .await?;
            ctx.room.storage_event(
                "storage.file.deleted",
                json!({"path": path, "participant_id": ctx.participant.id}),
            );
            Ok(Content::Empty)
        }
        "move" => {
            let (from, to) = (
                str_arg(&args, "source_path")?,
                str_arg(&args, "destination_path")?,
            );
            storage
                .rename(from, to, bool_arg(&args, "overwrite", false)?)
                .await?;
            ctx.room.file_moved(from, to, &ctx.participant.id);
            Ok(Content::Empty)
        }
        "download_url" => Err(ToolError::new(
            ErrorCode::OperationFailed,
            "download_url is not served by devroom (it has no HTTP file server): use download",
        )),
        other => Err(super::unknown_tool("storage", other)),
    }
}

/// The start chunk's headers, or why there is none.
async fn start_headers(call: &mut StreamCall) -> Result<serde_json::Map<String, Value>, ToolError> {
    match call.next().await? {
        None => Err(ToolError::invalid(
            "the request stream closed before its start chunk",
        )),
        Some(Content::Binary { headers, .. })
            if headers.get("kind").and_then(Value::as_str) == Some("start") =>
        {
            Ok(headers)
        }
        Some(other) => Err(ToolError::invalid(format!(
            "expected a binary start chunk, got {}",
            other.type_name()
        ))),
    }
}

pub(crate) async fn upload(ctx: &Ctx, mut call: StreamCall) {
    if let Err(e) = try_upload(ctx, &mut call).await {
        call.fail(e).await;
    }
}

async fn try_upload(ctx: &Ctx, call: &mut StreamCall) -> Result<(), ToolError> {
    let start = start_headers(call).await?;
    let path = str_arg(&start, "path")?.to_string();
    let overwrite = bool_arg(&start, "overwrite", false)?;
    let mime_type = start
        .get("mime_type")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .unwrap_or("application/octet-stream");
    let size = start.get("size").and_then(Value::as_u64);
    let max = ctx.room.options.max_upload_size;
    let too_large = |n: u64| {
        ToolError::invalid(format!(
            "the upload of {n} bytes or more exceeds the limit of {max}"
        ))
    };
    if let Some(n) = size.filter(|n| *n > max) {
        return Err(too_large(n));
    }
    let mut writer = ctx.room.storage.writer(&path, overwrite, mime_type).await?;
    call.open().await;
    loop {
        call.chunk(&binary(
            json!({"kind": "pull", "chunk_size": CHUNK_SIZE}),
            Bytes::new(),
        ))
        .await;
        let Some(chunk) = call.next().await? else {
            break;
        };
        match (binary_kind(&chunk), &chunk) {
            (Some("data"), Content::Binary { data, .. }) => {
                let total = writer.written() + data.len() as u64;
                if total > max {
                    return Err(too_large(total));
                }
                writer.write(data).await?;
            }
            _ => {
                return Err(ToolError::invalid(format!(
                    "expected a binary data chunk, got {}",
                    chunk.type_name()
                )))
            }
        }
    }
    if let Some(n) = size.filter(|n| *n != writer.written()) {
        return Err(ToolError::invalid(format!(
            "announced {n} bytes, sent {}",
            writer.written()
        )));
    }
    writer.commit().await?;
    ctx.room.storage_event(
        "storage.file.updated",
        json!({"path": path, "participant_id": ctx.participant.id}),
    );
    call.close().await;
    Ok(())
}

pub(crate) async fn download(ctx: &Ctx, mut call: StreamCall) {
    if let Err(e) = try_download(ctx, &mut call).await {
        call.fail(e).await;
    }
}

async fn try_download(ctx: &Ctx, call: &mut StreamCall) -> Result<(), ToolError> {
    let start = start_headers(call).await?;
    let path = str_arg(&start, "path")?;
    let chunk_size = start
        .get("chunk_size")
        .and_then(Value::as_u64)
        .filter(|n| *n > 0)
        .unwrap_or(CHUNK_SIZE)
        .min(MAX_CHUNK_SIZE);
    let mut reader = ctx.room.storage.read(path).await?;
    call.open().await;
    let announce = json!({"kind": "start", "name": reader.name, "mime_type": reader.mime_type, "size": reader.size});
    call.chunk(&binary(announce, Bytes::new())).await;
    let mut sent = 0u64;
    while sent < reader.size {
        let Some(pull) = call.next().await? else {
            // The client stopped pulling: it gave up on the rest.
            break;
        };
        if binary_kind(&pull) != Some("pull") {
            return Err(ToolError::invalid(format!(
                "expected a pull chunk, got {}",
                pull.type_name()
            )));
        }
        let data = reader
            .read((reader.size - sent).min(chunk_size) as usize)
            .await?;
        if data.is_empty() {
            return Err(ToolError::new(
                ErrorCode::OperationFailed,
                format!("`{path}` shrank while it was read"),
            ));
        }
        sent += data.len() as u64;
        call.chunk(&binary(json!({"kind": "data"}), data)).await;
    }
    call.close().await;
    Ok(())
}
