//! Measuring a transfer: a counting global allocator (live and peak heap, client and
//! server apart), on-CPU time per side, peak RSS, and the statistics over runs.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use crate::MIB;

// Counting allocator

/// Live and peak heap bytes of one side.
pub(crate) struct Counter {
    live: AtomicIsize,
    peak: AtomicIsize,
}

impl Counter {
    pub(crate) const fn new() -> Counter {
        Counter {
            live: AtomicIsize::new(0),
            peak: AtomicIsize::new(0),
        }
    }

    pub(crate) fn add(&self, n: usize) {
        let now = self.live.fetch_add(n as isize, Ordering::Relaxed) + n as isize;
        self.peak.fetch_max(now, Ordering::Relaxed);
    }

    pub(crate) fn sub(&self, n: usize) {
        self.live.fetch_sub(n as isize, Ordering::Relaxed);
    }

    /// Starts a window: the peak restarts at the current live level, which is returned.
    pub(crate) fn reset_peak(&self) -> isize {
        let live = self.live.load(Ordering::Relaxed);
        self.peak.store(live, Ordering::Relaxed);
        live
    }

    pub(crate) fn peak(&self) -> isize {
        self.peak.load(Ordering::Relaxed)
    }

    pub(crate) fn live(&self) -> isize {
        self.live.load(Ordering::Relaxed)
    }
}

pub(crate) static CLIENT_HEAP: Counter = Counter::new();
pub(crate) static SERVER_HEAP: Counter = Counter::new();

thread_local! {
    /// Set on the server runtime's threads. `const` and without a destructor, so reading
    /// it from the allocator never allocates.
    pub(crate) static ON_SERVER: Cell<bool> = const { Cell::new(false) };
}

pub(crate) fn counter() -> &'static Counter {
    if ON_SERVER.try_with(Cell::get).unwrap_or(false) {
        &SERVER_HEAP
    } else {
        &CLIENT_HEAP
    }
}

pub(crate) struct Counting;

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
pub(crate) static ALLOCATOR: Counting = Counting;

// Measurement helpers

/// What one transfer cost.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
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

pub(crate) fn status_kib(key: &str) -> Option<i64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Name of the server runtime's threads (how CPU time is told apart).
pub(crate) const SERVER_THREAD: &str = "bench-server";

/// On-CPU nanoseconds of (client, server) threads so far, from `/proc/self/task/*/schedstat`.
/// Threads that exited in between are missed; the runtimes keep theirs for the whole run.
pub(crate) fn cpu_ns() -> (u64, u64) {
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

pub(crate) struct Window {
    start: Instant,
    cpu: (u64, u64),
    client: isize,
    server: isize,
    rss: Option<i64>,
}

impl Window {
    pub(crate) fn open() -> Window {
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

    pub(crate) fn close(self) -> Sample {
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

#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) times: Vec<Duration>,
    pub(crate) client_cpu: Vec<Duration>,
    pub(crate) server_cpu: Vec<Duration>,
    /// Worst over all runs, warm-up included (buffers it grows are part of the cost).
    pub(crate) client_heap: isize,
    pub(crate) server_heap: isize,
    pub(crate) rss: Option<i64>,
    /// Live heap left behind by a timed run (the worst one): a leak shows here.
    pub(crate) retained: isize,
}

pub(crate) fn median(v: &[Duration]) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    match v.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2,
    }
}

impl Stats {
    pub(crate) fn add(&mut self, s: Sample, timed: bool) {
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
    pub(crate) fn rate(size: u64, t: Duration) -> f64 {
        size as f64 / t.as_secs_f64() / 1e6
    }

    pub(crate) fn median(&self, size: u64) -> f64 {
        Stats::rate(size, median(&self.times))
    }

    pub(crate) fn range(&self, size: u64) -> (f64, f64) {
        let slowest = self.times.iter().max().copied().unwrap_or_default();
        let fastest = self.times.iter().min().copied().unwrap_or_default();
        (Stats::rate(size, slowest), Stats::rate(size, fastest))
    }

    /// Median on-CPU milliseconds per MiB of file, (client, server).
    pub(crate) fn cpu_per_mib(&self, size: u64) -> (f64, f64) {
        let per = |v: &[Duration]| median(v).as_secs_f64() * 1e3 / (size as f64 / MIB as f64);
        (per(&self.client_cpu), per(&self.server_cpu))
    }
}

pub(crate) fn human(bytes: i64) -> String {
    let b = bytes as f64;
    if bytes.abs() >= 1 << 20 {
        format!("{:.1} MiB", b / MIB as f64)
    } else if bytes.abs() >= 1 << 10 {
        format!("{:.0} KiB", b / 1024.0)
    } else {
        format!("{bytes} B")
    }
}
