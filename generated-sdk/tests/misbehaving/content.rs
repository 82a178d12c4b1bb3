//! Content: wrong JSON types, huge values, deep nesting, unknown content and event types.

use meshagent_room::wire::framing::DATA_PACKET_PAYLOAD;
use meshagent_room::Error;
use serde_json::json;

use crate::framing::{answer_true, during_call, After, MAX_MESSAGE, SMALL};
use crate::harness::{target, Scenario, MIB};
use crate::scenario;
use crate::server::*;

/// The message limit of the huge-value scenario: the 50 MB string is within it.
const HUGE_LIMIT: usize = 64 * MIB;
const HUGE_STRING: usize = 50_000_000;
/// Nesting depth of the deep-JSON scenarios.
const DEPTH: usize = 100_000;

pub fn scenarios() -> Vec<Scenario> {
    vec![
        scenario!("content/number-where-bool-expected", SMALL, number_for_bool),
        scenario!("content/null-json", SMALL, null_json),
        scenario!(
            "content/50mb-string-where-bool-expected",
            target(HUGE_LIMIT),
            huge_string
        ),
        scenario!("content/deep-nesting-100k-in-reply", SMALL, deep_reply),
        scenario!("content/deep-nesting-100k-in-event", SMALL, deep_event),
        scenario!("content/number-out-of-range", SMALL, out_of_range),
        scenario!("content/unknown-content-type", SMALL, unknown_content),
        scenario!(
            "content/binary-content-for-json-tool",
            SMALL,
            binary_for_json
        ),
        scenario!("content/unknown-event-type", SMALL, unknown_event),
        scenario!(
            "content/event-with-wrong-field-types",
            SMALL,
            event_wrong_types
        ),
    ]
}

fn unexpected(r: &meshagent_room::Result<bool>) -> bool {
    matches!(r, Err(Error::UnexpectedResponse { tool, .. }) if tool == "storage.exists")
}

async fn number_for_bool() -> Result<(), String> {
    during_call(
        MAX_MESSAGE,
        |p, a| reply_then_serve(p, a, json!({"type": "json", "json": {"exists": 1}})),
        "UnexpectedResponse(storage.exists)",
        unexpected,
        After::Serves,
    )
    .await
}

async fn null_json() -> Result<(), String> {
    during_call(
        MAX_MESSAGE,
        |p, a| reply_then_serve(p, a, json!({"type": "json", "json": null})),
        "UnexpectedResponse(storage.exists)",
        unexpected,
        After::Serves,
    )
    .await
}

async fn huge_string() -> Result<(), String> {
    // `{"type":"json","json":{"exists":"xxxx...50 MB...xxxx"}}`, generated packet by packet
    // on the server so that only the client's copies count.
    during_call(
        HUGE_LIMIT,
        |mut peer, a| async move {
            let head = br#"{"type":"json","json":{"exists":""#;
            let tail = br#""}}"#;
            let json_len = head.len() + HUGE_STRING + tail.len();
            let total = 8 + json_len;
            let byte = |i: usize| -> u8 {
                if i < 8 {
                    (json_len as u64).to_be_bytes()[i]
                } else if i - 8 < head.len() {
                    head[i - 8]
                } else if i - 8 - head.len() < HUGE_STRING {
                    b'x'
                } else {
                    tail[i - 8 - head.len() - HUGE_STRING]
                }
            };
            let count = total.div_ceil(DATA_PACKET_PAYLOAD);
            let mut raw = frame(true, 0, 2, None, &header_packet(a, count as u32, RESPONSE));
            for index in 1..=count {
                let start = (index - 1) * DATA_PACKET_PAYLOAD;
                let end = (start + DATA_PACKET_PAYLOAD).min(total);
                let payload: Vec<u8> = (start..end).map(byte).collect();
                raw.extend(frame(
                    true,
                    0,
                    2,
                    None,
                    &data_packet(a, index as u32, &payload),
                ));
                if raw.len() > 1 << 20 || index == count {
                    if !write_raw(&mut peer, &raw).await {
                        return;
                    }
                    raw.clear();
                }
            }
            answer_calls(peer).await;
        },
        "UnexpectedResponse(storage.exists) with a bounded detail",
        |r| {
            unexpected(r)
                && matches!(r, Err(e) if e.to_string().len() < 2000 && format!("{e:?}").len() < 4000)
        },
        After::Serves,
    )
    .await
}

