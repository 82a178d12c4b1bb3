//! Messaging streams (0.56 `messaging.stream`) against a scripted room, both sides: the
//! initiator's call, the receiver's offers (accept, reject, dropped), events, and a
//! connection lost mid-stream.
// Protocol 0.56 only: 0.35.8 has neither shape.
#![cfg(feature = "protocol-0-56")]

mod support;

use std::time::Duration;

use bytes::Bytes;
use meshagent_room::{Error, MessagingStreamEvent, ReconnectPolicy, RoomClient};
use serde_json::{json, Value};
use support::{connect_memory, listen, within, Peer, WsPeer};

fn message(
    from: &str,
    t: &str,
    body: Value,
    attachment: Option<&'static [u8]>,
) -> MessagingStreamEvent {
    MessagingStreamEvent::Message {
        from_participant_id: from.into(),
        message_type: t.into(),
        message: body,
        attachment: attachment.map(Bytes::from_static),
    }
}

#[tokio::test]
async fn the_initiator_streams_both_ways() {
    let (room, _events, mut peer) = connect_memory().await;
    let call = tokio::spawn({
        let room = room.clone();
        async move {
            room.messaging()
                .stream(
                    "p-2",
                    "chat",
                    json!({"text": "hi ✓"}),
                    Some(Bytes::from_static(b"\x00\x01")),
                )
                .await
        }
    });
    let id = peer.open("messaging", "stream").await;
    let (_, first, _) = peer.chunk_unacked().await;
    assert_eq!(
        first,
        json!({"type": "json", "json": {"to_participant_id": "p-2", "type": "chat",
            "message_json": "{\"text\":\"hi ✓\"}", "attachment_base64": "AAE="}})
    );
    peer.respond(
        &id,
        json!({"type": "json", "json": {"kind": "accepted", "stream_id": "st-1"}}),
        &[],
    )
    .await;
    let mut stream = within("the accepted stream", call)
        .await
        .expect("task")
        .expect("accepted");
    assert_eq!(
        (stream.stream_id(), stream.remote_participant_id()),
        ("st-1", "p-2")
    );

    stream
        .send_message("chat", json!({"text": "more"}), None)
        .await
        .expect("sent");
    let (_, next, _) = peer.chunk_unacked().await;
    assert_eq!(
        next,
        json!({"type": "json", "json": {"type": "chat", "message_json": "{\"text\":\"more\"}", "attachment_base64": null}})
    );

    peer.respond(
        &id,
        json!({"type": "json", "json": {"kind": "message", "type": "reply",
        "message": {"text": "salut"}, "attachment_base64": "/wA="}}),
        &[],
    )
    .await;
    peer.respond(
        &id,
        json!({"type": "json", "json": {"kind": "client_disconnected", "participant_id": "p-2"}}),
        &[],
    )
    .await;
    peer.respond(
        &id,
        json!({"type": "json", "json": {"kind": "closed", "reason": "ended", "message": "bye"}}),
        &[],
    )
    .await;
    let mut got = Vec::new();
    while let Some(e) = within("an event", stream.next_event())
        .await
        .expect("event")
    {
        got.push(e);
    }
    assert_eq!(
        got,
        vec![
            message("p-2", "reply", json!({"text": "salut"}), Some(b"\xff\x00")),
            MessagingStreamEvent::ClientDisconnected {
                participant_id: "p-2".into()
            },
            MessagingStreamEvent::Closed {
                reason: "ended".into(),
                message: Some("bye".into())
            },
        ]
    );
    stream.close().await.expect("closed");
    let (_, close, _) = peer.chunk_unacked().await;
    assert_eq!(close["method"], "close");
}

