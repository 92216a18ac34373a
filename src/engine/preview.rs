//! The timeline a contact would get if enrolled at a given moment: the API's preview and the
//! editor's Test panel, computed by the same function the engine enrolls with.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use diesel::SqliteConnection;
use serde_json::{json, Value};

use super::context::{ContactSnapshot, WorkflowCtx};
use crate::db::models::{ContactId, WorkflowId};
use crate::domain::schedule::{self, PlannedStep};
use crate::services::contacts::Catalog;

pub struct Timeline {
    pub contact_id: i64,
    pub contact_name: String,
    pub anchor_date: Option<NaiveDate>,
    pub cycle_year: Option<i32>,
    pub steps: Vec<PlannedStep>,
    pub tz: Tz,
    /// Why there is no timeline (e.g. the contact has no date), for people.
    pub note: Option<String>,
}

pub enum PreviewResult {
    NoWorkflow,
    NoContact,
    Invalid(String, String),
    Timeline(Timeline),
}

impl Timeline {
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "contact_id": self.contact_id,
            "anchor_date": self.anchor_date.map(|d| d.format("%Y-%m-%d").to_string()),
            "cycle_year": self.cycle_year,
            "time_zone": self.tz.name(),
            "steps": self.steps.iter().map(|s| json!({
                "index": s.index,
                "type": s.type_name,
                "due_at": s.due_at.with_timezone(&self.tz).to_rfc3339(),
                "status": s.status.as_str(),
            })).collect::<Vec<_>>(),
        });
        if let Some(n) = &self.note {
            v["note"] = json!(n);
        }
        v
    }
}

pub fn preview(
    conn: &mut SqliteConnection,
    id: WorkflowId,
    contact: ContactId,
    now: DateTime<Utc>,
) -> anyhow::Result<PreviewResult> {
    let Some(wf) = WorkflowCtx::load(conn, id)? else {
        return Ok(PreviewResult::NoWorkflow);
    };
    let props = Catalog::load(conn)?;
    let Some(rec) = crate::services::contacts::load(conn, &props, contact)? else {
        return Ok(PreviewResult::NoContact);
    };
    let snapshot = ContactSnapshot::from_record(conn, &rec)?;
    Ok(timeline(&wf, &snapshot, rec.display_name(), now))
}

pub fn timeline(
    wf: &WorkflowCtx,
    contact: &ContactSnapshot,
    name: String,
    now: DateTime<Utc>,
) -> PreviewResult {
    let empty = |note: String| Timeline {
        contact_id: contact.id,
        contact_name: name.clone(),
        anchor_date: None,
        cycle_year: None,
        steps: vec![],
        tz: wf.tz,
        note: Some(note),
    };
    let anchor = match wf.anchor_for(contact) {
        Ok(a) => a,
        Err(super::context::NoAnchor) => {
            let prop = wf.date_property().unwrap_or("date");
            return PreviewResult::Timeline(empty(format!(
                "This contact has no valid date in “{prop}”, so it would not be enrolled."
            )));
        }
    };
    let zones = wf.zones_for(contact);
    match schedule::plan_enrollment(&wf.def, anchor, &zones, now) {
        Ok(plan) => PreviewResult::Timeline(Timeline {
            contact_id: contact.id,
            contact_name: name,
            anchor_date: plan.anchor_date,
            cycle_year: plan.cycle_year,
            note: plan.next.is_none().then(|| {
                "Every step's date has passed: the enrollment would complete at once.".to_string()
            }),
            steps: plan.steps,
            tz: wf.tz,
        }),
        Err(schedule::ScheduleError::Invalid { field, message }) => {
            PreviewResult::Invalid(field, message)
        }
        Err(e) => PreviewResult::Timeline(empty(e.to_string())),
    }
}