fn nested(depth: usize) -> String {
    "[".repeat(depth)
}

async fn deep_reply() -> Result<(), String> {
    during_call(
        MAX_MESSAGE.max(DEPTH * 2),
        |p, a| {
            let json = format!(r#"{{"type":"json","json":{}"#, nested(DEPTH));
            send_then_serve(p, a, raw_packed(&json))
        },
        "Pack(HeaderNotJson) (recursion limit)",
        |r| {
            matches!(
                r,
                Err(Error::Pack(
                    meshagent_room::wire::packing::PackError::HeaderNotJson(_)
                ))
            )
        },
        After::Serves,
    )
    .await
}

async fn send_then_serve(mut peer: WsPeer, a: u64, data: Vec<u8>) {
    send_reply_data(&mut peer, a, &data).await;
    answer_calls(peer).await;
}

async fn deep_event() -> Result<(), String> {
    during_call(
        MAX_MESSAGE.max(DEPTH * 2),
        |mut p, a| async move {
            let json = format!(r#"{{"path":{}"#, nested(DEPTH));
            p.send_raw_message(5, "storage.file.updated", &raw_packed(&json))
                .await;
            let deep_object = format!(
                r#"{{"path":"a","participant_id":"p","x":{}"#,
                "{\"a\":".repeat(DEPTH)
            );
            p.send_raw_message(6, "mystery.event", &raw_packed(&deep_object))
                .await;
            reply_then_serve(p, a, exists(true)).await;
        },
        "Ok(true) (the event dropped, no stack overflow)",
        answer_true,
        After::Serves,
    )
    .await
}

async fn out_of_range() -> Result<(), String> {
    during_call(
        MAX_MESSAGE,
        |p, a| {
            send_then_serve(
                p,
                a,
                raw_packed(r#"{"type":"json","json":{"exists":1e400}}"#),
            )
        },
        "Pack(HeaderNotJson)",
        |r| matches!(r, Err(Error::Pack(_))),
        After::Serves,
    )
    .await
}

async fn unknown_content() -> Result<(), String> {
    during_call(
        MAX_MESSAGE,
        |p, a| reply_then_serve(p, a, json!({"type": "hologram", "json": {"exists": true}})),
        "Content",
        |r| matches!(r, Err(Error::Content(_))),
        After::Serves,
    )
    .await
}

async fn binary_for_json() -> Result<(), String> {
    during_call(
        MAX_MESSAGE,
        |mut p, a| async move {
            let body = packed(&json!({"type": "binary", "headers": {}}), b"\x00\x01\x02");
            send_reply_data(&mut p, a, &body).await;
            answer_calls(p).await;
        },
        "UnexpectedResponse(storage.exists)",
        unexpected,
        After::Serves,
    )
    .await
}

async fn unknown_event() -> Result<(), String> {
    during_call(
        MAX_MESSAGE,
        |mut p, a| async move {
            p.push("mystery.event", json!({"anything": [1, 2, 3]}))
                .await;
            reply_then_serve(p, a, exists(true)).await;
        },
        "Ok(true)",
        answer_true,
        After::Serves,
    )
    .await
}

async fn event_wrong_types() -> Result<(), String> {
    during_call(
        MAX_MESSAGE,
        |mut p, a| async move {
            p.push(
                "storage.file.deleted",
                json!({"path": 5, "participant_id": ["p"]}),
            )
            .await;
            p.push("participant.attributes", json!({"participantId": 7}))
                .await;
            reply_then_serve(p, a, exists(true)).await;
        },
        "Ok(true)",
        answer_true,
        After::Serves,
    )
    .await
}
