//! The timeline a contact would get if enrolled at a given moment: the API's preview and the
//! editor's Test panel, computed by the same function the engine enrolls with.

use crate::db::DbConnection;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::{json, Value};

use super::context::{ContactSnapshot, WorkflowCtx};
use crate::db::models::property::Catalog;
use crate::db::models::{ContactId, WorkflowId};
use crate::domain::filter;
use crate::domain::schedule::{self, PlannedStep};

pub struct Timeline {
    pub contact_id: i64,
    pub contact_name: String,
    pub anchor_date: Option<NaiveDate>,
    pub cycle_year: Option<i32>,
    pub steps: Vec<PlannedStep>,
    pub tz: Tz,
    /// Why there is no timeline (e.g. the contact has no date), for people.
    pub note: Option<String>,
    /// Whether and how the contact would enter, suppression, branch paths, rendered emails.
    pub verdict: Verdict,
}

/// What the Test page tells beside the timeline (issue 13): the whole truth for one contact.
#[derive(Debug, Clone, Default)]
pub struct Verdict {
    /// Whether the triggers enroll this contact by themselves, in a sentence.
    pub triggers: String,
    /// Why the contact is suppressed (never enrolled, not even by hand), if it is.
    pub suppressed: Option<String>,
    /// The suppression list the contact is in, if that is why (for its name on the page).
    pub suppressed_by_list: Option<i64>,
    /// Per if/then branch, top-level or nested (by its step path: `3`, `3/yes/0`): whether
    /// it takes the "yes" path today.
    pub branches: Vec<(String, bool)>,
    /// Per top-level email: its index, subject and body rendered with the contact's values.
    pub emails: Vec<(usize, String, String)>,
    /// The contact meets the workflow's goal now: it would not be enrolled.
    pub goal_met: bool,
    /// Per wait until (by step path): whether its condition holds now (the `met` path at
    /// once) — else it waits for the condition or event, at most its timeout.
    pub waits: Vec<(String, bool)>,
    /// Per random split (by step path): the path this contact takes (its name), or `None`
    /// for the holdout. The bucket is the worker's own: a hash of workflow, step path and
    /// contact.
    pub splits: Vec<(String, Option<String>)>,
    /// Emails whose time the pacing moves: index and why.
    pub deferred: Vec<(usize, String)>,
}

/// The verdict for one contact at `today` (the workflow's zone).
pub fn verdict(
    wf: &WorkflowCtx,
    contact: &ContactSnapshot,
    catalog: &filter::Catalog,
    today: NaiveDate,
) -> Verdict {
    use crate::domain::definition::Step;
    use crate::domain::filter::ContactView;
    let def = &wf.def;
    let groups = &def.triggers.filter_groups;
    let matching_group = groups.iter().position(|g| {
        !g.is_empty()
            && g.iter()
                .all(|f| filter::matches_filter(f, contact, catalog, today))
    });
    let triggers = if def.triggers.manual_only {
        "Enroll manually only is chosen: this contact enters only if you enroll it.".to_string()
    } else if !def.enrolls_on_criteria() {
        if def.triggers.events_enroll() {
            "Enrolled only when a trigger event occurs (or by hand).".to_string()
        } else {
            "Manual enrollment only: this contact enters only if you enroll it.".to_string()
        }
    } else if super::enroll::meets_triggers(wf, contact, catalog, today) {
        match matching_group {
            Some(g) if groups.len() > 1 => {
                format!("Meets the enrollment triggers (group {}).", g + 1)
            }
            Some(_) => "Meets the enrollment triggers.".to_string(),
            None => {
                "Meets the enrollment trigger: its date is known (built-in trigger).".to_string()
            }
        }
    } else if wf.anchor_for(contact).is_err() {
        "Does not meet the enrollment triggers: it has no date.".to_string()
    } else {
        "Does not meet the enrollment triggers now: it would be enrolled only by hand.".to_string()
    };
    let look = |name: &str| contact.value(name).map(str::to_string);
    let mut forks = Forks::default();
    forks.walk(wf, contact, catalog, today, &def.steps, "");
    let emails = def
        .steps
        .iter()
        .enumerate()
        .filter_map(|(i, step)| match step {
            Step::SendEmail { subject, body } => Some((
                i,
                crate::domain::tokens::render(subject, &look),
                crate::domain::tokens::render(body, &look),
            )),
            _ => None,
        })
        .collect();
    Verdict {
        triggers,
        suppressed: super::enroll::suppression_reason(wf, contact, catalog, today),
        suppressed_by_list: def
            .settings
            .suppression
            .list_ids
            .iter()
            .copied()
            .find(|l| contact.in_list(*l)),
        branches: forks.branches,
        emails,
        goal_met: super::goals::meets_goal(wf, contact, catalog, today),
        waits: forks.waits,
        splits: forks.splits,
        deferred: Vec::new(),
    }
}

/// The path every fork takes for one contact, nested forks included.
#[derive(Default)]
struct Forks {
    branches: Vec<(String, bool)>,
    waits: Vec<(String, bool)>,
    splits: Vec<(String, Option<String>)>,
}

