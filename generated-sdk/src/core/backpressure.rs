//! Backpressure on reading: when a consumer cannot keep up (a stream's reader, the hosted
//! tool calls), the I/O task stops reading the connection until it catches up. The room's
//! writes then back up in TCP instead of the client's memory, and nothing is dropped.
//!
//! Holds are counted: reading resumes when the last hold is released.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Context;

use futures::task::AtomicWaker;

/// The holds on reading of one connection.
#[derive(Default, Debug)]
pub(crate) struct Backpressure {
    holds: AtomicUsize,
    /// The I/O task, woken when the last hold goes.
    reader: AtomicWaker,
}

impl Backpressure {
    /// Whether the I/O task may read now; when not, it is woken once it may.
    pub(crate) fn poll_reading(&self, cx: &mut Context<'_>) -> bool {
        if self.holds.load(Ordering::Acquire) == 0 {
            return true;
        }
        self.reader.register(cx.waker());
        // Released in between: read now.
        self.holds.load(Ordering::Acquire) == 0
    }

    fn hold(&self) {
        self.holds.fetch_add(1, Ordering::AcqRel);
    }

    fn release(&self) {
        if self.holds.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.reader.wake();
        }
    }

    /// Whether reading is held back now (for tests).
    #[cfg(test)]
    pub(crate) fn is_held(&self) -> bool {
        self.holds.load(Ordering::Acquire) > 0
    }
}

/// One consumer's share: a level (bytes buffered, calls running) that holds reading back
/// while it is over its limit. Each meter holds at most once.
#[derive(Debug)]
pub(crate) struct Meter {
    backpressure: Arc<Backpressure>,
    level: AtomicUsize,
    limit: usize,
    holding: AtomicBool,
}

impl Meter {
    /// A meter that holds `backpressure` while its level is over `limit`.
    pub(crate) fn new(backpressure: Arc<Backpressure>, limit: usize) -> Meter {
        Meter {
            backpressure,
            level: AtomicUsize::new(0),
            limit,
            holding: AtomicBool::new(false),
        }
    }

    /// The current level.
    pub(crate) fn level(&self) -> usize {
        self.level.load(Ordering::Acquire)
    }

    /// Raises the level by `n`; over the limit, reading is held back.
    pub(crate) fn add(&self, n: usize) {
        let level = self.level.fetch_add(n, Ordering::AcqRel) + n;
        if level > self.limit && !self.holding.load(Ordering::Acquire) {
            // The hold is counted before it is marked, so `unhold` never releases one
            // that was not counted.
            self.backpressure.hold();
            if self.holding.swap(true, Ordering::AcqRel) {
                self.backpressure.release();
            } else if self.level.load(Ordering::Acquire) <= self.limit {
                // Drained meanwhile: do not keep a hold nobody will release.
                self.unhold();
            }
        }
    }

    /// Lowers the level by `n`; back at or under the limit, reading resumes.
    pub(crate) fn sub(&self, n: usize) {
        let before = self
            .level
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |l| {
                Some(l.saturating_sub(n))
            })
            .unwrap_or(0);
        if before.saturating_sub(n) <= self.limit {
            self.unhold();
        }
    }

    /// Stops holding reading back whatever the level (the consumer is gone or dead).
    pub(crate) fn unhold(&self) {
        if self.holding.swap(false, Ordering::AcqRel) {
            self.backpressure.release();
        }
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        self.unhold();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_meter_holds_reading_while_over_its_limit() {
        let bp = Arc::new(Backpressure::default());
        let a = Meter::new(bp.clone(), 10);
        let b = Meter::new(bp.clone(), 10);
        a.add(10);
        assert!(!bp.is_held());
        a.add(1);
        b.add(20);
        assert!(bp.is_held());
        a.sub(5);
        assert!(bp.is_held(), "b still holds");
        drop(b);
        assert!(!bp.is_held());
        a.add(100);
        assert!(bp.is_held());
        a.unhold();
        assert!(!bp.is_held());
    }
}
