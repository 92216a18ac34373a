//! Totals the pages show beside what they list: how many contacts are enrolled in a workflow
//! now (every workflow tab's header) and how many contacts there are (the contacts page).
//! Counting walks an index: under a millisecond for thousands, about 60 ms for a million
//! enrollments and 100 ms for ten million contacts on SQLite (BENCHMARKS.md, "Review counts at
//! a million contacts"). A count that took at least 20 ms is kept for [`KEEP`] (or five
//! times as long as it took, if longer), so that moving between the pages of a very large
//! database does not count millions of rows each time; a quicker count is made again for
//! every page, so the figure is exact wherever counting is cheap. Kept per database ([`crate::db::current_database`]):
//! one process may serve several.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use crate::db::models::contact::Contact;
use crate::db::models::enrollment::Enrollment;
use crate::db::models::WorkflowId;
use crate::db::DbConnection;

/// Counts at least this slow are kept: 20 ms, or `PERENNIAL_KEEP_TOTALS_AFTER_MS`.
fn slow() -> Duration {
    static SLOW: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();
    *SLOW.get_or_init(|| {
        std::env::var("PERENNIAL_KEEP_TOTALS_AFTER_MS")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or(Duration::from_millis(20), Duration::from_millis)
    })
}
/// For this long (at least).
pub const KEEP: Duration = Duration::from_secs(10);

struct Kept {
    n: i64,
    done: Instant,
    took: Duration,
}

impl Kept {
    fn fresh(&self) -> bool {
        self.done.elapsed() < KEEP.max(self.took * 5)
    }
}

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Total {
    /// The active enrollments of a workflow.
    Enrolled(i64),
    /// Every contact.
    Contacts,
}

/// The slow counts kept, by database URL ([`crate::db::current_database`]) and total.
static KEPT: LazyLock<Mutex<HashMap<(String, Total), Kept>>> = LazyLock::new(Mutex::default);

/// The contacts enrolled in `workflow` now: counted, or kept from a slow count made less than
/// [`KEEP`] ago in this database. Outside [`crate::db::run`] (the command line) it always counts.
pub fn enrolled(conn: &mut DbConnection, workflow: WorkflowId) -> anyhow::Result<i64> {
    match crate::db::current_database() {
        Some(database) => kept_or_count((database, Total::Enrolled(workflow.0)), slow(), || {
            Enrollment::count_active(conn, workflow)
        }),
        None => Enrollment::count_active(conn, workflow),
    }
}

/// How many contacts there are: counted, or kept as [`enrolled`] is.
pub fn contacts(conn: &mut DbConnection) -> anyhow::Result<i64> {
    match crate::db::current_database() {
        Some(database) => {
            kept_or_count((database, Total::Contacts), slow(), || Contact::count(conn))
        }
        None => Contact::count(conn),
    }
}

/// The kept count of `key` while it is fresh, else `count()`, kept if it took `slow` or more.
fn kept_or_count(
    key: (String, Total),
    slow: Duration,
    count: impl FnOnce() -> anyhow::Result<i64>,
) -> anyhow::Result<i64> {
    if let Ok(kept) = KEPT.lock() {
        if let Some(k) = kept.get(&key).filter(|k| k.fresh()) {
            return Ok(k.n);
        }
    }
    let started = Instant::now();
    let n = count()?;
    let took = started.elapsed();
    if let Ok(mut kept) = KEPT.lock() {
        if took >= slow {
            // Old entries go when a new one comes, so deleted workflows do not pile up.
            kept.retain(|_, k| k.fresh());
            let done = Instant::now();
            kept.insert(key, Kept { n, done, took });
        } else {
            kept.remove(&key);
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLOW: Duration = Duration::from_millis(20);

    fn slow_count(n: i64) -> impl FnOnce() -> anyhow::Result<i64> {
        move || {
            std::thread::sleep(SLOW + Duration::from_millis(5));
            Ok(n)
        }
    }

    #[test]
    fn a_slow_count_is_kept_and_a_quick_one_is_made_every_time() {
        let a = ("sqlite://a".to_string(), Total::Enrolled(1));
        // Slow: the next page shows the same figure without counting.
        assert_eq!(
            kept_or_count(a.clone(), SLOW, slow_count(1_000_000)).unwrap(),
            1_000_000
        );
        assert_eq!(kept_or_count(a.clone(), SLOW, || Ok(7)).unwrap(), 1_000_000);
        // Another database, or another workflow, has its own count.
        let b = ("sqlite://b".to_string(), Total::Enrolled(1));
        assert_eq!(kept_or_count(b.clone(), SLOW, || Ok(3)).unwrap(), 3);
        assert_eq!(
            kept_or_count(b, SLOW, || Ok(4)).unwrap(),
            4,
            "quick: counted again"
        );
        let other = ("sqlite://a".to_string(), Total::Enrolled(2));
        assert_eq!(kept_or_count(other, SLOW, || Ok(9)).unwrap(), 9);
        let contacts = ("sqlite://a".to_string(), Total::Contacts);
        assert_eq!(kept_or_count(contacts, SLOW, || Ok(5)).unwrap(), 5);
    }

    #[test]
    fn a_failed_count_keeps_nothing() {
        let key = ("sqlite://c".to_string(), Total::Contacts);
        assert!(kept_or_count(key.clone(), SLOW, || anyhow::bail!("no database")).is_err());
        assert_eq!(kept_or_count(key, SLOW, || Ok(2)).unwrap(), 2);
    }
}
