//! The worker: claims due enrollments with a lease, runs their steps, writes history and
//! schedules what comes next — for internal actions in one transaction, so a crash loses and
//! duplicates nothing. It sleeps until the next due time or until its pool's bell rings
//! (`crate::notifier`).

pub mod actions;
pub mod execute;
pub mod external;
mod forks;
pub mod guard;
pub mod round;

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::clock::{fmt_instant, parse_instant};
use crate::db::sql::worker as sql;
use crate::db::DbPool;

/// How often triggers that depend on today's date ("before today-30") are re-checked.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// The longest the loop sleeps without waking (even with nothing due for hours), so its
/// heartbeat stays fresh: one cheap "what is due next" query a minute, no busy polling.
pub const MAX_SLEEP: Duration = Duration::from_secs(60);

/// The worker thread's sign of life, read by `GET /readyz`: the wall-clock time (ms since the
/// epoch) of its last loop wake, and whether the thread is still running.
#[derive(Debug)]
pub struct Heartbeat {
    last_beat_ms: AtomicI64,
    alive: AtomicBool,
}

impl Heartbeat {
    /// A heart beating now; spawned with the thread.
    pub fn new() -> Heartbeat {
        Heartbeat {
            last_beat_ms: AtomicI64::new(Utc::now().timestamp_millis()),
            alive: AtomicBool::new(true),
        }
    }

    pub fn beat(&self) {
        self.last_beat_ms
            .store(Utc::now().timestamp_millis(), Ordering::Relaxed);
    }

    /// Time since the last wake.
    pub fn age(&self) -> Duration {
        let ms = Utc::now().timestamp_millis() - self.last_beat_ms.load(Ordering::Relaxed);
        Duration::from_millis(ms.max(0) as u64)
    }

    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Relaxed)
    }

    /// Alive and woken within twice the longest sleep ([`MAX_SLEEP`]). A round that runs
    /// longer than that (hundreds of slow webhooks) also reads as not fresh.
    pub fn is_fresh(&self) -> bool {
        self.is_alive() && self.age() <= 2 * MAX_SLEEP
    }
}

impl Default for Heartbeat {
    fn default() -> Self {
        Heartbeat::new()
    }
}

/// Marks the heartbeat dead when the worker thread ends, by return or by panic.
struct AliveGuard(Arc<Heartbeat>);

impl Drop for AliveGuard {
    fn drop(&mut self) {
        self.0.alive.store(false, Ordering::Relaxed);
    }
}

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Jobs claimed per round.
    pub batch: i64,
    /// How long a claim holds before another worker may take the job over.
    pub lease_secs: i64,
    /// Failed external actions are retried this many times with exponential back-off.
    pub max_attempts: i32,
    /// The first retry waits this long; each next one twice as long.
    pub retry_base: Duration,
    pub smtp_url: Option<String>,
    pub smtp_from: String,
    /// Also watch the database for commits by other processes (`perennial worker` alone).
    pub watch_other_processes: bool,
    /// This worker's name: its heartbeat row and the owner of the leases it holds.
    pub worker_id: String,
}

/// `host:pid:random`, unique per worker loop.
fn new_worker_id() -> String {
    format!(
        "{}:{}:{:08x}",
        host_name(),
        std::process::id(),
        rand::random::<u32>()
    )
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            batch: 500,
            lease_secs: 300,
            max_attempts: 5,
            retry_base: Duration::from_millis(
                std::env::var("PERENNIAL_RETRY_BASE_MS")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(30_000),
            ),
            smtp_url: std::env::var("PERENNIAL_SMTP_URL")
                .ok()
                .filter(|s| !s.is_empty()),
            smtp_from: std::env::var("PERENNIAL_SMTP_FROM")
                .unwrap_or_else(|_| "Perennial <perennial@localhost>".into()),
            watch_other_processes: false,
            worker_id: new_worker_id(),
        }
    }
}

/// A running worker thread; `stop()` finishes the current job and joins.
pub struct WorkerHandle {
    stop: Arc<AtomicBool>,
    bell: crate::notifier::Notifier,
    thread: Option<std::thread::JoinHandle<()>>,
    heartbeat: Arc<Heartbeat>,
}

impl WorkerHandle {
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.bell.notify();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// Asks the thread to stop without waiting for it (see [`WorkerStopper`]).
    pub fn stopper(&self) -> WorkerStopper {
        WorkerStopper {
            stop: self.stop.clone(),
            bell: self.bell.clone(),
        }
    }

    /// The thread's heartbeat (for readiness checks).
    pub fn heartbeat(&self) -> Arc<Heartbeat> {
        self.heartbeat.clone()
    }
}

/// Stops a worker thread from elsewhere (a test ending before its database goes away): the
/// thread finishes its current job and ends on its own.
#[derive(Clone)]
pub struct WorkerStopper {
    stop: Arc<AtomicBool>,
    bell: crate::notifier::Notifier,
}

impl WorkerStopper {
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.bell.notify();
    }
}

pub fn spawn(pool: DbPool, config: WorkerConfig) -> WorkerHandle {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    // Other processes' work arrives by NOTIFY (PostgreSQL); the listener ends with the worker.
    let _listener = crate::db::listen::spawn_listener(&pool, stop.clone());
    let heartbeat = Arc::new(Heartbeat::new());
    let beat = heartbeat.clone();
    let bell = pool.notifier().clone();
    let thread = std::thread::Builder::new()
        .name("perennial-worker".into())
        .spawn(move || {
            let _guard = AliveGuard(beat.clone());
            run(pool, config, flag, &beat)
        })
        .ok();
    if thread.is_none() {
        heartbeat.alive.store(false, Ordering::Relaxed);
    }
    WorkerHandle {
        stop,
        bell,
        thread,
        heartbeat,
    }
}

