//! Storage upload and download throughput and memory over a real loopback websocket.
//!
//! A tokio-tungstenite server on 127.0.0.1:0 runs in this process on its own multi-thread
//! runtime and follows the storage flow control (upload: pull 64 KiB until the announced
//! size is in, then close; download: announce the size, answer each pull with the next
//! 64 KiB, close after the last byte). The client is the generated SDK on another
//! multi-thread runtime, driven from `block_on` as `#[tokio::main]` does:
//! `room.storage().upload(path, ByteSource)` fed from a lazily generated stream of 64 KiB
//! chunks, and `room.storage().download(path).await?.write_to(&mut tokio::io::sink())`.
//!
//! Baselines move the same file bytes over the same kind of socket, in the same direction,
//! with tokio-tungstenite alone: every 1024 bytes of payload become one 1036-byte binary
//! message (the SDK's data packet: 12-byte prefix + 1024 bytes), generated and flushed
//! 64 KiB at a time. `raw` streams with no flow control (the ratio's reference);
//! `raw+pull` adds one round trip per 64 KiB chunk (the receiver asks for each chunk with a
//! 4-byte message), i.e. what the storage flow control costs before any SDK code runs.
//!
//! Besides MB/s the table shows on-CPU time (from `/proc/self/task/*/schedstat`, client and
//! server threads apart) and memory: a counting global allocator keeps live and peak heap
//! bytes separately for the client side (client runtime + main thread) and the server
//! runtime. Shown is the peak growth of live heap over its level at the start of each
//! transfer (the largest over all runs, warm-up included), and the growth of peak RSS
//! (VmHWM, reset through `/proc/self/clear_refs` before each transfer).
//!
//! `cargo bench -p meshagent-room --bench transfer` runs it (7 timed runs after a warm-up,
//! 64 and 256 MiB); without `--bench` (e.g. `cargo test --benches`) it only runs a 1 MiB
//! smoke pass. `TRANSFER_SIZES_MIB=64,256`, `TRANSFER_RUNS=7`,
//! `TRANSFER_CLIENT_THREADS` and `TRANSFER_SERVER_THREADS` override the defaults;
//! `TRANSFER_ONLY=raw|raw+pull|sdk` runs one path alone (for profiling);
//! `TRANSFER_PULL_KIB` changes the pulled chunk size (a diagnostic: per-chunk versus
//! per-byte cost).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures::{SinkExt, StreamExt};
use meshagent_room::wire::framing::{encode_message_parts, Limits, Message, Reassembler};
use meshagent_room::wire::packing::{pack_header, unpack};
use meshagent_room::{room_url, ByteSource, RoomClient};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

// ---------------------------------------------------------------------------------------
// Counting allocator
// ---------------------------------------------------------------------------------------

/// Live and peak heap bytes of one side.
struct Counter {
    live: AtomicIsize,
    peak: AtomicIsize,
}

impl Counter {
    const fn new() -> Counter {
        Counter {
            live: AtomicIsize::new(0),
            peak: AtomicIsize::new(0),
        }
    }

    fn add(&self, n: usize) {
        let now = self.live.fetch_add(n as isize, Ordering::Relaxed) + n as isize;
        self.peak.fetch_max(now, Ordering::Relaxed);
    }

    fn sub(&self, n: usize) {
        self.live.fetch_sub(n as isize, Ordering::Relaxed);
    }

    /// Starts a window: the peak restarts at the current live level, which is returned.
    fn reset_peak(&self) -> isize {
        let live = self.live.load(Ordering::Relaxed);
        self.peak.store(live, Ordering::Relaxed);
        live
    }

    fn peak(&self) -> isize {
        self.peak.load(Ordering::Relaxed)
    }

    fn live(&self) -> isize {
        self.live.load(Ordering::Relaxed)
    }
}

static CLIENT_HEAP: Counter = Counter::new();
static SERVER_HEAP: Counter = Counter::new();

thread_local! {
    /// Set on the server runtime's threads. `const` and without a destructor, so reading
    /// it from the allocator never allocates.
    static ON_SERVER: Cell<bool> = const { Cell::new(false) };
}

fn counter() -> &'static Counter {
    if ON_SERVER.try_with(Cell::get).unwrap_or(false) {
        &SERVER_HEAP
    } else {
        &CLIENT_HEAP
    }
}

struct Counting;

// SAFETY: every call is forwarded to `System`; the counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            counter().add(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            counter().add(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        counter().sub(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            let c = counter();
            c.add(new_size);
            c.sub(layout.size());
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

