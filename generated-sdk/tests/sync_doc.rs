//! `sync.open` documents (`SyncDocument`, yrs) against a scripted peer: opening, local and
//! remote updates, echo, closing and failures. Interop with the official SDKs' recorded
//! sessions is in `sync_doc_interop.rs`.
#![cfg(feature = "sync-doc")]

mod support;

use std::future::IntoFuture;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use meshagent_room::yrs::{Doc, Transact, XmlElementPrelim, XmlFragment};
use meshagent_room::Error;
use meshagent_room::{REMOTE_ORIGIN, ROOT_NAME};
use serde_json::{json, Value};
use support::sync::*;

#[tokio::test]
async fn start_chunk_sends_nulls_like_python_when_nothing_is_given() {
    let (room, _e, mut peer) = connect().await;
    let opening = tokio::spawn(
        room.sync_open("./docs/b.thread")
            .create(false)
            .into_future(),
    );
    let id = peer.open("sync", "open").await;
    let (start, _) = peer.chunk().await;
    assert_eq!(
        start.to_string(),
        json!({"type": "binary", "headers": {"kind": "start", "path": "docs/b.thread", "create": false,
            "vector": null, "schema": null, "schema_path": null, "initial_json": null}})
        .to_string()
    );
    peer.respond(&id, state_chunk("/docs/b.thread"), &[]).await;
    let doc = within("open", opening).await.expect("task").expect("open");
    // An empty state: nothing to echo.
    peer.silent().await;
    assert_eq!(canonical(doc.doc()), json!([]));
    drop(doc);
}

#[test]
fn documents_move_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<meshagent_room::SyncDocument>();
    send_sync::<meshagent_room::SyncOpen>();
}

// Multi-threaded: the observer runs on the editing thread, the stream task elsewhere.
#[tokio::test]
async fn remote_sync_chunks_are_applied_with_the_remote_origin() {
    let rec = fixture("sdk_updates.json");
    let (room, _e, mut peer) = connect().await;
    let opening = tokio::spawn(room.sync_open("docs/r.thread").into_future());
    let id = peer.open_with_state("docs/r.thread", &[]).await;
    let doc = within("open", opening).await.expect("task").expect("open");
    let (seen_tx, mut seen) = tokio::sync::mpsc::unbounded_channel();
    doc.doc()
        .observe_update_v1("test", move |txn, _| {
            let remote = txn.origin() == Some(&REMOTE_ORIGIN.into());
            let _ = seen_tx.send(remote);
        })
        .expect("observe");
    let updates = rec["typescript"]["updates"].as_array().expect("updates");
    for u in updates {
        peer.respond(
            &id,
            sync_chunk("/docs/r.thread"),
            u.as_str().expect("b64").as_bytes(),
        )
        .await;
        // Echoed back, as the SDKs do.
        let (chunk, tail) = peer.chunk().await;
        assert_eq!(chunk, sync_request());
        assert_eq!(decoded(&tail), decoded(u.as_str().expect("b64").as_bytes()));
        assert_eq!(seen.recv().await, Some(true));
    }
    // An empty tail only marks the document synchronized.
    peer.respond(&id, sync_chunk("docs/r.thread"), &[]).await;
    peer.silent().await;
    assert_eq!(canonical(doc.doc()), rec["typescript"]["content"]);
}

#[tokio::test]
async fn echo_can_be_turned_off() {
    let (room, _e, mut peer) = connect().await;
    let opening = tokio::spawn(room.sync_open("d").echo_remote_updates(false).into_future());
    let state = {
        let d = Doc::new();
        let root = d.get_or_insert_xml_fragment(ROOT_NAME);
        let mut txn = d.transact_mut();
        root.push_back(&mut txn, XmlElementPrelim::empty("a"));
        STANDARD.encode(txn.encode_update_v1())
    };
    peer.open_with_state("d", state.as_bytes()).await;
    let doc = within("open", opening).await.expect("task").expect("open");
    peer.silent().await;
    {
        let mut txn = doc.doc().transact_mut();
        doc.root().push_back(&mut txn, XmlElementPrelim::empty("b"));
    }
    let (_, tail) = peer.chunk().await;
    // The first chunk is the local change (it needs the state to apply).
    let both = apply_all(&[
        STANDARD.decode(&state).expect("base64"),
        STANDARD.decode(&tail).expect("base64"),
    ]);
    let content = canonical(&both);
    assert_eq!(content[0]["element"], "a", "{content}");
    assert_eq!(content[1]["element"], "b", "{content}");
}

