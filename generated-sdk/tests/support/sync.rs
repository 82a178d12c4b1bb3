//! Helpers of the sync document tests: the scripted peer's sync steps, chunk shapes, the
//! SDK fixtures and a canonical JSON view of a yrs document.

use std::collections::BTreeMap;
use std::future::IntoFuture;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use meshagent_room::yrs::types::text::YChange;
use meshagent_room::yrs::{
    Any, Doc, Out, ReadTxn, Text, Transact, Xml, XmlElementPrelim, XmlFragment, XmlFragmentRef,
    XmlOut, XmlTextPrelim,
};
use meshagent_room::ROOT_NAME;
use meshagent_room::{RoomClient, RoomEvents};
use serde_json::{json, Value};

// ---------------------------------------------------------------- scripted peer

pub type Peer = super::Peer<super::Loopback>;

/// What only sync tests need from the shared peer.
pub trait SyncPeer {
    /// Opens, checks the start chunk is for `path`, answers the state.
    async fn open_with_state(&mut self, path: &str, state: &[u8]) -> String;
}

impl SyncPeer for Peer {
    async fn open_with_state(&mut self, path: &str, state: &[u8]) -> String {
        let id = self.open("sync", "open").await;
        let (start, _) = self.chunk().await;
        assert_eq!(start["headers"]["kind"], "start");
        assert_eq!(start["headers"]["path"], path);
        self.respond(&id, state_chunk(path), state).await;
        id
    }
}

pub async fn connect() -> (RoomClient, RoomEvents, Peer) {
    super::connect_loopback().await
}

pub fn schema() -> Value {
    json!({"$root_tag_ref": "#/$defs/thread", "type": "object"})
}

pub fn state_chunk(path: &str) -> Value {
    json!({"type": "binary", "headers": {"kind": "state", "path": path, "schema": schema()}})
}

pub fn sync_chunk(path: &str) -> Value {
    json!({"type": "binary", "headers": {"kind": "sync", "path": path}})
}

pub fn close(status: i64) -> Value {
    json!({"type": "control", "method": "close", "status_code": status})
}

pub fn sync_request() -> Value {
    json!({"type": "binary", "headers": {"kind": "sync"}})
}

pub async fn within<F: IntoFuture>(what: &str, fut: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(5), fut)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

// ---------------------------------------------------------------- fixtures

pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/sync/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn b64(v: &Value) -> Vec<u8> {
    STANDARD
        .decode(v.as_str().expect("base64 string"))
        .expect("base64")
}

/// The document as comparable JSON, computed the same way by the recording script for
/// pycrdt and Yjs: `{element, attributes (sorted), children}` and `{text: [{insert, attributes}]}`;
/// integral numbers are integers.
pub fn canonical(doc: &Doc) -> Value {
    let txn = doc.transact();
    let Some(root) = txn.get_xml_fragment(ROOT_NAME) else {
        return json!([]);
    };
    canonical_children(&txn, &root)
}

pub fn canonical_children<T: ReadTxn>(txn: &T, frag: &XmlFragmentRef) -> Value {
    Value::Array(frag.children(txn).map(|c| canonical_node(txn, c)).collect())
}

pub fn canonical_node<T: ReadTxn>(txn: &T, node: XmlOut) -> Value {
    match node {
        XmlOut::Element(el) => {
            let attributes: BTreeMap<String, Value> = el
                .attributes(txn)
                .map(|(k, v)| (k.to_string(), out_json(&v)))
                .collect();
            let children: Vec<Value> = el.children(txn).map(|c| canonical_node(txn, c)).collect();
            json!({"element": el.tag().to_string(), "attributes": attributes, "children": children})
        }
        XmlOut::Text(t) => {
            let chunks: Vec<Value> = t
                .diff(txn, YChange::identity)
                .into_iter()
                .map(|d| {
                    let attributes: BTreeMap<String, Value> = d
                        .attributes
                        .map(|a| {
                            a.iter()
                                .map(|(k, v)| (k.to_string(), any_json(v)))
                                .collect()
                        })
                        .unwrap_or_default();
                    json!({"insert": out_json(&d.insert), "attributes": attributes})
                })
                .collect();
            json!({ "text": chunks })
        }
        XmlOut::Fragment(f) => json!({ "fragment": canonical_children(txn, &f) }),
    }
}

pub fn out_json(v: &Out) -> Value {
    match v {
        Out::Any(a) => any_json(a),
        other => json!(format!("<{other:?}>")),
    }
}

