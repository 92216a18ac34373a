//! Unpublished changes to a live workflow. A workflow that is on is edited as a draft — one per
//! workflow, replaced by every save — so the user sees the impact on enrolled contacts before
//! the change reaches them ("Review and update" turns it into a revision).

use crate::db::types::Ts;
use crate::db::DbConnection;
use anyhow::Context;
use diesel::prelude::*;

use super::WorkflowId;
use crate::clock::now_text;
use crate::db::schema::workflow_drafts;
use crate::domain::definition::Definition;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = workflow_drafts)]
pub struct Draft {
    pub workflow_id: i64,
    pub definition: String,
    /// The revision the changes were made on.
    pub base_revision: i32,
    pub author: String,
    pub updated_at: String,
}

/// Local methods
impl Draft {
    /// The typed definition (validated when saved).
    pub fn parsed(&self) -> anyhow::Result<Definition> {
        serde_json::from_str(&self.definition).with_context(|| {
            format!(
                "the unpublished changes of workflow {} are unreadable",
                self.workflow_id
            )
        })
    }
}

/// Database methods
impl Draft {
    pub fn find(conn: &mut DbConnection, id: WorkflowId) -> anyhow::Result<Option<Draft>> {
        workflow_drafts::table
            .find(id.0)
            .select(Draft::as_select())
            .first(conn)
            .optional()
            .context("loading unpublished changes")
    }

    /// Stores the changes, replacing earlier ones.
    pub fn put(
        conn: &mut DbConnection,
        id: WorkflowId,
        json: &str,
        base_revision: i32,
        author: &str,
    ) -> anyhow::Result<()> {
        let now = now_text();
        crate::on_backend!(conn, |c| diesel::insert_into(workflow_drafts::table)
            .values((
                workflow_drafts::workflow_id.eq(id.0),
                workflow_drafts::definition.eq(json),
                workflow_drafts::base_revision.eq(base_revision),
                workflow_drafts::author.eq(author),
                workflow_drafts::updated_at.eq(Ts::from(&now)),
            ))
            .on_conflict(workflow_drafts::workflow_id)
            .do_update()
            .set((
                workflow_drafts::definition.eq(json),
                workflow_drafts::base_revision.eq(base_revision),
                workflow_drafts::author.eq(author),
                workflow_drafts::updated_at.eq(Ts::from(&now)),
            ))
            .execute(c))
        .context("saving unpublished changes")?;
        Ok(())
    }

    /// Drops the changes; `true` when there were some.
    pub fn delete(conn: &mut DbConnection, id: WorkflowId) -> anyhow::Result<bool> {
        let n = diesel::delete(workflow_drafts::table.find(id.0))
            .execute(conn)
            .context("discarding unpublished changes")?;
        Ok(n > 0)
    }
}
