//! The header every workflow page shares: name, on/off, enrolled count, enrollment progress,
//! and the tabs (Edit, Settings, Review and publish, Test, History).

use crate::db::DbConnection;

use crate::db::models::workflow::Workflow;
use crate::db::models::WorkflowId;

pub struct WorkflowHeader {
    pub id: i64,
    pub name: String,
    pub start_label: &'static str,
    pub is_on: bool,
    pub revision: i32,
    pub enrolled: String,
    /// "Enrolling existing contacts: 40,000 of 1,000,000" while the publish-time job runs.
    pub progress: Option<String>,
    pub progress_percent: i64,
    /// Unpublished changes wait for Review and update.
    pub draft: bool,
    /// Which tab is current: edit | performance | settings | review | test | history | revisions.
    pub tab: &'static str,
}

impl WorkflowHeader {
    pub fn load(
        conn: &mut DbConnection,
        wf: &Workflow,
        tab: &'static str,
    ) -> anyhow::Result<WorkflowHeader> {
        let enrolled = crate::services::kept_counts::enrolled(conn, WorkflowId(wf.id))?;
        let running = matches!(wf.backfill_state.as_str(), "queued" | "running");
        let progress = running.then(|| {
            format!(
                "Enrolling existing contacts: {} of {} checked",
                crate::web::filters::thousands(wf.backfill_done),
                crate::web::filters::thousands(wf.backfill_total)
            )
        });
        Ok(WorkflowHeader {
            id: wf.id,
            name: wf.name.clone(),
            start_label: wf.start_label(),
            is_on: wf.is_on(),
            revision: wf.revision,
            enrolled: crate::web::filters::thousands(enrolled),
            progress,
            progress_percent: if wf.backfill_total > 0 {
                wf.backfill_done * 100 / wf.backfill_total
            } else {
                0
            },
            draft: crate::db::models::draft::Draft::find(conn, WorkflowId(wf.id))?.is_some(),
            tab,
        })
    }
}
