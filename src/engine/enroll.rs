//! Starting, re-planning, finishing and ending enrollments, each with its history events.

use crate::db::DbConnection;
use chrono::{DateTime, NaiveDate, Utc};

use super::context::{ContactSnapshot, WorkflowCtx};
use super::events::Listeners;
use crate::clock::fmt_instant;
use crate::db::models::enrollment::{self as enr, Enrollment, NewEnrollment};
use crate::db::models::history::{self, NewEvent};
use crate::db::models::{ContactId, EnrollmentId, WorkflowId};
use crate::domain::filter::{self, Catalog};
use crate::domain::schedule::{self, EnrollmentPlan, PlannedStep, StepStatus};

/// Why a contact entered a workflow (shown in history).
#[derive(Debug, Clone, PartialEq)]
pub enum Why {
    Trigger,
    Manual,
    ExistingAtPublish,
    Reenrolled,
    AnnualCycle(i32),
    Action(i64),
    /// An event trigger fired: which event (name, id, time) and whether it is a re-enrollment.
    Event {
        name: String,
        id: i64,
        at: String,
        again: bool,
    },
}

impl Why {
    pub fn detail(&self) -> String {
        match self {
            Why::Trigger => "met the enrollment triggers".into(),
            Why::Manual => "enrolled manually".into(),
            Why::ExistingAtPublish => {
                "met the criteria when the workflow was turned on (existing contact)".into()
            }
            Why::Reenrolled => {
                "re-enrolled: met the triggers again after a chosen property changed".into()
            }
            Why::AnnualCycle(y) => format!("annual cycle {y}"),
            Why::Action(w) => format!("enrolled by an action of workflow {w}"),
            Why::Event {
                name,
                id,
                at,
                again,
            } => format!(
                "{}by event “{name}” (id {id}, at {at})",
                if *again { "re-enrolled " } else { "enrolled " }
            ),
        }
    }
}

#[derive(Debug, Clone)]
pub enum EnrollOutcome {
    Enrolled(Box<Enrollment>),
    /// Not enrolled, with the reason a person can read.
    Refused(String),
}

/// Why an enrollment is complete at once, and its `completed` event: no step's date was
/// still ahead when the contact enrolled (a single enrollment and "enroll existing" alike).
pub const ALL_STEPS_PASSED: &str = "every step's date had passed when the contact enrolled";

pub const SKIPPED_PAST_AT_ENROLLMENT: &str =
    "skipped — its date had passed when the contact enrolled";

/// RFC 3339 in the workflow's zone, e.g. `2021-11-16T09:00:00+01:00`.
pub fn local_rfc3339(t: DateTime<Utc>, wf: &WorkflowCtx) -> String {
    t.with_timezone(&wf.tz).to_rfc3339()
}

pub fn event(
    wf: &WorkflowCtx,
    enrollment: Option<i64>,
    contact: i64,
    at: DateTime<Utc>,
    kind: &'static str,
    step: Option<String>,
    detail: String,
) -> NewEvent {
    NewEvent {
        workflow_id: wf.id(),
        enrollment_id: enrollment,
        contact_id: contact,
        at: fmt_instant(at),
        event: kind,
        step,
        detail,
        revision: wf.row.revision,
    }
}

/// Whether the contact is suppressed for this workflow (filters or lists).
pub fn suppression_reason(
    wf: &WorkflowCtx,
    contact: &ContactSnapshot,
    catalog: &Catalog,
    today: NaiveDate,
) -> Option<String> {
    let s = &wf.def.settings.suppression;
    if let Some(l) = s.list_ids.iter().find(|l| contact.lists.contains(l)) {
        return Some(format!("the contact is in suppression list {l}"));
    }
    if !s.filter_groups.is_empty()
        && filter::matches_groups(&s.filter_groups, contact, catalog, today)
    {
        return Some("the contact meets the suppression criteria".into());
    }
    None
}

/// Whether the contact meets the enrollment criteria: for date-property workflows the
/// built-in "[property] is known" (a trigger on its own) and the filter groups if there are
/// any; for the other start types the filter groups. Never for a manual-only workflow.
pub fn meets_triggers(
    wf: &WorkflowCtx,
    contact: &ContactSnapshot,
    catalog: &Catalog,
    today: NaiveDate,
) -> bool {
    let groups = &wf.def.triggers.filter_groups;
    wf.def.enrolls_on_criteria()
        && wf.anchor_for(contact).is_ok()
        && (groups.is_empty() || filter::matches_groups(groups, contact, catalog, today))
}

