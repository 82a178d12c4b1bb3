//! Automatic reconnection over a real loopback websocket: a room that drops the
//! connection mid-call, mid-stream, or restarts, refuses, or stays away. Each test checks
//! what the 0.56 SDKs promise: calls in flight fail with a retryable error and are never
//! re-sent, calls made meanwhile go out once the client's state is restored (attributes,
//! messaging, hosted toolkits), and the event stream reports every step.

mod support;

use std::time::Duration;

use futures::StreamExt;
use meshagent_room::{
    ConnectionEvent, Error, ReconnectPolicy, RoomClient, RoomEvent, RoomEvents, Toolkit,
};
use serde_json::{json, Value};
use support::{listen, within, WsPeer};
use tokio::net::TcpListener;
use url::Url;

/// Short delays, so a test waits milliseconds, not the default half second.
fn fast() -> ReconnectPolicy {
    ReconnectPolicy::default().delays(Duration::from_millis(20), Duration::from_millis(80))
}

/// The handshake of connection `n` (1-based): its own session and participant id.
async fn handshake(peer: &mut WsPeer, n: u32) {
    peer.push(
        "room_ready",
        json!({"room_name": "r", "room_url": "ws://127.0.0.1/rooms/r", "session_id": format!("s-{n}")}),
    )
    .await;
    peer.push(
        "connected",
        json!({"type": "init", "participantId": format!("p-{n}"), "attributes": {}}),
    )
    .await;
}

async fn connect(url: Url, policy: ReconnectPolicy) -> (RoomClient, RoomEvents) {
    within(
        "connect",
        RoomClient::connect(url, "tok").reconnect(Some(policy)),
    )
    .await
    .expect("connected")
}

/// The next connection report on `events`, skipping other events.
async fn next_status(events: &mut RoomEvents) -> ConnectionEvent {
    loop {
        match within("a connection report", events.next()).await {
            Some(RoomEvent::Connection(c)) => return c,
            Some(_) => continue,
            None => panic!("the event stream ended"),
        }
    }
}

/// What the client sent, keyed for the assertions: `invoke toolkit.tool`, or the type.
fn kind(sent: &(u64, String, Value, bytes::Bytes)) -> String {
    if sent.1 == "room.invoke_tool" {
        format!(
            "invoke {}.{}",
            sent.2["toolkit"].as_str().unwrap_or_default(),
            sent.2["tool"].as_str().unwrap_or_default()
        )
    } else {
        sent.1.clone()
    }
}

