//! Pushed packets and events: a real `RoomClient` over the in-memory transport, with a
//! scripted room whose messages after the handshake come from the input.
//!
//! Input: a flags byte (bit 0: host the toolkit `echo`; bit 1: open a stream, whose
//! `tool_call_id` replaces `$s` in the headers; bit 2: register a secrets handler), then
//! records, each a tag byte (`tag % 8`) and its fields:
//!
//! - 0–3: a packed message of a routed packet type (`TYPES`), a small or fuzzed id, a
//!   header object built from the input (keys and strings the client looks at), a tail;
//! - 4: the same with the header JSON text taken raw from the input (may be invalid);
//! - 5: a message whose body is raw bytes (usually not a packed message);
//! - 6: one raw packet (`[u16 len % 1100][bytes]`), which may leave a message half-sent;
//! - 7: a packed message of a packet type taken from the input.
//!
//! `tag & 8` lets the client run before the next record. The room answers every request
//! the client sends (`empty`, a registration id, a stream's `control/open`).
//!
//! Checks: nothing panics (also in the client's tasks: libFuzzer aborts on any panic);
//! everything the client sends is well framed and packed; the event stream yields exactly
//! the events the messages account for, in order (unknown packets intact, known types
//! decoded or skipped, nothing from routed types); every `room.tool_call.*` push gets one
//! `room.tool_call_response` with its id; and at the end either the client still serves
//! (a marker event arrives, a final call gets its reply) and was not dismissed, or it was
//! dismissed and is closed cleanly (the event stream ends, calls fail with
//! `Error::Closed`). Each input runs on its own current-thread runtime with a paused
//! clock under a 600 s (virtual) timeout: a hang fails at once instead of stalling.
#![no_main]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use futures::channel::mpsc;
use futures::future::BoxFuture;
use futures::stream::SplitSink;
use futures::{FutureExt, SinkExt, StreamExt};
use libfuzzer_sys::fuzz_target;
use meshagent_room::secrets::{OauthTokenRequested, SecretRequested};
use meshagent_room::wire::framing::{encode_message, Message, Reassembler};
use meshagent_room::wire::packing::{pack, unpack};
use meshagent_room::{
    ConnectOptions, Content, Error, MemoryTransport, RoomClient, RoomEvent, SecretsHandler, Toolkit,
};
use serde_json::{json, Map, Value};

/// Packet types the client routes (handshake, replies, stream chunks, hosted calls,
/// events), its own packet types echoed back, and unknown ones.
const TYPES: &[&str] = &[
    "room.status",
    "messaging.send",
    "developer.log",
    "storage.file.updated",
    "storage.file.deleted",
    "storage.file.moved",
    "secrets.request_oauth_token",
    "secrets.request_secret",
    "room.tool_call.echo",
    "room.tool_call.missing",
    "room.tool_call.",
    "room.tool_call_response_chunk",
    "__response__",
    "connected",
    "room_ready",
    "room.invoke_tool",
    "room.tool_call_response",
    "set_attributes",
    "some.future.packet",
    "",
];

/// The packet types that decode to typed events (every toolkit feature is on).
const KNOWN_EVENTS: &[&str] = &[
    "room.status",
    "messaging.send",
    "developer.log",
    "storage.file.updated",
    "storage.file.deleted",
    "storage.file.moved",
    "secrets.request_oauth_token",
    "secrets.request_secret",
];

/// Header keys the runtime or the generated events look at.
const KEYS: &[&str] = &[
    "type",
    "room_name",
    "room_url",
    "session_id",
    "participantId",
    "attributes",
    "path",
    "participant_id",
    "source_path",
    "destination_path",
    "status",
    "tool_call_id",
    "chunk",
    "name",
    "arguments",
    "json",
    "text",
    "method",
    "status_code",
    "from_participant_id",
    "message",
    "participants",
    "id",
    "role",
    "reason",
    "data",
    "request_id",
    "request",
    "url",
    "redirect_uri",
    "timeout",
    "challenge",
    "headers",
    "code",
    "__meshagent__",
];

/// String values with a meaning somewhere (`$s` is the open stream's id).
const STRINGS: &[&str] = &[
    "init",
    "$s",
    "messaging.enabled",
    "participant.enabled",
    "participant.disabled",
    "participant.attributes",
    "dismiss",
    "chat",
    "json",
    "text",
    "file",
    "binary",
    "empty",
    "error",
    "link",
    "raw",
    "control",
    "open",
    "close",
    "echo",
    "any",
    "p-1",
    "",
];

/// The marker header that ends the fuzzed messages.
const MARKER: &str = "fuzz.marker";
const MARKER_VALUE: u64 = 0x5eed_cafe;

