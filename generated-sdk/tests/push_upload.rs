//! The `push_upload` flow (0.56 `containers.build`) against a scripted room: chunks go out
//! without pulls or acknowledgements, the final reply is the invoke's or the first json
//! chunk after the open, an error stops the upload, and the source is read as it is sent
//! (bounded memory).
// Protocol 0.56 only: 0.35.8 has neither shape.
#![cfg(feature = "protocol-0-56")]

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use meshagent_room::{ByteSource, Error};
use serde_json::json;
use support::{connect_memory, within};

fn pieces(sizes: &[usize]) -> ByteSource {
    let items: Vec<std::io::Result<Bytes>> = sizes
        .iter()
        .enumerate()
        .map(|(i, n)| Ok(Bytes::from(vec![i as u8; *n])))
        .collect();
    ByteSource::from_stream(futures::stream::iter(items))
}

#[tokio::test]
async fn build_pushes_every_piece_then_reads_the_build_id() {
    let (room, _events, mut peer) = connect_memory().await;
    let sent = Arc::new(AtomicU64::new(0));
    let source = pieces(&[10, 100_000, 0]).on_progress({
        let sent = sent.clone();
        move |n| sent.store(n, Ordering::SeqCst)
    });
    let call = tokio::spawn({
        let room = room.clone();
        async move {
            room.containers()
                .build(vec!["app:1".into()], "/data", "src", source)
                .builder_name("fast")
                .await
        }
    });
    let id = peer.open("containers", "build").await;
    let (_, start, _) = peer.chunk_unacked().await;
    assert_eq!(
        start,
        json!({"type": "binary", "headers": {"kind": "start", "tags": ["app:1"], "mount_path": "/data",
            "context_path": "src", "dockerfile_path": null, "optimize_image": true, "private": false,
            "credentials": [], "builder_name": "fast", "size": null}})
    );
    // One chunk per piece, the big one cut at 64 KiB, the empty one sent as Python does.
    let mut sizes = Vec::new();
    loop {
        let (_, chunk, tail) = peer.chunk_unacked().await;
        if chunk["type"] == "control" {
            assert_eq!(chunk["method"], "close");
            break;
        }
        assert_eq!(chunk["headers"], json!({"kind": "data"}));
        sizes.push(tail.len());
    }
    assert_eq!(sizes, vec![10, 65_536, 34_464, 0]);
    peer.respond(
        &id,
        json!({"type": "json", "json": {"build_id": "b-1"}}),
        &[],
    )
    .await;
    let build_id = within("the build", call)
        .await
        .expect("task")
        .expect("built");
    assert_eq!(build_id, "b-1");
    assert_eq!(sent.load(Ordering::SeqCst), 100_010);
}

#[tokio::test]
async fn a_json_reply_to_the_invoke_is_the_result_and_the_archive_still_goes_out() {
    let (room, _events, mut peer) = connect_memory().await;
    let call = tokio::spawn({
        let room = room.clone();
        async move {
            room.containers()
                .build(
                    vec!["app:3".into()],
                    "/data",
                    ".",
                    Bytes::from_static(b"abc"),
                )
                .await
        }
    });
    let (id, kind, ..) = peer.recv().await;
    assert_eq!(kind, "room.invoke_tool");
    peer.reply(id, json!({"type": "json", "json": {"build_id": "b-52"}}))
        .await;
    let (_, start, _) = peer.chunk_unacked().await;
    // A buffer's length is known: it goes out as `size`.
    assert_eq!(start["headers"]["size"], 3);
    let (_, data, tail) = peer.chunk_unacked().await;
    assert_eq!(
        (data["headers"]["kind"].as_str(), &tail[..]),
        (Some("data"), &b"abc"[..])
    );
    let (_, close, _) = peer.chunk_unacked().await;
    assert_eq!(close["method"], "close");
    let build_id = within("the build", call)
        .await
        .expect("task")
        .expect("built");
    assert_eq!(build_id, "b-52");
}

#[tokio::test]
async fn an_error_stops_the_upload_before_the_source_ends() {
    let (room, _events, mut peer) = connect_memory().await;
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(1);
    let source = ByteSource::from_stream(tokio_stream_from(rx));
    let call = tokio::spawn({
        let room = room.clone();
        async move {
            room.containers()
                .build(vec!["x".into()], "/d", ".", source)
                .await
        }
    });
    let id = peer.open("containers", "build").await;
    peer.chunk_unacked().await; // start
    tx.send(Ok(Bytes::from_static(b"one")))
        .await
        .expect("engine reads");
    peer.chunk_unacked().await;
    peer.respond(
        &id,
        json!({"type": "error", "text": "no builder", "code": 1001}),
        &[],
    )
    .await;
    match within("the failed build", call).await.expect("task") {
        Err(Error::Server { code, text, .. }) => {
            assert_eq!((code, text.as_str()), (Some(1001), "no builder"))
        }
        other => panic!("expected the server's error, got {other:?}"),
    }
    // The source is let go unfinished.
    assert!(tx.is_closed());
}

#[tokio::test]
async fn the_stream_closing_before_a_reply_fails() {
    let (room, _events, mut peer) = connect_memory().await;
    let call = tokio::spawn({
        let room = room.clone();
        async move {
            room.containers()
                .build(vec!["x".into()], "/d", ".", Bytes::from_static(b"z"))
                .await
        }
    });
    let id = peer.open("containers", "build").await;
    for _ in 0..3 {
        peer.chunk_unacked().await;
    }
    peer.respond(
        &id,
        json!({"type": "control", "method": "close", "status_code": 1000}),
        &[],
    )
    .await;
    let got = within("the build", call).await.expect("task");
    assert!(
        matches!(got, Err(Error::UnexpectedResponse { .. })),
        "{got:?}"
    );
}

/// The source is read piece by piece as the chunks go out, never ahead of time: here each
/// piece exists only once the room has seen the previous one.
#[tokio::test]
async fn the_source_is_read_as_it_is_sent() {
    let (room, _events, mut peer) = connect_memory().await;
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(1);
    let source = ByteSource::from_stream(tokio_stream_from(rx));
    let call = tokio::spawn({
        let room = room.clone();
        async move {
            room.containers()
                .build(vec!["lazy".into()], "/d", ".", source)
                .await
        }
    });
    let id = peer.open("containers", "build").await;
    peer.chunk_unacked().await; // start
    for i in 0..4u8 {
        tx.send(Ok(Bytes::from(vec![i; 1000])))
            .await
            .expect("engine reads");
        let (_, chunk, tail) = peer.chunk_unacked().await;
        assert_eq!(
            (chunk["headers"]["kind"].as_str(), tail[0]),
            (Some("data"), i)
        );
    }
    drop(tx);
    let (_, close, _) = peer.chunk_unacked().await;
    assert_eq!(close["method"], "close");
    peer.respond(
        &id,
        json!({"type": "json", "json": {"build_id": "b-9"}}),
        &[],
    )
    .await;
    assert_eq!(
        within("the build", call)
            .await
            .expect("task")
            .expect("built"),
        "b-9"
    );
}

fn tokio_stream_from<T: Send + 'static>(
    rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures::Stream<Item = T> + Send + 'static {
    futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|v| (v, rx)) })
}
