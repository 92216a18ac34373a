//! The statements of set-based enrollment (`engine::backfill`): a temporary plan table with
//! one row per distinct (anchor, zone), then `INSERT … SELECT` of enrollments and their history
//! per id range of contacts. The engine computes the plans (pure schedule code) and the
//! criteria conditions; this file only moves rows.

use crate::db::DbConnection;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};

use super::filter;
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
    pub enrolled_detail: String,
    pub last_detail: String,
    pub last_event: &'a str,
    pub last_step: Option<String>,
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
    conn.batch_execute(
        "DROP TABLE IF EXISTS temp.bf_plan; DROP TABLE IF EXISTS temp.bf_skip;
         CREATE TEMP TABLE bf_plan (anchor TEXT NOT NULL, tz TEXT NOT NULL, cycle_year INTEGER NOT NULL,
            anchor_date TEXT, status TEXT NOT NULL, next_step TEXT, next_due_at TEXT, reason TEXT,
            enrolled_detail TEXT NOT NULL, last_detail TEXT NOT NULL, last_event TEXT NOT NULL,
            last_step TEXT, PRIMARY KEY (anchor, tz)) WITHOUT ROWID;
         CREATE TEMP TABLE bf_skip (anchor TEXT NOT NULL, tz TEXT NOT NULL, step TEXT NOT NULL, detail TEXT NOT NULL);
         CREATE INDEX temp.bf_skip_by_plan ON bf_skip (anchor, tz);",
    )?;
    Ok(())
}

pub fn drop_plan_tables(conn: &mut DbConnection) -> anyhow::Result<()> {
    conn.batch_execute("DROP TABLE IF EXISTS temp.bf_plan; DROP TABLE IF EXISTS temp.bf_skip;")?;
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

pub fn insert_plan(conn: &mut DbConnection, p: &PlanRow<'_>) -> anyhow::Result<()> {
    diesel::sql_query(
        "INSERT INTO bf_plan (anchor, tz, cycle_year, anchor_date, status, next_step, next_due_at, reason,
           enrolled_detail, last_detail, last_event, last_step) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
    )
    .bind::<Text, _>(p.anchor)
    .bind::<Text, _>(p.tz)
    .bind::<Integer, _>(p.cycle_year)
    .bind::<Nullable<Text>, _>(p.anchor_date.as_deref())
    .bind::<Text, _>(p.status)
    .bind::<Nullable<Text>, _>(p.next_step.as_deref())
    .bind::<Nullable<Text>, _>(p.next_due_at.as_deref())
    .bind::<Nullable<Text>, _>(p.reason)
    .bind::<Text, _>(&p.enrolled_detail)
    .bind::<Text, _>(&p.last_detail)
    .bind::<Text, _>(p.last_event)
    .bind::<Nullable<Text>, _>(p.last_step.as_deref())
    .execute(conn)?;
    Ok(())
}

/// A step the plan skips (its time has passed), written as a `skipped` event per contact.
pub fn insert_skip(
    conn: &mut DbConnection,
    anchor: &str,
    tz: &str,
    step: &str,
    detail: &str,
) -> anyhow::Result<()> {
    diesel::sql_query("INSERT INTO bf_skip (anchor, tz, step, detail) VALUES (?,?,?,?)")
        .bind::<Text, _>(anchor)
        .bind::<Text, _>(tz)
        .bind::<Text, _>(step)
        .bind::<Text, _>(detail)
        .execute(conn)?;
    Ok(())
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
fn anchor_join(src: AnchorSource, contact: &str) -> String {
    match (src.date_property, src.zone_property) {
        (Some(pid), Some(tz_prop)) => format!(
            "CROSS JOIN contact_values v ON v.contact_id = {contact} AND v.property_id = {pid}
             LEFT JOIN contact_values z ON z.contact_id = {contact} AND z.property_id = {tz_prop}
             CROSS JOIN bf_plan p ON p.anchor = v.value AND p.tz = COALESCE(z.value, '')"
        ),
        (Some(pid), None) => format!(
            "CROSS JOIN contact_values v ON v.contact_id = {contact} AND v.property_id = {pid}
             CROSS JOIN bf_plan p ON p.anchor = v.value AND p.tz = ''"
        ),
        (None, _) => "CROSS JOIN bf_plan p ON p.anchor = '' AND p.tz = ''".to_string(),
    }
}

/// Enrolls the contacts with ids in (`lo`, `hi`] that meet the batch's conditions, with their
/// history (enrolled, skipped…, then scheduled or completed — the same events as a single
/// enrollment). Returns the highest enrollment id before the batch (the new rows are above
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
    let not_enrolled = if b.reenroll {
        format!("NOT EXISTS (SELECT 1 FROM enrollments x WHERE x.workflow_id = {wid} AND x.contact_id = c.id AND x.status = 'active')")
    } else {
        format!("NOT EXISTS (SELECT 1 FROM enrollments x WHERE x.workflow_id = {wid} AND x.contact_id = c.id)")
    };
    let before: i64 = diesel::sql_query("SELECT MAX(id) AS v FROM enrollments")
        .get_result::<MaxRow>(conn)?
        .v
        .unwrap_or(0);
    let inserted = diesel::sql_query(format!(
        "INSERT INTO enrollments (workflow_id, contact_id, cycle_year, status, revision, anchor_date,
            next_step, next_due_at, reason, enrolled_at, ended_at)
         SELECT {wid}, c.id, p.cycle_year, p.status, {rev}, p.anchor_date, p.next_step, p.next_due_at,
            p.reason, ?1, CASE WHEN p.status = 'completed' THEN ?1 END
         FROM contacts c {join}
         WHERE c.id > {lo} AND c.id <= {hi} AND {criteria} AND {not_enrolled}
         ORDER BY c.id",
        join = anchor_join(src, "c.id"),
    ))
    .bind::<Text, _>(b.now)
    .execute(conn)?;
    if inserted > 0 {
        write_history(
            conn,
            wid,
            rev,
            before,
            b.now,
            &anchor_join(src, "e.contact_id"),
        )?;
    }
    Ok((before, inserted))
}

