//! The element-tree layer (`MeshDocument` / `ElementTree`) against what the official SDKs
//! recorded: the Yjs updates Python's `append_child` sends, byte for byte, and the JSON
//! (`to_json()`) of documents holding remote updates from pycrdt and Yjs.
#![cfg(feature = "sync-doc")]

use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use meshagent_room::decode_sync_payload;
use meshagent_room::yrs::{ClientID, Doc, Options, Transact};
use meshagent_room::{ElementTree, Error, MeshSchema, Node};
use serde_json::{json, Value};

/// The schema of the `sync.open` conformance cases (`conformance/cases/*/??-sync-open.yaml`).
fn todo_schema() -> MeshSchema {
    let items = json!({"type": "array", "items": {"anyOf": [{"$ref": "#/$defs/item"}]}});
    let todo = json!({"type": "object", "additionalProperties": false, "required": ["todo"],
        "properties": {"todo": {"type": "object", "additionalProperties": false,
            "required": ["items"], "properties": {"items": items}}}});
    let item = json!({"type": "object", "additionalProperties": false, "required": ["item"],
        "properties": {"item": {"type": "object", "additionalProperties": false,
            "required": ["text"], "properties": {"text": {"type": ["string", "null"]}}}}});
    let mut schema = todo.clone();
    schema["$root_tag_ref"] = json!("#/$defs/todo");
    schema["$defs"] = json!({"todo": todo, "item": item});
    MeshSchema::from_json(&schema).expect("the todo schema is valid")
}

/// The remote update of the `sync.open` cases: pycrdt, client id 777, an `item` appended.
const REMOTE_777: &str = "AQOJBgAHAQN4bWwDBGl0ZW0oAIkGAAMkaWQBdyQwMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDA3NzcoAIkGAAR0ZXh0AXcRcmVtb3RlOiBjYWbDqSDimJUA";

/// What Python's `doc.root.append_child("item", {"text": "local: grüße ✓"})` sent in
/// `py-sync-open` (pycrdt client id 2222, `$id` ...001): two transactions.
const PYTHON_APPEND: [&str; 2] = [
    "AQKuEQAHAQN4bWwDBGl0ZW0oAK4RAAMkaWQBdyQwMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDEA",
    "AQGuEQIoAK4RAAR0ZXh0AXcSbG9jYWw6IGdyw7zDn2Ug4pyTAA==",
];

fn doc_with_client(id: u64) -> Doc {
    Doc::with_options(Options::with_client_id(ClientID::new(id)))
}

/// Every update the document commits, as base64 (what `SyncDocument` sends).
fn record_updates(doc: &Doc) -> Arc<Mutex<Vec<String>>> {
    let updates = Arc::new(Mutex::new(Vec::new()));
    let sink = updates.clone();
    doc.observe_update_v1("mesh-document-test", move |_, e| {
        sink.lock()
            .expect("not poisoned")
            .push(STANDARD.encode(&e.update))
    })
    .expect("observer");
    updates
}

fn apply(doc: &Doc, base64_update: &str) {
    let update = decode_sync_payload(base64_update.as_bytes()).expect("a Yjs v1 update");
    doc.transact_mut().apply_update(update).expect("applies");
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/sync/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("fixture JSON")
}

#[test]
fn append_child_sends_pythons_transactions_and_remote_updates_show_in_to_json() {
    let doc = doc_with_client(2222);
    let updates = record_updates(&doc);
    let tree = ElementTree::new(&doc, todo_schema());
    assert_eq!(tree.to_json(), json!({"todo": {"items": []}}));

    let item = tree
        .root()
        .append_child_with_id(
            "item",
            "00000000-0000-4000-8000-000000000001",
            json!({"text": "local: grüße ✓"}),
        )
        .expect("item is allowed under todo");
    assert_eq!(*updates.lock().expect("not poisoned"), PYTHON_APPEND);
    assert_eq!(
        item.id().as_deref(),
        Some("00000000-0000-4000-8000-000000000001")
    );
    assert_eq!(item.get_attribute("text"), Some(json!("local: grüße ✓")));

    // The server's update from client 777 (concurrent: Yjs orders it first, lower client id).
    apply(&doc, REMOTE_777);
    let expected = json!({"todo": {"items": [
        {"item": {"text": "remote: café ☕"}},
        {"item": {"text": "local: grüße ✓"}},
    ]}});
    assert_eq!(tree.to_json(), expected); // the outcome both SDKs recorded
    let remote = tree
        .get_node_by_id("00000000-0000-4000-8000-000000000777")
        .expect("the remote item");
    assert_eq!(remote.tag_name(), "item");
    assert_eq!(
        remote.attributes(),
        *json!({"text": "remote: café ☕"})
            .as_object()
            .expect("object")
    );
    assert_eq!(tree.root().get_children_by_tag_name("item").len(), 2);
}

