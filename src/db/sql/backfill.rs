//! The statements of set-based enrollment (`engine::backfill`): a temporary plan table with
//! one row per distinct (anchor, zone), then `INSERT … SELECT` of enrollments and their history
//! per id range of contacts. The engine computes the plans (pure schedule code) and the
//! criteria conditions; this file only moves rows.
//!
//! One text per statement serves both backends (placeholders through `sql::portable`) except
//! where they differ: the temporary tables' definitions (SQLite's `temp.` schema, PostgreSQL's
//! native date and time columns), and the join keyword: SQLite's `CROSS JOIN … ON` fixes the
//! join order (its planner otherwise scans the date property's whole index range per batch),
//! which PostgreSQL, planning by statistics, spells plain `JOIN`. Plans are written in
//! multi-row inserts, never a round trip per row.

use crate::db::types::{Instant, OptDay, OptTs};
use crate::db::DbConnection;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::{filter, portable};
use crate::db::Backend;
use crate::domain::filter::Cond;

/// Where a contact's date (and, when a step uses it, its zone) live.
#[derive(Debug, Clone, Copy)]
pub struct AnchorSource {
    /// The date property's id; `None` for a Specific date workflow (one plan for everyone).
    pub date_property: Option<i64>,
    /// The `timezone` property's id when a step uses the contact's zone.
    pub zone_property: Option<i64>,
}

/// One planned (anchor, zone): the enrollment and the history rows every contact with it gets.
pub struct PlanRow<'a> {
    pub anchor: &'a str,
    pub tz: &'a str,
    pub cycle_year: i32,
    pub anchor_date: Option<String>,
    pub status: &'a str,
    pub next_step: Option<String>,
    pub next_due_at: Option<String>,
    pub reason: Option<&'a str>,
    /// The `enrolled` row's detail; for an active plan it names the first scheduled step and
    /// its due time too (one history row per contact at publish, issue 16).
    pub enrolled_detail: String,
    /// The first scheduled step's path, in the `enrolled` row's `step`, when that row stands
    /// for the `scheduled` event too.
    pub enrolled_step: Option<String>,
    /// The row after the skipped steps' rows, when there is one: `scheduled` (a plan that
    /// skips steps: the events keep the order a single enrollment writes) or `completed`
    /// (every step's date had passed), with its step and detail.
    pub last_event: Option<&'a str>,
    pub last_step: Option<String>,
    pub last_detail: Option<String>,
}

/// What one batch inserts: the workflow, and the condition a contact must meet (triggers and
/// not suppressed), built by the caller.
pub struct Batch<'a> {
    pub workflow_id: i64,
    pub revision: i32,
    pub criteria: &'a Cond,
    /// Re-enrollment on: only an active enrollment keeps a contact out.
    pub reenroll: bool,
    pub now: &'a str,
    /// Whether any plan skips steps, and whether any has a row after them (`last_event`):
    /// when none does, the statement writing those rows is not run (it would still join
    /// every new enrollment with its plan, for nothing).
    pub any_skips: bool,
    pub any_last: bool,
}

#[derive(QueryableByName)]
struct AnchorRow {
    #[diesel(sql_type = Text)]
    anchor: String,
    #[diesel(sql_type = Text)]
    tz: String,
}

#[derive(QueryableByName)]
struct MaxRow {
    #[diesel(sql_type = Nullable<BigInt>)]
    v: Option<i64>,
}

