//! Chat over messaging: `cargo run -p meshagent-examples --bin chat`.
//!
//! Alice and Bob turn messaging on, see each other arrive, and exchange a few messages;
//! each message is read from the receiver's event stream.

use std::process::ExitCode;

use futures::StreamExt;
use meshagent_examples::{exit, within, ExampleRoom, Result};
use meshagent_room::messaging::Message;
use meshagent_room::{RoomClient, RoomEvent, RoomEvents};
use serde_json::json;

/// The conversation: who speaks, and what.
const LINES: &[(&str, &str)] = &[
    ("alice", "Hi Bob!"),
    ("bob", "Hi Alice. Did the build pass?"),
    ("alice", "It did. Bye!"),
];

/// A participant in the chat.
struct Person {
    name: &'static str,
    client: RoomClient,
    events: RoomEvents,
}

#[tokio::main]
async fn main() -> ExitCode {
    exit(run().await)
}

async fn run() -> Result<()> {
    let room = ExampleRoom::open("chat").await?;
    let mut people = Vec::new();
    for name in ["alice", "bob"] {
        let (client, mut events) = room.join(name).await?;
        // With messaging on, a participant can send and receive messages and is told who
        // else is here: first a list of those present, then each arrival.
        within("enable", client.messaging().enable()).await??;
        let present = next_event(&mut events, "messaging to be on", |e| match e {
            RoomEvent::MessagingEnabled(e) => Some(e.message.participants.len()),
            _ => None,
        })
        .await?;
        println!("{name}: messaging on, {present} other participant(s) here");
        people.push(Person {
            name,
            client,
            events,
        });
    }
    // Alice hears of Bob's arrival.
    let bob_id = people[1].client.local_participant().id;
    let arrived = next_event(&mut people[0].events, "bob to arrive", |e| match e {
        RoomEvent::MessagingParticipantEnabled(p) if p.message.id == bob_id => Some(p.message),
        _ => None,
    })
    .await?;
    let bob_name = arrived.attributes.get("name").and_then(|n| n.as_str());
    println!("alice: {} arrived", bob_name.unwrap_or(&bob_id));

    for (speaker, text) in LINES {
        let (from, to) = if *speaker == "alice" { (0, 1) } else { (1, 0) };
        let to_id = people[to].client.local_participant().id;
        within(
            "send",
            people[from]
                .client
                .messaging()
                .send(to_id, "chat", json!({ "text": text })),
        )
        .await??;
        let message: Message = next_event(&mut people[to].events, "the message", |e| match e {
            RoomEvent::MessagingMessage(m) => Some(m),
            _ => None,
        })
        .await?;
        println!(
            "{} received from {}: {}",
            people[to].name,
            people[from].name,
            message.message["text"].as_str().unwrap_or("(no text)")
        );
        if message.from_participant_id != people[from].client.local_participant().id {
            return Err("a message from someone unexpected".into());
        }
    }

    println!("chat: {} messages exchanged", LINES.len());
    for person in people {
        person.client.close().await;
    }
    room.close().await;
    Ok(())
}

/// The next event `pick` accepts, skipping the others; bounded by `within`.
async fn next_event<T>(
    events: &mut RoomEvents,
    what: &str,
    mut pick: impl FnMut(RoomEvent) -> Option<T>,
) -> Result<T> {
    within(what, async {
        while let Some(event) = events.next().await {
            if let Some(found) = pick(event) {
                return Ok(found);
            }
        }
        Err(format!("the event stream ended while waiting for {what}").into())
    })
    .await?
}
