//! The rules that decide what "the same message" means: every difference between a
//! recording and a replay that is tolerated is listed here, each with its reason.
//! Nothing else is normalised.
//!
//! * **Message ids are not compared.** Each peer numbers its own messages, so the
//!   client's ids say nothing about conformance; the scripted server answers each request
//!   under the id the client actually used. [`Normalized`] therefore has no id.
//! * **JSON key order is not compared** ([`canonical`]).
//! * **The top-level `__meshagent__` key is removed** ([`strip_tracing`]).
//! * **`tool_call_id` is checked, then its value ignored** ([`mask_tool_call_id`]).
//! * **A stream's `request_id` is checked, then its value ignored** ([`mask_request_id`]).
//! * **JSON text inside `*_json` strings is compared as JSON** ([`parse_embedded_json`]).
//! * **Arrow IPC payloads are compared by content** (`same_arrow`, protocol 0.56): the
//!   decoded schema and record batches, not the writer's bytes.
//!
//! Differences between the official SDKs that are both valid are *declared*, not
//! normalised away: [`declared_differences`] rewrites a recording from an SDK that differs
//! from the Python SDK (which the Rust client follows) into what the Python SDK would
//! have sent, one named rule at a time, so the rest is still compared strictly.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

/// The Python SDK's tracing metadata key.
pub const TRACING_KEY: &str = "__meshagent__";

/// The per-call correlation id key.
pub const TOOL_CALL_ID_KEY: &str = "tool_call_id";

/// What replaces a valid `tool_call_id` value.
pub const TOOL_CALL_ID_MASK: &str = "<32 lowercase hex>";

/// A header that breaks a normalisation rule's precondition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NormalizeError(pub String);

/// A message reduced to what is compared: packet type, header, tail. There is no
/// message id: ids are not compared (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Normalized {
    /// The packet type, compared as is.
    pub packet_type: String,
    /// The header after [`normalize_header`].
    pub header: Value,
    /// The tail, compared byte for byte.
    pub tail: Vec<u8>,
}

/// Applies every rule to one message.
pub fn normalize(
    packet_type: &str,
    header: &Map<String, Value>,
    tail: &[u8],
) -> Result<Normalized, NormalizeError> {
    // Replies on a stream the server opened (an incoming `messaging.stream`) echo the
    // server's `tool_call_id`: no SDK drew it, so it is compared as is.
    let header = if packet_type == SERVER_STREAM_REPLY {
        let mut h = header.clone();
        let id = h.remove(TOOL_CALL_ID_KEY);
        let mut v = normalize_header(&h)?;
        if let (Some(id), Value::Object(m)) = (id, &mut v) {
            m.insert(TOOL_CALL_ID_KEY.into(), id);
        }
        canonical(&v)
    } else {
        normalize_header(header)?
    };
    Ok(Normalized {
        packet_type: packet_type.to_string(),
        header,
        tail: tail.to_vec(),
    })
}

/// The packet of a client's chunk on a stream the server opened.
const SERVER_STREAM_REPLY: &str = "room.tool_call_response_chunk";

/// Applies the header rules: [`strip_tracing`], [`mask_tool_call_id`],
/// [`mask_request_id`], [`canonical`].
pub fn normalize_header(header: &Map<String, Value>) -> Result<Value, NormalizeError> {
    let mut header = header.clone();
    strip_tracing(&mut header);
    mask_tool_call_id(&mut header)?;
    mask_request_id(&mut header)?;
    Ok(canonical(&parse_embedded_json(&Value::Object(header))))
}

/// Replaces every string under a key ending in `_json` that parses as JSON with
/// `{"<parsed json>": value}`. Reason: the wire carries some values as JSON text
/// (`message_json`, `records_json`, `value_json`, ...); Python writes that text with
/// `", "`/`": "` separators and `\uXXXX` escapes, TypeScript and Rust compactly in UTF-8.
/// The server parses the text, so only its value is compared. Text that is not JSON is
/// kept and compared as is.
pub fn parse_embedded_json(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let parsed = match v {
                        Value::String(text) if k.ends_with("_json") => {
                            serde_json::from_str::<Value>(text).ok()
                        }
                        _ => None,
                    };
                    let v = match parsed {
                        Some(p) => {
                            let mut wrapped = Map::new();
                            wrapped.insert("<parsed json>".into(), parse_embedded_json(&p));
                            Value::Object(wrapped)
                        }
                        None => parse_embedded_json(v),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(parse_embedded_json).collect()),
        other => other.clone(),
    }
}

