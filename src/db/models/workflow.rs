//! Workflows and their revisions. The definition JSON (DESIGN §7) is stored as text exactly as
//! it was last saved, so what an API client posted is what it reads back.

use crate::db::types::Ts;
use crate::db::DbConnection;
use anyhow::Context;
use diesel::prelude::*;

use super::WorkflowId;
use crate::clock::now_text;
use crate::db::schema::{enrollments, workflow_revisions, workflows};
use crate::domain::definition::Definition;

pub const STATUS_ON: &str = "on";
pub const STATUS_OFF: &str = "off";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = workflows)]
pub struct Workflow {
    pub id: i64,
    pub name: String,
    pub start_type: String,
    pub status: String,
    pub revision: i32,
    pub definition: String,
    pub enroll_existing: bool,
    pub backfill_state: String,
    pub backfill_total: i64,
    pub backfill_done: i64,
    pub published_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = workflow_revisions)]
pub struct Revision {
    pub workflow_id: i64,
    pub revision: i32,
    pub definition: String,
    pub author: String,
    pub created_at: String,
}

/// Local methods
impl Workflow {
    pub fn id(&self) -> WorkflowId {
        WorkflowId(self.id)
    }

    pub fn is_on(&self) -> bool {
        self.status == STATUS_ON
    }

    pub fn definition_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.definition).unwrap_or(serde_json::Value::Null)
    }

    /// The typed definition. Stored definitions were validated when saved, so a failure
    /// here means the file was edited by hand; callers report it rather than panic.
    pub fn parsed(&self) -> anyhow::Result<Definition> {
        serde_json::from_str(&self.definition)
            .with_context(|| format!("workflow {} has an unreadable definition", self.id))
    }

    pub fn start_label(&self) -> &'static str {
        match self.start_type.as_str() {
            "specific_date" => "Specific date",
            "contact_date_property" => "Contact date property",
            _ => "Blank",
        }
    }
}

/// Database methods
impl Workflow {
    pub fn find(conn: &mut DbConnection, id: WorkflowId) -> anyhow::Result<Option<Workflow>> {
        workflows::table
            .find(id.0)
            .select(Workflow::as_select())
            .first(conn)
            .optional()
            .context("loading workflow")
    }

