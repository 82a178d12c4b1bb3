//! Toolkits hosted by participants: `room.register_toolkit` / `room.unregister_toolkit`,
//! calls routed to the host as `room.tool_call.<toolkit>` and its `room.tool_call_response`
//! passed back, and `room.list_toolkits`.

use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use meshagent_room::ErrorCode;
use serde_json::{json, Map, Value};

use crate::participant::Participant;
use crate::wire::ToolError;

/// Prefix of the packet type of a call pushed to its host.
const HOSTED_CALL_PREFIX: &str = "room.tool_call.";

/// Toolkits one participant may register.
const MAX_PER_PARTICIPANT: usize = 256;

struct Registration {
    id: String,
    name: String,
    participant_id: String,
    public: bool,
    /// The `room.register_toolkit` body: title, description, tools, ...
    body: Map<String, Value>,
}

/// The hosted toolkits of a room.
#[derive(Default)]
pub(crate) struct Toolkits {
    registrations: Mutex<Vec<Registration>>,
}

impl Toolkits {
    fn lock(&self) -> MutexGuard<'_, Vec<Registration>> {
        self.registrations.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a toolkit of `participant_id`; returns its registration id. A toolkit of the
    /// same name the participant registered before is replaced.
    pub(crate) fn register(
        &self,
        participant_id: &str,
        body: Map<String, Value>,
    ) -> Result<String, ToolError> {
        let name = match body.get("name") {
            Some(Value::String(n)) if !n.is_empty() => n.clone(),
            _ => return Err(ToolError::invalid("`name` must be a non-empty string")),
        };
        if !matches!(body.get("tools"), None | Some(Value::Object(_))) {
            return Err(ToolError::invalid("`tools` must be an object"));
        }
        let public = body.get("public").and_then(Value::as_bool).unwrap_or(false);
        let mut regs = self.lock();
        regs.retain(|r| !(r.participant_id == participant_id && r.name == name));
        if regs
            .iter()
            .filter(|r| r.participant_id == participant_id)
            .count()
            >= MAX_PER_PARTICIPANT
        {
            return Err(ToolError::new(
                ErrorCode::OperationFailed,
                "too many toolkits registered",
            ));
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        regs.push(Registration {
            id: id.clone(),
            name,
            participant_id: participant_id.to_string(),
            public,
            body,
        });
        Ok(id)
    }

    pub(crate) fn unregister(&self, participant_id: &str, id: &str) -> Result<(), ToolError> {
        let mut regs = self.lock();
        let before = regs.len();
        regs.retain(|r| !(r.participant_id == participant_id && r.id == id));
        if regs.len() == before {
            return Err(ToolError::new(
                ErrorCode::NotFound,
                format!("no toolkit registration `{id}` of this participant"),
            ));
        }
        Ok(())
    }

    /// Forgets every toolkit of a participant that left.
    pub(crate) fn remove_owner(&self, participant_id: &str) {
        self.lock().retain(|r| r.participant_id != participant_id);
    }

    /// The host of `name`: the one `participant_id` names, else a public registration.
    pub(crate) fn host_of(&self, name: &str, participant_id: Option<&str>) -> Option<String> {
        let regs = self.lock();
        regs.iter()
            .find(|r| r.name == name && participant_id.map_or(r.public, |p| r.participant_id == p))
            .map(|r| r.participant_id.clone())
    }

    /// `room.list_toolkits` entries: the public toolkits, or every toolkit of `participant_id`.
    pub(crate) fn describe(&self, participant_id: Option<&str>) -> Map<String, Value> {
        let regs = self.lock();
        regs.iter()
            .filter(|r| participant_id.map_or(r.public, |p| r.participant_id == p))
            .map(|r| {
                let field = |k: &str| r.body.get(k).cloned().unwrap_or(Value::Null);
                let title = r
                    .body
                    .get("title")
                    .cloned()
                    .unwrap_or_else(|| json!(r.name));
                let d = json!({
                    "title": title,
                    "description": r.body.get("description").cloned().unwrap_or_else(|| json!("")),
                    "thumbnail_url": field("thumbnail_url"),
                    "participant_id": r.participant_id,
                    "annotations": r.body.get("annotations").cloned().unwrap_or_else(|| json!({})),
                    "tools": r.body.get("tools").cloned().unwrap_or_else(|| json!({})),
                });
                (r.name.clone(), d)
            })
            .collect()
    }
}

/// Calls `toolkit.tool` on its host and waits for the packed reply (within `timeout`).
pub(crate) async fn call_hosted(
    host: &Participant,
    caller_id: &str,
    toolkit: &str,
    tool: &str,
    arguments: Value,
    tail: Bytes,
    timeout: std::time::Duration,
) -> Result<Bytes, ToolError> {
    let id = host.next_id();
    let answer = host.expect_hosted_answer(id);
    let header = json!({"name": tool, "arguments": arguments, "caller_id": caller_id});
    if !host.push_with_id(
        id,
        &format!("{HOSTED_CALL_PREFIX}{toolkit}"),
        &header,
        &tail,
    ) {
        host.forget_hosted_call(id);
        return Err(ToolError::new(
            ErrorCode::OperationFailed,
            format!("the host of `{toolkit}` is not reading"),
        ));
    }
    match tokio::time::timeout(timeout, answer).await {
        Ok(Ok(reply)) => Ok(reply),
        Ok(Err(_)) => Err(ToolError::new(
            ErrorCode::OperationFailed,
            format!("the host of `{toolkit}` left before answering"),
        )),
        Err(_) => {
            host.forget_hosted_call(id);
            Err(ToolError::new(
                ErrorCode::Timeout,
                format!("the host of `{toolkit}` did not answer within {timeout:?}"),
            ))
        }
    }
}

/// The host participant of a call, if the toolkit is hosted.
pub(crate) fn find_host(
    room: &crate::room::Room,
    toolkit: &str,
    participant_id: Option<&str>,
) -> Option<Arc<Participant>> {
    let host = room.toolkits.host_of(toolkit, participant_id)?;
    room.participant(&host)
}
