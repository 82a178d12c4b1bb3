//! Many rooms in one process: connect rate and resident memory per idle room.
//!
//! For K rooms (100, 1000, 10 000) and each tokio runtime flavour (current-thread;
//! multi-thread, one worker per core), a client process connects K rooms, 256 connects in
//! flight, makes one call on each (`room.storage().exists`), and holds them. Shown: K over
//! the time to connect all K (websocket upgrade and room handshake), the client's CPU time
//! (user + system) per connect over that time, and the growth of resident memory (VmRSS)
//! from before the first connect to after the calls, per room.
//! The clients, each in a fresh process so that memory one leaves behind is not reused by
//! the next:
//! - `raw default`: tokio-tungstenite alone with its default `WebSocketConfig` (128 KiB read
//!   buffer), doing the same handshake and call with the SDK's framing, one reading task
//!   per connection (see `raw.rs`);
//! - `raw, SDK config`: the same with `ConnectOptions::default().websocket_config()`;
//! - `SDK`: `RoomClient::connect` with the default options (the room and its events kept);
//! - `SDK, 128 KiB buffers`: the SDK with tungstenite's default buffer sizes (how it was).
//!
//! The room is the same binary in a child process (`server.rs`), shared by every client.
//! permessage-deflate is not measured: tokio-tungstenite 0.28 cannot negotiate it.
//!
//! `cargo bench -p meshagent-room --bench rooms`. Knobs: `ROOMS_K` (`100,1000,10000`),
//! `ROOMS_RUNS` (runs per figure; default 3, 1 for K above 1000; clients take turns),
//! `ROOMS_IN_FLIGHT` (256), `ROOMS_FLAVOURS` (`current,multi`), `ROOMS_CLIENTS`
//! (`raw,raw-sdk,sdk,sdk-128k`). Without `--bench` (`cargo test --benches`) a smoke pass
//! with 20 rooms. The bench raises its open-files limit to the hard limit.

mod raw;
mod server;

use std::future::IntoFuture;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use meshagent_room::{room_url, ConnectOptions, RoomClient};

use raw::Raw;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

const PATH: &str = "bench/file.bin";

fn main() -> Result<(), BoxError> {
    match std::env::var("ROOMS_ROLE").as_deref() {
        Ok("serve") => server::serve(),
        Ok("hold") => hold(),
        _ => orchestrate(),
    }
}

