//! A small in-memory limiter of failed attempts (sign-in, API tokens): each key (an IP
//! address, an account) may fail `limit` times within `window`; past that it is refused until
//! the oldest failure leaves the window. A success does not erase failures — a guesser who
//! also knows one password gains nothing — except for the account that signed in.
//!
//! Per process: several `serve` processes each count on their own, which multiplies the
//! allowance by their number but keeps every one of them bounded.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Limiter {
    limit: usize,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Limiter {
    pub fn new(limit: usize, window: Duration) -> Limiter {
        Limiter {
            limit: limit.max(1),
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Instant>>> {
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `Some(wait)` when `key` has used up its failures: try again after `wait`.
    pub fn blocked(&self, key: &str) -> Option<Duration> {
        self.blocked_at(key, Instant::now())
    }

    fn blocked_at(&self, key: &str, now: Instant) -> Option<Duration> {
        let mut map = self.map();
        let q = map.get_mut(key)?;
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            q.pop_front();
        }
        if q.len() < self.limit {
            if q.is_empty() {
                map.remove(key);
            }
            return None;
        }
        let oldest = *q.front()?;
        Some(self.window.saturating_sub(now.duration_since(oldest)))
    }

    /// Counts a failure of `key`.
    pub fn fail(&self, key: &str) {
        self.fail_at(key, Instant::now())
    }

    fn fail_at(&self, key: &str, now: Instant) {
        let mut map = self.map();
        // Bounded memory: a flood of distinct keys drops the stalest entries first.
        if map.len() >= 100_000 {
            let window = self.window;
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        let q = map.entry(key.to_string()).or_default();
        q.push_back(now);
        while q.len() > self.limit {
            q.pop_front();
        }
    }

    /// Forgets `key`'s failures (the account signed in).
    pub fn clear(&self, key: &str) {
        self.map().remove(key);
    }
}

/// Seconds to wait, rounded up (for `Retry-After`), at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    let s = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    s.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_blocked_after_its_failures_until_the_oldest_leaves_the_window() {
        let l = Limiter::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..3 {
            assert_eq!(l.blocked_at("ip", t0 + Duration::from_secs(i)), None);
            l.fail_at("ip", t0 + Duration::from_secs(i));
        }
        let wait = l.blocked_at("ip", t0 + Duration::from_secs(10)).unwrap();
        assert_eq!(wait, Duration::from_secs(50));
        assert_eq!(l.blocked_at("other", t0), None);
        assert_eq!(l.blocked_at("ip", t0 + Duration::from_secs(60)), None);
        l.clear("ip");
        assert_eq!(l.blocked_at("ip", t0 + Duration::from_secs(10)), None);
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}
