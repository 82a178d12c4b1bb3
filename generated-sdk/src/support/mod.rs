//! Support for generated code: reply decoding, flow engines, the dispatch table and row
//! batches. Only generated toolkits and surfaces use it.

pub(crate) mod decode;
#[cfg(feature = "dispatch")]
pub(crate) mod dispatch;
// Flow engines, each gated on the toolkits whose tools use it.
#[cfg(any(
    feature = "storage",
    feature = "containers",
    feature = "developer",
    feature = "database"
))]
pub(crate) mod flows;
pub(crate) mod rows;
