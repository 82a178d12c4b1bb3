//! Every runtime item generated code names, spelled once (compare smithy-rs `RuntimeType`).
//!
//! The contract with the runtime (`generated-sdk/src`): generated code reaches the runtime
//! only through root items (`crate::Result`, `crate::RoomClient`, ...), the generated
//! modules, and `crate::support::{decode, flows, dispatch, rows}`. Emitters ask this module
//! for a path instead of writing one, so a runtime move is a change here alone.

use proc_macro2::TokenStream;
use quote::quote;

use crate::naming::{ident, shouty};

/// `crate::<segments>`.
fn path(segments: &[&str]) -> TokenStream {
    let ids = segments.iter().map(|s| ident(s));
    quote!(crate #(:: #ids)*)
}

/// A root item of the crate's public API, e.g. `crate::Result`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// `crate::Result`
    Result,
    /// `crate::Error`
    Error,
    /// `crate::RoomClient`
    RoomClient,
    /// `crate::Content`
    Content,
    /// `crate::FileContent`
    FileContent,
    /// `crate::JsonString`
    JsonString,
    /// `crate::Timestamp`
    Timestamp,
    /// `crate::Base64Bytes`
    Base64Bytes,
    /// `crate::UnknownPacket`
    UnknownPacket,
    /// `crate::ByteSource`
    ByteSource,
    /// `crate::Download`
    Download,
    /// `crate::CheckedDownload`
    CheckedDownload,
    /// `crate::LogEntry`
    LogEntry,
    /// `crate::RecordBatches`
    RecordBatches,
    /// `crate::RecordBatchChunk`
    RecordBatchChunk,
    /// `crate::RoomEvent`
    RoomEvent,
    /// `crate::ConnectionEvent`
    ConnectionEvent,
}

impl Root {
    fn name(self) -> &'static str {
        match self {
            Root::Result => "Result",
            Root::Error => "Error",
            Root::RoomClient => "RoomClient",
            Root::Content => "Content",
            Root::FileContent => "FileContent",
            Root::JsonString => "JsonString",
            Root::Timestamp => "Timestamp",
            Root::Base64Bytes => "Base64Bytes",
            Root::UnknownPacket => "UnknownPacket",
            Root::ByteSource => "ByteSource",
            Root::Download => "Download",
            Root::CheckedDownload => "CheckedDownload",
            Root::LogEntry => "LogEntry",
            Root::RecordBatches => "RecordBatches",
            Root::RecordBatchChunk => "RecordBatchChunk",
            Root::RoomEvent => "RoomEvent",
            Root::ConnectionEvent => "ConnectionEvent",
        }
    }

    /// The item's path as tokens.
    pub fn tokens(self) -> TokenStream {
        path(&[self.name()])
    }

    /// An intra-doc link to the item, or to `member` of it (`[`crate::X::member`]`).
    pub fn doc_link(self, member: Option<&str>) -> String {
        match member {
            Some(m) => format!("[`crate::{}::{m}`]", self.name()),
            None => format!("[`crate::{}`]", self.name()),
        }
    }
}

/// The support modules generated code calls into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// `crate::support::decode`: reply decoding of plain tools.
    Decode,
    /// `crate::support::flows`: flow engines and their helpers.
    Flows,
    /// `crate::support::dispatch`: the JSON dispatch table (feature `dispatch`).
    Dispatch,
}

impl Support {
    fn name(self) -> &'static str {
        match self {
            Support::Decode => "decode",
            Support::Flows => "flows",
            Support::Dispatch => "dispatch",
        }
    }

    /// The module's path.
    pub fn module(self) -> TokenStream {
        path(&["support", self.name()])
    }

    /// `crate::support::<module>::<item>`.
    pub fn item(self, item: &str) -> TokenStream {
        path(&["support", self.name(), item])
    }

    /// `crate::support::<module>::<item>` as text, for serde attributes
    /// (`deserialize_with = "..."`).
    pub fn item_path(self, item: &str) -> String {
        format!("crate::support::{}::{item}", self.name())
    }

    /// The module's name for docs. Not a link: support modules are private, and public
    /// docs must not link to them.
    pub fn doc_name(self) -> String {
        format!("`support::{}`", self.name())
    }
}

/// The generated module holding one constant per flow shape.
pub const FLOW_SHAPES_MODULE: &str = "flow_shapes";

/// The constant of flow shape `name`: `crate::flow_shapes::<NAME>`.
pub fn flow_shape(name: &str) -> TokenStream {
    path(&[FLOW_SHAPES_MODULE, &shouty(name)])
}

/// A generated module of the crate root (`crate::types`, `crate::<toolkit>`).
pub fn generated_module(name: &str) -> TokenStream {
    path(&[name])
}

/// `crate::types::<name>`: a shared named type.
pub fn shared_type(name: &str) -> TokenStream {
    path(&["types", name])
}

/// The hand-written `agents` surface's dispatch, which the generated `RoomClient::dispatch`
/// routes to. NOTE: it sits outside the support contract (surfaces are above generated
/// code); kept here so the one exception is spelled in one place.
pub fn agents_dispatch() -> TokenStream {
    path(&["surfaces", "agents", "dispatch"])
}

/// The hand-written conveniences the generated `RoomClient::dispatch` tries first (e.g. the
/// Arrow data of `dataset`/`sqlite` as JSON rows). Outside the support contract, as
/// [`agents_dispatch`].
pub fn conveniences_dispatch() -> TokenStream {
    path(&["surfaces", "dispatch", "conveniences"])
}