#[tokio::test]
async fn close_sends_what_is_queued_then_waits_for_the_server() {
    let (room, _e, mut peer) = connect().await;
    let opening = tokio::spawn(room.sync_open("c").into_future());
    let id = peer.open_with_state("c", &[]).await;
    let doc = within("open", opening).await.expect("task").expect("open");
    {
        let mut txn = doc.doc().transact_mut();
        doc.root().push_back(&mut txn, XmlElementPrelim::empty("x"));
    }
    let closing = tokio::spawn(doc.close());
    let (chunk, _) = peer.chunk().await;
    assert_eq!(chunk, sync_request(), "the queued update first");
    let (chunk, _) = peer.chunk().await;
    assert_eq!(chunk, close(1000));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!closing.is_finished(), "waits for the server's close");
    // A late remote update is still applied; then the server closes.
    peer.respond(&id, sync_chunk("c"), &[]).await;
    peer.respond(&id, close(1000), &[]).await;
    within("close", closing)
        .await
        .expect("task")
        .expect("normal close");
    peer.silent().await;
}

#[tokio::test]
async fn a_server_close_ends_the_document_normally() {
    let (room, _e, mut peer) = connect().await;
    let opening = tokio::spawn(room.sync_open("s").into_future());
    let id = peer.open_with_state("s", &[]).await;
    let doc = within("open", opening).await.expect("task").expect("open");
    peer.respond(&id, close(1000), &[]).await;
    let (chunk, _) = peer.chunk().await;
    assert_eq!(chunk, close(1000), "the client closes its side too");
    within("closed", doc.closed()).await.expect("normal end");
    assert!(doc.is_closed());
    // Later local edits stay local; flush says they were not sent.
    {
        let mut txn = doc.doc().transact_mut();
        doc.root()
            .push_back(&mut txn, XmlElementPrelim::empty("late"));
    }
    assert!(matches!(
        within("flush", doc.flush()).await,
        Err(Error::Closed { .. })
    ));
    doc.close().await.expect("already closed normally");
    peer.silent().await;
}

#[tokio::test]
async fn abnormal_close_is_an_error() {
    let (room, _e, mut peer) = connect().await;
    let opening = tokio::spawn(room.sync_open("a").into_future());
    let id = peer.open_with_state("a", &[]).await;
    let doc = within("open", opening).await.expect("task").expect("open");
    peer.respond(
        &id,
        json!({"type": "control", "method": "close", "status_code": 1007, "message": "bad"}),
        &[],
    )
    .await;
    let err = within("closed", doc.closed()).await.expect_err("abnormal");
    assert!(
        matches!(err, Error::StreamClosed { status_code: 1007, ref message } if message.as_deref() == Some("bad")),
        "{err:?}"
    );
    let (chunk, _) = peer.chunk().await;
    assert_eq!(chunk, close(1000), "the request side is still closed");
    let err = doc.close().await.expect_err("close reports it");
    assert!(matches!(
        err,
        Error::StreamClosed {
            status_code: 1007,
            ..
        }
    ));
}

#[tokio::test]
async fn an_error_chunk_fails_the_document() {
    let (room, _e, mut peer) = connect().await;
    let opening = tokio::spawn(room.sync_open("e").into_future());
    let id = peer.open_with_state("e", &[]).await;
    let doc = within("open", opening).await.expect("task").expect("open");
    peer.respond(
        &id,
        json!({"type": "error", "text": "doc on fire", "code": 4001}),
        &[],
    )
    .await;
    let err = within("closed", doc.closed())
        .await
        .expect_err("error chunk");
    assert_eq!(err.code(), Some(4001));
    let (chunk, _) = peer.chunk().await;
    assert_eq!(chunk, close(1000));
}

