//! Call rate: `room.storage().exists(path)` against an in-process room that answers at once,
//! next to a raw tokio-tungstenite client doing the same framing (see `raw.rs`).
//!
//! For each runtime flavour (current-thread; multi-thread with one worker per core, as
//! `#[tokio::main]` gives a user) and each mode, both clients make `CALLS_N` calls per run:
//! - `sequential`: one call at a time, awaited from the runtime's main future;
//! - `N in flight, 1 task`: the main future keeps N calls going (`buffer_unordered`);
//! - `N in flight, N tasks`: N spawned tasks share the client, each calling in turn.
//!
//! The raw client is always one task keeping N requests outstanding. The two clients take
//! turns run by run (which goes first alternates), so both see the same machine load; the
//! table shows medians, slowest..fastest runs, and the SDK/raw ratio of the medians with
//! the range of the per-run ratios (each run's SDK rate over the raw run next to it).
//!
//! `cargo bench -p meshagent-room --bench calls`. Knobs: `CALLS_N` (5000), `CALLS_RUNS`
//! (7 timed runs after `CALLS_WARMUP`=1), `CALLS_IN_FLIGHT` (100), `CALLS_THREADS` (worker
//! threads of the multi-thread flavour; default the core count), `CALLS_FLAVOURS`
//! (`current,multi`), `CALLS_MODES` (`seq,join,tasks`), `CALLS_RAW_FLUSH=batch` (see
//! `raw.rs`), `CALLS_ONLY=sdk|raw` (one client alone, for profiling). Without `--bench` (as `cargo test --benches` runs it) it makes a short smoke
//! pass.

mod raw;
mod server;

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures::StreamExt;
use meshagent_room::{room_url, RoomClient};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The path every call asks about.
pub const PATH: &str = "bench/file.bin";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavour {
    CurrentThread,
    MultiThread,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Sequential,
    /// N calls in flight from one task.
    Join,
    /// N spawned tasks, each making its share of the calls one at a time.
    Tasks,
}

struct Config {
    n: usize,
    runs: usize,
    warmup: usize,
    in_flight: usize,
    threads: usize,
    flavours: Vec<Flavour>,
    modes: Vec<Mode>,
    raw_batch: bool,
    /// `CALLS_ONLY=sdk|raw` runs one client alone (for profiling).
    only: Option<String>,
}

fn env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.trim().is_empty())
}

fn env_usize(key: &str) -> Option<usize> {
    env(key).and_then(|v| v.trim().parse().ok())
}

fn config() -> Config {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: smoke pass only.
    let bench = std::env::args().any(|a| a == "--bench");
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let list = |key: &str, default: &str| -> Vec<String> {
        env(key)
            .unwrap_or_else(|| default.to_string())
            .split(',')
            .map(|s| s.trim().to_string())
            .collect()
    };
    let flavours = list("CALLS_FLAVOURS", "current,multi")
        .iter()
        .filter_map(|f| match f.as_str() {
            "current" => Some(Flavour::CurrentThread),
            "multi" => Some(Flavour::MultiThread),
            _ => None,
        })
        .collect();
    let modes = list("CALLS_MODES", "seq,join,tasks")
        .iter()
        .filter_map(|m| match m.as_str() {
            "seq" => Some(Mode::Sequential),
            "join" => Some(Mode::Join),
            "tasks" => Some(Mode::Tasks),
            _ => None,
        })
        .collect();
    Config {
        n: env_usize("CALLS_N")
            .unwrap_or(if bench { 5000 } else { 200 })
            .max(1),
        runs: env_usize("CALLS_RUNS")
            .unwrap_or(if bench { 7 } else { 1 })
            .max(1),
        warmup: env_usize("CALLS_WARMUP").unwrap_or(usize::from(bench)),
        in_flight: env_usize("CALLS_IN_FLIGHT").unwrap_or(100).max(1),
        threads: env_usize("CALLS_THREADS").unwrap_or(cores).max(1),
        flavours,
        modes,
        raw_batch: env("CALLS_RAW_FLUSH").is_some_and(|v| v == "batch"),
        only: env("CALLS_ONLY"),
    }
}

/// `n` SDK calls in the given mode.
async fn sdk_calls(
    room: &RoomClient,
    mode: Mode,
    n: usize,
    in_flight: usize,
) -> Result<(), BoxError> {
    let check = |exists: meshagent_room::Result<bool>| -> Result<(), BoxError> {
        match exists? {
            true => Ok(()),
            false => Err("exists returned false".into()),
        }
    };
    match mode {
        Mode::Sequential => {
            for _ in 0..n {
                check(room.storage().exists(PATH).await)?;
            }
        }
        Mode::Join => {
            let mut calls = futures::stream::iter(0..n)
                .map(|_| room.storage().exists(PATH).into_future())
                .buffer_unordered(in_flight);
            while let Some(exists) = calls.next().await {
                check(exists)?;
            }
        }
        Mode::Tasks => {
            let tasks: Vec<_> = (0..in_flight)
                .map(|t| {
                    let room = room.clone();
                    // Task t makes calls t, t + in_flight, ... of the n.
                    let share = n / in_flight + usize::from(t < n % in_flight);
                    tokio::spawn(async move {
                        for _ in 0..share {
                            check(room.storage().exists(PATH).await)?;
                        }
                        Ok::<_, BoxError>(())
                    })
                })
                .collect();
            for task in tasks {
                task.await??;
            }
        }
    }
    Ok(())
}

/// Calls per second and client on-CPU microseconds per call of each timed run, SDK and raw.
#[derive(Default)]
struct Rates {
    sdk: Vec<f64>,
    raw: Vec<f64>,
    sdk_cpu: Vec<f64>,
    raw_cpu: Vec<f64>,
}

