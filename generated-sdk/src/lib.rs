//! Typed Rust client for MeshAgent rooms.
//!
//! The toolkits, events, packet names and error codes are generated from the protocol
//! spec (`spec/*.yaml`, see the repository README); the [`runtime`] is hand-written.
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

#[rustfmt::skip] // generated code is formatted by prettyplease; `codegen --check` owns its bytes
mod generated;
pub mod runtime;

pub use generated::*;

pub use error_codes::ErrorCode;
pub use events::RoomEvent;
pub use runtime::client::{
    Connect, ConnectOptions, LocalParticipant, RoomClient, RoomEvents, RoomInfo,
};
pub use runtime::content::{Content, Control, FileContent};
pub use runtime::error::{Error, Result};
#[cfg(feature = "containers")]
pub use runtime::exec::{
    ExecCommand, ExecExit, ExecOutput, ExecRequest, ExecSession, ExecStdin, ExitStatus,
    OutputStream,
};
pub use runtime::flows::{ByteSource, Download, LogEntry};
pub use runtime::framing::Limits;
/// The SDKs' element-tree document layer (Python/TypeScript `MeshDocument`) over a
/// [`SyncDocument`]: schema, elements, attributes, `to_json()`; same Yjs layout as the SDKs.
#[cfg(feature = "sync-doc")]
pub use runtime::mesh_document::{
    Element, ElementTree, ElementType, MeshDocument, MeshSchema, Node, Property,
};
pub use runtime::stream::ToolCallStream;
#[cfg(feature = "sync-doc")]
pub use runtime::sync_doc::{yrs, SyncDocument, SyncOpen};
pub use runtime::transport::{
    memory_pair, room_url, MemoryTransport, Token, Transport, TransportError,
};
pub use runtime::types::{Base64Bytes, JsonString, Timestamp, UnknownPacket};

// Used by whichever generated toolkits are compiled in.
#[allow(unused_imports)]
pub(crate) use runtime::decode;
#[cfg(feature = "dispatch")]
pub(crate) use runtime::dispatch;

/// The repository README's Rust examples, compiled as doctests so they cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeExamples;