#[tokio::test]
async fn disconnect_fails_with_a_clear_error() {
    let (room, _e, mut peer) = connect().await;
    let opening = tokio::spawn(room.sync_open("z").into_future());
    peer.open_with_state("z", &[]).await;
    let doc = within("open", opening).await.expect("task").expect("open");
    drop(peer);
    let err = within("closed", doc.closed())
        .await
        .expect_err("disconnect");
    assert!(matches!(err, Error::Closed { .. }), "{err:?}");
    {
        let mut txn = doc.doc().transact_mut();
        doc.root()
            .push_back(&mut txn, XmlElementPrelim::empty("lost"));
    }
    assert!(matches!(doc.flush().await, Err(Error::Closed { .. })));
    assert!(matches!(doc.close().await, Err(Error::Closed { .. })));
}

#[tokio::test]
async fn dropping_the_document_stops_its_task_and_closes_the_stream() {
    let (room, _e, mut peer) = connect().await;
    let opening = tokio::spawn(room.sync_open("d").into_future());
    let id = peer.open_with_state("d", &[]).await;
    let doc = within("open", opening).await.expect("task").expect("open");
    let kept = doc.doc().clone();
    drop(doc);
    let (chunk, _) = peer.chunk().await;
    assert_eq!(chunk, close(1000));
    // Nothing is applied or sent any more.
    peer.respond(&id, sync_chunk("d"), b"not even base64").await;
    {
        let root = kept.get_or_insert_xml_fragment(ROOT_NAME);
        let mut txn = kept.transact_mut();
        root.push_back(&mut txn, XmlElementPrelim::empty("after"));
    }
    peer.silent().await;
}

#[tokio::test]
async fn open_fails_on_a_bad_first_chunk() {
    let cases: Vec<(Value, &[u8], &str)> = vec![
        (state_chunk("other"), b"", "mismatched path"),
        (sync_chunk("p"), b"", "kind \"state\""),
        (
            json!({"type": "binary", "headers": {"kind": "state", "path": "p", "schema": null}}),
            b"",
            "object schema",
        ),
        (state_chunk("p"), b"%%%", "not base64"),
        (state_chunk("p"), b"AQ==", "not a Yjs v1 update"),
        (close(1000), b"", "before the initial document state"),
    ];
    for (chunk, tail, expect) in cases {
        let (room, _e, mut peer) = connect().await;
        let opening = tokio::spawn(room.sync_open("p").into_future());
        let id = peer.open("sync", "open").await;
        peer.chunk().await;
        peer.respond(&id, chunk, tail).await;
        let err = within("open", opening)
            .await
            .expect("task")
            .expect_err(expect);
        assert!(err.to_string().contains(expect), "{expect}: {err}");
        let (chunk, _) = peer.chunk().await;
        assert_eq!(chunk, close(1000), "{expect}: the stream is closed");
    }
}

#[tokio::test]
async fn open_fails_with_the_servers_error() {
    let (room, _e, mut peer) = connect().await;
    let opening = tokio::spawn(room.sync_open("p").into_future());
    let id = peer.open("sync", "open").await;
    peer.chunk().await;
    peer.respond(
        &id,
        json!({"type": "error", "text": "no such document", "code": 3001}),
        &[],
    )
    .await;
    let err = within("open", opening)
        .await
        .expect("task")
        .expect_err("error");
    assert_eq!(err.code(), Some(3001));
}

#[tokio::test]
async fn a_bad_remote_update_fails_the_document() {
    let (room, _e, mut peer) = connect().await;
    let opening = tokio::spawn(room.sync_open("b").into_future());
    let id = peer.open_with_state("b", &[]).await;
    let doc = within("open", opening).await.expect("task").expect("open");
    peer.respond(&id, sync_chunk("b"), b"AQ==").await;
    let err = within("closed", doc.closed())
        .await
        .expect_err("bad update");
    assert!(matches!(err, Error::UnexpectedResponse { .. }), "{err:?}");
    let (chunk, _) = peer.chunk().await;
    assert_eq!(chunk, close(1000));
}

