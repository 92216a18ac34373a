//! CSV import jobs (the import page): the job row with its progress and report, the uploaded
//! file (kept until the job ends, so a stopped import can resume), and per contact what the
//! import did to it (created, or the values it replaced), so a stopped import can be rolled
//! back. Progress and undo records are written in each batch's own transaction: after a crash
//! the job says exactly which rows were committed.

use anyhow::Context;
use base64::Engine;
use diesel::prelude::*;

use crate::clock::now_text;
use crate::db::schema::{import_changes, import_files, import_jobs};
use crate::db::types::Ts;
use crate::db::DbConnection;

pub const RUNNING: &str = "running";
/// Cut off (the server stopped or crashed mid-import): resume or roll back.
pub const STOPPED: &str = "stopped";
pub const DONE: &str = "done";
pub const ROLLED_BACK: &str = "rolled_back";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = import_jobs)]
pub struct ImportJob {
    pub id: i64,
    pub filename: String,
    pub state: String,
    pub total_rows: i64,
    pub processed_rows: i64,
    pub imported_rows: i64,
    /// The report so far (JSON, `services::import::StoredReport`).
    pub errors: String,
    pub created_at: String,
    pub finished_at: Option<String>,
    /// The process running it (`services::import::process_id`).
    pub owner: Option<String>,
    /// When its last batch committed.
    pub beat_at: Option<String>,
}

/// One contact the import wrote: created, or updated with these earlier values (JSON object
/// property name → value or null).
#[derive(Debug, Clone)]
pub struct Change {
    pub contact_id: i64,
    pub created: bool,
    pub before_values: String,
}

/// Database methods
impl ImportJob {
    /// A new running job owned by `owner`, with its file.
    pub fn create(
        conn: &mut DbConnection,
        filename: &str,
        content: &[u8],
        owner: &str,
    ) -> anyhow::Result<i64> {
        crate::db::write_transaction(conn, |conn| {
            let now = now_text();
            let id: i64 = diesel::insert_into(import_jobs::table)
                .values((
                    import_jobs::filename.eq(filename),
                    import_jobs::state.eq(RUNNING),
                    import_jobs::created_at.eq(Ts::from(&now)),
                    import_jobs::owner.eq(Some(owner)),
                    import_jobs::beat_at.eq(Some(Ts::from(&now))),
                ))
                .returning(import_jobs::id)
                .get_result(conn)
                .context("recording import")?;
            diesel::insert_into(import_files::table)
                .values((
                    import_files::job_id.eq(id),
                    import_files::content_b64
                        .eq(base64::engine::general_purpose::STANDARD.encode(content)),
                ))
                .execute(conn)
                .context("keeping the imported file")?;
            Ok(id)
        })
    }

    pub fn find(conn: &mut DbConnection, id: i64) -> anyhow::Result<Option<ImportJob>> {
        Ok(import_jobs::table
            .filter(import_jobs::id.eq(id))
            .select(ImportJob::as_select())
            .load(conn)
            .context("loading import")?
            .into_iter()
            .next())
    }

    /// The uploaded file, while the job keeps it.
    pub fn content(conn: &mut DbConnection, id: i64) -> anyhow::Result<Option<Vec<u8>>> {
        let found: Vec<String> = import_files::table
            .filter(import_files::job_id.eq(id))
            .select(import_files::content_b64)
            .load(conn)
            .context("loading the imported file")?;
        found
            .into_iter()
            .next()
            .map(|b64| {
                base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .context("decoding the imported file")
            })
            .transpose()
    }

