//! The hand-written runtime: framing, packing, content, transport, client and errors.
//! Generated code builds on it and stays small.

pub mod agents;
pub mod client;
pub mod content;
pub(crate) mod decode;
#[cfg(feature = "dispatch")]
pub mod dispatch;
pub mod error;
pub mod exec;
pub mod flows;
pub mod framing;
pub mod hosting;
pub mod mesh_document;
pub mod packing;
pub mod participants;
pub mod rows;
pub(crate) mod socket;
pub mod stream;
pub mod sync_doc;
pub mod transport;
pub mod types;