fn write_history(
    conn: &mut DbConnection,
    wid: i64,
    rev: i32,
    after_id: i64,
    now_s: &str,
    join: &str,
) -> anyhow::Result<()> {
    diesel::sql_query(format!(
        "INSERT INTO history_events (workflow_id, enrollment_id, contact_id, at, event, step, detail, revision)
         SELECT {wid}, e.id, e.contact_id, ?1, 'enrolled', NULL, p.enrolled_detail, {rev}
         FROM enrollments e {join} WHERE e.id > {after_id} AND +e.workflow_id = {wid} ORDER BY e.id"
    ))
    .bind::<Text, _>(now_s)
    .execute(conn)?;
    diesel::sql_query(format!(
        "INSERT INTO history_events (workflow_id, enrollment_id, contact_id, at, event, step, detail, revision)
         SELECT {wid}, e.id, e.contact_id, ?1, 'skipped', s.step, s.detail, {rev}
         FROM enrollments e {join} CROSS JOIN bf_skip s ON s.anchor = p.anchor AND s.tz = p.tz
         WHERE e.id > {after_id} AND +e.workflow_id = {wid} ORDER BY e.id, CAST(s.step AS INTEGER)"
    ))
    .bind::<Text, _>(now_s)
    .execute(conn)?;
    diesel::sql_query(format!(
        "INSERT INTO history_events (workflow_id, enrollment_id, contact_id, at, event, step, detail, revision)
         SELECT {wid}, e.id, e.contact_id, ?1, p.last_event, p.last_step, p.last_detail, {rev}
         FROM enrollments e {join} WHERE e.id > {after_id} AND +e.workflow_id = {wid} ORDER BY e.id"
    ))
    .bind::<Text, _>(now_s)
    .execute(conn)?;
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
    diesel::sql_query(format!(
        "INSERT INTO history_events (workflow_id, enrollment_id, contact_id, at, event, step, detail, revision)
         SELECT o.workflow_id, o.id, o.contact_id, ?1, 'unenrolled', NULL, ?2, {rev}
         FROM enrollments o WHERE o.workflow_id = {other} AND o.status = 'active'
           AND o.contact_id IN (SELECT contact_id FROM enrollments WHERE id > {after_id} AND +workflow_id = {wid})"
    ))
    .bind::<Text, _>(now_s)
    .bind::<Text, _>(reason)
    .execute(conn)?;
    crate::db::models::enrollment::note_ended();
    diesel::sql_query(format!(
        "UPDATE enrollments SET status = 'unenrolled', reason = ?2, ended_at = ?1, next_step = NULL, next_due_at = NULL
         WHERE workflow_id = {other} AND status = 'active'
           AND contact_id IN (SELECT contact_id FROM enrollments WHERE id > {after_id} AND +workflow_id = {wid})"
    ))
    .bind::<Text, _>(now_s)
    .bind::<Text, _>(reason)
    .execute(conn)?;
    Ok(())
}
