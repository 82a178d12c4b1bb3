//! Arrow record batches through the SDK's record-batch engines over a real loopback
//! websocket, against a baseline that does the same Arrow IPC work without the SDK.
//!
//! The table has 1 million rows (`BATCHES_ROWS`): `id` int64, `vector` a FixedSizeList of 8
//! float64, `label` utf8, in batches of 10,000 rows (`BATCHES_BATCH_ROWS`), about 0.8 MB
//! of IPC each. The in-process server (tokio-tungstenite on 127.0.0.1, its own
//! current-thread runtime) speaks the room protocol on `/rooms/...`: for a write it pulls
//! one batch at a time (binary `{kind: pull}`), decodes each `data` chunk's IPC stream and
//! counts its rows; for a read it answers the eager pull and each following pull with one
//! freshly built and encoded batch, then closes. The client is
//! `room.write_record_batches(.., RecordBatches::from_record_batches(..))` (batches built
//! lazily, encoded as pulled) and `room.read_record_batches(..)` with
//! `RecordBatchChunk::record_batches()` per chunk, on a multi-thread runtime.
//!
//! The baseline (`/raw`) moves the same batches with the same encode/decode and the same
//! pacing (one pull message per batch, one websocket message per batch) with
//! tokio-tungstenite alone. Peak heap: a counting global allocator (client and server
//! together), as growth over the level at the start of each run.
//!
//! `cargo bench -p meshagent-room --features arrow --bench batches` (3 runs each,
//! `BATCHES_RUNS`); the best run of each path is shown.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use meshagent_room::arrow::arrow_array::builder::{FixedSizeListBuilder, Float64Builder};
use meshagent_room::arrow::arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use meshagent_room::arrow::arrow_schema::{DataType, Field, Schema, SchemaRef};
use meshagent_room::arrow::{batch_to_ipc, batches_from_ipc};
use meshagent_room::wire::framing::{encode_message_parts, Limits, Message, Reassembler};
use meshagent_room::wire::packing::{pack_header, unpack};
use meshagent_room::{room_url, RecordBatches, RoomClient};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::WebSocketStream;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn bad(msg: impl Into<String>) -> BoxError {
    msg.into().into()
}

// Heap accounting

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

struct Counting;

fn grow(n: usize) {
    let live = LIVE.fetch_add(n as isize, Ordering::Relaxed) + n as isize;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to `System`; the counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
            grow(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Resets the peak to the current level; returns that level.
fn heap_mark() -> isize {
    let live = LIVE.load(Ordering::Relaxed);
    PEAK.store(live, Ordering::Relaxed);
    live
}

// The table

fn schema() -> SchemaRef {
    let item = Arc::new(Field::new("item", DataType::Float64, true));
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("vector", DataType::FixedSizeList(item, 8), false),
        Field::new("label", DataType::Utf8, false),
    ]))
}

/// Rows `from..from + n` as one record batch, freshly built.
fn batch(schema: &SchemaRef, from: usize, n: usize) -> RecordBatch {
    let ids: ArrayRef = Arc::new(Int64Array::from_iter_values(
        (from..from + n).map(|i| i as i64),
    ));
    let mut v = FixedSizeListBuilder::with_capacity(Float64Builder::with_capacity(n * 8), 8, n)
        .with_field(Arc::new(Field::new("item", DataType::Float64, true)));
    for i in from..from + n {
        for k in 0..8 {
            v.values().append_value((i * 8 + k) as f64 * 0.5);
        }
        v.append(true);
    }
    let labels: ArrayRef = Arc::new(StringArray::from_iter_values(
        (from..from + n).map(|i| format!("row-{i}")),
    ));
    let columns: Vec<ArrayRef> = vec![ids, Arc::new(v.finish()), labels];
    match RecordBatch::try_new(schema.clone(), columns) {
        Ok(b) => b,
        Err(e) => panic!("bench batch: {e}"),
    }
}

#[derive(Clone, Copy)]
struct Config {
    rows: usize,
    batch_rows: usize,
}

impl Config {
    fn batches(self) -> impl Iterator<Item = (usize, usize)> {
        (0..self.rows)
            .step_by(self.batch_rows)
            .map(move |from| (from, self.batch_rows.min(self.rows - from)))
    }
}

