//! Streaming tool calls over a loopback websocket against a scripted peer that follows each tool's flow control.

mod support;

use std::future::IntoFuture;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use meshagent_room::{protocol, ByteSource, Content, Error};
use serde_json::{json, Value};

fn close(status: i64) -> Value {
    json!({"type": "control", "method": "close", "status_code": status})
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

#[tokio::test]
async fn upload_sends_exactly_what_the_server_pulls() {
    let (room, _e, mut peer) = support::connect_loopback().await;
    let data = pattern(70_000);
    // Uneven source pieces: the client must re-slice them to the pulled sizes.
    let pieces: Vec<std::io::Result<Bytes>> = data
        .chunks(9_999)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let call = tokio::spawn({
        let room = room.clone();
        async move {
            room.storage()
                .upload(
                    "docs/a.bin",
                    ByteSource::from_stream(futures::stream::iter(pieces)),
                )
                .overwrite(true)
                .await
        }
    });
    let id = peer.open("storage", "upload").await;
    let (start, _) = peer.chunk().await;
    assert_eq!(
        start,
        json!({"type": "binary", "headers": {"kind": "start", "path": "docs/a.bin", "overwrite": true,
               "name": "a.bin", "mime_type": "application/octet-stream", "size": null}})
    );
    let mut received = Vec::new();
    for size in [30_000, 30_000, 30_000] {
        peer.respond(
            &id,
            json!({"type": "binary", "headers": {"kind": "pull", "chunk_size": size}}),
            &[],
        )
        .await;
        let (chunk, tail) = peer.chunk().await;
        assert_eq!(
            chunk,
            json!({"type": "binary", "headers": {"kind": "data"}})
        );
        assert_eq!(tail.len(), size.min(70_000 - received.len()));
        received.extend_from_slice(&tail);
    }
    // Source exhausted: the next pull gets the request-side close.
    peer.respond(
        &id,
        json!({"type": "binary", "headers": {"kind": "pull"}}),
        &[],
    )
    .await;
    let (chunk, _) = peer.chunk().await;
    assert_eq!(chunk, close(1000));
    peer.respond(&id, close(1000), &[]).await;
    call.await.expect("task").expect("upload ok");
    assert_eq!(received, data);
}

#[tokio::test]
async fn download_pulls_while_bytes_remain() {
    let (room, _e, mut peer) = support::connect_loopback().await;
    let data = pattern(150_000);
    let call = tokio::spawn({
        let room = room.clone();
        async move { room.storage().download("a.bin").await?.bytes().await }
    });
    let id = peer.open("storage", "download").await;
    let (start, _) = peer.chunk().await;
    assert_eq!(
        start["headers"],
        json!({"kind": "start", "path": "a.bin", "chunk_size": 65536})
    );
    peer.respond(&id, json!({"type": "binary", "headers": {"kind": "start", "name": "a.bin", "mime_type": "x/y", "size": data.len()}}), &[]).await;
    for piece in data.chunks(65536) {
        let (pull, _) = peer.chunk().await;
        assert_eq!(pull["headers"], json!({"kind": "pull"}));
        peer.respond(
            &id,
            json!({"type": "binary", "headers": {"kind": "data"}}),
            piece,
        )
        .await;
    }
    peer.respond(&id, close(1000), &[]).await;
    let (chunk, _) = peer.chunk().await;
    assert_eq!(chunk, close(1000), "the client closes its side once");
    assert_eq!(
        call.await.expect("task").expect("download ok"),
        Bytes::from(data)
    );
}

#[tokio::test]
async fn zero_byte_download_sends_no_pull() {
    let (room, _e, mut peer) = support::connect_loopback().await;
    let call = tokio::spawn({
        let room = room.clone();
        async move { room.storage().download("empty").await?.bytes().await }
    });
    let id = peer.open("storage", "download").await;
    peer.chunk().await;
    peer.respond(&id, json!({"type": "binary", "headers": {"kind": "start", "name": "empty", "mime_type": "x/y", "size": 0}}), &[]).await;
    peer.respond(&id, close(1000), &[]).await;
    let (chunk, _) = peer.chunk().await;
    assert_eq!(chunk, close(1000));
    assert!(call.await.expect("task").expect("ok").is_empty());
}

#[tokio::test]
async fn abnormal_close_is_an_error() {
    let (room, _e, mut peer) = support::connect_loopback().await;
    let call = tokio::spawn({
        let room = room.clone();
        async move { room.storage().upload("a", Bytes::from_static(b"abc")).await }
    });
    let id = peer.open("storage", "upload").await;
    peer.chunk().await;
    peer.respond(
        &id,
        json!({"type": "control", "method": "close", "status_code": 1007, "message": "bad"}),
        &[],
    )
    .await;
    let (chunk, _) = peer.chunk().await;
    assert_eq!(chunk, close(1000));
    let err = call.await.expect("task").expect_err("abnormal close");
    assert!(
        matches!(err, Error::StreamClosed { status_code: 1007, ref message } if message.as_deref() == Some("bad")),
        "{err:?}"
    );
}

#[tokio::test]
async fn error_chunk_mid_stream_fails_the_download() {
    let (room, _e, mut peer) = support::connect_loopback().await;
    let call = tokio::spawn({
        let room = room.clone();
        async move { room.storage().download("a").await?.bytes().await }
    });
    let id = peer.open("storage", "download").await;
    peer.chunk().await;
    peer.respond(&id, json!({"type": "binary", "headers": {"kind": "start", "name": "a", "mime_type": "x", "size": 10}}), &[]).await;
    peer.chunk().await;
    peer.respond(
        &id,
        json!({"type": "error", "text": "disk on fire", "code": 1008}),
        &[],
    )
    .await;
    let err = call.await.expect("task").expect_err("error chunk");
    assert_eq!(err.code(), Some(1008));
}

#[tokio::test]
async fn a_server_that_stops_pulling_is_bounded_by_the_callers_timeout_and_closed() {
    let (room, _e, mut peer) = support::connect_loopback().await;
    let call = tokio::spawn({
        let room = room.clone();
        async move {
            tokio::time::timeout(
                Duration::from_millis(100),
                room.storage()
                    .upload("a", Bytes::from_static(b"abc"))
                    .into_future(),
            )
            .await
        }
    });
    peer.open("storage", "upload").await;
    peer.chunk().await;
    // No pull ever comes.
    assert!(
        call.await.expect("task").is_err(),
        "the caller's timeout fired"
    );
    let (chunk, _) = peer.chunk().await;
    assert_eq!(
        chunk,
        close(1000),
        "dropping the stream still closes it on the server"
    );
}

#[tokio::test]
async fn an_error_reply_to_the_open_fails_the_stream() {
    let (room, _e, mut peer) = support::connect_loopback().await;
    let call = tokio::spawn({
        let room = room.clone();
        async move { room.storage().download("missing").await.map(|_| ()) }
    });
    let (id, ..) = peer.recv().await;
    peer.send(
        id,
        "__response__",
        json!({"type": "error", "text": "not found", "code": 3001}),
        &[],
    )
    .await;
    // The start chunk was sent before the reply and is acknowledged.
    let (chunk, _) = peer.chunk().await;
    assert_eq!(chunk["headers"]["kind"], json!("start"));
    assert_eq!(
        call.await.expect("task").expect_err("error").code(),
        Some(3001)
    );
}

#[tokio::test]
async fn disconnect_fails_open_streams() {
    let (room, _e, mut peer) = support::connect_loopback().await;
    let call = tokio::spawn({
        let room = room.clone();
        async move { room.storage().download("a").await?.bytes().await }
    });
    peer.open("storage", "download").await;
    peer.chunk().await;
    drop(peer);
    let result = tokio::time::timeout(Duration::from_secs(1), call)
        .await
        .expect("fails promptly")
        .expect("task");
    assert!(matches!(result, Err(Error::Closed { .. })), "{result:?}");
}

#[tokio::test]
async fn server_push_streams_chunks_until_close() {
    let (room, _e, mut peer) = support::connect_loopback().await;
    let reader = tokio::spawn({
        let room = room.clone();
        async move {
            let mut s = room.open_stream("developer", "logs").await?;
            let mut got = Vec::new();
            while let Some(c) = s.recv().await? {
                got.push(c);
            }
            s.close().await?;
            Ok::<_, Error>(got)
        }
    });
    let id = peer.open("developer", "logs").await;
    peer.respond(
        &id,
        json!({"type": "binary", "headers": {"type": "custom"}}),
        br#"{"hello": "world"}"#,
    )
    .await;
    peer.respond(&id, close(1000), &[]).await;
    let (chunk, _) = peer.chunk().await;
    assert_eq!(chunk, close(1000));
    let got = reader.await.expect("task").expect("ok");
    assert!(
        matches!(&got[..], [Content::Binary { data, .. }] if &data[..] == br#"{"hello": "world"}"#),
        "{got:?}"
    );
}

#[cfg(feature = "protocol-0-35-8")] // `database` is a 0.35.8 toolkit
fn row(n: i64) -> meshagent_room::types::Row {
    serde_json::from_value(
        json!({"columns": [{"name": "id", "value": {"type": "int", "value": n}}]}),
    )
    .expect("row")
}

#[cfg(feature = "protocol-0-35-8")] // `database` is a 0.35.8 toolkit
#[tokio::test]
async fn database_insert_sends_one_batch_per_pull() {
    let (room, _e, mut peer) = support::connect_loopback().await;
    let batches = vec![vec![row(1), row(2)], vec![row(3)]];
    let call = tokio::spawn({
        let room = room.clone();
        async move {
            room.database()
                .insert("people", futures::stream::iter(batches))
                .await
        }
    });
    let id = peer.open("database", "insert").await;
    let (start, _) = peer.chunk().await;
    assert_eq!(
        start,
        json!({"type": "json", "json": {"kind": "start", "table": "people", "namespace": null}})
    );
    let pull = json!({"type": "json", "json": {"kind": "pull"}});
    for expected in [2, 1] {
        peer.respond(&id, pull.clone(), &[]).await;
        let (chunk, _) = peer.chunk().await;
        assert_eq!(chunk["json"]["kind"], json!("rows"));
        assert_eq!(
            chunk["json"]["rows"].as_array().map(Vec::len),
            Some(expected)
        );
    }
    peer.respond(&id, pull, &[]).await;
    let (chunk, _) = peer.chunk().await;
    assert_eq!(
        chunk,
        close(1000),
        "batches exhausted: the client closes its side"
    );
    peer.respond(&id, close(1000), &[]).await;
    call.await.expect("task").expect("insert ok");
}

#[cfg(feature = "protocol-0-35-8")] // `database` is a 0.35.8 toolkit
#[tokio::test]
async fn database_sql_pulls_eagerly_and_once_per_rows_chunk() {
    let (room, _e, mut peer) = support::connect_loopback().await;
    let call = tokio::spawn({
        let room = room.clone();
        async move {
            let mut rows = room.database().sql("select 1", vec![]).await?;
            let mut got = Vec::new();
            while let Some(batch) = rows.next().await {
                got.push(batch?.len());
            }
            Ok::<_, Error>(got)
        }
    });
    let id = peer.open("database", "sql").await;
    let (start, _) = peer.chunk().await;
    assert_eq!(
        start["json"],
        json!({"kind": "start", "query": "select 1", "tables": [], "params_json": null})
    );
    let (pull, _) = peer.chunk().await;
    assert_eq!(
        pull["json"],
        json!({"kind": "pull"}),
        "the first pull is eager"
    );
    let rows = |n: usize| json!({"type": "json", "json": {"kind": "rows", "rows": vec![json!({"columns": []}); n]}});
    peer.respond(&id, rows(2), &[]).await;
    let (pull, _) = peer.chunk().await;
    assert_eq!(pull["json"], json!({"kind": "pull"}));
    peer.respond(&id, rows(1), &[]).await;
    peer.chunk().await;
    peer.respond(&id, close(1000), &[]).await;
    let (chunk, _) = peer.chunk().await;
    assert_eq!(chunk, close(1000));
    assert_eq!(call.await.expect("task").expect("sql ok"), vec![2, 1]);
}

#[tokio::test]
async fn invoke_stream_sends_input_chunks_and_yields_response_chunks() {
    let (room, _e, mut peer) = support::connect_loopback().await;
    let input = futures::stream::iter(vec![
        Content::Text("first".into()),
        Content::Binary {
            headers: Default::default(),
            data: Bytes::from(pattern(3000)),
        },
    ]);
    let call = tokio::spawn({
        let room = room.clone();
        async move {
            let mut out = room
                .agents()
                .invoke_stream("echo", "stream", input)
                .participant_id("p-2")
                .await?;
            let mut got = Vec::new();
            while let Some(c) = out.next().await {
                got.push(c?);
            }
            Ok::<_, Error>(got)
        }
    });
    let invoke = peer.open_invoke("echo", "stream").await;
    assert_eq!(invoke["participant_id"], "p-2");
    let id = invoke["tool_call_id"].as_str().expect("id").to_string();
    let (first, _) = peer.chunk().await;
    assert_eq!(first, json!({"type": "text", "text": "first"}));
    let (second, tail) = peer.chunk().await;
    assert_eq!(second["type"], "binary");
    assert_eq!(&tail[..], &pattern(3000)[..]);
    // Input exhausted: exactly one close, after the last chunk was acknowledged.
    let (closing, _) = peer.chunk().await;
    assert_eq!(closing, close(1000));
    peer.respond(&id, json!({"type": "text", "text": "one"}), &[])
        .await;
    peer.respond(
        &id,
        json!({"type": "error", "text": "soft", "code": 7}),
        &[],
    )
    .await;
    peer.respond(&id, close(1000), &[]).await;
    let got = call.await.expect("task").expect("ok");
    assert_eq!(
        got,
        vec![
            Content::Text("one".into()),
            Content::Error {
                text: "soft".into(),
                code: Some(7)
            }
        ]
    );
    peer.silent().await;
}

#[tokio::test]
async fn invoke_stream_refused_chunk_ends_with_the_servers_error_and_closes() {
    let (room, _e, mut peer) = support::connect_loopback().await;
    let input = futures::stream::iter(vec![Content::Text("x".into()), Content::Text("y".into())]);
    let call = tokio::spawn({
        let room = room.clone();
        async move {
            let mut out = room.agents().invoke_stream("echo", "stream", input).await?;
            out.next().await.expect("an item")
        }
    });
    peer.open("echo", "stream").await;
    let (id, _, _) = peer.chunk_unacked().await;
    peer.reply(
        id,
        json!({"type": "error", "text": "no thanks", "code": 403}),
    )
    .await;
    if !protocol::REQUEST_CHUNK_ACKS {
        // 0.47 and later: replies to request chunks are ignored; every chunk goes out.
        assert_eq!(
            peer.chunk_unacked().await.1,
            json!({"type": "text", "text": "y"})
        );
        assert_eq!(peer.chunk_unacked().await.1, close(1000));
        call.abort();
        return;
    }
    // The second chunk is never sent; the request side still closes.
    let (closing, _) = peer.chunk().await;
    assert_eq!(closing, close(1000));
    let err = call.await.expect("task").expect_err("refused");
    assert!(
        matches!(&err, Error::Server { code: Some(403), text, .. } if text == "no thanks"),
        "{err:?}"
    );
}

#[tokio::test]
async fn dropping_an_invoke_stream_stops_sending_and_closes() {
    let (room, _e, mut peer) = support::connect_loopback().await;
    // An input that never ends.
    let input = futures::stream::repeat_with(|| Content::Text("tick".into()));
    let out = tokio::spawn({
        let room = room.clone();
        async move { room.agents().invoke_stream("echo", "stream", input).await }
    });
    peer.open("echo", "stream").await;
    let (id, _, _) = peer.chunk_unacked().await;
    let out = out.await.expect("task").expect("opened");
    drop(out);
    if protocol::REQUEST_CHUNK_ACKS {
        peer.ack(id).await;
        let (closing, _) = peer.chunk().await;
        assert_eq!(closing, close(1000));
    } else {
        // Unacknowledged chunks flow until the drop stops the pump; then the close.
        let mut ticks = 0;
        loop {
            let (_, chunk, _) = peer.chunk_unacked().await;
            if chunk == close(1000) {
                break;
            }
            assert_eq!(chunk, json!({"type": "text", "text": "tick"}));
            ticks += 1;
            assert!(ticks < 1_000_000, "the pump never stopped");
        }
    }
    peer.silent().await;
}