    pub fn all(conn: &mut DbConnection, q: Option<&str>) -> anyhow::Result<Vec<Workflow>> {
        let mut query = workflows::table
            .order(workflows::updated_at.desc())
            .select(Workflow::as_select())
            .into_boxed();
        if let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) {
            query = query.filter(workflows::name.like(format!("%{}%", q.replace(['%', '_'], ""))));
        }
        query.load(conn).context("listing workflows")
    }

    pub fn ids(conn: &mut DbConnection) -> anyhow::Result<Vec<i64>> {
        workflows::table
            .select(workflows::id)
            .load(conn)
            .context("listing workflow ids")
    }

    pub fn active(conn: &mut DbConnection) -> anyhow::Result<Vec<Workflow>> {
        workflows::table
            .filter(workflows::status.eq(STATUS_ON))
            .select(Workflow::as_select())
            .load(conn)
            .context("listing active workflows")
    }

    /// Creates a workflow at revision 1 from an already validated definition.
    pub fn create(
        conn: &mut DbConnection,
        def: &Definition,
        json: &str,
        author: &str,
    ) -> anyhow::Result<Workflow> {
        let now = now_text();
        let wf: Workflow = diesel::insert_into(workflows::table)
            .values((
                workflows::name.eq(def.name.trim()),
                workflows::start_type.eq(def.start.type_name()),
                workflows::status.eq(STATUS_OFF),
                workflows::revision.eq(1),
                workflows::definition.eq(json),
                workflows::created_at.eq(Ts::from(&now)),
                workflows::updated_at.eq(Ts::from(&now)),
            ))
            .returning(crate::db::columns_of::<Workflow>())
            .get_result::<Workflow>(conn)
            .context("creating workflow")?;
        Self::record_revision(conn, wf.id, 1, json, author, &now)?;
        Ok(wf)
    }

    /// Saves a new revision of the definition (every save is kept).
    pub fn save(
        conn: &mut DbConnection,
        id: WorkflowId,
        def: &Definition,
        json: &str,
        author: &str,
    ) -> anyhow::Result<Workflow> {
        let now = now_text();
        let wf: Workflow = diesel::update(workflows::table.find(id.0))
            .set((
                workflows::name.eq(def.name.trim()),
                workflows::start_type.eq(def.start.type_name()),
                workflows::revision.eq(workflows::revision + 1),
                workflows::definition.eq(json),
                workflows::updated_at.eq(Ts::from(&now)),
            ))
            .returning(crate::db::columns_of::<Workflow>())
            .get_result::<Workflow>(conn)
            .context("saving workflow")?;
        Self::record_revision(conn, wf.id, wf.revision, json, author, &now)?;
        Ok(wf)
    }

    fn record_revision(
        conn: &mut DbConnection,
        id: i64,
        revision: i32,
        json: &str,
        author: &str,
        now: &str,
    ) -> anyhow::Result<()> {
        diesel::insert_into(workflow_revisions::table)
            .values((
                workflow_revisions::workflow_id.eq(id),
                workflow_revisions::revision.eq(revision),
                workflow_revisions::definition.eq(json),
                workflow_revisions::author.eq(author),
                workflow_revisions::created_at.eq(Ts::from(now)),
            ))
            .execute(conn)
            .context("recording revision")?;
        Ok(())
    }

    pub fn revisions(conn: &mut DbConnection, id: WorkflowId) -> anyhow::Result<Vec<Revision>> {
        workflow_revisions::table
            .filter(workflow_revisions::workflow_id.eq(id.0))
            .order(workflow_revisions::revision.desc())
            .select(Revision::as_select())
            .load(conn)
            .context("listing revisions")
    }

    pub fn revision(
        conn: &mut DbConnection,
        id: WorkflowId,
        revision: i32,
    ) -> anyhow::Result<Option<Revision>> {
        workflow_revisions::table
            .find((id.0, revision))
            .select(Revision::as_select())
            .first(conn)
            .optional()
            .context("loading revision")
    }

    pub fn set_status(
        conn: &mut DbConnection,
        id: WorkflowId,
        status: &str,
        enroll_existing: bool,
    ) -> anyhow::Result<()> {
        let now = now_text();
        if status == STATUS_ON {
            diesel::update(workflows::table.find(id.0))
                .set((
                    workflows::status.eq(status),
                    workflows::enroll_existing.eq(enroll_existing),
                    workflows::published_at.eq(Ts::from(&now)),
                    workflows::updated_at.eq(Ts::from(&now)),
                ))
                .execute(conn)
        } else {
            diesel::update(workflows::table.find(id.0))
                .set((
                    workflows::status.eq(status),
                    workflows::updated_at.eq(Ts::from(&now)),
                ))
                .execute(conn)
        }
        .context("changing workflow status")?;
        Ok(())
    }

    pub fn set_backfill(
        conn: &mut DbConnection,
        id: WorkflowId,
        state: &str,
        done: i64,
        total: i64,
    ) -> anyhow::Result<()> {
        diesel::update(workflows::table.find(id.0))
            .set((
                workflows::backfill_state.eq(state),
                workflows::backfill_done.eq(done),
                workflows::backfill_total.eq(total),
            ))
            .execute(conn)
            .context("recording enrollment progress")?;
        Ok(())
    }

    pub fn delete(conn: &mut DbConnection, id: WorkflowId) -> anyhow::Result<bool> {
        let n = diesel::delete(workflows::table.find(id.0))
            .execute(conn)
            .context("deleting workflow")?;
        Ok(n > 0)
    }

    /// Active enrollments per workflow, for the list page (one grouped query).
    pub fn enrolled_counts(conn: &mut DbConnection) -> anyhow::Result<Vec<(i64, i64)>> {
        enrollments::table
            .filter(enrollments::status.eq(crate::db::queries::StatusActive))
            .group_by(enrollments::workflow_id)
            .select((enrollments::workflow_id, diesel::dsl::count_star()))
            .load(conn)
            .context("counting enrollments")
    }
}