#[tokio::test]
async fn a_dropped_connection_comes_back_with_its_state_and_nothing_resent() {
    let (listener, url) = listen().await;
    let (room_side_tx, mut room_side) = tokio::sync::mpsc::unbounded_channel();
    let server = tokio::spawn(async move {
        for n in 1..=2 {
            let mut peer = WsPeer::accept(&listener).await;
            handshake(&mut peer, n).await;
            if room_side_tx.send(peer).is_err() {
                return;
            }
        }
    });
    let (room, mut events) = connect(url, fast()).await;
    let mut peer = within("connection 1", room_side.recv())
        .await
        .expect("peer 1");

    // State on connection 1: an attribute, messaging, a hosted toolkit.
    room.set_attribute("name", json!("bot")).await.expect("set");
    assert_eq!(peer.expect_recv().await.1, "set_attributes");
    // Fire-and-forget from 0.56 on; 0.35.8 waits for the reply, which is ignored otherwise.
    let enabling = tokio::spawn({
        let room = room.clone();
        async move { room.messaging().enable().await }
    });
    let enable = peer.expect_recv().await;
    assert_eq!(kind(&enable), "invoke messaging.enable");
    peer.reply(enable.0, json!({"type": "empty"})).await;
    within("enable", enabling)
        .await
        .expect("task")
        .expect("enabled");
    peer.push(
        "messaging.send",
        json!({"from_participant_id": "server", "type": "messaging.enabled", "message": {"participants": []}}),
    )
    .await;
    let toolkit = Toolkit::new("tk", "Tk", "a toolkit")
        .json_tool("echo", "echo", |v| async move { Ok::<_, String>(v) });
    let hosting = tokio::spawn({
        let room = room.clone();
        async move { room.host_toolkit(toolkit, false).await }
    });
    let (id, kind1, ..) = peer.expect_recv().await;
    assert_eq!(kind1, "room.register_toolkit");
    peer.reply(id, json!({"type": "json", "json": {"id": "tk-1"}}))
        .await;
    let hosted = within("hosting", hosting)
        .await
        .expect("task")
        .expect("hosted");
    assert_eq!(hosted.id(), "tk-1");

    // A call in flight when the connection drops (TCP closed, no close frame).
    let in_flight = tokio::spawn({
        let room = room.clone();
        async move { room.storage().exists("in-flight").await }
    });
    let sent = peer.expect_recv().await;
    assert_eq!(kind(&sent), "invoke storage.exists");
    drop(peer);

    let failed = within("the in-flight call", in_flight).await.expect("task");
    match &failed {
        Err(e @ Error::Disconnected { .. }) => assert!(e.is_retryable()),
        other => panic!("expected Disconnected, got {other:?}"),
    }
    assert!(matches!(
        next_status(&mut events).await,
        ConnectionEvent::Disconnected { .. }
    ));
    assert!(!room.is_closed() && !room.is_connected());

    // A call made while the client reconnects waits, then goes out after the restoration.
    let meanwhile = tokio::spawn({
        let room = room.clone();
        async move { room.storage().exists("meanwhile").await }
    });
    match next_status(&mut events).await {
        ConnectionEvent::Reconnecting { attempt: 1, delay } => assert!(
            delay >= Duration::from_millis(10) && delay <= Duration::from_millis(20),
            "{delay:?} is the first delay, jittered within its upper half"
        ),
        other => panic!("expected the first reconnecting report, got {other:?}"),
    }
    let mut peer = within("connection 2", room_side.recv())
        .await
        .expect("peer 2");
    let mut restored = Vec::new();
    let mut register = None;
    while restored.len() < 3 {
        let sent = peer.expect_recv().await;
        let k = kind(&sent);
        assert_ne!(
            sent.2["arguments"]["json"]["path"],
            json!("in-flight"),
            "the call in flight at the drop was re-sent"
        );
        assert_ne!(
            sent.2["arguments"]["json"]["path"],
            json!("meanwhile"),
            "a waiting call went out before the restoration: {restored:?}"
        );
        if k == "set_attributes" {
            assert_eq!(sent.2["name"], json!("bot"), "every attribute again");
        }
        if k == "room.register_toolkit" {
            assert_eq!(sent.2["name"], json!("tk"));
            register = Some(sent.0);
        }
        restored.push(k);
    }
    restored.sort();
    assert_eq!(
        restored,
        [
            "invoke messaging.enable",
            "room.register_toolkit",
            "set_attributes"
        ]
    );
    peer.reply(
        register.expect("registered again"),
        json!({"type": "json", "json": {"id": "tk-2"}}),
    )
    .await;
    assert_eq!(
        next_status(&mut events).await,
        ConnectionEvent::Reconnected {
            session_id: "s-2".into()
        }
    );
    let (id, _, header, _) = peer.expect_recv().await;
    assert_eq!(header["arguments"]["json"]["path"], json!("meanwhile"));
    peer.reply(id, json!({"type": "json", "json": {"exists": true}}))
        .await;
    assert!(within("the waiting call", meanwhile)
        .await
        .expect("task")
        .expect("answered on the new connection"));

    assert!(room.is_connected());
    assert_eq!(room.session_id(), "s-2");
    let me = room.local_participant();
    assert_eq!(me.id, "p-2");
    assert_eq!(me.attributes.get("name"), Some(&json!("bot")));
    assert_eq!(hosted.id(), "tk-2");
    server.abort();
}

/// Accepts one connection and completes its handshake as connection `n`.
async fn serve_one(listener: &TcpListener, n: u32) -> WsPeer {
    let mut peer = WsPeer::accept(listener).await;
    handshake(&mut peer, n).await;
    peer
}

