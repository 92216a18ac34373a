//! Trigger evaluation on every contact change (UI, API, CSV import, workflow actions, list
//! membership): enroll on a not-matching → matching transition, re-enroll when enabled, re-plan
//! or unenroll when the date moves or is cleared, unenroll when suppressed or no longer meeting
//! the criteria (if the workflow asks for it).

use std::collections::HashSet;

use crate::db::DbConnection;
use chrono::{DateTime, Utc};

use super::context::{ContactSnapshot, WorkflowCtx};
use super::enroll::{self, event, meets_triggers, suppression_reason, EnrollOutcome, Why};
use super::events::Listeners;
use crate::db::models::enrollment::{Enrollment, Membership};
use crate::db::models::history;
use crate::db::models::{ContactId, EnrollmentId};
use crate::domain::filter::Catalog;

/// What trigger evaluation needs, loaded once per request or per worker batch.
pub struct EngineCtx {
    pub workflows: Vec<WorkflowCtx>,
    pub catalog: Catalog,
}

impl EngineCtx {
    pub fn load(
        conn: &mut DbConnection,
        props: &crate::db::models::property::Catalog,
    ) -> anyhow::Result<EngineCtx> {
        let workflows = WorkflowCtx::active(conn)?;
        let catalog = if workflows.is_empty() {
            Catalog::default()
        } else {
            super::context::domain_catalog(conn, props)?
        };
        Ok(EngineCtx { workflows, catalog })
    }
}

/// Who made the change: a workflow's own actions must not re-trigger that workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    User,
    Workflow(i64),
}

/// A contact before and after one write. `before` is `None` for a contact just created.
pub struct Delta<'a> {
    pub before: Option<&'a ContactSnapshot>,
    pub after: &'a ContactSnapshot,
    /// Names of the properties whose value changed (and `list:<id>` for memberships).
    pub changed: &'a [String],
    /// The contact's enrollments as the caller read them in this transaction, none made or
    /// ended since (a contact batch reads them for all its contacts at once); `None`: read here.
    pub enrollments: Option<&'a [Membership]>,
}

/// Evaluates every workflow that is on against one contact change.
pub fn evaluate(
    conn: &mut DbConnection,
    workflows: &[WorkflowCtx],
    catalog: &Catalog,
    delta: &Delta,
    source: Source,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    if workflows.is_empty() {
        return Ok(());
    }
    let contact = delta.after;
    let relevant: Vec<&WorkflowCtx> = workflows.iter().filter(|wf| may_react(wf, delta)).collect();
    if relevant.is_empty() {
        return Ok(());
    }
    // A contact this very write created (no `before`) has no enrollments yet: not read.
    let mine = match (delta.before, delta.enrollments) {
        (None, _) => Vec::new(),
        (Some(_), Some(known)) => known.to_vec(),
        (Some(_), None) => Enrollment::memberships_of(conn, ContactId(contact.id))?,
    };
    let ever: HashSet<i64> = mine.iter().map(|e| e.workflow_id).collect();
    for wf in relevant {
        let today = now.with_timezone(&wf.tz).date_naive();
        if let Some(active) = mine.iter().find(|e| e.workflow_id == wf.id() && e.active) {
            let on = Listeners { workflows, catalog };
            on_change_while_enrolled(conn, wf, active.id, on, delta, now)?;
            continue;
        }
        if cannot_start(wf, delta, ever.contains(&wf.id())) {
            continue;
        }
        let now_meets = meets_triggers(wf, contact, catalog, today);
        if !now_meets {
            continue;
        }
        let why = if ever.contains(&wf.id()) {
            let re = &wf.def.reenroll;
            let chosen_changed = re.on_properties.is_empty()
                || re
                    .on_properties
                    .iter()
                    .any(|p| delta.changed.iter().any(|c| c == p));
            if !re.enabled || !chosen_changed {
                continue;
            }
            Why::Reenrolled
        } else {
            let was_meeting = delta
                .before
                .is_some_and(|b| meets_triggers(wf, b, catalog, today));
            if was_meeting {
                continue;
            }
            Why::Trigger
        };
        if source == Source::Workflow(wf.id()) {
            history::record(
                conn,
                &[event(
                    wf,
                    None,
                    contact.id,
                    now,
                    history::SKIPPED,
                    None,
                    "skipped to prevent a loop: the change was made by this workflow's own action"
                        .into(),
                )],
            )?;
            continue;
        }
        // `mine` was read at the start and no workflow's enrollment made since is in this one.
        if let EnrollOutcome::Refused(reason) = enroll::enroll_as(
            conn,
            wf,
            contact,
            Listeners { workflows, catalog },
            why,
            now,
            enroll::Enrolled::NotInThisWorkflow,
        )? {
            tracing::debug!(workflow = wf.id(), contact = contact.id, %reason, "not enrolled");
        }
    }
    Ok(())
}

