//! The built-in toolkits, reached through `room.invoke_tool`.

mod developer;
pub(crate) mod messaging;
mod queues;
mod storage;
#[cfg(feature = "sync")]
mod sync;

use std::sync::Arc;

use meshagent_room::{Content, ErrorCode};
use serde_json::{json, Map, Value};

pub(crate) use developer::DeveloperLog;
pub(crate) use queues::Queues;
#[cfg(feature = "sync")]
pub(crate) use sync::SyncDocs;

use crate::participant::Participant;
use crate::room::Room;
use crate::streams::StreamCall;
use crate::wire::{ToolError, ToolResult};

/// Who calls, in which room.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub room: Arc<Room>,
    pub participant: Arc<Participant>,
}

/// A tool's name and description.
type ToolInfo = (&'static str, &'static str);

/// The built-in toolkits: name, description, tools.
const BUILT_IN: &[(&str, &str, &[ToolInfo])] = &[
    ("storage", "Files of the room.", storage::TOOLS),
    ("queues", "Message queues of the room.", queues::TOOLS),
    (
        "messaging",
        "Messages between participants.",
        messaging::TOOLS,
    ),
    ("developer", "The room's developer log.", developer::TOOLS),
    #[cfg(feature = "sync")]
    ("sync", "Shared documents (Yjs).", sync::TOOLS),
];

/// Whether `toolkit` is built in.
pub(crate) fn is_built_in(toolkit: &str) -> bool {
    BUILT_IN.iter().any(|(name, _, _)| *name == toolkit)
}

/// Whether `toolkit.tool` is a streamed call.
pub(crate) fn is_streamed(toolkit: &str, tool: &str) -> bool {
    matches!(
        (toolkit, tool),
        ("storage", "upload") | ("storage", "download") | ("developer", "logs") | ("sync", "open")
    )
}

pub(crate) fn unknown_tool(toolkit: &str, tool: &str) -> ToolError {
    ToolError::new(
        ErrorCode::NotFound,
        format!("devroom's `{toolkit}` has no tool `{tool}`"),
    )
}

/// Runs a plain call of a built-in toolkit.
pub(crate) async fn call(ctx: &Ctx, toolkit: &str, tool: &str, args: Content) -> ToolResult {
    match toolkit {
        "storage" => storage::call(ctx, tool, args).await,
        "queues" => queues::call(ctx, tool, args).await,
        "messaging" => messaging::call(ctx, tool, args).await,
        "developer" => developer::call(ctx, tool, args).await,
        #[cfg(feature = "sync")]
        "sync" => sync::call(ctx, tool, args).await,
        other => Err(ToolError::new(
            ErrorCode::NotFound,
            format!("toolkit `{other}` was not found"),
        )),
    }
}

/// Runs a streamed call of a built-in toolkit.
pub(crate) async fn stream(ctx: &Ctx, toolkit: &str, tool: &str, mut call: StreamCall) {
    match (toolkit, tool) {
        ("storage", "upload") => storage::upload(ctx, call).await,
        ("storage", "download") => storage::download(ctx, call).await,
        ("developer", "logs") => developer::logs(ctx, call).await,
        #[cfg(feature = "sync")]
        ("sync", "open") => sync::open(ctx, call).await,
        _ => call.fail(unknown_tool(toolkit, tool)).await,
    }
}

/// The built-in toolkits as `room.list_toolkits` describes toolkits.
pub(crate) fn descriptions() -> Map<String, Value> {
    BUILT_IN
        .iter()
        .map(|(name, description, tools)| {
            let tools: Map<String, Value> = tools
                .iter()
                .map(|(tool, text)| {
                    let d = json!({"title": tool, "description": text, "input_spec": null, "output_spec": null, "thumbnail_url": null, "defs": null, "pricing": null, "supports_context": false});
                    (tool.to_string(), d)
                })
                .collect();
            let d = json!({"title": name, "description": description, "thumbnail_url": null, "participant_id": null, "annotations": {}, "tools": tools});
            (name.to_string(), d)
        })
        .collect()
}
