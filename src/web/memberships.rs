//! A contact's workflow memberships (contact page).

use crate::db::DbConnection;
use anyhow::Context;
use diesel::prelude::*;

use crate::clock::parse_instant;
use crate::db::models::workflow::Workflow;
use crate::db::models::ContactId;
use crate::db::schema::{enrollments, workflows};
use crate::engine::context::WorkflowCtx;
use crate::web::contacts::Membership;

pub fn for_contact(conn: &mut DbConnection, id: ContactId) -> anyhow::Result<Vec<Membership>> {
    let rows: Vec<(Workflow, String, i32, Option<String>)> = enrollments::table
        .inner_join(workflows::table)
        .filter(enrollments::contact_id.eq(id.0))
        .order(enrollments::id.desc())
        .limit(100)
        .select((
            Workflow::as_select(),
            enrollments::status,
            enrollments::cycle_year,
            enrollments::next_due_at,
        ))
        .load(conn)
        .context("loading workflow memberships")?;
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
                    .map(|at| {
                        format!(
                            "{} ({})",
                            at.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
                            tz.name()
                        )
                    })
                    .unwrap_or_else(|| "—".into()),
            }
        })
        .collect())
}
