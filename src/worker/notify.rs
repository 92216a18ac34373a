//! Waking the worker: new work calls `notify()`; the worker sleeps until its next due time or
//! until notified, never on a fixed polling interval.

use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

struct Bell {
    rung: Mutex<u64>,
    cv: Condvar,
}

fn bell() -> &'static Bell {
    static BELL: OnceLock<Bell> = OnceLock::new();
    BELL.get_or_init(|| Bell {
        rung: Mutex::new(0),
        cv: Condvar::new(),
    })
}

/// Tells the worker that work may have been added or moved earlier.
pub fn notify() {
    let b = bell();
    if let Ok(mut n) = b.rung.lock() {
        *n = n.wrapping_add(1);
        b.cv.notify_all();
    }
}

/// The current ring count (take it before looking for work, wait with it after).
pub fn generation() -> u64 {
    bell().rung.lock().map(|n| *n).unwrap_or(0)
}

/// Sleeps up to `timeout`, returning early if `notify()` was called since `seen`.
pub fn wait(seen: u64, timeout: Duration) {
    let b = bell();
    let Ok(guard) = b.rung.lock() else { return };
    let _ = b.cv.wait_timeout_while(guard, timeout, |n| *n == seen);
}
