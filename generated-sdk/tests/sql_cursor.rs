//! SQL cursors (`SqlCursor`) of the 0.56 `dataset` and `sqlite` toolkits against a scripted
//! room: opened from `open_sql_query`, read, cancelled, closed explicitly or on drop.
#![cfg(all(feature = "protocol-0-56", feature = "dataset", feature = "sqlite"))]

mod support;

use futures::StreamExt;
use meshagent_room::{SqlCursor, ARROW_STREAM_CONTENT_TYPE};
use serde_json::json;
use support::{connect_memory, within, Peer};

/// Answers the client's `toolkit.open_sql_query` with cursor `q-1` and schema `schema`.
async fn answer_open<T: meshagent_room::Transport>(peer: &mut Peer<T>, toolkit: &str) {
    let (id, _, header, _) = peer.recv_invoke(toolkit, "open_sql_query").await;
    assert_eq!(header["arguments"]["headers"]["query"], "select 1");
    let reply = json!({"type": "binary", "headers": {"kind": "query", "query_id": "q-1",
        "content_type": ARROW_STREAM_CONTENT_TYPE}});
    peer.send(id, "__response__", reply, b"schema").await;
}

/// Expects `toolkit.close_sql_query` of `q-1` and answers it.
async fn expect_close<T: meshagent_room::Transport>(peer: &mut Peer<T>, toolkit: &str) {
    let (id, _, header, _) = peer.recv_invoke(toolkit, "close_sql_query").await;
    assert_eq!(header["arguments"]["json"]["query_id"], "q-1");
    peer.ack(id).await;
}

#[tokio::test]
async fn a_dataset_cursor_reads_cancels_and_closes() {
    let (room, _events, mut peer) = connect_memory().await;
    let dataset = room.dataset();
    let client = tokio::spawn(async move {
        let cursor = dataset.open_sql_query("select 1").cursor().await?;
        assert_eq!(cursor.query_id(), "q-1");
        assert_eq!(&cursor.schema_ipc()[..], b"schema");
        let mut batches = cursor.batches().await?;
        let first = batches.next().await.expect("one batch")?;
        assert!(batches.next().await.is_none(), "the read ends at close");
        let status = cursor.cancel().await?;
        cursor.close().await?;
        Ok::<_, meshagent_room::Error>((first, status))
    });
    answer_open(&mut peer, "dataset").await;
    let read = peer.open("dataset", "read_sql_query").await;
    let (_, start, _) = peer.chunk_unacked().await;
    assert_eq!(
        start["headers"],
        json!({"kind": "start", "query_id": "q-1"})
    );
    peer.chunk_unacked().await; // the eager pull
    let data = json!({"type": "binary", "headers": {"kind": "data",
        "content_type": ARROW_STREAM_CONTENT_TYPE}});
    peer.respond(&read, data, b"batch").await;
    peer.chunk_unacked().await; // the next pull
    peer.respond(
        &read,
        json!({"type": "control", "method": "close", "status_code": 1000}),
        &[],
    )
    .await;
    let (id, _, header, _) = peer.recv_invoke("dataset", "cancel_sql_query").await;
    assert_eq!(header["arguments"]["json"]["query_id"], "q-1");
    peer.reply(id, json!({"type": "json", "json": {"status": "cancelled"}}))
        .await;
    expect_close(&mut peer, "dataset").await;
    let (first, status) = within("the cursor's calls", client)
        .await
        .expect("task")
        .expect("calls succeed");
    assert_eq!(&first.ipc[..], b"batch");
    assert_eq!(status, meshagent_room::dataset::SqlCancelStatus::Cancelled);
}

#[tokio::test]
async fn a_dropped_cursor_closes_its_query() {
    let (room, _events, mut peer) = connect_memory().await;
    let sqlite = room.sqlite();
    let open = tokio::spawn(async move {
        sqlite
            .open_sql_query("db", "select 1")
            .cursor()
            .await
            .map(drop)
    });
    answer_open(&mut peer, "sqlite").await;
    within("the open", open)
        .await
        .expect("task")
        .expect("open succeeds");
    // Dropped without close: the close goes out on its own.
    expect_close(&mut peer, "sqlite").await;
}

#[tokio::test]
async fn a_detached_cursor_stays_open() {
    let (room, _events, mut peer) = connect_memory().await;
    let sqlite = room.sqlite();
    let open = tokio::spawn(async move {
        let cursor = sqlite.open_sql_query("db", "select 1").cursor().await?;
        Ok::<_, meshagent_room::Error>(cursor.into_query_id())
    });
    answer_open(&mut peer, "sqlite").await;
    let id = within("the open", open).await.expect("task").expect("ok");
    assert_eq!(id, "q-1");
    peer.silent().await;
    // An adopted id is closed again by its new handle.
    drop(SqlCursor::adopt(room.sqlite(), id, bytes::Bytes::new()));
    expect_close(&mut peer, "sqlite").await;
}
