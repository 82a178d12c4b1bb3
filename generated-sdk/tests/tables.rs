//! The Arrow conveniences of `dataset` and `sqlite` (feature `arrow`) against a scripted
//! room: rows in (inspect, then one batch of the table's schema), rows and schemas out.
#![cfg(all(
    feature = "protocol-0-56",
    feature = "arrow",
    feature = "dataset",
    feature = "sqlite"
))]

mod support;

use std::sync::Arc;

use meshagent_room::arrow::arrow_schema::{DataType, Field, Schema};
use meshagent_room::arrow::{batches_from_ipc, rows_to_batch, schema_from_ipc, schema_to_ipc};
use meshagent_room::arrow::{CreateTableOptions, TableAt, TableWatchEvent};
use meshagent_room::types::MetadataEntry;
use meshagent_room::RecordBatchChunk;
use serde_json::json;
use support::{connect_memory, within};

fn people() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
    ]))
}

fn rows() -> Vec<serde_json::Value> {
    vec![
        json!({"id": 1, "name": "Zoë"}),
        json!({"id": 2, "name": null}),
    ]
}

fn pull() -> serde_json::Value {
    json!({"type": "binary", "headers": {"kind": "pull"}})
}

#[tokio::test]
async fn insert_rows_inspects_then_sends_one_batch_of_the_tables_schema() {
    let (room, _events, mut peer) = connect_memory().await;
    let call = tokio::spawn(async move {
        let at = TableAt {
            namespace: Some(vec!["team".into()]),
            branch: None,
        };
        room.dataset().insert_rows("people", &rows(), &at).await
    });
    let (id, _, header, _) = peer.recv_invoke("dataset", "inspect").await;
    assert_eq!(
        header["arguments"]["json"],
        json!({"table": "people", "namespace": ["team"], "branch": null, "version": null})
    );
    let schema = schema_to_ipc(&people()).expect("encodes");
    let reply = json!({"type": "binary", "headers": {"kind": "schema"}});
    peer.send(id, "__response__", reply, &schema).await;
    let stream = peer.open("dataset", "insert").await;
    let (_, start, _) = peer.chunk_unacked().await;
    assert_eq!(start["headers"]["namespace"], json!(["team"]));
    peer.respond(&stream, pull(), &[]).await;
    let (_, _, tail) = peer.chunk_unacked().await;
    let sent = batches_from_ipc(&tail).expect("one IPC stream");
    let want = rows_to_batch(people(), &rows()).expect("rows fit");
    assert_eq!(sent, vec![want]);
    peer.respond(&stream, pull(), &[]).await;
    let (_, close, _) = peer.chunk_unacked().await;
    assert_eq!(close["method"], "close");
    let closed = json!({"type": "control", "method": "close", "status_code": 1000});
    peer.respond(&stream, closed, &[]).await;
    within("the insert", call).await.expect("task").expect("ok");
}

#[tokio::test]
async fn rows_that_do_not_fit_the_schema_fail_before_the_insert() {
    let (room, _events, mut peer) = connect_memory().await;
    let call = tokio::spawn(async move {
        let bad = vec![json!({"id": "one"})];
        let r = room
            .sqlite()
            .insert_rows("app.db", "people", &bad, None)
            .await;
        (room, r) // the room stays connected while the peer listens
    });
    let (id, _, _, _) = peer.recv_invoke("sqlite", "inspect").await;
    let schema = schema_to_ipc(&people()).expect("encodes");
    let reply = json!({"type": "binary", "headers": {"kind": "schema"}});
    peer.send(id, "__response__", reply, &schema).await;
    let (_room, r) = within("the insert", call).await.expect("task");
    assert!(
        matches!(r, Err(meshagent_room::Error::InvalidArguments(_))),
        "{r:?}"
    );
    peer.silent().await;
}

#[tokio::test]
async fn create_table_with_rows_merges_the_metadata_into_the_schema() {
    let (room, _events, mut peer) = connect_memory().await;
    let call = tokio::spawn(async move {
        let options = CreateTableOptions {
            metadata: Some(vec![MetadataEntry::new("owner", "alice ✓")]),
            ..Default::default()
        };
        room.dataset()
            .create_table_with_rows("people", &people(), &rows(), &options)
            .await
    });
    let stream = peer.open("dataset", "create_table").await;
    let (_, start, schema) = peer.chunk_unacked().await;
    assert_eq!(
        start["headers"]["metadata"],
        json!([{"key": "owner", "value": "alice ✓"}])
    );
    let schema = schema_from_ipc(&schema).expect("schema payload");
    assert_eq!(
        schema.metadata().get("owner").map(String::as_str),
        Some("alice ✓")
    );
    peer.respond(&stream, pull(), &[]).await;
    let (_, _, tail) = peer.chunk_unacked().await;
    let sent = batches_from_ipc(&tail).expect("one IPC stream");
    assert_eq!(sent[0].schema(), schema);
    assert_eq!(sent[0].num_rows(), 2);
    peer.respond(&stream, pull(), &[]).await;
    peer.chunk_unacked().await; // close
    let closed = json!({"type": "control", "method": "close", "status_code": 1000});
    peer.respond(&stream, closed, &[]).await;
    within("the creation", call)
        .await
        .expect("task")
        .expect("ok");
}