/// Enrolls a contact now, or says why not.
pub fn enroll(
    conn: &mut DbConnection,
    wf: &WorkflowCtx,
    contact: &ContactSnapshot,
    on: Listeners,
    why: Why,
    now: DateTime<Utc>,
) -> anyhow::Result<EnrollOutcome> {
    enroll_as(conn, wf, contact, on, why, now, Enrolled::Unknown)
}

/// Whether the caller knows the contact is not enrolled in the workflow now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enrolled {
    /// Not known: read it.
    Unknown,
    /// The caller read the contact's enrollments in this transaction and none of this
    /// workflow is active (a trigger's evaluation), so the check is not read again: one query
    /// per enrollment fewer, a round trip on PostgreSQL.
    NotInThisWorkflow,
}

/// As [`enroll`], with what the caller knows of the contact's enrollment in this workflow.
pub fn enroll_as(
    conn: &mut DbConnection,
    wf: &WorkflowCtx,
    contact: &ContactSnapshot,
    on: Listeners,
    why: Why,
    now: DateTime<Utc>,
    known: Enrolled,
) -> anyhow::Result<EnrollOutcome> {
    let catalog = on.catalog;
    let today = now.with_timezone(&wf.tz).date_naive();
    if let Some(reason) = suppression_reason(wf, contact, catalog, today) {
        return Ok(EnrollOutcome::Refused(format!("suppressed: {reason}")));
    }
    if super::goals::meets_goal(wf, contact, catalog, today) {
        return Ok(EnrollOutcome::Refused(
            "already meets the workflow's goal".into(),
        ));
    }
    if known == Enrolled::Unknown
        && Enrollment::active_for(conn, WorkflowId(wf.id()), ContactId(contact.id))?.is_some()
    {
        return Ok(EnrollOutcome::Refused("already enrolled".into()));
    }
    let Ok(anchor) = wf.anchor_for(contact) else {
        let prop = wf.date_property().unwrap_or("date");
        return Ok(EnrollOutcome::Refused(format!(
            "the contact has no valid date in “{prop}”"
        )));
    };
    let zones = wf.zones_for(contact);
    let plan = match schedule::plan_enrollment(&wf.def, anchor, &zones, now) {
        Ok(p) => p,
        Err(e) => return Ok(EnrollOutcome::Refused(format!("cannot schedule: {e}"))),
    };
    let e = start_cycle(conn, wf, contact, on, &plan, &why, now)?;
    for other in &wf.def.settings.unenroll_from_workflows {
        if *other == wf.id() {
            continue;
        }
        if let Some(other_wf) = WorkflowCtx::load(conn, WorkflowId(*other))? {
            if let Some(active) =
                Enrollment::active_for(conn, WorkflowId(*other), ContactId(contact.id))?
            {
                unenroll(
                    conn,
                    &other_wf,
                    &active,
                    &format!(
                        "enrolled in workflow “{}”, which unenrolls from this one",
                        wf.row.name
                    ),
                    now,
                )?;
            }
        }
    }
    crate::notifier::mark();
    Ok(EnrollOutcome::Enrolled(Box::new(e)))
}

