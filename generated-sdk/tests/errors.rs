//! Errors keep their causes: `std::error::Error::source()` reaches the I/O error of a
//! refused connect and the serde error of a reply that does not match the spec, and a
//! server error keeps its code.

mod support;

use std::error::Error as _;

use meshagent_room::{Error, ErrorCode, RoomClient};
use serde_json::json;
use support::{connect_memory, within};

/// The chain of causes below `e`, outermost first.
fn chain<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> Vec<&'a (dyn std::error::Error + 'static)> {
    let mut out = Vec::new();
    let mut next = e.source();
    while let Some(cause) = next {
        out.push(cause);
        next = cause.source();
    }
    out
}

#[tokio::test]
async fn a_refused_connect_keeps_the_io_error() {
    // A port that was just free: nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let url = url::Url::parse(&format!("ws://{addr}/rooms/r")).expect("url");
    let err = within(
        "a refused connect",
        RoomClient::connect(url, "secret-token"),
    )
    .await
    .expect_err("nothing listens");
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    let io = chain(&err)
        .into_iter()
        .find_map(|c| c.downcast_ref::<std::io::Error>())
        .unwrap_or_else(|| panic!("no io::Error under {err:?}"));
    assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);
    assert!(!format!("{err} {err:?}").contains("secret-token"));
}

#[tokio::test]
async fn a_reply_that_does_not_match_the_spec_keeps_the_serde_error() {
    let (room, _events, mut peer) = connect_memory().await;
    let call = tokio::spawn(async move { room.storage().exists("a.txt").await });
    let (id, ..) = peer.recv_invoke("storage", "exists").await;
    peer.reply(id, json!({"type": "json", "json": {"exists": "yes"}}))
        .await;
    let err = within("the reply", call)
        .await
        .expect("task")
        .expect_err("a string is not a bool");
    assert!(
        matches!(&err, Error::UnexpectedResponse { tool, .. } if tool == "storage.exists"),
        "{err:?}"
    );
    let serde = err
        .source()
        .and_then(|s| s.downcast_ref::<serde_json::Error>())
        .unwrap_or_else(|| panic!("no serde_json::Error under {err:?}"));
    assert!(serde.is_data(), "{serde}");
}

#[tokio::test]
async fn server_errors_keep_their_code_and_large_payloads_stay_out_of_the_text() {
    let (room, _events, mut peer) = connect_memory().await;
    let room2 = room.clone();
    let call = tokio::spawn(async move { room2.storage().exists("a.txt").await });
    let (id, ..) = peer.recv_invoke("storage", "exists").await;
    peer.reply(id, json!({"type": "error", "text": "nope", "code": 404}))
        .await;
    let err = within("the reply", call)
        .await
        .expect("task")
        .expect_err("error");
    assert_eq!(err.code(), Some(404));
    assert_eq!(err.error_code(), ErrorCode::from_code(404));

    // A reply of the wrong shape carrying a large payload: the error text stays short.
    let call = tokio::spawn(async move { room.storage().exists("a.txt").await });
    let (id, ..) = peer.recv_invoke("storage", "exists").await;
    let big = "x".repeat(1 << 20);
    peer.reply(id, json!({"type": "json", "json": [big]})).await;
    let err = within("the reply", call)
        .await
        .expect("task")
        .expect_err("array");
    assert!(
        err.to_string().len() < 1000,
        "{} bytes",
        err.to_string().len()
    );
}

#[tokio::test]
async fn a_mismatch_quotes_an_excerpt_and_its_source_chain_reaches_serde() {
    let (room, _events, mut peer) = connect_memory().await;
    let call = tokio::spawn(async move { room.storage().exists("a.txt").await });
    let (id, ..) = peer.recv_invoke("storage", "exists").await;
    // serde quotes a string it cannot use: a huge one must not end up whole in the error.
    let big = "z".repeat(100_000);
    peer.reply(id, json!({"type": "json", "json": {"exists": big}}))
        .await;
    let err = within("the reply", call)
        .await
        .expect("task")
        .expect_err("a string is not a bool");
    let text = err.to_string();
    assert!(text.len() < 300, "{} bytes: {text}", text.len());
    assert!(text.contains("storage.exists"), "{text}");
    let causes = chain(&err);
    let serde = causes
        .iter()
        .find_map(|c| c.downcast_ref::<serde_json::Error>())
        .unwrap_or_else(|| panic!("no serde_json::Error in the source chain of {err:?}"));
    assert!(serde.is_data(), "{serde}");
    for cause in causes {
        assert!(cause.to_string().len() < 300, "{cause}");
    }
}

#[tokio::test]
async fn a_server_error_names_the_tool_and_quotes_an_excerpt() {
    let (room, _events, mut peer) = connect_memory().await;
    let call = tokio::spawn(async move { room.storage().exists("a.txt").await });
    let (id, ..) = peer.recv_invoke("storage", "exists").await;
    let long = "w".repeat(100_000);
    peer.reply(id, json!({"type": "error", "text": long, "code": 3001}))
        .await;
    let err = within("the reply", call)
        .await
        .expect("task")
        .expect_err("error");
    assert_eq!(err.error_code(), Some(ErrorCode::StorageNotFound));
    let Error::Server { tool, text, .. } = &err else {
        panic!("expected Error::Server, got {err:?}");
    };
    assert_eq!(tool.as_deref(), Some("storage.exists"));
    assert!(text.len() < 300, "{} bytes", text.len());
    let shown = err.to_string();
    assert!(
        shown.starts_with("server error 3001 from storage.exists: www"),
        "{shown}"
    );
    assert!(shown.len() < 300, "{shown}");
}
