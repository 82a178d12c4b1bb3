//! An embedded room and the generated client: `cargo run -p devroom --example embedded`.
//!
//! Starts a devroom on a free port, joins it twice, and passes a file and a queue message
//! from one participant to the other.

use devroom::{DevRoom, DevRoomOptions};
use meshagent_room::{room_url, RoomClient};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = DevRoom::start(DevRoomOptions::default()).await?;
    let url = room_url(&server.url(), "example")?;
    // The default token check admits any token; a JWT's `name` claim names the participant.
    let (alice, _events) = RoomClient::connect(url.clone(), "alice-token").await?;
    let (bob, _events) = RoomClient::connect(url, "bob-token").await?;

    alice
        .storage()
        .upload("notes/hello.txt", b"hello from alice".to_vec())
        .await?;
    let text = bob
        .storage()
        .download("notes/hello.txt")
        .await?
        .bytes()
        .await?;
    println!("bob downloaded: {}", String::from_utf8_lossy(&text));

    alice
        .queues()
        .send("jobs", json!({"task": "index"}))
        .await?;
    let job = bob.queues().receive("jobs").wait(false).await?;
    println!("bob received: {job:?}");

    alice.close().await;
    bob.close().await;
    server.shutdown().await;
    Ok(())
}