/// Raises the soft open-files limit to the hard one (the default soft limit, often 1024,
/// is below 10 000 sockets).
pub fn raise_open_files() {
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

/// Resident memory of this process, in bytes (Linux: `VmRSS` of /proc/self/status).
pub fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn env_list(name: &str, default: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_else(|_| default.into())
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One client process's figures.
#[derive(Clone, Copy)]
struct Held {
    connects_per_s: f64,
    bytes_per_room: f64,
    /// CPU time (user + system, all threads) of the connect phase per room: what the
    /// client spends, whatever else the machine runs.
    cpu_us_per_connect: f64,
}

/// CPU time this process has used (user + system, all threads), in µs.
pub fn cpu_us() -> f64 {
    // SAFETY: getrusage only writes the struct passed; all-zero is a valid `rusage`.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0.0;
    }
    let us = |t: libc::timeval| t.tv_sec as f64 * 1e6 + t.tv_usec as f64;
    us(usage.ru_utime) + us(usage.ru_stime)
}

/// Role `hold`: connects, calls, holds, measures; prints `RESULT <connects/s> <bytes/room>`.
fn hold() -> Result<(), BoxError> {
    raise_open_files();
    let var = |n: &str| std::env::var(n).map_err(|_| format!("{n} is not set"));
    let addr: SocketAddr = var("ROOMS_ADDR")?.parse()?;
    let k: usize = var("ROOMS_K")?.parse()?;
    let client = var("ROOMS_CLIENT")?;
    let rt = match var("ROOMS_FLAVOUR")?.as_str() {
        "current" => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
        _ => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?,
    };
    let in_flight = env_usize("ROOMS_IN_FLIGHT", 256);
    let held = rt.block_on(async {
        match client.as_str() {
            "raw" => hold_raw(addr, k, in_flight, None).await,
            "raw-sdk" => {
                let config = ConnectOptions::default().websocket_config();
                hold_raw(addr, k, in_flight, Some(config)).await
            }
            "sdk" => hold_sdk(addr, k, in_flight, ConnectOptions::default()).await,
            "sdk-128k" => {
                let options = ConnectOptions::default()
                    .read_buffer(128 << 10)
                    .write_buffer(128 << 10)
                    .max_write_buffer(usize::MAX);
                hold_sdk(addr, k, in_flight, options).await
            }
            other => Err(format!("unknown client {other}").into()),
        }
    })?;
    println!(
        "RESULT {} {} {}",
        held.connects_per_s, held.bytes_per_room, held.cpu_us_per_connect
    );
    // The rooms are not closed one by one: the process ends.
    std::process::exit(0)
}

/// Connects to the room: warm-up first (one room, one call, dropped) so that one-time
/// allocations are not counted per room.
async fn hold_raw(
    addr: SocketAddr,
    k: usize,
    in_flight: usize,
    config: Option<tokio_tungstenite::tungstenite::protocol::WebSocketConfig>,
) -> Result<Held, BoxError> {
    let mut warm = Raw::connect(addr, config).await?;
    warm.call(PATH).await?;
    drop(warm);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = rss();
    let cpu = cpu_us();
    let started = Instant::now();
    let mut rooms: Vec<Raw> = futures::stream::iter(0..k)
        .map(|_| Raw::connect(addr, config))
        .buffer_unordered(in_flight)
        .try_collect()
        .await?;
    let took = started.elapsed();
    let cpu = cpu_us() - cpu;
    futures::stream::iter(rooms.iter_mut())
        .map(|r| r.call(PATH))
        .buffer_unordered(in_flight)
        .try_collect::<Vec<()>>()
        .await?;
    let tasks: Vec<_> = rooms.into_iter().map(Raw::idle).collect();
    settle().await;
    let held = Held {
        connects_per_s: k as f64 / took.as_secs_f64(),
        bytes_per_room: (rss().saturating_sub(before)) as f64 / k as f64,
        cpu_us_per_connect: cpu / k as f64,
    };
    drop(tasks);
    Ok(held)
}

async fn hold_sdk(
    addr: SocketAddr,
    k: usize,
    in_flight: usize,
    options: ConnectOptions,
) -> Result<Held, BoxError> {
    let url = room_url(&format!("http://{addr}"), "bench")?;
    let connect = || {
        RoomClient::connect(url.clone(), "token")
            .options(options.clone())
            .into_future()
    };
    let (warm, _events) = connect().await?;
    warm.storage().exists(PATH).await?;
    drop(warm);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = rss();
    let cpu = cpu_us();
    let started = Instant::now();
    let rooms: Vec<_> = futures::stream::iter(0..k)
        .map(|_| connect())
        .buffer_unordered(in_flight)
        .try_collect()
        .await?;
    let took = started.elapsed();
    let cpu = cpu_us() - cpu;
    futures::stream::iter(rooms.iter())
        .map(|(room, _events)| room.storage().exists(PATH).into_future())
        .buffer_unordered(in_flight)
        .try_collect::<Vec<bool>>()
        .await?;
    settle().await;
    Ok(Held {
        connects_per_s: k as f64 / took.as_secs_f64(),
        bytes_per_room: (rss().saturating_sub(before)) as f64 / k as f64,
        cpu_us_per_connect: cpu / k as f64,
    })
}

/// Lets the rooms go idle (the last replies handed over, tasks parked).
async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// The room server child; killed (stdin closed) when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start() -> Result<Server, BoxError> {
        let mut child = Command::new(std::env::current_exe()?)
            .env("ROOMS_ROLE", "serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let port: u16 = line
            .trim()
            .strip_prefix("port ")
            .ok_or_else(|| format!("server said {line:?}"))?
            .parse()?;
        Ok(Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

fn run_client(server: &Server, client: &str, flavour: &str, k: usize) -> Result<Held, BoxError> {
    let out = Command::new(std::env::current_exe()?)
        .env("ROOMS_ROLE", "hold")
        .env("ROOMS_ADDR", server.addr.to_string())
        .env("ROOMS_K", k.to_string())
        .env("ROOMS_CLIENT", client)
        .env("ROOMS_FLAVOUR", flavour)
        .stderr(Stdio::inherit())
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .ok_or_else(|| format!("{client} {flavour} K={k} failed: {}", out.status))?;
    let mut it = line.split_whitespace().map(str::parse::<f64>);
    match (it.next(), it.next(), it.next()) {
        (Some(Ok(c)), Some(Ok(b)), Some(Ok(u))) => Ok(Held {
            connects_per_s: c,
            bytes_per_room: b,
            cpu_us_per_connect: u,
        }),
        _ => Err(format!("bad result line {line:?}").into()),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn label(client: &str) -> &str {
    match client {
        "raw" => "raw default",
        "raw-sdk" => "raw, SDK config",
        "sdk" => "SDK",
        "sdk-128k" => "SDK, 128 KiB buffers",
        other => other,
    }
}

fn orchestrate() -> Result<(), BoxError> {
    let bench = std::env::args().any(|a| a == "--bench");
    raise_open_files();
    let ks: Vec<usize> = env_list("ROOMS_K", if bench { "100,1000,10000" } else { "20" })
        .iter()
        .map(|k| k.parse())
        .collect::<Result<_, _>>()?;
    let flavours = env_list("ROOMS_FLAVOURS", "current,multi");
    let clients = env_list("ROOMS_CLIENTS", "raw,raw-sdk,sdk,sdk-128k");
    let server = Server::start()?;
    println!(
        "rooms: {} in flight, resident memory growth per room after one call each",
        env_usize("ROOMS_IN_FLIGHT", 256)
    );
    println!(
        "{:>6} {:>8} {:<22} {:>24} {:>8} {:>13} {:>8} {:>10}",
        "K",
        "runtime",
        "client",
        "connects/s (min..max)",
        "CPU µs",
        "KiB per room",
        "vs raw",
        "vs raw-sdk"
    );
    for &k in &ks {
        let runs = env_usize("ROOMS_RUNS", if k > 1000 { 1 } else { 3 });
        for flavour in &flavours {
            let mut results: Vec<Vec<Held>> = vec![Vec::new(); clients.len()];
            for run in 0..runs {
                // Clients take turns, starting from a different one each run.
                for i in 0..clients.len() {
                    let c = (i + run) % clients.len();
                    results[c].push(run_client(&server, &clients[c], flavour, k)?);
                }
            }
            let rate = |c: &str| {
                let i = clients.iter().position(|x| x == c)?;
                Some(median(
                    results[i].iter().map(|h| h.connects_per_s).collect(),
                ))
            };
            for (client, held) in clients.iter().zip(&results) {
                let rates: Vec<f64> = held.iter().map(|h| h.connects_per_s).collect();
                let (lo, hi) = rates
                    .iter()
                    .fold((f64::MAX, 0f64), |(lo, hi), &r| (lo.min(r), hi.max(r)));
                let med = median(rates.clone());
                let kib = median(held.iter().map(|h| h.bytes_per_room).collect()) / 1024.0;
                let cpu = median(held.iter().map(|h| h.cpu_us_per_connect).collect());
                let vs = |base: &str| match rate(base) {
                    Some(b) if b > 0.0 && !client.starts_with("raw") => {
                        format!("{:.0} %", 100.0 * med / b)
                    }
                    _ => "-".into(),
                };
                println!(
                    "{:>6} {:>8} {:<22} {:>24} {:>8.0} {:>13.1} {:>8} {:>10}",
                    k,
                    flavour,
                    label(client),
                    format!("{:.0} ({:.0}..{:.0})", med, lo, hi),
                    cpu,
                    kib,
                    vs("raw"),
                    vs("raw-sdk"),
                );
            }
        }
    }
    drop(server);
    Ok(())
}
