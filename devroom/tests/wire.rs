//! The server at the wire level, with a hand-driven client: the per-connection dialect
//! (0.35.8 acknowledges request chunks, 0.56 does not), the token in the query or the
//! `Authorization` header, and bad input answered with a typed error or a close.

mod support;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use meshagent_room::wire::framing::{encode_message, Reassembler};
use meshagent_room::wire::packing::{pack, unpack};
use serde_json::{json, Value};
use support::*;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message as Ws;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A received message: id, packet type, header, tail.
type Received = (u64, String, Value, Bytes);

struct RawClient {
    ws: Socket,
    reassembler: Reassembler,
}

impl RawClient {
    /// Connects with `query` and an optional bearer token; reads the handshake.
    async fn connect(url: &str, bearer: Option<&str>) -> (RawClient, Value) {
        let mut request = url.into_client_request().expect("a request");
        if let Some(t) = bearer {
            request.headers_mut().insert(
                "authorization",
                format!("Bearer {t}").parse().expect("a header"),
            );
        }
        let (ws, _) = within("connect", tokio_tungstenite::connect_async(request))
            .await
            .expect("upgrade");
        let mut client = RawClient {
            ws,
            reassembler: Reassembler::default(),
        };
        let ready = client.recv().await;
        assert_eq!(ready.1, "room_ready");
        let connected = client.recv().await;
        assert_eq!(
            (connected.1.as_str(), &connected.2["type"]),
            ("connected", &json!("init"))
        );
        (client, connected.2)
    }

    async fn send(&mut self, id: u64, packet_type: &str, header: Value, tail: &[u8]) {
        let data = pack(&header, tail).expect("an object header");
        for packet in encode_message(id, packet_type, &data) {
            within("send", self.ws.send(Ws::Binary(packet)))
                .await
                .expect("sent");
        }
    }

    async fn recv(&mut self) -> Received {
        loop {
            let frame = within("a message", self.ws.next())
                .await
                .expect("open")
                .expect("no error");
            let Ws::Binary(packet) = frame else {
                panic!("unexpected frame {frame:?}")
            };
            if let Some(m) = self.reassembler.push(packet).expect("valid framing") {
                let p = unpack(m.data).expect("valid packing");
                return (m.id, m.message_type, Value::Object(p.header), p.tail);
            }
        }
    }

    /// Messages until one `done` accepts (included).
    async fn recv_until(&mut self, done: impl Fn(&Received) -> bool) -> Vec<Received> {
        let mut seen = Vec::new();
        loop {
            let m = self.recv().await;
            let stop = done(&m);
            seen.push(m);
            if stop {
                return seen;
            }
        }
    }