#[tokio::test]
async fn a_refused_stream_fails_with_the_rooms_error() {
    let (room, _events, mut peer) = connect_memory().await;
    let call = tokio::spawn({
        let room = room.clone();
        async move {
            room.messaging()
                .stream("p-2", "chat", json!({}), None)
                .await
        }
    });
    let id = peer.open("messaging", "stream").await;
    peer.chunk_unacked().await;
    peer.respond(
        &id,
        json!({"type": "error", "text": "participant does not accept streams", "code": 1001}),
        &[],
    )
    .await;
    match within("the refusal", call).await.expect("task") {
        Err(Error::Server { code, text, .. }) => {
            assert_eq!(
                (code, text.as_str()),
                (Some(1001), "participant does not accept streams")
            )
        }
        other => panic!("expected the room's error, got {other:?}"),
    }
    // The request side is closed.
    let (_, close, _) = peer.chunk_unacked().await;
    assert_eq!(close["method"], "close");
}

/// The room offers stream `c-1` from `p-9` under push id `id`.
async fn offer<T: meshagent_room::Transport>(peer: &mut Peer<T>, id: u64, call: &str) {
    peer.send(
        id,
        "room.tool_call.messaging",
        json!({"name": "stream", "caller_id": "p-9",
        "tool_call_id": call, "arguments": {"type": "control", "method": "open"}}),
        &[],
    )
    .await;
    peer.push_tail(
        "room.tool_call_request_chunk.messaging",
        json!({"tool_call_id": call,
        "chunk": {"type": "json", "json": {"from_participant_id": "p-9", "type": "chat",
        "message_json": "{\"text\": \"ping\"}", "attachment_base64": null}}}),
        &[],
    )
    .await;
}

#[tokio::test]
async fn the_receiver_accepts_and_streams_both_ways() {
    let (room, _events, mut peer) = connect_memory().await;
    // Offers that arrive before anyone asks wait.
    offer(&mut peer, 500, "c-1").await;
    let mut offers = room.messaging().incoming_streams().expect("offers");
    assert!(room.messaging().incoming_streams().is_err(), "taken once");
    let incoming = within("the offer", offers.next()).await.expect("an offer");
    assert_eq!(
        (
            incoming.stream_id.as_str(),
            incoming.from_participant_id.as_str(),
            incoming.message_type.as_str()
        ),
        ("c-1", "p-9", "chat")
    );
    assert_eq!(incoming.message, json!({"text": "ping"}));
    let mut stream = within("accept", incoming.accept()).await.expect("accepted");
    let (id, kind, header, _) = peer.recv().await;
    assert_eq!((id, kind.as_str()), (500, "room.tool_call_response"));
    assert_eq!(header["type"], "control");
    assert_eq!(header["method"], "open");

    stream
        .send_message(
            "chat",
            json!({"text": "pong"}),
            Some(Bytes::from_static(b"\x01\x02")),
        )
        .await
        .expect("sent");
    let (id, kind, header, _) = peer.recv().await;
    assert_eq!((id, kind.as_str()), (500, "room.tool_call_response_chunk"));
    assert_eq!(header["tool_call_id"], "c-1");
    assert_eq!(
        header["chunk"],
        json!({"type": "json", "json": {"kind": "message", "type": "chat", "message": {"text": "pong"}, "attachment_base64": "AQI="}})
    );

    peer.push_tail("room.tool_call_request_chunk.messaging", json!({"tool_call_id": "c-1",
        "chunk": {"type": "json", "json": {"type": "chat", "message_json": "{\"n\": 2}", "attachment_base64": "AA=="}}}), &[]).await;
    let e = within("a message", stream.next_event())
        .await
        .expect("event");
    assert_eq!(
        e,
        Some(message("p-9", "chat", json!({"n": 2}), Some(b"\x00")))
    );

    // The initiator leaves.
    peer.push_tail(
        "room.tool_call_request_chunk.messaging",
        json!({"tool_call_id": "c-1",
        "chunk": {"type": "control", "method": "close", "status_code": 1000}}),
        &[],
    )
    .await;
    let e = within("the leave", stream.next_event())
        .await
        .expect("event");
    assert_eq!(
        e,
        Some(MessagingStreamEvent::ClientDisconnected {
            participant_id: "p-9".into()
        })
    );
    assert_eq!(
        within("the end", stream.next_event()).await.expect("end"),
        None
    );
    assert!(stream.send_message("chat", json!({}), None).await.is_err());
}

