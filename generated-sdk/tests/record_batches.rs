//! The record-batch engines (0.56 Arrow streams: `write_record_batches`,
//! `read_record_batches`, `watch_record_batches`) against a scripted room. Payloads are
//! opaque bytes to the engines; the `arrow` feature's conversions are tested at the end.
// Protocol 0.56 only: 0.35.8 has no Arrow streams (and acknowledges request chunks).
#![cfg(feature = "protocol-0-56")]

mod support;

use bytes::Bytes;
use futures::StreamExt;
use meshagent_room::{Error, RecordBatches, ARROW_STREAM_CONTENT_TYPE};
use serde_json::json;
use support::{connect_memory, within};

fn pull_json() -> serde_json::Value {
    json!({"type": "json", "json": {"kind": "pull"}})
}

fn pull_binary(chunk_size: Option<u64>) -> serde_json::Value {
    let mut headers = json!({"kind": "pull"});
    if let Some(n) = chunk_size {
        headers["chunk_size"] = json!(n);
    }
    json!({"type": "binary", "headers": headers})
}

fn data_header(extra: serde_json::Value) -> serde_json::Value {
    let mut headers = json!({"kind": "data", "content_type": ARROW_STREAM_CONTENT_TYPE});
    if let (Some(h), Some(e)) = (headers.as_object_mut(), extra.as_object()) {
        h.extend(e.clone());
    }
    json!({"type": "binary", "headers": headers})
}

fn close_chunk() -> serde_json::Value {
    json!({"type": "control", "method": "close", "status_code": 1000})
}

#[tokio::test]
async fn write_sends_one_batch_per_pull_json_or_binary_then_closes() {
    let (room, _events, mut peer) = connect_memory().await;
    let batches = RecordBatches::from_ipc_iter(vec![
        Bytes::from_static(b"batch-1"),
        Bytes::from_static(b"batch-2"),
    ])
    .with_schema_ipc(Bytes::from_static(b"schema"));
    let call = tokio::spawn(async move {
        room.write_record_batches(
            "dataset",
            "insert",
            json!({"table": "t", "branch": null}),
            batches,
        )
        .await
    });
    let id = peer.open("dataset", "insert").await;
    let (_, start, tail) = peer.chunk_unacked().await;
    assert_eq!(
        start,
        json!({"type": "binary", "headers": {"kind": "start", "table": "t", "branch": null}})
    );
    assert_eq!(&tail[..], b"schema");
    // Nothing goes out before the server pulls.
    peer.silent().await;
    peer.respond(&id, pull_binary(Some(1024)), &[]).await;
    let (_, data, tail) = peer.chunk_unacked().await;
    assert_eq!(data, data_header(json!({})));
    assert_eq!(&tail[..], b"batch-1");
    peer.respond(&id, pull_json(), &[]).await;
    let (_, _, tail) = peer.chunk_unacked().await;
    assert_eq!(&tail[..], b"batch-2");
    peer.silent().await;
    // The batches are out: the next pull is answered by the client's close.
    peer.respond(&id, pull_json(), &[]).await;
    let (_, close, _) = peer.chunk_unacked().await;
    assert_eq!(close["type"], "control");
    assert_eq!(close["method"], "close");
    peer.respond(&id, close_chunk(), &[]).await;
    within("the write to finish", call)
        .await
        .expect("task")
        .expect("write succeeds");
}

#[tokio::test]
async fn write_without_a_schema_sends_an_empty_start_payload() {
    let (room, _events, mut peer) = connect_memory().await;
    let call = tokio::spawn(async move {
        room.write_record_batches(
            "sqlite",
            "insert",
            json!({"table": "t"}),
            RecordBatches::empty(),
        )
        .await
    });
    let id = peer.open("sqlite", "insert").await;
    let (_, start, tail) = peer.chunk_unacked().await;
    assert_eq!(start["headers"]["kind"], "start");
    assert!(tail.is_empty());
    peer.respond(&id, pull_binary(None), &[]).await;
    let (_, close, _) = peer.chunk_unacked().await;
    assert_eq!(close["method"], "close");
    peer.respond(&id, close_chunk(), &[]).await;
    within("the write", call).await.expect("task").expect("ok");
}

