//! The `messaging` toolkit: enable/disable, send to one participant, broadcast. Messages and
//! presence reach participants that enabled messaging as `messaging.send` pushes.

use base64::Engine;
use bytes::Bytes;
use meshagent_room::{Content, ErrorCode};
use serde_json::{json, Map, Value};

use super::Ctx;
use crate::participant::Participant;
use crate::wire::{json_args, str_arg, ToolError, ToolResult};

/// The packet type of messages and presence events.
pub(crate) const MESSAGING_SEND: &str = "messaging.send";

/// The tools, for `room.list_toolkits`.
pub(crate) const TOOLS: &[super::ToolInfo] = &[
    ("enable", "Starts receiving messages and presence."),
    ("disable", "Stops receiving them."),
    ("send", "Sends a message to one participant."),
    ("broadcast", "Sends a message to every other participant."),
];

/// Pushes `messaging.send` of `type` from `from` to `to`.
pub(crate) fn deliver(
    to: &Participant,
    from: &str,
    kind: &str,
    message: Value,
    attachment: &[u8],
) -> bool {
    let header = json!({"from_participant_id": from, "type": kind, "message": message});
    to.push(MESSAGING_SEND, &header, attachment)
}

/// A user message's body and attachment from the tool input.
fn message_of(args: &Map<String, Value>) -> Result<(String, Value, Bytes), ToolError> {
    let kind = str_arg(args, "type")?.to_string();
    let message: Value = serde_json::from_str(str_arg(args, "message_json")?)
        .map_err(|e| ToolError::invalid(format!("`message_json` is not JSON: {e}")))?;
    let attachment = match args.get("attachment_base64") {
        None | Some(Value::Null) => Bytes::new(),
        Some(Value::String(b64)) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map(Bytes::from)
            .map_err(|e| ToolError::invalid(format!("`attachment_base64` is not base64: {e}")))?,
        Some(other) => {
            return Err(ToolError::invalid(format!(
                "`attachment_base64` must be a string, got {other}"
            )))
        }
    };
    Ok((kind, message, attachment))
}

pub(crate) async fn call(ctx: &Ctx, tool: &str, args: Content) -> ToolResult {
    let args = json_args(args)?;
    let me = &ctx.participant;
    match tool {
        "enable" => {
            let first = !me.set_messaging(true);
            // Always answered (the SDKs wait for it); the others hear of the first only.
            let peers = ctx.room.messaging_peers(&me.id);
            let others: Vec<Value> = peers.iter().map(|p| p.describe()).collect();
            deliver(
                me,
                &me.id,
                "messaging.enabled",
                json!({"participants": others}),
                &[],
            );
            if first {
                for p in peers {
                    deliver(&p, &me.id, "participant.enabled", me.describe(), &[]);
                }
            }
            Ok(Content::Empty)
        }
        "disable" => {
            if me.set_messaging(false) {
                ctx.room.announce_gone(me);
            }
            Ok(Content::Empty)
        }
        "send" => {
            let to = str_arg(&args, "to_participant_id")?;
            let (kind, message, attachment) = message_of(&args)?;
            let target = ctx.room.participant(to).filter(|p| p.messaging_enabled());
            let Some(target) = target else {
                // The TypeScript SDK matches this exact text.
                return Err(ToolError::new(
                    ErrorCode::NotFound,
                    "the participant was not found",
                ));
            };
            if !deliver(&target, &me.id, &kind, message, &attachment) {
                return Err(ToolError::new(
                    ErrorCode::OperationFailed,
                    "the participant is not reading its messages",
                ));
            }
            Ok(Content::Empty)
        }
        "broadcast" => {
            let (kind, message, attachment) = message_of(&args)?;
            for p in ctx.room.messaging_peers(&me.id) {
                deliver(&p, &me.id, &kind, message.clone(), &attachment);
            }
            Ok(Content::Empty)
        }
        "stream" => Err(ToolError::new(
            ErrorCode::OperationFailed,
            "messaging.stream is not served by devroom",
        )),
        other => Err(super::unknown_tool("messaging", other)),
    }
}
