//! Declared differences: rewriting a recording from an SDK that differs from the Python
//! SDK into what the Python SDK would have sent, one named rule at a time.

use serde_json::{Map, Value};

use super::*;

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
        format!("{query}&v={}", meshagent_room::protocol::VERSION)
    } else {
        query.to_string()
    }
}

fn push_once(applied: &mut Vec<&'static str>, name: &'static str) {
    if !applied.contains(&name) {
        applied.push(name);
    }
}

/// What a Python-following client of protocol 0.56 sends on connect, for a 0.56 recording:
/// the query string (the token written `<token>`, keys in order) and the `Authorization`
/// header. TypeScript 0.39.9 puts the token in the query and sends no `v`; Rust follows
/// Python 0.56.0 (token in `Authorization: Bearer`, `v=<version>`).
pub fn declared_connect_0_56(record: &crate::case::ConnectRecord) -> (String, Option<String>) {
    let mut query = record.query.clone();
    let mut auth = record
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.clone());
    if record.sdk.language == "typescript" {
        if let Some(token) = query.remove("token") {
            auth = Some(format!("Bearer {token}"));
        }
        query
            .entry("v".to_string())
            .or_insert_with(|| meshagent_room::protocol::VERSION.to_string());
    }
    let text: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    (text.join("&"), auth)
}