pub fn create_plan_tables(conn: &mut DbConnection) -> anyhow::Result<()> {
    let ddl = match Backend::of(conn) {
        Backend::Sqlite => {
            "DROP TABLE IF EXISTS temp.bf_plan; DROP TABLE IF EXISTS temp.bf_skip;
             CREATE TEMP TABLE bf_plan (anchor TEXT NOT NULL, tz TEXT NOT NULL, cycle_year INTEGER NOT NULL,
                anchor_date TEXT, status TEXT NOT NULL, next_step TEXT, next_due_at TEXT, reason TEXT,
                enrolled_detail TEXT NOT NULL, enrolled_step TEXT, last_event TEXT, last_step TEXT,
                last_detail TEXT, PRIMARY KEY (anchor, tz)) WITHOUT ROWID;
             CREATE TEMP TABLE bf_skip (anchor TEXT NOT NULL, tz TEXT NOT NULL, step TEXT NOT NULL, detail TEXT NOT NULL);
             CREATE INDEX temp.bf_skip_by_plan ON bf_skip (anchor, tz);"
        }
        Backend::Postgres => {
            "DROP TABLE IF EXISTS pg_temp.bf_plan; DROP TABLE IF EXISTS pg_temp.bf_skip;
             CREATE TEMP TABLE bf_plan (anchor text COLLATE \"C\" NOT NULL, tz text COLLATE \"C\" NOT NULL,
                cycle_year integer NOT NULL, anchor_date date, status text NOT NULL, next_step text,
                next_due_at timestamptz, reason text, enrolled_detail text NOT NULL,
                enrolled_step text, last_event text, last_step text, last_detail text,
                PRIMARY KEY (anchor, tz));
             CREATE TEMP TABLE bf_skip (anchor text COLLATE \"C\" NOT NULL, tz text COLLATE \"C\" NOT NULL,
                step text NOT NULL, detail text NOT NULL);
             CREATE INDEX bf_skip_by_plan ON bf_skip (anchor, tz);
             DROP TABLE IF EXISTS pg_temp.bf_new;
             CREATE TEMP TABLE bf_new (id bigint NOT NULL, contact_id bigint NOT NULL,
                anchor text COLLATE \"C\" NOT NULL, tz text COLLATE \"C\" NOT NULL);"
        }
    };
    conn.batch_execute(ddl)?;
    Ok(())
}

pub fn drop_plan_tables(conn: &mut DbConnection) -> anyhow::Result<()> {
    conn.batch_execute(match Backend::of(conn) {
        Backend::Sqlite => "DROP TABLE IF EXISTS temp.bf_plan; DROP TABLE IF EXISTS temp.bf_skip;",
        Backend::Postgres => {
            "DROP TABLE IF EXISTS pg_temp.bf_plan; DROP TABLE IF EXISTS pg_temp.bf_skip;
             DROP TABLE IF EXISTS pg_temp.bf_new;"
        }
    })?;
    Ok(())
}

/// Every distinct (date value, zone value or "") among the contacts that have the date; one
/// ("", "") for a Specific date workflow.
pub fn distinct_anchors(
    conn: &mut DbConnection,
    src: AnchorSource,
) -> anyhow::Result<Vec<(String, String)>> {
    let rows = match (src.date_property, src.zone_property) {
        (Some(pid), Some(tz_prop)) => diesel::sql_query(format!(
            "SELECT DISTINCT v.value AS anchor, COALESCE(z.value, '') AS tz FROM contact_values v
             LEFT JOIN contact_values z ON z.contact_id = v.contact_id AND z.property_id = {tz_prop}
             WHERE v.property_id = {pid}"
        ))
        .load::<AnchorRow>(conn)?,
        (Some(pid), None) => diesel::sql_query(format!(
            "SELECT DISTINCT value AS anchor, '' AS tz FROM contact_values WHERE property_id = {pid}"
        ))
        .load::<AnchorRow>(conn)?,
        (None, _) => return Ok(vec![(String::new(), String::new())]),
    };
    Ok(rows.into_iter().map(|r| (r.anchor, r.tz)).collect())
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{Day, Instant};

    /// The temporary plan table (see [`create_plan_tables`]).
    bf_plan (anchor, tz) {
        anchor -> Text,
        tz -> Text,
        cycle_year -> Integer,
        anchor_date -> Nullable<Day>,
        status -> Text,
        next_step -> Nullable<Text>,
        next_due_at -> Nullable<Instant>,
        reason -> Nullable<Text>,
        enrolled_detail -> Text,
        enrolled_step -> Nullable<Text>,
        last_event -> Nullable<Text>,
        last_step -> Nullable<Text>,
        last_detail -> Nullable<Text>,
    }
}

diesel::table! {
    /// The temporary table of steps a plan skips (see [`create_plan_tables`]).
    bf_skip (anchor, tz, step) {
        anchor -> Text,
        tz -> Text,
        step -> Text,
        detail -> Text,
    }
}

/// Rows per multi-row insert: 13 values each stays far below both backends' bind limits.
const PLAN_CHUNK: usize = 1000;

/// Writes the plans, many rows per statement.
pub fn insert_plans(conn: &mut DbConnection, plans: &[PlanRow<'_>]) -> anyhow::Result<()> {
    for chunk in plans.chunks(PLAN_CHUNK) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|p| {
                (
                    bf_plan::anchor.eq(p.anchor),
                    bf_plan::tz.eq(p.tz),
                    bf_plan::cycle_year.eq(p.cycle_year),
                    bf_plan::anchor_date.eq(OptDay(p.anchor_date.clone())),
                    bf_plan::status.eq(p.status),
                    bf_plan::next_step.eq(p.next_step.as_deref()),
                    bf_plan::next_due_at.eq(OptTs(p.next_due_at.clone())),
                    bf_plan::reason.eq(p.reason),
                    bf_plan::enrolled_detail.eq(p.enrolled_detail.as_str()),
                    bf_plan::enrolled_step.eq(p.enrolled_step.as_deref()),
                    bf_plan::last_event.eq(p.last_event),
                    bf_plan::last_step.eq(p.last_step.as_deref()),
                    bf_plan::last_detail.eq(p.last_detail.as_deref()),
                )
            })
            .collect();
        crate::on_backend!(conn, |c| diesel::insert_into(bf_plan::table)
            .values(&rows)
            .execute(c))?;
    }
    analyze(conn, "bf_plan")
}

