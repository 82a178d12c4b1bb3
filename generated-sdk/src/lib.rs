//! Typed Rust client for MeshAgent rooms.
//!
//! The toolkits, events, packet names and error codes are generated from the protocol
//! spec (`spec/*.yaml`, see the repository README); the runtime beneath them is hand-written.
//!
//! ```no_run
//! # async fn demo() -> meshagent_room::Result<()> {
//! use futures::StreamExt;
//! use meshagent_room::{room_url, RoomClient};
//!
//! let (room, mut events) = RoomClient::connect(room_url("https://api.meshagent.com", "my-room")?, "jwt").await?;
//! // Read the events (a slow reader loses the oldest, see `RoomEvent::Lagged`).
//! tokio::spawn(async move {
//!     while let Some(event) = events.next().await {
//!         println!("{event:?}");
//!     }
//! });
//! room.storage().delete("old.txt").recursive(true).await?;
//! let job = room.queues().receive("jobs").wait(false).await?;
//! # Ok(()) }
//! ```
//!
//! A program can also join from the environment alone, as the official SDKs do:
//! `RoomClient::from_env()?.await?` with `MESHAGENT_API_KEY` (or `MESHAGENT_TOKEN`) and
//! `MESHAGENT_ROOM` set; the module `auth` (feature `tokens`) makes, signs and verifies participant
//! tokens.
//!
//! Each toolkit is behind a cargo feature of its name (all on by default). The protocol
//! version is one feature: `protocol-0-56` (default) or `protocol-0-35-8`
//! (`default-features = false`); [`protocol`] holds the chosen version's transport facts.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The protocol version is picked with one cargo feature: `protocol-0-56` (default) or
// `protocol-0-35-8`. Each has its own generated module tree; only the chosen one compiles.
#[cfg(all(feature = "protocol-0-56", feature = "protocol-0-35-8"))]
compile_error!(
    "meshagent-room: the features `protocol-0-56` and `protocol-0-35-8` are both on; pick one \
     (for 0.35.8: `default-features = false, features = [\"protocol-0-35-8\", ...toolkits]`)"
);
#[cfg(not(any(feature = "protocol-0-56", feature = "protocol-0-35-8")))]
compile_error!(
    "meshagent-room: no protocol version selected; turn on the feature `protocol-0-56` \
     (the default) or `protocol-0-35-8`"
);

// `feature = "protocol-0-35-8"` alone decides which tree compiles (runtime code that differs
// by version tests the same one), so a wrong choice shows only the error above.
#[cfg(not(feature = "protocol-0-35-8"))]
#[rustfmt::skip] // generated code is formatted by prettyplease; `codegen --check` owns its bytes
#[path = "generated/v0_56_0/mod.rs"]
mod generated;
#[cfg(feature = "protocol-0-35-8")]
#[rustfmt::skip] // generated code is formatted by prettyplease; `codegen --check` owns its bytes
#[path = "generated/v0_35_8/mod.rs"]
mod generated;

mod core;
mod support;
mod surfaces;

pub use generated::*;

pub use error_codes::ErrorCode;
pub use events::RoomEvent;

