//! The room handshake (`room_ready`, `connected`) missing, garbled, out of order or of the
//! wrong types.

use std::future::Future;
use std::time::Duration;

use meshagent_room::Error;
use serde_json::json;

use crate::harness::{bounded, check, connect, serves, Scenario, MIB};
use crate::scenario;
use crate::server::{accept, answer_calls, drain, listen, send_text, spawn, WsPeer};
use crate::support::{connected as connected_header, packed, room_ready};

const SMALL: usize = 8 * MIB;
/// The handshake deadline in these scenarios.
const DEADLINE: Duration = Duration::from_millis(500);

pub fn scenarios() -> Vec<Scenario> {
    vec![
        scenario!("handshake/missing-room-ready", SMALL, missing_room_ready),
        scenario!("handshake/missing-connected", SMALL, missing_connected),
        scenario!(
            "handshake/garbage-room-ready-then-valid",
            SMALL,
            garbage_room_ready
        ),
        scenario!("handshake/garbage-connected-only", SMALL, garbage_connected),
        scenario!("handshake/connected-before-room-ready", SMALL, reversed),
        scenario!("handshake/wrong-json-types", SMALL, wrong_types),
        scenario!("handshake/connected-not-init", SMALL, not_init),
        scenario!(
            "handshake/close-frame-mid-handshake",
            SMALL,
            close_mid_handshake
        ),
        scenario!("handshake/as-text-frames", SMALL, text_frames),
    ]
}

enum Want {
    /// `Error::Timeout` of the handshake, and the socket is closed by the client.
    Timeout,
    /// `Error::Closed`.
    Closed,
    /// Connected as `p-1`; the client serves a call.
    Serves,
}

async fn case<S, F>(script: S, want: Want) -> Result<(), String>
where
    S: FnOnce(WsPeer) -> F + Send + 'static,
    F: Future<Output = ()> + Send,
{
    let (listener, url) = listen().await;
    let (closed_tx, closed_rx) = tokio::sync::oneshot::channel();
    let _server = spawn(async move {
        if let Some(peer) = accept(&listener).await {
            script(peer).await;
        }
        let _ = closed_tx.send(());
    });
    let result = bounded(
        "connect",
        Duration::from_secs(3),
        connect(url).handshake_timeout(DEADLINE),
    )
    .await?;
    match (want, result) {
        (Want::Timeout, Err(Error::Timeout(d, what))) => {
            check(d == DEADLINE && what == "room_ready and connected", || {
                format!("a timeout of {d:?} for {what}")
            })?;
            bounded(
                "the client to close the socket",
                Duration::from_secs(3),
                closed_rx,
            )
            .await?
            .map_err(|_| "the server script ended abnormally".to_string())
        }
        (Want::Closed, Err(Error::Closed { .. })) => Ok(()),
        (Want::Serves, Ok((room, _events))) => {
            check(room.local_participant().id == "p-1", || {
                format!("local participant {:?}", room.local_participant())
            })?;
            check(room.room_name() == "r", || {
                format!("room {:?}", room.info())
            })?;
            serves(&room).await
        }
        (_, Err(e)) => Err(format!("unexpected connect error: {e:?}")),
        (_, Ok(_)) => Err("connected, although the handshake was broken".into()),
    }
}

/// After the script: wait until the client leaves (it timed out and closed).
async fn until_gone(mut peer: WsPeer) {
    drain(&mut peer, Duration::from_secs(5)).await;
}

async fn missing_room_ready() -> Result<(), String> {
    case(
        |mut p| async move {
            p.push("connected", connected_header()).await;
            until_gone(p).await;
        },
        Want::Timeout,
    )
    .await
}

async fn missing_connected() -> Result<(), String> {
    case(
        |mut p| async move {
            p.push("room_ready", room_ready()).await;
            until_gone(p).await;
        },
        Want::Timeout,
    )
    .await
}

async fn garbage_room_ready() -> Result<(), String> {
    case(
        |mut p| async move {
            p.send_raw_message(1, "room_ready", b"\xff\xfe not a packed message")
                .await;
            p.send_raw_message(2, "room_ready", &packed(&json!({"x": 1}), &[]))
                .await;
            p.handshake().await;
            answer_calls(p).await;
        },
        Want::Serves,
    )
    .await
}

async fn garbage_connected() -> Result<(), String> {
    case(
        |mut p| async move {
            p.push("room_ready", room_ready()).await;
            p.send_raw_message(2, "connected", &[0u8; 40]).await;
            until_gone(p).await;
        },
        Want::Timeout,
    )
    .await
}

async fn reversed() -> Result<(), String> {
    case(
        |mut p| async move {
            p.push("connected", connected_header()).await;
            p.push("room_ready", room_ready()).await;
            answer_calls(p).await;
        },
        Want::Serves,
    )
    .await
}

async fn wrong_types() -> Result<(), String> {
    case(
        |mut p| async move {
            p.push(
                "room_ready",
                json!({"room_name": 42, "room_url": [], "session_id": {"a": 1}}),
            )
            .await;
            p.push(
                "connected",
                json!({"type": 7, "participantId": ["p"], "attributes": "none"}),
            )
            .await;
            until_gone(p).await;
        },
        Want::Timeout,
    )
    .await
}

async fn not_init() -> Result<(), String> {
    case(
        |mut p| async move {
            p.push("room_ready", room_ready()).await;
            p.push(
                "connected",
                json!({"type": "update", "participantId": "p-1", "attributes": {}}),
            )
            .await;
            until_gone(p).await;
        },
        Want::Timeout,
    )
    .await
}

async fn close_mid_handshake() -> Result<(), String> {
    case(
        |mut p| async move {
            p.push("room_ready", room_ready()).await;
            let _ = futures::SinkExt::close(&mut p.ws).await;
            until_gone(p).await;
        },
        Want::Closed,
    )
    .await
}

async fn text_frames() -> Result<(), String> {
    case(
        |mut p| async move {
            let ready = serde_json::to_string(&room_ready()).unwrap_or_default();
            let conn = serde_json::to_string(&connected_header()).unwrap_or_default();
            send_text(&mut p, &ready).await;
            send_text(&mut p, &conn).await;
            until_gone(p).await;
        },
        Want::Timeout,
    )
    .await
}