/// PostgreSQL plans the batches' joins by statistics, and a temporary table has none until
/// analyzed (autovacuum never visits it): without them it expected 68 plans of one zone where
/// there were 19,937.
fn analyze(conn: &mut DbConnection, table: &str) -> anyhow::Result<()> {
    if Backend::of(conn) == Backend::Postgres {
        conn.batch_execute(&format!("ANALYZE {table}"))?;
    }
    Ok(())
}

/// A step a plan skips (its time has passed), written as a `skipped` event per contact.
pub struct SkipRow<'a> {
    pub anchor: &'a str,
    pub tz: &'a str,
    pub step: String,
    pub detail: String,
}

/// Writes the skipped steps, many rows per statement.
pub fn insert_skips(conn: &mut DbConnection, skips: &[SkipRow<'_>]) -> anyhow::Result<()> {
    for chunk in skips.chunks(PLAN_CHUNK) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|s| {
                (
                    bf_skip::anchor.eq(s.anchor),
                    bf_skip::tz.eq(s.tz),
                    bf_skip::step.eq(s.step.as_str()),
                    bf_skip::detail.eq(s.detail.as_str()),
                )
            })
            .collect();
        crate::on_backend!(conn, |c| diesel::insert_into(bf_skip::table)
            .values(&rows)
            .execute(c))?;
    }
    analyze(conn, "bf_skip")
}

pub fn max_contact_id(conn: &mut DbConnection) -> anyhow::Result<i64> {
    Ok(diesel::sql_query("SELECT MAX(id) AS v FROM contacts")
        .get_result::<MaxRow>(conn)?
        .v
        .unwrap_or(0))
}

