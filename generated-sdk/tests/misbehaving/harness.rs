//! The harness: scenarios as data, a child process per scenario, the memory count, and the
//! checks every scenario shares (bounded waits, "still serves", "closed cleanly").

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::{Future, IntoFuture};
use std::io::Read;
use std::pin::Pin;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use meshagent_room::{Connect, Error, RoomClient, RoomEvents};
use url::Url;

/// The environment variable that makes this binary run one scenario as a child.
const CHILD_ENV: &str = "MESHAGENT_MISBEHAVING_SCENARIO";
/// The line prefix of a child's verdict.
const VERDICT: &str = "MISBEHAVING-VERDICT";
/// The longest a child may live; the parent kills it after (a hang).
pub const CHILD_LIMIT: Duration = Duration::from_secs(25);
/// The longest a scenario's script may run inside the child.
const SCRIPT_LIMIT: Duration = Duration::from_secs(15);

pub const MIB: usize = 1 << 20;
/// The suite's memory target: peak memory under 64 MiB plus the configured maximum
/// message size (see [`target`]).
pub const TARGET_BASE: usize = 64 * MIB;

/// The memory target for a client configured with `max_message_size`.
pub const fn target(max_message_size: usize) -> usize {
    TARGET_BASE + max_message_size
}

pub type Script = fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// One named scenario: its script and the bound on the peak heap of its process.
pub struct Scenario {
    pub name: &'static str,
    /// Peak bytes allocated at once in the child (client and scripted server together).
    pub heap_bound: usize,
    pub run: Script,
}

/// `scenario!(name, heap_bound, async_fn)`.
#[macro_export]
macro_rules! scenario {
    ($name:expr, $bound:expr, $f:path) => {
        $crate::harness::Scenario {
            name: $name,
            heap_bound: $bound,
            run: || Box::pin($f()),
        }
    };
}

/// A global allocator counting the bytes allocated now and at most.
pub struct Counting {
    now: AtomicUsize,
    peak: AtomicUsize,
}

impl Counting {
    pub const fn new() -> Self {
        Counting {
            now: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    pub fn now(&self) -> usize {
        self.now.load(Ordering::Relaxed)
    }

    fn grew(&self, by: usize) {
        let now = self.now.fetch_add(by, Ordering::Relaxed) + by;
        self.peak.fetch_max(now, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded to `System` unchanged; only counters are updated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            self.grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            self.grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        self.now.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            self.now.fetch_sub(layout.size(), Ordering::Relaxed);
            self.grew(new_size);
        }
        p
    }
}

/// `VmHWM` / `VmRSS` of this process, in KiB.
pub fn proc_status(field: &str) -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The scenario this process runs as a child, if it is one.
pub fn child_scenario() -> Option<String> {
    std::env::var(CHILD_ENV).ok()
}

/// Runs one scenario and prints the verdict line; never returns.
pub fn child_main(name: &str, scenarios: &[Scenario], alloc: &Counting) -> ! {
    let Some(s) = scenarios.iter().find(|s| s.name == name) else {
        println!("{VERDICT} fail :: no scenario named {name}");
        std::process::exit(0);
    };
    let panics = Arc::new(AtomicUsize::new(0));
    let hook_panics = panics.clone();
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        hook_panics.fetch_add(1, Ordering::SeqCst);
        default_hook(info);
    }));
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            println!("{VERDICT} fail :: runtime: {e}");
            std::process::exit(0);
        }
    };
    let started = Instant::now();
    let result = rt.block_on(async {
        match tokio::time::timeout(SCRIPT_LIMIT, tokio::spawn((s.run)())).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => Err(format!("the scenario panicked: {e}")),
            Err(_) => Err(format!("the scenario hung (over {SCRIPT_LIMIT:?})")),
        }
    });
    let elapsed = started.elapsed();
    rt.shutdown_timeout(Duration::from_millis(500));
    let peak = alloc.peak();
    let hwm = proc_status("VmHWM").unwrap_or(0);
    let n = panics.load(Ordering::SeqCst);
    let result = result.and_then(|()| match n {
        0 => Ok(()),
        n => Err(format!("{n} panic(s) (client or server task)")),
    });
    let result = result.and_then(|()| {
        if peak > s.heap_bound {
            Err(format!(
                "peak heap {:.1} MiB is over the bound of {:.1} MiB",
                peak as f64 / MIB as f64,
                s.heap_bound as f64 / MIB as f64
            ))
        } else {
            Ok(())
        }
    });
    let stats = format!(
        "peak_heap={:.1}MiB bound={:.1}MiB vm_hwm={:.1}MiB live_at_end={:.1}MiB time={}ms",
        peak as f64 / MIB as f64,
        s.heap_bound as f64 / MIB as f64,
        hwm as f64 / 1024.0,
        alloc.now() as f64 / MIB as f64,
        elapsed.as_millis()
    );
    match result {
        Ok(()) => println!("{VERDICT} pass {stats} ::"),
        Err(e) => println!("{VERDICT} fail {stats} :: {e}"),
    }
    std::process::exit(0);
}

