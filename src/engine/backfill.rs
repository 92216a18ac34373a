//! "Yes, enroll existing contacts as of now": set-based enrollment at publish time.
//!
//! The schedule of a contact depends only on its anchor date (and, when a step uses the
//! contact's time zone, on that zone), so the plan is computed once per distinct anchor in
//! Rust, written to a temporary table, and enrollments, their first job and their history are
//! inserted with `INSERT … SELECT` joins in id-range batches — never a loop of single-row
//! round trips. Progress is stored on the workflow row for the page to show.

use anyhow::Context;
use chrono::{DateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use diesel::SqliteConnection;

use super::context::{domain_catalog, WorkflowCtx};
use super::enroll::{local_rfc3339, Why, SKIPPED_PAST_AT_ENROLLMENT};
use crate::clock::fmt_instant;
use crate::db::models::property::Catalog;
use crate::db::models::workflow::Workflow;
use crate::db::models::WorkflowId;
use crate::db::DbPool;
use crate::domain::definition::{Start, Step, ZoneChoice};
use crate::domain::filter::compile_groups_sql;
use crate::domain::schedule::{self, StepStatus, Zones};

/// Contacts per transaction: big enough to amortise, small enough to show progress and let
/// other writers in between.
const BATCH: i64 = 100_000;
/// Below this many contacts the publish request does the work itself (the caller sees the
/// enrollments at once); above, a background thread does and the page shows progress.
const INLINE_LIMIT: i64 = 20_000;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub state: String,
    pub done: i64,
    pub total: i64,
}

/// Runs the backfill inline for small accounts, else in the background.
pub async fn start(pool: &DbPool, id: WorkflowId, now: DateTime<Utc>) -> anyhow::Result<Report> {
    let p = pool.clone();
    let contacts = crate::db::run(pool, crate::db::models::contact::Contact::count).await?;
    if contacts <= INLINE_LIMIT {
        return crate::db::run(&p, move |conn| run(conn, id, now)).await;
    }
    let bg = pool.clone();
    std::thread::spawn(move || {
        let result = bg
            .get()
            .map_err(anyhow::Error::from)
            .and_then(|mut conn| run(&mut conn, id, now));
        bg.notifier().ring_if_marked();
        if let Err(e) = result {
            tracing::error!(workflow = id.0, error = %crate::telemetry::chain(&e), "enrolling existing contacts failed");
            if let Ok(mut conn) = bg.get() {
                let _ = Workflow::set_backfill(&mut conn, id, "failed", 0, 0);
            }
        }
    });
    Ok(Report {
        state: "running".into(),
        done: 0,
        total: contacts,
    })
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

/// Why a set-based enrollment runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// "Enroll existing contacts" when the workflow is turned on (progress shown).
    Publish,
    /// The periodic check of date-relative triggers ("today-30"): contacts that have come to
    /// meet them as the calendar moved on since `since` (met them now, not on that day).
    Sweep { since: chrono::NaiveDate },
}

/// Enrolls every contact meeting the criteria now. Returns the final progress.
pub fn run(
    conn: &mut SqliteConnection,
    id: WorkflowId,
    now: DateTime<Utc>,
) -> anyhow::Result<Report> {
    run_mode(conn, id, now, Mode::Publish)
}

