//! Framing: bad lengths, counts and indexes; oversized frames and messages; text, masked,
//! reserved-bit and reserved-opcode websocket frames (written raw on the TCP stream, where
//! tungstenite would refuse to produce them). Also the shared "fault during a call" runner.

use std::future::Future;
use std::time::Duration;

use meshagent_room::wire::framing::{encode_message, Limits};
use meshagent_room::wire::packing::PackError;
use meshagent_room::Error;
use serde_json::json;

use crate::harness::{
    bounded, closed_cleanly, connect, connected, is_closed, serves, Scenario, MIB,
};
use crate::scenario;
use crate::server::*;

/// The client's message limit in these scenarios.
pub const MAX_MESSAGE: usize = 64 << 10;
/// Heap bound of a scenario whose messages stay within [`MAX_MESSAGE`].
pub const SMALL: usize = 16 * MIB;

pub fn scenarios() -> Vec<Scenario> {
    vec![
        scenario!(
            "framing/header-length-beyond-payload",
            SMALL,
            header_len_beyond
        ),
        scenario!("framing/header-length-u64-max", SMALL, header_len_max),
        scenario!("framing/packet-count-zero-with-data", SMALL, count_zero),
        scenario!("framing/packet-count-u32-max", SMALL, count_max),
        scenario!(
            "framing/packet-count-above-limits",
            SMALL,
            count_above_limits
        ),
        scenario!(
            "framing/packet-index-out-of-order",
            SMALL,
            index_out_of_order
        ),
        scenario!("framing/packet-index-repeated", SMALL, index_repeated),
        scenario!("framing/data-packet-over-1024-bytes", SMALL, data_over_1024),
        scenario!("framing/message-over-limits", SMALL, message_over_limits),
        scenario!("framing/ws-frame-claims-1-gib", SMALL, frame_claims_gib),
        scenario!("framing/ws-frame-length-msb-set", SMALL, frame_len_msb),
        scenario!("framing/text-frame", SMALL, text_frame),
        scenario!("framing/masked-server-frame", SMALL, masked),
        scenario!("framing/reserved-bit-rsv1", SMALL, rsv1),
        scenario!("framing/reserved-data-opcode-0x3", SMALL, opcode_3),
        scenario!("framing/reserved-control-opcode-0xb", SMALL, opcode_b),
        scenario!("framing/fragmented-ping", SMALL, fragmented_ping),
        scenario!(
            "framing/continuation-without-start",
            SMALL,
            lone_continuation
        ),
        scenario!("framing/hand-made-upgrade-serves", SMALL, hand_made),
    ]
}

/// What the connection does after the fault.
#[derive(Clone, Copy)]
pub enum After {
    Serves,
    Closes,
}

/// What the targeted call must return.
pub type Want = fn(&meshagent_room::Result<bool>) -> bool;

pub fn answer_true(r: &meshagent_room::Result<bool>) -> bool {
    matches!(r, Ok(true))
}

pub fn failed_closed(r: &meshagent_room::Result<bool>) -> bool {
    matches!(r, Err(e) if is_closed(e))
}

/// Connects (message limit `max_message`), makes one call `storage.exists("a")`, lets the
/// server `script` misbehave towards it (given the peer and the call's id), and checks the
/// call's result (`want`, described by `desc`) and the connection afterwards.
pub async fn during_call<S, F>(
    max_message: usize,
    script: S,
    desc: &str,
    want: Want,
    after: After,
) -> Result<(), String>
where
    S: FnOnce(WsPeer, u64) -> F + Send + 'static,
    F: Future<Output = ()> + Send,
{
    let (listener, url) = listen().await;
    let _server = spawn(async move {
        let Some(mut peer) = handshaken(&listener).await else {
            return;
        };
        if let Some(a) = first_call(&mut peer).await {
            script(peer, a).await;
        }
    });
    let (room, mut events) =
        connected(connect(url).limits(Limits::with_max_message_size(max_message))).await?;
    let call = tokio::spawn({
        let room = room.clone();
        async move { room.storage().exists("a").await }
    });
    let got = bounded("the targeted call", Duration::from_secs(6), call)
        .await?
        .map_err(|e| format!("the call's task: {e}"))?;
    if !want(&got) {
        // Cut: a hostile reply may be huge, and so may its error.
        let mut got = format!("{got:?}");
        if got.len() > 600 {
            let mut cut = 600;
            while !got.is_char_boundary(cut) {
                cut -= 1;
            }
            got = format!("{}... ({} bytes)", &got[..cut], got.len());
        }
        return Err(format!("the targeted call: expected {desc}, got {got}"));
    }
    match after {
        After::Serves => serves(&room).await,
        After::Closes => closed_cleanly(&room, &mut events).await,
    }
}

