//! WAL checkpoints on a thread of their own.
//!
//! SQLite copies the write-ahead log back into the database file ("checkpoints") from
//! whichever connection commits when the log has grown past `wal_autocheckpoint` pages, and
//! that connection then waits for the disk in `fsync`. On this design's hot paths that is the
//! worker in the middle of its batches, or a request: a profile of the worker put 15% of its
//! wall time in that wait (BENCHMARKS.md). So a thread of its own checkpoints every
//! [`INTERVAL`] (a `PASSIVE` checkpoint never blocks readers or the writer) and the pool's
//! connections only checkpoint themselves if the log grows far beyond that (a safety net
//! for when this thread falls behind).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};

/// How often the log is checkpointed.
pub const INTERVAL: Duration = Duration::from_millis(50);

/// The log size (pages) at which a committing connection checkpoints by itself after all.
pub const SAFETY_NET_PAGES: u32 = 4096;

/// Runs until dropped (with the pool that owns it).
pub struct Checkpointer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Checkpointer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpointer").finish_non_exhaustive()
    }
}

impl Checkpointer {
    pub fn start(database_url: &str) -> anyhow::Result<Checkpointer> {
        let mut conn = SqliteConnection::establish(database_url)?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while !flag.load(Ordering::SeqCst) {
                    std::thread::sleep(INTERVAL);
                    if let Err(e) = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE)") {
                        tracing::debug!(error = %e, "checkpoint skipped");
                    }
                }
            })?;
        Ok(Checkpointer {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_is_copied_back_without_the_writer_doing_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("t.db");
        let pool = crate::db::connect(&path.display().to_string(), 2).expect("pool");
        let mut conn = pool.get().expect("connection");
        // About 400 KB, far below the safety net: the writer does not checkpoint, so the rows
        // reach the database file only through the checkpoint thread.
        conn.batch_execute(
            "CREATE TABLE t (x TEXT);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
             INSERT INTO t SELECT hex(randomblob(100)) FROM n;",
        )
        .expect("write");
        let size = || std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while size() < 400_000 && std::time::Instant::now() < deadline {
            std::thread::sleep(INTERVAL);
        }
        assert!(size() >= 400_000, "database file is {} bytes", size());
    }
}