/// Writes a new enrollment record for a plan with its history: enrolled, the skipped steps,
/// and either the first scheduled step or completion.
pub fn start_cycle(
    conn: &mut DbConnection,
    wf: &WorkflowCtx,
    contact: &ContactSnapshot,
    on: Listeners,
    plan: &EnrollmentPlan,
    why: &Why,
    now: DateTime<Utc>,
) -> anyhow::Result<Enrollment> {
    let contact_id = contact.id;
    let skip_reason = SKIPPED_PAST_AT_ENROLLMENT;
    let next = plan
        .next
        .and_then(|i| plan.steps.iter().find(|s| s.index == i));
    let now_s = fmt_instant(now);
    let new = NewEnrollment {
        workflow_id: wf.id(),
        contact_id,
        cycle_year: plan.cycle_year.unwrap_or(0),
        status: if next.is_some() {
            enr::ACTIVE
        } else {
            enr::COMPLETED
        },
        revision: wf.row.revision,
        anchor_date: plan.anchor_date.map(|d| d.format("%Y-%m-%d").to_string()),
        next_step: next.map(|s| s.index.to_string()),
        next_due_at: next.map(|s| fmt_instant(s.due_at)),
        reason: if next.is_some() {
            None
        } else {
            Some(ALL_STEPS_PASSED.into())
        },
        enrolled_at: now_s.clone(),
        ended_at: if next.is_some() { None } else { Some(now_s) },
    };
    let e = Enrollment::insert(conn, &new)?;
    let mut events = vec![event(
        wf,
        Some(e.id),
        contact_id,
        now,
        history::ENROLLED,
        None,
        enrolled_detail(why, plan),
    )];
    events.extend(skipped_events(wf, &e, &plan.steps, skip_reason, now));
    match next {
        Some(s) => events.push(scheduled_event(wf, &e, s, now)),
        None => events.push(event(
            wf,
            Some(e.id),
            contact_id,
            now,
            history::COMPLETED,
            None,
            ALL_STEPS_PASSED.into(),
        )),
    }
    history::record(conn, &events)?;
    // After the history, so enrollments it sets off elsewhere come after this one's.
    super::events::record_and_fire(
        conn,
        on,
        contact,
        super::events::Pending::builtin(
            crate::domain::events::WORKFLOW_ENROLLED,
            serde_json::json!({ "workflow_id": wf.id(), "workflow_name": wf.row.name, "cycle_year": plan.cycle_year }),
            now,
        ),
        super::triggers::Source::Workflow(wf.id()),
        now,
    )?;
    Ok(e)
}

fn enrolled_detail(why: &Why, plan: &EnrollmentPlan) -> String {
    match (plan.anchor_date, plan.cycle_year) {
        (Some(a), Some(y)) => format!("{}; anchor {a}, cycle {y}", why.detail()),
        _ => why.detail(),
    }
}

pub fn skipped_events(
    wf: &WorkflowCtx,
    e: &Enrollment,
    steps: &[PlannedStep],
    reason: &str,
    now: DateTime<Utc>,
) -> Vec<NewEvent> {
    steps
        .iter()
        .filter(|s| s.status == StepStatus::SkippedPast)
        .map(|s| {
            event(
                wf,
                Some(e.id),
                e.contact_id,
                now,
                history::SKIPPED,
                Some(s.index.to_string()),
                format!(
                    "{reason} ({} at {})",
                    s.type_name,
                    local_rfc3339(s.due_at, wf)
                ),
            )
        })
        .collect()
}

