//! Flow: floods the app does not read, silence, stray replies, a server that stops reading.

use std::time::{Duration, Instant};

use meshagent_room::wire::framing::Limits;
use meshagent_room::{ConnectOptions, Error};
use serde_json::{json, Value};

use crate::framing::SMALL;
use crate::harness::{bounded, check, connect, connected, serves, target, Scenario, MIB, STEP};
use crate::scenario;
use crate::server::*;

/// The client's message limit in the flood scenarios.
const FLOOD_LIMIT: usize = MIB;
/// Pushed messages per flood.
const FLOOD: usize = 200_000;

pub fn scenarios() -> Vec<Scenario> {
    vec![
        scenario!(
            "flow/event-flood-200k-unread",
            target(FLOOD_LIMIT),
            event_flood
        ),
        scenario!(
            "flow/download-chunk-flood-unread",
            target(FLOOD_LIMIT),
            chunk_flood
        ),
        scenario!(
            "flow/pushed-tool-calls-while-server-stops-reading",
            target(FLOOD_LIMIT),
            tool_call_flood
        ),
        scenario!("flow/silence-after-call-request-timeout", SMALL, silence),
        scenario!(
            "flow/silence-after-call-default-options",
            SMALL,
            silence_default
        ),
        scenario!("flow/silent-peer-liveness-ping", SMALL, liveness),
        scenario!("flow/10k-replies-to-unknown-ids", SMALL, unknown_ids),
        scenario!(
            "flow/server-stops-reading-writes-back-up",
            32 * MIB,
            stops_reading
        ),
        #[cfg(all(feature = "protocol-0-56", feature = "containers"))]
        scenario!(
            "flow/push-upload-while-server-stops-reading",
            32 * MIB,
            push_upload_stalled
        ),
    ]
}

/// `count` copies of one message's raw frames, written in batches; false once the client
/// is gone.
async fn flood(peer: &mut WsPeer, one: &[u8], count: usize) -> bool {
    let per_batch = (1 << 20) / one.len().max(1) + 1;
    let batch: Vec<u8> = one.repeat(per_batch);
    let mut sent = 0;
    while sent < count {
        let n = per_batch.min(count - sent);
        if !write_raw(peer, &batch[..n * one.len()]).await {
            return false;
        }
        sent += n;
    }
    true
}

async fn event_flood() -> Result<(), String> {
    // 200k `storage.file.deleted` events (~400 bytes each) while the app holds its event
    // stream and never reads it; then a call.
    let (listener, url) = listen().await;
    let _server = spawn(async move {
        let Some(mut peer) = handshaken(&listener).await else {
            return;
        };
        let event = json!({"path": "p".repeat(300), "participant_id": "someone"});
        let one = message_frames(7, "storage.file.deleted", &packed(&event, &[]));
        if flood(&mut peer, &one, FLOOD).await {
            answer_calls(peer).await;
        }
    });
    let (room, events) =
        connected(connect(url).limits(Limits::with_max_message_size(FLOOD_LIMIT))).await?;
    let started = Instant::now();
    let r = bounded(
        "a call after the flood",
        Duration::from_secs(12),
        room.storage().exists("x"),
    )
    .await?;
    check(matches!(r, Ok(true)), || {
        format!("the call after the flood: {r:?}")
    })?;
    eprintln!("flood of {FLOOD} events handled in {:?}", started.elapsed());
    serves(&room).await?;
    drop(events);
    Ok(())
}