/// Sends `data` as the call's reply, then a valid one, then serves.
async fn bad_reply_then_valid(mut peer: WsPeer, a: u64, data: Vec<u8>) {
    send_reply_data(&mut peer, a, &data).await;
    reply_then_serve(peer, a, exists(true)).await;
}

/// Sends `packets`, then the valid reply, then serves.
async fn packets_then_valid(mut peer: WsPeer, a: u64, packets: Vec<bytes::Bytes>) {
    peer.send_packets(packets).await;
    reply_then_serve(peer, a, exists(true)).await;
}

/// Writes `raw` on the TCP stream and keeps the socket until the client leaves.
async fn raw_then_wait(mut peer: WsPeer, raw: Vec<u8>) {
    if write_raw(&mut peer, &raw).await {
        drain(&mut peer, Duration::from_secs(5)).await;
    }
}

async fn header_len_beyond() -> Result<(), String> {
    during_call(
        MAX_MESSAGE,
        |p, a| {
            let mut data = raw_packed(r#"{"type":"empty"}"#);
            data[..8].copy_from_slice(&1000u64.to_be_bytes());
            send_only(p, a, data)
        },
        "Pack(HeaderLengthBeyondPayload)",
        |r| {
            matches!(
                r,
                Err(Error::Pack(PackError::HeaderLengthBeyondPayload { .. }))
            )
        },
        After::Serves,
    )
    .await
}

/// Sends only `data` as the reply, then serves the following calls.
async fn send_only(mut peer: WsPeer, a: u64, data: Vec<u8>) {
    send_reply_data(&mut peer, a, &data).await;
    answer_calls(peer).await;
}

async fn header_len_max() -> Result<(), String> {
    during_call(
        MAX_MESSAGE,
        |p, a| {
            let mut data = raw_packed(r#"{"type":"empty"}"#);
            data[..8].copy_from_slice(&u64::MAX.to_be_bytes());
            send_only(p, a, data)
        },
        "Pack(HeaderLengthBeyondPayload)",
        |r| {
            matches!(
                r,
                Err(Error::Pack(PackError::HeaderLengthBeyondPayload { .. }))
            )
        },
        After::Serves,
    )
    .await
}

async fn count_zero() -> Result<(), String> {
    during_call(
        MAX_MESSAGE,
        |mut p, a| async move {
            let body = packed(&exists(false), &[]);
            p.send_packets(vec![
                header_packet(a, 0, RESPONSE),
                data_packet(a, 1, &body),
            ])
            .await;
            answer_calls(p).await;
        },
        "Pack(_) (an empty reply)",
        |r| matches!(r, Err(Error::Pack(_))),
        After::Serves,
    )
    .await
}

async fn count_max() -> Result<(), String> {
    during_call(
        MAX_MESSAGE,
        |p, a| {
            let mut packets = encode_message(a, RESPONSE, &packed(&exists(false), &[]));
            packets[0] = header_packet(a, u32::MAX, RESPONSE);
            packets_then_valid(p, a, packets)
        },
        "Ok(true) (the bad message dropped)",
        answer_true,
        After::Serves,
    )
    .await
}

async fn count_above_limits() -> Result<(), String> {
    let over = Limits::with_max_message_size(MAX_MESSAGE).max_packet_count + 1;
    during_call(
        MAX_MESSAGE,
        move |p, a| {
            let packets: Vec<_> = std::iter::once(header_packet(a, over, RESPONSE))
                .chain((1..=over).map(|i| data_packet(a, i, &[b' '; 1024])))
                .collect();
            packets_then_valid(p, a, packets)
        },
        "Ok(true) (the bad message dropped)",
        answer_true,
        After::Serves,
    )
    .await
}

/// A `__response__` to `a` long enough for three data packets, `exists: false`.
fn three_packets(a: u64) -> Vec<bytes::Bytes> {
    let body = packed(
        &json!({"type": "json", "json": {"exists": false, "pad": "x".repeat(2500)}}),
        &[],
    );
    encode_message(a, RESPONSE, &body)
}

async fn index_out_of_order() -> Result<(), String> {
    during_call(
        MAX_MESSAGE,
        |p, a| {
            let mut packets = three_packets(a);
            packets.swap(1, 2);
            packets_then_valid(p, a, packets)
        },
        "Ok(true)",
        answer_true,
        After::Serves,
    )
    .await
}

async fn index_repeated() -> Result<(), String> {
    during_call(
        MAX_MESSAGE,
        |p, a| {
            let mut packets = three_packets(a);
            packets[2] = packets[1].clone();
            packets_then_valid(p, a, packets)
        },
        "Ok(true)",
        answer_true,
        After::Serves,
    )
    .await
}

async fn data_over_1024() -> Result<(), String> {
    during_call(
        MAX_MESSAGE,
        |p, a| {
            let packets = vec![
                header_packet(a, 1, RESPONSE),
                data_packet(a, 1, &[b' '; 4096]),
            ];
            packets_then_valid(p, a, packets)
        },
        "Ok(true)",
        answer_true,
        After::Serves,
    )
    .await
}

async fn message_over_limits() -> Result<(), String> {
    during_call(
        MAX_MESSAGE,
        |p, a| {
            let pad = "y".repeat(16 * MAX_MESSAGE);
            let body = packed(
                &json!({"type": "json", "json": {"exists": false, "pad": pad}}),
                &[],
            );
            bad_reply_then_valid(p, a, body)
        },
        "Ok(true) (the oversized message dropped)",
        answer_true,
        After::Serves,
    )
    .await
}

/// A fault written raw that must close the connection.
async fn closes_on_raw(raw: Vec<u8>) -> Result<(), String> {
    during_call(
        MAX_MESSAGE,
        move |p, _| raw_then_wait(p, raw),
        "Err(Closed)",
        failed_closed,
        After::Closes,
    )
    .await
}

async fn frame_claims_gib() -> Result<(), String> {
    // A binary frame header announcing 1 GiB, then a little of it: above tungstenite's
    // frame limit, refused from the header alone (nothing is reserved for it).
    let mut raw = vec![0x82, 127];
    raw.extend_from_slice(&(1u64 << 30).to_be_bytes());
    raw.extend_from_slice(&[0u8; 4096]);
    closes_on_raw(raw).await
}

async fn frame_len_msb() -> Result<(), String> {
    let mut raw = vec![0x82, 127];
    raw.extend_from_slice(&(u64::MAX).to_be_bytes());
    closes_on_raw(raw).await
}

async fn text_frame() -> Result<(), String> {
    during_call(
        MAX_MESSAGE,
        |mut p, a| async move {
            send_text(&mut p, r#"{"type":"json","json":{"exists":false}}"#).await;
            reply_then_serve(p, a, exists(true)).await;
        },
        "Ok(true) (the text frame skipped)",
        answer_true,
        After::Serves,
    )
    .await
}

/// The frames of the call's `exists: false` reply, with `edit` applied to the first byte
/// pair of each frame; written raw.
fn reply_frames(a: u64, fin: bool, rsv: u8, opcode: u8, mask: Option<[u8; 4]>) -> Vec<u8> {
    encode_message(a, RESPONSE, &packed(&exists(false), &[]))
        .iter()
        .flat_map(|p| frame(fin, rsv, opcode, mask, p))
        .collect()
}

async fn masked() -> Result<(), String> {
    during_call(
        MAX_MESSAGE,
        |p, a| raw_then_wait(p, reply_frames(a, true, 0, 2, Some([1, 2, 3, 4]))),
        "Err(Closed)",
        failed_closed,
        After::Closes,
    )
    .await
}

async fn rsv1() -> Result<(), String> {
    during_call(
        MAX_MESSAGE,
        |p, a| raw_then_wait(p, reply_frames(a, true, 4, 2, None)),
        "Err(Closed)",
        failed_closed,
        After::Closes,
    )
    .await
}

async fn opcode_3() -> Result<(), String> {
    during_call(
        MAX_MESSAGE,
        |p, a| raw_then_wait(p, reply_frames(a, true, 0, 3, None)),
        "Err(Closed)",
        failed_closed,
        After::Closes,
    )
    .await
}

async fn opcode_b() -> Result<(), String> {
    closes_on_raw(frame(true, 0, 0xb, None, b"ctl")).await
}

async fn fragmented_ping() -> Result<(), String> {
    closes_on_raw(frame(false, 0, 0x9, None, b"ping")).await
}

async fn lone_continuation() -> Result<(), String> {
    closes_on_raw(frame(true, 0, 0x0, None, b"continued")).await
}

async fn hand_made() -> Result<(), String> {
    // The upgrade and the room handshake written by hand on raw TCP (the path the raw
    // scenarios rely on), then an ordinary peer: the client connects and serves.
    let (listener, url) = listen().await;
    let _server = spawn(async move {
        let Some(mut tcp) = raw_upgrade(&listener).await else {
            return;
        };
        use tokio::io::AsyncWriteExt;
        if tcp.write_all(&handshake_frames()).await.is_err() {
            return;
        }
        answer_calls(peer_over(tcp).await).await;
    });
    let (room, _events) = connected(connect(url)).await?;
    serves(&room).await
}
