//! Property test of event decoding through the client: the scripted room pushes packets of
//! every known packet type (and some unknown ones) with arbitrary headers, tails and
//! bodies. The client must never panic, must keep delivering events, and must keep
//! serving calls afterwards.

mod support;

use std::time::Duration;

use futures::StreamExt;
use meshagent_room::wire::packing::pack;
use meshagent_room::Toolkit;
use meshagent_room::{RoomEvent, ToolCallStream};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use support::{connect_memory, within};

/// Stands for the open stream's `tool_call_id`, replaced when the packet is sent.
const STREAM_ID: &str = "$stream";

/// Every packet type the server may push, the client's own packet types (a confused
/// server might echo them), and unknown ones.
const PACKET_TYPES: &[&str] = &[
    "room_ready",
    "connected",
    "__response__",
    "room.tool_call_response_chunk",
    "room.tool_call.greeter",
    "room.tool_call.missing",
    "room.tool_call.",
    "room.status",
    "storage.file.updated",
    "storage.file.deleted",
    "room.invoke_tool",
    "room.tool_call_request_chunk",
    "room.tool_call_response",
    "set_attributes",
    "some.future.packet",
    "",
];

/// Keys the runtime or the generated events look at.
const KEYS: &[&str] = &[
    "type",
    "room_name",
    "room_url",
    "session_id",
    "participantId",
    "attributes",
    "path",
    "participant_id",
    "status",
    "tool_call_id",
    "chunk",
    "name",
    "arguments",
    "json",
    "text",
    "method",
    "status_code",
    "__meshagent__",
];

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-100i32..100).prop_map(|n| Value::from(f64::from(n) / 3.0)),
        prop_oneof![
            Just("init"),
            Just("hello"),
            Just("boom"),
            Just("json"),
            Just("text"),
            Just("control"),
            Just("open"),
            Just("close"),
            Just("error"),
            Just(STREAM_ID),
        ]
        .prop_map(Value::from),
        ".{0,10}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            proptest::collection::vec((proptest::sample::select(KEYS), inner), 0..4).prop_map(
                |kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            ),
        ]
    })
}

/// A packet body: a packed header (usually), or bytes that do not unpack.
#[derive(Debug, Clone)]
enum Body {
    Packed(Map<String, Value>, Vec<u8>),
    Raw(Vec<u8>),
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        6 => (
            proptest::collection::vec((proptest::sample::select(KEYS), value()), 0..6),
            proptest::collection::vec(any::<u8>(), 0..8),
        )
            .prop_map(|(kv, tail)| {
                Body::Packed(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect(), tail)
            }),
        1 => proptest::collection::vec(any::<u8>(), 0..24).prop_map(Body::Raw),
    ]
}

fn packets() -> impl Strategy<Value = Vec<(&'static str, u64, Body)>> {
    proptest::collection::vec(
        (
            proptest::sample::select(PACKET_TYPES),
            prop_oneof![0u64..4, any::<u64>()],
            body(),
        ),
        1..12,
    )
}

/// Replaces [`STREAM_ID`] anywhere in `v` with the real id.
fn substitute(v: &mut Value, id: &str) {
    match v {
        Value::String(s) if s == STREAM_ID => *s = id.to_string(),
        Value::Array(a) => a.iter_mut().for_each(|x| substitute(x, id)),
        Value::Object(m) => m.values_mut().for_each(|x| substitute(x, id)),
        _ => {}
    }
}

async fn scenario(packets: Vec<(&'static str, u64, Body)>) -> Result<(), TestCaseError> {
    let (room, mut events, mut peer) = connect_memory().await;

    // A hosted toolkit (so `room.tool_call.greeter` reaches real handlers) ...
    let toolkit = Toolkit::new("greeter", "Greeter", "Says hello.")
        .json_tool("hello", "Greets.", |args: Value| async move {
            Ok::<_, String>(json!({"greeting": args.get("name").cloned()}))
        })
        .json_tool("boom", "Panics.", |_args: Value| async move {
            if true {
                panic!("handler bug");
            }
            Ok::<Value, String>(Value::Null)
        });
    let host = tokio::spawn({
        let room = room.clone();
        async move { room.host_toolkit(toolkit, false).await }
    });
    let (id, kind, ..) = peer.recv().await;
    prop_assert_eq!(kind, "room.register_toolkit");
    peer.reply(id, json!({"type": "json", "json": {"id": "reg-1"}}))
        .await;
    let hosted = within("registration", host)
        .await
        .expect("task")
        .expect("registered");

    // ... and an open stream (so response chunks can reach it).
    let open = tokio::spawn({
        let room = room.clone();
        async move { room.open_stream("demo", "stream").await }
    });
    let (id, _, header, _) = peer.recv_invoke("demo", "stream").await;
    let stream_id = header["tool_call_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    peer.reply(id, json!({"type": "control", "method": "open"}))
        .await;
    let mut stream: ToolCallStream = within("the stream to open", open)
        .await
        .expect("task")
        .expect("opened");

    for (packet_type, id, body) in packets {
        let data = match body {
            Body::Packed(header, tail) => {
                let mut header = Value::Object(header);
                substitute(&mut header, &stream_id);
                pack(&header, &tail).expect("objects pack")
            }
            Body::Raw(bytes) => bytes,
        };
        peer.send_raw_message(id, packet_type, &data).await;
    }

    // Everything above has been handled once this marker comes out of the event stream.
    peer.push("test.marker", json!({})).await;
    loop {
        match within("the marker event", events.next()).await {
            Some(RoomEvent::Unknown(p)) if p.packet_type == "test.marker" => break,
            Some(_) => {}
            None => return Err(TestCaseError::fail("the event stream ended")),
        }
    }
    prop_assert!(!room.is_closed());

    // The client keeps serving calls ...
    let call = tokio::spawn({
        let room = room.clone();
        async move { room.storage().exists("after").await }
    });
    let (id, ..) = peer.recv_invoke("storage", "exists").await;
    peer.reply(id, json!({"type": "json", "json": {"exists": true}}))
        .await;
    let exists = within("the call after the noise", call)
        .await
        .expect("task");
    prop_assert!(matches!(exists, Ok(true)), "{:?}", exists);

    // ... and delivering events.
    peer.push(
        "storage.file.deleted",
        json!({"path": "a", "participant_id": "p"}),
    )
    .await;
    loop {
        match within("a valid event", events.next()).await {
            Some(RoomEvent::StorageFileDeleted(e)) if e.path == "a" => break,
            Some(_) => {}
            None => return Err(TestCaseError::fail("the event stream ended")),
        }
    }
    // Chunks that reached the stream are readable without a panic.
    while let Ok(Some(_)) = stream.recv_timeout(Duration::from_millis(1)).await {}
    drop(stream);
    drop(hosted);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_pushed_packets_never_break_the_client(packets in packets()) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(scenario(packets))?;
    }
}
