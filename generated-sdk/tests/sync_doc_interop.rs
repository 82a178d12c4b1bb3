//! `sync.open` documents interoperating with the official SDKs, through the fixtures in
//! `tests/fixtures/sync/`, recorded by `conformance/recorder/record_sync_fixtures.py` (see
//! the note at its top).
#![cfg(feature = "sync-doc")]

mod support;

use std::future::IntoFuture;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use meshagent_room::yrs::{ClientID, Doc, Options, ReadTxn, Transact};
use meshagent_room::{decode_sync_payload, normalize_sync_path, ROOT_NAME};
use serde_json::json;
use support::sync::*;

#[test]
fn paths_are_normalized_as_the_sdks_do() {
    for (given, sent) in [
        ("/docs/a.thread", "docs/a.thread"),
        ("././//docs/a", "docs/a"),
        ("./.", ""),
        (".", ""),
        ("/./a", "./a"),
        ("a/./b", "a/./b"),
    ] {
        assert_eq!(normalize_sync_path(given), sent, "{given}");
    }
}

/// Replays `python_open.json`: what `meshagent-api` 0.35.8 sent and received for one
/// `sync.open` session against a scripted server.
#[tokio::test]
async fn replays_the_python_sdk_session() {
    let rec = fixture("python_open.json");
    let call = &rec["call"];
    let (room, _e, mut peer) = connect().await;
    let opening = tokio::spawn(
        room.sync_open(call["path"].as_str().expect("path"))
            .create(call["create"].as_bool().expect("create"))
            .initial_json(call["initial_json"].clone())
            .schema(call["schema"].clone())
            .into_future(),
    );
    let id = peer.open("sync", "open").await;

    // The start chunk, key order included.
    let (start, tail) = peer.chunk().await;
    assert!(tail.is_empty());
    assert_eq!(start.to_string(), rec["start"].to_string());

    // The state: applied before open() returns, then echoed first, byte for byte as Python.
    let state = &rec["state"];
    peer.respond(&id, state["chunk"].clone(), &b64_text(&state["tail"]))
        .await;
    let doc = within("open", opening).await.expect("task").expect("open");
    assert_eq!(canonical(doc.doc()), state["content"]);
    assert_eq!(doc.path(), rec["start"]["headers"]["path"]);
    assert_eq!(doc.schema(), &state["chunk"]["headers"]["schema"]);
    let (echo, tail) = peer.chunk().await;
    assert_eq!(echo, sync_request());
    // yrs 0.28 re-encodes Yjs's state byte for byte; Python's pycrdt (an older yrs) writes
    // one delete range shorter, with the same content.
    assert_eq!(tail, b64_text(&state["tail"]), "the echo is the state");
    assert_eq!(decoded(&tail), decoded(&b64_text(&rec["echo"])));

    // Python's own local edit (one update per pycrdt transaction), relayed to us as remote
    // updates: applied, and each echoed.
    for local in rec["local"].as_array().expect("local") {
        let update = b64_text(local);
        peer.respond(&id, rec["remote_sync"]["chunk"].clone(), &update)
            .await;
        let (chunk, tail) = peer.chunk().await;
        assert_eq!(chunk, sync_request());
        assert_eq!(
            tail, update,
            "the echo of an update made by yrs is the update"
        );
    }

    // The remote update the scripted server sent Python (made by Yjs): echoed as Python did.
    let remote = &rec["remote_sync"];
    peer.respond(&id, remote["chunk"].clone(), &b64_text(&remote["tail"]))
        .await;
    let (_, tail) = peer.chunk().await;
    assert_eq!(tail, b64_text(&rec["remote_echo"]));
    assert_eq!(canonical(doc.doc()), rec["content_after"]);

    // Close: the request-side close as Python sends it, then the server's.
    let closing = tokio::spawn(doc.close());
    let (chunk, _) = peer.chunk().await;
    assert_eq!(chunk, rec["client_close"]);
    peer.respond(&id, rec["server_close"].clone(), &[]).await;
    within("close", closing)
        .await
        .expect("task")
        .expect("normal close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_edits_go_out_as_sync_chunks_that_the_sdks_read() {
    let client_id = YRS_CLIENT_ID;
    let (room, _e, mut peer) = connect().await;
    let opening = tokio::spawn(
        room.sync_open("docs/y.thread")
            .options(Options::with_client_id(ClientID::new(client_id)))
            .into_future(),
    );
    peer.open_with_state("docs/y.thread", &[]).await;
    let doc = within("open", opening).await.expect("task").expect("open");
    make_fixture_edits(doc.doc(), &doc.root());
    let mut tails = Vec::new();
    for _ in 0..2 {
        let (chunk, tail) = peer.chunk().await;
        assert_eq!(chunk, sync_request());
        assert!(tail.iter().all(u8::is_ascii), "the tail is ASCII base64");
        tails.push(String::from_utf8(tail.to_vec()).expect("ascii"));
    }
    within("flush", doc.flush()).await.expect("acknowledged");
    peer.silent().await;

    // Each tail decodes to a v1 update; applied in order to a fresh doc: the same content.
    let updates: Vec<Vec<u8>> = tails
        .iter()
        .map(|t| STANDARD.decode(t).expect("base64"))
        .collect();
    for t in &tails {
        decode_sync_payload(t.as_bytes()).expect("a Yjs v1 update");
    }
    let copy = apply_all(&updates);
    assert_eq!(canonical(&copy), canonical(doc.doc()));

    if std::env::var_os("MESHAGENT_SYNC_FIXTURE_PRINT").is_some() {
        // Read by conformance/recorder/record_sync_fixtures.py.
        println!(
            "SYNC_FIXTURE_YRS={}",
            json!({"client_id": client_id, "updates": tails, "content": canonical(doc.doc())})
        );
        return;
    }
    let rec = fixture("yrs_readback.json");
    assert_eq!(rec["client_id"], json!(client_id));
    // The recorded verdict is for exactly these bytes (a fixed client id makes yrs's
    // encoding deterministic), and every SDK read them back as yrs sees them.
    assert_eq!(
        json!(tails),
        rec["updates"],
        "yrs now encodes the fixture edits differently: re-record"
    );
    assert_eq!(canonical(doc.doc()), rec["content"]);
    assert_eq!(rec["accepted"], json!(true), "{}", rec["read_by"]);
    let readers = rec["read_by"].as_object().expect("read_by");
    assert_eq!(readers.len(), 3, "pycrdt, the Python SDK's pycrdt doc, Yjs");
    for (reader, content) in readers {
        assert_eq!(content, &rec["content"], "read back by {reader}");
    }
    // Yjs making the same transactions with the same client id writes the same bytes.
    assert_eq!(rec["yjs_same_edits"]["updates"], rec["updates"]);
    assert_eq!(rec["yjs_same_edits"]["byte_identical"], json!(true));
    // The SDKs' JSON views treat yrs's bytes exactly as Yjs's.
    assert_eq!(
        rec["sdk_mirrors"]["of_yrs_updates"],
        rec["sdk_mirrors"]["of_yjs_same_edits"]
    );
}

#[test]
fn updates_from_the_sdks_apply_in_yrs() {
    let rec = fixture("sdk_updates.json");
    for sdk in ["python", "typescript"] {
        let r = &rec[sdk];
        let updates: Vec<Vec<u8>> = r["updates"]
            .as_array()
            .expect("updates")
            .iter()
            .map(b64)
            .collect();
        let doc = apply_all(&updates);
        assert_eq!(canonical(&doc), r["content"], "{sdk}");
        // Whole-state form too (as a server's state chunk would carry it).
        let state = {
            let txn = doc.transact();
            txn.encode_state_as_update_v1(&Default::default())
        };
        assert_eq!(canonical(&apply_all(&[state])), r["content"], "{sdk} state");
    }
    // Same edits, same tree (the text offsets differ: Python's SDK formats by UTF-8 bytes).
    assert_eq!(rec["typescript"]["content"], fixture_content());
}

#[test]
fn yrs_reads_the_state_of_the_protocol_example() {
    // protocol-core.md §9 Example D: the state tail Python received.
    let tail =
        b"AQPWib3AAwAHAQN4bWwDB21lc3NhZ2UoANaJvcADAAMkaWQBdwJtMSgA1om9wAMABHRleHQBdwVmaXJzdAA=";
    let update = decode_sync_payload(tail).expect("update");
    let doc = Doc::new();
    doc.get_or_insert_xml_fragment(ROOT_NAME);
    doc.transact_mut().apply_update(update).expect("applies");
    assert_eq!(
        canonical(&doc),
        json!([{"element": "message", "attributes": {"$id": "m1", "text": "first"}, "children": []}])
    );
}