async fn chunk_flood() -> Result<(), String> {
    // A download whose server pushes 200k data chunks without waiting for pulls, while the
    // app holds the `Download` and reads nothing; then a call.
    let (listener, url) = listen().await;
    let _server = spawn(async move {
        let Some(mut peer) = handshaken(&listener).await else {
            return;
        };
        let Some((id, _, header)) = next_call(&mut peer, STEP).await else {
            return;
        };
        let call_id = header["tool_call_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        peer.reply(id, json!({"type": "control", "method": "open"}))
            .await;
        // The start chunk from the client (acknowledged where the protocol acknowledges
        // request chunks: 0.35.8).
        let Some((start_id, ..)) = next_call(&mut peer, STEP).await else {
            return;
        };
        if meshagent_room::protocol::REQUEST_CHUNK_ACKS {
            peer.reply(start_id, json!({"type": "empty"})).await;
        }
        let respond = |chunk: Value, tail: &[u8]| {
            let header = json!({"tool_call_id": call_id, "chunk": chunk});
            message_frames(9, "room.tool_call_response_chunk", &packed(&header, tail))
        };
        let start = respond(
            json!({"type": "binary", "headers": {"kind": "start", "name": "big", "mime_type": "x/y", "size": 1u64 << 40}}),
            &[],
        );
        if !write_raw(&mut peer, &start).await {
            return;
        }
        if meshagent_room::protocol::REQUEST_CHUNK_ACKS {
            // 0.35.8: the client's first pull is a request awaiting its acknowledgement.
            let Some((pull_id, ..)) = next_call(&mut peer, STEP).await else {
                return;
            };
            peer.reply(pull_id, json!({"type": "empty"})).await;
        }
        let one = respond(
            json!({"type": "binary", "headers": {"kind": "data"}}),
            &[b'd'; 400],
        );
        if flood(&mut peer, &one, FLOOD).await {
            answer_calls(peer).await;
        }
    });
    let (room, _events) =
        connected(connect(url).limits(Limits::with_max_message_size(FLOOD_LIMIT))).await?;
    let download = bounded(
        "the download to start",
        STEP,
        room.storage().download("big"),
    )
    .await?
    .map_err(|e| format!("the download: {e}"))?;
    check(download.size == 1 << 40, || format!("{download:?}"))?;
    let r = bounded(
        "a call after the flood",
        Duration::from_secs(12),
        room.storage().exists("x"),
    )
    .await?;
    check(matches!(r, Ok(true)), || {
        format!("the call after the flood: {r:?}")
    })?;
    serves(&room).await?;
    drop(download);
    Ok(())
}

/// Pushed tool calls in the flood: 12 MB of calls, far more than the client's send queue
/// and TCP buffers hold, yet few enough that a debug build answers the backlog well within
/// the scenario's bound on a busy machine (200k took ~9 s).
const TOOL_CALL_FLOOD: u64 = 50_000;

async fn tool_call_flood() -> Result<(), String> {
    // The server pushes 200k calls to a toolkit and stops reading: every answer the client
    // owes backs up, and the client (its queues bounded) stops reading too. Then the
    // server reads again, as a real server does while it still writes (its reader and
    // writer are separate): the client drains, takes the rest of the flood, and serves a
    // call. Memory stays bounded throughout.
    let (listener, url) = listen().await;
    let (resume_tx, resume_rx) = tokio::sync::oneshot::channel::<()>();
    let _server = spawn(async move {
        let Some(peer) = handshaken(&listener).await else {
            return;
        };
        let (rd, mut wr) = peer.ws.into_inner().into_split();
        // The writer: the flood, then a reply to each call the reader passes on.
        let (calls_tx, mut calls_rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
        let writer = tokio::spawn(async move {
            let call = json!({"name": "t", "arguments": {"type": "json", "json": {"pad": "q".repeat(200)}}});
            let mut raw = Vec::new();
            for i in 0..TOOL_CALL_FLOOD {
                raw.extend(message_frames(
                    10_000 + i,
                    "room.tool_call.nothosted",
                    &packed(&call, &[]),
                ));
                if raw.len() > 1 << 20 {
                    if wr.write_all(&raw).await.is_err() {
                        return;
                    }
                    raw.clear();
                }
            }
            if wr.write_all(&raw).await.is_err() {
                return;
            }
            let reply = packed(&exists(true), &[]);
            while let Some(id) = calls_rx.recv().await {
                if wr
                    .write_all(&message_frames(id, RESPONSE, &reply))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        });
        // The reader: nothing until told to resume; then every frame, passing calls on
        // (its own writes, pongs and the like, are dropped).
        let _ = resume_rx.await;
        let io = tokio::io::join(rd, tokio::io::sink());
        let mut ws = WebSocketStream::from_raw_socket(io, Role::Server, None).await;
        use futures::StreamExt;
        while let Some(Ok(frame)) = ws.next().await {
            let WsMessage::Binary(p) = frame else {
                continue;
            };
            let is_call = p.len() > 16 && p[8..12] == [0; 4] && &p[16..] == b"room.invoke_tool";
            if is_call {
                let id = u64::from_be_bytes(p[..8].try_into().unwrap_or_default());
                let _ = calls_tx.send(id);
            }
        }
        writer.abort();
    });
    let (room, _events) =
        connected(connect(url).limits(Limits::with_max_message_size(FLOOD_LIMIT))).await?;
    // Give the flood time to arrive while nobody reads the client's answers.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let _ = resume_tx.send(());
    let r = bounded(
        "a call after the flood",
        Duration::from_secs(10),
        room.storage().exists("x"),
    )
    .await?;
    check(matches!(r, Ok(true)), || {
        format!("the call after the flood: {r:?}")
    })
}

/// A server that reads the first call and never answers it, then answers the rest.
fn silent_first(listener: tokio::net::TcpListener) -> Server {
    spawn(async move {
        let Some(mut peer) = handshaken(&listener).await else {
            return;
        };
        if first_call(&mut peer).await.is_some() {
            answer_calls(peer).await;
        }
    })
}

async fn silence() -> Result<(), String> {
    let (listener, url) = listen().await;
    let _server = silent_first(listener);
    let limit = Duration::from_millis(400);
    let (room, _events) = connected(connect(url).request_timeout(limit)).await?;
    let started = Instant::now();
    let r = bounded("the silent call", STEP, room.storage().exists("a")).await?;
    check(matches!(r, Err(Error::Timeout(d, _)) if d == limit), || {
        format!("expected Timeout({limit:?}), got {r:?}")
    })?;
    check(
        started.elapsed() < limit + Duration::from_millis(500),
        || format!("the timeout came after {:?}", started.elapsed()),
    )?;
    serves(&room).await
}

async fn silence_default() -> Result<(), String> {
    // Target: a client built with default options never waits forever on a silent server.
    let default = ConnectOptions::default().request_timeout;
    let Some(limit) = default else {
        return Err("ConnectOptions::default() has no request timeout".into());
    };
    let (listener, url) = listen().await;
    let _server = silent_first(listener);
    let (room, _events) = connected(connect(url)).await?;
    // The default is too long to wait out here: the silent call uses a per-call override,
    // which must win over the default.
    let short = Duration::from_millis(400);
    let this_call = if limit <= Duration::from_secs(5) {
        room.clone()
    } else {
        room.with_request_timeout(Some(short))
    };
    let expected = this_call.request_timeout();
    let r = bounded(
        "the silent call",
        limit.min(short) + STEP,
        this_call.storage().exists("a"),
    )
    .await?;
    check(
        matches!(r, Err(Error::Timeout(d, _)) if Some(d) == expected),
        || format!("expected Timeout({expected:?}), got {r:?}"),
    )?;
    check(room.request_timeout() == default, || {
        "the override changed the client's own timeout".to_string()
    })?;
    serves(&room).await
}

async fn liveness() -> Result<(), String> {
    // The server goes silent after the handshake (it reads, but never writes, and never
    // answers a ping). Target: the client probes it (a websocket ping) after the keepalive
    // interval, and a pending call fails once the ping goes unanswered.
    let (listener, url) = listen().await;
    let (ping_tx, ping_rx) = tokio::sync::oneshot::channel::<()>();
    let _server = spawn(async move {
        let Some(peer) = handshaken(&listener).await else {
            return;
        };
        use futures::StreamExt;
        let (_sink, mut stream) = peer.ws.split();
        while let Some(Ok(m)) = stream.next().await {
            if m.is_ping() {
                let _ = ping_tx.send(());
                break;
            }
        }
        tokio::time::sleep(Duration::from_secs(10)).await;
    });
    let keepalive =
        meshagent_room::Keepalive::new(Duration::from_millis(300), Duration::from_millis(300));
    let (room, _events) = connected(connect(url).keepalive(Some(keepalive))).await?;
    let call = tokio::spawn({
        let room = room.clone();
        async move { room.storage().exists("a").await }
    });
    bounded(
        "a websocket ping from the client",
        Duration::from_secs(3),
        ping_rx,
    )
    .await?
    .map_err(|_| "the server ended without seeing a ping".to_string())?;
    let r = bounded("the pending call to fail", Duration::from_secs(2), call)
        .await?
        .map_err(|e| format!("task: {e}"))?;
    check(matches!(r, Err(Error::Closed { .. })), || {
        format!("expected Closed (no answer to the ping), got {r:?}")
    })?;
    check(room.is_closed(), || "the client did not close".to_string())
}

async fn unknown_ids() -> Result<(), String> {
    let (listener, url) = listen().await;
    let _server = spawn(async move {
        let Some(mut peer) = handshaken(&listener).await else {
            return;
        };
        let mut raw = Vec::new();
        for i in 0..10_000u64 {
            raw.extend(message_frames(
                1 << 40 | i,
                RESPONSE,
                &packed(&exists(false), &[]),
            ));
        }
        if write_raw(&mut peer, &raw).await {
            answer_calls(peer).await;
        }
    });
    let (room, _events) = connected(connect(url)).await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    serves(&room).await?;
    serves(&room).await
}

async fn stops_reading() -> Result<(), String> {
    // The server stops reading after the handshake; the app keeps sending 64 KiB attribute
    // updates (which need no reply). Target: sending stops accepting (back-pressure) before
    // 24 MiB are queued, memory stays bounded, and once the server reads again the client
    // serves a call.
    let (listener, url) = listen().await;
    let (resume_tx, resume_rx) = tokio::sync::oneshot::channel::<()>();
    let _server = spawn(async move {
        let Some(peer) = handshaken(&listener).await else {
            return;
        };
        let _ = resume_rx.await;
        answer_calls(peer).await;
    });
    let (room, _events) = connected(connect(url)).await?;
    let value = Value::String("v".repeat(64 << 10));
    let mut accepted = 0usize;
    let limit = 24 * MIB;
    loop {
        let sent = tokio::time::timeout(
            Duration::from_millis(300),
            room.set_attribute("blob", value.clone()),
        )
        .await;
        match sent {
            Ok(Ok(())) => accepted += 64 << 10,
            Ok(Err(e)) => return Err(format!("set_attribute failed: {e}")),
            Err(_) => break,
        }
        if accepted > limit {
            return Err(format!("{accepted} bytes accepted without back-pressure"));
        }
    }
    eprintln!(
        "back-pressure after {:.1} MiB",
        accepted as f64 / MIB as f64
    );
    check(!room.is_closed(), || "the client closed".into())?;
    let _ = resume_tx.send(());
    serves(&room).await
}

/// 0.56 only: `containers.build` pushes its source without pulls.
#[cfg(all(feature = "protocol-0-56", feature = "containers"))]
async fn push_upload_stalled() -> Result<(), String> {
    // The server opens a build stream, then stops reading; the app pushes an endless
    // source. Target: the upload stops being read from its source (back-pressure), memory
    // stays bounded, and the call fails within its deadline once the server is gone.
    let (listener, url) = listen().await;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let _server = spawn(async move {
        let Some(mut peer) = handshaken(&listener).await else {
            return;
        };
        let Some(id) = first_call(&mut peer).await else {
            return;
        };
        peer.reply(id, json!({"type": "control", "method": "open"}))
            .await;
        // Stalled: holds the socket, reads nothing, until told to go.
        let _ = stop_rx.await;
    });
    let (room, _events) = connected(connect(url)).await?;
    let read = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = read.clone();
    let piece = bytes::Bytes::from(vec![7u8; 64 << 10]);
    let endless = futures::stream::repeat_with(move || {
        counter.fetch_add(piece.len(), std::sync::atomic::Ordering::Relaxed);
        Ok::<_, std::io::Error>(piece.clone())
    });
    let build = room.containers().build(
        vec!["t".into()],
        "/m",
        ".",
        meshagent_room::ByteSource::from_stream(endless),
    );
    let call = tokio::spawn(std::future::IntoFuture::into_future(build));
    // Reading from the source must stall well before the memory bound.
    let mut last = 0;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = read.load(std::sync::atomic::Ordering::Relaxed);
        if now == last && now > 0 {
            break;
        }
        last = now;
    }
    let pulled = read.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!(
        "source read {:.1} MiB before back-pressure",
        pulled as f64 / MIB as f64
    );
    check(pulled < 24 * MIB, || {
        format!("{pulled} bytes read from the source without back-pressure")
    })?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let later = read.load(std::sync::atomic::Ordering::Relaxed);
    check(later == pulled, || {
        format!("the source is still read: {pulled} then {later} bytes")
    })?;
    let _ = stop_tx.send(());
    match bounded("the stalled build to fail", STEP, call).await? {
        Ok(Ok(v)) => Err(format!("the build succeeded against a gone server: {v:?}")),
        Ok(Err(_)) => Ok(()),
        Err(e) => Err(format!("build task: {e}")),
    }
}
