//! Support for generated code: reply decoding, flow engines, the dispatch table and row
//! batches. Only generated toolkits and surfaces use it.

pub(crate) mod decode;
#[cfg(feature = "dispatch")]
pub(crate) mod dispatch;
pub(crate) mod flows;
pub(crate) mod rows;
