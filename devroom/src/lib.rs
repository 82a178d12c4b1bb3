//! A local MeshAgent room server for development, tests and examples.
//!
//! It keeps everything in memory by default (storage can live in a directory instead) and
//! serves the built-in toolkits `storage`, `queues`, `messaging`, `developer` and `sync`
//! (yrs documents), toolkits hosted by participants (`room.register_toolkit`, calls routed
//! with `room.tool_call.<toolkit>`) and `room.list_toolkits`, at `ws://HOST:PORT/rooms/<room>`.
//! Both protocol versions are spoken, decided per connection ([`Dialect`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), devroom::StartError> {
//! let room = devroom::DevRoom::start(devroom::DevRoomOptions::default()).await?;
//! println!("connect to {}", room.room_url("my-room"));
//! room.shutdown().await;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod auth;
mod dialect;
mod hosting;
mod options;
mod participant;
mod room;
mod server;
mod session;
mod storage;
mod streams;
mod toolkits;
mod wire;

pub use auth::{AcceptAnyToken, Identity, Refusal, TokenCheck, VerifyTokens};
pub use dialect::Dialect;
pub use options::{DevRoomOptions, ProtocolChoice, StorageOption};
pub use server::{DevRoom, StartError};
