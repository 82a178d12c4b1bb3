//! Sync documents: an edit by one participant reaches another with the same document open,
//! and a late opener gets the whole state.
#![cfg(feature = "sync")]

mod support;

use meshagent_room::yrs::{GetString, Transact, Xml, XmlElementPrelim, XmlFragment};
use meshagent_room::SyncDocument;
use support::*;

/// The document's XML as text (what both sides compare).
fn text(doc: &SyncDocument) -> String {
    let txn = doc.doc().transact();
    doc.root().get_string(&txn)
}

/// Waits until `doc` reads `expected`.
async fn until_text(doc: &SyncDocument, expected: &str) {
    within("the edit to arrive", async {
        while text(doc) != expected {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn an_edit_reaches_the_other_participant() {
    let server = start().await;
    let (a, _ea) = join(&server, "docs", "alice").await;
    let (b, _eb) = join(&server, "docs", "bob").await;
    let doc_a = within("open", a.sync_open("/docs/a.thread"))
        .await
        .expect("open");
    let doc_b = within("open", b.sync_open("docs/a.thread"))
        .await
        .expect("open");
    assert_eq!(doc_b.path(), "docs/a.thread");
    assert!(doc_b.schema().is_object());
    {
        let mut txn = doc_a.doc().transact_mut();
        let el = doc_a
            .root()
            .push_back(&mut txn, XmlElementPrelim::empty("message"));
        el.insert_attribute(&mut txn, "$id", "m1");
    }
    within("flush", doc_a.flush()).await.expect("flush");
    let expected = text(&doc_a);
    assert!(expected.contains("m1"), "{expected}");
    until_text(&doc_b, &expected).await;

    // And back the other way.
    {
        let mut txn = doc_b.doc().transact_mut();
        doc_b
            .root()
            .push_back(&mut txn, XmlElementPrelim::empty("reply"));
    }
    within("flush", doc_b.flush()).await.expect("flush");
    let expected = text(&doc_b);
    until_text(&doc_a, &expected).await;

    // A late opener gets the state so far.
    let (c, _ec) = join(&server, "docs", "carol").await;
    let doc_c = within("open", c.sync_open("docs/a.thread"))
        .await
        .expect("open");
    assert_eq!(text(&doc_c), expected);
    within("close", doc_a.close()).await.expect("close");
    within("close", doc_b.close()).await.expect("close");
    within("close", doc_c.close()).await.expect("close");
}

#[tokio::test]
async fn opening_a_missing_document_without_create_fails() {
    let server = start().await;
    let (a, _ea) = join(&server, "docs", "alice").await;
    let missing = within("open", a.sync_open("nope").create(false)).await;
    assert!(missing.is_err());
}
