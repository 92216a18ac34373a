//! The worker's bell. New or earlier work rings it; the worker sleeps until its next due time
//! or a ring, never on a fixed polling interval.
//!
//! Each database pool carries its own [`Notifier`] (`DbPool::notifier`), so two apps in one
//! process (the tests) never wake each other's worker. The layers that schedule work (the
//! engine, inside a transaction) do not ring themselves — they cannot know when their
//! transaction commits, and a worker woken before the commit would not see the work. They
//! [`mark`] the thread instead, and `db::run` rings the pool's bell once the work is committed.
//! Code that commits outside `db::run` (background jobs) calls [`Notifier::ring_if_marked`].
//! A leaf module: it imports nothing of the crate.

use std::cell::Cell;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

#[derive(Default)]
struct Bell {
    rung: Mutex<u64>,
    cv: Condvar,
}

/// A handle on one bell; clones ring the same bell.
#[derive(Clone, Default)]
pub struct Notifier(Arc<Bell>);

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Notifier(rung {})", self.generation())
    }
}

impl Notifier {
    pub fn new() -> Notifier {
        Notifier::default()
    }

    /// Tells the worker that work may have been added or moved earlier.
    pub fn notify(&self) {
        if let Ok(mut n) = self.0.rung.lock() {
            *n = n.wrapping_add(1);
            self.0.cv.notify_all();
        }
    }

    /// The current ring count (take it before looking for work, wait with it after).
    pub fn generation(&self) -> u64 {
        self.0.rung.lock().map(|n| *n).unwrap_or(0)
    }

    /// Sleeps up to `timeout`, returning early if the bell rang since `seen`.
    pub fn wait(&self, seen: u64, timeout: Duration) {
        let Ok(guard) = self.0.rung.lock() else {
            return;
        };
        let _ = self.0.cv.wait_timeout_while(guard, timeout, |n| *n == seen);
    }

    /// Rings if this thread [`mark`]ed new work since the last check (call after committing).
    pub fn ring_if_marked(&self) {
        if take_marked() {
            self.notify();
        }
    }
}

thread_local! {
    static MARKED: Cell<bool> = const { Cell::new(false) };
}

/// Notes that this thread scheduled work (an enrollment, a re-planned step): the pool's bell
/// rings when the surrounding `db::run` returns.
pub fn mark() {
    MARKED.with(|m| m.set(true));
}

/// Whether work was marked since the last call, clearing the mark.
pub fn take_marked() -> bool {
    MARKED.with(|m| m.replace(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_bells_do_not_wake_each_other() {
        let (a, b) = (Notifier::new(), Notifier::new());
        let seen = b.generation();
        a.notify();
        assert_eq!(b.generation(), seen, "ringing a leaves b alone");
        assert_ne!(a.generation(), 0);
    }

    #[test]
    fn a_mark_rings_once_when_checked() {
        let bell = Notifier::new();
        mark();
        bell.ring_if_marked();
        assert_eq!(bell.generation(), 1);
        bell.ring_if_marked();
        assert_eq!(bell.generation(), 1, "the mark was taken");
    }
}
