//! The cases of the malformed-frame matrix: each fault, what the targeted call must
//! return, and what the connection does afterwards; plus the room side that plays them.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use meshagent_room::wire::framing::encode_message;
use meshagent_room::wire::packing::PackError;
use meshagent_room::Error;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::support::{packed, WsPeer};

/// The client's size limit in these tests (so that an oversized message is cheap).
pub(crate) const MAX_MESSAGE: usize = 16 << 10;

/// How one case misbehaves towards the call it targets (request id `a`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fault {
    TruncatedHeaderPacket,
    EmptyBinaryFrame,
    CountZeroWithTrailingData,
    DataBeforeHeader,
    OutOfOrderIndex,
    DataForAnotherMessage,
    HeaderLengthBeyondPayload,
    AbsurdHeaderLength,
    HeaderNotJson,
    HeaderNotObject,
    UnknownContentType,
    MissingJsonField,
    MissingErrorText,
    WrongJsonType,
    JsonString,
    JsonArray,
    ResponseForUnknownId,
    DuplicateResponse,
    TextFrame,
    AbsurdPacketCount,
    OversizedDataPacket,
    MessageOverSizeLimit,
    EventWithTheRequestId,
    CloseMidMessage,
    DropMidMessage,
    InvalidWebsocketFrame,
}

/// What the targeted call must return.
#[derive(Clone, Copy)]
pub(crate) enum Expect {
    /// `Ok(value)`: the bad input was skipped (or came after the real reply).
    Answer(bool),
    /// A typed error, described and matched.
    Fails(&'static str, fn(&Error) -> bool),
}

/// What the connection does afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum After {
    KeepsServing,
    Closes,
}

pub(crate) struct Case {
    pub(crate) name: &'static str,
    pub(crate) fault: Fault,
    pub(crate) expect: Expect,
    pub(crate) after: After,
}

pub(crate) fn closed(e: &Error) -> bool {
    matches!(e, Error::Closed { .. })
}