#[tokio::test]
async fn an_error_chunk_mid_write_fails_the_call_with_the_server_error() {
    let (room, _events, mut peer) = connect_memory().await;
    let batches =
        RecordBatches::from_ipc_iter(vec![Bytes::from_static(b"b1"), Bytes::from_static(b"b2")]);
    let call = tokio::spawn(async move {
        room.write_record_batches("dataset", "insert", json!({"table": "t"}), batches)
            .await
    });
    let id = peer.open("dataset", "insert").await;
    peer.chunk_unacked().await;
    peer.respond(&id, pull_json(), &[]).await;
    peer.chunk_unacked().await;
    peer.respond(
        &id,
        json!({"type": "error", "text": "schema mismatch", "code": 400}),
        &[],
    )
    .await;
    let err = within("the write", call)
        .await
        .expect("task")
        .expect_err("fails");
    assert!(matches!(err, Error::Server { .. }), "{err:?}");
    assert!(err.to_string().contains("schema mismatch"), "{err}");
}

#[tokio::test]
async fn a_source_error_fails_the_write() {
    let (room, _events, mut peer) = connect_memory().await;
    let source = futures::stream::iter(vec![
        Ok(Bytes::from_static(b"b1")),
        Err(Error::InvalidArguments("bad batch".into())),
    ]);
    let call = tokio::spawn(async move {
        room.write_record_batches(
            "dataset",
            "insert",
            json!({"table": "t"}),
            RecordBatches::from_ipc(source),
        )
        .await
    });
    let id = peer.open("dataset", "insert").await;
    peer.chunk_unacked().await;
    peer.respond(&id, pull_json(), &[]).await;
    peer.chunk_unacked().await;
    peer.respond(&id, pull_json(), &[]).await;
    let err = within("the write", call)
        .await
        .expect("task")
        .expect_err("fails");
    assert!(matches!(err, Error::InvalidArguments(_)), "{err:?}");
}

#[tokio::test]
async fn read_pulls_at_once_then_once_per_batch_until_the_server_closes() {
    let (room, _events, mut peer) = connect_memory().await;
    let reader = tokio::spawn(async move {
        let s = room
            .read_record_batches("dataset", "search", json!({"table": "t", "limit": 10}))
            .await?;
        s.collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<meshagent_room::Result<Vec<_>>>()
    });
    let id = peer.open("dataset", "search").await;
    let (_, start, tail) = peer.chunk_unacked().await;
    assert_eq!(
        start,
        json!({"type": "binary", "headers": {"kind": "start", "table": "t", "limit": 10}})
    );
    assert!(tail.is_empty());
    // The eager first pull, binary as both SDKs send it.
    let (_, pull, _) = peer.chunk_unacked().await;
    assert_eq!(pull, json!({"type": "binary", "headers": {"kind": "pull"}}));
    peer.silent().await;
    peer.respond(&id, data_header(json!({})), b"ipc-1").await;
    let (_, pull, _) = peer.chunk_unacked().await;
    assert_eq!(pull["headers"]["kind"], "pull");
    peer.silent().await;
    peer.respond(&id, data_header(json!({})), b"ipc-2").await;
    let (_, pull, _) = peer.chunk_unacked().await;
    assert_eq!(pull["headers"]["kind"], "pull");
    peer.respond(&id, close_chunk(), &[]).await;
    let chunks = within("the read", reader)
        .await
        .expect("task")
        .expect("read ok");
    let payloads: Vec<&[u8]> = chunks.iter().map(|c| &c.ipc[..]).collect();
    assert_eq!(payloads, vec![&b"ipc-1"[..], &b"ipc-2"[..]]);
    assert!(chunks.iter().all(|c| c.is_data()));
    assert_eq!(
        chunks[0].header_str("content_type"),
        Some(ARROW_STREAM_CONTENT_TYPE)
    );
}