/// Removes the top-level `__meshagent__` key. Reason: it is tracing metadata
/// (`{v, otel}`) that only the Python SDK adds; it carries no protocol meaning and the
/// server ignores it. Only the top level: a nested key of that name would be user data.
pub fn strip_tracing(header: &mut Map<String, Value>) {
    header.remove(TRACING_KEY);
}

/// Checks a top-level `tool_call_id`, if present, then masks its value. Reason: the SDKs
/// draw it at random for every call (`uuid4().hex`), so only its shape can be compared:
/// it must be 32 lowercase hex characters. Presence is still compared: the masked key
/// must be on both sides for the headers to be equal.
pub fn mask_tool_call_id(header: &mut Map<String, Value>) -> Result<(), NormalizeError> {
    let Some(value) = header.get_mut(TOOL_CALL_ID_KEY) else {
        return Ok(());
    };
    mask_hex32(TOOL_CALL_ID_KEY, value)
}

/// Checks the `request_id` of a stream's start chunk (`chunk.headers.request_id`, container
/// logs and exec), if present, then masks its value. Reason: the SDKs draw it at random
/// for every request unless the caller gives one (Python: uuid4 hex for logs, a dashed
/// uuid4 for exec); only its shape is compared.
pub fn mask_request_id(header: &mut Map<String, Value>) -> Result<(), NormalizeError> {
    let id = header
        .get_mut("chunk")
        .and_then(|c| c.get_mut("headers"))
        .and_then(|h| h.get_mut("request_id"));
    match id {
        // exec ids are dashed uuids in both SDKs; the shape is still compared.
        Some(value) if value.as_str().is_some_and(is_dashed_uuid) => {
            *value = Value::String("<dashed uuid>".into());
            Ok(())
        }
        Some(value) => mask_hex32("request_id", value),
        None => Ok(()),
    }
}

fn is_dashed_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12]) && groups.iter().all(|g| is_lower_hex(g))
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn is_hex32(s: &str) -> bool {
    s.len() == 32 && is_lower_hex(s)
}

fn mask_hex32(key: &str, value: &mut Value) -> Result<(), NormalizeError> {
    if !value.as_str().is_some_and(is_hex32) {
        return Err(NormalizeError(format!(
            "`{key}` must be 32 lowercase hex characters, got {value}"
        )));
    }
    *value = Value::String(TOOL_CALL_ID_MASK.to_string());
    Ok(())
}

