//! Work that one process at a time should do, whoever else shares the database: the hourly
//! check of date-relative triggers runs in every worker process, and with several of them on
//! PostgreSQL only the one holding the lock does it (the others skip this round). SQLite runs
//! one process with a worker, so there the lock is always free.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::{Backend, DbConnection};

/// Lock keys (PostgreSQL advisory locks, one number per job).
pub const TRIGGER_SWEEP: i64 = 7_311_002;

#[derive(QueryableByName)]
struct Taken {
    #[diesel(sql_type = Bool)]
    taken: bool,
}

/// Runs `f` if no other session holds `key`, holding it meanwhile; `None` when another does.
pub fn if_free<T>(
    conn: &mut DbConnection,
    key: i64,
    f: impl FnOnce(&mut DbConnection) -> anyhow::Result<T>,
) -> anyhow::Result<Option<T>> {
    if Backend::of(conn) == Backend::Sqlite {
        return f(conn).map(Some);
    }
    let taken = diesel::sql_query(format!("SELECT pg_try_advisory_lock({key}) AS taken"))
        .get_result::<Taken>(conn)?
        .taken;
    if !taken {
        return Ok(None);
    }
    let out = f(conn);
    conn.batch_execute(&format!("SELECT pg_advisory_unlock({key})"))?;
    out.map(Some)
}