/// The input, consumed front to back; reads past the end give zeros.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[usize::from(self.byte()) % from.len()]
    }

    fn id(&mut self) -> u64 {
        match self.byte() {
            b @ 0..=0xef => u64::from(b % 16),
            _ => {
                let mut id = [0; 8];
                let b = self.bytes(8);
                id[..b.len()].copy_from_slice(b);
                u64::from_be_bytes(id)
            }
        }
    }

    fn value(&mut self, depth: u8) -> Value {
        let b = self.byte();
        match b % 9 {
            0 => Value::Null,
            1 => Value::Bool(b & 0x10 != 0),
            2 => Value::from(i64::from(self.byte() as i8)),
            3 => Value::from(f64::from(self.byte()) / 3.0),
            4 | 5 => Value::from(self.pick(STRINGS)),
            6 => {
                let n = usize::from(self.byte() % 16);
                Value::from(String::from_utf8_lossy(self.bytes(n)).into_owned())
            }
            7 if depth < 3 => {
                let n = self.byte() % 4;
                Value::Array((0..n).map(|_| self.value(depth + 1)).collect())
            }
            8 if depth < 3 => Value::Object(self.object(depth + 1)),
            _ => Value::Null,
        }
    }

    fn object(&mut self, depth: u8) -> Map<String, Value> {
        let n = self.byte() % 7;
        (0..n)
            .map(|_| (self.pick(KEYS).to_string(), self.value(depth)))
            .collect()
    }
}

/// Replaces every `$s` in `v` with the stream id.
fn substitute(v: &mut Value, id: &str) {
    match v {
        Value::String(s) if s == "$s" => *s = id.to_string(),
        Value::Array(a) => a.iter_mut().for_each(|x| substitute(x, id)),
        Value::Object(m) => m.values_mut().for_each(|x| substitute(x, id)),
        _ => {}
    }
}

/// What the room sends: whole messages, or single raw packets.
type Command = Vec<Bytes>;

/// An event the client may (or must) push for a message it was sent.
#[derive(Debug)]
struct Expected {
    packet_type: String,
    /// For a packet of unknown type: the header and tail the `Unknown` event must carry
    /// (such a packet always becomes an event; one that does not unpack is not listed).
    unknown: Option<(Map<String, Value>, Bytes)>,
}

/// What the room side has seen, shared with the driver.
#[derive(Default)]
struct Log {
    /// Events the messages sent so far account for, in order.
    expected: VecDeque<Expected>,
    /// Ids of the `room.tool_call.*` pushes sent, with their counts.
    tool_calls: HashMap<u64, usize>,
    /// Ids of the `room.tool_call_response`s the client sent, with their counts.
    tool_call_responses: HashMap<u64, usize>,
}

type Shared = Arc<Mutex<Log>>;

fn lock(log: &Shared) -> MutexGuard<'_, Log> {
    log.lock().unwrap_or_else(|p| p.into_inner())
}

/// Records what the client will make of `m` (the room's mirror of the client's reassembly).
fn classify(m: &Message, log: &Shared) {
    let ty = m.message_type.as_str();
    if matches!(
        ty,
        "__response__" | "room_ready" | "connected" | "room.tool_call_response_chunk"
    ) {
        return;
    }
    let mut log = lock(log);
    if ty.starts_with("room.tool_call.") {
        *log.tool_calls.entry(m.id).or_default() += 1;
        return;
    }
    let unknown = if KNOWN_EVENTS.contains(&ty) {
        None
    } else {
        match unpack(m.data.clone()) {
            Ok(p) => Some((p.header, p.tail)),
            // Skipped by the client: not even a candidate for an event of its type.
            Err(_) => return,
        }
    };
    log.expected.push_back(Expected {
        packet_type: ty.to_string(),
        unknown,
    });
}

fn reply(id: u64, content: Value) -> Command {
    let body = pack(&content, &[]).expect("an object packs");
    encode_message(id, "__response__", &body)
}

/// The room's answer to a message from the client, if any.
fn answer(m: Message, log: &Shared) -> Option<Command> {
    let packed = unpack(m.data).expect("the client packs what it sends");
    let h = &packed.header;
    match m.message_type.as_str() {
        "room.tool_call_response" => {
            assert!(
                h.get("type").is_some_and(Value::is_string),
                "a tool call response is a content: {h:?}"
            );
            *lock(log).tool_call_responses.entry(m.id).or_default() += 1;
            None
        }
        "set_attributes" => None,
        "room.register_toolkit" => Some(reply(
            m.id,
            json!({"type": "json", "json": {"id": "reg-1"}}),
        )),
        "room.invoke_tool" => {
            let args = h.get("arguments").cloned().unwrap_or_default();
            if h.get("toolkit") == Some(&json!("final")) {
                let k = args["json"]["k"].clone();
                Some(reply(m.id, json!({"type": "json", "json": {"ok": k}})))
            } else if args == json!({"type": "control", "method": "open"}) {
                Some(reply(m.id, json!({"type": "control", "method": "open"})))
            } else {
                Some(reply(m.id, json!({"type": "empty"})))
            }
        }
        _ => Some(reply(m.id, json!({"type": "empty"}))),
    }
}

