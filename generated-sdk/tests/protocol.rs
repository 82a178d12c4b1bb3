//! Transport facts per protocol version ([`meshagent_room::protocol`]) against a scripted
//! room: where the token travels, whether request chunks are acknowledged, `caller_context`,
//! fire-and-forget invokes and `dismiss`. Each test asserts what the version this crate was
//! built for does, so the same tests guard 0.35.8 (unchanged) and 0.56.

mod support;

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use meshagent_room::{
    protocol, ByteSource, ConnectionEvent, Content, Error, RoomClient, RoomEvent,
};
use serde_json::{json, Value};
use support::{listen, within, WsPeer};

fn close(status: i64) -> Value {
    json!({"type": "control", "method": "close", "status_code": status})
}

/// Python 0.56 dials `/rooms/<room>?v=0.56.0` with `Authorization: Bearer <token>` and no
/// token in the query (conformance/cases-0.56/python/_connect.yaml); 0.35.8 puts
/// `token=<jwt>&v=0.35.8` in the query and sends no header.
#[tokio::test]
async fn the_token_travels_where_the_protocol_puts_it() {
    let (listener, mut url) = listen().await;
    url.set_query(Some("keep=1&token=stale"));
    let server = tokio::spawn(async move {
        let mut peer = WsPeer::accept(&listener).await;
        peer.handshake().await;
        let seen = (
            peer.request_uri.clone(),
            peer.authorization.clone(),
            peer.extensions.clone(),
        );
        (seen, peer)
    });
    let (room, _events) = within("connect", RoomClient::connect(url, "jwt-1"))
        .await
        .expect("connected");
    let ((uri, authorization, extensions), _peer) = within("server", server).await.expect("server");
    // permessage-deflate is not offered (Python 0.40+ offers it): tungstenite 0.28 cannot
    // negotiate it and fails on compressed frames, and rooms accept uncompressed sockets.
    assert_eq!(extensions, None);
    if protocol::TOKEN_IN_HEADER {
        assert_eq!(uri, "/rooms/r?keep=1&v=0.56.0");
        assert_eq!(authorization.as_deref(), Some("Bearer jwt-1"));
    } else {
        assert_eq!(
            uri,
            format!("/rooms/r?keep=1&token=jwt-1&v={}", protocol::VERSION)
        );
        assert_eq!(authorization, None);
    }
    assert!(!format!("{room:?}").contains("jwt-1"));
}

/// A room that never acknowledges request chunks (Python 0.47 and later do not wait for
/// acks): under 0.56 an upload completes anyway; under 0.35.8 it waits for the ack of its
/// first chunk, as the 0.35.8 SDKs do.
#[tokio::test]
async fn an_upload_to_a_room_that_never_acks_chunks() {
    let (room, _e, mut peer) = support::connect_loopback().await;
    let data: Vec<u8> = (0..5_000u32).map(|i| (i % 251) as u8).collect();
    let call = tokio::spawn({
        let room = room.clone();
        let data: Vec<std::io::Result<Bytes>> = vec![Ok(Bytes::from(data.clone()))];
        async move {
            room.storage()
                .upload(
                    "a.bin",
                    ByteSource::from_stream(futures::stream::iter(data)),
                )
                .await
        }
    });
    let id = peer.open("storage", "upload").await;
    let (_, start, _) = peer.chunk_unacked().await;
    assert_eq!(start["headers"]["kind"], "start");
    if protocol::REQUEST_CHUNK_ACKS {
        // The client waits for the start chunk's ack before anything else.
        peer.respond(
            &id,
            json!({"type": "binary", "headers": {"kind": "pull"}}),
            &[],
        )
        .await;
        peer.silent().await;
        assert!(!call.is_finished(), "0.35.8 waits for each acknowledgement");
        call.abort();
        return;
    }
    let mut received = Vec::new();
    loop {
        peer.respond(
            &id,
            json!({"type": "binary", "headers": {"kind": "pull", "chunk_size": 2_000}}),
            &[],
        )
        .await;
        let (_, chunk, tail) = peer.chunk_unacked().await;
        if chunk == close(1000) {
            break;
        }
        assert_eq!(chunk["headers"]["kind"], "data");
        received.extend_from_slice(&tail);
    }
    peer.respond(&id, close(1000), &[]).await;
    within("the upload", call)
        .await
        .expect("task")
        .expect("upload completes without acks");
    assert_eq!(received, data);
}

