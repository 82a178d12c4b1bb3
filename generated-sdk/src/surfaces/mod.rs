//! Hand-written surfaces over the core: agents, participant tokens, connecting (also from
//! the environment), exec sessions, hosted toolkits, participants and sync documents.

pub(crate) mod agents;
#[cfg(feature = "tokens")]
pub mod auth;
pub(crate) mod connect;
#[cfg(feature = "dispatch")]
pub(crate) mod dispatch;
pub(crate) mod env;
pub(crate) mod events;
pub(crate) mod exec;
pub(crate) mod hosting;
pub(crate) mod mesh_document;
#[cfg(all(feature = "messaging", not(feature = "protocol-0-35-8")))]
pub(crate) mod messaging_stream;
pub(crate) mod participants;
pub(crate) mod record_batches;
#[cfg(all(
    any(feature = "dataset", feature = "sqlite"),
    not(feature = "protocol-0-35-8")
))]
pub(crate) mod sql_cursor;
pub(crate) mod sync_doc;
#[cfg(feature = "test-util")]
pub(crate) mod testing;
// Arrow conveniences of the 0.56 `dataset`/`sqlite` toolkits (rows, schemas).
#[cfg(all(feature = "arrow", not(feature = "protocol-0-35-8")))]
pub(crate) mod tables;
