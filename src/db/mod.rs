//! Persistence: the SQLite pool, migrations, and one model file per aggregate.

pub mod models;
pub mod queries;
pub mod schema;

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
#[derive(Debug, Clone, Copy)]
struct SqlitePragmas;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             PRAGMA busy_timeout = 10000;
             PRAGMA temp_store = MEMORY;
             PRAGMA cache_size = -65536;
             PRAGMA mmap_size = 268435456;",
        )
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
        first
            .batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;")
            .context("switching the database to WAL")?;
    }
    let manager = ConnectionManager::<SqliteConnection>::new(database_url);
    let pool = Pool::builder()
        .max_size(max_size)
        .connection_customizer(Box::new(SqlitePragmas))
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