/// Accepts a loopback websocket and completes the room handshake on it.
async fn accept_peer(listener: &tokio::net::TcpListener) -> Peer {
    let ws = support::WsPeer::accept(listener).await.ws;
    let mut peer: Peer = support::Peer::new(Box::new(meshagent_room::websocket_transport(ws)));
    peer.handshake().await;
    peer
}

fn push_element(doc: &meshagent_room::SyncDocument, name: &str) {
    let mut txn = doc.doc().transact_mut();
    doc.root()
        .push_back(&mut txn, XmlElementPrelim::empty(name));
}

#[tokio::test]
async fn a_document_opens_again_after_a_reconnection_and_no_local_edit_is_lost() {
    let (listener, url) = support::listen().await;
    let policy = meshagent_room::ReconnectPolicy::default()
        .delays(Duration::from_millis(10), Duration::from_millis(50));
    let client = tokio::spawn(
        meshagent_room::RoomClient::connect(url, "tok")
            .reconnect(Some(policy))
            .into_future(),
    );
    let mut peer = accept_peer(&listener).await;
    let (room, _events) = within("connect", client)
        .await
        .expect("task")
        .expect("connected");
    let opening = tokio::spawn(room.sync_open("docs/a.thread").into_future());
    peer.open_with_state("docs/a.thread", &[]).await;
    let doc = within("open", opening).await.expect("task").expect("open");
    push_element(&doc, "before");
    let (_, before) = peer.chunk().await;

    // The connection drops; an edit is made while the client is away.
    drop(peer);
    push_element(&doc, "while-away");
    let remote = {
        let d = Doc::new();
        let root = d.get_or_insert_xml_fragment(ROOT_NAME);
        let mut txn = d.transact_mut();
        root.push_back(&mut txn, XmlElementPrelim::empty("remote"));
        STANDARD.encode(txn.encode_update_v1())
    };

    let mut peer = accept_peer(&listener).await;
    let id = peer.open("sync", "open").await;
    let (start, _) = peer.chunk().await;
    assert_eq!(start["headers"]["kind"], "start");
    let vector = start["headers"]["vector"]
        .as_str()
        .expect("opened again with its state vector");
    let vector = STANDARD.decode(vector).expect("base64");
    use meshagent_room::yrs::updates::decoder::Decode;
    let vector = meshagent_room::yrs::StateVector::decode_v1(&vector).expect("a state vector");
    assert!(
        vector.contains_client(&doc.doc().client_id()),
        "the vector names the local edits"
    );
    peer.respond(&id, state_chunk("docs/a.thread"), remote.as_bytes())
        .await;
    // The whole local state goes up once, so the edit made while away is not lost.
    let (chunk, full) = peer.chunk().await;
    assert_eq!(chunk, sync_request());
    let server = apply_all(&[
        STANDARD.decode(&before).expect("base64"),
        STANDARD.decode(&full).expect("base64"),
    ]);
    let names: Vec<Value> = canonical(&server)
        .as_array()
        .expect("children")
        .iter()
        .map(|c| c["element"].clone())
        .collect();
    for name in ["before", "while-away", "remote"] {
        assert!(
            names.contains(&json!(name)),
            "{name} missing from {names:?}"
        );
    }
    // The remote part was applied locally too, and the document keeps syncing.
    let local: Vec<Value> = canonical(doc.doc())
        .as_array()
        .expect("children")
        .iter()
        .map(|c| c["element"].clone())
        .collect();
    assert!(local.contains(&json!("remote")), "{local:?}");
    assert!(!doc.is_closed());
    push_element(&doc, "after");
    let (chunk, _) = peer.chunk().await;
    assert_eq!(chunk, sync_request());
}
