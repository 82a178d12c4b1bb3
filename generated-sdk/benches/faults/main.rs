//! Faults: how the client fares when the room or the network misbehaves, against
//! in-process loopback rooms (tokio-tungstenite on 127.0.0.1) scripted to fail.
//!
//! 1. Time to detect a dead peer: a room that stops answering entirely (it keeps the
//!    socket open but reads nothing, so no pong) is found by the websocket keepalive,
//!    within `interval + timeout` of its last frame (the default 20 s / 20 s is not waited
//!    out: shorter settings are measured against the same bound); a room that closes or
//!    resets the TCP connection, or sends a close frame, is noticed at once.
//! 2. Time to reconnect: the room drops the connection and accepts again at once, with the
//!    default policy (first delay 0.25–0.5 s, jittered) and a fast one (10 ms, cap 100 ms);
//!    and a room that restarts (its listener closed for 1 s, then bound again on the same
//!    port). Timed from the drop to `ConnectionEvent::Reconnected`.
//! 3. Peak heap under floods the app does not keep up with (events, a server-push stream,
//!    a download running ahead of its pulls, hosted tool calls while the room stops
//!    reading, 50 MB replies), each in a child process, counted by a global allocator for
//!    the client's threads apart from the in-process room's, next to the bound
//!    "64 MiB + max message size".
//!
//! 4. A reconnection storm: 1000 rooms in one client, each with a call in flight, and the
//!    room restarts (down 1 s). Time until every room is back, the room's peak accept
//!    rate against its mean (jitter keeps it within 2×), no room lost, no call sent twice,
//!    the client's heap back at its idle figure (see `storm.rs`).
//!
//! `cargo bench -p meshagent-room --bench faults` (about a minute and a half). Without
//! `--bench` (`cargo test --benches`) it makes a short smoke pass. `FAULTS_SECTIONS=1,2,3`
//! picks sections, `FAULTS_RECONNECT_RUNS` (20) and `FAULTS_DROP_RUNS` (20) set the runs,
//! `FAULTS_STORM_ROOMS` (1000) and `FAULTS_STORM_DOWN_MS` (1000) the storm.

mod alloc;
mod floods;
mod liveness;
mod reconnect;
mod room;
mod storm;

use std::time::Duration;

use meshagent_room::{Keepalive, ReconnectPolicy};

use room::BoxError;

/// Durations of the runs of one measurement.
#[derive(Default, Clone)]
pub struct Samples(Vec<Duration>);

impl Samples {
    pub fn push(&mut self, d: Duration) {
        self.0.push(d);
    }

    fn sorted(&self) -> Vec<Duration> {
        let mut v = self.0.clone();
        v.sort();
        v
    }

    pub fn median(&self) -> Duration {
        let v = self.sorted();
        match v.len() {
            0 => Duration::ZERO,
            n if n % 2 == 1 => v[n / 2],
            n => (v[n / 2 - 1] + v[n / 2]) / 2,
        }
    }

    pub fn min(&self) -> Duration {
        self.sorted().first().copied().unwrap_or_default()
    }

    pub fn max(&self) -> Duration {
        self.sorted().last().copied().unwrap_or_default()
    }

    pub fn runs(&self) -> usize {
        self.0.len()
    }
}

/// A duration for the tables: ms with one decimal under 10 ms, whole ms above.
fn ms(d: Duration) -> String {
    let m = d.as_secs_f64() * 1e3;
    if m < 10.0 {
        format!("{m:.1} ms")
    } else {
        format!("{m:.0} ms")
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
}

/// A reason cut for a table cell.
fn cell(text: &str, max: usize) -> String {
    let t: String = text.chars().take(max).collect();
    let t = t.replace('|', "/");
    if text.chars().count() > max {
        format!("{t}…")
    } else {
        t
    }
}

fn env_usize(key: &str) -> Option<usize> {
    std::env::var(key).ok().and_then(|v| v.trim().parse().ok())
}

struct Config {
    smoke: bool,
    sections: Vec<u32>,
    silent: Vec<(Keepalive, usize)>,
    drop_runs: usize,
    reconnect_runs: usize,
    restart_runs: usize,
    storm_rooms: usize,
    storm_downs: Vec<Duration>,
}

fn config() -> Config {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: smoke pass only.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let ka = |i, t| Keepalive::new(Duration::from_millis(i), Duration::from_millis(t));
    let silent = if smoke {
        vec![(ka(200, 200), 1)]
    } else {
        vec![(ka(200, 200), 5), (ka(500, 500), 3), (ka(1000, 1000), 3)]
    };
    let sections = std::env::var("FAULTS_SECTIONS")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 2, 3, 4]);
    Config {
        smoke,
        sections,
        silent,
        drop_runs: env_usize("FAULTS_DROP_RUNS").unwrap_or(if smoke { 2 } else { 20 }),
        reconnect_runs: env_usize("FAULTS_RECONNECT_RUNS").unwrap_or(if smoke { 2 } else { 20 }),
        restart_runs: if smoke { 1 } else { 5 },
        storm_rooms: env_usize("FAULTS_STORM_ROOMS").unwrap_or(if smoke { 50 } else { 1000 }),
        storm_downs: std::env::var("FAULTS_STORM_DOWN_MS")
            .unwrap_or_else(|_| "0,1000".into())
            .split(',')
            .filter_map(|v| v.trim().parse().ok())
            .map(Duration::from_millis)
            .collect(),
    }
}

