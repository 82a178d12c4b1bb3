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
    Ok(Normalized {
        packet_type: packet_type.to_string(),
        header: normalize_header(header)?,
        tail: tail.to_vec(),
    })
}

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

/// A declared difference between an official SDK's recording and the Python SDK's
/// behaviour that the Rust client follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Difference {
    /// Short name.
    pub name: &'static str,
    /// Why both behaviours are valid.
    pub reason: &'static str,
}

/// The TypeScript SDK 0.35.8's declared differences.
pub const TYPESCRIPT_DIFFERENCES: [Difference; 9] = [
    Difference {
        name: "attribute echo",
        reason: "on `connected` the TypeScript SDK sends every initial attribute back with \
                 `set_attributes`; Python does not, and the server already has them",
    },
    Difference {
        name: "null ids omitted",
        reason: "`room.invoke_tool` without participant_id/on_behalf_of_id: TypeScript omits \
                 the keys, Python sends null; the server reads a missing key as null",
    },
    Difference {
        name: "no tool_call_id on plain invokes",
        reason: "TypeScript sends a tool_call_id only for streamed invokes; Python always \
                 sends one; a plain call is correlated by message id",
    },
    Difference {
        name: "timestamps as instants",
        reason: "results carry timestamps as each SDK prints them (TypeScript: Date.toISOString, \
                 Python: isoformat, Rust: the server's text); they are compared as instants",
    },
    Difference {
        name: "null arguments omitted",
        reason: "TypeScript drops object keys whose value is undefined or null (e.g. a missing \
                 attachment_base64, room.call's api, a tool's strict); Python sends them as null; the server \
                 reads a missing key as null",
    },
    Difference {
        name: "no v query parameter",
        reason: "TypeScript does not add `v=<sdk version>` to the websocket URL; Python does",
    },
    Difference {
        name: "streamed tool_call_id shape",
        reason: "TypeScript draws a streamed call's tool_call_id as `<ms>-<counter>-<hex>`, \
                 Python as uuid4 hex; the server only echoes it back in the stream's chunks",
    },
    Difference {
        name: "dashed request_id",
        reason: "TypeScript draws a log stream's request_id with crypto.randomUUID (dashed), \
                 Python as uuid4 hex; both are random ids the server only keys the request by",
    },
    Difference {
        name: "one transaction per element",
        reason: "a sync document edit (`append_child`): TypeScript's Yjs runtime makes the element, \
                 its `$id` and its attributes in one transaction (one sync chunk); Python's pycrdt \
                 layer makes the element with its `$id`, then each attribute, in transactions of \
                 their own (one chunk each). The same Yjs items (ids, content, parents) reach the \
                 server either way and every peer converges to the same document",
    },
];

/// The SDK languages whose recordings are compared as they are.
pub const REFERENCE_LANGUAGE: &str = "python";

/// Rewrites `frames` recorded by an SDK of `language` into what the Python SDK sends,
/// applying only the declared differences; returns the names of the rules that changed
/// something. `initial_attributes` are those the scripted server sends in `connected`.
pub fn declared_differences(
    language: &str,
    frames: &mut Vec<crate::case::Frame>,
    initial_attributes: &Map<String, Value>,
) -> Vec<&'static str> {
    use crate::case::Direction;
    let mut applied = Vec::new();
    if language != "typescript" {
        return applied;
    }
    // attribute echo: set_attributes frames repeating an initial attribute, sent before the
    // client's first other message (TypeScript sends them asynchronously, so pushed events
    // may come first).
    let before = frames.len();
    let mut first_other_send = false;
    frames.retain(|f| {
        if f.dir != Direction::Send || first_other_send {
            return true;
        }
        let echo = f.packet_type == "set_attributes"
            && f.header.len() == 1
            && f.header
                .iter()
                .all(|(k, v)| initial_attributes.get(k) == Some(v));
        first_other_send = !echo;
        !echo
    });
    if frames.len() != before {
        applied.push(TYPESCRIPT_DIFFERENCES[0].name);
    }
    for f in frames
        .iter_mut()
        .filter(|f| f.dir == Direction::Send && f.packet_type == "room.invoke_tool")
    {
        // Python's key order: toolkit, tool, participant_id, on_behalf_of_id, arguments, ...
        for key in ["participant_id", "on_behalf_of_id"] {
            if !f.header.contains_key(key) {
                f.header.insert(key.to_string(), Value::Null);
                push_once(&mut applied, TYPESCRIPT_DIFFERENCES[1].name);
            }
        }
        if !f.header.contains_key(TOOL_CALL_ID_KEY) {
            f.header
                .insert(TOOL_CALL_ID_KEY.to_string(), Value::String("0".repeat(32)));
            push_once(&mut applied, TYPESCRIPT_DIFFERENCES[2].name);
        }
    }
    // dashed request_id: a log stream's uuid without its dashes (exec, which has a
    // `command`, uses dashed ids in both SDKs).
    for f in frames.iter_mut().filter(|f| f.dir == Direction::Send) {
        let headers = f.header.get_mut("chunk").and_then(|c| c.get_mut("headers"));
        let id = headers
            .filter(|h| h.get("command").is_none())
            .and_then(|h| h.get_mut("request_id"));
        if let Some(v) = id {
            if let Some(s) = v.as_str().filter(|s| is_dashed_uuid(s)) {
                *v = Value::String(s.replace('-', ""));
                push_once(&mut applied, TYPESCRIPT_DIFFERENCES[7].name);
            }
        }
    }
    // streamed tool_call_id shape: each distinct TypeScript id becomes a uuid-shaped one,
    // the same in every frame, so that the stream's chunks still name their call.
    let mut ids: Vec<Value> = Vec::new();
    for f in frames.iter_mut() {
        let Some(v) = f.header.get_mut(TOOL_CALL_ID_KEY) else {
            continue;
        };
        if v.as_str().is_some_and(is_hex32) {
            continue;
        }
        let n = match ids.iter().position(|x| x == v) {
            Some(n) => n,
            None => {
                ids.push(v.clone());
                ids.len() - 1
            }
        };
        *v = Value::String(format!("{:032x}", n + 1));
        push_once(&mut applied, TYPESCRIPT_DIFFERENCES[6].name);
    }
    // one transaction per element: each local sync update split where Python's transactions end.
    if split_sync_updates(frames) {
        push_once(&mut applied, TYPESCRIPT_DIFFERENCES[8].name);
    }
    applied
}

