//! Compile-only checks of how a user calls the generated API (nothing here runs against a
//! server): if a generated signature changes shape, this file stops compiling.

#![allow(dead_code, clippy::no_effect_underscore_binding)]

use futures::StreamExt;
use meshagent_room::{ByteSource, Content, RoomClient, RoomEvent};
use serde_json::json;

async fn plain_calls(room: RoomClient) -> meshagent_room::Result<()> {
    let _exists: bool = room.storage().exists("a.txt").await?;
    let _entry: Option<meshagent_room::storage::StorageEntry> =
        room.storage().stat("a.txt").await?;
    room.storage().delete("old").recursive(true).await?;
    room.queues()
        .send("jobs", json!({"task": 1}))
        .create(false)
        .await?;
    let _next: Option<serde_json::Value> = room.queues().receive("jobs").wait(false).await?;
    room.messaging()
        .send("p-2", "chat", json!({"text": "hi"}))
        .attachment_base64(vec![1u8, 2])
        .await?;
    // `database` is a 0.35.8 toolkit (0.56 has `dataset`: issue 14).
    #[cfg(feature = "protocol-0-35-8")]
    let _tables: Vec<String> = room.database().list_tables().await?;
    let _url: String = room.storage().download_url("a.txt").await?;
    let _file: Option<meshagent_room::FileContent> =
        room.secrets().get_secret().name("deploy key").await?;
    room.secrets()
        .set_secret(b"sk-1".to_vec())
        .name("api")
        .await?;
    Ok(())
}

async fn streams(room: RoomClient) -> meshagent_room::Result<()> {
    room.storage()
        .upload("a.bin", ByteSource::from(vec![0u8; 10]))
        .overwrite(true)
        .await?;
    let mut sink = tokio::io::sink();
    room.storage()
        .download("a.bin")
        .await?
        .write_to(&mut sink)
        .await?;
    // `database` is a 0.35.8 toolkit (0.56 has `dataset`: issue 14).
    #[cfg(feature = "protocol-0-35-8")]
    {
        let mut rows = room.database().search("people").limit(10).await?;
        while let Some(batch) = rows.next().await {
            let _rows: Vec<meshagent_room::types::Row> = batch?;
        }
        room.database()
            .insert("people", futures::stream::iter(vec![Vec::new()]))
            .await?;
        // Plain JSON records, typed and batched as the SDKs' insert(records) does.
        let records = vec![meshagent_room::types::Row::from(
            serde_json::json!({"id": 1, "name": "Zoë"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        )];
        room.database()
            .insert("people", meshagent_room::types::Row::batches(records))
            .await?;
    }
    let mut logs = room.developer().logs().await?;
    let _first: Option<meshagent_room::Result<meshagent_room::LogEntry>> = logs.next().await;
    let mut text = room.containers().logs("c-1").follow(true).await?;
    let _piece: Option<meshagent_room::Result<String>> = text.next().await;
    Ok(())
}

async fn agents_and_events(
    room: RoomClient,
    mut events: meshagent_room::RoomEvents,
) -> meshagent_room::Result<()> {
    let _reply: Content = room
        .agents()
        .invoke_tool("demo", "echo", Content::Json(json!({})))
        .participant_id("p-2")
        .await?;
    // Streams both ways: Content in, Content out.
    let input = futures::stream::iter(vec![Content::Text("hello".into())]);
    let mut replies = room.agents().invoke_stream("demo", "chat", input).await?;
    while let Some(reply) = replies.next().await {
        let _chunk: Content = reply?;
    }
    let _toolkits = room.agents().list_toolkits().timeout(30).await?;
    room.agents()
        .call("helper", "https://agents.example/hook", json!({}))
        .await?;
    room.set_attribute("status", json!("busy")).await?;
    let _people = room.remote_participants();
    while let Some(event) = events.next().await {
        if let RoomEvent::StorageFileUpdated(e) = event {
            let (_path, _who): (String, String) = (e.path, e.participant_id);
        }
    }
    Ok(())
}
