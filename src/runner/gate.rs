//! Counts iterations in flight: the open model drops arrivals beyond its cap, and the end
//! of a run waits for zero.
//! The scheduler thread sleeps in `park_timeout`; an ending iteration unparks it, which
//! costs an atomic operation, not a lock.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::Thread;

/// In-flight iteration counter that can wake the scheduler thread.
#[derive(Debug, Default)]
pub struct Gate {
    in_flight: AtomicUsize,
    scheduler: OnceLock<Thread>,
    /// Set while the scheduler waits for iterations to end (draining).
    waiting: AtomicBool,
}

impl Gate {
    /// Iterations running now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// An iteration starts.
    pub fn enter(&self) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
    }

    /// An iteration ends.
    pub fn leave(&self) {
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
        if self.waiting.load(Ordering::Acquire) {
            self.wake();
        }
    }

    /// Registers the calling thread as the scheduler.
    pub fn set_scheduler(&self) {
        let _ = self.scheduler.set(std::thread::current());
    }

    /// Wakes the scheduler thread (also used for stop requests).
    pub fn wake(&self) {
        if let Some(t) = self.scheduler.get() {
            t.unpark();
        }
    }

    /// From the scheduler thread: whether iteration ends should wake it.
    pub fn want_wakeups(&self, on: bool) {
        self.waiting.store(on, Ordering::Release);
    }
}