#[tokio::test]
async fn a_room_that_restarts_is_reached_again() {
    let (listener, url) = listen().await;
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        let peer = serve_one(&listener, 1).await;
        // The room goes away: the connection and the listening socket both close.
        drop((peer, listener));
        tokio::time::sleep(Duration::from_millis(300)).await;
        let listener = TcpListener::bind(addr).await.expect("the same port again");
        let mut peer = serve_one(&listener, 2).await;
        let (id, ..) = peer.expect_recv().await;
        peer.reply(id, json!({"type": "json", "json": {"exists": true}}))
            .await;
        peer.wait_closed().await;
    });
    let (room, mut events) = connect(url, fast()).await;
    assert!(matches!(
        next_status(&mut events).await,
        ConnectionEvent::Disconnected { .. }
    ));
    let mut attempts = 0;
    let session = loop {
        match next_status(&mut events).await {
            ConnectionEvent::Reconnecting { attempt, .. } => attempts = attempt,
            ConnectionEvent::Reconnected { session_id } => break session_id,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(session, "s-2");
    assert!(
        attempts >= 2,
        "the port was closed for 300 ms: some attempts failed first ({attempts})"
    );
    assert!(within("a call", room.storage().exists("x"))
        .await
        .expect("served by the restarted room"));
    drop(room);
    within("the server", server).await.expect("server");
}

#[tokio::test]
async fn a_refused_reconnection_closes_the_client_with_the_status() {
    let (listener, url) = listen().await;
    let server = tokio::spawn(async move {
        drop(serve_one(&listener, 1).await);
        // The room now refuses this client (e.g. it was disabled: 423).
        let (mut tcp, _) = listener.accept().await.expect("accept");
        let _ = support::read_request(&mut tcp).await;
        use tokio::io::AsyncWriteExt;
        let _ = tcp
            .write_all(b"HTTP/1.1 423 Locked\r\ncontent-length: 0\r\n\r\n")
            .await;
    });
    let (room, mut events) = connect(url, fast()).await;
    assert!(matches!(
        next_status(&mut events).await,
        ConnectionEvent::Disconnected { .. }
    ));
    assert!(matches!(
        next_status(&mut events).await,
        ConnectionEvent::Reconnecting { attempt: 1, .. }
    ));
    match next_status(&mut events).await {
        ConnectionEvent::Closed { reason } => assert!(reason.contains("423"), "{reason}"),
        other => panic!("expected the close, got {other:?}"),
    }
    assert!(within("the end of events", events.next()).await.is_none());
    assert!(room.is_closed());
    assert!(matches!(
        room.storage().exists("x").await,
        Err(Error::Closed { .. })
    ));
    server.abort();
}

#[tokio::test]
async fn reconnection_gives_up_after_its_attempts() {
    let (listener, url) = listen().await;
    let server = tokio::spawn(async move {
        // One connection, then the room is gone for good.
        drop((serve_one(&listener, 1).await, listener));
    });
    let (room, mut events) = connect(url, fast().max_attempts(3)).await;
    // A call made after the loss waits, then fails with the final reason.
    assert!(matches!(
        next_status(&mut events).await,
        ConnectionEvent::Disconnected { .. }
    ));
    let waiting = tokio::spawn({
        let room = room.clone();
        async move { room.storage().exists("x").await }
    });
    for expected in 1..=3 {
        match next_status(&mut events).await {
            ConnectionEvent::Reconnecting { attempt, .. } => assert_eq!(attempt, expected),
            other => panic!("{other:?}"),
        }
    }
    match next_status(&mut events).await {
        ConnectionEvent::Closed { reason } => {
            assert!(
                reason.starts_with("gave up reconnecting after 3 attempts"),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
    match within("the waiting call", waiting).await.expect("task") {
        Err(Error::Closed { reason }) => assert!(reason.contains("gave up"), "{reason}"),
        other => panic!("{other:?}"),
    }
    server.await.expect("server");
}

#[tokio::test]
async fn closing_while_reconnecting_stops_at_once() {
    let (listener, url) = listen().await;
    let server = tokio::spawn(async move {
        drop((serve_one(&listener, 1).await, listener));
    });
    let slow = ReconnectPolicy::default().delays(Duration::from_secs(30), Duration::from_secs(30));
    let (room, mut events) = connect(url, slow).await;
    assert!(matches!(
        next_status(&mut events).await,
        ConnectionEvent::Disconnected { .. }
    ));
    assert!(matches!(
        next_status(&mut events).await,
        ConnectionEvent::Reconnecting { attempt: 1, .. }
    ));
    let started = std::time::Instant::now();
    within("close", room.close()).await;
    assert!(room.is_closed());
    assert!(matches!(
        next_status(&mut events).await,
        ConnectionEvent::Closed { .. }
    ));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the 30 s backoff did not hold the close"
    );
    server.await.expect("server");
}

#[tokio::test]
async fn a_stream_open_at_the_drop_fails_with_a_retryable_error() {
    let (listener, url) = listen().await;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(async move {
        let mut peer = serve_one(&listener, 1).await;
        let (id, ..) = peer.expect_recv().await;
        peer.reply(id, json!({"type": "control", "method": "open"}))
            .await;
        let _ = rx.await;
        drop(peer);
        let _reconnected = serve_one(&listener, 2).await;
        tokio::time::sleep(Duration::from_secs(5)).await;
    });
    let (room, mut events) = connect(url, fast()).await;
    let mut stream = within("open", room.open_stream("demo", "tail"))
        .await
        .expect("opened");
    within("the open", stream.ensure_open())
        .await
        .expect("open");
    let _ = tx.send(());
    match within("the stream", stream.recv()).await {
        Err(e @ Error::Disconnected { .. }) => assert!(e.is_retryable()),
        other => panic!("expected Disconnected, got {other:?}"),
    }
    // The request side knows its connection is gone: nothing is sent for a forgotten call.
    loop {
        if let ConnectionEvent::Reconnected { .. } = next_status(&mut events).await {
            break;
        }
    }
    assert!(matches!(
        stream
            .send(meshagent_room::Content::Text("late".into()))
            .await,
        Err(Error::Disconnected { .. })
    ));
    server.abort();
}

#[tokio::test]
async fn a_normal_close_by_the_room_is_final() {
    let (listener, url) = listen().await;
    let server = tokio::spawn(async move {
        let mut peer = serve_one(&listener, 1).await;
        use futures::SinkExt;
        let _ = peer
            .ws
            .send(tokio_tungstenite::tungstenite::Message::Close(Some(
                tokio_tungstenite::tungstenite::protocol::CloseFrame {
                    code: 1000.into(),
                    reason: "room ended".into(),
                },
            )))
            .await;
        // No second connection is expected: an accept would fail the test below.
        tokio::time::timeout(Duration::from_millis(500), listener.accept())
            .await
            .is_ok()
    });
    let (room, mut events) = connect(url, fast()).await;
    match next_status(&mut events).await {
        ConnectionEvent::Closed { reason } => assert!(reason.contains("room ended"), "{reason}"),
        other => panic!("expected the close, got {other:?}"),
    }
    assert!(room.is_closed());
    assert!(
        !within("the server", server).await.expect("server"),
        "the client reconnected after a normal close"
    );
}
