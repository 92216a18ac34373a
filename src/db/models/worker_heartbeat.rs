//! Live worker processes: one row per running worker loop (`perennial serve` with its worker,
//! `perennial worker`), its beat refreshed while it runs and the row removed when it stops.
//! `GET /readyz` of a process without a worker and the Workflows page read it.

use crate::db::types::Ts;
use anyhow::Context;
use diesel::prelude::*;

use crate::db::schema::worker_heartbeats;
use crate::db::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = worker_heartbeats)]
pub struct WorkerHeartbeat {
    pub worker_id: String,
    pub host: String,
    pub pid: i64,
    pub started_at: String,
    pub beat_at: String,
}

/// Database methods
impl WorkerHeartbeat {
    /// Records that worker `id` is alive at `now` (inserting its row on the first beat).
    pub fn beat(
        conn: &mut DbConnection,
        id: &str,
        host: &str,
        pid: i64,
        started_at: &str,
        now: &str,
    ) -> anyhow::Result<()> {
        let now = Ts::of(now);
        crate::on_backend!(conn, |c| diesel::insert_into(worker_heartbeats::table)
            .values((
                worker_heartbeats::worker_id.eq(id),
                worker_heartbeats::host.eq(host),
                worker_heartbeats::pid.eq(pid),
                worker_heartbeats::started_at.eq(Ts::of(started_at)),
                worker_heartbeats::beat_at.eq(&now),
            ))
            .on_conflict(worker_heartbeats::worker_id)
            .do_update()
            .set(worker_heartbeats::beat_at.eq(&now))
            .execute(c))
        .context("recording the worker's heartbeat")?;
        Ok(())
    }

    /// A stopping worker's row goes; so do rows silent since `stale_before` (killed workers).
    pub fn remove(conn: &mut DbConnection, id: &str, stale_before: &str) -> anyhow::Result<()> {
        diesel::delete(
            worker_heartbeats::table.filter(
                worker_heartbeats::worker_id
                    .eq(id)
                    .or(worker_heartbeats::beat_at.lt(Ts::of(stale_before))),
            ),
        )
        .execute(conn)
        .context("removing the worker's heartbeat")?;
        Ok(())
    }

    /// The workers that beat at or after `since`, longest running first.
    pub fn live(conn: &mut DbConnection, since: &str) -> anyhow::Result<Vec<WorkerHeartbeat>> {
        worker_heartbeats::table
            .filter(worker_heartbeats::beat_at.ge(Ts::of(since)))
            .order(worker_heartbeats::started_at.asc())
            .select(WorkerHeartbeat::as_select())
            .load(conn)
            .context("reading the live workers")
    }
}
