//! Editing a live workflow: contacts that have not yet reached a changed step follow the new
//! revision, and their pending times are re-planned under it. [`impact`] runs the same
//! re-planning without writing, so Review can say what saving would do before it is saved.

use crate::db::DbConnection;
use chrono::{DateTime, Utc};

use super::context::{domain_catalog, ContactSnapshot, WorkflowCtx};
use super::enroll::{event, finish_cycle, local_rfc3339};
use crate::clock::fmt_instant;
use crate::db::models::enrollment::Enrollment;
use crate::db::models::history;
use crate::db::models::property::Catalog;
use crate::db::models::{ContactId, EnrollmentId, WorkflowId};
use crate::domain::schedule::{self, StepStatus};

/// What re-planning does to one enrollment.
enum Replan {
    /// Its next step (index, type, due time) under the revision, and whether that differs from
    /// what it was waiting for.
    Next {
        index: usize,
        type_name: &'static str,
        due_at: DateTime<Utc>,
        changed: bool,
    },
    /// No step is left for it: the cycle ends.
    Finishes,
    /// Nothing to re-plan (no next step, or its date is gone: the engine handles those).
    Untouched,
}

fn replan_one(
    wf: &WorkflowCtx,
    e: &Enrollment,
    contact: &ContactSnapshot,
    now: DateTime<Utc>,
) -> Replan {
    let Some(from) = e.next_top_level() else {
        return Replan::Untouched;
    };
    let anchor = match wf.anchor_for(contact) {
        Ok(a) => a.map(|a| schedule::cycle_anchor(&wf.def, a, e.cycle_year)),
        Err(super::context::NoAnchor) => return Replan::Untouched,
    };
    let zones = wf.zones_for(contact);
    let prev = e
        .last_run_at
        .as_deref()
        .and_then(crate::clock::parse_instant);
    let steps = schedule::plan_cycle_from(
        &wf.def,
        anchor,
        &zones,
        from,
        prev,
        prev.unwrap_or(now).min(now),
    );
    match steps
        .iter()
        .find(|s| s.status == StepStatus::Due)
        .or(steps.first())
    {
        Some(s) => Replan::Next {
            index: s.index,
            type_name: s.type_name,
            due_at: s.due_at,
            changed: e.next_due_at.as_deref() != Some(fmt_instant(s.due_at).as_str())
                || e.next_step.as_deref() != Some(s.index.to_string().as_str()),
        },
        None => Replan::Finishes,
    }
}

fn active_enrollments(
    conn: &mut DbConnection,
    id: WorkflowId,
    limit: i64,
) -> anyhow::Result<Vec<Enrollment>> {
    Enrollment::active_of_workflow(conn, id, limit)
}

/// The impact preview checks at most this many enrollments, so Review stays fast on a
/// workflow with a million contacts enrolled; the page says when it counted a sample.
pub const IMPACT_SAMPLE: i64 = 5_000;

pub fn replan_pending(
    conn: &mut DbConnection,
    id: WorkflowId,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let Some(wf) = WorkflowCtx::load(conn, id)? else {
        return Ok(());
    };
    let pending = active_enrollments(conn, id, i64::MAX)?;
    if pending.is_empty() {
        return Ok(());
    }
    let props = Catalog::load(conn)?;
    let catalog = domain_catalog(conn, &props)?;
    let on = WorkflowCtx::active(conn)?;
    let listeners = super::events::Listeners {
        workflows: &on,
        catalog: &catalog,
    };
    for e in pending {
        let Some(contact) = ContactSnapshot::load(conn, &props, ContactId(e.contact_id))? else {
            continue;
        };
        match replan_one(&wf, &e, &contact, now) {
            Replan::Next {
                index,
                type_name,
                due_at,
                changed,
            } => {
                Enrollment::follow_revision(
                    conn,
                    EnrollmentId(e.id),
                    wf.row.revision,
                    &index.to_string(),
                    &fmt_instant(due_at),
                )?;
                if changed {
                    history::record(
                        conn,
                        &[event(
                            &wf,
                            Some(e.id),
                            e.contact_id,
                            now,
                            history::RESCHEDULED,
                            Some(index.to_string()),
                            format!(
                                "workflow edited (revision {}): {} now due {}",
                                wf.row.revision,
                                type_name,
                                local_rfc3339(due_at, &wf)
                            ),
                        )],
                    )?;
                }
            }
            Replan::Finishes => {
                finish_cycle(conn, &wf, &e, &contact, listeners, now)?;
            }
            Replan::Untouched => {}
        }
    }
    crate::notifier::mark();
    Ok(())
}

/// What saving an edit would do to the contacts enrolled now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Impact {
    /// Active enrollments.
    pub enrolled: i64,
    /// How many of them were checked (all, up to [`IMPACT_SAMPLE`]).
    pub checked: i64,
    /// Their next step moves to another time or becomes another step.
    pub replanned: i64,
    /// No step is left for them: their cycle completes at once.
    pub finishing: i64,
}

impl Impact {
    pub fn unchanged(&self) -> i64 {
        self.checked - self.replanned - self.finishing
    }

    /// Whether only a sample was checked.
    pub fn sampled(&self) -> bool {
        self.checked < self.enrolled
    }
}

/// [`replan_pending`] as a dry run: `edited` is the workflow as it would be after the save
/// (its `row.definition` the edited one). Reads only.
pub fn impact(
    conn: &mut DbConnection,
    edited: &WorkflowCtx,
    now: DateTime<Utc>,
) -> anyhow::Result<Impact> {
    let id = WorkflowId(edited.id());
    let pending = active_enrollments(conn, id, IMPACT_SAMPLE)?;
    let mut out = Impact {
        enrolled: Enrollment::count_active(conn, id)?,
        checked: pending.len() as i64,
        ..Impact::default()
    };
    if pending.is_empty() {
        return Ok(out);
    }
    let props = Catalog::load(conn)?;
    for e in pending {
        let Some(contact) = ContactSnapshot::load(conn, &props, ContactId(e.contact_id))? else {
            continue;
        };
        match replan_one(edited, &e, &contact, now) {
            Replan::Next { changed: true, .. } => out.replanned += 1,
            Replan::Finishes => out.finishing += 1,
            _ => {}
        }
    }
    Ok(out)
}