// ---------------------------------------------------------------------------------------
// Measurement helpers
// ---------------------------------------------------------------------------------------

/// What one transfer cost.
#[derive(Debug, Clone, Copy)]
struct Sample {
    elapsed: Duration,
    /// On-CPU time of the client runtime's threads and the main thread.
    client_cpu: Duration,
    /// On-CPU time of the in-process server runtime's threads.
    server_cpu: Duration,
    /// Peak live-heap growth during the transfer, client side.
    client_heap: isize,
    /// Peak live-heap growth during the transfer, in-process server side.
    server_heap: isize,
    /// Live-heap change from start to end, both sides (a leak shows here).
    retained: isize,
    /// Growth of the process's peak RSS (VmHWM) over VmRSS at the start.
    rss: Option<i64>,
}

fn status_kib(key: &str) -> Option<i64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Name of the server runtime's threads (how CPU time is told apart).
const SERVER_THREAD: &str = "bench-server";

/// On-CPU nanoseconds of (client, server) threads so far, from `/proc/self/task/*/schedstat`.
/// Threads that exited in between are missed; the runtimes keep theirs for the whole run.
fn cpu_ns() -> (u64, u64) {
    let (mut client, mut server) = (0, 0);
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return (0, 0);
    };
    for task in tasks.flatten() {
        let path = task.path();
        let Some(ns) = std::fs::read_to_string(path.join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        else {
            continue;
        };
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if comm.trim() == SERVER_THREAD {
            server += ns;
        } else {
            client += ns;
        }
    }
    (client, server)
}

struct Window {
    start: Instant,
    cpu: (u64, u64),
    client: isize,
    server: isize,
    rss: Option<i64>,
}

impl Window {
    fn open() -> Window {
        // "5" resets VmHWM to the current RSS (Linux >= 4.0).
        let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        let rss = if reset { status_kib("VmRSS:") } else { None };
        Window {
            cpu: cpu_ns(),
            client: CLIENT_HEAP.reset_peak(),
            server: SERVER_HEAP.reset_peak(),
            rss,
            start: Instant::now(),
        }
    }

    fn close(self) -> Sample {
        let elapsed = self.start.elapsed();
        let cpu = cpu_ns();
        Sample {
            elapsed,
            client_cpu: Duration::from_nanos(cpu.0.saturating_sub(self.cpu.0)),
            server_cpu: Duration::from_nanos(cpu.1.saturating_sub(self.cpu.1)),
            client_heap: CLIENT_HEAP.peak() - self.client,
            server_heap: SERVER_HEAP.peak() - self.server,
            retained: CLIENT_HEAP.live() + SERVER_HEAP.live() - self.client - self.server,
            rss: self
                .rss
                .and_then(|before| Some((status_kib("VmHWM:")? - before) * 1024)),
        }
    }
}

// ---------------------------------------------------------------------------------------
// The file: generated on the fly, 64 KiB at a time
// ---------------------------------------------------------------------------------------

const CHUNK: usize = 64 * 1024;
/// Payload bytes per websocket message (the SDK's data packets).
const PACKET_PAYLOAD: usize = 1024;
/// `[u64 id][u32 index]` in front of each data packet.
const PACKET_PREFIX: usize = 12;
const MIB: u64 = 1 << 20;

/// Bytes the server pulls per upload chunk and the client asks for per download chunk:
/// 64 KiB (the SDKs' default) unless `TRANSFER_PULL_KIB` says otherwise (a diagnostic: it
/// shows how much of the cost is per chunk rather than per byte).
static PULL: AtomicUsize = AtomicUsize::new(CHUNK);

fn pull_size() -> usize {
    PULL.load(Ordering::Relaxed)
}

/// The byte chunk `k` of every file is filled with.
fn fill(k: u64) -> u8 {
    (k % 251) as u8 + 1
}

/// The byte at `offset` of every file.
fn byte_at(offset: u64) -> u8 {
    fill(offset / CHUNK as u64)
}

/// `len` bytes of a file from `offset`, freshly allocated (the server's download data).
fn file_bytes(offset: u64, len: usize) -> Bytes {
    let mut v = Vec::with_capacity(len);
    while v.len() < len {
        let at = offset + v.len() as u64;
        let segment = (CHUNK - (at % CHUNK as u64) as usize).min(len - v.len());
        v.resize(v.len() + segment, byte_at(at));
    }
    v.into()
}

/// Chunk `k` of a file of `size` bytes: a fresh allocation, so the allocator sees what the
/// transfer keeps alive.
fn file_chunk(k: u64, size: u64) -> Bytes {
    let len = (size - k * CHUNK as u64).min(CHUNK as u64) as usize;
    Bytes::from(vec![fill(k); len])
}