fn main() -> Result<(), BoxError> {
    if let Some(name) = floods::child_flood() {
        floods::child_main(&name);
    }
    let cfg = config();
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    println!();
    println!(
        "faults: in-process loopback rooms (tokio-tungstenite on 127.0.0.1); client on a \
         multi-thread runtime ({cores} worker(s), one per core){}",
        if cfg.smoke {
            "; SMOKE PASS (run with `cargo bench` for the figures)"
        } else {
            ""
        }
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if cfg.sections.contains(&1) {
        section_detect(&cfg, &rt)?;
    }
    if cfg.sections.contains(&2) {
        section_reconnect(&cfg, &rt)?;
    }
    if cfg.sections.contains(&3) {
        section_floods(&cfg)?;
    }
    if cfg.sections.contains(&4) {
        section_storm(&cfg, &rt)?;
    }
    Ok(())
}

fn section_storm(cfg: &Config, rt: &tokio::runtime::Runtime) -> Result<(), BoxError> {
    let room_rt = storm::room_runtime()?;
    let mut storms = Vec::new();
    for &down in &cfg.storm_downs {
        storms.push(rt.block_on(storm::storm(room_rt.handle(), cfg.storm_rooms, down))?);
    }
    let kib = |b: isize| format!("{:.0} KiB", b as f64 / 1024.0);
    println!();
    println!("### 4. Reconnection storm");
    println!();
    println!(
        "{} rooms in one client (default options: reconnect policy 0.5 s doubling to 30 s, \
         each delay drawn from its upper half), each with one call the room has read and \
         not answered. The room restarts: listener and every connection closed, the port \
         bound again `down` later. Accept rate: the restarted room's busiest 25 ms (peak) \
         against its mean over the busy span (5th to 95th percentile accept). Heap: the client's live \
         heap with the rooms idle, before the storm and after it (once every room is back, \
         has made one more call and its events are read).",
        cfg.storm_rooms
    );
    println!();
    println!("| down | all back | median back | lost | accepts | peak / mean accept rate | unanswered calls: failed / answered / hung | calls sent twice | calls after | client heap before → after |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for s in &storms {
        println!(
            "| {} | {} | {} | {} | {} in {} | {:.0}/s / {:.0}/s = {:.2}× | {} / {} / {} | {} | {} / {} | {} → {} ({:+.1} %) |",
            ms(s.down),
            ms(s.all_back),
            ms(s.back_median),
            s.lost,
            s.accepts,
            ms(s.accept_span),
            s.peak_rate,
            s.mean_rate,
            s.peak_rate / s.mean_rate.max(f64::MIN_POSITIVE),
            s.stalled_failed,
            s.stalled_answered,
            s.stalled_hung,
            s.resent,
            s.after_ok,
            s.rooms,
            kib(s.heap_before),
            kib(s.heap_after),
            100.0 * (s.heap_after - s.heap_before) as f64 / s.heap_before.max(1) as f64
        );
    }
    println!();
    Ok(())
}

fn section_detect(cfg: &Config, rt: &tokio::runtime::Runtime) -> Result<(), BoxError> {
    let silent = rt.block_on(liveness::silent(&cfg.silent))?;
    let dropped = rt.block_on(liveness::dropped(cfg.drop_runs))?;
    println!();
    println!("### 1. Time to detect a dead peer");
    println!();
    println!(
        "(a) The room stops answering entirely after the handshake: it keeps the socket \
         open and reads nothing (so no pong). Timed from `connect` returning (the client's \
         last frame from the room) to the loss report on the event stream \
         (`ConnectionEvent`); reconnection off."
    );
    println!();
    println!("| keepalive interval / timeout | bound (interval + timeout) | runs | median | min | max | over the bound (max) | reason reported |");
    println!("|---|---|---|---|---|---|---|---|");
    let default = Keepalive::default();
    println!(
        "| {} s / {} s (default) | {} s | not run | | | | | |",
        default.interval.as_secs(),
        default.timeout.as_secs(),
        (default.interval + default.timeout).as_secs()
    );
    for row in &silent {
        let bound = row.keepalive.interval + row.keepalive.timeout;
        let over = row.samples.max().as_secs_f64() - bound.as_secs_f64();
        println!(
            "| {} / {} | {} | {} | {} | {} | {} | {:+.0} ms | {} |",
            ms(row.keepalive.interval),
            ms(row.keepalive.timeout),
            ms(bound),
            row.samples.runs(),
            ms(row.samples.median()),
            ms(row.samples.min()),
            ms(row.samples.max()),
            over * 1e3,
            cell(&row.reason, 80)
        );
    }
    println!();
    println!(
        "(b) The room drops the connection while the client is idle. Timed from just before \
         the room's close to the loss report on the event stream; reconnection off; \
         default keepalive."
    );
    println!();
    println!("| how the room goes | runs | median | min | max | reason reported |");
    println!("|---|---|---|---|---|---|");
    for row in &dropped {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            row.how.label(),
            row.samples.runs(),
            ms(row.samples.median()),
            ms(row.samples.min()),
            ms(row.samples.max()),
            cell(&row.reason, 80)
        );
    }
    Ok(())
}