pub use crate::core::client::RoomClient;
pub use crate::core::connect::{LocalParticipant, RoomInfo};
pub use crate::core::content::{Content, Control, FileContent};
pub use crate::core::error::{Error, Result};
pub use crate::core::framing::Limits;
pub use crate::core::link::{ConnectionEvent, Keepalive, ReconnectPolicy};
pub use crate::core::options::{ConnectOptions, EventBuffer};
pub use crate::core::stream::ToolCallStream;
pub use crate::core::transport::{
    memory_pair, room_url, websocket_transport, MemoryTransport, Token, Transport, TransportError,
    WebSocketTransport,
};
pub use crate::core::types::{Base64Bytes, JsonString, Timestamp, UnknownPacket};
#[cfg(any(feature = "storage", feature = "containers"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "storage", feature = "containers"))))]
pub use crate::support::flows::Download;
#[cfg(feature = "developer")]
#[cfg_attr(docsrs, doc(cfg(feature = "developer")))]
pub use crate::support::flows::LogEntry;
// `sqlite.restore` takes one too.
#[cfg(any(feature = "storage", feature = "containers", feature = "sqlite"))]
#[cfg_attr(
    docsrs,
    doc(cfg(any(feature = "storage", feature = "containers", feature = "sqlite")))
)]
pub use crate::support::flows::ByteSource;
pub use crate::support::flows::{
    CheckedDownload, RecordBatchChunk, RecordBatches, ARROW_STREAM_CONTENT_TYPE,
};
pub use crate::surfaces::agents::{
    Agents, CallRequest, InvokeStreamRequest, InvokeToolRequest, ListToolkitsRequest,
};
#[cfg(feature = "tokens")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokens")))]
pub use crate::surfaces::auth;
pub use crate::surfaces::connect::Connect;
pub use crate::surfaces::env::{is_valid_room_name, DEFAULT_PARTICIPANT_NAME};
pub use crate::surfaces::events::RoomEvents;
#[cfg(feature = "containers")]
#[cfg_attr(docsrs, doc(cfg(feature = "containers")))]
pub use crate::surfaces::exec::{
    ExecCommand, ExecExit, ExecOutput, ExecRequest, ExecSession, ExecStdin, ExitStatus,
    OutputStream,
};
pub use crate::surfaces::hosting::{HostedToolkit, Toolkit};
/// The SDKs' element-tree document layer (Python/TypeScript `MeshDocument`) over a
/// [`SyncDocument`]: schema, elements, attributes, `to_json()`; same Yjs layout as the SDKs.
#[cfg(feature = "sync-doc")]
#[cfg_attr(docsrs, doc(cfg(feature = "sync-doc")))]
pub use crate::surfaces::mesh_document::{
    Element, ElementTree, ElementType, MeshDocument, MeshSchema, Node, Property,
};
#[cfg(all(feature = "messaging", not(feature = "protocol-0-35-8")))]
#[cfg_attr(docsrs, doc(cfg(feature = "messaging")))]
pub use crate::surfaces::messaging_stream::{
    IncomingMessagingStream, IncomingMessagingStreams, MessagingStream, MessagingStreamEvent,
};
#[cfg(feature = "secrets")]
#[cfg_attr(docsrs, doc(cfg(feature = "secrets")))]
pub use crate::surfaces::participants::secrets::SecretsHandler;
pub use crate::surfaces::participants::RemoteParticipant;
#[cfg(all(
    any(feature = "dataset", feature = "sqlite"),
    not(feature = "protocol-0-35-8")
))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "dataset", feature = "sqlite"))))]
pub use crate::surfaces::sql_cursor::{SqlCursor, SqlTools};
#[cfg(feature = "sync-doc")]
#[cfg_attr(docsrs, doc(cfg(feature = "sync-doc")))]
pub use crate::surfaces::sync_doc::{
    decode_sync_payload, encode_sync_payload, normalize_sync_path, yrs, SyncDocument, SyncOpen,
    REMOTE_ORIGIN, ROOT_NAME,
};

/// Arrow record batches for the 0.56 `dataset`/`sqlite` streams (feature `arrow`):
/// conversions between [`arrow_array::RecordBatch`] and the Arrow IPC bytes the tools carry,
/// and [`arrow::rows_to_batch`] for JSON rows. The engines use them through
/// [`RecordBatches::from_record_batches`] and [`RecordBatchChunk::record_batches`].
#[cfg(feature = "arrow")]
#[cfg_attr(docsrs, doc(cfg(feature = "arrow")))]
pub mod arrow {
    pub use crate::support::arrow::{
        batch_to_ipc, batches_from_ipc, batches_to_ipc, rows_to_batch, schema_from_ipc,
        schema_to_ipc,
    };
    pub use crate::support::arrow_json::{batch_to_rows, schema_fields};
    #[cfg(not(feature = "protocol-0-35-8"))]
    pub use crate::surfaces::tables::TableWatchEvent;
    #[cfg(all(feature = "dataset", not(feature = "protocol-0-35-8")))]
    pub use crate::surfaces::tables::{CreateTableOptions, TableAt};
    pub use arrow_array;
    pub use arrow_schema;
}

/// A scripted room for unit tests of code that uses the client (feature `test-util`):
/// expect a request, answer with a reply, a stream or an error, push events.
#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod testing {
    pub use crate::surfaces::testing::{Request, ScriptError, ScriptedRoom, StreamCall};
}

/// The wire codec: framing (16-byte packet headers, reassembly) and packing (a JSON
/// header plus a binary tail). For servers, proxies and test tools speaking the protocol.
pub mod wire {
    pub use crate::core::framing;
    pub use crate::core::packing;
}

/// The repository README's Rust examples, compiled as doctests so they cannot drift.
/// They use the 0.35.8 `database` toolkit, so they are compiled in the 0.35.8 build (which
/// `cargo test --workspace` runs too, see conformance's `protocol_0_35_8` test).
#[cfg(all(doctest, feature = "protocol-0-35-8"))]
#[doc = include_str!("../../README.md")]
struct ReadmeExamples;
