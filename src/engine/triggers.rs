//! Trigger evaluation on every contact change (UI, API, CSV import, workflow actions, list
//! membership): enroll on a not-matching → matching transition, re-enroll when enabled, re-plan
//! or unenroll when the date moves or is cleared, unenroll when suppressed or no longer meeting
//! the criteria (if the workflow asks for it).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use diesel::SqliteConnection;

use super::context::{ContactSnapshot, WorkflowCtx};
use super::enroll::{self, event, meets_triggers, suppression_reason, EnrollOutcome, Why};
use crate::db::models::enrollment::Enrollment;
use crate::db::models::history;
use crate::db::models::ContactId;
use crate::domain::filter::{Catalog, ContactView};

/// What trigger evaluation needs, loaded once per request or per worker batch.
pub struct EngineCtx {
    pub workflows: Vec<WorkflowCtx>,
    pub catalog: Catalog,
}

impl EngineCtx {
    pub fn load(
        conn: &mut SqliteConnection,
        props: &crate::services::contacts::Catalog,
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
}

/// Evaluates every workflow that is on against one contact change.
pub fn evaluate(
    conn: &mut SqliteConnection,
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
    let mine = Enrollment::of_contact(conn, ContactId(contact.id))?;
    let ever: HashSet<i64> = mine.iter().map(|e| e.workflow_id).collect();
    for wf in workflows {
        let today = now.with_timezone(&wf.tz).date_naive();
        if let Some(active) = mine
            .iter()
            .find(|e| e.workflow_id == wf.id() && e.is_active())
        {
            on_change_while_enrolled(conn, wf, active, catalog, delta, now)?;
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
        if let EnrollOutcome::Refused(reason) =
            enroll::enroll(conn, wf, contact, catalog, why, now)?
        {
            tracing::debug!(workflow = wf.id(), contact = contact.id, %reason, "not enrolled");
        }
    }
    Ok(())
}

fn on_change_while_enrolled(
    conn: &mut SqliteConnection,
    wf: &WorkflowCtx,
    active: &Enrollment,
    catalog: &Catalog,
    delta: &Delta,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let contact = delta.after;
    let today = now.with_timezone(&wf.tz).date_naive();
    if let Some(prop) = wf.date_property() {
        if delta.changed.iter().any(|c| c == prop) {
            if contact.value(prop).is_none() || wf.anchor_for(contact).is_err() {
                return enroll::unenroll(conn, wf, active, "date property was cleared", now);
            }
            enroll::replan(conn, wf, active, contact, catalog, now)?;
        }
    }
    if let Some(reason) = suppression_reason(wf, contact, catalog, today) {
        return enroll::unenroll(conn, wf, active, &format!("suppressed: {reason}"), now);
    }
    if wf.def.settings.unenroll_when_unmet
        && !wf.def.triggers.filter_groups.is_empty()
        && !meets_triggers(wf, contact, catalog, today)
    {
        return enroll::unenroll(
            conn,
            wf,
            active,
            "no longer meets the enrollment criteria",
            now,
        );
    }
    Ok(())
}