    /// The close frame the server ends with.
    async fn closed(&mut self) -> Option<CloseCode> {
        loop {
            match within("the close", self.ws.next()).await {
                Some(Ok(Ws::Close(frame))) => return frame.map(|f| f.code),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    }
}

fn chunk(kind: &str, extra: Value) -> Value {
    let mut headers = json!({"kind": kind});
    if let (Some(h), Value::Object(e)) = (headers.as_object_mut(), extra) {
        h.extend(e);
    }
    json!({"type": "binary", "headers": headers})
}

fn is_chunk(m: &Received, pred: impl Fn(&Value) -> bool) -> bool {
    m.1 == "room.tool_call_response_chunk" && pred(&m.2["chunk"])
}

fn acks(seen: &[Received], id: u64) -> bool {
    seen.iter()
        .any(|m| m.1 == "__response__" && m.0 == id && m.2["type"] == "empty")
}

/// Uploads `hi` to `path` by hand; returns everything received, and whether each of the
/// chunk requests (ids 2, 3, 4) was acknowledged.
async fn upload_by_hand(client: &mut RawClient, path: &str) -> (Vec<Received>, [bool; 3]) {
    let open = json!({"type": "control", "method": "open"});
    client.send(1, "room.invoke_tool", json!({"toolkit": "storage", "tool": "upload", "arguments": open, "tool_call_id": "t1"}), &[]).await;
    let start = chunk(
        "start",
        json!({"path": path, "overwrite": false, "name": "a.txt", "mime_type": "text/plain", "size": 2}),
    );
    client
        .send(
            2,
            "room.tool_call_request_chunk",
            json!({"tool_call_id": "t1", "chunk": start}),
            &[],
        )
        .await;
    let mut seen = client
        .recv_until(|m| is_chunk(m, |c| c["headers"]["kind"] == "pull"))
        .await;
    assert!(
        seen.iter()
            .any(|m| m.1 == "__response__" && m.0 == 1 && m.2["method"] == "open"),
        "{seen:?}"
    );
    client
        .send(
            3,
            "room.tool_call_request_chunk",
            json!({"tool_call_id": "t1", "chunk": chunk("data", json!({}))}),
            b"hi",
        )
        .await;
    seen.extend(
        client
            .recv_until(|m| is_chunk(m, |c| c["headers"]["kind"] == "pull"))
            .await,
    );
    let close = json!({"type": "control", "method": "close", "status_code": 1000});
    client
        .send(
            4,
            "room.tool_call_request_chunk",
            json!({"tool_call_id": "t1", "chunk": close}),
            &[],
        )
        .await;
    seen.extend(
        client
            .recv_until(|m| is_chunk(m, |c| c["method"] == "close"))
            .await,
    );
    // A plain call after: its reply comes after any acknowledgement of the chunks.
    client.send(5, "room.invoke_tool", json!({"toolkit": "storage", "tool": "exists", "arguments": {"type": "json", "json": {"path": path}}}), &[]).await;
    seen.extend(
        client
            .recv_until(|m| m.1 == "__response__" && m.0 == 5)
            .await,
    );
    assert_eq!(
        seen.last().map(|m| m.2.clone()),
        Some(json!({"type": "json", "json": {"exists": true}}))
    );
    let acked = [acks(&seen, 2), acks(&seen, 3), acks(&seen, 4)];
    (seen, acked)
}

#[tokio::test]
async fn a_0_35_8_client_gets_every_request_chunk_acknowledged() {
    let server = start().await;
    // Python 0.35.8: token and v=0.35.8 in the query.
    let url = format!("{}?token={}&v=0.35.8", server.room_url("r"), token("py"));
    let (mut client, connected) = RawClient::connect(&url, None).await;
    assert_eq!(connected["attributes"]["name"], "py");
    let (_, acked) = upload_by_hand(&mut client, "a.txt").await;
    assert_eq!(acked, [true, true, true]);

    // TypeScript (0.35.8 and 0.39.9): token in the query, no v; chunks acknowledged too.
    let url = format!("{}?token={}", server.room_url("r"), token("ts"));
    let (mut client, _) = RawClient::connect(&url, None).await;
    let (_, acked) = upload_by_hand(&mut client, "b.txt").await;
    assert_eq!(acked, [true, true, true]);
}

#[tokio::test]
async fn a_0_56_client_gets_no_chunk_acknowledgements() {
    let server = start().await;
    // Python 0.56: the token in the Authorization header, v=0.56.0 in the query.
    let url = format!("{}?v=0.56.0", server.room_url("r"));
    let (mut client, connected) = RawClient::connect(&url, Some(&token("py56"))).await;
    assert_eq!(connected["attributes"]["name"], "py56");
    let (seen, acked) = upload_by_hand(&mut client, "a.txt").await;
    assert_eq!(acked, [false, false, false], "{seen:?}");
}

#[tokio::test]
async fn bad_requests_get_typed_errors_and_the_connection_stays() {
    let server = start().await;
    let (mut client, _) =
        RawClient::connect(&format!("{}?v=0.56.0", server.room_url("r")), None).await;
    // Not a packed message.
    for packet in encode_message(7, "room.invoke_tool", b"\x00\x00") {
        client.ws.send(Ws::Binary(packet)).await.expect("sent");
    }
    let reply = client.recv().await;
    assert_eq!(
        (reply.0, reply.2["type"].clone(), reply.2["code"].clone()),
        (7, json!("error"), json!(1002))
    );
    // Unknown toolkit, unknown tool, wrong argument types.
    client
        .send(
            8,
            "room.invoke_tool",
            json!({"toolkit": "nope", "tool": "x", "arguments": {"type": "empty"}}),
            &[],
        )
        .await;
    let reply = client.recv().await;
    assert_eq!((reply.0, reply.2["code"].clone()), (8, json!(1003)));
    client.send(9, "room.invoke_tool", json!({"toolkit": "storage", "tool": "exists", "arguments": {"type": "json", "json": {"path": 3}}}), &[]).await;
    let reply = client.recv().await;
    assert_eq!((reply.0, reply.2["code"].clone()), (9, json!(1002)));
    client.send(10, "room.invoke_tool", json!({"toolkit": "storage", "tool": "exists", "arguments": {"type": "json", "json": {"path": "../etc"}}}), &[]).await;
    let reply = client.recv().await;
    assert_eq!((reply.0, reply.2["code"].clone()), (10, json!(3004)));
    // Still served.
    client
        .send(
            11,
            "room.invoke_tool",
            json!({"toolkit": "queues", "tool": "list", "arguments": {"type": "json", "json": {}}}),
            &[],
        )
        .await;
    let reply = client.recv().await;
    assert_eq!((reply.0, reply.2["type"].clone()), (11, json!("json")));
}

#[tokio::test]
async fn broken_framing_closes_with_a_protocol_error() {
    let server = start().await;
    let (mut client, _) = RawClient::connect(&server.room_url("r"), None).await;
    // A data packet with no header before it.
    let mut stray = 5u64.to_be_bytes().to_vec();
    stray.extend_from_slice(&1u32.to_be_bytes());
    stray.extend_from_slice(b"data");
    client
        .ws
        .send(Ws::Binary(stray.into()))
        .await
        .expect("sent");
    assert_eq!(client.closed().await, Some(CloseCode::Protocol));

    let (mut client, _) = RawClient::connect(&server.room_url("r"), None).await;
    client
        .ws
        .send(Ws::Text("hello".into()))
        .await
        .expect("sent");
    assert_eq!(client.closed().await, Some(CloseCode::Unsupported));
}

#[tokio::test]
async fn upgrades_outside_rooms_are_refused() {
    let server = start().await;
    for url in [
        format!("{}/elsewhere", server.url()),
        format!("{}/rooms/..", server.url()),
        format!("{}/rooms/a%2Fb", server.url()),
    ] {
        let refused = within("connect", tokio_tungstenite::connect_async(url.as_str())).await;
        let text = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains("404"), "{url}: {text}");
    }
}

#[tokio::test]
async fn shutdown_closes_connections_with_going_away() {
    let server = start().await;
    let (mut client, _) = RawClient::connect(&server.room_url("r"), None).await;
    within("shutdown", server.shutdown()).await;
    assert_eq!(client.closed().await, Some(CloseCode::Away));
}

#[tokio::test]
async fn a_participant_that_stops_reading_is_dropped_and_the_others_go_on() {
    let mut options = devroom::DevRoomOptions::default();
    options.outbox_len = 32;
    options.idle_timeout = std::time::Duration::from_secs(2);
    let server = start_with(options).await;
    // The reader that stops: enables messaging, then never reads again.
    let url = format!("{}?v=0.56.0", server.room_url("r"));
    let (mut stalled, connected) = RawClient::connect(&url, None).await;
    let stalled_id = connected["participantId"]
        .as_str()
        .expect("an id")
        .to_string();
    stalled.send(1, "room.invoke_tool", json!({"toolkit": "messaging", "tool": "enable", "arguments": {"type": "json", "json": {}}}), &[]).await;
    stalled
        .recv_until(|m| m.1 == "__response__" && m.0 == 1)
        .await;

    let (sender, mut events) = join(&server, "r", "sender").await;
    within("enable", sender.messaging().enable())
        .await
        .expect("enable");
    let body = json!({"pad": "x".repeat(16 * 1024)});
    let mut sent = 0;
    let mut dropped = false;
    // Kernel buffers take a few MB first; then the outbox fills and the reader is dropped.
    while sent < 5000 && !dropped {
        within(
            "broadcast",
            sender.messaging().broadcast("load", body.clone()),
        )
        .await
        .expect("broadcast");
        sent += 1;
        while let Ok(Some(event)) =
            tokio::time::timeout(std::time::Duration::ZERO, events.next()).await
        {
            if let meshagent_room::RoomEvent::MessagingParticipantDisabled(p) = event {
                dropped = p.message.id == stalled_id;
            }
        }
    }
    if !dropped {
        let gone = next_event(&mut events, "participant.disabled", |e| match e {
            meshagent_room::RoomEvent::MessagingParticipantDisabled(p) => Some(p.message.id),
            _ => None,
        });
        assert_eq!(gone.await, stalled_id, "after {sent} broadcasts");
    }
    eprintln!("the stalled reader was dropped after {sent} broadcasts of 16 KiB");
    // The room still serves the others.
    within("send", sender.queues().send("after", json!({})))
        .await
        .expect("served");
    drop(stalled);
}

#[tokio::test]
async fn uploads_over_the_limit_are_refused() {
    let mut options = devroom::DevRoomOptions::default();
    options.max_upload_size = 1000;
    let server = start_with(options).await;
    let (room, _events) = join(&server, "r", "alice").await;
    let refused = within("upload", room.storage().upload("big.bin", vec![0u8; 5000])).await;
    assert_eq!(
        refused.err().and_then(|e| e.error_code()),
        Some(meshagent_room::ErrorCode::InvalidRequest)
    );
    assert!(!within("exists", room.storage().exists("big.bin"))
        .await
        .expect("exists"));
    within(
        "upload",
        room.storage().upload("small.bin", vec![0u8; 1000]),
    )
    .await
    .expect("at the limit");
}

#[tokio::test]
async fn connections_over_the_limit_are_closed() {
    let mut options = devroom::DevRoomOptions::default();
    options.max_connections = 1;
    let server = start_with(options).await;
    let (_first, _) = RawClient::connect(&server.room_url("r"), None).await;
    let second = within(
        "connect",
        tokio_tungstenite::connect_async(server.room_url("r")),
    )
    .await;
    assert!(second.is_err(), "the second connection is closed");
}
