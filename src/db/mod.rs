//! Persistence: the SQLite pool, migrations, and one model file per aggregate.

pub mod checkpoint;
pub mod models;
pub mod prepared;
pub mod queries;
pub mod schema;
pub mod sql;

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::SqliteConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

pub type DbPool = Pool<ConnectionManager<SqliteConnection>>;
pub type DbConn = PooledConnection<ConnectionManager<SqliteConnection>>;

/// Applied to every pooled connection: WAL for concurrent readers beside the one writer,
/// foreign keys (SQLite leaves them off by default), and a busy timeout so a writer waits
/// for the lock instead of failing at once.
/// The pool owns the [`checkpoint::Checkpointer`] through this, so it stops with the pool.
#[derive(Debug)]
struct SqlitePragmas {
    _checkpointer: checkpoint::Checkpointer,
}

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
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

/// Opens (creating if needed) the database file, applies pending migrations, and only then
/// hands out the pool, so no request ever sees an old schema.
pub fn connect(database_url: &str, max_size: u32) -> anyhow::Result<DbPool> {
    configure_sqlite();
    {
        // WAL is a property of the file: switch it once, on one connection, before the pool
        // opens several at the same moment (which on a new file raced for the lock and
        // logged "database is locked" while r2d2 retried).
        use diesel::Connection;
        let mut first = SqliteConnection::establish(database_url)
            .with_context(|| format!("opening SQLite database at {database_url}"))?;
        // 16 KiB pages, set before the first table exists (SQLite ignores it afterwards; an
        // older database keeps its size until VACUUM): fewer, fuller pages cut B-tree
        // splitting on bulk inserts by about 12% ("enroll existing", BENCHMARKS.md).
        first
            .batch_execute(
                "PRAGMA busy_timeout = 10000; PRAGMA page_size = 16384; PRAGMA journal_mode = WAL;",
            )
            .context("switching the database to WAL")?;
    }
    let manager = ConnectionManager::<SqliteConnection>::new(database_url);
    let pool = Pool::builder()
        .max_size(max_size)
        .connection_customizer(Box::new(SqlitePragmas {
            _checkpointer: checkpoint::Checkpointer::start(database_url)
                .context("starting the checkpoint thread")?,
        }))
        .build(manager)
        .with_context(|| format!("opening SQLite database at {database_url}"))?;
    let mut conn = pool.get().context("getting a connection to migrate")?;
    run_migrations(&mut conn)?;
    Ok(pool)
}

pub fn run_migrations(conn: &mut SqliteConnection) -> anyhow::Result<()> {
    conn.run_pending_migrations(MIGRATIONS)
        .map_err(|e| anyhow::anyhow!("applying migrations: {e}"))?;
    Ok(())
}

/// Whether any embedded migration has not been applied to this database (`GET /readyz`).
pub fn has_pending_migrations(conn: &mut SqliteConnection) -> anyhow::Result<bool> {
    conn.has_pending_migration(MIGRATIONS)
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

/// `BEGIN IMMEDIATE … COMMIT` around `f`, taking this process's write turn first (see
/// [`WriteTurn`]); inside an open transaction it is a savepoint, as `immediate_transaction` is.
pub fn write_transaction<T, E, F>(conn: &mut SqliteConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut SqliteConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let nested = AnsiTransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()
        .ok()
        .flatten()
        .is_some();
    let _turn = (!nested).then(WriteTurn::take);
    conn.immediate_transaction(f)
}

/// Runs blocking database work off the async executor.
pub async fn run<T, F>(pool: &DbPool, f: F) -> anyhow::Result<T>
where
    F: FnOnce(&mut SqliteConnection) -> anyhow::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    actix_web::web::block(move || {
        let mut conn = pool.get().context("getting a database connection")?;
        f(&mut conn)
    })
    .await
    .context("database task was cancelled")?
}