    /// Records a committed batch (call inside its transaction): progress, the report so far,
    /// a heartbeat, and what it did to each contact (the first record of a contact wins: it
    /// holds the values from before the import).
    ///
    /// Fenced: only the running job's owner records; anyone else's batch fails (and rolls
    /// back), so a job marked stopped and resumed elsewhere never runs twice.
    #[allow(clippy::too_many_arguments)]
    pub fn record_batch(
        conn: &mut DbConnection,
        id: i64,
        owner: &str,
        processed: i64,
        imported: i64,
        total: i64,
        report_json: &str,
        changes: &[Change],
    ) -> anyhow::Result<()> {
        let n = diesel::update(
            import_jobs::table
                .find(id)
                .filter(import_jobs::state.eq(RUNNING))
                .filter(import_jobs::owner.eq(owner)),
        )
        .set((
            import_jobs::processed_rows.eq(processed),
            import_jobs::imported_rows.eq(imported),
            import_jobs::total_rows.eq(total),
            import_jobs::errors.eq(report_json),
            import_jobs::beat_at.eq(Some(Ts::from(now_text()))),
        ))
        .execute(conn)
        .context("recording import progress")?;
        if n == 0 {
            anyhow::bail!("import {id} was marked stopped or taken over by another process; this batch is not saved");
        }
        for chunk in changes.chunks(500) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|c| {
                    (
                        import_changes::job_id.eq(id),
                        import_changes::contact_id.eq(c.contact_id),
                        import_changes::created.eq(c.created),
                        import_changes::before_values.eq(c.before_values.as_str()),
                    )
                })
                .collect();
            crate::on_backend!(conn, |c| diesel::insert_into(import_changes::table)
                .values(&rows)
                .on_conflict_do_nothing()
                .execute(c))
            .context("recording what the import changed")?;
        }
        Ok(())
    }

    /// The end of a job: its state and report; the file and undo records are no longer kept.
    pub fn finish(
        conn: &mut DbConnection,
        id: i64,
        state: &str,
        report_json: &str,
        imported: i64,
        total: i64,
    ) -> anyhow::Result<()> {
        crate::db::write_transaction(conn, |conn| {
            diesel::update(import_jobs::table.find(id))
                .set((
                    import_jobs::state.eq(state),
                    import_jobs::imported_rows.eq(imported),
                    import_jobs::total_rows.eq(total),
                    import_jobs::processed_rows.eq(total),
                    import_jobs::errors.eq(report_json),
                    import_jobs::finished_at.eq(Some(Ts::from(now_text()))),
                ))
                .execute(conn)
                .context("recording the end of an import")?;
            ImportJob::forget_undo(conn, id)
        })
    }

    /// Drops the kept file and undo records.
    pub fn forget_undo(conn: &mut DbConnection, id: i64) -> anyhow::Result<()> {
        diesel::delete(import_files::table.filter(import_files::job_id.eq(id)))
            .execute(conn)
            .context("dropping the imported file")?;
        diesel::delete(import_changes::table.filter(import_changes::job_id.eq(id)))
            .execute(conn)
            .context("dropping the import's undo records")?;
        Ok(())
    }

    /// Moves a job from `from` to `to` (and to `owner`); false when it was not in `from`
    /// (another request or process got there first).
    pub fn transition(
        conn: &mut DbConnection,
        id: i64,
        from: &str,
        to: &str,
        owner: &str,
    ) -> anyhow::Result<bool> {
        let n = diesel::update(
            import_jobs::table
                .find(id)
                .filter(import_jobs::state.eq(from)),
        )
        .set((
            import_jobs::state.eq(to),
            import_jobs::owner.eq(Some(owner)),
            import_jobs::beat_at.eq(Some(Ts::from(now_text()))),
        ))
        .execute(conn)
        .context("changing an import's state")?;
        Ok(n > 0)
    }

    /// Running jobs that stopped beating before `cutoff` (or never beat), or that `owner`
    /// runs no more (`running_here` lists what it still runs), become stopped. Returns their
    /// ids.
    pub fn stop_dead(
        conn: &mut DbConnection,
        cutoff: &str,
        owner: &str,
        running_here: &[i64],
    ) -> anyhow::Result<Vec<i64>> {
        let running: Vec<(i64, Option<String>, Option<String>)> = import_jobs::table
            .filter(import_jobs::state.eq(RUNNING))
            .select((import_jobs::id, import_jobs::owner, import_jobs::beat_at))
            .load(conn)
            .context("loading running imports")?;
        let dead: Vec<i64> = running
            .into_iter()
            .filter(|(id, o, beat)| {
                let orphaned = o.as_deref() == Some(owner) && !running_here.contains(id);
                let silent = beat.as_deref().is_none_or(|b| b < cutoff);
                orphaned || silent
            })
            .map(|(id, _, _)| id)
            .collect();
        if !dead.is_empty() {
            diesel::update(
                import_jobs::table
                    .filter(import_jobs::id.eq_any(&dead))
                    .filter(import_jobs::state.eq(RUNNING)),
            )
            .set(import_jobs::state.eq(STOPPED))
            .execute(conn)
            .context("marking stopped imports")?;
        }
        Ok(dead)
    }

    /// What the job did, in chunks of contact ids after `after`.
    pub fn changes(
        conn: &mut DbConnection,
        id: i64,
        after: i64,
        limit: i64,
    ) -> anyhow::Result<Vec<Change>> {
        let rows: Vec<(i64, bool, String)> = import_changes::table
            .filter(import_changes::job_id.eq(id))
            .filter(import_changes::contact_id.gt(after))
            .order(import_changes::contact_id.asc())
            .limit(limit)
            .select((
                import_changes::contact_id,
                import_changes::created,
                import_changes::before_values,
            ))
            .load(conn)
            .context("loading the import's changes")?;
        Ok(rows
            .into_iter()
            .map(|(contact_id, created, before_values)| Change {
                contact_id,
                created,
                before_values,
            })
            .collect())
    }
}