/// The loop: run what is due, then sleep until the next due time or a notification.
/// `heartbeat` is touched on every wake.
pub fn run(pool: DbPool, config: WorkerConfig, stop: Arc<AtomicBool>, heartbeat: &Heartbeat) {
    let mut presence = Presence::new(&config.worker_id);
    tracing::info!(worker = %presence.id, "worker started");
    let mut last_version: Option<i64> = None;
    let mut last_sweep: Option<std::time::Instant> = None;
    while !stop.load(Ordering::SeqCst) {
        heartbeat.beat();
        presence.beat(&pool);
        if last_sweep.is_none_or(|t| t.elapsed() >= SWEEP_EVERY) {
            last_sweep = Some(std::time::Instant::now());
            match pool
                .get()
                .map_err(anyhow::Error::from)
                .and_then(|mut c| crate::engine::backfill::sweep(&mut c, Utc::now()))
            {
                Ok(n) if n > 0 => tracing::info!(enrolled = n, "date-relative triggers re-checked"),
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %crate::telemetry::chain(&e), "periodic trigger check failed")
                }
            }
        }
        // Work this thread scheduled is found by the round itself (it reads the queue).
        let _ = crate::notifier::take_marked();
        let seen = pool.notifier().generation();
        let ran = match execute::run_due(&pool, &config, Utc::now(), &stop) {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(error = %crate::telemetry::chain(&e), "worker round failed");
                pool.notifier().wait(seen, Duration::from_secs(1));
                continue;
            }
        };
        if ran > 0 {
            continue;
        }
        let until_due = match next_due_in(&pool) {
            Ok(Some(d)) => d,
            // Nothing scheduled: sleep until notified (with a long safety net).
            Ok(None) => Duration::from_secs(60),
            Err(e) => {
                tracing::error!(error = %crate::telemetry::chain(&e), "reading the next due time failed");
                Duration::from_secs(1)
            }
        };
        let until_sweep =
            SWEEP_EVERY.saturating_sub(last_sweep.map(|t| t.elapsed()).unwrap_or_default());
        let wait = until_due.min(until_sweep).min(MAX_SLEEP);
        if config.watch_other_processes {
            // Another process may add work without ringing our bell: watch SQLite's data
            // version (a cheap pragma, no table read) in short steps.
            let deadline = std::time::Instant::now() + wait;
            while std::time::Instant::now() < deadline && !stop.load(Ordering::SeqCst) {
                pool.notifier().wait(
                    seen,
                    Duration::from_millis(200).min(deadline - std::time::Instant::now()),
                );
                if pool.notifier().generation() != seen {
                    break;
                }
                let v = pool
                    .get()
                    .ok()
                    .and_then(|mut c| sql::data_version(&mut c).ok().flatten());
                if let Some(v) = v {
                    if last_version.is_some_and(|l| l != v) {
                        last_version = Some(v);
                        break;
                    }
                    last_version = Some(v);
                }
            }
        } else {
            pool.notifier().wait(seen, wait);
        }
    }
    presence.leave(&pool);
    tracing::info!(worker = %presence.id, "worker stopped");
}

/// This worker's row in `worker_heartbeats`: written on start and then at most every
/// [`Presence::EVERY`], removed on a clean stop (a killed worker's row ages out).
struct Presence {
    id: String,
    host: String,
    started_at: String,
    last: Option<std::time::Instant>,
}

impl Presence {
    const EVERY: Duration = Duration::from_secs(10);
    /// Rows silent this long belong to workers that were killed; a stopping worker clears them.
    const FORGET_AFTER: Duration = Duration::from_secs(600);

    fn new(id: &str) -> Presence {
        Presence {
            id: id.to_string(),
            host: host_name(),
            started_at: fmt_instant(Utc::now()),
            last: None,
        }
    }

    fn beat(&mut self, pool: &DbPool) {
        if self.last.is_some_and(|t| t.elapsed() < Self::EVERY) {
            return;
        }
        self.last = Some(std::time::Instant::now());
        let written = pool.get().map_err(anyhow::Error::from).and_then(|mut c| {
            crate::db::models::worker_heartbeat::WorkerHeartbeat::beat(
                &mut c,
                &self.id,
                &self.host,
                i64::from(std::process::id()),
                &self.started_at,
                &fmt_instant(Utc::now()),
            )
        });
        if let Err(e) = written {
            tracing::warn!(error = %crate::telemetry::chain(&e), "could not record the worker's heartbeat");
        }
    }

    fn leave(&self, pool: &DbPool) {
        let forget =
            Utc::now() - chrono::Duration::from_std(Self::FORGET_AFTER).unwrap_or_default();
        let _ = pool.get().map_err(anyhow::Error::from).and_then(|mut c| {
            crate::db::models::worker_heartbeat::WorkerHeartbeat::remove(
                &mut c,
                &self.id,
                &fmt_instant(forget),
            )
        });
    }
}

/// How long until the earliest unleased due job (zero if one is due now).
fn next_due_in(pool: &DbPool) -> anyhow::Result<Option<Duration>> {
    let mut conn = pool.get()?;
    let now = Utc::now();
    let due = sql::earliest_unleased_due(&mut conn, &fmt_instant(now))?;
    let leased = sql::earliest_lease_end(&mut conn, &fmt_instant(now))?;
    let earliest = [due, leased]
        .into_iter()
        .flatten()
        .filter_map(|s| parse_instant(&s))
        .min();
    Ok(earliest.map(|t| (t - now).to_std().unwrap_or(Duration::ZERO) + Duration::from_millis(1)))
}
