//! Editing a workflow that is on (issue 13): the editor's and settings' saves wait as
//! unpublished changes, Review shows what they would do to the contacts enrolled now, and
//! "Update" saves them as a revision (re-planning pending steps). An off workflow is edited
//! directly, a revision per save. The API's `PUT` is the integration's explicit save and
//! always makes a revision (DESIGN §7); unpublished changes made in the browser stay as they are.

use crate::db::DbConnection;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::workflows::{check, save_in, WorkflowError};
use crate::db::models::draft::Draft;
use crate::db::models::workflow::Workflow;
use crate::db::models::WorkflowId;
use crate::domain::definition::Definition;

/// Where a save from the pages went.
#[derive(Debug)]
pub enum Saved {
    /// The workflow is off: a new revision.
    Revision(Workflow),
    /// The workflow is on: unpublished changes, the live revision unchanged.
    Draft(Workflow),
}

impl Saved {
    pub fn workflow(&self) -> &Workflow {
        match self {
            Saved::Revision(w) | Saved::Draft(w) => w,
        }
    }
}

/// A save from the editor or the settings page.
pub fn save_edit(
    conn: &mut DbConnection,
    id: WorkflowId,
    def: &Definition,
    author: &str,
    now: DateTime<Utc>,
) -> Result<Saved, WorkflowError> {
    let json = serde_json::to_value(def).map_err(anyhow::Error::from)?;
    crate::db::write_transaction(conn, |conn| {
        let Some(wf) = Workflow::find(conn, id)? else {
            return Err(WorkflowError::NotFound);
        };
        check(conn, &json)?;
        if wf.is_on() {
            Draft::put(conn, id, &json.to_string(), wf.revision, author)?;
            return Ok(Saved::Draft(wf));
        }
        Draft::delete(conn, id)?;
        Ok(Saved::Revision(save_in(conn, id, &json, author, now)?))
    })
}

/// A restore from the Revisions page: like [`save_edit`], so a live workflow's restore is
/// reviewed before it reaches anyone.
pub fn restore_edit(
    conn: &mut DbConnection,
    id: WorkflowId,
    revision: i32,
    author: &str,
    now: DateTime<Utc>,
) -> Result<Saved, WorkflowError> {
    let Some(rev) = Workflow::revision(conn, id, revision)? else {
        return Err(WorkflowError::NotFound);
    };
    let json: Value = serde_json::from_str(&rev.definition).map_err(anyhow::Error::from)?;
    let def = crate::domain::validate::parse_definition(&json)
        .map_err(|e| WorkflowError::Invalid(vec![e]))?;
    save_edit(
        conn,
        id,
        &def,
        &format!("{author} (restored revision {revision})"),
        now,
    )
}

/// The row as the pages edit it: its definition (and name) replaced by the unpublished
/// changes when there are some.
pub fn working(conn: &mut DbConnection, mut wf: Workflow) -> anyhow::Result<Workflow> {
    if let Some(d) = Draft::find(conn, wf.id())? {
        if let Ok(def) = d.parsed() {
            wf.name = def.name.trim().to_string();
        }
        wf.definition = d.definition;
    }
    Ok(wf)
}

/// Saves the unpublished changes as a revision. `Ok(None)` when there are none.
pub fn apply(
    conn: &mut DbConnection,
    id: WorkflowId,
    author: &str,
    now: DateTime<Utc>,
) -> Result<Option<Workflow>, WorkflowError> {
    crate::db::write_transaction(conn, |conn| {
        let Some(d) = Draft::find(conn, id)? else {
            return Ok(None);
        };
        let json: Value = serde_json::from_str(&d.definition).map_err(anyhow::Error::from)?;
        let wf = save_in(conn, id, &json, author, now)?;
        Draft::delete(conn, id)?;
        Ok(Some(wf))
    })
}

/// Inside the caller's transaction: saves the changes as a revision when they are still valid.
pub(crate) fn apply_if_valid(
    conn: &mut DbConnection,
    id: WorkflowId,
    now: DateTime<Utc>,
) -> Result<Option<Workflow>, WorkflowError> {
    let Some(d) = Draft::find(conn, id)? else {
        return Ok(None);
    };
    let json: Value = serde_json::from_str(&d.definition).map_err(anyhow::Error::from)?;
    match save_in(conn, id, &json, &d.author, now) {
        Ok(wf) => {
            Draft::delete(conn, id)?;
            Ok(Some(wf))
        }
        Err(WorkflowError::Invalid(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Drops the unpublished changes; `true` when there were some.
pub fn discard(conn: &mut DbConnection, id: WorkflowId) -> anyhow::Result<bool> {
    Draft::delete(conn, id)
}
