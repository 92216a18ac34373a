//! Goals and waits while a contact is enrolled (issue 17).
//!
//! * **Goal**: a contact who meets the workflow's goal leaves it at once — on any change of the
//!   contact (here, from trigger evaluation) and before each step the worker runs. The
//!   enrollment ends `completed` with the reason [`GOAL_MET`]: that is a conversion. A contact
//!   who already meets the goal is not enrolled at all (`engine::enroll`).
//! * **Wait until**: a contact waiting at a wait-until step (`…/wait`) moves on to its `met`
//!   path as soon as the condition holds (on a change of the contact) or the awaited event
//!   happens to it (`on_events`); the worker takes the `timed_out` path when the wait ends.
//!
//! A recurring workflow's goal ends the contact's membership, not only the cycle: whoever met
//! the goal got what the workflow was for. (They may enroll again through re-enrollment.)

use chrono::{DateTime, NaiveDate, Utc};

use super::context::{ContactSnapshot, WorkflowCtx};
use super::enroll::{event, finish_cycle};
use super::events::Listeners;
use crate::clock::fmt_instant;
use crate::db::models::enrollment::{self as enr, Enrollment};
use crate::db::models::history;
use crate::db::models::{ContactId, EnrollmentId, WorkflowId};
use crate::db::DbConnection;
use crate::domain::definition::Step;
use crate::domain::filter::{self, Catalog};
use crate::domain::paths;

pub use crate::db::models::enrollment::GOAL_MET;

/// Whether the contact meets the workflow's goal (a workflow without one has none to meet).
pub fn meets_goal(
    wf: &WorkflowCtx,
    contact: &ContactSnapshot,
    catalog: &Catalog,
    today: NaiveDate,
) -> bool {
    wf.def.goal.as_ref().is_some_and(|g| {
        !g.filter_groups.is_empty()
            && filter::matches_groups(&g.filter_groups, contact, catalog, today)
    })
}

/// Ends an enrollment whose contact met the goal: `completed`, reason "goal met", and a
/// history event that says so.
pub fn end_goal_met(
    conn: &mut DbConnection,
    wf: &WorkflowCtx,
    e: &Enrollment,
    at_step: Option<String>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    history::record(
        conn,
        &[event(
            wf,
            Some(e.id),
            e.contact_id,
            now,
            history::COMPLETED,
            at_step,
            format!("{GOAL_MET}: the contact meets the workflow's goal and leaves it"),
        )],
    )?;
    Enrollment::finish(
        conn,
        EnrollmentId(e.id),
        enr::COMPLETED,
        GOAL_MET,
        &fmt_instant(now),
    )
}

/// A contact write while enrolled: the goal, then a wait for a condition. Returns whether the
/// enrollment ended or moved (the caller then reads it again if it needs it).
pub fn on_change(
    conn: &mut DbConnection,
    wf: &WorkflowCtx,
    active: EnrollmentId,
    contact: &ContactSnapshot,
    on: Listeners,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let today = now.with_timezone(&wf.tz).date_naive();
    let goal = meets_goal(wf, contact, on.catalog, today);
    if !goal && !has_condition_waits(&wf.def.steps) {
        return Ok(false);
    }
    let Some(e) = Enrollment::find(conn, active)? else {
        return Ok(false);
    };
    if !e.is_active() {
        return Ok(false);
    }
    if goal {
        end_goal_met(conn, wf, &e, e.next_step.clone(), now)?;
        return Ok(true);
    }
    let Some(path) = e.next_step.clone().filter(|p| paths::is_waiting(p)) else {
        return Ok(false);
    };
    if let Some(Step::WaitUntil { condition, .. }) = paths::step_at(&wf.def.steps, &path) {
        if !condition.is_empty() && filter::matches_groups(condition, contact, on.catalog, today) {
            wait_met(conn, wf, &e, contact, on, "the condition is met", now)?;
            return Ok(true);
        }
    }
    Ok(false)
}

