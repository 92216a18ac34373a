//! Test (`/workflows/{id}/test?contact_id=&now=`): the timeline a chosen contact would get if
//! enrolled at a moment — anchor date, cycle year, each step's due time in the workflow's zone
//! (and where the window moved it from) — computed by `engine::preview::preview`, the same
//! function the engine enrolls with. "Enroll this contact now" enrolls manually.

use actix_web::web;
use askama::Template;
use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use super::describe::{self, Names};
use super::header::WorkflowHeader;
use super::support;
use crate::clock::parse_instant;
use crate::db::models::enrollment::Enrollment;
use crate::db::models::{ContactId, WorkflowId};
use crate::domain::definition::Start;
use crate::domain::schedule::{resolve_local, StepStatus};
use crate::engine::preview::{self, PreviewResult};
use crate::services::contacts::Catalog;
use crate::state::AppState;
use crate::web::contacts::load_records;
use crate::web::extract::{CsrfForm, Ctx, SignedIn};
use crate::web::{render, render_invalid, see_other, WebError, WebResult};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/workflows/{id}/test", web::get().to(show))
        .route("/workflows/{id}/test/enroll", web::post().to(enroll));
}

const CHOICES: i64 = 50;
const SEARCH_RESULTS: i64 = 20;

#[derive(Deserialize)]
struct TestQuery {
    contact_id: Option<String>,
    now: Option<String>,
    q: Option<String>,
}

pub struct ContactChoice {
    pub id: i64,
    pub label: String,
    pub selected: bool,
}

pub struct StepRow {
    pub number: String,
    pub type_label: &'static str,
    pub text: String,
    pub due: String,
    pub moved_from: Option<String>,
    pub skipped: bool,
    /// For an if/then branch: the path it takes today; for an email: subject and body as sent.
    pub detail: Option<String>,
    pub email: Option<(String, String)>,
    /// Under a fork: the steps of the path(s) this contact takes, nested forks included.
    pub nested: Vec<super::test_details::NestedLine>,
}

pub struct TimelineView {
    pub contact_id: i64,
    pub contact_name: String,
    pub anchor_date: String,
    pub cycle_year: String,
    pub steps: Vec<StepRow>,
    pub note: Option<String>,
    /// The contact's active enrollment in this workflow, if any.
    pub enrolled: Option<String>,
    /// Whether the triggers enroll this contact, in a sentence.
    pub triggers: String,
    /// "Suppressed by …: never enrolled", if it is.
    pub suppressed: Option<String>,
    /// The contact already meets the goal (not enrolled), in a sentence.
    pub goal_met: Option<String>,
}

#[derive(Template)]
#[template(path = "workflows/test.html")]
struct TestPage {
    ctx: Ctx,
    header: WorkflowHeader,
    tz: String,
    date_label: Option<String>,
    choices: Vec<ContactChoice>,
    q: String,
    results: Vec<ContactChoice>,
    searched: bool,
    now_value: String,
    now_label: String,
    now_error: Option<String>,
    contact_error: Option<String>,
    timeline: Option<TimelineView>,
}

/// "as if enrolled at": RFC 3339 (any offset), or a `datetime-local` value in the zone.
pub fn parse_now(raw: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Some(t) = parse_instant(raw) {
        return Some(t);
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(raw, f).ok())
        .map(|local| resolve_local(tz, local))
}

fn choice_label(
    rec: &crate::db::models::contact::ContactRecord,
    date_prop: Option<&str>,
) -> String {
    let mut label = rec.display_name();
    if let Some(email) = &rec.contact.email {
        if *email != label {
            label.push_str(&format!(" <{email}>"));
        }
    }
    if let Some(v) = date_prop.and_then(|p| rec.value(p)) {
        label.push_str(&format!(" — {v}"));
    }
    label
}