impl Forks {
    /// Walks `steps` (the list at `prefix`, "" for the top level) and every list nested in it.
    fn walk(
        &mut self,
        wf: &WorkflowCtx,
        contact: &ContactSnapshot,
        catalog: &filter::Catalog,
        today: NaiveDate,
        steps: &[crate::domain::definition::Step],
        prefix: &str,
    ) {
        use crate::domain::definition::Step;
        for (i, step) in steps.iter().enumerate() {
            let path = if prefix.is_empty() {
                i.to_string()
            } else {
                format!("{prefix}/{i}")
            };
            match step {
                Step::WaitUntil { condition, .. } => self.waits.push((
                    path.clone(),
                    !condition.is_empty()
                        && filter::matches_groups(condition, contact, catalog, today),
                )),
                Step::RandomSplit { paths, .. } => {
                    let bucket = crate::domain::split::bucket(wf.id(), &path, contact.id);
                    self.splits.push((
                        path.clone(),
                        crate::domain::split::choose(paths, bucket).map(|k| paths[k].name.clone()),
                    ));
                }
                Step::Branch { condition, .. } => self.branches.push((
                    path.clone(),
                    filter::matches_groups(condition, contact, catalog, today),
                )),
                _ => {}
            }
            for (arm, list) in step.arms() {
                self.walk(wf, contact, catalog, today, list, &format!("{path}/{arm}"));
            }
        }
    }
}

pub enum PreviewResult {
    NoWorkflow,
    NoContact,
    Invalid(String, String),
    Timeline(Box<Timeline>),
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
    conn: &mut DbConnection,
    id: WorkflowId,
    contact: ContactId,
    now: DateTime<Utc>,
) -> anyhow::Result<PreviewResult> {
    let Some(wf) = WorkflowCtx::load(conn, id)? else {
        return Ok(PreviewResult::NoWorkflow);
    };
    let props = Catalog::load(conn)?;
    let Some(rec) = crate::db::models::contact::ContactRecord::load(conn, &props, contact)? else {
        return Ok(PreviewResult::NoContact);
    };
    let snapshot = ContactSnapshot::from_record(conn, &rec)?;
    let catalog = super::context::domain_catalog(conn, &props)?;
    let today = now.with_timezone(&wf.tz).date_naive();
    let verdict = verdict(&wf, &snapshot, &catalog, today);
    let mut result = timeline(&wf, &snapshot, rec.display_name(), now, verdict);
    if let PreviewResult::Timeline(t) = &mut result {
        let account = crate::db::models::app_setting::account_pacing(conn)?;
        apply_pacing(conn, &wf, &snapshot, account.as_ref(), t)?;
    }
    Ok(result)
}

/// Moves the planned emails the pacing would defer (issue 17), counting the emails already
/// sent to the contact and the earlier emails of this timeline.
fn apply_pacing(
    conn: &mut DbConnection,
    wf: &WorkflowCtx,
    contact: &ContactSnapshot,
    account: Option<&crate::domain::definition::Pacing>,
    t: &mut Timeline,
) -> anyhow::Result<()> {
    use crate::domain::definition::Step;
    let Some(p) = wf
        .def
        .settings
        .pacing
        .as_ref()
        .or(account)
        .filter(|p| crate::domain::pacing::is_active(p))
    else {
        return Ok(());
    };
    let Some(first) = t.steps.iter().map(|s| s.due_at).min() else {
        return Ok(());
    };
    let since = first - chrono::Duration::days(i64::from(p.per_days.unwrap_or(0)));
    let mut sent: Vec<DateTime<Utc>> = crate::db::sql::worker::emails_sent_to(
        conn,
        contact.id,
        &crate::clock::fmt_instant(since),
    )?
    .iter()
    .filter_map(|s| crate::clock::parse_instant(s))
    .collect();
    let zones = wf.zones_for(contact);
    let tz = zones.contact.unwrap_or(zones.workflow);
    for s in t.steps.iter_mut() {
        let is_email = matches!(wf.def.steps.get(s.index), Some(Step::SendEmail { .. }));
        if !is_email || s.status != schedule::StepStatus::Due {
            continue;
        }
        if let Some(d) = crate::domain::pacing::defer(p, &sent, tz, s.due_at) {
            t.verdict.deferred.push((
                s.index,
                format!(
                    "deferred by pacing ({}) to {}",
                    d.why,
                    d.until.with_timezone(&wf.tz).to_rfc3339()
                ),
            ));
            s.due_at = d.until;
        }
        sent.push(s.due_at);
    }
    Ok(())
}

pub fn timeline(
    wf: &WorkflowCtx,
    contact: &ContactSnapshot,
    name: String,
    now: DateTime<Utc>,
    verdict: Verdict,
) -> PreviewResult {
    let empty = |note: String| Timeline {
        contact_id: contact.id,
        contact_name: name.clone(),
        anchor_date: None,
        cycle_year: None,
        steps: vec![],
        tz: wf.tz,
        note: Some(note),
        verdict: verdict.clone(),
    };
    let anchor = match wf.anchor_for(contact) {
        Ok(a) => a,
        Err(super::context::NoAnchor) => {
            let prop = wf.date_property().unwrap_or("date");
            return PreviewResult::Timeline(Box::new(empty(format!(
                "This contact has no valid date in “{prop}”, so it would not be enrolled."
            ))));
        }
    };
    let zones = wf.zones_for(contact);
    match schedule::plan_enrollment(&wf.def, anchor, &zones, now) {
        Ok(plan) => PreviewResult::Timeline(Box::new(Timeline {
            contact_id: contact.id,
            contact_name: name,
            anchor_date: plan.anchor_date,
            cycle_year: plan.cycle_year,
            note: plan.next.is_none().then(|| {
                "Every step's date has passed: the enrollment would complete at once.".to_string()
            }),
            steps: plan.steps,
            tz: wf.tz,
            verdict,
        })),
        Err(schedule::ScheduleError::Invalid { field, message }) => {
            PreviewResult::Invalid(field, message)
        }
        Err(e) => PreviewResult::Timeline(Box::new(empty(e.to_string()))),
    }
}
