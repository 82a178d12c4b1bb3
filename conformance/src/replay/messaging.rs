//! Messaging streams (0.56 `messaging.stream`), driven from a case: the initiator from its
//! arguments and `input` operations, the receiver from the replies the recording sent.

use base64::Engine;
use meshagent_room::{Error, MessagingStreamEvent, RoomClient};
use serde_json::{json, Map, Value};

use crate::case::{Case, Direction};

fn b64() -> &'static base64::engine::GeneralPurpose {
    &base64::engine::general_purpose::STANDARD
}

fn bad(what: &str) -> Error {
    Error::InvalidArguments(format!("messaging.stream case: {what}"))
}

fn attachment(v: Option<&Value>) -> Result<Option<bytes::Bytes>, Error> {
    match v.and_then(Value::as_str) {
        None | Some("") => Ok(None),
        Some(s) => b64()
            .decode(s)
            .map(|b| Some(b.into()))
            .map_err(|e| bad(&e.to_string())),
    }
}

/// Whether the case is an incoming messaging stream (the room offers one).
pub(super) fn is_incoming(case: &Case) -> bool {
    case.frames
        .iter()
        .any(|f| f.dir == Direction::Recv && f.packet_type == "room.tool_call.messaging")
}

/// Opens the stream, performs `send_message` / `close`, then reads every event:
/// `{stream_id, events: [{kind: message, from_participant_id, type, message, attachment}]}`.
pub(super) async fn initiate(room: &RoomClient, case: &Case) -> Result<Value, Error> {
    let args = &case.arguments;
    let text = |k: &str| args.get(k).and_then(Value::as_str).unwrap_or_default();
    let message = match args.get("message_json").and_then(Value::as_str) {
        Some(m) => serde_json::from_str(m).map_err(|e| bad(&e.to_string()))?,
        // The recorder sent this body when a case does not name one (py056-messaging-stream-refused).
        None => json!({"text": "bonjour \u{2713}", "n": 1}),
    };
    let attach = attachment(args.get("attachment_base64"))?;
    let mut stream = room
        .messaging()
        .stream(text("to_participant_id"), text("type"), message, attach)
        .await?;
    for op in &case.input {
        if let Some(m) = op.get("send_message") {
            let t = m.get("type").and_then(Value::as_str).unwrap_or_default();
            let body = m.get("message").cloned().unwrap_or_else(|| json!({}));
            stream
                .send_message(t, body, attachment(m.get("attachment"))?)
                .await?;
        } else if op.get("close").is_some() {
            stream.close().await?;
        } else {
            return Err(bad(&format!("unknown operation {op}")));
        }
    }
    let mut events = Vec::new();
    while let Some(event) = stream.next_event().await? {
        events.push(event_json(&event));
    }
    Ok(json!({"stream_id": stream.stream_id(), "events": events}))
}

fn event_json(event: &MessagingStreamEvent) -> Value {
    match event {
        MessagingStreamEvent::Message {
            from_participant_id,
            message_type,
            message,
            attachment,
        } => json!({
            "kind": "message",
            "from_participant_id": from_participant_id,
            "type": message_type,
            "message": message,
            "attachment": attachment.as_ref().map(|a| b64().encode(a)),
        }),
        MessagingStreamEvent::ClientDisconnected { participant_id } => {
            json!({"kind": "client_disconnected", "participant_id": participant_id})
        }
        MessagingStreamEvent::Closed { reason, message } => {
            json!({"kind": "closed", "reason": reason, "message": message})
        }
        other => json!({"kind": format!("{other:?}")}),
    }
}

/// Takes the offer, answers it as the recording did (an `error` reply rejects; otherwise
/// accept, send the recorded message chunks, close), and returns the offer as the event
/// `room.tool_call.messaging` with `{stream_id, from_participant_id, type, message}`.
pub(super) async fn incoming(
    room: &RoomClient,
    case: &Case,
) -> Result<Vec<(String, Value)>, String> {
    let mut offers = room
        .messaging()
        .incoming_streams()
        .map_err(|e| e.to_string())?;
    let offer = offers.next().await.ok_or("no messaging stream offer")?;
    let event = (
        "room.tool_call.messaging".to_string(),
        json!({
            "stream_id": offer.stream_id,
            "from_participant_id": offer.from_participant_id,
            "type": offer.message_type,
            "message": offer.message,
        }),
    );
    let sent: Vec<&Map<String, Value>> = case
        .frames
        .iter()
        .filter(|f| f.dir == Direction::Send)
        .map(|f| &f.header)
        .collect();
    let reply = sent.first().ok_or("the recording sent no reply")?;
    if reply.get("type").and_then(Value::as_str) == Some("error") {
        let text = reply
            .get("text")
            .and_then(Value::as_str)
            .map(str::to_string);
        offer.reject(text).await.map_err(|e| e.to_string())?;
        return Ok(vec![event]);
    }
    let mut stream = offer.accept().await.map_err(|e| e.to_string())?;
    for header in &sent[1..] {
        let chunk = header.get("chunk").cloned().unwrap_or_default();
        match chunk.get("type").and_then(Value::as_str) {
            Some("json") => {
                let m = chunk.get("json").cloned().unwrap_or_default();
                let t = m.get("type").and_then(Value::as_str).unwrap_or_default();
                let body = m.get("message").cloned().unwrap_or_else(|| json!({}));
                let a = attachment(m.get("attachment_base64")).map_err(|e| e.to_string())?;
                stream
                    .send_message(t, body, a)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Some("control") => stream.close().await.map_err(|e| e.to_string())?,
            other => return Err(format!("unexpected recorded chunk {other:?}")),
        }
    }
    Ok(vec![event])
}