/// The "one transaction per element" rule: every `sync` request chunk that is not the echo of
/// a sync tail the server sent before is split into Python's transactions (see
/// [`split_like_python`]); each extra chunk is inserted after the original's `__response__`
/// with a copy of it. Returns whether anything was split.
fn split_sync_updates(frames: &mut Vec<crate::case::Frame>) -> bool {
    use crate::case::Direction;
    let is_sync = |f: &crate::case::Frame| {
        f.header
            .get("chunk")
            .and_then(|c| c.pointer("/headers/kind"))
            .and_then(Value::as_str)
            == Some("sync")
    };
    let mut changed = false;
    let mut received: Vec<Vec<u8>> = Vec::new();
    let mut i = 0;
    while i < frames.len() {
        let f = &frames[i];
        if f.dir == Direction::Recv && is_sync(f) {
            received.push(f.tail.clone());
        }
        let local = f.dir == Direction::Send
            && f.packet_type == "room.tool_call_request_chunk"
            && is_sync(f)
            && !received.contains(&f.tail);
        let parts = if local {
            split_like_python(&f.tail)
        } else {
            None
        };
        let response = frames
            .get(i + 1)
            .filter(|r| r.dir == Direction::Recv && r.packet_type == "__response__")
            .cloned();
        match (parts, response) {
            (Some(parts), Some(response)) if parts.len() > 1 => {
                let template = frames[i].clone();
                let mut inserted = Vec::new();
                for (n, part) in parts.into_iter().enumerate() {
                    if n == 0 {
                        frames[i].tail = part;
                        continue;
                    }
                    let mut send = template.clone();
                    send.tail = part;
                    inserted.push(send);
                    inserted.push(response.clone());
                }
                let count = inserted.len();
                frames.splice(i + 2..i + 2, inserted);
                changed = true;
                i += 2 + count;
            }
            _ => i += 1,
        }
    }
    changed
}

