//! Connect to a room and read its events: `cargo run -p meshagent-examples --bin events`.
//!
//! Alice joins and watches the room's event stream while Bob joins, writes a file, deletes
//! it and leaves. Alice prints each event as it arrives, typed, and stops once Bob has left.

use std::collections::HashMap;
use std::process::ExitCode;

use futures::StreamExt;
use meshagent_examples::{exit, within, ExampleRoom, Result};
use meshagent_room::RoomEvent;

#[tokio::main]
async fn main() -> ExitCode {
    exit(run().await)
}

async fn run() -> Result<()> {
    let room = ExampleRoom::open("events").await?;

    // Joining gives a client and a stream of the events the room pushes to it.
    let (alice, mut events) = room.join("alice").await?;
    // Presence (who joins and leaves) comes with messaging: Alice turns it on.
    within("alice to enable messaging", alice.messaging().enable()).await??;

    // Bob does a few things in the room, on his own task.
    let (bob, _bob_events) = room.join("bob").await?;
    let bob_id = bob.local_participant().id;
    let bob_task = tokio::spawn(async move {
        bob.messaging().enable().await?;
        bob.storage()
            .upload("hello.txt", b"hi".to_vec())
            .overwrite(true)
            .await?;
        bob.storage().delete("hello.txt").await?;
        bob.close().await;
        Ok::<_, meshagent_room::Error>(())
    });

    // Alice reads events until Bob has left; every wait is bounded. Presence events name
    // participants; the others give only their id, so Alice keeps the names she has seen.
    let mut names: HashMap<String, String> = HashMap::new();
    let name = |names: &HashMap<String, String>, id: &str| -> String {
        names.get(id).cloned().unwrap_or_else(|| id.to_string())
    };
    let mut seen = 0;
    loop {
        let event = within("the next event", events.next())
            .await?
            .ok_or("the event stream ended")?;
        seen += 1;
        match event {
            RoomEvent::MessagingEnabled(e) => println!(
                "alice: messaging is on; {} other participant(s) here",
                e.message.participants.len()
            ),
            RoomEvent::MessagingParticipantEnabled(p) => {
                let who = p.message.attributes.get("name").and_then(|n| n.as_str());
                let who = who.unwrap_or(&p.message.id).to_string();
                println!("alice: {who} joined");
                names.insert(p.message.id, who);
            }
            RoomEvent::StorageFileUpdated(f) => {
                println!(
                    "alice: {} wrote {}",
                    name(&names, &f.participant_id),
                    f.path
                )
            }
            RoomEvent::StorageFileDeleted(f) => {
                println!(
                    "alice: {} deleted {}",
                    name(&names, &f.participant_id),
                    f.path
                )
            }
            RoomEvent::MessagingParticipantDisabled(p) => {
                println!("alice: {} left", name(&names, &p.message.id));
                if p.message.id == bob_id {
                    break;
                }
            }
            // The room can push more kinds; `packet_type` names any of them.
            other => println!("alice: another event: {}", other.packet_type()),
        }
    }
    within("bob to finish", bob_task).await???;

    println!("events: alice saw {seen} events, up to bob leaving");
    alice.close().await;
    room.close().await;
    Ok(())
}
