//! Close: in the middle of a multi-packet message, a TCP reset, a close frame with an error
//! code, a half-close, data after the close, and a second handshake after the first.

use std::time::Duration;

use meshagent_room::wire::framing::encode_message;
use serde_json::json;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

use crate::framing::{answer_true, during_call, failed_closed, After, MAX_MESSAGE, SMALL};
use crate::harness::{check, connect, connected, serves, Scenario};
use crate::scenario;
use crate::server::*;

pub fn scenarios() -> Vec<Scenario> {
    vec![
        scenario!(
            "close/close-frame-mid-multi-packet-message",
            SMALL,
            close_mid
        ),
        scenario!("close/tcp-reset-so-linger-0", SMALL, reset),
        scenario!("close/close-frame-with-error-code-1011", SMALL, error_close),
        scenario!(
            "close/tcp-half-close-without-close-frame",
            SMALL,
            half_close
        ),
        scenario!("close/data-after-close-frame", SMALL, data_after_close),
        scenario!(
            "close/second-connected-after-handshake",
            SMALL,
            second_connected
        ),
        scenario!(
            "close/second-room-ready-after-handshake",
            SMALL,
            second_room_ready
        ),
    ]
}

/// Two of the three packets of a reply to `a`.
fn partial_reply(a: u64) -> Vec<bytes::Bytes> {
    let body = packed(
        &json!({"type": "json", "json": {"exists": false, "pad": "x".repeat(2500)}}),
        &[],
    );
    let mut p = encode_message(a, RESPONSE, &body);
    p.truncate(2);
    p
}

async fn close_mid() -> Result<(), String> {
    during_call(
        MAX_MESSAGE,
        |mut p, a| async move {
            p.send_packets(partial_reply(a)).await;
            let _ = p.ws.close(None).await;
            drain(&mut p, Duration::from_secs(5)).await;
        },
        "Err(Closed)",
        failed_closed,
        After::Closes,
    )
    .await
}

async fn reset() -> Result<(), String> {
    during_call(
        MAX_MESSAGE,
        |mut p, a| async move {
            p.send_packets(partial_reply(a)).await;
            let tcp = p.ws.get_mut();
            // SO_LINGER 0: the drop sends a RST instead of a FIN (and does not block).
            #[allow(deprecated)]
            let _ = tcp.set_linger(Some(Duration::ZERO));
            drop(p);
        },
        "Err(Closed)",
        failed_closed,
        After::Closes,
    )
    .await
}

async fn error_close() -> Result<(), String> {
    during_call(
        MAX_MESSAGE,
        |mut p, _| async move {
            let frame = CloseFrame {
                code: CloseCode::Error,
                reason: "internal error in the room".into(),
            };
            let _ = p.ws.close(Some(frame)).await;
            drain(&mut p, Duration::from_secs(5)).await;
        },
        "Err(Closed)",
        failed_closed,
        After::Closes,
    )
    .await
}

async fn half_close() -> Result<(), String> {
    during_call(
        MAX_MESSAGE,
        |mut p, _| async move {
            use tokio::io::AsyncWriteExt;
            let _ = p.ws.get_mut().shutdown().await;
            drain(&mut p, Duration::from_secs(5)).await;
        },
        "Err(Closed)",
        failed_closed,
        After::Closes,
    )
    .await
}

async fn data_after_close() -> Result<(), String> {
    during_call(
        MAX_MESSAGE,
        |mut p, a| async move {
            let mut raw = frame(true, 0, 8, None, &1000u16.to_be_bytes());
            raw.extend(message_frames(a, RESPONSE, &packed(&exists(true), &[])));
            if write_raw(&mut p, &raw).await {
                drain(&mut p, Duration::from_secs(5)).await;
            }
        },
        "Err(Closed) (nothing after the close frame is read)",
        failed_closed,
        After::Closes,
    )
    .await
}

async fn second_connected() -> Result<(), String> {
    during_call(
        MAX_MESSAGE,
        |mut p, a| async move {
            p.push(
                "connected",
                json!({"type": "init", "participantId": "p-evil", "attributes": {"role": "admin"}}),
            )
            .await;
            reply_then_serve(p, a, exists(true)).await;
        },
        "Ok(true)",
        answer_true,
        After::Serves,
    )
    .await?;
    // The same, checking the participant afterwards.
    let (listener, url) = listen().await;
    let _server = spawn(async move {
        let Some(mut p) = handshaken(&listener).await else {
            return;
        };
        p.push(
            "connected",
            json!({"type": "init", "participantId": "p-evil", "attributes": {"role": "admin"}}),
        )
        .await;
        answer_calls(p).await;
    });
    let (room, _events) = connected(connect(url)).await?;
    let before = room.local_participant();
    serves(&room).await?;
    let after = room.local_participant();
    check(after.id == "p-1" && after == before, || {
        format!("the local participant changed to {after:?}")
    })
}

async fn second_room_ready() -> Result<(), String> {
    let (listener, url) = listen().await;
    let _server = spawn(async move {
        let Some(mut p) = handshaken(&listener).await else {
            return;
        };
        p.push(
            "room_ready",
            json!({"room_name": "other", "room_url": "ws://evil/rooms/other", "session_id": "s-2"}),
        )
        .await;
        answer_calls(p).await;
    });
    let (room, _events) = connected(connect(url)).await?;
    serves(&room).await?;
    check(
        room.room_name() == "r" && room.session_id() == "s-1",
        || format!("the room info changed to {:?}", room.info()),
    )
}
