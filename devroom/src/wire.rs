//! Packing replies and pushes, and the typed error every tool answers with.

use meshagent_room::wire::packing::pack;
use meshagent_room::{Content, ErrorCode};
use serde_json::{Map, Value};

/// The packet type of replies.
pub(crate) const RESPONSE: &str = "__response__";
/// The packet type of a streamed result's chunks.
pub(crate) const RESPONSE_CHUNK: &str = "room.tool_call_response_chunk";

/// One message for a client: its id, packet type and packed data.
#[derive(Debug)]
pub(crate) struct Outgoing {
    pub id: u64,
    pub packet_type: String,
    pub data: Vec<u8>,
}

/// `header` + `tail` packed. A JSON object always packs; the fallback only keeps the
/// function total.
pub(crate) fn pack_value(header: &Value, tail: &[u8]) -> Vec<u8> {
    pack(header, tail).unwrap_or_else(|e| {
        tracing::error!(error = %e, "a header that is not an object was packed");
        pack(&Map::new(), tail).unwrap_or_default()
    })
}

/// A content packed as a reply or chunk body.
pub(crate) fn pack_content(content: &Content) -> Vec<u8> {
    pack_value(&content.header(), content.tail())
}

/// Why a tool call failed: answered as an `error` content with a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ToolError {
    pub code: ErrorCode,
    pub text: String,
}

impl ToolError {
    pub(crate) fn new(code: ErrorCode, text: impl Into<String>) -> ToolError {
        ToolError {
            code,
            text: text.into(),
        }
    }

    /// The request is malformed.
    pub(crate) fn invalid(text: impl Into<String>) -> ToolError {
        ToolError::new(ErrorCode::InvalidRequest, text)
    }

    /// The content to answer with.
    pub(crate) fn content(&self) -> Content {
        Content::Error {
            text: self.text.clone(),
            code: Some(self.code.code()),
        }
    }
}

/// The result of a plain tool call.
pub(crate) type ToolResult = Result<Content, ToolError>;

/// A tool's JSON object input: `json` arguments, or `{}` for `empty`.
pub(crate) fn json_args(content: Content) -> Result<Map<String, Value>, ToolError> {
    match content {
        Content::Json(Value::Object(m)) => Ok(m),
        Content::Empty => Ok(Map::new()),
        other => Err(ToolError::invalid(format!(
            "expected json object arguments, got {}",
            other.type_name()
        ))),
    }
}

/// A required string field of a tool's input.
pub(crate) fn str_arg<'a>(args: &'a Map<String, Value>, key: &str) -> Result<&'a str, ToolError> {
    args.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| ToolError::invalid(format!("`{key}` must be a string")))
}

/// An optional boolean field (`null` and absent give `default`).
pub(crate) fn bool_arg(
    args: &Map<String, Value>,
    key: &str,
    default: bool,
) -> Result<bool, ToolError> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(ToolError::invalid(format!(
            "`{key}` must be a boolean, got {other}"
        ))),
    }
}

/// `json` content of a JSON value.
pub(crate) fn json(value: Value) -> Content {
    Content::Json(value)
}
