//! Websocket liveness over a real loopback websocket: a peer that stops answering (it no
//! longer reads its socket, so not even tungstenite's automatic pongs go out) is noticed
//! within `interval + timeout`, and everything pending fails with a reason naming the
//! liveness check; a quiet peer that still answers pings keeps the connection.

mod support;

use std::future::IntoFuture;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use meshagent_room::{Error, Keepalive, RoomClient, RoomEvents};
use serde_json::json;
use support::{listen, within, Loopback, Peer, WsPeer};
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// The liveness settings of these tests: ping after 200 ms of quiet, dead 200 ms later.
const INTERVAL: Duration = Duration::from_millis(200);
const TIMEOUT: Duration = Duration::from_millis(200);

/// Longest time from the server going silent to every pending future failing: the
/// ping is due at most `INTERVAL` after the last frame, the failure `TIMEOUT` after it,
/// plus scheduling noise.
const DETECTED: Duration = Duration::from_secs(1);

fn keepalive() -> Keepalive {
    Keepalive::new(INTERVAL, TIMEOUT)
}

/// A client connected to a loopback room with `keepalive`; the room side is the raw
/// websocket, right after the handshake (sent at the returned instant).
async fn connect_raw(keepalive: Option<Keepalive>) -> (RoomClient, RoomEvents, WsPeer, Instant) {
    let (listener, url) = listen().await;
    let client = tokio::spawn(
        RoomClient::connect(url, "token")
            .keepalive(keepalive)
            .into_future(),
    );
    let mut peer = WsPeer::accept(&listener).await;
    peer.handshake().await;
    let handshake_sent = Instant::now();
    let (room, events) = within("the client's handshake", client)
        .await
        .expect("connect task")
        .expect("handshake completes");
    (room, events, peer, handshake_sent)
}

/// Like [`connect_raw`], with the room side as a transport (for the stream helpers). The
/// room side itself never pings.
async fn connect(keepalive: Option<Keepalive>) -> (RoomClient, RoomEvents, Peer<Loopback>) {
    let (room, events, peer, _) = connect_raw(keepalive).await;
    let io: Loopback = Box::new(meshagent_room::websocket_transport(peer.ws));
    (room, events, Peer::new(io))
}

/// The failure of a call cut off by the liveness check: the connection is lost (closed
/// today; `Disconnected` once reconnection is on) and the reason names the check.
fn assert_liveness_failure<T: std::fmt::Debug>(what: &str, result: Result<T, Error>) {
    let reason = match &result {
        Err(Error::Closed { reason }) | Err(Error::Disconnected { reason }) => reason.clone(),
        other => panic!("{what}: expected the connection to be lost, got {other:?}"),
    };
    assert!(
        reason.contains("no answer to a websocket ping") && reason.contains("the peer is gone"),
        "{what}: the reason does not name the liveness check: {reason}"
    );
}

#[tokio::test]
async fn a_server_that_stops_answering_fails_a_pending_call_in_bounded_time() {
    let (room, _events, mut peer) = connect(Some(keepalive())).await;
    let call = tokio::spawn({
        let room = room.clone();
        async move { room.storage().exists("a").await }
    });
    peer.recv_invoke("storage", "exists").await;
    // From here the server reads nothing (its pong would need a read) and sends nothing;
    // the socket stays open.
    let silent_since = Instant::now();
    let result = within("the call to fail", call).await.expect("task");
    let took = silent_since.elapsed();
    eprintln!("the pending call failed {took:?} after the server went silent: {result:?}");
    assert_liveness_failure("a pending call", result);
    assert!(took < DETECTED, "detected only after {took:?}");
    assert!(
        took >= TIMEOUT,
        "failed after {took:?}, before a ping could have gone unanswered"
    );
    // Without reconnection the client is closed for good, and a later call fails at once
    // with the same reason.
    if room.is_closed() {
        let later = within("a later call", room.storage().exists("b")).await;
        assert_liveness_failure("a later call", later);
    }
    drop(peer);
}