fn chunk_count(size: u64) -> u64 {
    size.div_ceil(CHUNK as u64)
}

/// The path under which the scripted server serves a file of `size` bytes.
fn file_path(size: u64) -> String {
    format!("bench/{size}.bin")
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn bad(msg: impl Into<String>) -> BoxError {
    msg.into().into()
}

// ---------------------------------------------------------------------------------------
// The in-process server
// ---------------------------------------------------------------------------------------

type ServerWs = WebSocketStream<TcpStream>;

/// Accepts connections forever; `/rooms/...` gets the scripted room, `/raw` the baseline.
async fn serve(listener: TcpListener) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            let _ = tcp.set_nodelay(true);
            let mut path = String::new();
            // The signature is tungstenite's `Callback`.
            #[allow(clippy::result_large_err)]
            let callback = |req: &Request, resp: Response| {
                path = req.uri().path().to_string();
                Ok(resp)
            };
            let ws = match tokio_tungstenite::accept_hdr_async(tcp, callback).await {
                Ok(ws) => ws,
                Err(e) => return eprintln!("server: handshake failed: {e}"),
            };
            let result = if path.starts_with("/rooms/") {
                serve_room(Peer::new(ws)).await
            } else {
                serve_raw(ws).await
            };
            if let Err(e) = result {
                eprintln!("server: {e}");
            }
        });
    }
}

/// A scripted room server speaking the SDK's framing and packing (as `tests/streams.rs`).
/// Like a real server it batches its writes: a chunk's acknowledgement is queued and goes
/// out in one flush with the pull or data that follows it (or before the next read).
struct Peer {
    ws: ServerWs,
    reassembler: Reassembler,
    next_id: u64,
    unflushed: bool,
}

/// A message from the client: id, type, header, tail.
type Sent = (u64, String, Value, Bytes);

impl Peer {
    fn new(ws: ServerWs) -> Peer {
        Peer {
            ws,
            reassembler: Reassembler::new(Limits::default()),
            next_id: 1 << 32,
            unflushed: false,
        }
    }

    async fn send(
        &mut self,
        id: u64,
        packet_type: &str,
        header: &Value,
        tail: &[u8],
    ) -> Result<(), BoxError> {
        self.queue(id, packet_type, header, tail).await?;
        self.unflushed = false;
        Ok(self.ws.flush().await?)
    }

    /// Writes a message without flushing it; the next `send` or `recv` flushes.
    async fn queue(
        &mut self,
        id: u64,
        packet_type: &str,
        header: &Value,
        tail: &[u8],
    ) -> Result<(), BoxError> {
        let head = pack_header(header)?;
        for p in encode_message_parts(id, packet_type, &[&head, tail]) {
            self.ws.feed(WsMessage::Binary(p)).await?;
        }
        self.unflushed = true;
        Ok(())
    }

    async fn push(
        &mut self,
        packet_type: &str,
        header: &Value,
        tail: &[u8],
    ) -> Result<(), BoxError> {
        self.next_id += 1;
        self.send(self.next_id, packet_type, header, tail).await
    }

    /// The next whole message, or `None` once the client has gone.
    async fn recv(&mut self) -> Result<Option<Sent>, BoxError> {
        if self.unflushed {
            self.unflushed = false;
            self.ws.flush().await?;
        }
        while let Some(frame) = self.ws.next().await {
            let packet = match frame {
                Ok(WsMessage::Binary(b)) => b,
                Ok(WsMessage::Close(_)) | Err(_) => break,
                Ok(_) => continue,
            };
            if let Some(Message {
                id,
                message_type,
                data,
            }) = self.reassembler.push(packet)?
            {
                let p = unpack(data)?;
                return Ok(Some((id, message_type, Value::Object(p.header), p.tail)));
            }
        }
        Ok(None)
    }

    /// Expects a request chunk, acknowledges it, returns its chunk header and tail.
    async fn chunk(&mut self) -> Result<(Value, Bytes), BoxError> {
        let (id, kind, mut header, tail) = self
            .recv()
            .await?
            .ok_or_else(|| bad("client left mid-stream"))?;
        if kind != "room.tool_call_request_chunk" {
            return Err(bad(format!("expected a request chunk, got {kind}")));
        }
        self.queue(id, "__response__", &json!({"type": "empty"}), &[])
            .await?;
        Ok((header["chunk"].take(), tail))
    }

