//! Edit a shared document: `cargo run -p meshagent-examples --bin sync_doc`.
//!
//! Alice and Bob open the same sync document (a yrs CRDT kept in step by the room). Alice
//! adds a paragraph; Bob's copy receives the change; Bob answers with one of his own.

use std::process::ExitCode;
use std::time::Duration;

use meshagent_examples::{exit, within, ExampleRoom, Result};
use meshagent_room::yrs::{
    GetString, Text, Transact, XmlElementPrelim, XmlFragment, XmlTextPrelim,
};
use meshagent_room::SyncDocument;

/// Where the document lives in the room.
const PATH: &str = "examples/notes.document";

#[tokio::main]
async fn main() -> ExitCode {
    exit(run().await)
}

async fn run() -> Result<()> {
    let room = ExampleRoom::open("sync-doc").await?;
    let (alice, _events) = room.join("alice").await?;
    let (bob, _events) = room.join("bob").await?;

    // Both open the document (created on first open); each holds a full local copy.
    let alice_doc = within("alice to open the document", alice.sync_open(PATH)).await??;
    let bob_doc = within("bob to open the document", bob.sync_open(PATH)).await??;

    // An edit is a yrs transaction on the local copy; committing it sends the update.
    add_paragraph(&alice_doc, "Alice was here.");
    within("alice's edit to be sent", alice_doc.flush()).await??;
    let expected = text(&alice_doc);
    println!("alice wrote:    {expected}");
    until_text(&bob_doc, &expected).await?;
    println!("bob now reads:  {}", text(&bob_doc));

    // And the other way.
    add_paragraph(&bob_doc, "So was Bob.");
    within("bob's edit to be sent", bob_doc.flush()).await??;
    let expected = text(&bob_doc);
    until_text(&alice_doc, &expected).await?;
    println!("alice now reads: {}", text(&alice_doc));

    println!("sync_doc: both copies read the same document");
    within("close", alice_doc.close()).await??;
    within("close", bob_doc.close()).await??;
    alice.close().await;
    bob.close().await;
    room.close().await;
    Ok(())
}

/// Appends `<p>words</p>` to the document's root XML fragment.
fn add_paragraph(doc: &SyncDocument, words: &str) {
    let mut txn = doc.doc().transact_mut();
    let p = doc.root().push_back(&mut txn, XmlElementPrelim::empty("p"));
    let text = p.push_back(&mut txn, XmlTextPrelim::new(""));
    text.push(&mut txn, words);
}

/// The document as XML text.
fn text(doc: &SyncDocument) -> String {
    let txn = doc.doc().transact();
    doc.root().get_string(&txn)
}

/// Waits (bounded) until `doc` reads `expected`: remote updates are applied in the
/// background as they arrive.
async fn until_text(doc: &SyncDocument, expected: &str) -> Result<()> {
    within("the edit to arrive", async {
        while text(doc) != expected {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
}
