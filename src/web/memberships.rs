//! A contact's workflow memberships (contact page).

use anyhow::Context;
use diesel::prelude::*;
use diesel::SqliteConnection;

use crate::db::models::ContactId;
use crate::db::schema::{enrollments, workflows};
use crate::web::contacts::Membership;

pub fn for_contact(conn: &mut SqliteConnection, id: ContactId) -> anyhow::Result<Vec<Membership>> {
    let rows: Vec<(i64, String, String, i32, Option<String>)> = enrollments::table
        .inner_join(workflows::table)
        .filter(enrollments::contact_id.eq(id.0))
        .order(enrollments::id.desc())
        .limit(100)
        .select((
            workflows::id,
            workflows::name,
            enrollments::status,
            enrollments::cycle_year,
            enrollments::next_due_at,
        ))
        .load(conn)
        .context("loading workflow memberships")?;
    Ok(rows
        .into_iter()
        .map(
            |(workflow_id, workflow_name, status, cycle, next)| Membership {
                workflow_id,
                workflow_name,
                status,
                cycle_year: if cycle == 0 {
                    String::new()
                } else {
                    cycle.to_string()
                },
                next: next
                    .filter(|_| true)
                    .map(|n| n.get(..16).unwrap_or(&n).replace('T', " ") + " UTC")
                    .unwrap_or_else(|| "—".into()),
            },
        )
        .collect())
}
