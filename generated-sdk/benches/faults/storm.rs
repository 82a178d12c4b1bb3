//! Section 4: a reconnection storm. 1000 rooms held by one client process, each with a
//! call the room has read but not answered; then the room restarts (its listener and every
//! connection closed, the port bound again after a while). Measured: the time until every
//! room is back (`ConnectionEvent::Reconnected`), the room's accept rate (peak over 100 ms
//! bins against the mean from its first accept to its last), that no room is lost, that
//! every unanswered call fails rather than being sent again (the room sees every
//! `tool_call_id` once), and the client's live heap before and after.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{FutureExt, SinkExt, StreamExt, TryStreamExt};
use meshagent_room::wire::framing::{encode_message, Reassembler};
use meshagent_room::wire::packing::{pack, unpack};
use meshagent_room::{ConnectionEvent, RoomClient, RoomEvent, RoomEvents};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::alloc::{CLIENT, ON_SERVER};
use crate::room::{room_url, BoxError};

/// What the room saw, over all its lives.
#[derive(Default)]
struct Seen {
    /// When each connection was accepted.
    accepts: Vec<Instant>,
    /// How many times each `tool_call_id` arrived.
    calls: HashMap<String, u32>,
}

struct Room {
    seen: Mutex<Seen>,
    /// Calls are read and recorded but not answered.
    stall: AtomicBool,
}

impl Room {
    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One life of the room: the accept loop owns every connection; aborting it closes all.
fn serve(
    rt: &tokio::runtime::Handle,
    listener: TcpListener,
    room: Arc<Room>,
) -> tokio::task::JoinHandle<()> {
    rt.spawn(async move {
        let mut conns = JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    if let Ok((tcp, _)) = accepted {
                        room.seen().accepts.push(Instant::now());
                        conns.spawn(connection(tcp, room.clone()));
                    }
                }
                Some(_) = conns.join_next() => {}
            }
        }
    })
}

async fn connection(tcp: TcpStream, room: Arc<Room>) -> Result<(), BoxError> {
    tcp.set_nodelay(true)?;
    let mut ws = tokio_tungstenite::accept_async(tcp).await?;
    let ready = json!({"room_name": "bench", "room_url": "ws://127.0.0.1/rooms/bench",
        "session_id": "s"});
    let connected = json!({"type": "init", "participantId": "p", "attributes": {}});
    for (id, (kind, header)) in [(1, ("room_ready", ready)), (2, ("connected", connected))] {
        for p in encode_message(id, kind, &pack(&header, &[])?) {
            ws.feed(WsMessage::Binary(p)).await?;
        }
    }
    ws.flush().await?;
    let reply = pack(&json!({"type": "json", "json": {"exists": true}}), &[])?;
    let mut reassembler = Reassembler::default();
    while let Some(WsMessage::Binary(packet)) = ws.next().await.transpose()? {
        let Some(m) = reassembler.push(packet)? else {
            continue;
        };
        if m.message_type != "room.invoke_tool" {
            continue;
        }
        let header = Value::Object(unpack(m.data)?.header);
        let id = header["tool_call_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        *room.seen().calls.entry(id).or_default() += 1;
        if !room.stall.load(Ordering::SeqCst) {
            for p in encode_message(m.id, "__response__", &reply) {
                ws.feed(WsMessage::Binary(p)).await?;
            }
            ws.flush().await?;
        }
    }
    Ok(())
}

/// Raises the soft open-files limit to the hard one: 1000 rooms are 2000 sockets here.
fn raise_open_files() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

pub struct Storm {
    pub rooms: usize,
    pub down: Duration,
    /// From the restart (listener and connections closed) to the last `Reconnected`.
    pub all_back: Duration,
    pub back_median: Duration,
    pub lost: usize,
    /// Accepts of the restarted room; its peak rate (per 25 ms bin), its mean rate over
    /// the busy span (5th to 95th percentile accept), and that span.
    pub accepts: usize,
    pub peak_rate: f64,
    pub mean_rate: f64,
    pub accept_span: Duration,
    /// The unanswered calls: how many failed, succeeded (should not), or hung (10 s).
    pub stalled_failed: usize,
    pub stalled_answered: usize,
    pub stalled_hung: usize,
    /// `tool_call_id`s the room saw more than once.
    pub resent: usize,
    /// Calls answered on the rooms once back (one each).
    pub after_ok: usize,
    /// The client's live heap: idle before, after the storm (rooms idle again).
    pub heap_before: isize,
    pub heap_after: isize,
}

async fn exists_each(rooms: &[(RoomClient, RoomEvents)], path: &str) -> Result<usize, BoxError> {
    let answers: Vec<bool> = futures::stream::iter(rooms.iter())
        .map(|(room, _)| std::future::IntoFuture::into_future(room.storage().exists(path)))
        .buffer_unordered(100)
        .try_collect()
        .await?;
    Ok(answers.into_iter().filter(|&a| a).count())
}

/// Peak accept rate (the busiest 25 ms bin) and mean rate over the busy span (from the
/// 5th to the 95th percentile accept: a few stragglers, e.g. a SYN retried after 1 s,
/// do not stretch it), with that span.
fn accept_rates(mut accepts: Vec<Duration>) -> (f64, f64, Duration) {
    let bin = Duration::from_millis(25);
    accepts.sort();
    let mut bins: HashMap<u128, usize> = HashMap::new();
    for a in &accepts {
        *bins.entry(a.as_micros() / bin.as_micros()).or_default() += 1;
    }
    let peak = bins.values().copied().max().unwrap_or(0) as f64 / bin.as_secs_f64();
    let n = accepts.len();
    if n < 2 {
        return (peak, 0.0, Duration::ZERO);
    }
    let (lo, hi) = (n / 20, n - 1 - n / 20);
    let span = (accepts[hi] - accepts[lo]).max(bin);
    ((peak), (hi - lo + 1) as f64 / span.as_secs_f64(), span)
}

/// Waits for this room's `Reconnected`; `None` if it closed (or its events ended) instead.
async fn back(events: &mut RoomEvents, at: Instant) -> Option<Duration> {
    while let Some(event) = events.next().await {
        match event {
            RoomEvent::Connection(ConnectionEvent::Reconnected { .. }) => {
                return Some(at.elapsed())
            }
            RoomEvent::Connection(ConnectionEvent::Closed { .. }) => return None,
            _ => {}
        }
    }
    None
}

/// The room's runtime: one worker thread whose heap is counted as the server's.
pub fn room_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    raise_open_files();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("faults-storm-room")
        .on_thread_start(|| ON_SERVER.with(|s| s.set(true)))
        .enable_all()
        .build()
}