/// The `scheduled` event of the step at `path` (any depth), due at `due`.
pub fn scheduled_path_event(
    wf: &WorkflowCtx,
    e: &Enrollment,
    path: &str,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> NewEvent {
    let step_type = crate::domain::paths::step_at(&wf.def.steps, path)
        .map(|s| s.type_name())
        .unwrap_or("step");
    event(
        wf,
        Some(e.id),
        e.contact_id,
        now,
        history::SCHEDULED,
        Some(path.to_string()),
        format!("{step_type} due {}", local_rfc3339(due, wf)),
    )
}

pub fn scheduled_event(
    wf: &WorkflowCtx,
    e: &Enrollment,
    s: &PlannedStep,
    now: DateTime<Utc>,
) -> NewEvent {
    event(
        wf,
        Some(e.id),
        e.contact_id,
        now,
        history::SCHEDULED,
        Some(s.index.to_string()),
        scheduled_detail(wf, s),
    )
}

/// A planned step's `scheduled` detail: its type, due time and, if the execution window or
/// the step order moved it, from when.
pub fn scheduled_detail(wf: &WorkflowCtx, s: &PlannedStep) -> String {
    let moved = if s.due_at != s.nominal_at {
        format!(
            " (moved from {} by the execution window or step order)",
            local_rfc3339(s.nominal_at, wf)
        )
    } else {
        String::new()
    };
    format!("{} due {}{moved}", s.type_name, local_rfc3339(s.due_at, wf))
}

/// Ends an active enrollment early.
pub fn unenroll(
    conn: &mut DbConnection,
    wf: &WorkflowCtx,
    e: &Enrollment,
    reason: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    Enrollment::finish(
        conn,
        EnrollmentId(e.id),
        enr::UNENROLLED,
        reason,
        &fmt_instant(now),
    )?;
    history::record(
        conn,
        &[event(
            wf,
            Some(e.id),
            e.contact_id,
            now,
            history::UNENROLLED,
            None,
            reason.to_string(),
        )],
    )
}

/// The anchor date moved while enrolled: re-plan the remaining steps of this cycle from the new
/// date. Steps already executed never run again; re-planned steps now in the past are skipped.
pub fn replan(
    conn: &mut DbConnection,
    wf: &WorkflowCtx,
    e: &Enrollment,
    contact: &ContactSnapshot,
    on: Listeners,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let Ok(Some(anchor)) = wf.anchor_for(contact) else {
        return Ok(());
    };
    let Some(from) = e.next_top_level() else {
        return Ok(());
    };
    if e.next_step.as_deref().is_some_and(|p| p.contains('/')) {
        // Inside a branch path: the branch's own steps keep their times.
        return Ok(());
    }
    let cycle_year = if wf.def.recur_annually {
        e.cycle_year
    } else {
        chrono::Datelike::year(&anchor)
    };
    let cycle_anchor = schedule::cycle_anchor(&wf.def, anchor, cycle_year);
    let zones = wf.zones_for(contact);
    let steps = schedule::plan_cycle_from(&wf.def, Some(cycle_anchor), &zones, from, None, now);
    let old_due = e.next_due_at.clone().unwrap_or_default();
    let mut events = skipped_events(
        wf,
        e,
        &steps,
        "skipped — its re-planned date had already passed",
        now,
    );
    match steps.iter().find(|s| s.status == StepStatus::Due) {
        Some(s) => {
            Enrollment::replan_cycle(
                conn,
                EnrollmentId(e.id),
                &cycle_anchor.format("%Y-%m-%d").to_string(),
                cycle_year,
                &s.index.to_string(),
                &fmt_instant(s.due_at),
            )?;
            events.push(event(
                wf,
                Some(e.id),
                e.contact_id,
                now,
                history::RESCHEDULED,
                Some(s.index.to_string()),
                format!(
                    "date changed to {anchor}: {} now due {} (was {})",
                    s.type_name,
                    local_rfc3339(s.due_at, wf),
                    old_due
                ),
            ));
            history::record(conn, &events)?;
            crate::notifier::mark();
        }
        None => {
            events.push(event(
                wf,
                Some(e.id),
                e.contact_id,
                now,
                history::RESCHEDULED,
                None,
                format!("date changed to {anchor}: no remaining step is in the future"),
            ));
            history::record(conn, &events)?;
            finish_cycle(conn, wf, e, contact, on, now)?;
        }
    }
    Ok(())
}

/// The cycle's last step has run (or none is left): complete it and, for workflows that repeat
/// annually, schedule next year's cycle after re-checking triggers and suppression.
pub fn finish_cycle(
    conn: &mut DbConnection,
    wf: &WorkflowCtx,
    e: &Enrollment,
    contact: &ContactSnapshot,
    on: Listeners,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Enrollment>> {
    let catalog = on.catalog;
    let now_s = fmt_instant(now);
    Enrollment::finish(
        conn,
        EnrollmentId(e.id),
        enr::COMPLETED,
        "all steps done",
        &now_s,
    )?;
    history::record(
        conn,
        &[event(
            wf,
            Some(e.id),
            e.contact_id,
            now,
            history::COMPLETED,
            None,
            format!("cycle {} complete", e.cycle_year),
        )],
    )?;
    super::events::record_and_fire(
        conn,
        on,
        contact,
        super::events::Pending::builtin(
            crate::domain::events::WORKFLOW_COMPLETED,
            super::events::WorkflowCycle {
                workflow_id: wf.id(),
                workflow_name: &wf.row.name,
                cycle_year: e.cycle_year,
            },
            now,
        ),
        super::triggers::Source::Workflow(wf.id()),
        now,
    )?;
    if !wf.def.recur_annually || !wf.row.is_on() {
        return Ok(None);
    }
    let today = now.with_timezone(&wf.tz).date_naive();
    // A contact enrolled by hand into a workflow that enrolls by criteria is held to them for
    // the next cycle; in a manual-only one the cycles go on until unenrolled.
    if wf.def.enrolls_on_criteria() && !meets_triggers(wf, contact, catalog, today) {
        return Ok(None);
    }
    if suppression_reason(wf, contact, catalog, today).is_some() {
        return Ok(None);
    }
    let Ok(Some(anchor)) = wf.anchor_for(contact) else {
        return Ok(None);
    };
    let zones = wf.zones_for(contact);
    let plan = schedule::plan_next_cycle(&wf.def, anchor, &zones, e.cycle_year, now);
    let year = plan.cycle_year.unwrap_or(e.cycle_year + 1);
    let next = start_cycle(conn, wf, contact, on, &plan, &Why::AnnualCycle(year), now)?;
    Ok(Some(next))
}