    async fn respond(&mut self, call: &str, chunk: Value, tail: &[u8]) -> Result<(), BoxError> {
        let header = json!({"tool_call_id": call, "chunk": chunk});
        self.push("room.tool_call_response_chunk", &header, tail)
            .await
    }
}

fn close_chunk() -> Value {
    json!({"type": "control", "method": "close", "status_code": 1000})
}

fn is_close(chunk: &Value) -> bool {
    chunk["type"] == "control" && chunk["method"] == "close"
}

async fn serve_room(mut peer: Peer) -> Result<(), BoxError> {
    let ready = json!({"room_name": "bench", "room_url": "ws://127.0.0.1", "session_id": "s"});
    peer.push("room_ready", &ready, &[]).await?;
    let connected = json!({"type": "init", "participantId": "p", "attributes": {}});
    peer.push("connected", &connected, &[]).await?;
    while let Some((id, kind, header, _)) = peer.recv().await? {
        if kind != "room.invoke_tool" {
            return Err(bad(format!("expected room.invoke_tool, got {kind}")));
        }
        let call = header["tool_call_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let open = json!({"type": "control", "method": "open"});
        peer.send(id, "__response__", &open, &[]).await?;
        let (start, _) = peer.chunk().await?;
        match (header["toolkit"].as_str(), header["tool"].as_str()) {
            (Some("storage"), Some("upload")) => serve_upload(&mut peer, &call, &start).await?,
            (Some("storage"), Some("download")) => serve_download(&mut peer, &call, &start).await?,
            other => return Err(bad(format!("unexpected tool {other:?}"))),
        }
    }
    Ok(())
}

/// Pulls [`pull_size`] bytes at a time until the announced size is in (or, without a size, until the
/// client closes its side), then closes.
async fn serve_upload(peer: &mut Peer, call: &str, start: &Value) -> Result<(), BoxError> {
    let size = start["headers"]["size"].as_u64();
    let pull = json!({"type": "binary", "headers": {"kind": "pull", "chunk_size": pull_size()}});
    let mut received = 0u64;
    let mut client_closed = false;
    while size.is_none_or(|s| received < s) {
        peer.respond(call, pull.clone(), &[]).await?;
        let (chunk, tail) = peer.chunk().await?;
        if is_close(&chunk) {
            client_closed = true;
            break;
        }
        if chunk["headers"]["kind"] != "data" {
            return Err(bad(format!("expected data, got {chunk}")));
        }
        let end = received + tail.len() as u64;
        if tail.first() != Some(&byte_at(received)) || tail.last() != Some(&byte_at(end - 1)) {
            return Err(bad(format!("wrong bytes at offset {received}")));
        }
        received += tail.len() as u64;
    }
    if size.is_some_and(|s| s != received) {
        return Err(bad(format!("got {received} of {size:?} bytes")));
    }
    peer.respond(call, close_chunk(), &[]).await?;
    if !client_closed {
        let (chunk, _) = peer.chunk().await?;
        if !is_close(&chunk) {
            return Err(bad(format!("expected the client's close, got {chunk}")));
        }
    }
    Ok(())
}

/// Announces the file, answers each pull with the next chunk, closes after the last byte.
async fn serve_download(peer: &mut Peer, call: &str, start: &Value) -> Result<(), BoxError> {
    let headers = &start["headers"];
    let path = headers["path"].as_str().unwrap_or_default();
    let size: u64 = path
        .strip_prefix("bench/")
        .and_then(|s| s.strip_suffix(".bin"))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(format!("no such file {path}")))?;
    let chunk_size = headers["chunk_size"]
        .as_u64()
        .filter(|n| *n > 0)
        .ok_or_else(|| bad(format!("no chunk_size in {start}")))?;
    let announce = json!({"type": "binary", "headers": {"kind": "start", "name": path,
        "mime_type": "application/octet-stream", "size": size}});
    peer.respond(call, announce, &[]).await?;
    let data = json!({"type": "binary", "headers": {"kind": "data"}});
    let mut sent = 0;
    while sent < size {
        let (pull, _) = peer.chunk().await?;
        if pull["headers"]["kind"] != "pull" {
            return Err(bad(format!("expected a pull, got {pull}")));
        }
        let n = chunk_size.min(size - sent);
        peer.respond(call, data.clone(), &file_bytes(sent, n as usize))
            .await?;
        sent += n;
    }
    peer.respond(call, close_chunk(), &[]).await?;
    let (chunk, _) = peer.chunk().await?;
    if !is_close(&chunk) {
        return Err(bad(format!("expected the client's close, got {chunk}")));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The raw baseline
// ---------------------------------------------------------------------------------------

/// How a raw transfer paces itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pacing {
    /// As fast as the socket takes it: the throughput ceiling.
    Stream,
    /// One round trip per chunk, like the storage flow control but without the SDK: the
    /// receiver asks for each chunk with a 4-byte message and the sender waits for it.
    Pull,
}

const RAW_UPLOAD: u8 = 1;
const RAW_DOWNLOAD: u8 = 2;
const RAW_UPLOAD_PULLED: u8 = 3;
const RAW_DOWNLOAD_PULLED: u8 = 4;
const RAW_PULL: &[u8] = b"pull";
const RAW_DONE: &[u8] = b"done";

fn raw_request(op: u8, size: u64) -> WsMessage {
    let mut m = vec![op];
    m.extend_from_slice(&size.to_be_bytes());
    WsMessage::Binary(m.into())
}

/// `data` (file bytes from `offset`) as 1036-byte messages `[u64 id][u32 index][1024 bytes]`,
/// all slices of one buffer (as the SDK's framing does).
fn raw_packets(offset: u64, data: &[u8]) -> impl Iterator<Item = WsMessage> {
    let mut buf =
        BytesMut::with_capacity(data.len().div_ceil(PACKET_PAYLOAD) * PACKET_PREFIX + data.len());
    let first = offset / PACKET_PAYLOAD as u64 + 1;
    for (i, payload) in data.chunks(PACKET_PAYLOAD).enumerate() {
        buf.extend_from_slice(&7u64.to_be_bytes());
        buf.extend_from_slice(&((first + i as u64) as u32).to_be_bytes());
        buf.extend_from_slice(payload);
    }
    let buf = buf.freeze();
    let step = PACKET_PREFIX + PACKET_PAYLOAD;
    (0..buf.len())
        .step_by(step)
        .map(move |at| WsMessage::Binary(buf.slice(at..buf.len().min(at + step))))
}

/// Sends `len` file bytes from `offset` as raw packets, generated and flushed 64 KiB at a
/// time.
async fn raw_send<S>(ws: &mut S, offset: u64, len: u64) -> Result<(), BoxError>
where
    S: futures::Sink<WsMessage, Error = tokio_tungstenite::tungstenite::Error> + Unpin,
{
    let mut at = offset;
    while at < offset + len {
        let n = (offset + len - at).min(CHUNK as u64);
        let data = file_bytes(at, n as usize);
        for m in raw_packets(at, &data) {
            ws.feed(m).await?;
        }
        ws.flush().await?;
        at += n;
    }
    Ok(())
}

/// Receives raw packets until `len` payload bytes from `offset` are in.
async fn raw_receive<S>(ws: &mut S, offset: u64, len: u64) -> Result<(), BoxError>
where
    S: futures::Stream<Item = Result<WsMessage, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let mut at = offset;
    while at < offset + len {
        match ws.next().await {
            Some(Ok(WsMessage::Binary(b))) => {
                if b.get(PACKET_PREFIX) != Some(&byte_at(at)) {
                    return Err(bad(format!("wrong bytes at offset {at}")));
                }
                at += (b.len() - PACKET_PREFIX) as u64;
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.into()),
            None => return Err(bad("connection closed mid-transfer")),
        }
    }
    Ok(())
}