fn rows_of(ipc: &[u8]) -> Result<usize, BoxError> {
    Ok(batches_from_ipc(ipc)?
        .iter()
        .map(RecordBatch::num_rows)
        .sum())
}

// The server

type ServerWs = WebSocketStream<TcpStream>;

struct Peer {
    ws: ServerWs,
    reassembler: Reassembler,
    next_id: u64,
}

impl Peer {
    async fn send(
        &mut self,
        id: u64,
        kind: &str,
        header: &Value,
        tail: &[u8],
    ) -> Result<(), BoxError> {
        let head = pack_header(header)?;
        for p in encode_message_parts(id, kind, &[&head, tail]) {
            self.ws.feed(WsMessage::Binary(p)).await?;
        }
        Ok(self.ws.flush().await?)
    }

    async fn push(&mut self, kind: &str, header: &Value, tail: &[u8]) -> Result<(), BoxError> {
        self.next_id += 1;
        self.send(self.next_id, kind, header, tail).await
    }

    async fn recv(&mut self) -> Result<Option<(u64, String, Value, Bytes)>, BoxError> {
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

    /// The next request chunk (0.56: not acknowledged): its content header and tail.
    async fn chunk(&mut self) -> Result<(Value, Bytes), BoxError> {
        let (_, kind, mut header, tail) = self.recv().await?.ok_or_else(|| bad("client left"))?;
        if kind != "room.tool_call_request_chunk" {
            return Err(bad(format!("expected a request chunk, got {kind}")));
        }
        Ok((header["chunk"].take(), tail))
    }

    async fn respond(&mut self, call: &str, chunk: Value, tail: &[u8]) -> Result<(), BoxError> {
        let header = json!({"tool_call_id": call, "chunk": chunk});
        self.push("room.tool_call_response_chunk", &header, tail)
            .await
    }
}

async fn serve(listener: TcpListener, cfg: Config) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            let _ = tcp.set_nodelay(true);
            let mut path = String::new();
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
                let peer = Peer {
                    ws,
                    reassembler: Reassembler::new(Limits::default()),
                    next_id: 1 << 32,
                };
                serve_room(peer, cfg).await
            } else {
                serve_raw(ws, cfg).await
            };
            if let Err(e) = result {
                eprintln!("server: {e}");
            }
        });
    }
}

async fn serve_room(mut peer: Peer, cfg: Config) -> Result<(), BoxError> {
    let ready = json!({"room_name": "bench", "room_url": "ws://127.0.0.1", "session_id": "s"});
    peer.push("room_ready", &ready, &[]).await?;
    let connected = json!({"type": "init", "participantId": "p", "attributes": {}});
    peer.push("connected", &connected, &[]).await?;
    let schema = schema();
    let pull = json!({"type": "binary", "headers": {"kind": "pull"}});
    let close = json!({"type": "control", "method": "close", "status_code": 1000});
    while let Some((id, kind, header, _)) = peer.recv().await? {
        if kind == "room.tool_call_request_chunk" {
            // The client's own close after the server closed a call (as the SDKs send it).
            continue;
        }
        if kind != "room.invoke_tool" {
            return Err(bad(format!("expected room.invoke_tool, got {kind}")));
        }
        let call = header["tool_call_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        peer.send(
            id,
            "__response__",
            &json!({"type": "control", "method": "open"}),
            &[],
        )
        .await?;
        peer.chunk().await?; // start
        match header["tool"].as_str() {
            Some("insert") => {
                let mut rows = 0;
                loop {
                    peer.respond(&call, pull.clone(), &[]).await?;
                    let (chunk, tail) = peer.chunk().await?;
                    if chunk["type"] == "control" {
                        break;
                    }
                    rows += rows_of(&tail)?;
                }
                if rows != cfg.rows {
                    return Err(bad(format!("server took {rows} of {} rows", cfg.rows)));
                }
                peer.respond(&call, close.clone(), &[]).await?;
            }
            Some("search") => {
                for (from, n) in cfg.batches() {
                    let (chunk, _) = peer.chunk().await?; // the pull for this batch
                    if chunk["headers"]["kind"] != "pull" {
                        return Err(bad(format!("expected a pull, got {chunk}")));
                    }
                    let ipc = batch_to_ipc(&batch(&schema, from, n))?;
                    let data = json!({"type": "binary", "headers": {"kind": "data", "content_type": "application/vnd.apache.arrow.stream"}});
                    peer.respond(&call, data, &ipc).await?;
                }
                peer.chunk().await?; // the pull after the last batch
                peer.respond(&call, close.clone(), &[]).await?;
            }
            other => return Err(bad(format!("unexpected tool {other:?}"))),
        }
    }
    Ok(())
}