async fn show(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    q: web::Query<TestQuery>,
) -> WebResult {
    let id = WorkflowId(path.into_inner());
    let q = q.into_inner();
    let ctx = user.ctx("workflows");
    let page = crate::db::run(&state.pool, move |conn| {
        let Some((wf, header)) = support::load_working(conn, id, "test")? else {
            return Ok(None);
        };
        let tz = wf.tz;
        let catalog = Catalog::load(conn)?;
        let names = Names::load(conn)?;
        let date_prop = match &wf.def.start {
            Start::ContactDateProperty { property } => Some(property.clone()),
            _ => None,
        };
        let contact_id = q
            .contact_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let (contact, contact_error) = match contact_id {
            None => (None, None),
            Some(s) => match s.parse::<i64>() {
                Ok(c) => (Some(c), None),
                Err(_) => (None, Some(format!("“{s}” is not a contact id."))),
            },
        };
        let raw_now = q.now.as_deref().map(str::trim).unwrap_or("");
        let (now, now_error) = if raw_now.is_empty() {
            (Utc::now(), None)
        } else {
            match parse_now(raw_now, tz) {
                Some(t) => (t, None),
                None => (
                    Utc::now(),
                    Some(format!(
                        "“{raw_now}” is not a date and time; use the picker or e.g. 2026-03-01T12:00."
                    )),
                ),
            }
        };

        // The first contacts that have the workflow's date (or the first contacts at all).
        let having = date_prop.as_deref().and_then(|p| catalog.get(p)).map(|p| p.id);
        let ids = crate::db::models::contact::Contact::first_ids(conn, having, CHOICES)?;
        let mut ids = ids;
        if let Some(c) = contact {
            if !ids.contains(&c) {
                ids.insert(0, c);
            }
        }
        let choices = load_records(conn, &catalog, &ids)?
            .iter()
            .map(|r| ContactChoice {
                id: r.contact.id,
                label: choice_label(r, date_prop.as_deref()),
                selected: Some(r.contact.id) == contact,
            })
            .collect();

        let search = q.q.clone().unwrap_or_default().trim().to_string();
        let results = if search.is_empty() {
            vec![]
        } else {
            let name_ids: Vec<i64> = ["firstname", "lastname"]
                .iter()
                .filter_map(|n| catalog.get(n).map(|p| p.id))
                .collect();
            let mut found = crate::db::queries::contact_page(
                conn,
                Some(&search),
                &name_ids,
                None,
                None,
                SEARCH_RESULTS,
            )?;
            if let Ok(n) = search.parse::<i64>() {
                if !found.contains(&n) {
                    found.insert(0, n);
                }
            }
            load_records(conn, &catalog, &found)?
                .iter()
                .map(|r| ContactChoice {
                    id: r.contact.id,
                    label: choice_label(r, date_prop.as_deref()),
                    selected: false,
                })
                .collect()
        };

        let mut contact_error = contact_error;
        let timeline = match contact {
            None => None,
            Some(c) => match preview::preview(conn, id, ContactId(c), now)? {
                PreviewResult::NoWorkflow => return Ok(None),
                PreviewResult::NoContact => {
                    contact_error = Some(format!("There is no contact with id {c}."));
                    None
                }
                PreviewResult::Invalid(field, message) => Some(TimelineView {
                    contact_id: c,
                    contact_name: String::new(),
                    anchor_date: "—".into(),
                    cycle_year: "—".into(),
                    steps: vec![],
                    note: Some(format!(
                        "The workflow cannot be scheduled yet: {message} ({field})."
                    )),
                    enrolled: None,
                    triggers: String::new(),
                    suppressed: None,
                    goal_met: None,
                }),
                PreviewResult::Timeline(t) => {
                    let enrolled = Enrollment::active_for(conn, id, ContactId(c))?.map(|e| {
                        let next = e
                            .next_due_at
                            .as_deref()
                            .map(|d| format!("; next step due {}", support::local_text(d, tz)))
                            .unwrap_or_default();
                        format!(
                            "Already enrolled (since {}){next}.",
                            support::local_text(&e.enrolled_at, tz)
                        )
                    });
                    Some(TimelineView {
                        contact_id: t.contact_id,
                        contact_name: t.contact_name,
                        anchor_date: t
                            .anchor_date
                            .map(|d| d.format("%Y-%m-%d").to_string())
                            .unwrap_or_else(|| "—".into()),
                        cycle_year: t
                            .cycle_year
                            .map(|y| y.to_string())
                            .unwrap_or_else(|| "—".into()),
                        steps: t
                            .steps
                            .iter()
                            .map(|s| {
                                let step = wf.def.steps.get(s.index);
                                let due = support::local_time(s.due_at, t.tz);
                                let detail = super::test_details::step_detail(
                                    step,
                                    &t.verdict,
                                    &s.index.to_string(),
                                    &due,
                                );
                                let nested = step
                                    .map(|st| {
                                        super::test_details::nested_lines(
                                            &wf.def,
                                            st,
                                            &s.index.to_string(),
                                            &t.verdict,
                                            &names,
                                            tz.name(),
                                        )
                                    })
                                    .unwrap_or_default();
                                let email = t
                                    .verdict
                                    .emails
                                    .iter()
                                    .find(|(i, _, _)| *i == s.index)
                                    .map(|(_, subject, body)| (subject.clone(), body.clone()));
                                StepRow {
                                    detail,
                                    email,
                                    nested,
                                    number: (s.index + 1).to_string(),
                                    type_label: describe::step_type_label(s.type_name),
                                    text: step
                                        .map(|st| {
                                            describe::step_words(st, &wf.def, &names, tz.name())
                                        })
                                        .unwrap_or_default(),
                                    due,
                                    moved_from: s
                                        .was_moved()
                                        .then(|| support::local_time(s.nominal_at, t.tz)),
                                    skipped: s.status == StepStatus::SkippedPast,
                                }
                            })
                            .collect(),
                        note: t.note,
                        enrolled,
                        suppressed: match (t.verdict.suppressed_by_list, &t.verdict.suppressed) {
                            (Some(list), _) => Some(format!(
                                "This contact is suppressed by list “{}”: never enrolled, not even by hand.",
                                names.list_label(list)
                            )),
                            (None, Some(_)) => Some(
                                "This contact meets the suppression criteria: never enrolled, not even by hand."
                                    .to_string(),
                            ),
                            (None, None) => None,
                        },
                        goal_met: t.verdict.goal_met.then(|| {
                            "This contact already meets the workflow's goal: it would not be enrolled (it has converted)."
                                .to_string()
                        }),
                        triggers: t.verdict.triggers,
                    })
                }
            },
        };
        Ok(Some(TestPage {
            ctx,
            tz: tz.name().to_string(),
            date_label: date_prop.as_deref().map(|p| names.property_label(p)),
            choices,
            q: search,
            searched: q.q.as_deref().is_some_and(|s| !s.trim().is_empty()),
            results,
            now_value: if raw_now.is_empty() || now_error.is_some() {
                raw_now.to_string()
            } else {
                now.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string()
            },
            now_label: support::local_time(now, tz),
            now_error,
            contact_error,
            timeline,
            header,
        }))
    })
    .await?
    .ok_or(WebError::NotFound)?;
    if page.now_error.is_some() || page.contact_error.is_some() {
        render_invalid(&page)
    } else {
        render(&page)
    }
}

