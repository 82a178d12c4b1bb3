//! Flow engines of streaming tools, one per file, each running the flow shapes of the
//! spec's flow table (`spec/flows.yaml`) that name it. A generated method passes the start
//! chunk's headers, its data and its [`FlowShape`] (a constant of the generated `flow_shapes` module);
//! the engine reads the shape for what the table decides: how pulls are carried, whether
//! the first pull is eager, whether request chunks are acknowledged.

// Every engine is always compiled: which ones generated code calls is a fact of the spec
// (which toolkit has a tool of which shape) and of the toolkit features enabled, and a new
// tool of an existing shape must stay YAML only, so no engine is gated on a toolkit here.
#![allow(dead_code, unused_imports)]

mod batches;
mod checked;
mod chunks;
mod download;
mod push;
mod push_upload;
mod record_batches;
mod shape;
mod source;
mod upload;

pub use batches::{field, read_batches, write_batches, Batches};
pub use checked::{checked_download, checked_upload, CheckedDownload, CHECKED_CHUNK_MAX};
pub use chunks::{fill_fresh_id, FreshId};
pub use download::{pull_download, Download};
pub use push::{log_entries, server_push, text_items, LogEntry};
pub use push_upload::{push_upload, PUSH_CHUNK_SIZE};
pub(crate) use record_batches::write_pulled;
pub use record_batches::{
    boxed_chunks, read_record_batches, watch_record_batches, write_record_batches,
    RecordBatchChunk, RecordBatches, ARROW_STREAM_CONTENT_TYPE,
};
pub use shape::{ChunkEncoding, FlowShape, Initiator, PullEncoding, RequestPacing, ResponsePacing};
pub use source::ByteSource;
pub use upload::pull_upload;
