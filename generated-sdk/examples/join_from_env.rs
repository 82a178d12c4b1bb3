//! Joins the room the environment names, as the official SDKs do, and lists its storage root.
//!
//! ```sh
//! MESHAGENT_API_KEY=ma-… MESHAGENT_ROOM=my-room cargo run --example join_from_env
//! ```
//!
//! `MESHAGENT_TOKEN` (a ready token) is used instead of an API key when set; the room URL
//! comes from `MESHAGENT_ROOM_URL`, `MESHAGENT_PROFILE_API_URL` or `MESHAGENT_API_URL`
//! (default `wss://api.meshagent.com`). Exits 1 with the error (never the secret) on failure.

use meshagent_room::RoomClient;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("join_from_env: {e}");
        std::process::exit(1);
    }
}

async fn run() -> meshagent_room::Result<()> {
    let (room, _events) = RoomClient::from_env()?.await?;
    println!(
        "joined {} as {}",
        room.room_name(),
        room.local_participant().id
    );
    for entry in room.storage().list("/").await? {
        println!("  {}", entry.name);
    }
    room.close().await;
    Ok(())
}
