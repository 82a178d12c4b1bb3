//! Section 1: how long the client takes to notice a dead peer. A room that stops
//! answering entirely (it keeps the socket open but reads nothing, so no pong) is found by
//! the keepalive; a socket closed or reset by the room is noticed at once.

use std::time::{Duration, Instant};

use futures::StreamExt;
use meshagent_room::{ConnectionEvent, Keepalive, RoomClient, RoomEvent, RoomEvents};
use tokio::sync::oneshot;

use crate::room::{accept, frame, listen, BoxError};
use crate::Samples;

/// Waits for the first connection report that the connection is gone; its reason.
async fn lost(events: &mut RoomEvents, limit: Duration) -> Result<String, BoxError> {
    let wait = async {
        while let Some(event) = events.next().await {
            match event {
                RoomEvent::Connection(ConnectionEvent::Disconnected { reason })
                | RoomEvent::Connection(ConnectionEvent::Closed { reason }) => return Ok(reason),
                _ => continue,
            }
        }
        Err::<String, BoxError>("the event stream ended without a report".into())
    };
    tokio::time::timeout(limit, wait)
        .await
        .map_err(|_| format!("no loss reported within {limit:?}"))?
}

/// One silent room: the time from the client's last frame from it (the end of the
/// handshake, as `connect` returns) to the loss report.
async fn silent_once(keepalive: Keepalive) -> Result<(Duration, String), BoxError> {
    let (listener, url) = listen().await?;
    let (done_tx, done_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        // Holds the socket open, reading and writing nothing, until the run is over.
        let tcp = accept(&listener, "s-1").await?;
        let _ = done_rx.await;
        drop(tcp);
        Ok::<_, BoxError>(())
    });
    let (room, mut events) = RoomClient::connect(url, "bench-token")
        .keepalive(Some(keepalive))
        .reconnect(None)
        .await?;
    let started = Instant::now();
    let limit = (keepalive.interval + keepalive.timeout) * 3 + Duration::from_secs(2);
    let reason = lost(&mut events, limit).await?;
    let took = started.elapsed();
    let _ = done_tx.send(());
    server.await??;
    room.close().await;
    Ok((took, reason))
}

/// How the room goes away in the immediate cases.
#[derive(Debug, Clone, Copy)]
pub enum Gone {
    /// The room closes its socket (FIN), no close frame.
    Fin,
    /// The room resets the connection (SO_LINGER 0, then close: RST).
    Reset,
    /// A websocket close frame (1001 going away), then FIN.
    CloseFrame,
}

impl Gone {
    pub fn label(self) -> &'static str {
        match self {
            Gone::Fin => "TCP close (FIN), no close frame",
            Gone::Reset => "TCP reset (RST: SO_LINGER 0, then close)",
            Gone::CloseFrame => "websocket close 1001, then FIN",
        }
    }
}

/// One dropped connection: the time from just before the room's drop to the loss report.
async fn dropped_once(how: Gone) -> Result<(Duration, String), BoxError> {
    let (listener, url) = listen().await?;
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let (at_tx, at_rx) = oneshot::channel::<Instant>();
    let server = tokio::spawn(async move {
        let mut tcp = accept(&listener, "s-1").await?;
        let _ = go_rx.await;
        let at = Instant::now();
        match how {
            Gone::Fin => drop(tcp),
            Gone::Reset => {
                tcp.set_zero_linger()?;
                drop(tcp);
            }
            Gone::CloseFrame => {
                use tokio::io::AsyncWriteExt;
                let close = [&1001u16.to_be_bytes()[..], b"restarting"].concat();
                tcp.write_all(&frame(8, &close)).await?;
                drop(tcp);
            }
        }
        let _ = at_tx.send(at);
        Ok::<_, BoxError>(())
    });
    let (room, mut events) = RoomClient::connect(url, "bench-token")
        .reconnect(None)
        .await?;
    // The client is idle, parked on its socket, when the room goes.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let _ = go_tx.send(());
    let reason = lost(&mut events, Duration::from_secs(5)).await?;
    let seen = Instant::now();
    let at = at_rx.await?;
    server.await??;
    room.close().await;
    Ok((seen.saturating_duration_since(at), reason))
}

pub struct SilentRow {
    pub keepalive: Keepalive,
    pub samples: Samples,
    pub reason: String,
}

pub struct DropRow {
    pub how: Gone,
    pub samples: Samples,
    pub reason: String,
}

pub async fn silent(settings: &[(Keepalive, usize)]) -> Result<Vec<SilentRow>, BoxError> {
    let mut rows = Vec::new();
    for &(keepalive, runs) in settings {
        let mut samples = Samples::default();
        let mut reason = String::new();
        for _ in 0..runs {
            let (took, why) = silent_once(keepalive).await?;
            samples.push(took);
            reason = why;
        }
        rows.push(SilentRow {
            keepalive,
            samples,
            reason,
        });
    }
    Ok(rows)
}

pub async fn dropped(runs: usize) -> Result<Vec<DropRow>, BoxError> {
    let mut rows = Vec::new();
    for how in [Gone::Fin, Gone::Reset, Gone::CloseFrame] {
        let mut samples = Samples::default();
        let mut reason = String::new();
        for _ in 0..runs {
            let (took, why) = dropped_once(how).await?;
            samples.push(took);
            reason = why;
        }
        rows.push(DropRow {
            how,
            samples,
            reason,
        });
    }
    Ok(rows)
}