/// Sends `packets` to the client, recording what its reassembly will make of them.
async fn send(
    tx: &mut SplitSink<MemoryTransport, Bytes>,
    packets: Command,
    mirror: &mut Reassembler,
    log: &Shared,
) {
    for p in packets {
        if let Ok(Some(m)) = mirror.push(p.clone()) {
            classify(&m, log);
        }
        // An error only means the client has gone.
        let _ = tx.send(p).await;
    }
}

/// The room side: sends the driver's commands, answers the client, and mirrors the
/// client's reassembly of everything it sends.
async fn room(io: MemoryTransport, mut commands: mpsc::UnboundedReceiver<Command>, log: Shared) {
    let (mut tx, mut rx) = io.split();
    let mut from_client = Reassembler::default();
    // Same limits as the client's (`ConnectOptions::default()`).
    let mut mirror = Reassembler::default();
    loop {
        tokio::select! {
            biased;
            packet = rx.next() => match packet {
                Some(Ok(p)) => {
                    let m = from_client.push(p).expect("the client frames what it sends");
                    if let Some(answer) = m.and_then(|m| answer(m, &log)) {
                        send(&mut tx, answer, &mut mirror, &log).await;
                    }
                }
                Some(Err(e)) => panic!("the in-memory transport failed: {e}"),
                None => break,
            },
            command = commands.next() => match command {
                Some(packets) => send(&mut tx, packets, &mut mirror, &log).await,
                None => break,
            },
        }
    }
}

/// Answers secret requests from the input's choice.
struct Vault;

impl SecretsHandler for Vault {
    fn oauth_token(&self, r: OauthTokenRequested) -> BoxFuture<'static, Result<String, String>> {
        let answer = if r.request_id.len().is_multiple_of(2) {
            Ok(r.request_id)
        } else {
            Err("refused".to_string())
        };
        Box::pin(async move { answer })
    }

    fn secret(&self, r: SecretRequested) -> BoxFuture<'static, Result<Bytes, String>> {
        let answer = if r.request_id.len().is_multiple_of(2) {
            Ok(Bytes::from(r.request_id))
        } else {
            Err("refused".to_string())
        };
        Box::pin(async move { answer })
    }
}

fn echo_toolkit() -> Toolkit {
    Toolkit::new("echo", "Echo", "Answers what it gets.")
        .tool("any", "Echoes any content.", |c: Content| async move {
            Ok::<_, String>(c)
        })
        .json_tool("json", "Echoes json.", |v: Value| async move {
            Ok::<_, String>(json!({"echo": v}))
        })
}

/// Checks one event against what the sent messages account for.
fn check_event(event: &RoomEvent, log: &Shared) {
    let _ = format!("{event:?}");
    assert_eq!(&event.clone(), event);
    let ty = event.packet_type();
    if let RoomEvent::Unknown(p) = event {
        assert!(
            !KNOWN_EVENTS.contains(&p.packet_type.as_str()),
            "a known packet as unknown: {p:?}"
        );
    }
    let mut log = lock(log);
    loop {
        let e = log
            .expected
            .pop_front()
            .unwrap_or_else(|| panic!("an event no message accounts for: {event:?}"));
        if e.packet_type == ty {
            if let Some((header, tail)) = e.unknown {
                let RoomEvent::Unknown(p) = event else {
                    panic!("{ty}: expected an unknown packet, got {event:?}")
                };
                assert_eq!((&p.header, &p.tail), (&header, &tail), "{ty}: altered");
            }
            return;
        }
        assert!(
            e.unknown.is_none(),
            "no event for a `{}` packet that unpacks (got {event:?})",
            e.packet_type
        );
    }
}

fn dismissed(event: &RoomEvent) -> bool {
    matches!(event, RoomEvent::MessagingDismissed(_))
}

