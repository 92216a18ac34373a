//! A contact's workflow memberships and recent workflow activity (contact page).

use crate::db::DbConnection;

use crate::clock::parse_instant;
use crate::db::models::enrollment::Enrollment;
use crate::db::models::workflow::Workflow;
use crate::db::models::ContactId;
use crate::engine::context::WorkflowCtx;
use crate::web::contacts::Membership;

pub fn for_contact(conn: &mut DbConnection, id: ContactId) -> anyhow::Result<Vec<Membership>> {
    let rows: Vec<(Workflow, String, i32, Option<String>)> =
        Enrollment::with_workflows_of_contact(conn, id, 100)?
            .into_iter()
            .map(|(w, e)| (w, e.status, e.cycle_year, e.next_due_at))
            .collect();
    let account_tz = crate::db::models::app_setting::account_time_zone(conn)?;
    Ok(rows
        .into_iter()
        .map(|(workflow, status, cycle, next)| {
            // The next step's time in the workflow's zone (its own, else the account's), as
            // the workflow's pages show times; stored instants are UTC.
            let tz = WorkflowCtx::new(workflow.clone(), account_tz)
                .map(|w| w.tz)
                .unwrap_or(account_tz);
            Membership {
                workflow_id: workflow.id,
                workflow_name: workflow.name,
                status,
                cycle_year: if cycle == 0 {
                    String::new()
                } else {
                    cycle.to_string()
                },
                next: next
                    .as_deref()
                    .and_then(parse_instant)
                    .map(|at| crate::web::filters::when_in(at, tz))
                    .unwrap_or_else(|| "—".into()),
            }
        })
        .collect())
}

/// One of a contact's recent workflow history events, in words (contact page).
pub struct ActivityRow {
    pub workflow_id: i64,
    pub workflow_name: String,
    /// "Tue 22 Dec 2026 09:00 (Europe/Oslo)": in the workflow's zone.
    pub at: String,
    pub event: String,
    pub event_label: &'static str,
    pub sentence: String,
}

/// The contact's newest workflow history events across the workflows it was enrolled in,
/// each in its workflow's zone and words.
pub fn recent_activity(
    conn: &mut DbConnection,
    id: ContactId,
    limit: i64,
) -> anyhow::Result<Vec<ActivityRow>> {
    use crate::db::models::history_stats;
    use crate::web::workflows::{describe::Names, sentences};
    let mut workflow_ids = Enrollment::workflow_ids_of_contact(conn, id)?;
    workflow_ids.truncate(100);
    let events = history_stats::recent_for_contact(conn, &workflow_ids, id.0, limit)?;
    if events.is_empty() {
        return Ok(vec![]);
    }
    let names = Names::load(conn)?;
    let mut contexts: std::collections::HashMap<i64, WorkflowCtx> = Default::default();
    let mut out = Vec::new();
    for e in events {
        if let std::collections::hash_map::Entry::Vacant(slot) = contexts.entry(e.workflow_id) {
            match WorkflowCtx::load(conn, crate::db::models::WorkflowId(e.workflow_id))? {
                Some(w) => {
                    slot.insert(w);
                }
                None => continue,
            }
        }
        let Some(wf) = contexts.get(&e.workflow_id) else {
            continue;
        };
        // The revision the event was written under (the current one, else as stored).
        let def = if e.revision == wf.row.revision {
            Some((*wf.def).clone())
        } else {
            Workflow::revision(
                conn,
                crate::db::models::WorkflowId(e.workflow_id),
                e.revision,
            )?
            .and_then(|r| serde_json::from_str(&r.definition).ok())
        };
        let words = sentences::Ctx {
            def: def.as_ref(),
            names: &names,
            tz: wf.tz,
        };
        out.push(ActivityRow {
            workflow_id: e.workflow_id,
            workflow_name: wf.row.name.clone(),
            at: parse_instant(&e.at)
                .map(|t| crate::web::filters::when_in(t, wf.tz))
                .unwrap_or_else(|| e.at.clone()),
            event_label: sentences::event_label(&e.event),
            sentence: words.sentence(&e.event, e.step.as_deref(), &e.detail),
            event: e.event,
        });
    }
    Ok(out)
}
