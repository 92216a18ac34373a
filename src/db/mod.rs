//! Persistence: the connection seam (SQLite or PostgreSQL, chosen by the URL), migrations
//! per backend, and one model file per aggregate.
//!
//! Everything above `db` holds a [`DbConnection`]: diesel's `MultiConnection` over the two
//! backends, so one set of models and DSL queries serves both. SQL that must differ lives in
//! this folder only, as per-backend arms (`match conn { DbConnection::Sqlite(c) => …,
//! DbConnection::Postgres(c) => … }`) beside each other. SQLite's PRAGMAs, its checkpoint
//! thread and the process-wide write turn apply to the SQLite arm only.

pub mod checkpoint;
pub mod deferred;
pub mod listen;
pub mod locks;
pub mod models;
pub mod prepared;
pub mod queries;
pub mod schema;
pub mod scratch;
pub mod sql;
pub mod types;

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{CustomizeConnection, ManageConnection, Pool, PooledConnection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to either backend. PostgreSQL comes first: diesel's derive tries the
/// variants in order and SQLite accepts any path (the pool never relies on that order: it
/// opens the variant the URL names, see [`Backend::of_url`]).
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

/// Which database a URL (or a connection) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `postgres://…` or `postgresql://…` is PostgreSQL; anything else (a path, `sqlite://…`,
    /// `file:…`) is an SQLite file. Returns the URL the driver takes.
    pub fn of_url(url: &str) -> (Backend, String) {
        let lower = url.trim().to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            (Backend::Postgres, url.trim().to_string())
        } else if let Some(path) = url.trim().strip_prefix("sqlite://") {
            (Backend::Sqlite, path.to_string())
        } else {
            (Backend::Sqlite, url.trim().to_string())
        }
    }

    pub fn of(conn: &DbConnection) -> Backend {
        match conn {
            DbConnection::Postgres(_) => Backend::Postgres,
            DbConnection::Sqlite(_) => Backend::Sqlite,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// Opens connections of the backend its URL names (r2d2's connection manager).
#[derive(Debug)]
pub struct DbManager {
    url: String,
    backend: Backend,
}

impl ManageConnection for DbManager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        match self.backend {
            Backend::Postgres => PgConnection::establish(&self.url).map(DbConnection::Postgres),
            Backend::Sqlite => SqliteConnection::establish(&self.url).map(DbConnection::Sqlite),
        }
        .map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        diesel::r2d2::R2D2Connection::ping(conn).map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking() || diesel::r2d2::R2D2Connection::is_broken(conn)
    }
}

/// The connection pool of one database, with the bell of the worker serving it.
#[derive(Clone)]
pub struct DbPool {
    pool: Pool<DbManager>,
    notifier: crate::notifier::Notifier,
    backend: Backend,
    url: String,
}

impl DbPool {
    /// The bell of the worker that serves this database (`crate::notifier`).
    pub fn notifier(&self) -> &crate::notifier::Notifier {
        &self.notifier
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Wakes the workers after a commit that scheduled work (this thread [`mark`]ed it):
    /// this process's worker by its bell, other processes' by `NOTIFY` (PostgreSQL).
    ///
    /// [`mark`]: crate::notifier::mark
    pub fn work_committed(&self) {
        if !crate::notifier::take_marked() {
            return;
        }
        self.notifier.notify();
        if self.backend == Backend::Postgres {
            if let Ok(mut conn) = self.pool.get() {
                listen::announce(&mut conn);
            }
        }
    }

    /// The URL the driver was given (for a second, unpooled connection such as the
    /// PostgreSQL listener).
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl std::ops::Deref for DbPool {
    type Target = Pool<DbManager>;
    fn deref(&self) -> &Self::Target {
        &self.pool
    }
}
pub type DbConn = PooledConnection<DbManager>;

/// Applied to every pooled SQLite connection: WAL for concurrent readers beside the one
/// writer, foreign keys (SQLite leaves them off by default), and a busy timeout so a writer
/// waits for the lock instead of failing at once.
/// The pool owns the [`checkpoint::Checkpointer`] through this, so it stops with the pool.
#[derive(Debug)]
struct SqlitePragmas {
    _checkpointer: checkpoint::Checkpointer,
}

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(&format!(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             PRAGMA busy_timeout = 10000;
             PRAGMA temp_store = MEMORY;
             PRAGMA cache_size = -65536;
             PRAGMA mmap_size = 268435456;
             PRAGMA wal_autocheckpoint = {};",
            checkpoint::SAFETY_NET_PAGES
        ))
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Applied to every pooled PostgreSQL connection: the session speaks UTC (instants are bound
/// and read in binary, so this only matters for messages and ad-hoc `psql` reading), and a
/// statement that waits longer than a minute for a lock fails rather than hanging a worker.
#[derive(Debug)]
struct PostgresSession;

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for PostgresSession {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute("SET TIME ZONE 'UTC'; SET lock_timeout = '60s';")
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// SQLite's threading mode, set once per process before the first connection opens:
/// "multi-thread" rather than the bundled default "serialized". A pooled connection is only
/// ever used by one thread at a time (r2d2 hands it out exclusively), so the per-call mutex
/// of every connection and statement is pure overhead (about 5% of the worker's time).
fn configure_sqlite() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: sqlite3_config is called before any connection is opened by this code; if
        // SQLite was already initialised it returns SQLITE_MISUSE and changes nothing.
        let rc =
            unsafe { libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MULTITHREAD) };
        if rc != libsqlite3_sys::SQLITE_OK {
            tracing::debug!(rc, "SQLite threading mode left as it was");
        }
    });
}

