//! The core layer: wire codec (framing, packing, content), transport, socket, client,
//! stream engine and errors. It depends on nothing above it.

pub(crate) mod backpressure;
pub(crate) mod client;
pub(crate) mod connect;
pub(crate) mod content;
pub(crate) mod error;
pub mod framing;
pub(crate) mod invoke;
pub(crate) mod io_task;
pub(crate) mod link;
pub(crate) mod options;
pub mod packing;
pub(crate) mod reconnect;
pub(crate) mod router;
pub(crate) mod shared;
pub(crate) mod socket;
pub(crate) mod stream;
pub(crate) mod transport;
pub(crate) mod types;
