//! Support for generated code: reply decoding, flow engines, the dispatch table and row
//! batches. Only generated toolkits and surfaces use it.

// Arrow record batches to and from IPC bytes (feature `arrow`).
#[cfg(feature = "arrow")]
pub(crate) mod arrow;
// Arrow data read back as JSON rows and schema fields (feature `arrow`).
#[cfg(feature = "arrow")]
pub(crate) mod arrow_json;
pub(crate) mod decode;
#[cfg(feature = "dispatch")]
pub(crate) mod dispatch;
// The flow-shape type (always: the generated table names it) and the flow engines, each
// gated on the toolkits whose tools use it.
pub(crate) mod flows;
pub(crate) mod rows;
