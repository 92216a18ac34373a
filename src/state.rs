//! What every request handler shares: the database pool, the worker's heartbeat, the CSV
//! imports running. Above the web and API layers' handlers, below `startup` (which builds it).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;

use crate::db::DbPool;

/// Shared by every request handler.
pub struct AppState {
    pub pool: DbPool,
    /// Cached once true: the setup redirect needs no query per request afterwards.
    has_users: AtomicBool,
    /// The CSV imports this app is running (by job id). Kept per app, not per process: job
    /// ids are per database, and one process may serve several (the tests do).
    pub imports_running: std::sync::Mutex<std::collections::BTreeSet<i64>>,
    /// The heartbeat of the worker this process runs, if it runs one (`GET /readyz`).
    pub worker_heartbeat: Option<Arc<crate::worker::Heartbeat>>,
}

impl AppState {
    pub fn new(pool: DbPool) -> Self {
        AppState {
            pool,
            has_users: AtomicBool::new(false),
            imports_running: Default::default(),
            worker_heartbeat: None,
        }
    }

    /// Readiness also requires this worker's heartbeat to be fresh.
    pub fn with_worker_heartbeat(mut self, beat: Option<Arc<crate::worker::Heartbeat>>) -> Self {
        self.worker_heartbeat = beat;
        self
    }

    pub fn has_users(&self) -> anyhow::Result<bool> {
        if self.has_users.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let mut conn = self.pool.get().context("getting a connection")?;
        let any = crate::db::models::user::User::count(&mut conn)? > 0;
        if any {
            self.has_users.store(true, Ordering::Relaxed);
        }
        Ok(any)
    }
}