/// On-CPU nanoseconds of this process's threads but the server's so far, from
/// `/proc/self/task/*/schedstat` (0 where that is not available). Less sensitive than
/// the rate to other load on the machine.
fn client_cpu_ns() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    let mut total = 0;
    for task in tasks.flatten() {
        let path = task.path();
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if comm.trim() == server::THREAD {
            continue;
        }
        total += std::fs::read_to_string(path.join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0);
    }
    total
}

/// Runs `calls`; returns calls per second and client CPU microseconds per call.
async fn timed<F: std::future::Future<Output = Result<(), BoxError>>>(
    n: usize,
    calls: F,
) -> Result<(f64, f64), BoxError> {
    let cpu = client_cpu_ns();
    let start = Instant::now();
    calls.await?;
    let elapsed = start.elapsed().max(Duration::from_nanos(1));
    let cpu = client_cpu_ns().saturating_sub(cpu);
    Ok((
        n as f64 / elapsed.as_secs_f64(),
        cpu as f64 / 1e3 / n as f64,
    ))
}

/// Runs every mode on one runtime, SDK and raw taking turns.
async fn run_flavour(cfg: &Config, addr: SocketAddr) -> Result<Vec<(Mode, Rates)>, BoxError> {
    let url = room_url(&format!("http://{addr}"), "bench")?;
    let (room, _events) = RoomClient::connect(url, "bench-token").await?;
    let mut raw = raw::Raw::connect(addr, cfg.raw_batch).await?;
    let mut rows: Vec<(Mode, Rates)> = cfg.modes.iter().map(|m| (*m, Rates::default())).collect();
    for run in 0..cfg.warmup + cfg.runs {
        for (mode, rates) in rows.iter_mut() {
            let in_flight = if *mode == Mode::Sequential {
                1
            } else {
                cfg.in_flight
            };
            let mut sdk = (0.0, 0.0);
            let mut base = (0.0, 0.0);
            for turn in 0..2 {
                let sdk_turn = (turn + run) % 2 == 0;
                let name = if sdk_turn { "sdk" } else { "raw" };
                if cfg.only.as_deref().is_some_and(|only| only != name) {
                    continue;
                }
                if sdk_turn {
                    sdk = timed(cfg.n, sdk_calls(&room, *mode, cfg.n, in_flight)).await?;
                } else {
                    base = timed(cfg.n, raw.calls(cfg.n, in_flight)).await?;
                }
            }
            if run >= cfg.warmup {
                rates.sdk.push(sdk.0);
                rates.raw.push(base.0);
                rates.sdk_cpu.push(sdk.1);
                rates.raw_cpu.push(base.1);
            }
        }
    }
    raw.close().await?;
    room.close().await;
    Ok(rows)
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn range(v: &[f64]) -> (f64, f64) {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lo, hi)
}

fn rate_cell(v: &[f64]) -> String {
    let (lo, hi) = range(v);
    format!(
        "{:.1}k ({:.1}k..{:.1}k)",
        median(v) / 1e3,
        lo / 1e3,
        hi / 1e3
    )
}

fn main() -> Result<(), BoxError> {
    let cfg = config();
    let addr = server::start()?;
    let mut table = Vec::new();
    for &flavour in &cfg.flavours {
        let rt = match flavour {
            Flavour::CurrentThread => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?,
            Flavour::MultiThread => tokio::runtime::Builder::new_multi_thread()
                .worker_threads(cfg.threads)
                .enable_all()
                .build()?,
        };
        for (mode, rates) in rt.block_on(run_flavour(&cfg, addr))? {
            table.push((flavour, mode, rates));
        }
    }

    println!();
    println!(
        "calls: {} x storage.exists per run against an in-process room (127.0.0.1, own thread); \
         median of {} run(s) after {} warm-up(s), slowest..fastest in brackets; SDK and raw \
         take turns. Multi-thread: {} worker(s). Raw: tokio-tungstenite, same framing and \
         packing, one task, {}.",
        cfg.n,
        cfg.runs,
        cfg.warmup,
        cfg.threads,
        if cfg.raw_batch {
            "flushes when no reply is readable"
        } else {
            "flushes each request"
        }
    );
    println!();
    println!(
        "| flavour | mode | SDK calls/s | raw calls/s | SDK/raw % (per-run range) | \
         client CPU µs/call, SDK / raw |"
    );
    println!("|---|---|---|---|---|---|");
    for (flavour, mode, rates) in &table {
        let ratios: Vec<f64> = rates
            .sdk
            .iter()
            .zip(&rates.raw)
            .map(|(s, r)| s / r * 100.0)
            .collect();
        let (lo, hi) = range(&ratios);
        println!(
            "| {} | {} | {} | {} | {:.0} % ({:.0}..{:.0}) | {:.1} / {:.1} |",
            match flavour {
                Flavour::CurrentThread => "current-thread",
                Flavour::MultiThread => "multi-thread",
            },
            match mode {
                Mode::Sequential => "sequential".to_string(),
                Mode::Join => format!("{} in flight, 1 task", cfg.in_flight),
                Mode::Tasks => format!("{} in flight, {} tasks", cfg.in_flight, cfg.in_flight),
            },
            rate_cell(&rates.sdk),
            rate_cell(&rates.raw),
            median(&rates.sdk) / median(&rates.raw) * 100.0,
            lo,
            hi,
            median(&rates.sdk_cpu),
            median(&rates.raw_cpu)
        );
    }
    println!();
    Ok(())
}
