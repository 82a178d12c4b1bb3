//! Reply decoding used by the generated methods, so that generated code stays one line
//! per call. Every function turns a wrong reply into [`Error::UnexpectedResponse`].
// Which helpers are used depends on the output shapes the spec uses.
#![allow(dead_code)]

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::core::content::{Content, FileContent};
use crate::core::error::{Error, Result};

fn wrong(reply: &Content, tool: &str, expected: &str) -> Error {
    Error::unexpected(
        tool,
        format!("expected {expected} content, got {}", reply.type_name()),
    )
}

fn from_json<T: DeserializeOwned>(v: Value, tool: &str) -> Result<T> {
    serde_json::from_value(v).map_err(|e| Error::mismatch(tool, "reply does not match the spec", e))
}

/// Any reply is fine; it is ignored.
pub(crate) fn ignore(_reply: Content) -> Result<()> {
    Ok(())
}

/// The reply must be `empty`.
pub(crate) fn empty(reply: Content, tool: &str) -> Result<()> {
    match reply {
        Content::Empty => Ok(()),
        other => Err(wrong(&other, tool, "empty")),
    }
}

/// The reply must be `text`.
pub(crate) fn text(reply: Content, tool: &str) -> Result<String> {
    match reply {
        Content::Text(t) => Ok(t),
        other => Err(wrong(&other, tool, "text")),
    }
}

/// The reply must be a `file`.
pub(crate) fn file(reply: Content, tool: &str) -> Result<FileContent> {
    match reply {
        Content::File(f) => Ok(f),
        other => Err(wrong(&other, tool, "file")),
    }
}

/// The reply must be `empty` or `json`; it is ignored.
pub(crate) fn empty_or_json(reply: Content, tool: &str) -> Result<()> {
    match reply {
        Content::Empty | Content::Json(_) => Ok(()),
        other => Err(wrong(&other, tool, "empty or json")),
    }
}

/// A `file`, or `empty` meaning `None`.
pub(crate) fn file_or_empty(reply: Content, tool: &str) -> Result<Option<FileContent>> {
    match reply {
        Content::Empty => Ok(None),
        Content::File(f) => Ok(Some(f)),
        other => Err(wrong(&other, tool, "file or empty")),
    }
}

/// The reply must be `json` matching `T`.
pub(crate) fn json<T: DeserializeOwned>(reply: Content, tool: &str) -> Result<T> {
    match reply {
        Content::Json(v) => from_json(v, tool),
        other => Err(wrong(&other, tool, "json")),
    }
}

/// The reply must be a `json` object matching `T` (serde would also fill a struct from an
/// array, field by field; the SDKs reject that, and so do we).
pub(crate) fn json_object<T: DeserializeOwned>(reply: Content, tool: &str) -> Result<T> {
    match reply {
        Content::Json(v @ Value::Object(_)) => from_json(v, tool),
        Content::Json(other) => Err(Error::unexpected(
            tool,
            format!("expected a JSON object, got {other}"),
        )),
        other => Err(wrong(&other, tool, "json")),
    }
}

/// `json` matching `T`, or `empty` meaning `None`.
pub(crate) fn json_or_empty<T: DeserializeOwned>(reply: Content, tool: &str) -> Result<Option<T>> {
    match reply {
        Content::Empty => Ok(None),
        Content::Json(v) => from_json(v, tool).map(Some),
        other => Err(wrong(&other, tool, "json or empty")),
    }
}

/// `json` whose bool `key` says whether the rest of the object is a `T`.
pub(crate) fn json_present_when<T: DeserializeOwned>(
    reply: Content,
    key: &str,
    tool: &str,
) -> Result<Option<T>> {
    let Content::Json(v) = reply else {
        return Err(wrong(&reply, tool, "json"));
    };
    match v.get(key) {
        Some(Value::Bool(false)) => Ok(None),
        Some(Value::Bool(true)) => from_json(v, tool).map(Some),
        _ => Err(Error::unexpected(
            tool,
            format!("reply has no bool `{key}`"),
        )),
    }
}

/// The reply must be `json` (any value); it is ignored (spec `content: json_ignored`).
pub(crate) fn json_ignored(reply: Content, tool: &str) -> Result<()> {
    match reply {
        Content::Json(_) => Ok(()),
        other => Err(wrong(&other, tool, "json")),
    }
}