#[tokio::test]
async fn a_server_that_goes_silent_mid_download_fails_the_download() {
    let (room, _events, mut peer) = connect(Some(keepalive())).await;
    let download = tokio::spawn({
        let room = room.clone();
        async move { room.storage().download("a.bin").await?.bytes().await }
    });
    let id = peer.open("storage", "download").await;
    let (start, _) = peer.chunk().await;
    assert_eq!(start["headers"]["kind"], json!("start"));
    peer.respond(
        &id,
        json!({"type": "binary", "headers": {"kind": "start", "name": "a.bin", "mime_type": "x/y", "size": 200_000}}),
        &[],
    )
    .await;
    let (pull, _) = peer.chunk().await;
    assert_eq!(pull["headers"], json!({"kind": "pull"}));
    peer.respond(
        &id,
        json!({"type": "binary", "headers": {"kind": "data"}}),
        &[7; 65536],
    )
    .await;
    // The next pull is read (and acknowledged), then the server goes silent mid-stream.
    let (pull, _) = peer.chunk().await;
    assert_eq!(pull["headers"], json!({"kind": "pull"}));
    let silent_since = Instant::now();
    let result = within("the download to fail", download)
        .await
        .expect("task");
    let took = silent_since.elapsed();
    eprintln!("the download failed {took:?} after the server went silent");
    assert_liveness_failure("the download", result);
    assert!(took < DETECTED, "detected only after {took:?}");
    drop(peer);
}

/// Reads the room side for `duration`, answering `storage.exists` calls, counting pings
/// (tungstenite answers them while the socket is read). The times the pings arrived.
async fn serve_quietly(peer: &mut WsPeer, duration: Duration) -> Vec<Instant> {
    let mut pings = Vec::new();
    let until = tokio::time::Instant::now() + duration;
    loop {
        let frame = match tokio::time::timeout_at(until, peer.ws.next()).await {
            Err(_) => return pings,
            Ok(frame) => frame,
        };
        let packet = match frame {
            Some(Ok(WsMessage::Binary(b))) => b,
            Some(Ok(WsMessage::Ping(_))) => {
                pings.push(Instant::now());
                // The pong tungstenite queued goes out with the next read or flush.
                within("a flush", peer.ws.flush()).await.expect("flush");
                continue;
            }
            Some(Ok(_)) => continue,
            other => panic!("the client went away: {other:?}"),
        };
        let Some(m) = peer.reassembler.push(packet).expect("valid framing") else {
            continue;
        };
        if m.message_type == "room.invoke_tool" {
            peer.reply(m.id, json!({"type": "json", "json": {"exists": true}}))
                .await;
        }
    }
}

#[tokio::test]
async fn a_quiet_server_that_answers_pings_keeps_the_connection() {
    let (room, _events, mut peer, _) = connect_raw(Some(keepalive())).await;
    // Five intervals of quiet: the client pings, the server's websocket answers.
    let quiet = INTERVAL * 5;
    let server = tokio::spawn(async move {
        let pings = serve_quietly(&mut peer, quiet).await;
        (peer, pings)
    });
    tokio::time::sleep(quiet).await;
    assert!(!room.is_closed(), "the connection was dropped while alive");
    let (mut peer, pings) = within("the server", server).await.expect("server");
    eprintln!("{} pings in {quiet:?} of quiet", pings.len());
    assert!(
        pings.len() >= 2,
        "expected a ping per interval of quiet, got {}",
        pings.len()
    );
    // Still usable.
    let server =
        tokio::spawn(async move { serve_quietly(&mut peer, Duration::from_secs(1)).await });
    let exists = within("a call after the quiet", room.storage().exists("a")).await;
    assert!(exists.expect("the call succeeds"));
    assert!(!room.is_closed());
    within("the server", server).await.expect("server");
}

#[tokio::test]
async fn a_ping_is_sent_after_the_interval_of_quiet() {
    // A long timeout: only the ping's timing is looked at here.
    let ka = Keepalive::new(INTERVAL, Duration::from_secs(5));
    let (room, _events, mut peer, handshake_sent) = connect_raw(Some(ka)).await;
    let pings = serve_quietly(&mut peer, INTERVAL * 3).await;
    let first = pings.first().expect("a ping within three intervals");
    let after = first.duration_since(handshake_sent);
    eprintln!("the first ping arrived {after:?} after the last frame was sent");
    assert!(after >= INTERVAL, "pinged after only {after:?}");
    assert!(after < INTERVAL * 2, "pinged only after {after:?}");
    assert!(!room.is_closed());
}

#[tokio::test]
async fn no_pings_without_a_keepalive() {
    let (room, _events, mut peer, _) = connect_raw(None).await;
    let pings = serve_quietly(&mut peer, INTERVAL * 3).await;
    assert!(pings.is_empty(), "pinged without a keepalive: {pings:?}");
    assert!(!room.is_closed());
}
