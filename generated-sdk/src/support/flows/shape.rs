//! The type of a flow shape. The table itself is generated from `spec/flows.yaml` into
//! the generated `flow_shapes` module (one constant per shape); generated methods pass their shape to the
//! engine that runs it, and the engines read it here instead of hard-coding the shape.

use bytes::Bytes;
use serde_json::{json, Map, Value};

use crate::core::content::Content;
use crate::core::error::{Error, Result};
use crate::core::invoke::Invoke;
use crate::core::stream::{Overflow, RequestChunks, ToolCallStream};
use crate::RoomClient;

/// One flow shape of the spec's flow table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowShape {
    /// Table key, e.g. `pull_upload`.
    pub name: &'static str,
    /// Who opens the stream.
    pub initiator: Initiator,
    /// Pacing of request chunks after `start`.
    pub request: RequestPacing,
    /// Whether each request chunk is answered before the next is sent.
    pub request_acked: bool,
    /// Pacing of response chunks.
    pub response: ResponsePacing,
    /// How data chunks are carried.
    pub data: ChunkEncoding,
    /// How pulls are carried, for shapes paced by pulls.
    pub pull: Option<PullEncoding>,
}

/// Who opens the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Initiator {
    /// The client invokes the tool.
    Client,
    /// The server calls a toolkit this client hosts.
    Server,
}

/// Pacing of request chunks after `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestPacing {
    /// Only `start` and the close.
    None,
    /// One data chunk per server pull.
    Pulled,
    /// The client sends freely.
    Free,
}

/// Pacing of response chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponsePacing {
    /// No data comes back; the server closes when done.
    None,
    /// The server pushes without pulls.
    Pushed,
    /// The server announces (a `start` chunk), then the client pulls one chunk at a time.
    Pulled,
    /// The client pulls as soon as the call is open, then once per chunk received.
    PulledEager,
}

/// How data chunks are carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkEncoding {
    /// `json` chunks with a `kind` key.
    Json,
    /// `binary` chunks with a `kind` header.
    Binary,
}

/// How pulls are carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullEncoding {
    /// `json` `{kind: pull}`.
    Json,
    /// `binary` with `kind: pull`.
    Binary,
    /// Either is accepted; the client sends binary.
    JsonOrBinary,
}

impl FlowShape {
    /// Fails when an engine is asked to run a shape it cannot drive: one opened by the
    /// server, or with `data` other than `expect`.
    pub(crate) fn check(&self, tool: &str, expect: ChunkEncoding) -> Result<()> {
        let problem = if self.initiator == Initiator::Server {
            Some("is opened by the server")
        } else if self.data != expect {
            Some("carries its data in another encoding than this engine")
        } else {
            None
        };
        match problem {
            Some(p) => Err(Error::unexpected(
                tool,
                format!("flow shape `{}` {p}; no engine for it yet", self.name),
            )),
            None => Ok(()),
        }
    }

    /// Opens `toolkit.tool` as a stream whose request chunks are acknowledged when both the
    /// shape (`request_acked`) and the protocol ask for it (see `RequestChunks::effective`).
    pub(crate) async fn open(
        &self,
        room: &RoomClient,
        toolkit: &str,
        tool: &str,
    ) -> Result<ToolCallStream> {
        let chunks = RequestChunks::effective(self.request_acked);
        // A server paced by pulls that runs ahead breaks the flow: the stream fails
        // instead of holding the whole connection back.
        let overflow = match self.response {
            ResponsePacing::Pulled | ResponsePacing::PulledEager => Overflow::Fail,
            ResponsePacing::None | ResponsePacing::Pushed => Overflow::Pause,
        };
        room.open_stream_with(&Invoke::new(toolkit, tool), chunks, overflow)
            .await
    }

