//! Running due steps: claim, execute, record, advance.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::db::DbConnection;
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use diesel::Connection;

use super::actions::{self, ActionFailure};
use super::external;
pub use super::round::RoundCtx;
use super::WorkerConfig;
use crate::clock::{fmt_instant, parse_instant};
use crate::db::models::enrollment::{self, Enrollment};
use crate::db::models::history::{self, NewEvent};
use crate::db::models::{ContactId, EnrollmentId};
use crate::db::sql::worker as sql;
use crate::db::DbPool;
use crate::domain::definition::Step;
use crate::domain::filter;
use crate::engine::context::{ContactSnapshot, WorkflowCtx};
use crate::engine::enroll::{event, finish_cycle, local_rfc3339};
use crate::monitoring::jobs;

/// Claims up to `config.batch` due jobs and runs them. Returns how many were claimed.
///
/// The claim and the jobs' internal steps are one write transaction: no other writer can
/// touch the jobs meanwhile, so they need no lease (a lease is written only for a job that
/// leaves the transaction: an external action, or a job that failed and is held back), and
/// the rows read by the claim stay exact for the batch (see `BatchCache::started` in
/// [`super::round`]).
pub fn run_due(
    pool: &DbPool,
    config: &WorkerConfig,
    now: DateTime<Utc>,
    stop: &AtomicBool,
) -> anyhow::Result<usize> {
    let mut conn = pool.get()?;
    let mut ctx: Option<RoundCtx> = None;
    let mut external_jobs = Vec::new();
    // First without a savepoint per job: inside a savepoint SQLite copies every page a job
    // changes into a statement journal, which was a fifth of the worker's time. If any job
    // fails, that transaction rolls back whole and the batch runs again (claimed afresh)
    // with a savepoint per job, so a bad job still fails alone and the others commit.
    let mut run = |guarded| {
        run_batch(
            &mut conn,
            &mut ctx,
            config,
            &mut external_jobs,
            now,
            stop,
            guarded,
        )
    };
    let n = match run(false) {
        Ok(n) => n,
        Err(err) => {
            tracing::debug!(error = %crate::telemetry::chain(&err), "batch failed; running it again job by job");
            run(true)?
        }
    };
    let Some(mut ctx) = ctx else {
        return Ok(n);
    };
    // Other writers may run from here on: nothing read inside the batch is reused.
    ctx.batch = None;
    for job in external_jobs {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        jobs::unit(|| external::run(&mut conn, &mut ctx, job, now))?;
    }
    Ok(n)
}

/// Claims due jobs and runs them in one write transaction; returns how many were claimed.
/// `guarded`: each job in its own savepoint, so a bad job rolls back alone and is retried
/// later (after a minute, its attempts counted); otherwise any job's error rolls back the
/// whole batch.
fn run_batch(
    conn: &mut DbConnection,
    ctx: &mut Option<RoundCtx>,
    config: &WorkerConfig,
    external_jobs: &mut Vec<ExternalJob>,
    now: DateTime<Utc>,
    stop: &AtomicBool,
    guarded: bool,
) -> anyhow::Result<usize> {
    // Only the external jobs of the run that commits are kept.
    external_jobs.clear();
    // Counted only if this transaction commits (a failed fast run is not counted twice).
    jobs::unit(|| {
        crate::db::write_transaction::<_, anyhow::Error, _>(conn, |conn| {
            let claimed = sql::claim_due(conn, &fmt_instant(now), config.batch)?;
            if claimed.is_empty() {
                return Ok(0);
            }
            jobs::claimed(claimed.len());
            let ctx = match ctx {
                Some(c) => c,
                None => ctx.insert(RoundCtx::load(conn, config)?),
            };
            ctx.prefetch(conn, &claimed, now)?;
            // Unguarded, the jobs' append-only rows are held and written set-based before the
            // commit (`db::deferred`); guarded, each job writes its own inside its savepoint.
            let held = (!guarded).then(crate::db::deferred::Scope::begin);
            for e in &claimed {
                if stop.load(Ordering::SeqCst) {
                    // Left as it was: still due, the next round (or run) takes it.
                    continue;
                }
                if !guarded {
                    external_jobs.extend(process_claimed(conn, ctx, e, now)?);
                    continue;
                }
                match conn.transaction::<_, anyhow::Error, _>(|conn| {
                    jobs::unit(|| process_claimed(conn, ctx, e, now))
                }) {
                    Ok(job) => external_jobs.extend(job),
                    Err(err) => {
                        ctx.forget(e);
                        jobs::errored();
                        tracing::error!(enrollment = e.id, error = %crate::telemetry::chain(&err), "job failed; it will be retried");
                        sql::hold_back_failed(
                            conn,
                            e.id,
                            &fmt_instant(now + ChronoDuration::seconds(60)),
                        )?;
                    }
                }
            }
            if held.is_some() {
                crate::db::deferred::flush(conn)?;
            }
            Ok(claimed.len())
        })
    })
}

