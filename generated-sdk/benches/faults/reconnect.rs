//! Section 2: how long the client takes to come back. The room drops the connection (TCP
//! close) and accepts again at once, or restarts: its listener is closed for a while, then
//! bound again on the same port. Timed from the drop to `ConnectionEvent::Reconnected`
//! (handshake done and the client's state restored; with no state here, restoring is
//! instant).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use meshagent_room::{ConnectionEvent, ReconnectPolicy, RoomClient, RoomEvent, RoomEvents};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::room::{accept, room_url, BoxError};
use crate::Samples;

/// Accepts every client on `listener` (upgrade and handshake, a new session each) and
/// passes its socket on.
fn accept_loop(
    listener: TcpListener,
    sessions: Arc<AtomicU32>,
    conns: mpsc::UnboundedSender<TcpStream>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let n = sessions.fetch_add(1, Ordering::Relaxed) + 1;
            if let Ok(tcp) = accept(&listener, &format!("s-{n}")).await {
                if conns.send(tcp).is_err() {
                    return;
                }
            }
        }
    })
}

/// What one reconnection looked like.
struct Back {
    /// From the drop to `Reconnected`.
    took: Duration,
    /// The sum of the backoff delays announced by `Reconnecting`.
    delays: Duration,
    attempts: u32,
}

/// Waits for `Reconnected`, adding up the announced delays.
async fn reconnected(events: &mut RoomEvents, at: Instant) -> Result<Back, BoxError> {
    let mut delays = Duration::ZERO;
    let mut attempts = 0;
    let wait = async {
        while let Some(event) = events.next().await {
            match event {
                RoomEvent::Connection(ConnectionEvent::Reconnecting { attempt, delay }) => {
                    attempts = attempt;
                    delays += delay;
                }
                RoomEvent::Connection(ConnectionEvent::Reconnected { .. }) => {
                    return Ok(at.elapsed());
                }
                RoomEvent::Connection(ConnectionEvent::Closed { reason }) => {
                    return Err::<Duration, BoxError>(format!("closed: {reason}").into())
                }
                _ => continue,
            }
        }
        Err("the event stream ended".into())
    };
    let took = tokio::time::timeout(Duration::from_secs(20), wait)
        .await
        .map_err(|_| "not reconnected within 20 s")??;
    Ok(Back {
        took,
        delays,
        attempts,
    })
}

pub struct Row {
    pub scenario: String,
    pub policy: &'static str,
    pub took: Samples,
    /// Time beyond the announced backoff delays (loss detection, dials, handshake).
    pub beyond: Samples,
    pub attempts: (u32, u32),
}

fn row(scenario: String, policy: &'static str, backs: &[Back]) -> Row {
    let mut took = Samples::default();
    let mut beyond = Samples::default();
    for b in backs {
        took.push(b.took);
        beyond.push(b.took.saturating_sub(b.delays));
    }
    let attempts = (
        backs.iter().map(|b| b.attempts).min().unwrap_or(0),
        backs.iter().map(|b| b.attempts).max().unwrap_or(0),
    );
    Row {
        scenario,
        policy,
        took,
        beyond,
        attempts,
    }
}

async fn connect(
    addr: SocketAddr,
    policy: &ReconnectPolicy,
) -> Result<(RoomClient, RoomEvents), BoxError> {
    Ok(RoomClient::connect(room_url(addr)?, "bench-token")
        .reconnect(Some(policy.clone()))
        .await?)
}

async fn next_conn(conns: &mut mpsc::UnboundedReceiver<TcpStream>) -> Result<TcpStream, BoxError> {
    tokio::time::timeout(Duration::from_secs(20), conns.recv())
        .await
        .map_err(|_| "no connection from the client")?
        .ok_or_else(|| "the accept loop ended".into())
}

/// The room drops the connection `runs` times and accepts again at once.
pub async fn drops(
    policy: ReconnectPolicy,
    name: &'static str,
    runs: usize,
) -> Result<Row, BoxError> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (tx, mut conns) = mpsc::unbounded_channel();
    let server = accept_loop(listener, Arc::default(), tx);
    let (room, mut events) = connect(addr, &policy).await?;
    let mut current = next_conn(&mut conns).await?;
    let mut backs = Vec::new();
    for _ in 0..runs {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let at = Instant::now();
        drop(current);
        backs.push(reconnected(&mut events, at).await?);
        current = next_conn(&mut conns).await?;
    }
    room.close().await;
    server.abort();
    Ok(row(
        "room drops the TCP connection, accepts again at once".into(),
        name,
        &backs,
    ))
}

/// The room restarts `runs` times: listener and connection closed, the port bound again
/// after `down`.
pub async fn restarts(
    policy: ReconnectPolicy,
    name: &'static str,
    runs: usize,
    down: Duration,
) -> Result<Row, BoxError> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let sessions = Arc::new(AtomicU32::new(0));
    let (tx, mut conns) = mpsc::unbounded_channel();
    let mut server = accept_loop(listener, sessions.clone(), tx.clone());
    let (room, mut events) = connect(addr, &policy).await?;
    let mut current = next_conn(&mut conns).await?;
    let mut backs = Vec::new();
    for _ in 0..runs {
        tokio::time::sleep(Duration::from_millis(20)).await;
        // The listener goes first (the task owns it), then the connection.
        server.abort();
        let _ = server.await;
        let at = Instant::now();
        drop(current);
        let back = async {
            tokio::time::sleep(down.saturating_sub(at.elapsed())).await;
            let listener = TcpListener::bind(addr).await?;
            Ok::<_, BoxError>(accept_loop(listener, sessions.clone(), tx.clone()))
        };
        let (restarted, reconnection) = tokio::join!(back, reconnected(&mut events, at));
        server = restarted?;
        backs.push(reconnection?);
        current = next_conn(&mut conns).await?;
    }
    room.close().await;
    server.abort();
    Ok(row(
        format!(
            "room restarts: listener closed {} s, then bound again on the same port",
            down.as_secs_f64()
        ),
        name,
        &backs,
    ))
}