pub fn any_json(a: &Any) -> Value {
    match a {
        Any::Null | Any::Undefined => Value::Null,
        Any::Bool(b) => json!(b),
        Any::Number(n) => {
            let f: f64 = match *n {
                meshagent_room::yrs::any::Number::Int(i) => return json!(i),
                meshagent_room::yrs::any::Number::Float(f) => f,
            };
            if f.fract() == 0.0 && f.abs() < 9.0e15 {
                json!(f as i64)
            } else {
                json!(f)
            }
        }
        Any::String(s) => json!(s.as_ref()),
        Any::Buffer(b) => json!(STANDARD.encode(b)),
        Any::Array(items) => Value::Array(items.iter().map(any_json).collect()),
        Any::Map(m) => {
            let sorted: BTreeMap<String, Value> =
                m.iter().map(|(k, v)| (k.clone(), any_json(v))).collect();
            json!(sorted)
        }
    }
}

/// A fresh yrs document with these v1 updates applied.
pub fn apply_all(updates: &[Vec<u8>]) -> Doc {
    let doc = Doc::new();
    doc.get_or_insert_xml_fragment(ROOT_NAME);
    for u in updates {
        let update = meshagent_room::decode_sync_payload(STANDARD.encode(u).as_bytes())
            .expect("a Yjs v1 update");
        doc.transact_mut().apply_update(update).expect("applies");
    }
    doc
}

/// The fixture edits made with yrs (the same tree the SDK fixtures build), in two
/// transactions: the tree, then a deletion, a format and an attribute change.
pub fn make_fixture_edits(doc: &Doc, root: &XmlFragmentRef) {
    let text = "héllo wörld 👋 bye!!";
    {
        let mut txn = doc.transact_mut();
        let members = root.push_back(&mut txn, XmlElementPrelim::empty("members"));
        members.insert_attribute(&mut txn, "$id", "00000000-0000-4000-8000-000000000001");
        let alice = members.push_back(&mut txn, XmlElementPrelim::empty("member"));
        alice.insert_attribute(&mut txn, "$id", "00000000-0000-4000-8000-000000000002");
        alice.insert_attribute(&mut txn, "name", "alice");
        alice.insert_attribute(&mut txn, "type", "user");
        let messages = root.push_back(&mut txn, XmlElementPrelim::empty("messages"));
        messages.insert_attribute(&mut txn, "$id", "00000000-0000-4000-8000-000000000004");
        let m = messages.push_back(&mut txn, XmlElementPrelim::empty("message"));
        m.insert_attribute(&mut txn, "$id", "00000000-0000-4000-8000-000000000005");
        m.insert_attribute(&mut txn, "id", "m1");
        m.insert_attribute(&mut txn, "author_name", "alice");
        m.insert_attribute(&mut txn, "created_at", "2024-01-02T03:04:05Z");
        m.insert_attribute(&mut txn, "tokens", 42);
        m.insert_attribute(&mut txn, "score", 1.5);
        m.insert_attribute(&mut txn, "final", true);
        m.insert_attribute(&mut txn, "note", Any::Null);
        let t = m.push_back(&mut txn, XmlElementPrelim::empty("text"));
        t.insert_attribute(&mut txn, "$id", "00000000-0000-4000-8000-000000000006");
        let xt = t.push_back(&mut txn, XmlTextPrelim::new(""));
        xt.insert(&mut txn, 0, text);
    }
    {
        let mut txn = doc.transact_mut();
        let messages = root.get(&txn, 1).and_then(XmlOut::into_xml_element);
        let m = messages
            .and_then(|m| m.get(&txn, 0))
            .and_then(XmlOut::into_xml_element)
            .expect("message");
        let xt = m
            .get(&txn, 0)
            .and_then(XmlOut::into_xml_element)
            .and_then(|t| t.get(&txn, 0))
            .and_then(XmlOut::into_xml_text)
            .expect("text");
        // Offsets of a default Doc are UTF-8 byte offsets.
        let bang = text.find("!!").expect("!!") as u32;
        xt.remove_range(&mut txn, bang, 2);
        let world = text.find("wörld").expect("wörld") as u32;
        let bold: meshagent_room::yrs::types::Attrs =
            [("bold".into(), Any::Bool(true))].into_iter().collect();
        xt.format(&mut txn, world, "wörld".len() as u32, bold);
        m.insert_attribute(&mut txn, "final", false);
    }
}

/// Client id of the yrs document whose updates the SDKs read back (fixed, so yrs's
/// encoding of the fixture edits is byte-stable).
pub const YRS_CLIENT_ID: u64 = 4242;

/// The content the fixture edits give (and the SDK fixtures record).
pub fn fixture_content() -> Value {
    fixture("yrs_readback.json")["content"].clone()
}

// ---------------------------------------------------------------- wire

pub fn b64_text(v: &Value) -> Vec<u8> {
    v.as_str().expect("ASCII base64 tail").as_bytes().to_vec()
}

/// The update in a sync tail, re-encoded canonically (its content, not its bytes).
pub fn decoded(tail: &[u8]) -> Value {
    let doc = apply_all(&[STANDARD.decode(tail).expect("base64")]);
    canonical(&doc)
}