/// Runs scenario `name` in a child process; `Err` describes how it failed.
pub fn run_in_child(name: &str) -> Result<String, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let mut child = Command::new(exe)
        .env(CHILD_ENV, name)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawning the child: {e}"))?;
    // Drain both pipes while waiting, so that a chatty child never blocks on them.
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let out = child.stdout.take().map(|o| drain(Box::new(o)));
    let err = child.stderr.take().map(|e| drain(Box::new(e)));
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > CHILD_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("hung: the child was killed after {CHILD_LIMIT:?}"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("waiting for the child: {e}")),
        }
    };
    let out = out.and_then(|t| t.join().ok()).unwrap_or_default();
    let err = err.and_then(|t| t.join().ok()).unwrap_or_default();
    let Some(line) = out.lines().find_map(|l| l.strip_prefix(VERDICT)) else {
        let tail: String = err
            .chars()
            .rev()
            .take(1500)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        return Err(format!(
            "the child died ({status}) without a verdict:\n{tail}"
        ));
    };
    let (head, message) = line.split_once("::").unwrap_or((line, ""));
    let head = head.trim();
    match head.strip_prefix("pass") {
        Some(stats) => Ok(stats.trim().to_string()),
        None => Err(format!(
            "{} [{}]",
            message.trim(),
            head.trim_start_matches("fail").trim()
        )),
    }
}

/// The trial's verdict, with the known-failure list applied.
pub fn judge(
    name: &str,
    known: Option<&str>,
    result: Result<String, String>,
) -> Result<(), libtest_mimic::Failed> {
    match (result, known) {
        (Ok(stats), None) => {
            eprintln!("{name}: ok ({stats})");
            Ok(())
        }
        (Err(e), None) => Err(format!("{name}: {e}").into()),
        (Err(e), Some(why)) => {
            eprintln!("{name}: known failure ({why}): {e}");
            Ok(())
        }
        (Ok(stats), Some(why)) => Err(format!(
            "{name} is in KNOWN_FAILURES ({why}) but passed ({stats}): remove it from the list"
        )
        .into()),
    }
}

/// `fut`, or an error naming `what` after `limit`.
pub async fn bounded<F: IntoFuture>(
    what: &str,
    limit: Duration,
    fut: F,
) -> Result<F::Output, String> {
    tokio::time::timeout(limit, fut)
        .await
        .map_err(|_| format!("timed out after {limit:?} waiting for {what}"))
}

/// The default bound of one step.
pub const STEP: Duration = Duration::from_secs(4);

/// `RoomClient::connect` with the suite's short deadlines. Reconnection is off: each
/// scenario checks what its fault does to one connection (tests/reconnect.rs covers the
/// reconnecting client).
pub fn connect(url: Url) -> Connect {
    RoomClient::connect(url, "token-misbehaving")
        .reconnect(None)
        .connect_timeout(Duration::from_secs(4))
        .handshake_timeout(Duration::from_secs(3))
}

/// Connects (bounded) or describes why not.
pub async fn connected(c: Connect) -> Result<(RoomClient, RoomEvents), String> {
    bounded("connect", STEP, c)
        .await?
        .map_err(|e| format!("connect failed: {e}"))
}

/// The client still serves: `storage.exists("x")` gets the server's `true`.
pub async fn serves(room: &RoomClient) -> Result<(), String> {
    match bounded("a following call", STEP, room.storage().exists("x")).await? {
        Ok(true) => {}
        other => {
            return Err(format!(
                "a following call: expected Ok(true), got {other:?}"
            ))
        }
    }
    if room.is_closed() {
        return Err("the client closed although it should keep serving".into());
    }
    Ok(())
}

/// The client closed cleanly: `is_closed`, a call fails with `Error::Closed`, events end.
pub async fn closed_cleanly(room: &RoomClient, events: &mut RoomEvents) -> Result<(), String> {
    bounded("the client to close", STEP, async {
        while !room.is_closed() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await?;
    match bounded("a call after the close", STEP, room.storage().exists("x")).await? {
        Err(Error::Closed { .. }) => {}
        other => {
            return Err(format!(
                "a call after the close: expected Closed, got {other:?}"
            ))
        }
    }
    loop {
        // Events pushed before the close may still be queued; the stream must end.
        if bounded("the event stream to end", STEP, events.next())
            .await?
            .is_none()
        {
            return Ok(());
        }
    }
}

/// Fails with `what` unless `ok`.
pub fn check(ok: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what())
    }
}

pub fn is_closed(e: &Error) -> bool {
    matches!(e, Error::Closed { .. })
}