/// Events happened to a contact: every enrollment of theirs waiting for one of these events
/// moves on to its `met` path.
pub fn on_events(
    conn: &mut DbConnection,
    on: Listeners,
    contact: &ContactSnapshot,
    names: &[&str],
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let waiting: Vec<&WorkflowCtx> = on
        .workflows
        .iter()
        .filter(|w| names.iter().any(|n| waits_for_event(&w.def.steps, n)))
        .collect();
    for wf in waiting {
        let Some(e) = Enrollment::active_for(conn, WorkflowId(wf.id()), ContactId(contact.id))?
        else {
            continue;
        };
        let Some(path) = e.next_step.clone().filter(|p| paths::is_waiting(p)) else {
            continue;
        };
        let Some(Step::WaitUntil {
            event: Some(wanted),
            ..
        }) = paths::step_at(&wf.def.steps, &path)
        else {
            continue;
        };
        if let Some(name) = names.iter().find(|n| n.eq_ignore_ascii_case(wanted.trim())) {
            wait_met(
                conn,
                wf,
                &e,
                contact,
                on,
                &format!("the event “{name}” happened"),
                now,
            )?;
        }
    }
    Ok(())
}

/// Whether any workflow waits for an event of this name (so recording it must look).
pub fn any_waits_for(workflows: &[WorkflowCtx], name: &str) -> bool {
    workflows
        .iter()
        .any(|w| waits_for_event(&w.def.steps, name))
}

fn waits_for_event(steps: &[Step], name: &str) -> bool {
    steps.iter().any(|s| {
        matches!(s, Step::WaitUntil { event: Some(e), .. } if e.trim().eq_ignore_ascii_case(name))
            || s.arms().iter().any(|(_, arm)| waits_for_event(arm, name))
    })
}

/// Whether any wait-until step of these steps waits for an event.
pub fn waits_for_any_event(steps: &[Step]) -> bool {
    steps.iter().any(|s| {
        matches!(s, Step::WaitUntil { event: Some(e), .. } if !e.trim().is_empty())
            || s.arms().iter().any(|(_, arm)| waits_for_any_event(arm))
    })
}

fn has_condition_waits(steps: &[Step]) -> bool {
    steps.iter().any(|s| {
        matches!(s, Step::WaitUntil { condition, .. } if !condition.is_empty())
            || s.arms().iter().any(|(_, arm)| has_condition_waits(arm))
    })
}

/// Moves a waiting enrollment on to the `met` path of its wait, due now (the worker runs it),
/// or ends the cycle when nothing follows.
fn wait_met(
    conn: &mut DbConnection,
    wf: &WorkflowCtx,
    e: &Enrollment,
    contact: &ContactSnapshot,
    on: Listeners,
    why: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let Some(waiting) = e.next_step.as_deref() else {
        return Ok(());
    };
    let wait_path = paths::waiting_at(waiting).unwrap_or(waiting).to_string();
    let mut events = vec![event(
        wf,
        Some(e.id),
        e.contact_id,
        now,
        history::ACTION_EXECUTED,
        Some(wait_path.clone()),
        format!("wait until: {why}; took the met path"),
    )];
    let Some(next) = paths::take_arm(&wf.def.steps, &wait_path, "met") else {
        history::record(conn, &events)?;
        finish_cycle(conn, wf, e, contact, on, now)?;
        return Ok(());
    };
    let Some(due) = wf.due_of(e.anchor_date.as_deref(), contact, &next, now) else {
        history::record(conn, &events)?;
        finish_cycle(conn, wf, e, contact, on, now)?;
        return Ok(());
    };
    events.push(super::enroll::scheduled_path_event(wf, e, &next, due, now));
    history::record(conn, &events)?;
    Enrollment::point_at(
        conn,
        EnrollmentId(e.id),
        Some(&next),
        Some(&fmt_instant(due)),
        Some(&fmt_instant(now)),
        None,
    )?;
    crate::notifier::mark();
    Ok(())
}