/// `RoomClient::open_stream` follows the protocol's policy: under 0.56 `send` returns
/// without an ack (and `settle` has nothing to wait for).
#[tokio::test]
async fn open_stream_defaults_to_the_protocol_policy() {
    let (room, _e, mut peer) = support::connect_loopback().await;
    let opening = tokio::spawn({
        let room = room.clone();
        async move { room.open_stream("t", "x").await }
    });
    peer.open("t", "x").await;
    let mut stream = within("open", opening).await.expect("task").expect("open");
    let send = stream.send(Content::Text("one".into()));
    if protocol::REQUEST_CHUNK_ACKS {
        let (sent, (id, chunk, _)) = tokio::join!(send, async {
            let got = peer.chunk_unacked().await;
            peer.ack(got.0).await;
            got
        });
        sent.expect("acknowledged");
        assert!(id > 0);
        assert_eq!(chunk["text"], "one");
    } else {
        within("an unacked send", send).await.expect("sent");
        let (_, chunk, _) = peer.chunk_unacked().await;
        assert_eq!(chunk["text"], "one");
        within("settle", stream.settle())
            .await
            .expect("nothing to settle");
    }
}

/// `caller_context`: 0.35.8 sends it in the invoke header; protocols without it (0.41 and
/// later) refuse the call before anything is sent, rather than calling the tool without
/// the context the caller asked for.
#[tokio::test]
async fn caller_context_only_where_the_protocol_has_it() {
    let (room, _e, mut peer) = support::connect_loopback().await;
    let call = room
        .agents()
        .invoke_tool("demo", "echo", Content::Empty)
        .caller_context(json!({"k": 1}));
    if protocol::CALLER_CONTEXT {
        let call = tokio::spawn(std::future::IntoFuture::into_future(call));
        let (id, _, header, _) = peer.recv().await;
        assert_eq!(header["caller_context"], json!({"k": 1}));
        peer.reply(id, json!({"type": "empty"})).await;
        within("the call", call).await.expect("task").expect("ok");
    } else {
        let e = within("the call", call).await.expect_err("refused");
        assert!(matches!(e, Error::InvalidArguments(_)), "{e:?}");
        assert!(e.to_string().contains("caller_context"), "{e}");
        peer.silent().await;
        // A call without it goes out without the key.
        let call = tokio::spawn({
            let room = room.clone();
            async move {
                room.agents()
                    .invoke_tool("demo", "echo", Content::Empty)
                    .await
            }
        });
        let (id, _, header, _) = peer.recv().await;
        assert!(header.get("caller_context").is_none(), "{header}");
        peer.reply(id, json!({"type": "empty"})).await;
        within("the call", call).await.expect("task").expect("ok");
    }
}

/// Fire-and-forget invoke (Python `invoke_nowait`, py056-agents-invoke-nowait): the
/// `room.invoke_tool` goes out with its routing, nothing waits, and a late reply is dropped
/// as one for an unknown request while later calls are still correlated.
#[tokio::test]
async fn invoke_nowait_waits_for_nothing_and_drops_the_late_reply() {
    let (room, _e, mut peer) = support::connect_loopback().await;
    within(
        "a nowait invoke",
        room.agents()
            .invoke_tool("demo", "notify", Content::Json(json!({"text": "ping"})))
            .participant_id("p-remote")
            .nowait(),
    )
    .await
    .expect("sent");
    let (id, kind, header, _) = peer.recv().await;
    assert_eq!(kind, "room.invoke_tool");
    assert_eq!(
        (
            &header["toolkit"],
            &header["tool"],
            &header["participant_id"],
            &header["arguments"]
        ),
        (
            &json!("demo"),
            &json!("notify"),
            &json!("p-remote"),
            &json!({"type": "json", "json": {"text": "ping"}})
        )
    );
    assert!(header["tool_call_id"].is_string());
    // The reply comes anyway, then an ordinary call is answered.
    peer.reply(id, json!({"type": "json", "json": {"ok": true}}))
        .await;
    let call = tokio::spawn({
        let room = room.clone();
        async move { room.storage().exists("f").await }
    });
    let (id2, _, _, _) = peer.recv().await;
    assert_ne!(id2, id);
    peer.reply(id2, json!({"type": "json", "json": {"exists": true}}))
        .await;
    assert!(within("exists", call).await.expect("task").expect("ok"));
}

