//! Runtime behaviour against a scripted peer over an in-memory transport: handshake,
//! correlation, concurrency, cancellation, disconnects, bad input and events.

mod support;

use std::future::IntoFuture;
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};

use meshagent_room::wire::packing::unpack;
use meshagent_room::{
    memory_pair, ConnectOptions, ConnectionEvent, Content, Error, ErrorCode, MemoryTransport,
    RoomClient, RoomEvent, RoomEvents,
};
use serde_json::{json, Value};

type Peer = support::Peer<MemoryTransport>;

async fn connect() -> (RoomClient, RoomEvents, Peer) {
    let (client_io, server_io) = memory_pair();
    let mut peer = Peer::new(server_io);
    let server = async {
        peer.push(
            "room_ready",
            json!({"room_name": "r1", "room_url": "ws://x/rooms/r1", "session_id": "s1"}),
        )
        .await;
        peer.push(
            "connected",
            json!({"type": "init", "participantId": "p-1", "attributes": {"name": "alice"}}),
        )
        .await;
    };
    let (client, ()) = tokio::join!(
        RoomClient::with_transport(client_io, ConnectOptions::default()),
        server
    );
    let (room, events) = client.expect("handshake completes");
    (room, events, peer)
}

#[tokio::test]
async fn handshake_exposes_room_and_participant() {
    let (room, _events, _peer) = connect().await;
    assert_eq!(room.room_name(), "r1");
    assert_eq!(room.room_url(), "ws://x/rooms/r1");
    assert_eq!(room.session_id(), "s1");
    assert_eq!(room.local_participant().id, "p-1");
    assert_eq!(
        room.local_participant().attributes.get("name"),
        Some(&json!("alice"))
    );
}

#[tokio::test]
async fn many_concurrent_requests_are_correlated_by_id() {
    let (room, _events, mut peer) = connect().await;
    let calls = (0..50).map(|i| {
        let room = room.clone();
        tokio::spawn(async move { room.storage().download_url(format!("f{i}")).await })
    });
    let handles: Vec<_> = calls.collect();
    let mut requests = Vec::new();
    for _ in 0..50 {
        requests.push(peer.recv().await);
    }
    // Answer in reverse order: each call must still get its own reply.
    for (id, kind, header, _) in requests.into_iter().rev() {
        assert_eq!(kind, "room.invoke_tool");
        let path = header["arguments"]["json"]["path"]
            .as_str()
            .expect("path")
            .to_string();
        peer.reply(
            id,
            json!({"type": "json", "json": {"url": format!("https://x/{path}")}}),
        )
        .await;
    }
    for (i, h) in handles.into_iter().enumerate() {
        assert_eq!(
            h.await.expect("task").expect("reply"),
            format!("https://x/f{i}")
        );
    }
}

#[tokio::test]
async fn a_dropped_call_leaves_the_client_healthy() {
    let (room, _events, mut peer) = connect().await;
    let call = room.storage().exists("a");
    let dropped = tokio::time::timeout(Duration::from_millis(20), call.into_future()).await;
    assert!(
        dropped.is_err(),
        "no reply yet, the call timed out and was dropped"
    );
    let (first_id, ..) = peer.recv().await;
    // The late reply to the forgotten call is ignored...
    peer.reply(first_id, json!({"type": "json", "json": {"exists": true}}))
        .await;
    // ...and the next call gets its own reply.
    let next = tokio::spawn({
        let room = room.clone();
        async move { room.storage().exists("b").await }
    });
    let (id, ..) = peer.recv().await;
    assert_ne!(id, first_id);
    peer.reply(id, json!({"type": "json", "json": {"exists": false}}))
        .await;
    assert!(!next.await.expect("task").expect("reply"));
}