#[tokio::test]
async fn an_error_chunk_mid_read_fails_the_stream() {
    let (room, _events, mut peer) = connect_memory().await;
    let reader = tokio::spawn(async move {
        let mut s = room
            .read_record_batches("sqlite", "search", json!({}))
            .await?;
        let first = s.next().await;
        let second = s.next().await;
        let third = s.next().await;
        Ok::<_, Error>((first, second, third.is_none()))
    });
    let id = peer.open("sqlite", "search").await;
    peer.chunk_unacked().await;
    peer.chunk_unacked().await;
    peer.respond(&id, data_header(json!({})), b"x").await;
    peer.chunk_unacked().await;
    peer.respond(
        &id,
        json!({"type": "error", "text": "boom", "code": 500}),
        &[],
    )
    .await;
    let (first, second, ended) = within("the read", reader)
        .await
        .expect("task")
        .expect("opened");
    assert!(matches!(first, Some(Ok(_))));
    assert!(
        matches!(second, Some(Err(Error::Server { .. }))),
        "{second:?}"
    );
    assert!(ended, "the stream ends after its error");
}

#[tokio::test]
async fn a_read_stream_rejects_json_events() {
    let (room, _events, mut peer) = connect_memory().await;
    let reader = tokio::spawn(async move {
        let mut s = room
            .read_record_batches("dataset", "search", json!({}))
            .await?;
        Ok::<_, Error>(s.next().await)
    });
    let id = peer.open("dataset", "search").await;
    peer.chunk_unacked().await;
    peer.chunk_unacked().await;
    peer.respond(&id, json!({"type": "json", "json": {"kind": "ready"}}), &[])
        .await;
    let item = within("the read", reader)
        .await
        .expect("task")
        .expect("opened");
    assert!(
        matches!(item, Some(Err(Error::UnexpectedResponse { .. }))),
        "{item:?}"
    );
}

#[tokio::test]
async fn watch_yields_ready_events_and_data_and_runs_until_dropped() {
    let (room, _events, mut peer) = connect_memory().await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let watcher = tokio::spawn(async move {
        let mut s = room
            .watch_record_batches(
                "dataset",
                "watch_table",
                json!({"table": "people", "poll_interval_seconds": 0.25}),
            )
            .await?;
        for _ in 0..3 {
            let _ = tx.send(s.next().await);
        }
        // Dropping the stream stops the watch.
        drop(s);
        Ok::<_, Error>(())
    });
    let id = peer.open("dataset", "watch_table").await;
    let (_, start, _) = peer.chunk_unacked().await;
    assert_eq!(start["headers"]["poll_interval_seconds"], json!(0.25));
    peer.chunk_unacked().await; // eager pull
    peer.respond(
        &id,
        json!({"type": "json", "json": {"kind": "ready", "phase": "snapshot", "version": 3}}),
        &[],
    )
    .await;
    let ready = within("the ready event", rx.recv())
        .await
        .expect("item")
        .expect("some")
        .expect("ok");
    assert_eq!(ready.kind(), "ready");
    assert_eq!(ready.header_i64("version"), Some(3));
    assert!(ready.ipc.is_empty());
    let (_, pull, _) = peer.chunk_unacked().await;
    assert_eq!(pull["headers"]["kind"], "pull");
    for version in ["4", "5"] {
        peer.respond(
            &id,
            data_header(json!({"phase": "change", "version": version, "change_type": "insert", "begin_version": 3})),
            b"rows",
        )
        .await;
        let data = within("a change", rx.recv())
            .await
            .expect("item")
            .expect("some")
            .expect("ok");
        assert!(data.is_data());
        assert_eq!(data.header_str("change_type"), Some("insert"));
        assert_eq!(data.header_i64("version"), version.parse().ok());
        assert_eq!(&data.ipc[..], b"rows");
        if version == "4" {
            // The caller asks for a third item: the next pull.
            let (_, pull, _) = peer.chunk_unacked().await;
            assert_eq!(pull["headers"]["kind"], "pull");
        }
    }
    within("the watcher", watcher)
        .await
        .expect("task")
        .expect("ok");
    // The caller stopped after its third item: no pull for a fourth, the client closes its side.
    let (_, close, _) = peer.chunk_unacked().await;
    assert_eq!(
        (close["type"].as_str(), close["method"].as_str()),
        (Some("control"), Some("close"))
    );
}

