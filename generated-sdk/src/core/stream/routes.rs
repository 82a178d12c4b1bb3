//! The stream engine's route: `room.tool_call_response_chunk` messages go to the open
//! stream named by their `tool_call_id`. The routing table is this route's own state.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::core::client::{RoomClient, Shared};
use crate::core::content::Content;
use crate::core::error::{Error, Result};
use crate::core::framing::Message;
use crate::core::packing::unpack;
use crate::core::router::Route;

/// Where the response chunks of open streams go, by `tool_call_id`: the stream engine's
/// route for `room.tool_call_response_chunk`.
#[derive(Default)]
pub(crate) struct StreamRoutes {
    state: Mutex<RoutesState>,
}

#[derive(Default)]
struct RoutesState {
    /// Set once the connection closed: no stream opens after that.
    closed: Option<String>,
    streams: HashMap<String, mpsc::UnboundedSender<Result<Content>>>,
}

impl StreamRoutes {
    fn lock(&self) -> MutexGuard<'_, RoutesState> {
        // Poisoning only means a panic elsewhere mid-update of a plain map.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The stream routes of `room`'s connection.
    pub(crate) fn of(room: &RoomClient) -> Result<Arc<StreamRoutes>> {
        room.shared()
            .route::<StreamRoutes>()
            .ok_or_else(|| room.shared().closed_error())
    }

    /// Routes the chunks of `tool_call_id` to `tx` from now on; fails once closed.
    pub(crate) fn insert(
        &self,
        tool_call_id: String,
        tx: mpsc::UnboundedSender<Result<Content>>,
    ) -> Result<()> {
        let mut st = self.lock();
        if let Some(reason) = &st.closed {
            return Err(Error::Closed {
                reason: reason.clone(),
            });
        }
        st.streams.insert(tool_call_id, tx);
        Ok(())
    }

    /// Whether chunks of `tool_call_id` are routed (for tests).
    #[cfg(test)]
    pub(crate) fn contains(&self, tool_call_id: &str) -> bool {
        self.lock().streams.contains_key(tool_call_id)
    }

    /// Stops routing the chunks of `tool_call_id` on `room`'s connection.
    pub(crate) fn remove_of(room: &RoomClient, tool_call_id: &str) {
        if let Some(routes) = room.shared().route::<StreamRoutes>() {
            routes.lock().streams.remove(tool_call_id);
        }
    }
}

impl Route for StreamRoutes {
    fn handle(&self, _shared: &Arc<Shared>, message: Message) {
        route_chunk(self, message.data);
    }

    fn closed(&self, reason: &str) {
        let streams = {
            let mut st = self.lock();
            st.closed.get_or_insert_with(|| reason.to_string());
            std::mem::take(&mut st.streams)
        };
        for (_, stream) in streams {
            let _ = stream.send(Err(Error::Closed {
                reason: reason.to_string(),
            }));
        }
    }
}

/// Routes one `room.tool_call_response_chunk` to its stream.
fn route_chunk(routes: &StreamRoutes, data: Bytes) {
    let packed = match unpack(data) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "skipping an unpackable stream chunk");
            return;
        }
    };
    let mut header = packed.header;
    let id = match header.remove("tool_call_id") {
        Some(Value::String(id)) if !id.is_empty() => id,
        _ => {
            tracing::warn!("skipping a stream chunk without tool_call_id");
            return;
        }
    };
    let chunk = chunk_content(header.remove("chunk"), packed.tail);
    let route = routes.lock().streams.get(&id).cloned();
    match route {
        Some(tx) => {
            let _ = tx.send(Ok(chunk));
        }
        None => tracing::debug!(tool_call_id = %id, "chunk for an unknown or finished stream"),
    }
}

/// A chunk as the Python SDK reads it: a content header when it has a known `type`,
/// otherwise its JSON kept as `json` content (never an error).
fn chunk_content(chunk: Option<Value>, tail: Bytes) -> Content {
    match chunk {
        Some(Value::Object(m)) if m.get("type").is_some_and(Value::is_string) => {
            Content::from_parts(m.clone(), tail).unwrap_or(Content::Json(Value::Object(m)))
        }
        Some(Value::String(s)) => Content::Text(s),
        None | Some(Value::Null) => Content::Empty,
        Some(other) => Content::Json(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_fails_open_streams_and_refuses_new_ones() {
        let routes = StreamRoutes::default();
        let (tx, mut rx) = mpsc::unbounded_channel();
        assert!(routes.insert("a".into(), tx).is_ok());
        assert!(routes.contains("a"));
        routes.closed("gone");
        assert!(!routes.contains("a"));
        assert!(matches!(rx.try_recv(), Ok(Err(Error::Closed { reason })) if reason == "gone"));
        let (tx, _rx) = mpsc::unbounded_channel();
        assert!(matches!(
            routes.insert("b".into(), tx),
            Err(Error::Closed { .. })
        ));
    }
}
