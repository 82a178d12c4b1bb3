//! Typed Rust client for MeshAgent rooms.
//!
//! The toolkits, events, packet names and error codes are generated from the protocol
//! spec (`spec/*.yaml`, see the repository README); the runtime beneath them is hand-written.
//!
//! ```no_run
//! # async fn demo() -> meshagent_room::Result<()> {
//! use meshagent_room::{room_url, RoomClient};
//!
//! let (room, _events) = RoomClient::connect(room_url("https://api.meshagent.com", "my-room")?, "jwt").await?;
//! room.storage().delete("old.txt").recursive(true).await?;
//! let job = room.queues().receive("jobs").wait(false).await?;
//! # Ok(()) }
//! ```
//!
//! Each toolkit is behind a cargo feature of its name (all on by default).
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[rustfmt::skip] // generated code is formatted by prettyplease; `codegen --check` owns its bytes
mod generated;

// TEMP: generated per version by codegen (issue 13)
/// Transport facts of the protocol version this build speaks (0.56.0). The runtime reads
/// them from here only.
pub mod protocol {
    /// The protocol version sent as `v=` in the connect URL.
    pub const VERSION: &str = "0.56.0";
    /// The token travels in an `Authorization: Bearer` header on the websocket upgrade
    /// (0.43 and later); otherwise as the `token` query parameter.
    pub const TOKEN_IN_HEADER: bool = true;
    /// Each request chunk is a request whose acknowledgement is awaited before the next
    /// (0.35.8); from 0.47 chunks are sent without waiting and replies are ignored.
    pub const REQUEST_CHUNK_ACKS: bool = false;
    /// `room.invoke_tool` carries an optional `caller_context` (removed in 0.41).
    pub const CALLER_CONTEXT: bool = false;
}

mod core;
mod support;
mod surfaces;

pub use generated::*;

pub use error_codes::ErrorCode;
pub use events::RoomEvent;

pub use crate::core::client::RoomClient;
pub use crate::core::connect::{ConnectOptions, LocalParticipant, RoomInfo};
pub use crate::core::content::{Content, Control, FileContent};
pub use crate::core::error::{Error, Result};
pub use crate::core::framing::Limits;
pub use crate::core::stream::ToolCallStream;
pub use crate::core::transport::{
    memory_pair, room_url, websocket_transport, MemoryTransport, Token, Transport, TransportError,
};
pub use crate::core::types::{Base64Bytes, JsonString, Timestamp, UnknownPacket};
#[cfg(feature = "developer")]
#[cfg_attr(docsrs, doc(cfg(feature = "developer")))]
pub use crate::support::flows::LogEntry;
#[cfg(feature = "storage")]
#[cfg_attr(docsrs, doc(cfg(feature = "storage")))]
pub use crate::support::flows::{ByteSource, Download};
pub use crate::surfaces::agents::{
    Agents, CallRequest, InvokeStreamRequest, InvokeToolRequest, ListToolkitsRequest,
};
pub use crate::surfaces::connect::Connect;
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
#[cfg(feature = "secrets")]
#[cfg_attr(docsrs, doc(cfg(feature = "secrets")))]
pub use crate::surfaces::participants::secrets::SecretsHandler;
pub use crate::surfaces::participants::RemoteParticipant;
#[cfg(feature = "sync-doc")]
#[cfg_attr(docsrs, doc(cfg(feature = "sync-doc")))]
pub use crate::surfaces::sync_doc::{
    decode_sync_payload, encode_sync_payload, normalize_sync_path, yrs, SyncDocument, SyncOpen,
    REMOTE_ORIGIN, ROOT_NAME,
};

/// The wire codec: framing (16-byte packet headers, reassembly) and packing (a JSON
/// header plus a binary tail). For servers, proxies and test tools speaking the protocol.
pub mod wire {
    pub use crate::core::framing;
    pub use crate::core::packing;
}

/// The repository README's Rust examples, compiled as doctests so they cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeExamples;
