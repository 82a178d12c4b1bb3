//! The `developer` toolkit: participants write log entries (`log`, `info`, `warning`,
//! `error`); `logs` streams every entry written while it is open.

use bytes::Bytes;
use meshagent_room::Content;
use serde_json::{json, Map, Value};
use tokio::sync::broadcast;

use super::Ctx;
use crate::streams::{binary, StreamCall};
use crate::wire::{json_args, str_arg, ToolError, ToolResult};

/// Entries a slow `logs` reader may fall behind before it skips some.
const LOG_BUFFER: usize = 1024;

/// The tools, for `room.list_toolkits`.
pub(crate) const TOOLS: &[super::ToolInfo] = &[
    ("log", "Writes a log entry of a type with JSON data."),
    ("info", "Writes an info message."),
    ("warning", "Writes a warning message."),
    ("error", "Writes an error message."),
    ("logs", "Streams the entries written while it is open."),
];

/// A room's log: a broadcast of (type, data) entries.
pub(crate) struct DeveloperLog {
    entries: broadcast::Sender<(String, Value)>,
}

impl Default for DeveloperLog {
    fn default() -> Self {
        DeveloperLog {
            entries: broadcast::channel(LOG_BUFFER).0,
        }
    }
}

impl DeveloperLog {
    fn write(&self, kind: String, data: Value) {
        // No reader is fine: nobody is watching the log.
        let _ = self.entries.send((kind, data));
    }
}

pub(crate) async fn call(ctx: &Ctx, tool: &str, args: Content) -> ToolResult {
    let args = json_args(args)?;
    let log = &ctx.room.developer;
    match tool {
        "log" => {
            let data = match args.get("data") {
                None | Some(Value::Null) => Value::Object(Map::new()),
                Some(d @ Value::Object(_)) => d.clone(),
                Some(other) => {
                    return Err(ToolError::invalid(format!(
                        "`data` must be an object, got {other}"
                    )))
                }
            };
            log.write(str_arg(&args, "type")?.to_string(), data);
            Ok(Content::Empty)
        }
        "info" | "warning" | "error" => {
            let extra = args.get("extra").cloned().unwrap_or_else(|| json!({}));
            log.write(
                tool.to_string(),
                json!({"message": str_arg(&args, "message")?, "extra": extra}),
            );
            Ok(Content::Empty)
        }
        other => Err(super::unknown_tool("developer", other)),
    }
}

/// `developer.logs`: each entry as a binary chunk `{type}` with the data's JSON as bytes.
pub(crate) async fn logs(ctx: &Ctx, mut call: StreamCall) {
    let mut entries = ctx.room.developer.entries.subscribe();
    call.open().await;
    loop {
        tokio::select! {
            entry = entries.recv() => match entry {
                Ok((kind, data)) => {
                    let bytes = Bytes::from(serde_json::to_vec(&data).unwrap_or_default());
                    if !call.chunk(&binary(json!({"type": kind}), bytes)).await {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(skipped = n, "a developer.logs reader fell behind");
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            chunk = call.next_unbounded() => {
                if chunk.is_none() {
                    break;
                }
            }
        }
    }
    call.close().await;
}