    /// The pull chunk this shape sends (`kind: pull`), as JSON or binary. Shapes that
    /// accept either send binary pulls, as both 0.56 SDKs do.
    pub(crate) fn pull_chunk(&self) -> Content {
        match self.pull {
            Some(PullEncoding::Binary | PullEncoding::JsonOrBinary) => Content::Binary {
                headers: pull_headers(),
                data: Bytes::new(),
            },
            _ => Content::Json(json!({"kind": "pull"})),
        }
    }

    /// The headers of `chunk` when it is a pull of this shape.
    pub(crate) fn pull_of<'a>(&self, chunk: &'a Content) -> Option<&'a Map<String, Value>> {
        let (headers, json, binary) = match chunk {
            Content::Json(Value::Object(m)) => (m, true, false),
            Content::Binary { headers, .. } => (headers, false, true),
            _ => return None,
        };
        let accepted = match self.pull? {
            PullEncoding::Json => json,
            PullEncoding::Binary => binary,
            PullEncoding::JsonOrBinary => true,
        };
        (accepted && headers.get("kind").and_then(Value::as_str) == Some("pull")).then_some(headers)
    }

    /// Whether the first pull goes out as soon as the call is open.
    pub(crate) fn eager_pull(&self) -> bool {
        self.response == ResponsePacing::PulledEager
    }
}

fn pull_headers() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("kind".into(), "pull".into());
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    // Shapes as the table declares them (spec/flows.yaml); written out so the engine's
    // rules are tested on their own, below the generated table.
    const PULL_UPLOAD: FlowShape = FlowShape {
        name: "pull_upload",
        initiator: Initiator::Client,
        request: RequestPacing::Pulled,
        request_acked: true,
        response: ResponsePacing::None,
        data: ChunkEncoding::Binary,
        pull: Some(PullEncoding::Binary),
    };
    const READ_BATCHES: FlowShape = FlowShape {
        name: "read_batches",
        initiator: Initiator::Client,
        request: RequestPacing::None,
        request_acked: true,
        response: ResponsePacing::PulledEager,
        data: ChunkEncoding::Json,
        pull: Some(PullEncoding::Json),
    };
    const WRITE_RECORD_BATCHES: FlowShape = FlowShape {
        name: "write_record_batches",
        initiator: Initiator::Client,
        request: RequestPacing::Pulled,
        request_acked: false,
        response: ResponsePacing::None,
        data: ChunkEncoding::Binary,
        pull: Some(PullEncoding::JsonOrBinary),
    };

    #[test]
    fn pulls_follow_the_shape_encoding() {
        let json = Content::Json(json!({"kind": "pull"}));
        let binary = PULL_UPLOAD.pull_chunk();
        assert!(READ_BATCHES.pull_of(&json).is_some());
        assert!(READ_BATCHES.pull_of(&binary).is_none());
        assert!(PULL_UPLOAD.pull_of(&binary).is_some());
        assert!(PULL_UPLOAD.pull_of(&json).is_none());
        assert!(WRITE_RECORD_BATCHES.pull_of(&json).is_some());
        assert!(WRITE_RECORD_BATCHES.pull_of(&binary).is_some());
        assert_eq!(READ_BATCHES.pull_chunk(), json);
        assert_eq!(WRITE_RECORD_BATCHES.pull_chunk(), binary);
    }

    #[test]
    fn engines_refuse_shapes_they_cannot_drive() {
        assert!(PULL_UPLOAD.check("t", ChunkEncoding::Binary).is_ok());
        // Unacknowledged request chunks are the stream engine's policy, not a refusal.
        assert!(WRITE_RECORD_BATCHES
            .check("t", ChunkEncoding::Binary)
            .is_ok());
        // Wrong data encoding for the engine.
        assert!(READ_BATCHES.check("t", ChunkEncoding::Binary).is_err());
        // Opened by the server: no client engine runs it.
        let hosted = FlowShape {
            initiator: Initiator::Server,
            ..PULL_UPLOAD
        };
        assert!(hosted.check("t", ChunkEncoding::Binary).is_err());
    }
}