pub fn run_mode(
    conn: &mut SqliteConnection,
    id: WorkflowId,
    now: DateTime<Utc>,
    mode: Mode,
) -> anyhow::Result<Report> {
    let Some(wf) = WorkflowCtx::load(conn, id)? else {
        anyhow::bail!("workflow {} vanished", id.0);
    };
    let props = Catalog::load(conn)?;
    let catalog = domain_catalog(conn, &props)?;
    let today = now.with_timezone(&wf.tz).date_naive();
    let def = &wf.def;
    if !def.enrolls_on_criteria() {
        // No criteria (manual only, or nothing but event triggers): nobody "already meets" them.
        if mode == Mode::Publish {
            Workflow::set_backfill(conn, id, "done", 0, 0)?;
        }
        return Ok(Report {
            state: "done".into(),
            done: 0,
            total: 0,
        });
    }
    // No filter groups: the built-in "[property] is known" alone, which the anchor join below
    // already requires.
    let only_builtin = def.triggers.filter_groups.is_empty();
    let mut trigger_sql = if only_builtin {
        "1".to_string()
    } else {
        compile_groups_sql(&def.triggers.filter_groups, &catalog, today)
            .map_err(|e| anyhow::anyhow!("trigger filter: {}", e.message))?
    };
    if let Mode::Sweep { since } = mode {
        // The built-in trigger does not depend on the day: a sweep has nothing to find.
        if since >= today || only_builtin {
            return Ok(Report {
                state: "done".into(),
                done: 0,
                total: 0,
            });
        }
        // Only a transition counts: meets the criteria today, did not on the last check.
        let before = compile_groups_sql(&def.triggers.filter_groups, &catalog, since)
            .map_err(|e| anyhow::anyhow!("trigger filter: {}", e.message))?;
        trigger_sql = format!("({trigger_sql} AND NOT {before})");
    }
    let suppress_sql = if def.settings.suppression.filter_groups.is_empty() {
        "0".to_string()
    } else {
        compile_groups_sql(&def.settings.suppression.filter_groups, &catalog, today)
            .map_err(|e| anyhow::anyhow!("suppression filter: {}", e.message))?
    };
    let suppress_lists = def
        .settings
        .suppression
        .list_ids
        .iter()
        .map(|l| l.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let date_prop = match &def.start {
        Start::ContactDateProperty { property } => Some(
            props
                .get(property)
                .map(|p| p.id)
                .with_context(|| format!("date property {property} no longer exists"))?,
        ),
        _ => None,
    };
    let uses_contact_zone = uses_contact_zone(&def.steps);
    let tz_prop = props.get("timezone").map(|p| p.id).unwrap_or(-1);

    // 1. The plan of every distinct (anchor, zone) among contacts that have the date.
    conn.batch_execute(
        "DROP TABLE IF EXISTS temp.bf_plan; DROP TABLE IF EXISTS temp.bf_skip;
         CREATE TEMP TABLE bf_plan (anchor TEXT NOT NULL, tz TEXT NOT NULL, cycle_year INTEGER NOT NULL,
            anchor_date TEXT, status TEXT NOT NULL, next_step TEXT, next_due_at TEXT, reason TEXT,
            enrolled_detail TEXT NOT NULL, last_detail TEXT NOT NULL, last_event TEXT NOT NULL,
            last_step TEXT, PRIMARY KEY (anchor, tz)) WITHOUT ROWID;
         CREATE TEMP TABLE bf_skip (anchor TEXT NOT NULL, tz TEXT NOT NULL, step TEXT NOT NULL, detail TEXT NOT NULL);
         CREATE INDEX temp.bf_skip_by_plan ON bf_skip (anchor, tz);",
    )?;
    let keys: Vec<(String, String)> = match date_prop {
        Some(pid) if uses_contact_zone => diesel::sql_query(format!(
            "SELECT DISTINCT v.value AS anchor, COALESCE(z.value, '') AS tz FROM contact_values v
             LEFT JOIN contact_values z ON z.contact_id = v.contact_id AND z.property_id = {tz_prop}
             WHERE v.property_id = {pid}"
        ))
        .load::<AnchorRow>(conn)?
        .into_iter()
        .map(|r| (r.anchor, r.tz))
        .collect(),
        Some(pid) => diesel::sql_query(format!(
            "SELECT DISTINCT value AS anchor, '' AS tz FROM contact_values WHERE property_id = {pid}"
        ))
        .load::<AnchorRow>(conn)?
        .into_iter()
        .map(|r| (r.anchor, r.tz))
        .collect(),
        None => vec![(String::new(), String::new())],
    };
    let fixed_anchor = match &def.start {
        Start::SpecificDate { date } => crate::domain::values::parse_iso_date(date),
        _ => None,
    };
    let mut plans = 0usize;
    for (anchor_text, tz_text) in &keys {
        let anchor = match (&def.start, date_prop) {
            (_, Some(_)) => match crate::domain::values::parse_iso_date(anchor_text) {
                Some(d) => Some(d),
                None => continue,
            },
            _ => fixed_anchor,
        };
        let zones = Zones {
            workflow: wf.tz,
            contact: schedule::parse_zone(tz_text),
        };
        let Ok(plan) = schedule::plan_enrollment(def, anchor, &zones, now) else {
            continue;
        };
        let next = plan
            .next
            .and_then(|i| plan.steps.iter().find(|s| s.index == i));
        let why = match mode {
            Mode::Publish => Why::ExistingAtPublish.detail(),
            Mode::Sweep { .. } => format!(
                "{} (daily check of date-relative criteria)",
                Why::Trigger.detail()
            ),
        };
        let enrolled_detail = match (plan.anchor_date, plan.cycle_year) {
            (Some(a), Some(y)) => format!("{why}; anchor {a}, cycle {y}"),
            _ => why,
        };
        let (status, last_event, last_detail, last_step) = match next {
            Some(s) => {
                let moved = if s.due_at != s.nominal_at {
                    format!(
                        " (moved from {} by the execution window or step order)",
                        local_rfc3339(s.nominal_at, &wf)
                    )
                } else {
                    String::new()
                };
                (
                    "active",
                    "scheduled",
                    format!(
                        "{} due {}{moved}",
                        s.type_name,
                        local_rfc3339(s.due_at, &wf)
                    ),
                    Some(s.index.to_string()),
                )
            }
            None => (
                "completed",
                "completed",
                "every step's date had passed when the contact enrolled".to_string(),
                None,
            ),
        };
        diesel::sql_query(
            "INSERT INTO bf_plan (anchor, tz, cycle_year, anchor_date, status, next_step, next_due_at, reason,
               enrolled_detail, last_detail, last_event, last_step) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        )
        .bind::<Text, _>(anchor_text)
        .bind::<Text, _>(tz_text)
        .bind::<Integer, _>(plan.cycle_year.unwrap_or(0))
        .bind::<Nullable<Text>, _>(plan.anchor_date.map(|d| d.format("%Y-%m-%d").to_string()))
        .bind::<Text, _>(status)
        .bind::<Nullable<Text>, _>(next.map(|s| s.index.to_string()))
        .bind::<Nullable<Text>, _>(next.map(|s| fmt_instant(s.due_at)))
        .bind::<Nullable<Text>, _>(next.is_none().then_some("every step's date had passed when the contact enrolled"))
        .bind::<Text, _>(enrolled_detail)
        .bind::<Text, _>(last_detail)
        .bind::<Text, _>(last_event)
        .bind::<Nullable<Text>, _>(last_step)
        .execute(conn)?;
        for s in plan
            .steps
            .iter()
            .filter(|s| s.status == StepStatus::SkippedPast)
        {
            diesel::sql_query("INSERT INTO bf_skip (anchor, tz, step, detail) VALUES (?,?,?,?)")
                .bind::<Text, _>(anchor_text)
                .bind::<Text, _>(tz_text)
                .bind::<Text, _>(s.index.to_string())
                .bind::<Text, _>(format!(
                    "{SKIPPED_PAST_AT_ENROLLMENT} ({} at {})",
                    s.type_name,
                    local_rfc3339(s.due_at, &wf)
                ))
                .execute(conn)?;
        }
        plans += 1;
    }
    tracing::info!(workflow = id.0, plans, "planned distinct anchors");

    // 2. Batches of contacts by id range.
    let max_id: i64 = diesel::sql_query("SELECT MAX(id) AS v FROM contacts")
        .get_result::<MaxRow>(conn)?
        .v
        .unwrap_or(0);
    let total: i64 = crate::db::models::contact::Contact::count(conn)?;
    let progress =
        |conn: &mut SqliteConnection, state: &str, done: i64, total: i64| -> anyhow::Result<()> {
            if mode == Mode::Publish {
                Workflow::set_backfill(conn, id, state, done, total)?;
            }
            Ok(())
        };
    progress(conn, "running", 0, total)?;
    // CROSS JOIN fixes the join order (SQLite's rule): walk the batch's contacts by rowid,
    // then look their date and plan up by primary key. Left to itself the planner would scan
    // the whole `contact_values_by_value` range of the date property for every batch and sort.
    let anchor_join = match date_prop {
        Some(pid) if uses_contact_zone => format!(
            "CROSS JOIN contact_values v ON v.contact_id = c.id AND v.property_id = {pid}
             LEFT JOIN contact_values z ON z.contact_id = c.id AND z.property_id = {tz_prop}
             CROSS JOIN bf_plan p ON p.anchor = v.value AND p.tz = COALESCE(z.value, '')"
        ),
        Some(pid) => format!(
            "CROSS JOIN contact_values v ON v.contact_id = c.id AND v.property_id = {pid}
             CROSS JOIN bf_plan p ON p.anchor = v.value AND p.tz = ''"
        ),
        None => "CROSS JOIN bf_plan p ON p.anchor = '' AND p.tz = ''".to_string(),
    };
    let not_suppressed = if suppress_lists.is_empty() {
        format!("NOT {suppress_sql}")
    } else {
        format!("NOT {suppress_sql} AND NOT EXISTS (SELECT 1 FROM list_members sm WHERE sm.contact_id = c.id AND sm.list_id IN ({suppress_lists}))")
    };
    let not_enrolled = if def.reenroll.enabled {
        format!("NOT EXISTS (SELECT 1 FROM enrollments x WHERE x.workflow_id = {wid} AND x.contact_id = c.id AND x.status = 'active')", wid = id.0)
    } else {
        format!("NOT EXISTS (SELECT 1 FROM enrollments x WHERE x.workflow_id = {wid} AND x.contact_id = c.id)", wid = id.0)
    };
    let now_s = fmt_instant(now);
    let rev = wf.row.revision;
    let wid = id.0;
    let mut done = 0i64;
    let mut enrolled = 0i64;
    let mut lo = 0i64;
    while lo <= max_id {
        let hi = lo + BATCH;
        // Turned off meanwhile: no new enrollments, so the job stops between batches.
        let still_on = crate::db::schema::workflows::table
            .find(id.0)
            .select(crate::db::schema::workflows::status)
            .first::<String>(conn)
            .optional()?
            .is_some_and(|s| s == crate::db::models::workflow::STATUS_ON);
        if !still_on {
            progress(conn, "stopped", done.min(total), total)?;
            return Ok(Report {
                state: "stopped".into(),
                done: enrolled,
                total,
            });
        }
        let n = crate::db::write_transaction::<_, anyhow::Error, _>(conn, |conn| {
            let before: i64 = diesel::sql_query("SELECT MAX(id) AS v FROM enrollments")
                .get_result::<MaxRow>(conn)?
                .v
                .unwrap_or(0);
            let inserted = diesel::sql_query(format!(
                "INSERT INTO enrollments (workflow_id, contact_id, cycle_year, status, revision, anchor_date,
                    next_step, next_due_at, reason, enrolled_at, ended_at)
                 SELECT {wid}, c.id, p.cycle_year, p.status, {rev}, p.anchor_date, p.next_step, p.next_due_at,
                    p.reason, ?1, CASE WHEN p.status = 'completed' THEN ?1 END
                 FROM contacts c {anchor_join}
                 WHERE c.id > {lo} AND c.id <= {hi} AND {trigger_sql} AND {not_suppressed} AND {not_enrolled}
                 ORDER BY c.id"
            ))
            .bind::<Text, _>(&now_s)
            .execute(conn)?;
            if inserted > 0 {
                write_history(
                    conn,
                    wid,
                    rev,
                    before,
                    &now_s,
                    &anchor_join_for_history(date_prop, uses_contact_zone, tz_prop),
                )?;
                unenroll_others(conn, &wf, before, &now_s)?;
            }
            Ok(inserted as i64)
        })?;
        enrolled += n;
        done = (done + BATCH).min(total);
        lo = hi;
        progress(conn, "running", done.min(total), total)?;
    }
    conn.batch_execute("DROP TABLE IF EXISTS temp.bf_plan; DROP TABLE IF EXISTS temp.bf_skip;")?;
    progress(conn, "done", enrolled, total)?;
    crate::notifier::mark();
    Ok(Report {
        state: "done".into(),
        done: enrolled,
        total,
    })
}

