//! 1000 rooms in one process, one call each, then all dropped: the live heap and the
//! runtime's task count return to where they were before the first room, so nothing is
//! kept per room. Its own test binary: its global allocator counts this process alone.

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::IntoFuture;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt, TryStreamExt};
use meshagent_room::wire::framing::{encode_message, Reassembler};
use meshagent_room::wire::packing::pack;
use meshagent_room::{room_url, RoomClient};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// Live heap bytes, counted at every allocation and free.
struct Counting(AtomicUsize);

// SAFETY: every call is forwarded to `System` unchanged; only the counter is updated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            self.0.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            self.0.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        self.0.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            self.0.fetch_sub(layout.size(), Ordering::Relaxed);
            self.0.fetch_add(new_size, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static HEAP: Counting = Counting(AtomicUsize::new(0));

const ROOMS: usize = 1000;
/// Heap a room may leave behind, on average (a leak of one small allocation per room,
/// 32 bytes or more, fails the test).
const RESIDUE_PER_ROOM: usize = 32;

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

/// The room: greets each connection and answers every `room.invoke_tool` with
/// `{"exists": true}` until the client goes.
async fn room(tcp: TcpStream) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut ws = tokio_tungstenite::accept_async(tcp).await?;
    let ready = json!({"room_name": "r", "room_url": "ws://127.0.0.1/rooms/r", "session_id": "s"});
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
        if let Some(m) = reassembler.push(packet)? {
            if m.message_type == "room.invoke_tool" {
                for p in encode_message(m.id, "__response__", &reply) {
                    ws.feed(WsMessage::Binary(p)).await?;
                }
                ws.flush().await?;
            }
        }
    }
    Ok(())
}

/// Waits (10 s at most) until the runtime has `tasks` tasks alive and the heap is at most
/// `heap` bytes; returns what it last saw.
async fn settle_to(tasks: usize, heap: usize) -> (usize, usize) {
    let metrics = tokio::runtime::Handle::current().metrics();
    let started = Instant::now();
    loop {
        let seen = (metrics.num_alive_tasks(), HEAP.0.load(Ordering::Relaxed));
        if (seen.0 <= tasks && seen.1 <= heap) || started.elapsed() > Duration::from_secs(10) {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_rooms_leave_nothing_behind() {
    raise_open_files();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(room(tcp));
        }
    });
    let url = room_url(&format!("http://{addr}"), "r").expect("url");
    let connect = || RoomClient::connect(url.clone(), "token").into_future();
    let one_each = |rooms: Vec<(RoomClient, meshagent_room::RoomEvents)>| async move {
        futures::stream::iter(rooms.iter())
            .map(|(room, _)| room.storage().exists("f").into_future())
            .buffer_unordered(100)
            .try_collect::<Vec<bool>>()
            .await
            .map(|answers| (rooms, answers))
    };

    // A first room, dropped, so that what is made once per process (the runtime's and
    // the TLS-free connector's lazies, the tracing callsites) is in the baseline.
    let warm: Vec<_> = vec![connect().await.expect("connect")];
    let (warm, answers) = one_each(warm).await.expect("call");
    assert_eq!(answers, vec![true]);
    drop(warm);
    let metrics = tokio::runtime::Handle::current().metrics();
    let (base_tasks, _) = settle_to(1, usize::MAX).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let base_heap = HEAP.0.load(Ordering::Relaxed);

    let rooms: Vec<_> = futures::stream::iter(0..ROOMS)
        .map(|_| connect())
        .buffer_unordered(100)
        .try_collect()
        .await
        .expect("connect 1000 rooms");
    let (rooms, answers) = one_each(rooms).await.expect("one call on each room");
    assert!(answers.iter().all(|&a| a), "every call answered");
    let (held_tasks, held_heap) = (metrics.num_alive_tasks(), HEAP.0.load(Ordering::Relaxed));
    // The counters do see rooms: one I/O task each here, one room task each in the server.
    assert!(
        held_tasks >= base_tasks + 2 * ROOMS,
        "{held_tasks} tasks with {ROOMS} rooms, {base_tasks} before"
    );
    assert!(
        held_heap > base_heap + ROOMS * 1024,
        "{held_heap} bytes held, {base_heap} before"
    );

    drop(rooms);
    let (tasks, heap) = settle_to(base_tasks, base_heap + ROOMS * RESIDUE_PER_ROOM).await;
    eprintln!(
        "{ROOMS} rooms: {held_tasks} tasks and {} KiB of heap held, {tasks} tasks and {:+} \
         bytes of heap left after dropping them (baseline {base_tasks} tasks)",
        (held_heap - base_heap) / 1024,
        heap as isize - base_heap as isize
    );
    assert_eq!(
        tasks, base_tasks,
        "tasks alive after dropping the rooms (baseline {base_tasks}, {held_tasks} while held)"
    );
    assert!(
        heap <= base_heap + ROOMS * RESIDUE_PER_ROOM,
        "live heap {heap} bytes after dropping {ROOMS} rooms, baseline {base_heap} \
         ({held_heap} while held): {} bytes left per room",
        heap.saturating_sub(base_heap) / ROOMS
    );
}