/// How rows find their plan: by the contact's anchor (and zone). `contact` is the column that
/// holds the contact id (`c.id` for contacts, `e.contact_id` for new enrollments). CROSS JOIN
/// fixes the join order (SQLite's rule): walk the batch by rowid, then look the date and the
/// plan up by primary key. Left to itself the planner would scan the whole
/// `contact_values_by_value` range of the date property for every batch and sort.
fn anchor_join(backend: Backend, src: AnchorSource, contact: &str) -> String {
    let join = match backend {
        Backend::Sqlite => "CROSS JOIN",
        Backend::Postgres => "JOIN",
    };
    match (src.date_property, src.zone_property) {
        (Some(pid), Some(tz_prop)) => format!(
            "{join} contact_values v ON v.contact_id = {contact} AND v.property_id = {pid}
             LEFT JOIN contact_values z ON z.contact_id = {contact} AND z.property_id = {tz_prop}
             {join} bf_plan p ON p.anchor = v.value AND p.tz = COALESCE(z.value, '')"
        ),
        (Some(pid), None) => format!(
            "{join} contact_values v ON v.contact_id = {contact} AND v.property_id = {pid}
             {join} bf_plan p ON p.anchor = v.value AND p.tz = ''"
        ),
        (None, _) => format!("{join} bf_plan p ON p.anchor = '' AND p.tz = ''"),
    }
}

/// Enrolls the contacts with ids in (`lo`, `hi`] that meet the batch's conditions, with their
/// history: the same events as a single enrollment — `enrolled`, the skipped steps, then
/// `scheduled` or `completed` — except that a plan skipping no step writes one row, its
/// `enrolled` row standing for the first step's `scheduled` event too (issue 16; see
/// `history::FIRST_STEP`). Returns the highest enrollment id before the batch (the new rows are above
/// it) and how many were enrolled. Call inside a write transaction.
pub fn enroll_range(
    conn: &mut DbConnection,
    src: AnchorSource,
    b: &Batch<'_>,
    lo: i64,
    hi: i64,
) -> anyhow::Result<(i64, usize)> {
    let (wid, rev) = (b.workflow_id, b.revision);
    let criteria = filter::render(b.criteria, filter::dialect(conn));
    // On PostgreSQL the enrollments looked at are bounded by the batch's contact range too (the
    // same rows: `x.contact_id = c.id`): without it the planner hashed every enrollment of
    // the workflow in every batch (measured: 500,000 of them in the sixth of a million).
    let range = match Backend::of(conn) {
        Backend::Sqlite => String::new(),
        Backend::Postgres => format!(" AND x.contact_id > {lo} AND x.contact_id <= {hi}"),
    };
    let not_enrolled = if b.reenroll {
        format!("NOT EXISTS (SELECT 1 FROM enrollments x WHERE x.workflow_id = {wid} AND x.contact_id = c.id AND x.status = 'active'{range})")
    } else {
        format!("NOT EXISTS (SELECT 1 FROM enrollments x WHERE x.workflow_id = {wid} AND x.contact_id = c.id{range})")
    };
    let before: i64 = diesel::sql_query("SELECT MAX(id) AS v FROM enrollments")
        .get_result::<MaxRow>(conn)?
        .v
        .unwrap_or(0);
    let backend = Backend::of(conn);
    let join = anchor_join(backend, src, "c.id");
    let inserted = match backend {
        Backend::Sqlite => {
            let sql = format!(
                "INSERT INTO enrollments (workflow_id, contact_id, cycle_year, status, revision, anchor_date,
                    next_step, next_due_at, reason, enrolled_at, ended_at)
                 SELECT {wid}, c.id, p.cycle_year, p.status, {rev}, p.anchor_date, p.next_step, p.next_due_at,
                    p.reason, ?1, CASE WHEN p.status = 'completed' THEN ?1 END
                 FROM contacts c {join}
                 WHERE c.id > {lo} AND c.id <= {hi} AND {criteria} AND {not_enrolled}
                 ORDER BY c.id"
            );
            diesel::sql_query(sql)
                .bind::<Instant, _>(b.now.to_string())
                .execute(conn)?
        }
        // Other processes may enroll one of these contacts meanwhile (the unique index then
        // keeps theirs) or insert other enrollments with higher ids: the new rows are noted in
        // `bf_new` rather than found above `before`, each with its contact and its plan's key,
        // so the history statements below read only `bf_new` and the plan tables (not the
        // enrollments and the contacts' dates again).
        Backend::Postgres => {
            // For this batch's transaction: its sorts (100,000 rows with their history texts)
            // fit in memory, and no JIT compilation — the row estimates of these joins are
            // large enough to trigger it with inlining and optimization, for statements whose
            // time goes to writing rows and indexes, not to evaluating expressions.
            conn.batch_execute(
                "TRUNCATE bf_new; SET LOCAL work_mem = '64MB'; SET LOCAL jit = off",
            )?;
            let sql = format!(
                "WITH src AS MATERIALIZED (
                    SELECT c.id AS contact_id, p.anchor, p.tz, p.cycle_year, p.status, p.anchor_date,
                        p.next_step, p.next_due_at, p.reason
                    FROM contacts c {join}
                    WHERE c.id > {lo} AND c.id <= {hi} AND {criteria} AND {not_enrolled}),
                 ins AS (
                    INSERT INTO enrollments (workflow_id, contact_id, cycle_year, status, revision, anchor_date,
                        next_step, next_due_at, reason, enrolled_at, ended_at)
                    SELECT {wid}, s.contact_id, s.cycle_year, s.status, {rev}, s.anchor_date, s.next_step,
                        s.next_due_at, s.reason, ?1, CASE WHEN s.status = 'completed' THEN ?1 END
                    FROM src s ORDER BY s.contact_id
                    ON CONFLICT DO NOTHING RETURNING id, contact_id)
                 INSERT INTO bf_new (id, contact_id, anchor, tz)
                 SELECT i.id, i.contact_id, s.anchor, s.tz FROM ins i JOIN src s ON s.contact_id = i.contact_id"
            );
            diesel::sql_query(portable::sql(conn, &sql))
                .bind::<Instant, _>(b.now.to_string())
                .execute(conn)?
        }
    };
    if inserted > 0 {
        write_history(conn, b, before, &anchor_join(backend, src, "e.contact_id"))?;
    }
    Ok((before, inserted))
}