fn section_reconnect(cfg: &Config, rt: &tokio::runtime::Runtime) -> Result<(), BoxError> {
    let default = ReconnectPolicy::default();
    let fast =
        ReconnectPolicy::default().delays(Duration::from_millis(10), Duration::from_millis(100));
    const DEFAULT: &str = "default (0.5 s doubling to 30 s, jittered: first 0.25–0.5 s)";
    const FAST: &str = "fast: `delays(10 ms, 100 ms)` (first 5–10 ms)";
    let down = Duration::from_secs(1);
    let rows = rt.block_on(async {
        Ok::<_, BoxError>(vec![
            reconnect::drops(default.clone(), DEFAULT, cfg.reconnect_runs).await?,
            reconnect::drops(fast.clone(), FAST, cfg.reconnect_runs).await?,
            reconnect::restarts(default, DEFAULT, cfg.restart_runs, down).await?,
            reconnect::restarts(fast, FAST, cfg.restart_runs, down).await?,
        ])
    })?;
    println!();
    println!("### 2. Time to reconnect");
    println!();
    println!(
        "From the room's drop (TCP close) to `ConnectionEvent::Reconnected` (new handshake \
         done, client state restored: none to restore here). One client per row, dropped \
         repeatedly. \"beyond backoff\": the time left after subtracting the backoff delays \
         the client announced (`Reconnecting {{ delay }}`): loss detection, failed dials, the \
         new upgrade and handshake."
    );
    println!();
    println!("| scenario | policy | runs | median | min | max | beyond backoff, median (max) | attempts |");
    println!("|---|---|---|---|---|---|---|---|");
    for row in &rows {
        let attempts = if row.attempts.0 == row.attempts.1 {
            row.attempts.0.to_string()
        } else {
            format!("{}–{}", row.attempts.0, row.attempts.1)
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} ({}) | {} |",
            row.scenario,
            row.policy,
            row.took.runs(),
            ms(row.took.median()),
            ms(row.took.min()),
            ms(row.took.max()),
            ms(row.beyond.median()),
            ms(row.beyond.max()),
            attempts
        );
    }
    Ok(())
}

fn section_floods(cfg: &Config) -> Result<(), BoxError> {
    let floods = floods::all();
    let mut rows = Vec::new();
    for f in &floods {
        rows.push((f, floods::run_in_child(f.name, cfg.smoke)));
    }
    println!();
    println!("### 3. Peak heap under floods");
    println!();
    println!(
        "Each flood in its own child process; N = {} pushed messages, large replies {} MB. \
         Client peak: the most heap live at once on the client's threads (runtime, SDK, app) \
         from the end of `connect` (the peak is reset there) to the end of the flood; the \
         in-process room's own heap is counted apart. Bound: 64 MiB + the client's \
         `max_message_size` (`Limits`). Reconnection off; other options default \
         (event queue 4096 events / 16 MiB, stream buffer 4 MiB, 64 hosted calls, send \
         queue 4 MiB).",
        if cfg.smoke { "20k" } else { "200k" },
        if cfg.smoke { 5 } else { 50 }
    );
    println!();
    println!("| flood | max message | client peak heap | bound | within | room's peak heap | process VmHWM | time | what happened |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for (f, result) in &rows {
        let bound = 64 * (1u64 << 20) + f.max_message as u64;
        match result {
            Ok(m) => println!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                f.what,
                mib(f.max_message as u64),
                mib(m.client_peak),
                mib(bound),
                if m.client_peak <= bound {
                    "yes"
                } else {
                    "**no**"
                },
                mib(m.server_peak),
                mib(m.vm_hwm),
                ms(m.elapsed),
                m.note
            ),
            Err(e) => println!(
                "| {} | {} | failed | {} | | | | | {} |",
                f.what,
                mib(f.max_message as u64),
                mib(bound),
                cell(e, 300)
            ),
        }
    }
    println!();
    Ok(())
}