/// Waits for the small control message `what`.
async fn raw_expect<S>(ws: &mut S, what: &[u8]) -> Result<(), BoxError>
where
    S: futures::Stream<Item = Result<WsMessage, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    match ws.next().await {
        Some(Ok(WsMessage::Binary(b))) if b == what => Ok(()),
        Some(Ok(other)) => Err(bad(format!("expected {what:?}, got {other:?}"))),
        Some(Err(e)) => Err(e.into()),
        None => Err(bad("connection closed mid-transfer")),
    }
}

async fn raw_say<S>(ws: &mut S, what: &'static [u8]) -> Result<(), BoxError>
where
    S: futures::Sink<WsMessage, Error = tokio_tungstenite::tungstenite::Error> + Unpin,
{
    Ok(ws.send(WsMessage::Binary(Bytes::from_static(what))).await?)
}

/// The `(offset, len)` of each pulled piece of a file of `size` bytes.
fn pulls(size: u64) -> impl Iterator<Item = (u64, u64)> {
    let pull = pull_size() as u64;
    (0..size.div_ceil(pull)).map(move |i| (i * pull, pull.min(size - i * pull)))
}

async fn serve_raw(mut ws: ServerWs) -> Result<(), BoxError> {
    while let Some(frame) = ws.next().await {
        let request = match frame? {
            WsMessage::Binary(b) if b.len() == 9 => b,
            WsMessage::Close(_) => break,
            _ => continue,
        };
        let size = u64::from_be_bytes(request[1..9].try_into()?);
        match request[0] {
            RAW_UPLOAD => {
                raw_receive(&mut ws, 0, size).await?;
                raw_say(&mut ws, RAW_DONE).await?;
            }
            RAW_UPLOAD_PULLED => {
                for (offset, len) in pulls(size) {
                    raw_say(&mut ws, RAW_PULL).await?;
                    raw_receive(&mut ws, offset, len).await?;
                }
                raw_say(&mut ws, RAW_DONE).await?;
            }
            RAW_DOWNLOAD => raw_send(&mut ws, 0, size).await?,
            RAW_DOWNLOAD_PULLED => {
                // The request itself is the first pull.
                for (offset, len) in pulls(size) {
                    if offset > 0 {
                        raw_expect(&mut ws, RAW_PULL).await?;
                    }
                    raw_send(&mut ws, offset, len).await?;
                }
            }
            op => return Err(bad(format!("unknown raw op {op}"))),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Client side of each scenario
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Upload,
    Download,
}

impl Direction {
    fn name(self) -> &'static str {
        match self {
            Direction::Upload => "upload",
            Direction::Download => "download",
        }
    }
}

async fn sdk_transfer(room: &RoomClient, direction: Direction, size: u64) -> Result<(), BoxError> {
    match direction {
        Direction::Upload => {
            let chunks = futures::stream::iter(0..chunk_count(size))
                .map(move |k| Ok::<_, std::io::Error>(file_chunk(k, size)));
            room.storage()
                .upload(file_path(size), ByteSource::from_stream(chunks))
                .size(size as i64)
                .await?;
        }
        Direction::Download => {
            let written = room
                .storage()
                .download(file_path(size))
                .chunk_size(pull_size() as i64)
                .await?
                .write_to(&mut tokio::io::sink())
                .await?;
            if written != size {
                return Err(bad(format!("downloaded {written} of {size} bytes")));
            }
        }
    }
    Ok(())
}

type ClientWs = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn raw_transfer(
    ws: &mut ClientWs,
    pacing: Pacing,
    direction: Direction,
    size: u64,
) -> Result<(), BoxError> {
    match (direction, pacing) {
        (Direction::Upload, Pacing::Stream) => {
            ws.send(raw_request(RAW_UPLOAD, size)).await?;
            raw_send(ws, 0, size).await?;
            raw_expect(ws, RAW_DONE).await?;
        }
        (Direction::Upload, Pacing::Pull) => {
            ws.send(raw_request(RAW_UPLOAD_PULLED, size)).await?;
            for (offset, len) in pulls(size) {
                raw_expect(ws, RAW_PULL).await?;
                raw_send(ws, offset, len).await?;
            }
            raw_expect(ws, RAW_DONE).await?;
        }
        (Direction::Download, Pacing::Stream) => {
            ws.send(raw_request(RAW_DOWNLOAD, size)).await?;
            raw_receive(ws, 0, size).await?;
        }
        (Direction::Download, Pacing::Pull) => {
            ws.send(raw_request(RAW_DOWNLOAD_PULLED, size)).await?;
            for (offset, len) in pulls(size) {
                if offset > 0 {
                    raw_say(ws, RAW_PULL).await?;
                }
                raw_receive(ws, offset, len).await?;
            }
        }
    }
    Ok(())
}

/// What a scenario transfers through.
enum Client {
    Raw(Box<ClientWs>, Pacing),
    Sdk(RoomClient),
}

impl Client {
    fn name(&self) -> &'static str {
        match self {
            Client::Raw(_, Pacing::Stream) => "raw",
            Client::Raw(_, Pacing::Pull) => "raw+pull",
            Client::Sdk(_) => "sdk",
        }
    }

    async fn transfer(&mut self, direction: Direction, size: u64) -> Result<(), BoxError> {
        match self {
            Client::Raw(ws, pacing) => raw_transfer(ws, *pacing, direction, size).await,
            Client::Sdk(room) => sdk_transfer(room, direction, size).await,
        }
    }

    async fn close(self) -> Result<(), BoxError> {
        match self {
            Client::Raw(mut ws, _) => SinkExt::close(&mut ws).await?,
            Client::Sdk(room) => room.close().await,
        }
        Ok(())
    }
}

/// Runs `warmup + runs` transfers on each client, taking turns (raw, raw+pull, sdk, raw,
/// ...) so all see the same machine load.
async fn measure(
    cfg: &Config,
    clients: &mut [Client],
    direction: Direction,
    size: u64,
) -> Result<Vec<Stats>, BoxError> {
    let mut stats: Vec<Stats> = clients.iter().map(|_| Stats::default()).collect();
    for i in 0..cfg.warmup + cfg.runs {
        for (client, stats) in clients.iter_mut().zip(stats.iter_mut()) {
            if cfg
                .only
                .as_deref()
                .is_some_and(|only| only != client.name())
            {
                continue;
            }
            let window = Window::open();
            client.transfer(direction, size).await?;
            stats.add(window.close(), i >= cfg.warmup);
        }
    }
    Ok(stats)
}

#[derive(Default)]
struct Stats {
    times: Vec<Duration>,
    client_cpu: Vec<Duration>,
    server_cpu: Vec<Duration>,
    /// Worst over all runs, warm-up included (buffers it grows are part of the cost).
    client_heap: isize,
    server_heap: isize,
    rss: Option<i64>,
    /// Live heap left behind by a timed run (the worst one): a leak shows here.
    retained: isize,
}

fn median(v: &[Duration]) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    match v.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2,
    }
}