#[tokio::test]
async fn a_closed_socket_fails_every_pending_call() {
    let (room, mut events, mut peer) = connect().await;
    let calls: Vec<_> = (0..5)
        .map(|i| {
            let room = room.clone();
            tokio::spawn(async move { room.queues().drain(format!("q{i}")).await })
        })
        .collect();
    for _ in 0..5 {
        peer.recv().await;
    }
    drop(peer);
    for c in calls {
        let result = tokio::time::timeout(Duration::from_secs(2), c)
            .await
            .expect("fails promptly")
            .expect("task");
        assert!(matches!(result, Err(Error::Closed { .. })), "{result:?}");
    }
    assert!(room.is_closed());
    assert!(matches!(
        room.queues().drain("q").await,
        Err(Error::Closed { .. })
    ));
    assert!(
        matches!(
            events.next().await,
            Some(RoomEvent::Connection(ConnectionEvent::Closed { .. }))
        ),
        "the event stream reports the close"
    );
    assert_eq!(
        events.next().await,
        None,
        "the event stream ends with the connection"
    );
    // Routes remember the close: a later subscriber or stream ends at once.
    let late = tokio::time::timeout(Duration::from_secs(2), room.subscribe().next()).await;
    assert_eq!(
        late.ok(),
        Some(None),
        "a subscriber after the close gets an ended stream"
    );
    assert!(matches!(
        room.open_stream("t", "x").await,
        Err(Error::Closed { .. })
    ));
}

#[tokio::test]
async fn server_errors_keep_their_code_and_text() {
    let (room, _events, mut peer) = connect().await;
    let call = tokio::spawn({
        let room = room.clone();
        async move { room.storage().stat("missing").await }
    });
    let (id, ..) = peer.recv().await;
    peer.reply(
        id,
        json!({"type": "error", "text": "not found", "code": 3001}),
    )
    .await;
    let err = call.await.expect("task").expect_err("server error");
    assert_eq!(err.code(), Some(3001));
    assert_eq!(err.error_code(), Some(ErrorCode::StorageNotFound));
    assert_eq!(
        err.to_string(),
        "server error 3001 from storage.stat: not found"
    );
}

#[tokio::test]
async fn wrong_replies_are_typed_errors_and_the_client_goes_on() {
    let (room, _events, mut peer) = connect().await;
    let cases = [
        json!({"type": "text", "text": "yes"}), // wrong content type
        json!({"type": "json", "json": {"exists": "yes"}}), // wrong JSON type
        json!({"type": "json", "json": {}}),    // missing field
        json!({"type": "nonsense"}),            // unknown content type
    ];
    for reply in cases {
        let call = tokio::spawn({
            let room = room.clone();
            async move { room.storage().exists("a").await }
        });
        let (id, ..) = peer.recv().await;
        peer.reply(id, reply.clone()).await;
        let err = call.await.expect("task").expect_err("rejected");
        assert!(
            matches!(err, Error::UnexpectedResponse { .. } | Error::Content(_)),
            "{reply}: {err:?}"
        );
    }
    // A reply whose data is not a packed message fails only that call.
    let call = tokio::spawn({
        let room = room.clone();
        async move { room.queues().open("q").await }
    });
    let (id, ..) = peer.recv().await;
    peer.send_raw_message(id, "__response__", b"\x00\x00\x00\x00\x00\x00\x00\x05{oops")
        .await;
    assert!(matches!(call.await.expect("task"), Err(Error::Pack(_))));
    // Garbage packets are skipped; the connection keeps serving.
    peer.io
        .send(Bytes::from_static(b"\x01\x02"))
        .await
        .expect("send");
    peer.io
        .send(Bytes::from_static(
            b"\x00\x00\x00\x00\x00\x00\x00\x09\x00\x00\x00\x03xyz",
        ))
        .await
        .expect("send");
    let call = tokio::spawn({
        let room = room.clone();
        async move { room.queues().open("q").await }
    });
    let (id, ..) = peer.recv().await;
    peer.reply(id, json!({"type": "empty"})).await;
    call.await.expect("task").expect("still works");
}