/// How history rows find their plan row again: by the enrollment's contact's anchor.
/// (Join order fixed as for the enrollments: the new enrollments by rowid, then lookups.)
fn anchor_join_for_history(
    date_prop: Option<i64>,
    uses_contact_zone: bool,
    tz_prop: i64,
) -> String {
    match date_prop {
        Some(pid) if uses_contact_zone => format!(
            "CROSS JOIN contact_values v ON v.contact_id = e.contact_id AND v.property_id = {pid}
             LEFT JOIN contact_values z ON z.contact_id = e.contact_id AND z.property_id = {tz_prop}
             CROSS JOIN bf_plan p ON p.anchor = v.value AND p.tz = COALESCE(z.value, '')"
        ),
        Some(pid) => format!(
            "CROSS JOIN contact_values v ON v.contact_id = e.contact_id AND v.property_id = {pid}
             CROSS JOIN bf_plan p ON p.anchor = v.value AND p.tz = ''"
        ),
        None => "CROSS JOIN bf_plan p ON p.anchor = '' AND p.tz = ''".to_string(),
    }
}

/// enrolled, skipped…, then scheduled or completed — the same events as a single enrollment.
fn write_history(
    conn: &mut SqliteConnection,
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

/// "When enrolled here, unenroll from these other workflows", for the batch just enrolled.
fn unenroll_others(
    conn: &mut SqliteConnection,
    wf: &WorkflowCtx,
    after_id: i64,
    now_s: &str,
) -> anyhow::Result<()> {
    let wid = wf.id();
    for other in wf
        .def
        .settings
        .unenroll_from_workflows
        .iter()
        .filter(|o| **o != wid)
    {
        let reason = format!(
            "enrolled in workflow “{}”, which unenrolls from this one",
            wf.row.name
        );
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
        .bind::<Text, _>(&reason)
        .execute(conn)?;
        crate::db::models::enrollment::note_ended();
        diesel::sql_query(format!(
            "UPDATE enrollments SET status = 'unenrolled', reason = ?2, ended_at = ?1, next_step = NULL, next_due_at = NULL
             WHERE workflow_id = {other} AND status = 'active'
               AND contact_id IN (SELECT contact_id FROM enrollments WHERE id > {after_id} AND +workflow_id = {wid})"
        ))
        .bind::<Text, _>(now_s)
        .bind::<Text, _>(&reason)
        .execute(conn)?;
    }
    Ok(())
}

fn uses_contact_zone(steps: &[Step]) -> bool {
    steps.iter().any(|s| match s {
        Step::DateDelay { zone, .. } => *zone == Some(ZoneChoice::Contact),
        Step::Branch { yes, no, .. } => uses_contact_zone(yes) || uses_contact_zone(no),
        _ => false,
    })
}

/// The periodic sweep: workflows whose triggers depend on today's date are re-checked,
/// set-based, for contacts that began to meet them since the last check (or since the
/// workflow was turned on).
pub fn sweep(conn: &mut SqliteConnection, now: DateTime<Utc>) -> anyhow::Result<usize> {
    use crate::db::models::app_setting;
    const LAST_SWEEP: &str = "last_trigger_sweep_at";
    let last = app_setting::get(conn, LAST_SWEEP)?.and_then(|s| crate::clock::parse_instant(&s));
    let mut enrolled = 0;
    for wf in WorkflowCtx::active(conn)? {
        if !crate::domain::filter::is_time_relative(&wf.def.triggers.filter_groups) {
            continue;
        }
        let published = wf
            .row
            .published_at
            .as_deref()
            .and_then(crate::clock::parse_instant);
        let Some(from) = [last, published].into_iter().flatten().max() else {
            continue;
        };
        let since = from.with_timezone(&wf.tz).date_naive();
        enrolled += run_mode(conn, WorkflowId(wf.id()), now, Mode::Sweep { since })?.done as usize;
    }
    app_setting::set(conn, LAST_SWEEP, &fmt_instant(now))?;
    Ok(enrolled)
}