/// An external action (webhook, SMTP email) that is due: run outside the transaction.
#[derive(Debug, Clone)]
pub struct ExternalJob {
    pub enrollment_id: i64,
    pub path: String,
}

use super::forks::{self, Fork};
pub use crate::domain::paths::step_at;
use crate::domain::paths::{self, next as next_path};

/// When the step at `path` is due, given the previous step ran at `prev`.
fn due_of(
    wf: &WorkflowCtx,
    e: &Enrollment,
    contact: &ContactSnapshot,
    path: &str,
    prev: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    wf.due_of(e.anchor_date.as_deref(), contact, path, prev)
}

/// Runs an enrollment's due steps in order until one lies in the future, the cycle ends, or an
/// external action must run outside the transaction.
pub fn process(
    conn: &mut DbConnection,
    ctx: &mut RoundCtx,
    id: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<ExternalJob>> {
    let Some(e) = Enrollment::find(conn, EnrollmentId(id))? else {
        return Ok(None);
    };
    run_job(conn, ctx, e, now)
}

/// [`process`] for a job the batch claimed: its record as the claim read it is exact unless
/// an earlier job of the batch had the same contact (a job changes only its own contact's
/// enrollments), in which case it is read again.
fn process_claimed(
    conn: &mut DbConnection,
    ctx: &mut RoundCtx,
    claimed: &Enrollment,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<ExternalJob>> {
    if ctx.start_contact(claimed.contact_id) {
        return run_job(conn, ctx, claimed.clone(), now);
    }
    // What the contact's earlier job holds (its enrollment's move included) is written
    // before this one reads its enrollments (`db::deferred`).
    crate::db::deferred::flush(conn)?;
    process(conn, ctx, claimed.id, now)
}

fn run_job(
    conn: &mut DbConnection,
    ctx: &mut RoundCtx,
    e: Enrollment,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<ExternalJob>> {
    if !e.is_active() {
        return Ok(None);
    }
    let Some(wf) = ctx.workflow(conn, e.workflow_id)? else {
        return Ok(None);
    };
    let Some(mut contact) = ctx.take_contact(conn, e.contact_id)? else {
        return Ok(None);
    };
    let out = run_steps(conn, ctx, e, &wf, &mut contact, now);
    if out.is_ok() {
        ctx.keep_contact(contact);
    }
    out
}

/// Why a contact must not get this workflow's actions now, if it must not.
fn suppressed_now(
    wf: &WorkflowCtx,
    contact: &ContactSnapshot,
    catalog: &filter::Catalog,
    now: DateTime<Utc>,
) -> Option<String> {
    let today = now.with_timezone(&wf.tz).date_naive();
    crate::engine::enroll::suppression_reason(wf, contact, catalog, today)
        .map(|reason| format!("suppressed: {reason}"))
}

/// The loop of [`process`]; `contact` is kept current as actions change it.
fn run_steps(
    conn: &mut DbConnection,
    ctx: &mut RoundCtx,
    mut e: Enrollment,
    wf: &WorkflowCtx,
    contact: &mut ContactSnapshot,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<ExternalJob>> {
    let mut events: Vec<NewEvent> = Vec::new();
    let mut last_run = e.last_run_at.as_deref().and_then(parse_instant);
    for _ in 0..200 {
        let (Some(path), Some(due)) = (
            e.next_step.clone(),
            e.next_due_at.as_deref().and_then(parse_instant),
        ) else {
            break;
        };
        if due > now {
            break;
        }
        let Some(step) = step_at(&wf.def.steps, &path).cloned() else {
            // The step no longer exists (the workflow was edited): the cycle is over.
            history::record(conn, &events)?;
            finish_cycle(conn, wf, &e, contact, ctx.listeners(), now)?;
            return Ok(None);
        };
        let today = now.with_timezone(&wf.tz).date_naive();
        if crate::engine::goals::meets_goal(wf, contact, &ctx.engine.catalog, today) {
            // The goal is checked before every step, not only when the contact changes:
            // criteria relative to today come to hold as time passes.
            history::record(conn, &events)?;
            crate::engine::goals::end_goal_met(conn, wf, &e, Some(path), now)?;
            return Ok(None);
        }
        let mut ran_at = due;
        let mut fork: Option<Fork> = None;
        if step.is_delay() {
            // A delay simply ends at its time.
        } else if step.is_fork() {
            let (decided, words) = forks::decide(
                wf,
                &step,
                &path,
                contact,
                &ctx.engine.catalog,
                e.anchor_date.as_deref(),
                due,
                now,
            );
            jobs::executed(Some(due));
            let waiting = matches!(decided, Fork::Wait(_));
            events.push(event(
                wf,
                Some(e.id),
                e.contact_id,
                now,
                if waiting {
                    history::SCHEDULED
                } else {
                    history::ACTION_EXECUTED
                },
                Some(if waiting {
                    format!("{path}/{}", crate::domain::paths::WAITING)
                } else {
                    path.clone()
                }),
                words,
            ));
            fork = Some(decided);
        } else if !wf.row.is_on() {
            jobs::skipped("workflow_off");
            events.push(event(
                wf,
                Some(e.id),
                e.contact_id,
                now,
                history::SKIPPED,
                Some(path.clone()),
                format!(
                    "skipped — the workflow was off when this {} fell due",
                    step.type_name()
                ),
            ));
        } else if now - due > ChronoDuration::hours(i64::from(wf.def.settings.catch_up_hours)) {
            jobs::skipped("past_catch_up");
            events.push(event(
                wf,
                Some(e.id),
                e.contact_id,
                now,
                history::SKIPPED,
                Some(path.clone()),
                format!(
                    "skipped — overdue by {} (due {}), past the catch-up limit of {} h",
                    human_duration(now - due),
                    local_rfc3339(due, wf),
                    wf.def.settings.catch_up_hours
                ),
            ));
        } else if let Some(reason) = suppressed_now(wf, contact, &ctx.engine.catalog, now) {
            // Suppression is checked again when an action falls due, not only when a watched
            // property changes: criteria relative to today ("renewal date before today") and
            // a suppression list added after enrollment apply to enrollments already running.
            history::record(conn, &events)?;
            crate::engine::enroll::unenroll(conn, wf, &e, &reason, now)?;
            return Ok(None);
        } else if let Some(deferral) = match step {
            Step::SendEmail { .. } => forks::email_deferral(conn, ctx, wf, contact, now)?,
            _ => None,
        } {
            // Pacing: the email waits (never dropped); the pointer stays, due later.
            events.push(event(
                wf,
                Some(e.id),
                e.contact_id,
                now,
                history::RESCHEDULED,
                Some(path.clone()),
                format!(
                    "email deferred by pacing ({}); now due {}",
                    deferral.why,
                    local_rfc3339(deferral.until, wf)
                ),
            ));
            e.next_due_at = Some(fmt_instant(deferral.until));
            continue;
        } else if ctx.already_done(conn, e.id, &path)? {
            // Ran before a crash, committed its record, but the pointer did not move: never twice.
        } else if external::is_external(&step, &ctx.config) {
            history::record(conn, &events)?;
            // Runs after the batch commits: held so no other worker takes it meanwhile.
            let held = now + ChronoDuration::seconds(ctx.config.lease_secs);
            point(
                conn,
                &e,
                last_run,
                Some((held, ctx.config.worker_id.as_str())),
            )?;
            return Ok(Some(ExternalJob {
                enrollment_id: e.id,
                path,
            }));
        } else {
            ran_at = now;
            let ended_before = enrollment::ended_count();
            match actions::execute(conn, ctx, wf, &e, contact, &step, now) {
                Ok((result, fresh)) => {
                    jobs::executed(Some(due));
                    ctx.mark_done(conn, e.id, &path, &result, now)?;
                    if matches!(step, Step::SendEmail { .. }) {
                        ctx.note_email(e.contact_id, now);
                    }
                    events.push(event(
                        wf,
                        Some(e.id),
                        e.contact_id,
                        now,
                        history::ACTION_EXECUTED,
                        Some(path.clone()),
                        result,
                    ));
                    match fresh {
                        Some(c) => *contact = c,
                        None if actions::may_change_contact(&step) => reload(conn, ctx, contact)?,
                        None => {}
                    }
                }
                Err(ActionFailure { message, .. }) => {
                    jobs::failed(Some(due));
                    events.push(event(
                        wf,
                        Some(e.id),
                        e.contact_id,
                        now,
                        history::ACTION_FAILED,
                        Some(path.clone()),
                        message,
                    ));
                    // A failed write may have got part of the way.
                    if actions::may_change_contact(&step) {
                        reload(conn, ctx, contact)?;
                    }
                }
            }
            // The action may have ended this enrollment (e.g. unenrolled the contact); only
            // read it again if something ended any enrollment meanwhile.
            if enrollment::ended_count() != ended_before {
                match Enrollment::find(conn, EnrollmentId(e.id))? {
                    Some(fresh) if fresh.is_active() => {}
                    _ => {
                        history::record(conn, &events)?;
                        return Ok(None);
                    }
                }
            }
        }
        last_run = Some(ran_at);
        let fork_path = crate::domain::paths::waiting_at(&path)
            .unwrap_or(&path)
            .to_string();
        let next = match fork {
            Some(Fork::Arm(arm)) => paths::take_arm(&wf.def.steps, &fork_path, &arm),
            Some(Fork::Wait(until)) => {
                // Waits at the step; due when it times out (or moved on by `engine::goals`).
                e.next_step = Some(format!("{path}/{}", crate::domain::paths::WAITING));
                e.next_due_at = Some(fmt_instant(until));
                continue;
            }
            // The holdout gets nothing more: its cycle ends here (the history names it).
            Some(Fork::Holdout) => None,
            None => next_path(&wf.def.steps, &path),
        };
        let Some(next) = next else {
            history::record(conn, &events)?;
            e.last_run_at = last_run.map(fmt_instant);
            finish_cycle(conn, wf, &e, contact, ctx.listeners(), now)?;
            return Ok(None);
        };
        let Some(next_due) = due_of(wf, &e, contact, &next, ran_at) else {
            history::record(conn, &events)?;
            finish_cycle(conn, wf, &e, contact, ctx.listeners(), now)?;
            return Ok(None);
        };
        events.push(crate::engine::enroll::scheduled_path_event(
            wf, &e, &next, next_due, now,
        ));
        e.next_step = Some(next);
        e.next_due_at = Some(fmt_instant(next_due));
    }
    history::record(conn, &events)?;
    point(conn, &e, last_run, None)?;
    Ok(None)
}

/// Reads the contact again after an action that may have changed it.
fn reload(
    conn: &mut DbConnection,
    ctx: &RoundCtx,
    contact: &mut ContactSnapshot,
) -> anyhow::Result<()> {
    if let Some(fresh) = ContactSnapshot::load(conn, &ctx.props, ContactId(contact.id))? {
        *contact = fresh;
    }
    Ok(())
}

/// Moves the enrollment's pointer to `e`'s next step. `held`: a lease (until, worker) for a
/// job that leaves the batch (an external action run after the commit); otherwise none.
fn point(
    conn: &mut DbConnection,
    e: &Enrollment,
    last_run: Option<DateTime<Utc>>,
    held: Option<(DateTime<Utc>, &str)>,
) -> anyhow::Result<()> {
    if held.is_none() {
        // The job's last write: inside a batch, written with it (`db::deferred::Move`).
        return Enrollment::move_with_batch(
            conn,
            EnrollmentId(e.id),
            e.next_step.as_deref(),
            e.next_due_at.as_deref(),
            last_run.map(fmt_instant).as_deref(),
        );
    }
    let until = held.map(|(t, _)| fmt_instant(t));
    Enrollment::point_at(
        conn,
        EnrollmentId(e.id),
        e.next_step.as_deref(),
        e.next_due_at.as_deref(),
        last_run.map(fmt_instant).as_deref(),
        until.as_deref().zip(held.map(|(_, w)| w)),
    )
}

/// Whether this step already ran (recorded as done) for this enrollment.
pub fn already_done(conn: &mut DbConnection, enrollment: i64, path: &str) -> anyhow::Result<bool> {
    Ok(sql::step_done(conn, enrollment, path)?)
}

/// Records a step's run as done (an update, else an insert).
pub fn mark_done(
    conn: &mut DbConnection,
    enrollment: i64,
    path: &str,
    result: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    Ok(sql::mark_step_done(
        conn,
        enrollment,
        path,
        result,
        &fmt_instant(now),
    )?)
}

/// Records a step's first run as done.
pub(super) fn insert_done(
    conn: &mut DbConnection,
    enrollment: i64,
    path: &str,
    result: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    Ok(sql::insert_step_done(
        conn,
        enrollment,
        path,
        result,
        &fmt_instant(now),
    )?)
}

pub fn human_duration(d: ChronoDuration) -> String {
    let h = d.num_hours();
    if h >= 48 {
        format!("{} days", d.num_days())
    } else if h >= 1 {
        format!("{h} h")
    } else {
        format!("{} min", d.num_minutes().max(1))
    }
}