#[test]
fn a_remote_update_alone_reads_as_the_sdks_json() {
    let doc = Doc::new();
    let tree = ElementTree::new(&doc, todo_schema());
    apply(&doc, REMOTE_777);
    assert_eq!(
        tree.to_json(),
        json!({"todo": {"items": [{"item": {"text": "remote: café ☕"}}]}})
    );
}

#[test]
fn edits_on_a_typescript_document_match_the_python_sdk() {
    // python_open.json: the state (a TypeScript SDK document, encoded by Yjs), Python's
    // append_child under `messages` (client id 2222, $id ...101) and a remote update.
    let f = fixture("python_open.json");
    let schema = MeshSchema::from_json(&f["call"]["schema"]).expect("valid schema");
    let doc = doc_with_client(2222);
    let tree = ElementTree::new(&doc, schema);
    apply(&doc, f["state"]["tail"].as_str().expect("state"));
    let updates = record_updates(&doc);

    let messages = tree.root().get_children_by_tag_name("messages");
    let [messages] = messages.as_slice() else {
        panic!("one messages element: {messages:?}")
    };
    messages
        .append_child_with_id(
            "message",
            "00000000-0000-4000-8000-000000000101",
            json!({"id": "m2", "author_name": "python", "final": true}),
        )
        .expect("message is allowed under messages");
    let local: Vec<String> = f["local"]
        .as_array()
        .expect("local updates")
        .iter()
        .map(|v| v.as_str().expect("base64").to_string())
        .collect();
    assert_eq!(*updates.lock().expect("not poisoned"), local);

    apply(&doc, f["remote_sync"]["tail"].as_str().expect("remote"));
    let json = tree.to_json();
    let members = &json["thread"]["properties"][0]["members"]["items"];
    assert_eq!(members[1], json!({"member": {"name": "carol"}}));
    let first = &json["thread"]["properties"][1]["messages"]["items"][0]["message"];
    assert_eq!(first["score"], json!(1.5));
    assert_eq!(first["tokens"], json!(42));
    assert_eq!(first["note"], Value::Null);
    assert_eq!(first["content"], json!([{"text": {}}]));
    let second = &json["thread"]["properties"][1]["messages"]["items"][1];
    assert_eq!(
        *second,
        json!({"message": {"id": "m2", "author_name": "python", "final": true, "content": []}})
    );
    // The text element holds the rich text as an XmlText.
    let text = tree
        .get_node_by_id("00000000-0000-4000-8000-000000000006")
        .expect("the text element");
    assert!(matches!(text.children().as_slice(), [Node::Text(_)]));
}

#[test]
fn the_schema_is_enforced() {
    let doc = Doc::new();
    let tree = ElementTree::new(&doc, todo_schema());
    let root = tree.root();
    let invalid = |r: Result<_, Error>| matches!(r, Err(Error::InvalidArguments(_)));
    assert!(invalid(root.append_child("todo", Value::Null).map(drop)));
    assert!(invalid(
        root.append_child("item", json!({"nope": 1})).map(drop)
    ));
    assert!(invalid(
        root.append_child("item", json!(["text"])).map(drop)
    ));
    assert!(invalid(root.set_attribute("text", "x")));
    let item = root.append_child("item", Value::Null).expect("allowed");
    assert!(invalid(item.append_child("item", Value::Null).map(drop)));
    assert!(invalid(item.set_attribute("nope", 1)));
    let id = item.id().expect("a fresh $id");
    assert_eq!(uuid_shape(&id), [8, 4, 4, 4, 12]);

    item.set_attribute("text", json!("x"))
        .expect("a value property");
    assert_eq!(
        tree.to_json(),
        json!({"todo": {"items": [{"item": {"text": "x"}}]}})
    );
    item.remove_attribute("text").expect("removable");
    assert_eq!(item.get_attribute("text"), None);
    item.delete().expect("deletable");
    assert_eq!(tree.to_json(), json!({"todo": {"items": []}}));
    assert!(tree.get_node_by_id(&id).is_none());
}

fn uuid_shape(s: &str) -> Vec<usize> {
    s.split('-').map(str::len).collect()
}

#[test]
fn invalid_schemas_are_rejected() {
    for bad in [
        json!({}),
        json!({"$root_tag_ref": "#/$defs/x", "$defs": {}}),
        json!({"$root_tag_ref": "#/$defs/x", "$defs": {"x": {"properties": {"x": {"properties": {
            "c": {"type": "array", "items": {"anyOf": [{"$ref": "#/$defs/missing"}]}}}}}}}}),
    ] {
        assert!(
            matches!(MeshSchema::from_json(&bad), Err(Error::InvalidArguments(_))),
            "{bad}"
        );
    }
}
