//! The stream engine's route: `room.tool_call_response_chunk` messages go to the open
//! stream named by their `tool_call_id`. The routing table is this route's own state.
//!
//! Each stream's unread chunks are metered: over `ConnectOptions::stream_buffer` bytes,
//! the client stops reading the connection until the stream's reader catches up
//! (`core::backpressure`), so a room that pushes faster than it is read fills TCP, not
//! memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::core::backpressure::{Backpressure, Meter};
use crate::core::client::RoomClient;
use crate::core::content::Content;
use crate::core::error::{Error, Result};
use crate::core::framing::Message;
use crate::core::link::ConnectionEvent;
use crate::core::packing::unpack;
use crate::core::router::Route;
use crate::core::shared::Shared;

/// Where the response chunks of open streams go, by `tool_call_id`: the stream engine's
/// route for `room.tool_call_response_chunk`.
pub(crate) struct StreamRoutes {
    state: Mutex<RoutesState>,
    /// Unread bytes one stream holds before reading pauses.
    buffer: usize,
}

#[derive(Default)]
struct RoutesState {
    /// Set once the connection closed: no stream opens after that.
    closed: Option<String>,
    streams: HashMap<String, ChunkSender>,
}

/// What a full stream buffer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Overflow {
    /// Reading the connection pauses until the stream's reader catches up: for streams the
    /// server pushes freely (logs, exec output, sync updates). Nothing is dropped.
    Pause,
    /// The stream fails with [`Error::Overflow`] and its buffer is freed: for streams paced
    /// by the client's pulls, where a server that runs ahead breaks the flow.
    Fail,
}

/// The sending end of one stream's chunks, metered.
pub(crate) struct ChunkSender {
    tx: mpsc::UnboundedSender<(Result<Content>, usize)>,
    meter: Arc<Meter>,
    /// The stream's `toolkit.tool` and buffer size, when a full buffer fails it.
    fail_over: Option<(String, usize)>,
}

/// The receiving end of one stream's chunks; reading lowers the meter.
#[derive(Debug)]
pub(crate) struct ChunkReceiver {
    rx: mpsc::UnboundedReceiver<(Result<Content>, usize)>,
    meter: Arc<Meter>,
}

impl ChunkSender {
    /// The error that ends this stream if `size` more bytes would overflow it.
    fn overflows(&self, size: usize) -> Option<Error> {
        let (tool, limit) = self.fail_over.as_ref()?;
        (self.meter.level() + size > *limit).then(|| Error::Overflow {
            tool: tool.clone(),
            limit: *limit,
        })
    }

    fn send(&self, item: Result<Content>, size: usize) {
        self.meter.add(size);
        if self.tx.send((item, size)).is_err() {
            // The reader is gone: nothing is buffered for it.
            self.meter.sub(size);
        }
    }

    /// The stream is over: its reader no longer holds the connection back.
    fn end(self, error: Error) {
        self.meter.unhold();
        let _ = self.tx.send((Err(error), 0));
    }
}

impl ChunkReceiver {
    /// The next chunk; `None` once the route is gone.
    pub(crate) async fn recv(&mut self) -> Option<Result<Content>> {
        let (item, size) = self.rx.recv().await?;
        self.meter.sub(size);
        Some(item)
    }
}

impl Drop for ChunkReceiver {
    fn drop(&mut self) {
        self.meter.unhold();
    }
}

impl StreamRoutes {
    /// Routes whose streams each buffer at most `buffer` unread bytes.
    pub(crate) fn new(buffer: usize) -> StreamRoutes {
        StreamRoutes {
            state: Mutex::new(RoutesState::default()),
            buffer,
        }
    }
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

    /// Routes the chunks of `tool_call_id` from now on, to the returned receiver; fails
    /// once closed.
    /// `tool` names the stream in an [`Error::Overflow`].
    pub(crate) fn open(
        &self,
        backpressure: &Arc<Backpressure>,
        tool_call_id: String,
        tool: &str,
        overflow: Overflow,
    ) -> Result<ChunkReceiver> {
        let (tx, rx) = mpsc::unbounded_channel();
        let (hold_over, fail_over) = match overflow {
            Overflow::Pause => (self.buffer, None),
            Overflow::Fail => (usize::MAX, Some((tool.to_string(), self.buffer))),
        };
        let meter = Arc::new(Meter::new(backpressure.clone(), hold_over));
        let mut st = self.lock();
        if let Some(reason) = &st.closed {
            return Err(Error::Closed {
                reason: reason.clone(),
            });
        }
        st.streams.insert(
            tool_call_id,
            ChunkSender {
                tx,
                meter: meter.clone(),
                fail_over,
            },
        );
        Ok(ChunkReceiver { rx, meter })
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
            stream.end(Error::Closed {
                reason: reason.to_string(),
            });
        }
    }

    /// The streams of a lost connection are over: the room forgot them.
    fn link(&self, _shared: &Arc<Shared>, event: &ConnectionEvent) {
        if let ConnectionEvent::Disconnected { reason } = event {
            let streams = std::mem::take(&mut self.lock().streams);
            for (_, stream) in streams {
                stream.end(Error::Disconnected {
                    reason: reason.clone(),
                });
            }
        }
    }
}