#[derive(Deserialize)]
struct EnrollForm {
    contact_id: Option<String>,
}

async fn enroll(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<EnrollForm>,
) -> WebResult {
    let id = WorkflowId(path.into_inner());
    let Some(contact) = form
        .contact_id
        .as_deref()
        .and_then(|s| s.trim().parse::<i64>().ok())
    else {
        user.set_flash("error", "Choose a contact to enroll.");
        return Ok(see_other(&format!("/workflows/{}/test", id.0)));
    };
    let result = crate::db::run(&state.pool, move |conn| {
        super::enroll::enroll_now(conn, id, ContactId(contact))
    })
    .await?;
    match result {
        Ok(msg) => user.set_flash("success", msg),
        Err(reason) => user.set_flash("error", reason),
    }
    Ok(see_other(&format!(
        "/workflows/{}/test?contact_id={contact}",
        id.0
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_accepts_rfc3339_and_local_picker_values() {
        let oslo: Tz = "Europe/Oslo".parse().unwrap();
        assert_eq!(
            parse_now("2021-03-01T12:00:00Z", oslo)
                .unwrap()
                .to_rfc3339(),
            "2021-03-01T12:00:00+00:00"
        );
        assert_eq!(
            parse_now("2021-03-01T12:00", oslo).unwrap().to_rfc3339(),
            "2021-03-01T11:00:00+00:00"
        );
        assert!(parse_now("yesterday", oslo).is_none());
    }
}