impl Stats {
    fn add(&mut self, s: Sample, timed: bool) {
        self.client_heap = self.client_heap.max(s.client_heap);
        self.server_heap = self.server_heap.max(s.server_heap);
        self.rss = self.rss.max(s.rss);
        if timed {
            self.times.push(s.elapsed);
            self.client_cpu.push(s.client_cpu);
            self.server_cpu.push(s.server_cpu);
            self.retained = self.retained.max(s.retained);
        }
    }

    /// MB/s (10^6 bytes of file per second) of a run taking `t`.
    fn rate(size: u64, t: Duration) -> f64 {
        size as f64 / t.as_secs_f64() / 1e6
    }

    fn median(&self, size: u64) -> f64 {
        Stats::rate(size, median(&self.times))
    }

    fn range(&self, size: u64) -> (f64, f64) {
        let slowest = self.times.iter().max().copied().unwrap_or_default();
        let fastest = self.times.iter().min().copied().unwrap_or_default();
        (Stats::rate(size, slowest), Stats::rate(size, fastest))
    }

    /// Median on-CPU milliseconds per MiB of file, (client, server).
    fn cpu_per_mib(&self, size: u64) -> (f64, f64) {
        let per = |v: &[Duration]| median(v).as_secs_f64() * 1e3 / (size as f64 / MIB as f64);
        (per(&self.client_cpu), per(&self.server_cpu))
    }
}

