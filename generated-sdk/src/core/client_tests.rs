//! `invoke_json_nowait` against a scripted room on the in-memory transport.

use serde_json::json;

use crate::core::error::Error;
use crate::core::stream::tests::connect;

#[tokio::test]
async fn invoke_json_nowait_sends_the_invoke_and_leaves_no_pending_call() {
    let (room, mut peer) = connect().await;
    room.invoke_json_nowait("messaging", "enable", &json!({}))
        .await
        .expect("queued");
    assert!(
        room.shared().lock().pending.is_empty(),
        "nothing awaits a reply"
    );
    let (id, kind, header, tail) = peer.recv().await;
    assert_eq!(kind, "room.invoke_tool");
    assert_eq!(header["toolkit"], "messaging");
    assert_eq!(header["tool"], "enable");
    assert_eq!(header["arguments"], json!({"type": "json", "json": {}}));
    assert!(header["tool_call_id"].is_string());
    assert!(tail.is_empty());
    // A reply that comes anyway is dropped as one for an unknown request; later calls
    // are still answered by id.
    peer.send(
        id,
        "__response__",
        json!({"type": "json", "json": {"ok": true}}),
    )
    .await;
    let call = tokio::spawn({
        let room = room.clone();
        async move { room.invoke_json("t", "x", &json!({"a": 1})).await }
    });
    let (id2, ..) = peer.recv().await;
    assert_ne!(id2, id);
    peer.send(id2, "__response__", json!({"type": "text", "text": "done"}))
        .await;
    let reply = call.await.expect("task").expect("answered");
    assert_eq!(reply, crate::Content::Text("done".into()));
    peer.silent().await;
}

#[tokio::test]
async fn invoke_json_nowait_on_a_closed_client_fails() {
    let (room, _peer) = connect().await;
    room.close().await;
    let e = room
        .invoke_json_nowait("messaging", "disable", &json!({}))
        .await
        .expect_err("closed");
    assert!(matches!(e, Error::Closed { .. }), "{e:?}");
}