#[tokio::test]
async fn events_reach_every_subscriber_and_bad_ones_are_skipped() {
    let (room, mut first, mut peer) = connect().await;
    let mut second = room.subscribe();
    peer.push("storage.file.updated", json!({"path": "a.txt"}))
        .await; // missing participant_id: skipped
    peer.push(
        "storage.file.updated",
        json!({"path": "a.txt", "participant_id": "p-2"}),
    )
    .await;
    peer.push("some.future.packet", json!({"x": 1})).await;
    for events in [&mut first, &mut second] {
        match events.next().await {
            Some(RoomEvent::StorageFileUpdated(e)) => {
                assert_eq!(
                    (e.path.as_str(), e.participant_id.as_str()),
                    ("a.txt", "p-2")
                )
            }
            other => panic!("expected file updated, got {other:?}"),
        }
        match events.next().await {
            Some(RoomEvent::Unknown(p)) => {
                assert_eq!(p.packet_type, "some.future.packet");
                assert_eq!(p.header.get("x"), Some(&json!(1)));
            }
            other => panic!("expected unknown packet, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn generic_invoke_carries_content_tails() {
    let (room, _events, mut peer) = connect().await;
    let call = tokio::spawn({
        let room = room.clone();
        async move {
            room.invoke(
                "demo",
                "file",
                Content::File(meshagent_room::FileContent {
                    name: "a.bin".into(),
                    mime_type: "application/octet-stream".into(),
                    data: Bytes::from(vec![7u8; 3000]),
                }),
            )
            .await
        }
    });
    let packet = loop {
        let p = peer.io.next().await.expect("open").expect("ok");
        if let Some(m) = peer.reassembler.push(p).expect("framing") {
            break m;
        }
    };
    let packed = unpack(packet.data).expect("packed");
    assert_eq!(
        packed.header["arguments"],
        json!({"type": "file", "name": "a.bin", "mime_type": "application/octet-stream"})
    );
    assert_eq!(packed.tail.len(), 3000);
    peer.send(
        packet.id,
        "__response__",
        json!({"type": "binary", "headers": {"k": 1}}),
        b"xyz",
    )
    .await;
    match call.await.expect("task").expect("reply") {
        Content::Binary { headers, data } => {
            assert_eq!(headers.get("k"), Some(&json!(1)));
            assert_eq!(&data[..], b"xyz");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_socket_closed_during_the_handshake_fails_connect() {
    let (client_io, server_io) = memory_pair();
    drop(server_io);
    let result = RoomClient::with_transport(client_io, ConnectOptions::default()).await;
    assert!(matches!(result, Err(Error::Closed { .. })), "{result:?}");
}

#[tokio::test]
async fn a_silent_server_times_out_the_handshake() {
    let (client_io, _server_io) = memory_pair();
    let options = ConnectOptions::default().handshake_timeout(Duration::from_millis(50));
    let result = RoomClient::with_transport(client_io, options).await;
    assert!(matches!(result, Err(Error::Timeout(..))), "{result:?}");
}

#[tokio::test]
async fn set_attribute_sends_one_key_without_a_reply() {
    let (room, _events, mut peer) = connect().await;
    room.set_attribute("status", json!("busy"))
        .await
        .expect("sent");
    let (_, kind, header, _) = peer.recv().await;
    assert_eq!(kind, "set_attributes");
    assert_eq!(header, json!({"status": "busy"}));
    assert_eq!(
        room.local_participant().attributes.get("status"),
        Some(&json!("busy"))
    );
}

#[tokio::test]
async fn hosted_toolkits_answer_calls_and_unregister_on_drop() {
    use meshagent_room::Toolkit;
    let (room, _events, mut peer) = connect().await;
    let toolkit = Toolkit::new("greeter", "Greeter", "Says hello.")
        .json_tool("hello", "Greets.", |args: Value| async move {
            Ok::<_, String>(
                json!({"greeting": format!("hello {}", args["name"].as_str().unwrap_or("?"))}),
            )
        })
        .json_tool("fail", "Fails.", |_args: Value| async move {
            Err::<Value, _>("no luck")
        })
        .json_tool("boom", "Panics.", |_args: Value| async move {
            if true {
                panic!("handler bug");
            }
            Ok::<Value, String>(Value::Null)
        });
    let host = tokio::spawn({
        let room = room.clone();
        async move { room.host_toolkit(toolkit, true).await }
    });
    let (id, kind, header, _) = peer.recv().await;
    assert_eq!(kind, "room.register_toolkit");
    assert_eq!(header["name"], json!("greeter"));
    assert_eq!(header["public"], json!(true));
    assert_eq!(
        header["tools"]["hello"]["input_spec"],
        json!({"types": ["json"], "stream": false})
    );
    peer.reply(id, json!({"type": "json", "json": {"id": "reg-1"}}))
        .await;
    let hosted = host.await.expect("task").expect("registered");
    assert_eq!(hosted.id(), "reg-1");

    let calls = [
        (
            77,
            json!({"name": "hello", "arguments": {"type": "json", "json": {"name": "bob"}}}),
        ),
        (
            78,
            json!({"name": "fail", "arguments": {"type": "json", "json": {}}}),
        ),
        (79, json!({"name": "boom", "arguments": {"type": "empty"}})),
        (
            80,
            json!({"name": "nope", "arguments": {"type": "json", "json": {}}}),
        ),
    ];
    for (id, call) in &calls {
        peer.send(*id, "room.tool_call.greeter", call.clone(), &[])
            .await;
    }
    let mut replies = std::collections::BTreeMap::new();
    for _ in 0..calls.len() {
        let (id, kind, header, _) = peer.recv().await;
        assert_eq!(kind, "room.tool_call_response");
        replies.insert(id, header);
    }
    assert_eq!(
        replies[&77],
        json!({"type": "json", "json": {"greeting": "hello bob"}})
    );
    assert_eq!(replies[&78], json!({"type": "error", "text": "no luck"}));
    assert_eq!(
        replies[&79],
        json!({"type": "error", "text": "tool `boom` panicked"})
    );
    assert_eq!(replies[&80]["type"], json!("error"));

    drop(hosted);
    let (id, kind, header, _) = peer.recv().await;
    assert_eq!(
        (kind.as_str(), header),
        ("room.unregister_toolkit", json!({"id": "reg-1"}))
    );
    peer.reply(id, json!({"type": "empty"})).await;
    // After unregistering, calls are refused.
    peer.send(81, "room.tool_call.greeter", calls[0].1.clone(), &[])
        .await;
    let (id, _, header, _) = peer.recv().await;
    assert_eq!((id, header["type"].clone()), (81, json!("error")));
}

#[tokio::test]
async fn remote_participants_follow_messaging_events() {
    let (room, mut events, mut peer) = connect().await;
    let push = |t: &str, from: &str, message: Value| json!({"from_participant_id": from, "type": t, "message": message});
    peer.push(
        "messaging.send",
        push(
            "messaging.enabled",
            "server",
            json!({"participants": [
        {"id": "p-2", "role": "agent", "attributes": {"name": "bob"}}]}),
        ),
    )
    .await;
    peer.push(
        "messaging.send",
        push(
            "participant.enabled",
            "server",
            json!({"id": "p-3", "role": "user", "attributes": {}}),
        ),
    )
    .await;
    peer.push(
        "messaging.send",
        push(
            "participant.attributes",
            "p-2",
            json!({"attributes": {"status": "busy"}}),
        ),
    )
    .await;
    peer.push(
        "messaging.send",
        push("participant.disabled", "server", json!({"id": "p-3"})),
    )
    .await;
    peer.push("messaging.send", push("chat", "p-2", json!({"text": "hi"})))
        .await;
    for _ in 0..4 {
        events.next().await.expect("event");
    }
    match events.next().await {
        Some(RoomEvent::MessagingMessage(m)) => assert_eq!(
            (m.type_.as_str(), m.message["text"].clone()),
            ("chat", json!("hi"))
        ),
        other => panic!("expected a user message, got {other:?}"),
    }
    let people = room.remote_participants();
    assert_eq!(people.len(), 2);
    assert_eq!((people[0].id.as_str(), people[0].online), ("p-2", true));
    assert_eq!(people[0].attributes.get("name"), Some(&json!("bob")));
    assert_eq!(people[0].attributes.get("status"), Some(&json!("busy")));
    assert_eq!((people[1].id.as_str(), people[1].online), ("p-3", false));
}

fn secret_request() -> Value {
    json!({"request_id": "req-1", "request": {"url": "https://api.x", "type": "application/x-api-key",
           "participant_id": "p-2", "timeout": 30, "delegate_to": null}})
}

#[tokio::test]
async fn secret_requests_without_a_handler_are_refused() {
    let (_room, _events, mut peer) = connect().await;
    peer.push("secrets.request_secret", secret_request()).await;
    let (id, kind, header, _) = peer.recv().await;
    assert_eq!(kind, "room.invoke_tool");
    assert_eq!(
        (header["toolkit"].as_str(), header["tool"].as_str()),
        (Some("secrets"), Some("provide_secret"))
    );
    assert_eq!(header["arguments"]["type"], json!("binary"));
    assert_eq!(header["arguments"]["headers"]["request_id"], json!("req-1"));
    assert!(header["arguments"]["headers"]["error"]
        .as_str()
        .is_some_and(|e| e.contains("no handler")));
    peer.reply(id, json!({"type": "empty"})).await;
}

#[tokio::test]
async fn a_secrets_handler_answers_with_the_bytes_in_the_tail() {
    use futures::future::BoxFuture;
    use meshagent_room::SecretsHandler;
    struct Vault;
    impl SecretsHandler for Vault {
        fn oauth_token(
            &self,
            _: meshagent_room::secrets::OauthTokenRequested,
        ) -> BoxFuture<'static, Result<String, String>> {
            Box::pin(async { Err("no oauth here".to_string()) })
        }
        fn secret(
            &self,
            r: meshagent_room::secrets::SecretRequested,
        ) -> BoxFuture<'static, Result<Bytes, String>> {
            assert_eq!(r.request_id, "req-1");
            Box::pin(async { Ok(Bytes::from_static(b"sk-123")) })
        }
    }
    let (room, _events, mut peer) = connect().await;
    room.set_secrets_handler(Vault);
    peer.push("secrets.request_secret", secret_request()).await;
    let packet = loop {
        let p = peer.io.next().await.expect("open").expect("ok");
        if let Some(m) = peer.reassembler.push(p).expect("framing") {
            break m;
        }
    };
    let packed = unpack(packet.data).expect("packed");
    assert_eq!(packed.header["tool"], json!("provide_secret"));
    assert_eq!(
        packed.header["arguments"]["headers"],
        json!({"request_id": "req-1", "error": null})
    );
    assert_eq!(&packed.tail[..], b"sk-123");
}

#[tokio::test]
async fn a_request_timeout_fails_only_the_slow_call() {
    let (client_io, server_io) = memory_pair();
    let mut peer = Peer::new(server_io);
    let handshake = async {
        peer.push(
            "room_ready",
            json!({"room_name": "r", "room_url": "ws://x", "session_id": "s"}),
        )
        .await;
        peer.push(
            "connected",
            json!({"type": "init", "participantId": "p", "attributes": {}}),
        )
        .await;
    };
    let options = ConnectOptions::default().request_timeout(Duration::from_millis(50));
    let (client, ()) = tokio::join!(RoomClient::with_transport(client_io, options), handshake);
    let (room, _events) = client.expect("handshake");
    let slow = room.queues().receive("jobs").await;
    assert!(matches!(slow, Err(Error::Timeout(..))), "{slow:?}");
    let (slow_id, ..) = peer.recv().await;
    let next = tokio::spawn({
        let room = room.clone();
        async move { room.queues().open("q").await }
    });
    let (id, ..) = peer.recv().await;
    peer.reply(slow_id, json!({"type": "empty"})).await; // late: ignored
    peer.reply(id, json!({"type": "empty"})).await;
    next.await.expect("task").expect("the client goes on");
}