/// Opens the database the URL names (creating an SQLite file if needed), applies pending
/// migrations, and only then hands out the pool, so no request ever sees an old schema.
pub fn connect(database_url: &str, max_size: u32) -> anyhow::Result<DbPool> {
    let (backend, url) = Backend::of_url(database_url);
    let manager = DbManager {
        url: url.clone(),
        backend,
    };
    let pool = match backend {
        Backend::Sqlite => {
            configure_sqlite();
            {
                // WAL is a property of the file: switch it once, on one connection, before
                // the pool opens several at the same moment (which on a new file raced for
                // the lock and logged "database is locked" while r2d2 retried).
                let mut first = SqliteConnection::establish(&url)
                    .with_context(|| format!("opening SQLite database at {url}"))?;
                // 16 KiB pages, set before the first table exists (SQLite ignores it
                // afterwards; an older database keeps its size until VACUUM): fewer, fuller
                // pages cut B-tree splitting on bulk inserts by about 12% ("enroll existing",
                // BENCHMARKS.md).
                first
                    .batch_execute(
                        "PRAGMA busy_timeout = 10000; PRAGMA page_size = 16384; PRAGMA journal_mode = WAL;",
                    )
                    .context("switching the database to WAL")?;
            }
            Pool::builder()
                .max_size(max_size)
                .connection_customizer(Box::new(SqlitePragmas {
                    _checkpointer: checkpoint::Checkpointer::start(&url)
                        .context("starting the checkpoint thread")?,
                }))
                .build(manager)
                .with_context(|| format!("opening SQLite database at {url}"))?
        }
        // Connections open as needed (a server process rarely needs all of them at once, and
        // the server's `max_connections` is shared by every process).
        Backend::Postgres => Pool::builder()
            .max_size(max_size)
            .min_idle(Some(max_size.min(2)))
            .connection_timeout(std::time::Duration::from_secs(10))
            .connection_customizer(Box::new(PostgresSession))
            .build(manager)
            .with_context(|| format!("connecting to PostgreSQL at {}", redact(&url)))?,
    };
    let mut conn = pool.get().context("getting a connection to migrate")?;
    run_migrations(&mut conn)?;
    Ok(DbPool {
        pool,
        notifier: crate::notifier::Notifier::new(),
        backend,
        url,
    })
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &creds[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Applies the pending migrations of this connection's backend. On PostgreSQL several
/// processes may start at once: an advisory lock lets one migrate while the others wait.
pub fn run_migrations(conn: &mut DbConnection) -> anyhow::Result<()> {
    match conn {
        DbConnection::Sqlite(c) => {
            c.run_pending_migrations(SQLITE_MIGRATIONS)
                .map_err(|e| anyhow::anyhow!("applying migrations: {e}"))?;
        }
        DbConnection::Postgres(c) => {
            c.batch_execute("SELECT pg_advisory_lock(7311001)")
                .context("waiting for the migration lock")?;
            let out = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|_| ())
                .map_err(|e| anyhow::anyhow!("applying migrations: {e}"));
            c.batch_execute("SELECT pg_advisory_unlock(7311001)")
                .context("releasing the migration lock")?;
            out?;
        }
    }
    Ok(())
}

/// Whether any embedded migration has not been applied to this database (`GET /readyz`).
pub fn has_pending_migrations(conn: &mut DbConnection) -> anyhow::Result<bool> {
    match conn {
        DbConnection::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
        DbConnection::Postgres(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
    }
    .map_err(|e| anyhow::anyhow!("reading the applied migrations: {e}"))
}

/// One writer at a time within this process, waiting in line rather than in SQLite's busy
/// handler: that handler sleeps 1, 2, 5, 10 … 100 ms between attempts, so with several
/// requests writing at once the lock sat free while they slept (API upserts from 8 clients:
/// p99 ~130 ms with 2 ms transactions). Waiters here wake the moment the previous writer
/// is done. A nested call (the thread already holds the turn, or the connection is already in
/// a transaction) does not wait again; after 10 s (SQLite's busy timeout) a waiter goes ahead
/// and lets SQLite's own locking decide, exactly as without this line.
pub struct WriteTurn {
    held: bool,
}

struct WriteLine {
    busy: std::sync::Mutex<bool>,
    freed: std::sync::Condvar,
}

fn write_line() -> &'static WriteLine {
    static LINE: std::sync::OnceLock<WriteLine> = std::sync::OnceLock::new();
    LINE.get_or_init(|| WriteLine {
        busy: std::sync::Mutex::new(false),
        freed: std::sync::Condvar::new(),
    })
}

thread_local! {
    static HOLDS_TURN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl WriteTurn {
    pub fn take() -> WriteTurn {
        if HOLDS_TURN.with(|h| h.get()) {
            return WriteTurn { held: false };
        }
        let line = write_line();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let Ok(mut busy) = line.busy.lock() else {
            return WriteTurn { held: false };
        };
        while *busy {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return WriteTurn { held: false };
            }
            busy = match line.freed.wait_timeout(busy, left) {
                Ok((b, _)) => b,
                Err(_) => return WriteTurn { held: false },
            };
        }
        *busy = true;
        HOLDS_TURN.with(|h| h.set(true));
        WriteTurn { held: true }
    }
}

impl Drop for WriteTurn {
    fn drop(&mut self) {
        if !self.held {
            return;
        }
        HOLDS_TURN.with(|h| h.set(false));
        let line = write_line();
        if let Ok(mut busy) = line.busy.lock() {
            *busy = false;
        }
        line.freed.notify_one();
    }
}

/// A transaction that will write. On SQLite: `BEGIN IMMEDIATE … COMMIT` around `f`, taking
/// this process's write turn first (see [`WriteTurn`]). On PostgreSQL a plain transaction
/// (row locks and MVCC let writers run side by side). Inside an open transaction it is a
/// savepoint on both.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let nested =
        <DbConnection as Connection>::TransactionManager::transaction_manager_status_mut(conn)
            .transaction_depth()
            .ok()
            .flatten()
            .is_some();
    if nested || Backend::of(conn) == Backend::Postgres {
        return conn.transaction(f);
    }
    let _turn = WriteTurn::take();
    if let DbConnection::Sqlite(c) = conn {
        AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
    }
    match f(conn) {
        Ok(value) => {
            <DbConnection as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            <DbConnection as Connection>::TransactionManager::rollback_transaction(conn)?;
            Err(e)
        }
    }
}

