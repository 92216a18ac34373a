//! Cross-process wake-ups on PostgreSQL: `NOTIFY perennial_work` after a commit that scheduled
//! work, and a listener thread per worker process that rings its pool's bell when one arrives.
//!
//! In one process the bell (`crate::notifier`) is enough. With several processes sharing a
//! database (`perennial serve --no-worker` beside `perennial worker`s), the process that
//! enrolled a contact is not the one that will run its first action: the notification tells
//! every listening worker to look for work now rather than at its next planned wake. The
//! listener reads its socket every [`POLL`] (libpq's non-blocking read; no query runs), so a
//! job posted by another process is picked up within that time; the worker's own sleep
//! (until its next due time, at most a minute) covers a lost notification.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use super::{Backend, DbConnection, DbPool};

/// The channel.
pub const CHANNEL: &str = "perennial_work";

/// How often the listener reads its socket.
pub const POLL: Duration = Duration::from_millis(20);

/// Tells other processes' workers to look for work (PostgreSQL; nothing on SQLite, whose one
/// process rings its own bell). Call after the commit, or inside the transaction: PostgreSQL
/// delivers a notification when its transaction commits.
pub fn announce(conn: &mut DbConnection) {
    if Backend::of(conn) == Backend::Postgres {
        if let Err(e) = conn.batch_execute(&format!("NOTIFY {CHANNEL}")) {
            tracing::warn!(error = %e, "could not notify other workers");
        }
    }
}

/// Starts the listener of a PostgreSQL pool (none for SQLite). It stops when `stop` is set.
pub fn spawn_listener(pool: &DbPool, stop: Arc<AtomicBool>) -> Option<std::thread::JoinHandle<()>> {
    if pool.backend() != Backend::Postgres {
        return None;
    }
    let url = pool.url().to_string();
    let bell = pool.notifier().clone();
    std::thread::Builder::new()
        .name("perennial-listen".into())
        .spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let mut conn = match PgConnection::establish(&url)
                    .map_err(anyhow::Error::from)
                    .and_then(|mut c| {
                        c.batch_execute(&format!("LISTEN {CHANNEL}"))?;
                        Ok(c)
                    }) {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!(error = %e, "work listener cannot connect; retrying");
                        std::thread::sleep(Duration::from_secs(1));
                        continue;
                    }
                };
                // Anything announced while we were not listening: look once.
                bell.notify();
                'listening: while !stop.load(Ordering::SeqCst) {
                    let mut heard = false;
                    for n in conn.notifications_iter() {
                        match n {
                            Ok(_) => heard = true,
                            Err(e) => {
                                tracing::warn!(error = %e, "work listener lost its connection");
                                break 'listening;
                            }
                        }
                    }
                    if heard {
                        bell.notify();
                    }
                    std::thread::sleep(POLL);
                }
            }
        })
        .ok()
}