#[tokio::test]
async fn a_server_running_ahead_of_the_pulls_fails_the_read_with_overflow() {
    let (room, _events, mut peer) = connect_memory().await;
    let reader = tokio::spawn(async move {
        let mut s = room
            .read_record_batches("dataset", "search", json!({}))
            .await?;
        // Let the server run ahead before reading anything.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let mut items = Vec::new();
        while let Some(item) = s.next().await {
            let failed = item.is_err();
            items.push(item);
            if failed {
                break;
            }
        }
        Ok::<_, Error>(items)
    });
    let id = peer.open("dataset", "search").await;
    peer.chunk_unacked().await;
    peer.chunk_unacked().await;
    // Six MiB of data answering a single pull: past the 4 MiB a pulled stream may run ahead.
    let payload = vec![7u8; 1 << 20];
    for _ in 0..6 {
        peer.respond(&id, data_header(json!({})), &payload).await;
    }
    let items = within("the read", reader)
        .await
        .expect("task")
        .expect("opened");
    let last = items.last().expect("an item");
    assert!(matches!(last, Err(Error::Overflow { .. })), "{last:?}");
    assert!(
        items.len() <= 5,
        "failed once the buffer overflowed, got {}",
        items.len()
    );
}

#[cfg(feature = "arrow")]
mod arrow {
    use std::sync::Arc;

    use meshagent_room::arrow::arrow_array::{Array, Float64Array, Int64Array, StringArray};
    use meshagent_room::arrow::arrow_schema::{DataType, Field, Schema};
    use meshagent_room::arrow::{
        batch_to_ipc, batches_from_ipc, rows_to_batch, schema_from_ipc, schema_to_ipc,
    };
    use meshagent_room::RecordBatchChunk;
    use serde_json::json;

    fn schema() -> Arc<Schema> {
        let item = Arc::new(Field::new("item", DataType::Float32, true));
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("score", DataType::Float64, true),
            Field::new("name", DataType::Utf8, true),
            Field::new("ok", DataType::Boolean, true),
            Field::new("vector", DataType::FixedSizeList(item.clone(), 2), true),
            Field::new("tags", DataType::List(item), true),
        ]))
    }

    #[test]
    fn json_rows_become_a_record_batch_that_survives_ipc() {
        let rows = [
            json!({"id": 1, "score": 9.5, "name": "Zoë", "ok": true, "vector": [1.0, 2.0], "tags": [0.5]}),
            json!({"id": 2, "score": null, "ok": false, "vector": null, "tags": []}),
        ];
        let batch = rows_to_batch(schema(), &rows).expect("converts");
        assert_eq!(batch.num_rows(), 2);
        let ipc = batch_to_ipc(&batch).expect("encodes");
        let back = batches_from_ipc(&ipc).expect("decodes");
        assert_eq!(back, vec![batch.clone()]);
        let ids = back[0]
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .expect("int64");
        assert_eq!(ids.values(), &[1, 2]);
        let scores = back[0]
            .column(1)
            .as_any()
            .downcast_ref::<Float64Array>()
            .expect("f64");
        assert!(scores.is_null(1));
        let names = back[0]
            .column(2)
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("utf8");
        assert_eq!(names.value(0), "Zoë");
        assert!(names.is_null(1));
        let chunk = RecordBatchChunk {
            headers: Default::default(),
            ipc,
        };
        assert_eq!(chunk.record_batches().expect("decodes"), vec![batch]);
    }

    #[test]
    fn a_schema_alone_round_trips() {
        let ipc = schema_to_ipc(&schema()).expect("encodes");
        assert_eq!(schema_from_ipc(&ipc).expect("decodes"), schema());
        assert!(batches_from_ipc(&ipc).expect("decodes").is_empty());
    }

    #[test]
    fn rows_of_the_wrong_type_are_invalid_arguments() {
        let err = rows_to_batch(schema(), &[json!({"id": "one"})]).expect_err("rejected");
        assert!(
            matches!(err, meshagent_room::Error::InvalidArguments(_)),
            "{err:?}"
        );
        let err = rows_to_batch(schema(), &[json!({"id": 1, "vector": [1.0]})]).expect_err("size");
        assert!(err.to_string().contains("vector"), "{err}");
    }
}
