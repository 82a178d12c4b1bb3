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

mod measure;
mod raw;
mod server;

use measure::{human, Stats, Window, ON_SERVER, SERVER_THREAD};
use raw::{
    pulls, raw_expect, raw_receive, raw_request, raw_say, raw_send, Pacing, RAW_DONE, RAW_DOWNLOAD,
    RAW_DOWNLOAD_PULLED, RAW_PULL, RAW_UPLOAD, RAW_UPLOAD_PULLED,
};
use server::serve;

use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use meshagent_room::{room_url, ByteSource, RoomClient};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

// The file: generated on the fly, 64 KiB at a time

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

// Client side of each scenario

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

// main

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