#[tokio::test]
async fn the_receiver_rejects_or_drops_offers() {
    let (room, _events, mut peer) = connect_memory().await;
    let mut offers = room.messaging().incoming_streams().expect("offers");
    offer(&mut peer, 600, "c-1").await;
    let incoming = within("the offer", offers.next()).await.expect("an offer");
    incoming
        .reject(Some("busy, try later".into()))
        .await
        .expect("rejected");
    let (id, kind, header, _) = peer.recv().await;
    assert_eq!((id, kind.as_str()), (600, "room.tool_call_response"));
    assert_eq!(
        (header["type"].as_str(), header["text"].as_str()),
        (Some("error"), Some("busy, try later"))
    );

    offer(&mut peer, 601, "c-2").await;
    drop(within("the offer", offers.next()).await.expect("an offer"));
    let (id, kind, header, _) = peer.recv().await;
    assert_eq!((id, kind.as_str()), (601, "room.tool_call_response"));
    assert_eq!(header["text"], "messaging stream rejected");

    // A message before acceptance is a protocol error.
    offer(&mut peer, 602, "c-3").await;
    let pending = within("the offer", offers.next()).await.expect("an offer");
    peer.push_tail(
        "room.tool_call_request_chunk.messaging",
        json!({"tool_call_id": "c-3",
        "chunk": {"type": "json", "json": {"type": "chat", "message_json": "{}"}}}),
        &[],
    )
    .await;
    let (id, _, header, _) = peer.recv().await;
    assert_eq!(id, 602);
    assert_eq!(
        header["text"],
        "messaging stream received a message before acceptance"
    );
    assert!(pending.accept().await.is_err(), "no longer pending");
}

#[tokio::test]
async fn a_lost_connection_fails_open_streams_with_disconnected() {
    let (listener, url) = listen().await;
    let policy =
        ReconnectPolicy::default().delays(Duration::from_millis(20), Duration::from_millis(80));
    let connecting = tokio::spawn(async move {
        RoomClient::connect(url, "tok")
            .reconnect(Some(policy))
            .await
    });
    let mut ws = WsPeer::accept(&listener).await;
    ws.handshake().await;
    let (room, _events) = within("connect", connecting)
        .await
        .expect("task")
        .expect("connected");

    // An incoming stream, accepted.
    let mut offers = room.messaging().incoming_streams().expect("offers");
    ws.send(
        700,
        "room.tool_call.messaging",
        json!({"name": "stream", "caller_id": "p-9",
        "tool_call_id": "c-1", "arguments": {"type": "control", "method": "open"}}),
        &[],
    )
    .await;
    ws.send(701, "room.tool_call_request_chunk.messaging", json!({"tool_call_id": "c-1",
        "chunk": {"type": "json", "json": {"from_participant_id": "p-9", "type": "chat", "message_json": "{}"}}}), &[]).await;
    let incoming = within("the offer", offers.next()).await.expect("an offer");
    let mut received = within("accept", incoming.accept()).await.expect("accepted");
    ws.expect_recv().await;

    // An outgoing stream, accepted.
    let call = tokio::spawn({
        let room = room.clone();
        async move {
            room.messaging()
                .stream("p-2", "chat", json!({}), None)
                .await
        }
    });
    let (id, _, header, _) = ws.expect_recv().await;
    let tool_call_id = header["tool_call_id"].as_str().expect("id").to_string();
    ws.reply(id, json!({"type": "control", "method": "open"}))
        .await;
    ws.expect_recv().await;
    ws.send(
        900,
        "room.tool_call_response_chunk",
        json!({"tool_call_id": tool_call_id,
        "chunk": {"type": "json", "json": {"kind": "accepted", "stream_id": "st-1"}}}),
        &[],
    )
    .await;
    let mut sent = within("the stream", call)
        .await
        .expect("task")
        .expect("accepted");

    drop(ws);
    for (side, got) in [
        (
            "initiator",
            within("the initiator's event", sent.next_event()).await,
        ),
        (
            "receiver",
            within("the receiver's event", received.next_event()).await,
        ),
    ] {
        assert!(
            matches!(got, Err(Error::Disconnected { .. })),
            "{side}: {got:?}"
        );
    }
    room.close().await;
}