#[tokio::test]
async fn create_table_from_json_rows_sends_json_chunks() {
    let (room, _events, mut peer) = connect_memory().await;
    let call = tokio::spawn(async move {
        let rows: Vec<_> = rows()
            .into_iter()
            .filter_map(|r| r.as_object().cloned())
            .collect();
        room.dataset()
            .create_table_from_json_rows("people", &rows, &CreateTableOptions::default())
            .await
    });
    let stream = peer.open("dataset", "create_table").await;
    let (_, start, _) = peer.chunk_unacked().await;
    assert_eq!(
        start,
        json!({"type": "json", "json": {"kind": "start", "name": "people", "mode": "create",
                                        "namespace": null, "branch": null, "metadata": null}})
    );
    peer.respond(&stream, pull(), &[]).await;
    let (_, data, _) = peer.chunk_unacked().await;
    assert_eq!(
        data["json"]["rows"][0],
        json!({"columns": [{"name": "id", "value": 1}, {"name": "name", "value": "Zoë"}]})
    );
    peer.respond(&stream, pull(), &[]).await;
    peer.chunk_unacked().await; // close
    let closed = json!({"type": "control", "method": "close", "status_code": 1000});
    peer.respond(&stream, closed, &[]).await;
    within("the creation", call)
        .await
        .expect("task")
        .expect("ok");
}

#[test]
fn chunks_give_rows_and_watch_events() {
    let batch = rows_to_batch(people(), &rows()).expect("rows fit");
    let ipc = meshagent_room::arrow::batch_to_ipc(&batch).expect("encodes");
    let headers = json!({"kind": "data", "phase": "change", "version": "4", "begin_version": 3})
        .as_object()
        .cloned()
        .unwrap_or_default();
    let chunk = RecordBatchChunk { headers, ipc };
    let got: Vec<_> = chunk
        .rows()
        .expect("decodes")
        .into_iter()
        .map(serde_json::Value::Object)
        .collect();
    assert_eq!(got, rows());
    let event = TableWatchEvent::from_chunk(&chunk).expect("decodes");
    assert_eq!((event.version, event.begin_version), (Some(4), Some(3)));
    assert_eq!(event.table.map(|t| t.len()), Some(2));
    let ready = RecordBatchChunk {
        headers: json!({"kind": "ready", "version": 3})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        ipc: Default::default(),
    };
    let event = TableWatchEvent::from_chunk(&ready).expect("no data");
    assert_eq!((event.kind.as_str(), event.table), ("ready", None));
    let broken = RecordBatchChunk {
        headers: json!({"kind": "data"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        ipc: bytes::Bytes::from_static(b"not arrow"),
    };
    assert!(broken.rows().is_err());
}

#[test]
fn replies_decode_their_schemas() {
    let ipc = schema_to_ipc(&people()).expect("encodes");
    let reply = meshagent_room::dataset::DatasetSchema::new("schema", ipc.to_vec());
    assert_eq!(reply.arrow_schema().expect("decodes"), people());
    let statement = meshagent_room::dataset::SqlExecution::Statement { rows_affected: 1 };
    assert!(statement.arrow_schema().is_none());
    let bad = meshagent_room::sqlite::OpenSqlQueryOutput::new("q", b"junk".to_vec());
    assert!(bad.arrow_schema().is_err());
}

#[test]
fn declared_lengths_beyond_the_payload_are_refused_up_front() {
    // A continuation marker then a 2 GiB metadata length: refused, not allocated.
    let hostile = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0, 0];
    let started = std::time::Instant::now();
    assert!(schema_from_ipc(&hostile).is_err());
    assert!(batches_from_ipc(&hostile).is_err());
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    // A whole stream still decodes.
    let ipc = schema_to_ipc(&people()).expect("encodes");
    assert_eq!(schema_from_ipc(&ipc).expect("decodes"), people());
}