/// The enrollments the last batch inserted, as a condition on `alias`: on SQLite the ids
/// above `after_id` of this workflow (the batch is the only writer; `+` keeps SQLite walking
/// the new ids rather than the workflow's index), on PostgreSQL the ids noted in `bf_new`.
fn new_rows(backend: Backend, alias: &str, wid: i64, after_id: i64) -> String {
    match backend {
        Backend::Sqlite => format!("{alias}.id > {after_id} AND +{alias}.workflow_id = {wid}"),
        Backend::Postgres => format!("{alias}.id IN (SELECT id FROM bf_new)"),
    }
}

fn write_history(
    conn: &mut DbConnection,
    b: &Batch<'_>,
    after_id: i64,
    join: &str,
) -> anyhow::Result<()> {
    let (wid, rev, now_s) = (b.workflow_id, b.revision, b.now);
    let statements = match Backend::of(conn) {
        Backend::Sqlite => {
            let new = new_rows(Backend::Sqlite, "e", wid, after_id);
            [
                format!(
                    "INSERT INTO history_events (workflow_id, enrollment_id, contact_id, at, event, step, detail, revision)
                     SELECT {wid}, e.id, e.contact_id, ?1, 'enrolled', p.enrolled_step, p.enrolled_detail, {rev}
                     FROM enrollments e {join} WHERE {new} ORDER BY e.id"
                ),
                format!(
                    "INSERT INTO history_events (workflow_id, enrollment_id, contact_id, at, event, step, detail, revision)
                     SELECT {wid}, e.id, e.contact_id, ?1, 'skipped', s.step, s.detail, {rev}
                     FROM enrollments e {join} CROSS JOIN bf_skip s ON s.anchor = p.anchor AND s.tz = p.tz
                     WHERE {new} ORDER BY e.id, CAST(s.step AS INTEGER)"
                ),
                format!(
                    "INSERT INTO history_events (workflow_id, enrollment_id, contact_id, at, event, step, detail, revision)
                     SELECT {wid}, e.id, e.contact_id, ?1, p.last_event, p.last_step, p.last_detail, {rev}
                     FROM enrollments e {join} WHERE {new} AND p.last_event IS NOT NULL ORDER BY e.id"
                ),
            ]
        }
        // `bf_new` holds each new enrollment with its contact and its plan's key.
        Backend::Postgres => [
            format!(
                "INSERT INTO history_events (workflow_id, enrollment_id, contact_id, at, event, step, detail, revision)
                 SELECT {wid}, n.id, n.contact_id, ?1, 'enrolled', p.enrolled_step, p.enrolled_detail, {rev}
                 FROM bf_new n JOIN bf_plan p ON p.anchor = n.anchor AND p.tz = n.tz ORDER BY n.id"
            ),
            format!(
                "INSERT INTO history_events (workflow_id, enrollment_id, contact_id, at, event, step, detail, revision)
                 SELECT {wid}, n.id, n.contact_id, ?1, 'skipped', s.step, s.detail, {rev}
                 FROM bf_new n JOIN bf_skip s ON s.anchor = n.anchor AND s.tz = n.tz
                 ORDER BY n.id, CAST(s.step AS INTEGER)"
            ),
            format!(
                "INSERT INTO history_events (workflow_id, enrollment_id, contact_id, at, event, step, detail, revision)
                 SELECT {wid}, n.id, n.contact_id, ?1, p.last_event, p.last_step, p.last_detail, {rev}
                 FROM bf_new n JOIN bf_plan p ON p.anchor = n.anchor AND p.tz = n.tz
                 WHERE p.last_event IS NOT NULL ORDER BY n.id"
            ),
        ],
    };
    let [enrolled, skipped, last] = statements;
    let needed = [(enrolled, true), (skipped, b.any_skips), (last, b.any_last)];
    for (sql, needed) in needed {
        if !needed {
            continue;
        }
        diesel::sql_query(portable::sql(conn, &sql))
            .bind::<Instant, _>(now_s.to_string())
            .execute(conn)?;
    }
    Ok(())
}

