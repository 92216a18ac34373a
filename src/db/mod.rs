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

/// Opens (creating if needed) the database file, applies pending migrations, and only then
/// hands out the pool, so no request ever sees an old schema.
pub fn connect(database_url: &str, max_size: u32) -> anyhow::Result<DbPool> {
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
