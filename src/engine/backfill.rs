//! "Yes, enroll existing contacts as of now": set-based enrollment at publish time.
//!
//! The schedule of a contact depends only on its anchor date (and, when a step uses the
//! contact's time zone, on that zone), so the plan is computed once per distinct anchor in
//! Rust, written to a temporary table, and enrollments, their first job and their history are
//! inserted with `INSERT … SELECT` joins in id-range batches — never a loop of single-row
//! round trips. Progress is stored on the workflow row for the page to show.

use crate::db::DbConnection;
use anyhow::Context;
use chrono::{DateTime, Utc};

use super::context::{domain_catalog, WorkflowCtx};
use super::enroll::{local_rfc3339, Why, ALL_STEPS_PASSED, SKIPPED_PAST_AT_ENROLLMENT};
use crate::clock::fmt_instant;
use crate::db::models::history;
use crate::db::models::property::Catalog;
use crate::db::models::workflow::Workflow;
use crate::db::models::WorkflowId;
use crate::db::sql::backfill as bf;
use crate::db::DbPool;
use crate::domain::definition::{Start, Step, ZoneChoice};
use crate::domain::filter::{compile_groups, Cond};
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
        bg.work_committed();
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
pub fn run(conn: &mut DbConnection, id: WorkflowId, now: DateTime<Utc>) -> anyhow::Result<Report> {
    run_mode(conn, id, now, Mode::Publish)
}

