//! The public test kit (`meshagent_room::testing`, feature `test-util`): what a user's unit
//! test does with it, and that a script that does not match fails with a clear error.
#![cfg(feature = "test-util")]

use std::time::Duration;

use futures::StreamExt;
use meshagent_room::testing::{ScriptError, ScriptedRoom};
use meshagent_room::{Content, RoomEvent};
use serde_json::json;

#[tokio::test]
async fn a_reply_an_error_and_an_event() {
    let (room, mut events, mut script) = ScriptedRoom::connect().await.expect("connects");
    let client = room.clone();
    let call = tokio::spawn(async move { client.storage().exists("a.txt").await });
    let request = script
        .expect_invoke("storage", "exists")
        .await
        .expect("the call");
    assert_eq!(
        request.arguments().expect("content"),
        Content::Json(json!({"path": "a.txt"}))
    );
    script
        .reply_json(&request, json!({"exists": true}))
        .await
        .expect("sent");
    assert!(call.await.expect("task").expect("reply"));

    let client = room.clone();
    let call = tokio::spawn(async move { client.storage().exists("b.txt").await });
    let request = script
        .expect_invoke("storage", "exists")
        .await
        .expect("call");
    script
        .reply_error(&request, 404, "no such file")
        .await
        .expect("sent");
    let err = call.await.expect("task").expect_err("the room's error");
    assert!(err.to_string().contains("no such file"), "{err}");

    script
        .push(
            "storage.file.deleted",
            json!({"path": "a.txt", "participant_id": "p-2"}),
        )
        .await
        .expect("pushed");
    let event = tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .expect("an event in time")
        .expect("the stream is open");
    assert!(
        matches!(event, RoomEvent::StorageFileDeleted(ref e) if e.path == "a.txt"),
        "{event:?}"
    );
}

#[tokio::test]
async fn a_stream_both_ways() {
    let (room, _events, mut script) = ScriptedRoom::connect().await.expect("connects");
    let input = futures::stream::iter(vec![Content::Text("hello".into())]);
    let call = tokio::spawn(async move {
        let mut out = room.agents().invoke_stream("echo", "run", input).await?;
        let mut got = Vec::new();
        while let Some(chunk) = out.next().await {
            got.push(chunk?);
        }
        Ok::<_, meshagent_room::Error>(got)
    });
    let stream = script.expect_stream("echo", "run").await.expect("opened");
    assert_eq!(
        script.expect_chunk(&stream).await.expect("a chunk"),
        Content::Text("hello".into())
    );
    script
        .send_chunk(&stream, Content::Text("HELLO".into()))
        .await
        .expect("sent");
    script.close_stream(&stream).await.expect("closed");
    let got = tokio::time::timeout(Duration::from_secs(5), call)
        .await
        .expect("in time")
        .expect("task")
        .expect("the stream");
    assert_eq!(got, vec![Content::Text("HELLO".into())]);
}

#[tokio::test]
async fn a_mismatch_or_silence_is_a_clear_error() {
    let (room, _events, mut script) = ScriptedRoom::connect().await.expect("connects");
    script.step_timeout(Duration::from_millis(200));
    let err = script
        .expect_invoke("queues", "list")
        .await
        .expect_err("nothing was sent");
    assert!(matches!(err, ScriptError::Timeout { .. }), "{err}");

    let _call = tokio::spawn(async move { room.storage().exists("a.txt").await });
    let err = script
        .expect_invoke("queues", "list")
        .await
        .expect_err("another call came");
    assert_eq!(
        err.to_string(),
        "expected room.invoke_tool queues.list, but the client sent room.invoke_tool storage.exists"
    );
    script
        .expect_silence(Duration::from_millis(100))
        .await
        .expect("nothing more");
}