/// Sorts the keys of every object, recursively, and writes integral numbers as integers.
/// Reasons: JSON objects are unordered (Python writes dict insertion order, Rust struct
/// field order, and the server reads fields by name); JSON has one number type, and
/// TypeScript writes the float 3.0 as `3` (typed values that must stay floats carry an
/// explicit `type` tag, which is still compared). Sorted keys also make diffs stable.
pub fn canonical(value: &Value) -> Value {
    match value {
        Value::Number(n) if n.is_f64() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
            _ => value.clone(),
        },
        Value::Object(map) => {
            let sorted: BTreeMap<&String, Value> =
                map.iter().map(|(k, v)| (k, canonical(v))).collect();
            Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// The JSON paths where `expected` and `actual` differ, each with both values
/// (`$.arguments.json.recursive: expected null, got <absent>`). Empty when equal.
pub fn json_diff(expected: &Value, actual: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff_into("$", Some(expected), Some(actual), &mut out);
    out
}

fn diff_into(path: &str, expected: Option<&Value>, actual: Option<&Value>, out: &mut Vec<String>) {
    match (expected, actual) {
        (Some(Value::Object(e)), Some(Value::Object(a))) => {
            let mut keys: Vec<&String> = e.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                diff_into(&format!("{path}.{k}"), e.get(k), a.get(k), out);
            }
        }
        (Some(Value::Array(e)), Some(Value::Array(a))) if e.len() == a.len() => {
            for (i, (e, a)) in e.iter().zip(a).enumerate() {
                diff_into(&format!("{path}[{i}]"), Some(e), Some(a), out);
            }
        }
        (e, a) if e == a => {}
        (e, a) => out.push(format!("{path}: expected {}, got {}", show(e), show(a))),
    }
}

fn show(v: Option<&Value>) -> String {
    v.map_or_else(|| "<absent>".to_string(), Value::to_string)
}

// Arrow IPC payloads compared by content (the Arrow toolkits are 0.56 only).
#[cfg(feature = "protocol-0-56")]
mod arrow;
mod declared;
mod results;
mod shapes;

#[cfg(feature = "protocol-0-56")]
pub use arrow::{is_arrow_payload, same_arrow, ARROW_STREAM};
pub use declared::{
    declared_connect_0_56, declared_connect_query, declared_differences, split_like_python,
    Difference, REFERENCE_LANGUAGE, TYPESCRIPT_DIFFERENCES,
};
pub use results::{result_diff, same_instant, without_nulls};
pub use shapes::{
    declared_result_shapes, same_rejection, ClientRejection, ResultShape, CLIENT_REJECTIONS,
    RESULT_SHAPES,
};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn tracing_key_ids_and_order_are_normalised() {
        let py = obj(
            json!({"tool": "x", "tool_call_id": "0123456789abcdef0123456789abcdef",
                             "__meshagent__": {"v": 1}, "a": {"y": 1, "x": 2}}),
        );
        let rs = obj(
            json!({"a": {"x": 2, "y": 1}, "tool_call_id": "fedcba9876543210fedcba9876543210",
                             "tool": "x"}),
        );
        let (py, rs) = (normalize_header(&py), normalize_header(&rs));
        assert_eq!(py, rs);
        let canon = serde_json::to_string(&rs.expect("valid")).expect("serializes");
        assert_eq!(
            canon,
            r#"{"a":{"x":2,"y":1},"tool":"x","tool_call_id":"<32 lowercase hex>"}"#
        );
    }

    #[test]
    fn bad_tool_call_ids_and_nested_tracing_are_not_normalised() {
        for bad in [
            json!("0123456789ABCDEF0123456789ABCDEF"),
            json!("abc"),
            json!(1),
        ] {
            let h = obj(json!({ "tool_call_id": bad }));
            assert!(normalize_header(&h).is_err(), "{bad}");
        }
        let nested = obj(json!({"json": {"__meshagent__": 1}}));
        assert_eq!(normalize_header(&nested).ok(), Some(Value::Object(nested)));
        let missing = normalize_header(&obj(json!({}))).ok();
        let present = normalize_header(&obj(json!({"tool_call_id": "0".repeat(32)}))).ok();
        assert_ne!(missing, present);
    }

    /// TypeScript's one-transaction `append_child` (element, `$id`, `text`), split, gives
    /// exactly what Python sent for it in `py-sync-open`; an echoed update is not split.
    #[test]
    fn one_transaction_splits_into_pythons() {
        use base64::Engine;
        use meshagent_room::yrs::{
            ClientID, Doc, Options, ReadTxn, Transact, Xml, XmlElementPrelim, XmlFragment,
        };
        let b64 = &base64::engine::general_purpose::STANDARD;
        let doc = Doc::with_options(Options::with_client_id(ClientID::new(2222)));
        let root = doc.get_or_insert_xml_fragment("xml");
        let before = doc.transact().state_vector();
        {
            let mut txn = doc.transact_mut();
            let el = root.push_back(&mut txn, XmlElementPrelim::empty("item"));
            el.insert_attribute(&mut txn, "$id", "00000000-0000-4000-8000-000000000001");
            el.insert_attribute(&mut txn, "text", "local: grüße ✓");
        }
        let one = doc.transact().encode_state_as_update_v1(&before);
        let parts = split_like_python(b64.encode(one).as_bytes()).expect("splits");
        let python = [
            "AQKuEQAHAQN4bWwDBGl0ZW0oAK4RAAMkaWQBdyQwMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDEA",
            "AQGuEQIoAK4RAAR0ZXh0AXcSbG9jYWw6IGdyw7zDn2Ug4pyTAA==",
        ];
        let parts: Vec<&str> = parts
            .iter()
            .map(|p| std::str::from_utf8(p).expect("ascii"))
            .collect();
        assert_eq!(parts, python);
        // Already Python's shape: nothing to split.
        let again = split_like_python(python[0].as_bytes()).expect("one part");
        assert_eq!(again, [python[0].as_bytes().to_vec()]);
        assert_eq!(split_like_python(b"not base64!"), None);
    }

    #[test]
    fn diff_names_paths() {
        let e = json!({"a": {"r": null}, "l": [1, 2]});
        let a = json!({"a": {}, "l": [1, 3]});
        assert_eq!(
            json_diff(&e, &a),
            [
                "$.a.r: expected null, got <absent>",
                "$.l[1]: expected 2, got 3"
            ]
        );
        assert!(json_diff(&e, &e).is_empty());
    }
}