/// Routes one `room.tool_call_response_chunk` to its stream.
fn route_chunk(routes: &StreamRoutes, data: Bytes) {
    // Metered as received: the chunk's memory is about its message's size.
    let size = data.len();
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
    let mut st = routes.lock();
    let Some(tx) = st.streams.get(&id) else {
        tracing::debug!(tool_call_id = %id, "chunk for an unknown or finished stream");
        return;
    };
    match tx.overflows(size) {
        None => tx.send(Ok(chunk), size),
        Some(error) => {
            tracing::warn!(tool_call_id = %id, error = %error, "failing an overrun stream");
            if let Some(tx) = st.streams.remove(&id) {
                tx.end(error);
            }
        }
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

    #[tokio::test]
    async fn closing_fails_open_streams_and_refuses_new_ones() {
        let routes = StreamRoutes::new(1 << 20);
        let bp = Arc::new(Backpressure::default());
        let Ok(mut rx) = routes.open(&bp, "a".into(), "t.a", Overflow::Pause) else {
            panic!("open")
        };
        assert!(routes.contains("a"));
        routes.closed("gone");
        assert!(!routes.contains("a"));
        assert!(matches!(rx.recv().await, Some(Err(Error::Closed { reason })) if reason == "gone"));
        assert!(matches!(
            routes.open(&bp, "b".into(), "t.b", Overflow::Pause),
            Err(Error::Closed { .. })
        ));
    }

    /// A packed chunk of `tool_call_id` with a tail of `n` bytes.
    fn chunk(tool_call_id: &str, n: usize) -> Bytes {
        let header = serde_json::json!({
            "tool_call_id": tool_call_id,
            "chunk": {"type": "binary", "headers": {}},
        });
        let Some(header) = header.as_object().cloned() else {
            panic!("object")
        };
        match crate::core::packing::pack(&header, &vec![0u8; n]) {
            Ok(p) => Bytes::from(p),
            Err(e) => panic!("{e}"),
        }
    }

    #[tokio::test]
    async fn an_unread_stream_holds_reading_back_until_it_is_read() {
        let routes = StreamRoutes::new(10_000);
        let bp = Arc::new(Backpressure::default());
        let Ok(mut rx) = routes.open(&bp, "a".into(), "t.a", Overflow::Pause) else {
            panic!("open")
        };
        for _ in 0..3 {
            route_chunk(&routes, chunk("a", 4000));
        }
        assert!(bp.is_held(), "12 kB unread is over the 10 kB buffer");
        assert!(matches!(rx.recv().await, Some(Ok(Content::Binary { .. }))));
        assert!(!bp.is_held(), "back under the buffer");
        route_chunk(&routes, chunk("a", 20_000));
        assert!(bp.is_held());
        drop(rx);
        assert!(!bp.is_held(), "a dropped reader holds nothing back");
    }

    #[tokio::test]
    async fn a_pulled_stream_that_runs_ahead_fails_without_holding_reading() {
        let routes = StreamRoutes::new(10_000);
        let bp = Arc::new(Backpressure::default());
        let Ok(mut rx) = routes.open(&bp, "a".into(), "t.pulled", Overflow::Fail) else {
            panic!("open")
        };
        route_chunk(&routes, chunk("a", 4000));
        route_chunk(&routes, chunk("a", 4000));
        route_chunk(&routes, chunk("a", 4000));
        assert!(!bp.is_held(), "a pulled stream never holds the connection");
        assert!(!routes.contains("a"), "unrouted");
        assert!(matches!(rx.recv().await, Some(Ok(Content::Binary { .. }))));
        assert!(matches!(rx.recv().await, Some(Ok(Content::Binary { .. }))));
        assert!(matches!(
            rx.recv().await,
            Some(Err(Error::Overflow { limit: 10_000, .. }))
        ));
    }
}