pub(crate) fn cases() -> Vec<Case> {
    use After::*;
    use Expect::*;
    use Fault::*;
    let case = |name, fault, expect, after| Case {
        name,
        fault,
        expect,
        after,
    };
    vec![
        case(
            "truncated header packet",
            TruncatedHeaderPacket,
            Answer(true),
            KeepsServing,
        ),
        case(
            "empty binary frame",
            EmptyBinaryFrame,
            Answer(true),
            KeepsServing,
        ),
        case(
            "packet count 0 with trailing data",
            CountZeroWithTrailingData,
            Fails("Pack(Truncated)", |e| {
                matches!(e, Error::Pack(PackError::Truncated { len: 0 }))
            }),
            KeepsServing,
        ),
        case(
            "data packet before its header",
            DataBeforeHeader,
            Answer(true),
            KeepsServing,
        ),
        case(
            "out-of-order packet index",
            OutOfOrderIndex,
            Answer(true),
            KeepsServing,
        ),
        case(
            "data packet for another message id",
            DataForAnotherMessage,
            Answer(true),
            KeepsServing,
        ),
        case(
            "declared header length beyond the payload",
            HeaderLengthBeyondPayload,
            Fails("Pack(HeaderLengthBeyondPayload)", |e| {
                matches!(
                    e,
                    Error::Pack(PackError::HeaderLengthBeyondPayload { declared: 1000, .. })
                )
            }),
            KeepsServing,
        ),
        case(
            "absurd declared header length (u64::MAX)",
            AbsurdHeaderLength,
            Fails("Pack(HeaderLengthBeyondPayload)", |e| {
                matches!(
                    e,
                    Error::Pack(PackError::HeaderLengthBeyondPayload {
                        declared: u64::MAX,
                        ..
                    })
                )
            }),
            KeepsServing,
        ),
        case(
            "header that is not JSON",
            HeaderNotJson,
            Fails("Pack(HeaderNotJson)", |e| {
                matches!(e, Error::Pack(PackError::HeaderNotJson(_)))
            }),
            KeepsServing,
        ),
        case(
            "header that is not an object",
            HeaderNotObject,
            Fails("Pack(HeaderNotObject)", |e| {
                matches!(e, Error::Pack(PackError::HeaderNotObject))
            }),
            KeepsServing,
        ),
        case(
            "unknown content type in a reply",
            UnknownContentType,
            Fails("Content", |e| matches!(e, Error::Content(_))),
            KeepsServing,
        ),
        case(
            "content missing required fields (json without `json`)",
            MissingJsonField,
            Fails("Content", |e| matches!(e, Error::Content(_))),
            KeepsServing,
        ),
        case(
            "content missing required fields (error without `text`)",
            MissingErrorText,
            Fails("Content", |e| matches!(e, Error::Content(_))),
            KeepsServing,
        ),
        case(
            "wrong JSON types for a typed result",
            WrongJsonType,
            Fails(
                "UnexpectedResponse",
                |e| matches!(e, Error::UnexpectedResponse { tool, .. } if tool == "storage.exists"),
            ),
            KeepsServing,
        ),
        case(
            "typed result that is a string instead of an object",
            JsonString,
            Fails("UnexpectedResponse", |e| {
                matches!(e, Error::UnexpectedResponse { .. })
            }),
            KeepsServing,
        ),
        case(
            "response for an unknown request id",
            ResponseForUnknownId,
            Answer(true),
            KeepsServing,
        ),
        case(
            "duplicate response",
            DuplicateResponse,
            Answer(true),
            KeepsServing,
        ),
        case(
            "a text websocket frame",
            TextFrame,
            Answer(true),
            KeepsServing,
        ),
        case(
            "absurd declared packet count (u32::MAX)",
            AbsurdPacketCount,
            Answer(true),
            KeepsServing,
        ),
        case(
            "data packet larger than 1024 bytes",
            OversizedDataPacket,
            Answer(true),
            KeepsServing,
        ),
        case(
            "message over the client's size limit",
            MessageOverSizeLimit,
            Answer(true),
            KeepsServing,
        ),
        case(
            "pushed event reusing the request's id",
            EventWithTheRequestId,
            Answer(true),
            KeepsServing,
        ),
        case(
            "close frame in the middle of a multi-packet message",
            CloseMidMessage,
            Fails("Closed", closed),
            Closes,
        ),
        case(
            "socket dropped in the middle of a multi-packet message",
            DropMidMessage,
            Fails("Closed", closed),
            Closes,
        ),
        case(
            "invalid websocket frame (reserved opcode)",
            InvalidWebsocketFrame,
            Fails("Closed", closed),
            Closes,
        ),
    ]
}

/// Cases the client gets wrong today (see `known_bugs` below).
pub(crate) fn known_bug_cases() -> Vec<Case> {
    vec![Case {
        name: "typed result that is a JSON array instead of an object",
        fault: Fault::JsonArray,
        expect: Expect::Fails("UnexpectedResponse", |e| {
            matches!(e, Error::UnexpectedResponse { .. })
        }),
        after: After::KeepsServing,
    }]
}

/// A `__response__` body answering `storage.exists`.
pub(crate) fn exists(value: bool) -> Vec<u8> {
    packed(&json!({"type": "json", "json": {"exists": value}}), &[])
}

/// An `exists: false` reply big enough for three data packets.
pub(crate) fn multi_packet_reply() -> Vec<u8> {
    let reply = packed(
        &json!({"type": "json", "json": {"exists": false, "pad": "x".repeat(2500)}}),
        &[],
    );
    assert_eq!(reply.len().div_ceil(1024), 3);
    reply
}

pub(crate) fn header_packet(id: u64, count: u32, packet_type: &str) -> Bytes {
    [
        &id.to_be_bytes()[..],
        &0u32.to_be_bytes(),
        &count.to_be_bytes(),
        packet_type.as_bytes(),
    ]
    .concat()
    .into()
}