/// Splits a sync tail (base64 of a Yjs v1 update) the way Python's pycrdt layer commits the
/// same edit: an item whose map key (`parentSub`) is `$id` stays in the transaction of the item
/// before it (the element it belongs to); every other item is a transaction of its own. Each
/// part keeps the original items' bytes. Only updates of one client, from its clock 0 and
/// without deletions, are split; for anything else `None` (compared unchanged).
pub fn split_like_python(tail: &[u8]) -> Option<Vec<Vec<u8>>> {
    use base64::Engine;
    use meshagent_room::yrs::encoding::read::{Cursor, Read};
    use meshagent_room::yrs::encoding::write::Write;
    use meshagent_room::yrs::updates::decoder::Decode;
    use meshagent_room::yrs::{Doc, ReadTxn, StateVector, Transact, Update};
    let b64 = &base64::engine::general_purpose::STANDARD;
    let update = b64.decode(tail).ok()?;
    let doc = Doc::new();
    doc.transact_mut()
        .apply_update(Update::decode_v1(&update).ok()?)
        .ok()?;
    let txn = doc.transact();
    if txn.has_missing_updates() {
        return None;
    }
    let sv = txn.state_vector();
    let mut clients = sv.iter();
    let (&client, &clock) = clients.next()?;
    if clients.next().is_some() || txn.encode_state_as_update_v1(&StateVector::default()) != update
    {
        return None;
    }
    // The items' bytes: the update from clock k is the header, the items from k, and the
    // empty delete set; k is an item boundary when those items end the full list.
    let items_from = |k: u32| -> Option<(u64, Vec<u8>)> {
        let mut sv = StateVector::default();
        sv.set_max(client, k);
        let bytes = txn.encode_state_as_update_v1(&sv);
        let mut r = Cursor::new(&bytes);
        let (clients, count) = (r.read_var::<u64>().ok()?, r.read_var::<u64>().ok()?);
        // The client and its first clock.
        r.read_var::<u64>().ok()?;
        r.read_var::<u64>().ok()?;
        let (last, items) = bytes[r.next..].split_last()?;
        (clients == 1 && *last == 0).then(|| (count, items.to_vec()))
    };
    let (total, all) = items_from(0)?;
    let mut starts: Vec<(u32, usize)> = vec![(0, 0)];
    let mut remaining = total;
    for k in 1..clock {
        if let Some((count, items)) = items_from(k) {
            if count < remaining && all.ends_with(&items) {
                remaining = count;
                starts.push((k, all.len() - items.len()));
            }
        }
    }
    if starts.len() as u64 != total {
        return None;
    }
    // Group the items: an explicit `$id` key joins the group before it.
    let mut groups: Vec<(u32, usize, usize, u64)> = Vec::new(); // (clock, from, to, items)
    for (n, &(k, from)) in starts.iter().enumerate() {
        let to = starts.get(n + 1).map_or(all.len(), |s| s.1);
        match groups.last_mut() {
            Some(g) if parent_sub(&all[from..to]).as_deref() == Some("$id") => {
                g.2 = to;
                g.3 += 1;
            }
            _ => groups.push((k, from, to, 1)),
        }
    }
    Some(
        groups
            .into_iter()
            .map(|(k, from, to, n)| {
                let mut part: Vec<u8> = Vec::new();
                for v in [1, n, client.get(), u64::from(k)] {
                    part.write_var(v);
                }
                part.extend_from_slice(&all[from..to]);
                part.push(0); // no deletions
                b64.encode(part).into_bytes()
            })
            .collect(),
    )
}

/// The map key (`parentSub`) a v1 item struct names explicitly: written only when the item
/// has neither a left nor a right origin.
fn parent_sub(item: &[u8]) -> Option<String> {
    use meshagent_room::yrs::encoding::read::Read;
    let mut r = meshagent_room::yrs::encoding::read::Cursor::new(item);
    let info = r.read_u8().ok()?;
    if info & 0x1f == 0 || info & 0xc0 != 0 || info & 0x20 == 0 {
        return None; // a GC struct, an item with an origin, or one without a key
    }
    if r.read_var::<u64>().ok()? == 1 {
        r.read_string().ok()?; // parent: a root type's name
    } else {
        r.read_var::<u64>().ok()?; // parent: an item id (client, clock)
        r.read_var::<u64>().ok()?;
    }
    r.read_string().ok().map(str::to_string)
}

/// The connect query a Python-following client sends for a recorded query string.
pub fn declared_connect_query(language: &str, query: &str) -> String {
    if language == "typescript" && !query.split('&').any(|kv| kv.starts_with("v=")) {
        // no v query parameter
        format!("{query}&v=0.35.8")
    } else {
        query.to_string()
    }
}

/// Whether two strings are RFC 3339 timestamps of the same instant (see the
/// "timestamps as instants" difference; applied to results of every SDK, since each
/// prints timestamps its own way).
pub fn same_instant(a: &str, b: &str) -> bool {
    use time::format_description::well_known::Rfc3339;
    match (
        time::OffsetDateTime::parse(a, &Rfc3339),
        time::OffsetDateTime::parse(b, &Rfc3339),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// `json_diff` where strings that are the same instant count as equal.
pub fn result_diff(expected: &Value, actual: &Value) -> Vec<String> {
    json_diff(&instants_aligned(expected, actual), actual)
}

/// `expected` with every timestamp string replaced by `actual`'s when both are the same instant.
fn instants_aligned(expected: &Value, actual: &Value) -> Value {
    match (expected, actual) {
        (Value::String(e), Value::String(a)) if same_instant(e, a) => Value::String(a.clone()),
        (Value::Object(e), Value::Object(a)) => Value::Object(
            e.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        a.get(k)
                            .map_or_else(|| v.clone(), |av| instants_aligned(v, av)),
                    )
                })
                .collect(),
        ),
        (Value::Array(e), Value::Array(a)) => Value::Array(
            e.iter()
                .enumerate()
                .map(|(i, v)| {
                    a.get(i)
                        .map_or_else(|| v.clone(), |av| instants_aligned(v, av))
                })
                .collect(),
        ),
        (e, _) => e.clone(),
    }
}

/// Removes every object key whose value is `null`, recursively (the "null arguments
/// omitted" difference: applied to both sides of a TypeScript comparison).
pub fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

fn push_once(applied: &mut Vec<&'static str>, name: &'static str) {
    if !applied.contains(&name) {
        applied.push(name);
    }
}

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
