//! Manual enrollment: the one path the API, the workflow's Test page and a contact's page share.

use crate::db::DbConnection;
use chrono::{DateTime, Utc};

use crate::db::models::enrollment::Enrollment;
use crate::db::models::{ContactId, WorkflowId};
use crate::engine::{self, ContactSnapshot, EnrollOutcome, Why, WorkflowCtx};
use crate::services::contacts::Catalog;

/// Why a manual enrollment did not happen; the sentences are what the API and pages show.
#[derive(Debug, thiserror::Error)]
pub enum ManualEnrollError {
    #[error("no workflow with that id")]
    WorkflowNotFound,
    #[error("no contact with that id")]
    ContactNotFound,
    #[error("the workflow is off; turn it on before enrolling contacts")]
    Off,
    /// Suppressed, already enrolled, no date…
    #[error("not enrolled: {0}")]
    Refused(String),
}

/// Enrolls `contact` in workflow `id` by hand, at `now`, in one transaction.
pub fn manual_enroll(
    conn: &mut DbConnection,
    id: WorkflowId,
    contact: ContactId,
    now: DateTime<Utc>,
) -> anyhow::Result<Result<(Enrollment, WorkflowCtx), ManualEnrollError>> {
    crate::db::write_transaction(conn, |conn| {
        let Some(wf) = WorkflowCtx::load(conn, id)? else {
            return Ok(Err(ManualEnrollError::WorkflowNotFound));
        };
        let props = Catalog::load(conn)?;
        let Some(snapshot) = ContactSnapshot::load(conn, &props, contact)? else {
            return Ok(Err(ManualEnrollError::ContactNotFound));
        };
        if !wf.row.is_on() {
            return Ok(Err(ManualEnrollError::Off));
        }
        let catalog = engine::context::domain_catalog(conn, &props)?;
        // The workflows that are on: this enrollment's `workflow_enrolled` event may set off
        // their event triggers.
        let on = WorkflowCtx::active(conn)?;
        let listeners = engine::events::Listeners {
            workflows: &on,
            catalog: &catalog,
        };
        Ok(
            match engine::enroll(conn, &wf, &snapshot, listeners, Why::Manual, now)? {
                EnrollOutcome::Enrolled(e) => Ok((*e, wf)),
                EnrollOutcome::Refused(reason) => Err(ManualEnrollError::Refused(reason)),
            },
        )
    })
}