pub(crate) fn data_packet(id: u64, index: u32, payload: &[u8]) -> Bytes {
    [&id.to_be_bytes()[..], &index.to_be_bytes(), payload]
        .concat()
        .into()
}

/// A packed message whose header length prefix is `declared` and whose bytes are `json`.
pub(crate) fn raw_packed(declared: u64, json: &str) -> Vec<u8> {
    [&declared.to_be_bytes()[..], json.as_bytes()].concat()
}

pub(crate) const RESPONSE: &str = "__response__";

/// Sends `data` as the `__response__` to request `a`.
pub(crate) async fn reply(peer: &mut WsPeer, a: u64, data: Vec<u8>) {
    peer.send_raw_message(a, RESPONSE, &data).await;
}

impl Fault {
    /// Misbehaves towards request `a`. Returns false when the connection is gone.
    async fn apply(self, peer: &mut WsPeer, a: u64) -> bool {
        use Fault::*;
        match self {
            TruncatedHeaderPacket => {
                // Shorter than the shared prefix, then a "header" shorter than 16 bytes.
                peer.send_packets(vec![
                    Bytes::from_static(&[0; 10]),
                    Bytes::from(header_packet(a, 1, "")[..14].to_vec()),
                ])
                .await;
                reply(peer, a, exists(true)).await;
            }
            EmptyBinaryFrame => {
                peer.send_packets(vec![Bytes::new()]).await;
                reply(peer, a, exists(true)).await;
            }
            CountZeroWithTrailingData => {
                // An empty `__response__` (which cannot unpack), then a stray data packet.
                peer.send_packets(vec![
                    header_packet(a, 0, RESPONSE),
                    data_packet(a, 1, &exists(false)),
                ])
                .await;
            }
            DataBeforeHeader => {
                peer.send_packets(vec![data_packet(a, 1, &exists(false))])
                    .await;
                reply(peer, a, exists(true)).await;
            }
            OutOfOrderIndex => {
                let mut p = encode_message(a, RESPONSE, &multi_packet_reply());
                p.swap(1, 2);
                peer.send_packets(p).await;
                reply(peer, a, exists(true)).await;
            }
            DataForAnotherMessage => {
                let p = encode_message(a, RESPONSE, &multi_packet_reply());
                let mut stray = p[1].to_vec();
                stray[..8].copy_from_slice(&(a + 777).to_be_bytes());
                peer.send_packets(vec![p[0].clone(), stray.into()]).await;
                reply(peer, a, exists(true)).await;
            }
            HeaderLengthBeyondPayload => {
                reply(peer, a, raw_packed(1000, r#"{"type":"empty"}"#)).await;
            }
            AbsurdHeaderLength => {
                reply(peer, a, raw_packed(u64::MAX, r#"{"type":"empty"}"#)).await;
            }
            HeaderNotJson => {
                let json = "{type: empty";
                reply(peer, a, raw_packed(json.len() as u64, json)).await;
            }
            HeaderNotObject => {
                let json = r#"["type","empty"]"#;
                reply(peer, a, raw_packed(json.len() as u64, json)).await;
            }
            UnknownContentType => {
                reply(peer, a, packed(&json!({"type": "hologram"}), &[])).await;
            }
            MissingJsonField => {
                reply(peer, a, packed(&json!({"type": "json"}), &[])).await;
            }
            MissingErrorText => {
                reply(
                    peer,
                    a,
                    packed(&json!({"type": "error", "code": 3001}), &[]),
                )
                .await;
            }
            WrongJsonType => {
                let c = json!({"type": "json", "json": {"exists": "yes"}});
                reply(peer, a, packed(&c, &[])).await;
            }
            JsonString => {
                let c = json!({"type": "json", "json": "exists"});
                reply(peer, a, packed(&c, &[])).await;
            }
            JsonArray => {
                // serde accepts a sequence for a struct, positionally.
                let c = json!({"type": "json", "json": [true]});
                reply(peer, a, packed(&c, &[])).await;
            }
            ResponseForUnknownId => {
                peer.send_raw_message(a + 987_654, RESPONSE, &exists(false))
                    .await;
                reply(peer, a, exists(true)).await;
            }
            DuplicateResponse => {
                reply(peer, a, exists(true)).await;
                reply(peer, a, exists(false)).await;
            }
            TextFrame => {
                let text = WsMessage::Text(r#"{"type":"json","json":{"exists":false}}"#.into());
                peer.ws.send(text).await.expect("send text");
                reply(peer, a, exists(true)).await;
            }
            AbsurdPacketCount => {
                let mut p = encode_message(a, RESPONSE, &exists(false));
                p[0] = header_packet(a, u32::MAX, RESPONSE);
                peer.send_packets(p).await;
                reply(peer, a, exists(true)).await;
            }
            OversizedDataPacket => {
                peer.send_packets(vec![
                    header_packet(a, 1, RESPONSE),
                    data_packet(a, 1, &[b' '; 2048]),
                ])
                .await;
                reply(peer, a, exists(true)).await;
            }
            MessageOverSizeLimit => {
                let big = packed(
                    &json!({"type": "json", "json": {"exists": false, "pad": "y".repeat(MAX_MESSAGE)}}),
                    &[],
                );
                reply(peer, a, big).await;
                reply(peer, a, exists(true)).await;
            }
            EventWithTheRequestId => {
                peer.send(
                    a,
                    "storage.file.updated",
                    json!({"path": "a", "participant_id": "p"}),
                    &[],
                )
                .await;
                reply(peer, a, exists(true)).await;
            }
            CloseMidMessage => {
                let p = encode_message(a, RESPONSE, &multi_packet_reply());
                peer.send_packets(p[..2].to_vec()).await;
                peer.ws.close(None).await.expect("close");
                return false;
            }
            DropMidMessage => {
                let p = encode_message(a, RESPONSE, &multi_packet_reply());
                peer.send_packets(p[..2].to_vec()).await;
                return false; // the caller drops the socket without a close frame
            }
            InvalidWebsocketFrame => {
                // FIN + reserved data opcode 0x3, unmasked, empty.
                let tcp = peer.ws.get_mut();
                tcp.write_all(&[0x83, 0x00]).await.expect("raw write");
                tcp.flush().await.expect("raw flush");
                return false;
            }
        }
        true
    }
}

/// The room side of one case. Returns early (quietly) when the client leaves early; the
/// client side reports what went wrong.
pub(crate) async fn serve(listener: tokio::net::TcpListener, fault: Fault) {
    let mut peer = WsPeer::accept(&listener).await;
    peer.handshake().await;
    let mut ids = HashMap::new();
    for _ in 0..2 {
        let Some((id, _, header, _)) = peer.recv().await else {
            return;
        };
        let path = header["arguments"]["json"]["path"].clone();
        ids.insert(path.as_str().unwrap_or_default().to_string(), id);
    }
    let (Some(&a), Some(&a2)) = (ids.get("a"), ids.get("a2")) else {
        return;
    };
    if !fault.apply(&mut peer, a).await {
        // Keep the socket open (for the close handshake) until the client is gone.
        if matches!(fault, Fault::CloseMidMessage | Fault::InvalidWebsocketFrame) {
            while let Ok(Some(_)) =
                tokio::time::timeout(Duration::from_secs(2), peer.ws.next()).await
            {}
        }
        return;
    }
    peer.send_raw_message(a2, RESPONSE, &exists(true)).await;
    let Some((b, ..)) = peer.recv().await else {
        return;
    };
    peer.send_raw_message(b, RESPONSE, &exists(true)).await;
    peer.wait_closed().await;
}