/// Runs the storm with `count` rooms, the room's serving on `server_rt`.
pub async fn storm(
    server_rt: &tokio::runtime::Handle,
    count: usize,
    down: Duration,
) -> Result<Storm, BoxError> {
    let room = Arc::new(Room {
        seen: Mutex::default(),
        stall: AtomicBool::new(false),
    });
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let listener = socket.listen(4096)?;
    let addr: SocketAddr = listener.local_addr()?;
    let server = serve(server_rt, listener, room.clone());
    let url = room_url(addr)?;
    let mut rooms: Vec<(RoomClient, RoomEvents)> = futures::stream::iter(0..count)
        .map(|_| std::future::IntoFuture::into_future(RoomClient::connect(url.clone(), "t")))
        .buffer_unordered(100)
        .try_collect()
        .await?;
    if exists_each(&rooms, "before").await? != count {
        return Err("a call before the storm was not answered".into());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let heap_before = CLIENT.reset_peak();

    // One call per room that the room reads and leaves unanswered.
    room.stall.store(true, Ordering::SeqCst);
    let seen_before = room.seen().calls.len();
    let stalled: Vec<_> = rooms
        .iter()
        .map(|(r, _)| {
            let r = r.clone();
            tokio::spawn(async move { r.storage().exists("stalled").await })
        })
        .collect();
    let wait = Instant::now();
    while room.seen().calls.len() < seen_before + count {
        if wait.elapsed() > Duration::from_secs(10) {
            return Err("the stalled calls did not all reach the room".into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // The restart: listener and connections gone, the port bound again after `down`.
    server.abort();
    let _ = server.await;
    let at = Instant::now();
    let restart = async {
        tokio::time::sleep(down).await;
        room.stall.store(false, Ordering::SeqCst);
        // A listen backlog as a real server's (tokio's `bind` gives 1024): a full backlog
        // drops SYNs, which clients retry only after a second.
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        let listener = socket.listen(4096)?;
        Ok::<_, BoxError>((Instant::now(), serve(server_rt, listener, room.clone())))
    };
    let everyone_back = async {
        let waits = rooms.iter_mut().map(|(_, events)| back(events, at));
        tokio::time::timeout(Duration::from_secs(120), futures::future::join_all(waits)).await
    };
    let (restarted, backs) = tokio::join!(restart, everyone_back);
    let (up_at, server) = restarted?;
    let backs = backs.map_err(|_| "not every room was back within 120 s")?;
    let mut times: Vec<Duration> = backs.iter().flatten().copied().collect();
    times.sort();
    let lost = count - times.len();

    let (mut stalled_failed, mut stalled_answered, mut stalled_hung) = (0, 0, 0);
    for call in stalled {
        match tokio::time::timeout(Duration::from_secs(10), call).await {
            Ok(Ok(Err(_))) => stalled_failed += 1,
            Ok(Ok(Ok(_))) => stalled_answered += 1,
            _ => stalled_hung += 1,
        }
    }
    let after_ok = exists_each(&rooms, "after").await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The app reads its events: what came after `Reconnected` is taken too.
    for (_, events) in rooms.iter_mut() {
        while let Some(Some(_)) = events.next().now_or_never() {}
    }
    let heap_after = CLIENT.reset_peak();

    let (accepts, resent) = {
        let seen = room.seen();
        let accepts: Vec<Duration> = seen
            .accepts
            .iter()
            .filter(|t| **t >= up_at)
            .map(|t| t.duration_since(up_at))
            .collect();
        (accepts, seen.calls.values().filter(|&&n| n > 1).count())
    };
    let (peak_rate, mean_rate, accept_span) = accept_rates(accepts.clone());
    server.abort();
    drop(rooms);
    Ok(Storm {
        rooms: count,
        down,
        all_back: times.last().copied().unwrap_or_default(),
        back_median: times.get(times.len() / 2).copied().unwrap_or_default(),
        lost,
        accepts: accepts.len(),
        peak_rate,
        mean_rate,
        accept_span,
        stalled_failed,
        stalled_answered,
        stalled_hung,
        resent,
        after_ok,
        heap_before,
        heap_after,
    })
}