fn human(bytes: i64) -> String {
    let b = bytes as f64;
    if bytes.abs() >= 1 << 20 {
        format!("{:.1} MiB", b / MIB as f64)
    } else if bytes.abs() >= 1 << 10 {
        format!("{:.0} KiB", b / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

// ---------------------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------------------

fn env_usize(key: &str) -> Option<usize> {
    std::env::var(key).ok().and_then(|v| v.trim().parse().ok())
}

struct Config {
    sizes: Vec<u64>,
    warmup: usize,
    runs: usize,
    client_threads: usize,
    server_threads: usize,
    /// `TRANSFER_ONLY=raw|sdk` runs one path only (for profiling).
    only: Option<String>,
    /// Pull / chunk size in bytes.
    pull: usize,
}

fn config() -> Config {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: smoke test only.
    let bench = std::env::args().any(|a| a == "--bench");
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let sizes = std::env::var("TRANSFER_SIZES_MIB")
        .ok()
        .map(|v| {
            v.split(',')
                .filter_map(|s| s.trim().parse::<u64>().ok())
                .map(|m| m * MIB)
                .collect()
        })
        .unwrap_or_else(|| {
            if bench {
                vec![64 * MIB, 256 * MIB]
            } else {
                vec![MIB]
            }
        });
    Config {
        sizes,
        warmup: usize::from(bench),
        runs: env_usize("TRANSFER_RUNS")
            .unwrap_or(if bench { 7 } else { 1 })
            .max(1),
        client_threads: env_usize("TRANSFER_CLIENT_THREADS").unwrap_or(cores).max(1),
        server_threads: env_usize("TRANSFER_SERVER_THREADS").unwrap_or(cores).max(1),
        only: std::env::var("TRANSFER_ONLY").ok(),
        pull: env_usize("TRANSFER_PULL_KIB").map_or(CHUNK, |k| k.max(1) * 1024),
    }
}

struct Row {
    direction: Direction,
    size: u64,
    /// `raw` first.
    paths: Vec<(&'static str, Stats)>,
}

fn main() -> Result<(), BoxError> {
    let cfg = config();
    PULL.store(cfg.pull, Ordering::Relaxed);
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cfg.server_threads)
        .thread_name(SERVER_THREAD)
        .on_thread_start(|| ON_SERVER.with(|s| s.set(true)))
        .enable_all()
        .build()?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cfg.client_threads)
        .thread_name("bench-client")
        .enable_all()
        .build()?;

    let listener = server_rt.block_on(TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    server_rt.spawn(serve(listener));

    let rows = client_rt.block_on(async {
        let mut rows = Vec::new();
        for &size in &cfg.sizes {
            for direction in [Direction::Upload, Direction::Download] {
                // Fresh connections per scenario; connecting is not timed.
                let mut clients = Vec::new();
                for pacing in [Pacing::Stream, Pacing::Pull] {
                    let raw_url = format!("ws://{addr}/raw");
                    let (ws, _) =
                        tokio_tungstenite::connect_async_with_config(raw_url, None, true).await?;
                    clients.push(Client::Raw(Box::new(ws), pacing));
                }
                let url = room_url(&format!("http://{addr}"), "bench")?;
                let (room, _events) = RoomClient::connect(url, "bench-token").await?;
                clients.push(Client::Sdk(room));
                let stats = measure(&cfg, &mut clients, direction, size).await?;
                let names: Vec<&'static str> = clients.iter().map(Client::name).collect();
                for client in clients {
                    client.close().await?;
                }
                rows.push(Row {
                    direction,
                    size,
                    paths: names.into_iter().zip(stats).collect(),
                });
            }
        }
        Ok::<_, BoxError>(rows)
    })?;
    print_table(&cfg, &rows);
    Ok(())
}

fn print_table(cfg: &Config, rows: &[Row]) {
    println!();
    println!(
        "transfer: storage upload/download over a loopback websocket (127.0.0.1); paths take \
         turns; median of {} run(s) after {} warm-up(s) each; client runtime {} worker(s), \
         server runtime {} worker(s)",
        cfg.runs, cfg.warmup, cfg.client_threads, cfg.server_threads
    );
    if cfg.pull != CHUNK {
        println!(
            "pull/chunk size: {} KiB (TRANSFER_PULL_KIB)",
            cfg.pull / 1024
        );
    }
    println!(
        "raw: tokio-tungstenite alone, 1036-byte messages, no flow control (the target's \
         baseline); raw+pull: the same plus one round trip per pulled chunk (no SDK)."
    );
    println!(
        "MB/s: 10^6 file bytes per second (median; slowest..fastest run). cpu: median on-CPU \
         ms per MiB, client | in-process server threads."
    );
    println!(
        "heap: peak live-heap growth during a transfer (worst run, warm-up included), client | \
         server; left: live heap a timed run left behind (worst run); RSS: VmHWM growth over VmRSS."
    );
    println!();
    let header = format!(
        "{:<9} {:>8} {:<8} {:>7} {:>12} {:>6} {:>11} {:>19} {:>9} {:>8}",
        "direction",
        "file",
        "path",
        "MB/s",
        "range",
        "vs raw",
        "cpu ms/MiB",
        "peak heap",
        "left",
        "peak RSS"
    );
    println!("{header}");
    println!("{}", "-".repeat(header.len()));
    for row in rows {
        let raw = &row.paths[0].1;
        let raw_rate = raw.median(row.size);
        for (name, stats) in &row.paths {
            if stats.times.is_empty() {
                continue;
            }
            let rate = stats.median(row.size);
            let (lo, hi) = stats.range(row.size);
            let (cpu_client, cpu_server) = stats.cpu_per_mib(row.size);
            let ratio = if *name != "raw" && !raw.times.is_empty() {
                format!("{:.0}%", rate / raw_rate * 100.0)
            } else {
                String::new()
            };
            println!(
                "{:<9} {:>8} {:<8} {:>7.0} {:>12} {:>6} {:>11} {:>19} {:>9} {:>8}",
                row.direction.name(),
                format!("{} MiB", row.size / MIB),
                name,
                rate,
                format!("{lo:.0}..{hi:.0}"),
                ratio,
                format!("{cpu_client:.2} | {cpu_server:.2}"),
                format!(
                    "{} | {}",
                    human(stats.client_heap as i64),
                    human(stats.server_heap as i64)
                ),
                human(stats.retained as i64),
                stats.rss.map_or("n/a".to_string(), human),
            );
        }
    }
    println!();
}