/// Whether a failed transaction may succeed if run again from the start: on PostgreSQL two
/// writers can deadlock (each holding a row the other waits for, e.g. two batches updating the
/// same contacts in different orders), fail a serialization check, or race to insert the same
/// new unique key (the second one, run again, finds the row). SQLite runs one writer at a time
/// and never reports these.
pub fn is_retryable(err: &anyhow::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    err.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<Error>(),
            Some(Error::DatabaseError(
                DatabaseErrorKind::SerializationFailure | DatabaseErrorKind::UniqueViolation,
                _
            ))
        ) || matches!(
            cause.downcast_ref::<Error>(),
            Some(Error::DatabaseError(_, info)) if info.message().starts_with("deadlock detected")
        )
    })
}

/// After a commit on this thread: wakes this process's workers (and, on PostgreSQL, the other
/// processes') if the work scheduled anything.
pub fn wake_workers_if_marked(pool: &DbPool, conn: &mut DbConnection) {
    if crate::notifier::take_marked() {
        pool.notifier().notify();
        listen::announce(conn);
    }
}

thread_local! {
    static RUNNING_ON: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// The URL of the database whose [`run`] this thread is in: memos of slow reads are kept per
/// database with it (one process may serve several; the tests do).
pub fn current_database() -> Option<String> {
    RUNNING_ON.with(|r| r.borrow().clone())
}

/// Clears [`current_database`] when the work ends, however it ends.
struct RunningOn;

impl RunningOn {
    fn enter(url: &str) -> RunningOn {
        RUNNING_ON.with(|r| *r.borrow_mut() = Some(url.to_string()));
        RunningOn
    }
}

impl Drop for RunningOn {
    fn drop(&mut self) {
        RUNNING_ON.with(|r| *r.borrow_mut() = None);
    }
}

/// Runs blocking database work off the async executor.
pub async fn run<T, F>(pool: &DbPool, f: F) -> anyhow::Result<T>
where
    F: FnOnce(&mut DbConnection) -> anyhow::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    actix_web::web::block(move || {
        let _on = RunningOn::enter(pool.url());
        let mut conn = pool.get().context("getting a database connection")?;
        let out = f(&mut conn);
        wake_workers_if_marked(&pool, &mut conn);
        out
    })
    .await
    .context("database task was cancelled")?
}

/// Runs `$body` with `$c` bound to the backend's own connection: a per-backend arm written
/// once and compiled for each backend, for the statements the multi-backend connection cannot
/// express (upserts, `RETURNING` on SQLite's fast paths, `COPY`, `FOR UPDATE SKIP LOCKED`).
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($c) => $body,
            $crate::db::DbConnection::Postgres($c) => $body,
        }
    };
}

/// The columns of a `Selectable` model as a plain tuple, for `RETURNING` through a
/// [`DbConnection`] (`as_returning()` is bound to one backend; the column tuple is the same
/// for every backend).
pub fn columns_of<T: diesel::Selectable<diesel::sqlite::Sqlite>>() -> T::SelectExpression {
    T::construct_selection()
}