/// A `messaging.send` of type `dismiss` (py056-messaging-dismiss-events): from 0.50 on the
/// client closes (Python `_dismiss`): subscribers see the message, then their stream ends,
/// and pending and later calls fail with the dismissal as the close reason. Under 0.35.8
/// it is an ordinary message.
#[tokio::test]
async fn dismiss_closes_the_client_from_0_50() {
    let (room, mut events, mut peer) = support::connect_loopback().await;
    let pending = tokio::spawn({
        let room = room.clone();
        async move { room.storage().exists("f").await }
    });
    peer.recv().await;
    peer.push(
        "messaging.send",
        json!({"from_participant_id": "server", "type": "dismiss", "message": {"reason": "bye ✓"}}),
    )
    .await;
    let event = within("the dismiss event", events.next()).await;
    assert!(is_dismiss(&event), "the dismiss message first: {event:?}");
    let dismisses = protocol::VERSION != "0.35.8";
    if !dismisses {
        assert!(!room.is_closed());
        pending.abort();
        return;
    }
    let end = within("the close report", events.next()).await;
    assert!(
        matches!(&end, Some(RoomEvent::Connection(ConnectionEvent::Closed { reason })) if reason == "dismissed by the room: bye ✓"),
        "{end:?}"
    );
    let end = within("the end of events", events.next()).await;
    assert!(end.is_none(), "{end:?}");
    assert!(room.is_closed());
    let reason = "dismissed by the room: bye ✓";
    match within("the pending call", pending).await.expect("task") {
        Err(Error::Closed { reason: r }) => assert_eq!(r, reason),
        other => panic!("pending call: {other:?}"),
    }
    match within("a later call", room.storage().exists("g")).await {
        Err(Error::Closed { reason: r }) => assert_eq!(r, reason),
        other => panic!("later call: {other:?}"),
    }
    // The websocket close went out: the room side's stream ends.
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        while peer.io.next().await.is_some() {}
    })
    .await;
    assert!(closed.is_ok(), "the client closed the websocket");
}

/// A `dismiss` right behind the handshake (as the 0.56 recording has it): connect still
/// returns the client, already closed, and its events show the dismissal first.
#[tokio::test]
async fn a_dismiss_right_after_the_handshake_still_connects() {
    let (client_io, server_io) = meshagent_room::memory_pair();
    let mut peer = support::Peer::new(server_io);
    peer.handshake().await;
    peer.push(
        "messaging.send",
        json!({"from_participant_id": "server", "type": "dismiss", "message": {}}),
    )
    .await;
    let (room, mut events) = within(
        "connect",
        RoomClient::with_transport(client_io, meshagent_room::ConnectOptions::default()),
    )
    .await
    .expect("the handshake completed first");
    let event = within("the dismiss event", events.next()).await;
    assert!(is_dismiss(&event), "{event:?}");
    if protocol::VERSION == "0.35.8" {
        assert!(!room.is_closed());
        return;
    }
    assert!(matches!(
        within("the close report", events.next()).await,
        Some(RoomEvent::Connection(ConnectionEvent::Closed { .. }))
    ));
    assert!(within("the end", events.next()).await.is_none());
    match room.storage().exists("f").await {
        Err(Error::Closed { reason }) => assert_eq!(reason, "dismissed by the room"),
        other => panic!("{other:?}"),
    }
}

/// The `dismiss` message as this version's events show it: its own event where the spec
/// gives it one (0.56), an ordinary message before.
fn is_dismiss(event: &Option<RoomEvent>) -> bool {
    match event {
        #[cfg(not(feature = "protocol-0-35-8"))]
        Some(RoomEvent::MessagingDismissed(d)) => d.type_ == "dismiss",
        Some(RoomEvent::MessagingMessage(m)) => {
            protocol::VERSION == "0.35.8" && m.type_ == "dismiss"
        }
        _ => false,
    }
}