/// Whether this write can change anything for this workflow. A write that changed none of the
/// inputs the workflow reads (`domain::watch`) cannot: meeting the criteria, suppression and
/// the anchor date are the same before and after it, so there is nothing to enroll, re-plan
/// or unenroll. (Those decisions are made when an input changes, and by the periodic check
/// for criteria relative to today.) A new contact has no "before", and re-enrollment without
/// chosen properties lets any write re-enroll a contact who meets the criteria.
fn may_react(wf: &WorkflowCtx, delta: &Delta) -> bool {
    delta.before.is_none() || reenrolls_on_any_write(wf) || wf.watched.any_changed(delta.changed)
}

fn reenrolls_on_any_write(wf: &WorkflowCtx) -> bool {
    let re = &wf.def.reenroll;
    re.enabled && re.on_properties.is_empty()
}

/// Whether this write cannot enroll (or re-enroll) a contact who is not enrolled now: an update
/// that changed no input the workflow reads, unless any write may re-enroll this contact.
fn cannot_start(wf: &WorkflowCtx, delta: &Delta, was_enrolled: bool) -> bool {
    let any_write_reenrolls = was_enrolled && reenrolls_on_any_write(wf);
    delta.before.is_some() && !any_write_reenrolls && !wf.watched.any_changed(delta.changed)
}

fn on_change_while_enrolled(
    conn: &mut DbConnection,
    wf: &WorkflowCtx,
    active: EnrollmentId,
    on: Listeners,
    delta: &Delta,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let catalog = on.catalog;
    let contact = delta.after;
    let today = now.with_timezone(&wf.tz).date_naive();
    let date_moved = wf
        .date_property()
        .is_some_and(|prop| delta.changed.iter().any(|c| c == prop));
    let date_cleared = date_moved && wf.anchor_for(contact).is_err();
    let unenroll_for = if date_cleared {
        Some("date property was cleared".to_string())
    } else if let Some(reason) = suppression_reason(wf, contact, catalog, today) {
        Some(format!("suppressed: {reason}"))
    } else if wf.def.settings.unenroll_when_unmet
        && wf.def.enrolls_on_criteria()
        && !meets_triggers(wf, contact, catalog, today)
    {
        Some("no longer meets the enrollment criteria".to_string())
    } else {
        None
    };
    if !date_cleared
        && unenroll_for.is_none()
        && super::goals::on_change(conn, wf, active, contact, on, now)?
    {
        // Met the goal (left), or moved on from a wait: nothing else to decide.
        return Ok(());
    }
    if !date_moved && unenroll_for.is_none() {
        // Nothing happens to the enrollment: its record is read only when something does.
        return Ok(());
    }
    let Some(record) = Enrollment::find(conn, active)? else {
        return Ok(());
    };
    if date_moved && !date_cleared {
        // A moved date re-plans first, so the history shows the new schedule before any
        // unenrollment the same write causes.
        enroll::replan(conn, wf, &record, contact, on, now)?;
    }
    match unenroll_for {
        Some(reason) => enroll::unenroll(conn, wf, &record, &reason, now),
        None => Ok(()),
    }
}
