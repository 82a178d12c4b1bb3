//! The `queues` toolkit: named FIFO queues of JSON messages, bounded in length.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use meshagent_room::{Content, ErrorCode};
use serde_json::{json, Value};
use tokio::sync::Notify;

use super::Ctx;
use crate::wire::{bool_arg, json, json_args, str_arg, ToolError, ToolResult};

/// The tools, for `room.list_toolkits`.
pub(crate) const TOOLS: &[super::ToolInfo] = &[
    ("list", "The queues and their lengths."),
    ("open", "Creates a queue if missing."),
    ("send", "Appends a JSON message."),
    (
        "receive",
        "Takes the oldest message (waits for one with wait).",
    ),
    ("drain", "Empties a queue."),
    ("close", "Deletes a queue."),
];

#[derive(Default)]
struct Queue {
    items: VecDeque<Value>,
    /// Wakes one waiting receiver per message sent.
    arrived: Arc<Notify>,
}

/// The queues of a room.
pub(crate) struct Queues {
    queues: Mutex<HashMap<String, Queue>>,
    max_len: usize,
}

fn not_found(name: &str) -> ToolError {
    ToolError::new(
        ErrorCode::QueueNotFound,
        format!("queue `{name}` was not found"),
    )
}

impl Queues {
    pub(crate) fn new(max_len: usize) -> Queues {
        Queues {
            queues: Mutex::default(),
            max_len,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Queue>> {
        self.queues.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn send(&self, name: &str, create: bool, message: Value) -> Result<(), ToolError> {
        let mut queues = self.lock();
        let queue = match queues.get_mut(name) {
            Some(q) => q,
            None if create => queues.entry(name.to_string()).or_default(),
            None => return Err(not_found(name)),
        };
        if queue.items.len() >= self.max_len {
            return Err(ToolError::new(
                ErrorCode::OperationFailed,
                format!("queue `{name}` is full ({} messages)", self.max_len),
            ));
        }
        queue.items.push_back(message);
        queue.arrived.notify_one();
        Ok(())
    }

    async fn receive(
        &self,
        name: &str,
        create: bool,
        wait: bool,
    ) -> Result<Option<Value>, ToolError> {
        loop {
            let arrived = {
                let mut queues = self.lock();
                let queue = match queues.get_mut(name) {
                    Some(q) => q,
                    None if create => queues.entry(name.to_string()).or_default(),
                    None => return Err(not_found(name)),
                };
                if let Some(message) = queue.items.pop_front() {
                    return Ok(Some(message));
                }
                if !wait {
                    return Ok(None);
                }
                queue.arrived.clone()
            };
            // A message sent between the unlock and here left a permit: no wake-up is lost.
            arrived.notified().await;
        }
    }
}

pub(crate) async fn call(ctx: &Ctx, tool: &str, args: Content) -> ToolResult {
    let args = json_args(args)?;
    let queues = &ctx.room.queues;
    match tool {
        "list" => {
            let list: Vec<Value> = queues
                .lock()
                .iter()
                .map(|(name, q)| json!({"name": name, "size": q.items.len()}))
                .collect();
            Ok(json(json!({"queues": list})))
        }
        "open" => {
            queues
                .lock()
                .entry(str_arg(&args, "name")?.to_string())
                .or_default();
            Ok(Content::Empty)
        }
        "send" => {
            let message = args
                .get("message")
                .cloned()
                .ok_or_else(|| ToolError::invalid("`message` is missing"))?;
            queues.send(
                str_arg(&args, "name")?,
                bool_arg(&args, "create", true)?,
                message,
            )?;
            Ok(Content::Empty)
        }
        "receive" => {
            let name = str_arg(&args, "name")?;
            let found = queues
                .receive(
                    name,
                    bool_arg(&args, "create", true)?,
                    bool_arg(&args, "wait", true)?,
                )
                .await?;
            Ok(found.map_or(Content::Empty, Content::Json))
        }
        "drain" => {
            let name = str_arg(&args, "name")?;
            queues
                .lock()
                .get_mut(name)
                .ok_or_else(|| not_found(name))?
                .items
                .clear();
            Ok(Content::Empty)
        }
        "close" => {
            let name = str_arg(&args, "name")?;
            queues.lock().remove(name).ok_or_else(|| not_found(name))?;
            Ok(Content::Empty)
        }
        other => Err(super::unknown_tool("queues", other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_waiting_receiver_gets_the_next_message() {
        let queues = Arc::new(Queues::new(2));
        let waiting = tokio::spawn({
            let queues = queues.clone();
            async move { queues.receive("q", true, true).await }
        });
        tokio::task::yield_now().await;
        assert!(queues.send("q", true, json!({"n": 1})).is_ok());
        let got = tokio::time::timeout(std::time::Duration::from_secs(5), waiting).await;
        assert!(matches!(got, Ok(Ok(Ok(Some(v)))) if v == json!({"n": 1})));
        assert!(queues.send("q", false, json!(2)).is_ok());
        assert!(queues.send("q", false, json!(3)).is_ok());
        assert_eq!(
            queues.send("q", false, json!(4)).map_err(|e| e.code),
            Err(ErrorCode::OperationFailed)
        );
        assert_eq!(
            queues.send("nope", false, json!(1)).map_err(|e| e.code),
            Err(ErrorCode::QueueNotFound)
        );
    }
}