const RAW_WRITE: &[u8] = b"W";
const RAW_READ: &[u8] = b"R";
const RAW_PULL: &[u8] = b"P";
const RAW_DONE: &[u8] = b"D";

/// The baseline's peer: the same pacing, one websocket message per pull and per batch.
async fn serve_raw(mut ws: ServerWs, cfg: Config) -> Result<(), BoxError> {
    let schema = schema();
    while let Some(Ok(WsMessage::Binary(request))) = ws.next().await {
        if &request[..] == RAW_WRITE {
            let mut rows = 0;
            loop {
                ws.send(WsMessage::Binary(Bytes::from_static(RAW_PULL)))
                    .await?;
                match ws.next().await {
                    Some(Ok(WsMessage::Binary(b))) if &b[..] == RAW_DONE => break,
                    Some(Ok(WsMessage::Binary(b))) => rows += rows_of(&b)?,
                    other => return Err(bad(format!("raw: unexpected {other:?}"))),
                }
            }
            if rows != cfg.rows {
                return Err(bad(format!("raw server took {rows} rows")));
            }
            ws.send(WsMessage::Binary(Bytes::from_static(RAW_DONE)))
                .await?;
        } else if &request[..] == RAW_READ {
            for (from, n) in cfg.batches() {
                match ws.next().await {
                    Some(Ok(WsMessage::Binary(b))) if &b[..] == RAW_PULL => {}
                    other => return Err(bad(format!("raw: expected a pull, got {other:?}"))),
                }
                ws.send(WsMessage::Binary(batch_to_ipc(&batch(&schema, from, n))?))
                    .await?;
            }
            ws.next().await; // the pull after the last batch
            ws.send(WsMessage::Binary(Bytes::from_static(RAW_DONE)))
                .await?;
        }
    }
    Ok(())
}

// The two clients

type ClientWs = WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

async fn sdk_write(room: &RoomClient, cfg: Config) -> Result<(), BoxError> {
    let schema = schema();
    let batches =
        futures::stream::iter(cfg.batches()).map(move |(from, n)| batch(&schema, from, n));
    let batches = RecordBatches::from_record_batches(batches);
    room.write_record_batches("dataset", "insert", json!({"table": "bench"}), batches)
        .await?;
    Ok(())
}

async fn sdk_read(room: &RoomClient, cfg: Config) -> Result<(), BoxError> {
    let mut s = room
        .read_record_batches("dataset", "search", json!({"table": "bench"}))
        .await?;
    let mut rows = 0;
    while let Some(chunk) = s.next().await {
        rows += chunk?
            .record_batches()?
            .iter()
            .map(RecordBatch::num_rows)
            .sum::<usize>();
    }
    if rows != cfg.rows {
        return Err(bad(format!("read {rows} rows")));
    }
    Ok(())
}

async fn raw_write(ws: &mut ClientWs, cfg: Config) -> Result<(), BoxError> {
    let schema = schema();
    ws.send(WsMessage::Binary(Bytes::from_static(RAW_WRITE)))
        .await?;
    let mut batches = cfg.batches();
    loop {
        match ws.next().await {
            Some(Ok(WsMessage::Binary(b))) if &b[..] == RAW_PULL => {}
            other => return Err(bad(format!("raw client: {other:?}"))),
        }
        match batches.next() {
            Some((from, n)) => {
                ws.send(WsMessage::Binary(batch_to_ipc(&batch(&schema, from, n))?))
                    .await?
            }
            None => {
                ws.send(WsMessage::Binary(Bytes::from_static(RAW_DONE)))
                    .await?;
                break;
            }
        }
    }
    ws.next().await; // done
    Ok(())
}

