//! A counting global allocator: live and peak heap bytes, the client side (every thread
//! but the in-process server's) and the server side apart, with a resettable peak.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, Ordering};

/// Live and peak heap bytes of one side.
pub struct Counter {
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

    /// The peak restarts at the live level, which is returned.
    pub fn reset_peak(&self) -> isize {
        let live = self.live.load(Ordering::Relaxed);
        self.peak.store(live, Ordering::Relaxed);
        live
    }

    pub fn peak(&self) -> isize {
        self.peak.load(Ordering::Relaxed)
    }
}

pub static CLIENT: Counter = Counter::new();
pub static SERVER: Counter = Counter::new();

thread_local! {
    /// Set on the in-process server's threads. `const` and without a destructor, so the
    /// allocator reads it without allocating.
    pub static ON_SERVER: Cell<bool> = const { Cell::new(false) };
}

fn counter() -> &'static Counter {
    if ON_SERVER.try_with(Cell::get).unwrap_or(false) {
        &SERVER
    } else {
        &CLIENT
    }
}

pub struct Counting;

// SAFETY: every call is forwarded to `System` unchanged; the counters only observe sizes.
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
            // The old size goes first: a block that grows in place (or by mremap) is
            // never counted twice.
            let c = counter();
            c.sub(layout.size());
            c.add(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// `VmHWM` (peak RSS) of this process in bytes.
pub fn vm_hwm() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kib| kib * 1024)
}