/// A `binary` reply decoded into the object `T` (spec `content: binary`): its headers give
/// the fields, and its tail becomes the `bytes` field `tail` (raw bytes, e.g. an Arrow IPC
/// schema; carried through serde as base64, as every `bytes` field is).
pub(crate) fn binary<T: DeserializeOwned>(reply: Content, tail: &str, tool: &str) -> Result<T> {
    use base64::Engine;
    match reply {
        Content::Binary { mut headers, data } => {
            let encoded = base64::engine::general_purpose::STANDARD.encode(&data);
            headers.insert(tail.to_string(), Value::String(encoded));
            from_json(Value::Object(headers), tool)
        }
        other => Err(wrong(&other, tool, "binary")),
    }
}

/// A `json` object or a `binary` reply (as [`binary`] reads it), decoded into `T`
/// (spec `content: json_or_binary`; typically a union whose `kind` tells the two apart).
pub(crate) fn json_or_binary<T: DeserializeOwned>(
    reply: Content,
    tail: &str,
    tool: &str,
) -> Result<T> {
    match reply {
        Content::Binary { .. } => binary(reply, tail, tool),
        Content::Json(_) => json_object(reply, tool),
        other => Err(wrong(&other, tool, "json or binary")),
    }
}

/// A list field whose entries that do not decode as `T` are dropped (spec `skip_invalid`),
/// as an official SDK filters them (TypeScript's `memory.list` keeps only the strings). The
/// value itself must still be a list.
pub(crate) fn skip_invalid<'de, D, T>(deserializer: D) -> std::result::Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: DeserializeOwned,
{
    let items: Vec<Value> = serde::Deserialize::deserialize(deserializer)?;
    Ok(items
        .into_iter()
        .filter_map(|item| serde_json::from_value(item).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wrong_content_is_a_typed_error() {
        let e = json::<bool>(Content::Text("x".into()), "storage.exists");
        assert!(
            matches!(e, Err(Error::UnexpectedResponse { ref tool, .. }) if tool == "storage.exists")
        );
        let e = json::<bool>(Content::Json(json!("no")), "storage.exists");
        assert!(matches!(e, Err(Error::UnexpectedResponse { .. })));
        assert!(empty(Content::Json(json!({})), "queues.open").is_err());
        assert!(json_present_when::<Value>(Content::Json(json!({})), "exists", "s").is_err());
        assert_eq!(
            json_present_when::<Value>(Content::Json(json!({"exists": false})), "exists", "s").ok(),
            Some(None)
        );
        assert_eq!(json_or_empty::<Value>(Content::Empty, "q").ok(), Some(None));
        assert!(json_ignored(Content::Empty, "sqlite.flush_database").is_err());
    }

    #[test]
    fn binary_replies_carry_their_tail_into_the_named_field() {
        let reply = || Content::Binary {
            headers: serde_json::Map::from_iter([
                ("kind".to_string(), json!("query")),
                ("query_id".to_string(), json!("q1")),
            ]),
            data: bytes::Bytes::from_static(b"\x01\x02"),
        };
        let v: Value = binary(reply(), "schema", "dataset.inspect").unwrap();
        assert_eq!(
            v,
            json!({"kind": "query", "query_id": "q1", "schema": "AQI="})
        );
        let v: Value = json_or_binary(Content::Json(json!({"kind": "x"})), "t", "d").unwrap();
        assert_eq!(v, json!({"kind": "x"}));
        assert!(json_or_binary::<Value>(reply(), "schema", "t").is_ok());
        assert!(binary::<Value>(Content::Empty, "t", "d").is_err());
        assert!(binary::<Value>(Content::Json(json!({})), "t", "d").is_err());
        assert!(json_or_binary::<Value>(Content::Json(json!(1)), "t", "d").is_err());
        assert!(json_or_binary::<Value>(Content::Empty, "t", "d").is_err());
    }

    #[derive(serde::Deserialize)]
    struct Names {
        #[serde(default, deserialize_with = "skip_invalid")]
        names: Vec<String>,
    }

    #[test]
    fn skip_invalid_drops_entries_and_keeps_the_rest() {
        let r: Names = serde_json::from_value(json!({"names": ["a", 1, null, "b", {}]})).unwrap();
        assert_eq!(r.names, ["a", "b"]);
        let r: Names = serde_json::from_value(json!({})).unwrap();
        assert!(r.names.is_empty());
        assert!(serde_json::from_value::<Names>(json!({"names": "a"})).is_err());
    }
}