/// Unenrolls, from workflow `other`, the contacts of the enrollments of `wid` above
/// `after_id` (the batch just enrolled), with `reason`; their history says so.
pub fn unenroll_batch_from(
    conn: &mut DbConnection,
    wid: i64,
    after_id: i64,
    other: i64,
    reason: &str,
    now_s: &str,
) -> anyhow::Result<()> {
    let rev: i32 = crate::db::schema::workflows::table
        .find(other)
        .select(crate::db::schema::workflows::revision)
        .first(conn)
        .optional()?
        .unwrap_or(1);
    let new = new_rows(Backend::of(conn), "n", wid, after_id);
    let sql = format!(
        "INSERT INTO history_events (workflow_id, enrollment_id, contact_id, at, event, step, detail, revision)
         SELECT o.workflow_id, o.id, o.contact_id, ?1, 'unenrolled', NULL, ?2, {rev}
         FROM enrollments o WHERE o.workflow_id = {other} AND o.status = 'active'
           AND o.contact_id IN (SELECT n.contact_id FROM enrollments n WHERE {new})"
    );
    diesel::sql_query(portable::sql(conn, &sql))
        .bind::<Instant, _>(now_s.to_string())
        .bind::<Text, _>(reason)
        .execute(conn)?;
    crate::db::models::enrollment::note_ended();
    let sql = format!(
        "UPDATE enrollments SET status = 'unenrolled', reason = ?2, ended_at = ?1, next_step = NULL, next_due_at = NULL
         WHERE workflow_id = {other} AND status = 'active'
           AND contact_id IN (SELECT n.contact_id FROM enrollments n WHERE {new})"
    );
    diesel::sql_query(portable::sql(conn, &sql))
        .bind::<Instant, _>(now_s.to_string())
        .bind::<Text, _>(reason)
        .execute(conn)?;
    Ok(())
}
