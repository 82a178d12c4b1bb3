//! Streaming tools and the flow table as written in YAML: a tool's `stream`, its chunk
//! kinds, typed push items, and the flow shapes of `spec/flows.yaml`.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use super::*;

/// How a streaming tool streams.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StreamDef {
    /// The flow shape: a key of the flow table (`spec/flows.yaml`).
    pub flow: String,
    /// Chunks the client sends, keyed by their `kind`.
    #[serde(default)]
    pub request: IndexMap<String, ChunkDef>,
    /// Chunks the server sends, keyed by their `kind`.
    #[serde(default)]
    pub response: IndexMap<String, ChunkDef>,
    /// For shapes that allow it (`item: true`): what each pushed chunk becomes for the caller (without it, the
    /// raw chunk content).
    pub item: Option<PushItem>,
    /// With `item: text`: the `channel` header values whose chunks are text, in arrival
    /// order (default `[1]`, stdout).
    #[serde(default)]
    pub text_channels: Option<Vec<i64>>,
}

/// How a pushed tool's chunks become typed items, one of a closed set implemented
/// by the runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PushItem {
    /// The UTF-8 text of each binary chunk on the stream's `text_channels` (default
    /// `channel` 1; other channels are skipped).
    Text,
    /// A log entry: the binary chunk's `type` header and its payload as a JSON object.
    LogEntry,
}

/// One flow shape: how a streaming tool's chunks go back and forth, described once and
/// used by validation, by the emitter (signature and engine) and by the runtime (the
/// generated `flow_shapes` constants the engines read).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowDef {
    /// What the shape is for.
    pub summary: Option<String>,
    /// The wire steps, in order (documentation).
    #[serde(default)]
    pub steps: Vec<String>,
    /// Who opens the stream. Defaults to `client`.
    #[serde(default)]
    pub initiator: Initiator,
    /// How request chunks after `start` are paced.
    pub request: RequestPacing,
    /// Whether the server answers each request chunk (the client awaits it before the
    /// next). Defaults to true (0.35.8); 0.56 Python sends them without waiting.
    #[serde(default = "yes")]
    pub request_acked: bool,
    /// How response chunks are paced.
    pub response: ResponsePacing,
    /// How data chunks are carried.
    pub data: ChunkEncoding,
    /// How pulls are carried, for shapes paced by pulls.
    pub pull: Option<PullEncoding>,
    /// Whether tools of this shape may set `stream.item` (typed pushed items).
    #[serde(default)]
    pub item: bool,
    /// The generated method's signature; without it (and `engine`), tools of this shape get
    /// no generated method and are reached through `RoomClient::open_stream`.
    pub signature: Option<Signature>,
    /// The runtime engine that runs the shape: a function of `crate::support::flows`.
    pub engine: Option<String>,
}

/// Who opens a stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Initiator {
    /// The client invokes the tool.
    #[default]
    Client,
    /// The server calls a toolkit this client hosts (`room.tool_call.<toolkit>`).
    Server,
}

/// How request chunks after `start` are paced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestPacing {
    /// Only `start` (and the close).
    None,
    /// One data chunk per server pull.
    Pulled,
    /// The client sends as fast as it likes.
    Free,
}

/// How response chunks are paced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResponsePacing {
    /// Pulls only; the server closes when done.
    None,
    /// The server pushes without pulls.
    Pushed,
    /// The server announces (a `start` chunk), then the client pulls one chunk at a time.
    Pulled,
    /// The client pulls at once (when the call is open), then once per chunk received.
    PulledEager,
}

/// How data chunks are carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChunkEncoding {
    /// `json` chunks with a `kind` key.
    Json,
    /// `binary` chunks with a `kind` header and the payload in the tail.
    Binary,
}

/// How pulls are carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PullEncoding {
    /// `json` `{kind: pull}`.
    Json,
    /// `binary` with `kind: pull` (and `chunk_size` for byte uploads).
    Binary,
    /// Either (0.56 record batches).
    JsonOrBinary,
}

/// The signature of a generated method, one of a closed set the emitter implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Signature {
    /// Takes a `ByteSource`, returns `()`.
    Upload,
    /// Returns a `Download`.
    Download,
    /// Returns a `CheckedDownload` (bytes ending with a size and SHA-256 check).
    CheckedDownload,
    /// Takes a stream of batches (the request data chunk's field), returns `()`.
    WriteBatches,
    /// Returns a stream of the response data chunk's field.
    ReadBatches,
    /// Returns a stream of pushed items (`stream.item`, or the raw content).
    Push,
    /// Takes `RecordBatches` (Arrow IPC record batches, optional schema), returns `()`.
    WriteRecordBatches,
    /// Returns a stream of `RecordBatchChunk`s (Arrow IPC record batches and headers).
    ReadRecordBatches,
    /// As `read_record_batches`, and json events become items too; unbounded.
    WatchRecordBatches,
    /// Takes a `ByteSource` pushed without pulls, returns the final reply's field.
    PushUpload,
}

/// One kind of stream chunk.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChunkDef {
    /// The chunk's content type, usually `binary`.
    pub content: String,
    /// What the chunk means.
    pub doc: Option<String>,
    /// Header fields beside `kind`: a type expression, or a field with `doc`, `default`
    /// and `absent`. The request `start` chunk's headers become the method's arguments.
    #[serde(default)]
    pub headers: IndexMap<String, FieldDef>,
}