pub fn run_mode(
    conn: &mut DbConnection,
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
    let mut trigger = if only_builtin {
        Cond::TRUE
    } else {
        compile_groups(&def.triggers.filter_groups, &catalog, today)
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
        let before = compile_groups(&def.triggers.filter_groups, &catalog, since)
            .map_err(|e| anyhow::anyhow!("trigger filter: {}", e.message))?;
        trigger = trigger.and(before.negate());
    }
    let suppressed = if def.settings.suppression.filter_groups.is_empty() {
        Cond::FALSE
    } else {
        compile_groups(&def.settings.suppression.filter_groups, &catalog, today)
            .map_err(|e| anyhow::anyhow!("suppression filter: {}", e.message))?
    };
    // A contact who already meets the goal is not enrolled.
    let goal_met = match def.goal.as_ref().filter(|g| !g.filter_groups.is_empty()) {
        Some(goal) => compile_groups(&goal.filter_groups, &catalog, today)
            .map_err(|e| anyhow::anyhow!("goal filter: {}", e.message))?,
        None => Cond::FALSE,
    };
    // The date being known is not part of it: the anchor join requires it.
    let criteria = trigger
        .and(suppressed.negate())
        .and(Cond::InAnyList(def.settings.suppression.list_ids.clone()).negate())
        .and(goal_met.negate());
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
    let src = bf::AnchorSource {
        date_property: date_prop,
        zone_property: uses_contact_zone.then_some(tz_prop),
    };
    bf::create_plan_tables(conn)?;
    let keys = bf::distinct_anchors(conn, src)?;
    let fixed_anchor = match &def.start {
        Start::SpecificDate { date } => crate::domain::values::parse_iso_date(date),
        _ => None,
    };
    let mut plan_rows = Vec::new();
    let mut skip_rows = Vec::new();
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
        // One row per contact when no step is skipped: the `enrolled` row names the first
        // step. A plan that skips steps keeps the separate `scheduled` row after them, so the
        // events read in the order a single enrollment writes them.
        let skips = plan
            .steps
            .iter()
            .any(|s| s.status == StepStatus::SkippedPast);
        let (status, enrolled_detail, enrolled_step, last) = match next {
            Some(s) if !skips => (
                "active",
                history::enrolled_with_first_step(
                    &enrolled_detail,
                    &super::enroll::scheduled_detail(&wf, s),
                ),
                Some(s.index.to_string()),
                None,
            ),
            Some(s) => (
                "active",
                enrolled_detail,
                None,
                Some((
                    history::SCHEDULED,
                    Some(s.index.to_string()),
                    super::enroll::scheduled_detail(&wf, s),
                )),
            ),
            None => (
                "completed",
                enrolled_detail,
                None,
                Some((history::COMPLETED, None, ALL_STEPS_PASSED.to_string())),
            ),
        };
        let (last_event, last_step, last_detail) = match last {
            Some((e, step, detail)) => (Some(e), step, Some(detail)),
            None => (None, None, None),
        };
        plan_rows.push(bf::PlanRow {
            anchor: anchor_text,
            tz: tz_text,
            cycle_year: plan.cycle_year.unwrap_or(0),
            anchor_date: plan.anchor_date.map(|d| d.format("%Y-%m-%d").to_string()),
            status,
            next_step: next.map(|s| s.index.to_string()),
            next_due_at: next.map(|s| fmt_instant(s.due_at)),
            reason: next.is_none().then_some(ALL_STEPS_PASSED),
            enrolled_detail,
            enrolled_step,
            last_event,
            last_step,
            last_detail,
        });
        for s in plan
            .steps
            .iter()
            .filter(|s| s.status == StepStatus::SkippedPast)
        {
            skip_rows.push(bf::SkipRow {
                anchor: anchor_text,
                tz: tz_text,
                step: s.index.to_string(),
                detail: format!(
                    "{SKIPPED_PAST_AT_ENROLLMENT} ({} at {})",
                    s.type_name,
                    local_rfc3339(s.due_at, &wf)
                ),
            });
        }
    }
    bf::insert_plans(conn, &plan_rows)?;
    bf::insert_skips(conn, &skip_rows)?;
    let any_skips = !skip_rows.is_empty();
    let any_last = plan_rows.iter().any(|p| p.last_event.is_some());
    tracing::info!(
        workflow = id.0,
        plans = plan_rows.len(),
        "planned distinct anchors"
    );

    // 2. Batches of contacts by id range.
    let max_id = bf::max_contact_id(conn)?;
    let total: i64 = crate::db::models::contact::Contact::count(conn)?;
    let progress =
        |conn: &mut DbConnection, state: &str, done: i64, total: i64| -> anyhow::Result<()> {
            if mode == Mode::Publish {
                Workflow::set_backfill(conn, id, state, done, total)?;
            }
            Ok(())
        };
    progress(conn, "running", 0, total)?;
    let now_s = fmt_instant(now);
    let rev = wf.row.revision;
    let wid = id.0;
    let mut done = 0i64;
    let mut enrolled = 0i64;
    let mut lo = 0i64;
    while lo <= max_id {
        let hi = lo + BATCH;
        // Turned off meanwhile: no new enrollments, so the job stops between batches.
        let still_on = Workflow::find(conn, id)?.is_some_and(|w| w.is_on());
        if !still_on {
            progress(conn, "stopped", done.min(total), total)?;
            return Ok(Report {
                state: "stopped".into(),
                done: enrolled,
                total,
            });
        }
        let batch = bf::Batch {
            workflow_id: wid,
            revision: rev,
            criteria: &criteria,
            reenroll: def.reenroll.enabled,
            now: &now_s,
            any_skips,
            any_last,
        };
        let n = crate::db::write_transaction::<_, anyhow::Error, _>(conn, |conn| {
            let (before, inserted) = bf::enroll_range(conn, src, &batch, lo, hi)?;
            if inserted > 0 {
                unenroll_others(conn, &wf, before, &now_s)?;
            }
            Ok(inserted as i64)
        })?;
        enrolled += n;
        done = (done + BATCH).min(total);
        lo = hi;
        progress(conn, "running", done.min(total), total)?;
    }
    bf::drop_plan_tables(conn)?;
    progress(conn, "done", enrolled, total)?;
    crate::notifier::mark();
    Ok(Report {
        state: "done".into(),
        done: enrolled,
        total,
    })
}

/// "When enrolled here, unenroll from these other workflows", for the batch just enrolled.
fn unenroll_others(
    conn: &mut DbConnection,
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
        bf::unenroll_batch_from(conn, wid, after_id, *other, &reason, now_s)?;
    }
    Ok(())
}

fn uses_contact_zone(steps: &[Step]) -> bool {
    steps.iter().any(|s| match s {
        Step::DateDelay { zone, .. } => *zone == Some(ZoneChoice::Contact),
        s if s.is_fork() => s.arms().iter().any(|(_, steps)| uses_contact_zone(steps)),
        _ => false,
    })
}

/// The periodic sweep: workflows whose triggers depend on today's date are re-checked,
/// set-based, for contacts that began to meet them since the last check (or since the
/// workflow was turned on).
pub fn sweep(conn: &mut DbConnection, now: DateTime<Utc>) -> anyhow::Result<usize> {
    // One worker process at a time (the others find the lock taken and skip this hour).
    Ok(
        crate::db::locks::if_free(conn, crate::db::locks::TRIGGER_SWEEP, |conn| {
            sweep_now(conn, now)
        })?
        .unwrap_or(0),
    )
}

fn sweep_now(conn: &mut DbConnection, now: DateTime<Utc>) -> anyhow::Result<usize> {
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