async fn scenario(data: &[u8]) {
    let mut input = Input(data);
    let flags = input.byte();

    let (client_io, room_io) = meshagent_room::memory_pair();
    let (commands, rx) = mpsc::unbounded::<Command>();
    let log = Shared::default();
    let room_task = tokio::spawn(room(room_io, rx, log.clone()));
    let push = |ty: &str, id: u64, body: &[u8]| {
        let _ = commands.unbounded_send(encode_message(id, ty, body));
    };
    let header = |v: Value| pack(&v, &[]).expect("an object packs");
    push(
        "room_ready",
        1,
        &header(json!({"room_name": "r", "room_url": "ws://x/rooms/r", "session_id": "s"})),
    );
    push(
        "connected",
        2,
        &header(json!({"type": "init", "participantId": "p-1", "attributes": {}})),
    );
    let (room, mut events) = RoomClient::with_transport(client_io, ConnectOptions::default())
        .await
        .expect("the handshake completes");

    let hosted = match flags & 1 {
        0 => None,
        _ => Some(
            room.host_toolkit(echo_toolkit(), false)
                .await
                .expect("registered"),
        ),
    };
    let mut stream = match flags & 2 {
        0 => None,
        _ => Some(room.open_stream("demo", "stream").await.expect("opened")),
    };
    if flags & 4 != 0 {
        room.set_secrets_handler(Vault);
    }
    let stream_id = stream
        .as_ref()
        .map_or("no-stream", |s| s.tool_call_id())
        .to_string();

    while !input.0.is_empty() {
        let tag = input.byte();
        match tag % 8 {
            kind @ (0..=4 | 7) => {
                let ty = if kind == 7 {
                    let n = usize::from(input.byte() % 24);
                    String::from_utf8_lossy(input.bytes(n)).into_owned()
                } else {
                    input.pick(TYPES).to_string()
                };
                let id = input.id();
                let head = if kind == 4 {
                    let n = usize::from(input.byte());
                    let text = String::from_utf8_lossy(input.bytes(n)).replace("$s", &stream_id);
                    let mut head = (text.len() as u64).to_be_bytes().to_vec();
                    head.extend_from_slice(text.as_bytes());
                    head
                } else {
                    let mut v = Value::Object(input.object(0));
                    substitute(&mut v, &stream_id);
                    header(v)
                };
                let n = usize::from(input.byte() % 32);
                let mut body = head;
                body.extend_from_slice(input.bytes(n));
                push(&ty, id, &body);
            }
            5 => {
                let ty = input.pick(TYPES);
                let id = input.id();
                let n = usize::from(input.byte());
                push(ty, id, input.bytes(n));
            }
            _ => {
                let n = usize::from(u16::from_be_bytes([input.byte(), input.byte()])) % 1100;
                let packet = Bytes::copy_from_slice(input.bytes(n));
                let _ = commands.unbounded_send(vec![packet]);
            }
        }
        if tag & 8 != 0 {
            tokio::task::yield_now().await;
        }
    }

    // Everything above has been handled once the marker comes out of the event stream.
    push(MARKER, 0, &header(json!({"marker": MARKER_VALUE})));
    let mut was_dismissed = false;
    let marked = loop {
        match events.next().await {
            Some(RoomEvent::Unknown(p))
                if p.packet_type == MARKER
                    && p.header.get("marker") == Some(&json!(MARKER_VALUE)) =>
            {
                check_event(&RoomEvent::Unknown(p), &log);
                break true;
            }
            Some(event) => {
                assert!(!was_dismissed, "an event after the dismissal: {event:?}");
                check_event(&event, &log);
                was_dismissed = dismissed(&event);
            }
            None => break false,
        }
    };

    if marked {
        // Still serving: not dismissed, not closed, calls answered, hosted calls answered.
        assert!(
            !was_dismissed && !room.is_closed(),
            "closed yet still delivering"
        );
        let got = room
            .invoke("final", "call", Content::Json(json!({"k": 7})))
            .await;
        assert!(
            matches!(&got, Ok(Content::Json(v)) if *v == json!({"ok": 7})),
            "the final call: {got:?}"
        );
        loop {
            {
                let log = lock(&log);
                if log
                    .tool_calls
                    .iter()
                    .all(|(id, n)| log.tool_call_responses.get(id).copied().unwrap_or(0) >= *n)
                {
                    assert_eq!(log.tool_calls, log.tool_call_responses, "extra responses");
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // Chunks that reached the stream are readable.
        if let Some(s) = stream.as_mut() {
            while let Some(Ok(Some(_))) = s.recv().now_or_never() {}
        }
    } else {
        // The event stream ended: only a dismissal closes the client.
        assert!(was_dismissed, "the event stream ended without a dismissal");
        assert!(room.is_closed(), "dismissed but not closed");
        let got = room
            .invoke("final", "call", Content::Json(json!({"k": 7})))
            .await;
        assert!(matches!(got, Err(Error::Closed { .. })), "{got:?}");
        assert!(
            room.subscribe().next().await.is_none(),
            "a new subscriber after close"
        );
    }
    let _ = room.local_participant();
    let _ = room.remote_participants();
    drop((stream, hosted, room, events));
    drop(commands);
    room_task.await.expect("the room side does not panic");
}

fuzz_target!(|data: &[u8]| {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime");
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(600), scenario(data))
            .await
            .expect("the scenario ends within 600 s (virtual): no hang");
    });
});
