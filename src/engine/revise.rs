//! Editing a live workflow: contacts that have not yet reached a changed step follow the new
//! revision, and their pending times are re-planned under it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::SqliteConnection;

use super::context::{domain_catalog, ContactSnapshot, WorkflowCtx};
use super::enroll::{event, finish_cycle, local_rfc3339};
use crate::clock::fmt_instant;
use crate::db::models::enrollment::{self as enr, Enrollment};
use crate::db::models::history;
use crate::db::models::{ContactId, WorkflowId};
use crate::db::schema::enrollments;
use crate::domain::schedule::{self, StepStatus};
use crate::services::contacts::Catalog;

pub fn replan_pending(
    conn: &mut SqliteConnection,
    id: WorkflowId,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let Some(wf) = WorkflowCtx::load(conn, id)? else {
        return Ok(());
    };
    let pending: Vec<Enrollment> = enrollments::table
        .filter(enrollments::workflow_id.eq(id.0))
        .filter(enrollments::status.eq(enr::ACTIVE))
        .select(Enrollment::as_select())
        .load(conn)?;
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
        let Some(from) = e.next_top_level() else {
            continue;
        };
        let anchor = match wf.anchor_for(&contact) {
            Ok(a) => a.map(|a| schedule::cycle_anchor(&wf.def, a, e.cycle_year)),
            Err(super::context::NoAnchor) => continue,
        };
        let zones = wf.zones_for(&contact);
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
            Some(s) => {
                diesel::update(enrollments::table.find(e.id))
                    .set((
                        enrollments::revision.eq(wf.row.revision),
                        enrollments::next_step.eq(s.index.to_string()),
                        enrollments::next_due_at.eq(fmt_instant(s.due_at)),
                    ))
                    .execute(conn)?;
                if e.next_due_at.as_deref() != Some(fmt_instant(s.due_at).as_str())
                    || e.next_step.as_deref() != Some(s.index.to_string().as_str())
                {
                    history::record(
                        conn,
                        &[event(
                            &wf,
                            Some(e.id),
                            e.contact_id,
                            now,
                            history::RESCHEDULED,
                            Some(s.index.to_string()),
                            format!(
                                "workflow edited (revision {}): {} now due {}",
                                wf.row.revision,
                                s.type_name,
                                local_rfc3339(s.due_at, &wf)
                            ),
                        )],
                    )?;
                }
            }
            None => {
                finish_cycle(conn, &wf, &e, &contact, listeners, now)?;
            }
        }
    }
    crate::worker::notify();
    Ok(())
}
