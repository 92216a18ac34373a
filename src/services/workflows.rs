//! Workflow lifecycle: create, save (a new revision each time), restore, clone, publish, turn
//! off, delete. The API and the editor both come through here.

use crate::db::DbConnection;
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::db::models::workflow::{Workflow, STATUS_OFF, STATUS_ON};
use crate::db::models::WorkflowId;
use crate::domain::definition::Definition;
use crate::domain::errors::FieldError;
use crate::domain::filter::Catalog as DomainCatalog;
use crate::domain::validate::{self, Problem};
use crate::engine::context::domain_catalog;
use crate::services::contacts::Catalog;

#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error("invalid definition")]
    Invalid(Vec<FieldError>),
    #[error("the workflow has problems to fix before it can be turned on")]
    Problems(Vec<Problem>),
    #[error("workflow not found")]
    NotFound,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<diesel::result::Error> for WorkflowError {
    fn from(e: diesel::result::Error) -> Self {
        WorkflowError::Internal(e.into())
    }
}

pub fn catalog(conn: &mut DbConnection) -> anyhow::Result<DomainCatalog> {
    let props = Catalog::load(conn)?;
    domain_catalog(conn, &props)
}

/// Parses and validates a JSON definition; all errors, first one first.
pub fn check(conn: &mut DbConnection, json: &Value) -> Result<Definition, WorkflowError> {
    let def = validate::parse_definition(json).map_err(|e| WorkflowError::Invalid(vec![e]))?;
    check_typed(conn, &def)?;
    Ok(def)
}

pub fn check_typed(conn: &mut DbConnection, def: &Definition) -> Result<(), WorkflowError> {
    let errors = validate::validate(def, &catalog(conn)?);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(WorkflowError::Invalid(errors))
    }
}

/// Creates a workflow from API JSON, stored exactly as posted (it round-trips unchanged).
pub fn create(
    conn: &mut DbConnection,
    json: &Value,
    author: &str,
) -> Result<Workflow, WorkflowError> {
    crate::db::write_transaction(conn, |conn| {
        let def = check(conn, json)?;
        Ok(Workflow::create(conn, &def, &json.to_string(), author)?)
    })
}

/// Creates a workflow from the editor's typed definition.
pub fn create_typed(
    conn: &mut DbConnection,
    def: &Definition,
    author: &str,
) -> Result<Workflow, WorkflowError> {
    let json = serde_json::to_value(def).map_err(anyhow::Error::from)?;
    create(conn, &json, author)
}

/// Saves a new revision from API JSON. A live workflow's pending steps are re-planned.
pub fn save(
    conn: &mut DbConnection,
    id: WorkflowId,
    json: &Value,
    author: &str,
    now: DateTime<Utc>,
) -> Result<Workflow, WorkflowError> {
    crate::db::write_transaction(conn, |conn| save_in(conn, id, json, author, now))
}

/// [`save`] inside the caller's transaction.
pub(crate) fn save_in(
    conn: &mut DbConnection,
    id: WorkflowId,
    json: &Value,
    author: &str,
    now: DateTime<Utc>,
) -> Result<Workflow, WorkflowError> {
    if Workflow::find(conn, id)?.is_none() {
        return Err(WorkflowError::NotFound);
    }
    let def = check(conn, json)?;
    let wf = Workflow::save(conn, id, &def, &json.to_string(), author)?;
    if wf.is_on() {
        crate::engine::revise::replan_pending(conn, id, now)?;
    }
    Ok(wf)
}

pub fn save_typed(
    conn: &mut DbConnection,
    id: WorkflowId,
    def: &Definition,
    author: &str,
    now: DateTime<Utc>,
) -> Result<Workflow, WorkflowError> {
    let json = serde_json::to_value(def).map_err(anyhow::Error::from)?;
    save(conn, id, &json, author, now)
}

/// Makes an old revision the current one (as a new revision, so nothing is lost).
pub fn restore(
    conn: &mut DbConnection,
    id: WorkflowId,
    revision: i32,
    author: &str,
    now: DateTime<Utc>,
) -> Result<Workflow, WorkflowError> {
    let Some(rev) = Workflow::revision(conn, id, revision)? else {
        return Err(WorkflowError::NotFound);
    };
    let json: Value = serde_json::from_str(&rev.definition).map_err(anyhow::Error::from)?;
    save(
        conn,
        id,
        &json,
        &format!("{author} (restored revision {revision})"),
        now,
    )
}

/// A copy, off, named "… (copy)".
pub fn clone(
    conn: &mut DbConnection,
    id: WorkflowId,
    author: &str,
) -> Result<Workflow, WorkflowError> {
    let Some(wf) = Workflow::find(conn, id)? else {
        return Err(WorkflowError::NotFound);
    };
    let mut json = wf.definition_json();
    let name = format!("{} (copy)", wf.name);
    if let Some(obj) = json.as_object_mut() {
        obj.insert("name".into(), Value::String(name));
    }
    crate::db::write_transaction(conn, |conn| {
        let def = validate::parse_definition(&json).map_err(|e| WorkflowError::Invalid(vec![e]))?;
        Ok(Workflow::create(conn, &def, &json.to_string(), author)?)
    })
}

/// What blocks turning this workflow on right now.
pub fn problems(conn: &mut DbConnection, wf: &Workflow) -> anyhow::Result<Vec<Problem>> {
    let catalog = catalog(conn)?;
    // A workflow with unpublished changes is judged by them: they are what Review publishes.
    let wf = crate::services::drafts::working(conn, wf.clone())?;
    Ok(match wf.parsed() {
        Ok(def) => validate::publish_problems(&def, &catalog),
        Err(e) => vec![Problem {
            field: "definition".into(),
            message: crate::telemetry::chain(&e),
            card: "steps".into(),
        }],
    })
}

/// Turns a workflow on. With `enroll_existing`, contacts meeting the criteria now are enrolled
/// (see `engine::backfill`); the caller runs that after this commits.
pub fn publish(
    conn: &mut DbConnection,
    id: WorkflowId,
    enroll_existing: bool,
) -> Result<Workflow, WorkflowError> {
    crate::db::write_transaction(conn, |conn| {
        let Some(wf) = Workflow::find(conn, id)? else {
            return Err(WorkflowError::NotFound);
        };
        let problems = problems(conn, &wf)?;
        if !problems.is_empty() {
            return Err(WorkflowError::Problems(problems));
        }
        Workflow::set_status(conn, id, STATUS_ON, enroll_existing)?;
        if enroll_existing {
            Workflow::set_backfill(conn, id, "queued", 0, 0)?;
        }
        Workflow::find(conn, id)?.ok_or(WorkflowError::NotFound)
    })
}

/// Turns a workflow off. Unpublished changes waiting for "Review and update" become a revision
/// (an off workflow is edited directly); if they no longer pass validation they stay unpublished.
pub fn turn_off(conn: &mut DbConnection, id: WorkflowId) -> Result<Workflow, WorkflowError> {
    crate::db::write_transaction(conn, |conn| {
        if Workflow::find(conn, id)?.is_none() {
            return Err(WorkflowError::NotFound);
        }
        Workflow::set_status(conn, id, STATUS_OFF, false)?;
        crate::services::drafts::apply_if_valid(conn, id, Utc::now())?;
        Workflow::find(conn, id)?.ok_or(WorkflowError::NotFound)
    })
}

pub fn delete(conn: &mut DbConnection, id: WorkflowId) -> Result<(), WorkflowError> {
    if Workflow::delete(conn, id)? {
        Ok(())
    } else {
        Err(WorkflowError::NotFound)
    }
}
