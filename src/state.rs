//! What every request handler shares: the database pool, the worker's heartbeat, the CSV
//! imports running. Above the web and API layers' handlers, below `startup` (which builds it).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use std::time::Duration;

use anyhow::Context;

use crate::ratelimit::Limiter;

use crate::db::DbPool;

/// Shared by every request handler.
pub struct AppState {
    pub pool: DbPool,
    /// `POST /api/v1/contacts` upserts, written in group commits.
    pub contact_writes: Arc<crate::services::contacts::group::ContactWrites>,
    /// The Review page's counts, made in the background and kept when they are slow.
    pub review_figures: crate::services::review_figures::ReviewFigures,
    /// Cached once true: the setup redirect needs no query per request afterwards.
    has_users: AtomicBool,
    /// The CSV imports this app is running (by job id). Kept per app, not per process: job
    /// ids are per database, and one process may serve several (the tests do).
    pub imports_running: std::sync::Mutex<std::collections::BTreeSet<i64>>,
    /// The heartbeat of the worker this process runs, if it runs one (`GET /readyz`).
    pub worker_heartbeat: Option<Arc<crate::worker::Heartbeat>>,
    /// Cookies, proxies, the metrics token.
    pub http: crate::config::HttpOptions,
    /// Failed attempts: sign-ins by client address and by account, API tokens by address,
    /// token creation by account.
    pub limits: Limits,
}

/// How many failures each key may have within its window before it gets 429.
pub struct Limits {
    pub login_by_ip: Limiter,
    pub login_by_account: Limiter,
    pub token_by_ip: Limiter,
    pub token_creation: Limiter,
}

impl Default for Limits {
    fn default() -> Self {
        let quarter = Duration::from_secs(15 * 60);
        Limits {
            login_by_ip: Limiter::new(20, quarter),
            login_by_account: Limiter::new(5, quarter),
            token_by_ip: Limiter::new(20, quarter),
            token_creation: Limiter::new(20, Duration::from_secs(60 * 60)),
        }
    }
}

impl AppState {
    pub fn new(pool: DbPool) -> Self {
        AppState {
            contact_writes: crate::services::contacts::group::ContactWrites::new(pool.clone()),
            review_figures: crate::services::review_figures::ReviewFigures::new(pool.clone()),
            pool,
            has_users: AtomicBool::new(false),
            imports_running: Default::default(),
            worker_heartbeat: None,
            http: Default::default(),
            limits: Limits::default(),
        }
    }

    pub fn with_http(mut self, http: crate::config::HttpOptions) -> Self {
        self.http = http;
        self
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
