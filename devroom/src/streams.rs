//! Streamed tool calls: the client's request chunks in, response chunks out, keyed by the
//! call's `tool_call_id`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use meshagent_room::{Content, Control, ErrorCode};
use serde_json::json;
use tokio::sync::mpsc;

use crate::participant::Participant;
use crate::wire::{pack_content, pack_value, ToolError, RESPONSE, RESPONSE_CHUNK};

/// Request chunks one stream may have waiting; the pull-driven flows never have more
/// than one, sync updates a burst.
pub(crate) const INPUT_CHUNKS: usize = 64;

/// The open streams of one connection: where each call's request chunks go.
#[derive(Clone, Default)]
pub(crate) struct Streams(Arc<Mutex<HashMap<String, mpsc::Sender<Content>>>>);

impl Streams {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, mpsc::Sender<Content>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Opens `tool_call_id`; `None` if a stream of that id is open already.
    pub(crate) fn open(
        &self,
        tool_call_id: &str,
    ) -> Option<(StreamEntry, mpsc::Receiver<Content>)> {
        let mut map = self.lock();
        if map.contains_key(tool_call_id) {
            return None;
        }
        let (tx, rx) = mpsc::channel(INPUT_CHUNKS);
        map.insert(tool_call_id.to_string(), tx);
        let entry = StreamEntry {
            streams: self.clone(),
            id: tool_call_id.to_string(),
        };
        Some((entry, rx))
    }

    /// Where the chunks of `tool_call_id` go, if it is open.
    pub(crate) fn input(&self, tool_call_id: &str) -> Option<mpsc::Sender<Content>> {
        self.lock().get(tool_call_id).cloned()
    }
}

/// Keeps a stream registered; removes it when dropped (the call ended or was aborted).
pub(crate) struct StreamEntry {
    streams: Streams,
    id: String,
}

impl Drop for StreamEntry {
    fn drop(&mut self) {
        self.streams.lock().remove(&self.id);
    }
}

/// One streamed call as its tool sees it.
pub(crate) struct StreamCall {
    pub participant: Arc<Participant>,
    pub request_id: u64,
    pub tool_call_id: String,
    pub input: mpsc::Receiver<Content>,
    /// How long [`StreamCall::next`] waits.
    pub idle: Duration,
    /// Held for its drop: the stream stays registered while the call runs.
    _entry: StreamEntry,
    opened: bool,
}

impl StreamCall {
    pub(crate) fn new(
        participant: Arc<Participant>,
        request_id: u64,
        tool_call_id: String,
        input: mpsc::Receiver<Content>,
        idle: Duration,
        entry: StreamEntry,
    ) -> StreamCall {
        StreamCall {
            participant,
            request_id,
            tool_call_id,
            input,
            idle,
            _entry: entry,
            opened: false,
        }
    }

    /// Answers the invoke with `control/open`: the result streams.
    pub(crate) async fn open(&mut self) -> bool {
        self.opened = true;
        let data = pack_content(&Content::Control(Control::Open));
        self.participant.send(self.request_id, RESPONSE, data).await
    }

    /// Sends one response chunk.
    pub(crate) async fn chunk(&self, content: &Content) -> bool {
        let header = json!({"tool_call_id": self.tool_call_id, "chunk": content.header()});
        let data = pack_value(&header, content.tail());
        let id = self.participant.next_id();
        self.participant.send(id, RESPONSE_CHUNK, data).await
    }

    /// Ends the response stream normally.
    pub(crate) async fn close(&self) -> bool {
        let close = Content::Control(Control::Close {
            status_code: 1000,
            message: None,
        });
        self.chunk(&close).await
    }

    /// Reports `error`: as the invoke's reply before the stream opened (the SDKs handle an
    /// early failure best that way), else as an error chunk followed by the close.
    pub(crate) async fn fail(&mut self, error: ToolError) {
        if self.opened {
            self.chunk(&error.content()).await;
            self.close().await;
        } else {
            let data = pack_content(&error.content());
            self.participant.send(self.request_id, RESPONSE, data).await;
        }
    }

    /// The client's next chunk within the idle time; `None` once it closed its side.
    pub(crate) async fn next(&mut self) -> Result<Option<Content>, ToolError> {
        match tokio::time::timeout(self.idle, self.next_unbounded()).await {
            Ok(chunk) => Ok(chunk),
            Err(_) => Err(ToolError::new(
                ErrorCode::Timeout,
                format!("no request chunk within {:?}", self.idle),
            )),
        }
    }

    /// The client's next chunk, however long it takes; `None` once it closed its side.
    pub(crate) async fn next_unbounded(&mut self) -> Option<Content> {
        match self.input.recv().await? {
            Content::Control(Control::Close { .. }) => None,
            other => Some(other),
        }
    }
}

/// `Binary` chunk headers' `kind`, or `None` for any other chunk.
pub(crate) fn binary_kind(chunk: &Content) -> Option<&str> {
    match chunk {
        Content::Binary { headers, .. } => headers.get("kind").and_then(|k| k.as_str()),
        _ => None,
    }
}

/// A `binary` chunk with `headers` and `data`.
pub(crate) fn binary(headers: serde_json::Value, data: bytes::Bytes) -> Content {
    let headers = match headers {
        serde_json::Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    Content::Binary { headers, data }
}