async fn raw_read(ws: &mut ClientWs, cfg: Config) -> Result<(), BoxError> {
    ws.send(WsMessage::Binary(Bytes::from_static(RAW_READ)))
        .await?;
    ws.send(WsMessage::Binary(Bytes::from_static(RAW_PULL)))
        .await?;
    let mut rows = 0;
    loop {
        match ws.next().await {
            Some(Ok(WsMessage::Binary(b))) if &b[..] == RAW_DONE => break,
            Some(Ok(WsMessage::Binary(b))) => {
                ws.send(WsMessage::Binary(Bytes::from_static(RAW_PULL)))
                    .await?;
                rows += rows_of(&b)?;
            }
            other => return Err(bad(format!("raw client: {other:?}"))),
        }
    }
    if rows != cfg.rows {
        return Err(bad(format!("raw read {rows} rows")));
    }
    Ok(())
}

struct Run {
    secs: f64,
    peak_heap: isize,
}

async fn timed<F: std::future::Future<Output = Result<(), BoxError>>>(
    f: F,
) -> Result<Run, BoxError> {
    let base = heap_mark();
    let t = Instant::now();
    f.await?;
    let secs = t.elapsed().as_secs_f64();
    Ok(Run {
        secs,
        peak_heap: PEAK.load(Ordering::Relaxed) - base,
    })
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> Result<(), BoxError> {
    let benching = std::env::args().any(|a| a == "--bench");
    let cfg = Config {
        rows: env_usize("BATCHES_ROWS", if benching { 1_000_000 } else { 20_000 }),
        batch_rows: env_usize("BATCHES_BATCH_ROWS", 10_000).max(1),
    };
    let runs = env_usize("BATCHES_RUNS", if benching { 3 } else { 1 }).max(1);
    let server_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let listener = server_rt.block_on(TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    std::thread::spawn(move || server_rt.block_on(serve(listener, cfg)));
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;

    let batch_bytes = batch_to_ipc(&batch(&schema(), 0, cfg.batch_rows))?.len();
    let results = client_rt.block_on(async {
        let url = room_url(&format!("http://{addr}"), "bench")?;
        let (room, _events) = RoomClient::connect(url, "bench-token").await?;
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/raw")).await?;
        // Warm-up, then alternate the paths.
        sdk_write(&room, cfg).await?;
        raw_write(&mut ws, cfg).await?;
        let mut best: [Option<Run>; 4] = [None, None, None, None];
        for _ in 0..runs {
            let r = [
                timed(sdk_write(&room, cfg)).await?,
                timed(raw_write(&mut ws, cfg)).await?,
                timed(sdk_read(&room, cfg)).await?,
                timed(raw_read(&mut ws, cfg)).await?,
            ];
            for (slot, run) in best.iter_mut().zip(r) {
                let keep = match slot {
                    Some(b) => Run {
                        secs: b.secs.min(run.secs),
                        peak_heap: b.peak_heap.max(run.peak_heap),
                    },
                    None => run,
                };
                *slot = Some(keep);
            }
        }
        room.close().await;
        let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(None)).await;
        Ok::<_, BoxError>(best)
    })?;
    let [Some(sw), Some(rw), Some(sr), Some(rr)] = results else {
        return Err(bad("no runs"));
    };
    println!(
        "{} rows in batches of {} ({:.2} MB of Arrow IPC per batch), best of {runs} run(s); peak heap is the largest growth over any run (client and server)",
        cfg.rows,
        cfg.batch_rows,
        batch_bytes as f64 / 1e6
    );
    println!("| direction | SDK rows/s | baseline rows/s | SDK / baseline | peak heap SDK | peak heap baseline |");
    println!("|---|---|---|---|---|---|");
    for (name, sdk, raw) in [("write (insert)", &sw, &rw), ("read (search)", &sr, &rr)] {
        let (s, r) = (cfg.rows as f64 / sdk.secs, cfg.rows as f64 / raw.secs);
        println!(
            "| {name} | {:.2}M | {:.2}M | {:.0} % | {:.1} MB | {:.1} MB |",
            s / 1e6,
            r / 1e6,
            100.0 * s / r,
            sdk.peak_heap as f64 / 1e6,
            raw.peak_heap as f64 / 1e6
        );
    }
    Ok(())
}
