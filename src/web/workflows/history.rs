//! Workflow history (`/workflows/{id}/history`): every event newest first, filtered by contact
//! (id or email), event type and a date range in the workflow's zone, with keyset pagination
//! ("Older →" with `?before=<id>`). Only `history::page` keyset queries run, so the page stays
//! fast at ten million events: no COUNT over the history.

use std::collections::HashMap;

use actix_web::web;
use askama::Template;
use chrono::Duration;
use serde::Deserialize;

use super::describe;
use super::header::WorkflowHeader;
use super::sentences;
use super::support;
use crate::clock::fmt_instant;
use crate::db::models::contact::Contact;
use crate::db::models::history::{self, HistoryFilter};
use crate::db::models::workflow::Workflow;
use crate::db::models::WorkflowId;
use crate::domain::definition::Definition;
use crate::domain::values::parse_iso_date;
use crate::services::contacts::Catalog;
use crate::state::AppState;
use crate::web::contacts::load_records;
use crate::web::extract::{Ctx, SignedIn};
use crate::web::{render, render_invalid, WebError, WebResult};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/workflows/{id}/history", web::get().to(show));
}

const PAGE_SIZE: i64 = 50;

pub use super::sentences::event_label;

#[derive(Deserialize)]
struct HistoryQuery {
    contact: Option<String>,
    event: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<String>,
}

pub struct EventRow {
    pub id: i64,
    /// "Tue 22 Dec 2026 09:00" in the workflow's zone.
    pub at: String,
    /// The exact recorded instant in the zone, with its abbreviation (the details).
    pub at_exact: String,
    /// What happened, in words (after the contact's name).
    pub sentence: String,
    pub contact_id: i64,
    pub contact_name: String,
    pub contact_email: String,
    pub event: String,
    pub event_label: &'static str,
    pub step: String,
    pub detail: String,
    pub revision: i32,
}

pub struct EventOption {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "workflows/history.html")]
struct HistoryPage {
    ctx: Ctx,
    header: WorkflowHeader,
    tz: String,
    contact: String,
    events: Vec<EventOption>,
    from: String,
    to: String,
    errors: crate::domain::errors::Errors,
    rows: Vec<EventRow>,
    filtered: bool,
    paged: bool,
    newest: String,
    older: Option<String>,
}

fn trimmed(v: &Option<String>) -> String {
    v.as_deref().unwrap_or("").trim().to_string()
}

/// The step column: "2 · Send email" (1-based), with the step's type from the event's revision.
fn step_label(path: &str, def: Option<&Definition>) -> String {
    let number = describe::step_path_label(path);
    match def.and_then(|d| describe::step_at(&d.steps, path)) {
        Some(step) => format!("{number} · {}", describe::step_type_label(step.type_name())),
        None => number,
    }
}

/// A workflow's events are appended in time order (each is recorded with the time it is
/// written), give or take the length of a transaction: a publish-time enrollment batch writes
/// its events with the time it started. Any event of the workflow recorded a day after `to` or
/// later is therefore after `to`, so its id can bound the keyset scan
/// ([`history::first_id_at_or_after`]: a binary search, O(log n) index lookups).
fn id_bound_after(
    conn: &mut crate::db::DbConnection,
    workflow: i64,
    to: &str,
) -> anyhow::Result<Option<i64>> {
    let Some(t) = crate::clock::parse_instant(to) else {
        return Ok(None);
    };
    history::first_id_at_or_after(conn, workflow, &fmt_instant(t + Duration::days(1)))
}

async fn show(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    q: web::Query<HistoryQuery>,
) -> WebResult {
    let id = WorkflowId(path.into_inner());
    let q = q.into_inner();
    let ctx = user.ctx("workflows");
    let page = crate::db::run(&state.pool, move |conn| {
        let Some((wf, header)) = support::load(conn, id, "history")? else {
            return Ok(None);
        };
        let tz = wf.tz;
        let contact = trimmed(&q.contact);
        let event = trimmed(&q.event);
        let from = trimmed(&q.from);
        let to = trimmed(&q.to);
        let before_raw = trimmed(&q.before);
        let mut errors = Vec::new();
        let mut filter = HistoryFilter::default();
        let mut impossible = false;
        if !contact.is_empty() {
            if let Ok(n) = contact.parse::<i64>() {
                filter.contact_id = Some(n);
            } else {
                match Contact::find_by_email(conn, &contact)? {
                    Some(c) => filter.contact_id = Some(c.id),
                    None => {
                        impossible = true;
                        errors.push(crate::domain::errors::FieldError::new(
                            "contact",
                            format!("No contact has the email “{contact}”."),
                        ));
                    }
                }
            }
        }
        if !event.is_empty() {
            if history::ALL_EVENTS.contains(&event.as_str()) {
                filter.event = Some(event.clone());
            } else {
                errors.push(crate::domain::errors::FieldError::new(
                    "event",
                    "Choose an event type from the list.",
                ));
            }
        }
        for (name, raw, end) in [("from", &from, false), ("to", &to, true)] {
            if raw.is_empty() {
                continue;
            }
            match parse_iso_date(raw) {
                Some(d) => {
                    // `to` is inclusive: events before the start of the next day.
                    let day = if end { d + Duration::days(1) } else { d };
                    let instant = fmt_instant(support::start_of_day(day, tz));
                    if end {
                        filter.to = Some(instant);
                    } else {
                        filter.from = Some(instant);
                    }
                }
                None => errors.push(crate::domain::errors::FieldError::new(
                    name,
                    format!("“{raw}” is not a date (YYYY-MM-DD)."),
                )),
            }
        }
        if !before_raw.is_empty() {
            match before_raw.parse::<i64>() {
                Ok(b) => filter.before = Some(b),
                Err(_) => errors.push(crate::domain::errors::FieldError::new(
                    "before",
                    "That page link is not valid; start from the newest events.",
                )),
            }
        }
        // An end date far in the past would make the newest-first scan walk every later
        // event: start it near the end of the range instead (the `at` filter stays exact).
        if let Some(to) = &filter.to {
            if let Some(bound) = id_bound_after(conn, id.0, to)? {
                filter.before = Some(filter.before.map_or(bound, |b| b.min(bound)));
            }
        }
        let (events, more) = if impossible {
            (vec![], false)
        } else {
            history::page(conn, id.0, &filter, PAGE_SIZE)?
        };

        // Contacts and revisions of this page only (at most 50 contacts, a few revisions).
        let mut contact_ids: Vec<i64> = events.iter().map(|e| e.contact_id).collect();
        contact_ids.sort_unstable();
        contact_ids.dedup();
        let catalog = Catalog::load(conn)?;
        let records = load_records(conn, &catalog, &contact_ids)?;
        let names = describe::Names::load(conn)?;
        let mut defs: HashMap<i32, Option<Definition>> = HashMap::new();
        for e in &events {
            if let std::collections::hash_map::Entry::Vacant(slot) = defs.entry(e.revision) {
                slot.insert(if e.revision == wf.row.revision {
                    Some((*wf.def).clone())
                } else {
                    Workflow::revision(conn, id, e.revision)?
                        .and_then(|r| serde_json::from_str::<Definition>(&r.definition).ok())
                });
            }
        }
        let rows: Vec<EventRow> = events
            .iter()
            .map(|e| {
                let rec = records.iter().find(|r| r.contact.id == e.contact_id);
                let words = sentences::Ctx {
                    def: defs.get(&e.revision).and_then(Option::as_ref),
                    names: &names,
                    tz,
                };
                EventRow {
                    id: e.id,
                    at: crate::web::filters::when_text(&e.at, tz),
                    at_exact: support::local_text(&e.at, tz),
                    sentence: words.sentence(&e.event, e.step.as_deref(), &e.detail),
                    contact_id: e.contact_id,
                    contact_name: rec
                        .map(|r| r.display_name())
                        .unwrap_or_else(|| format!("Contact {} (deleted)", e.contact_id)),
                    contact_email: rec
                        .and_then(|r| r.contact.email.clone())
                        .unwrap_or_default(),
                    event: e.event.clone(),
                    event_label: event_label(&e.event),
                    step: e
                        .step
                        .as_deref()
                        .map(|s| step_label(s, defs.get(&e.revision).and_then(Option::as_ref)))
                        .unwrap_or_default(),
                    detail: e.detail.clone(),
                    revision: e.revision,
                }
            })
            .collect();
        let filters = [
            ("contact", contact.as_str()),
            ("event", event.as_str()),
            ("from", from.as_str()),
            ("to", to.as_str()),
        ];
        let base = format!("/workflows/{}/history", id.0);
        let older = if more {
            rows.last().map(|last| {
                let b = last.id.to_string();
                let mut pairs = filters.to_vec();
                pairs.push(("before", b.as_str()));
                format!("{base}{}", support::query_string(&pairs))
            })
        } else {
            None
        };
        Ok(Some(HistoryPage {
            ctx,
            header,
            tz: tz.name().to_string(),
            events: history::ALL_EVENTS
                .iter()
                .map(|e| EventOption {
                    value: e,
                    label: event_label(e),
                    selected: *e == event,
                })
                .collect(),
            filtered: filters.iter().any(|(_, v)| !v.is_empty()),
            paged: filter.before.is_some(),
            newest: format!("{base}{}", support::query_string(&filters)),
            older,
            rows,
            contact,
            from,
            to,
            errors: errors.into(),
        }))
    })
    .await?
    .ok_or(WebError::NotFound)?;
    if page.errors.is_empty() {
        render(&page)
    } else {
        render_invalid(&page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_has_a_label() {
        for e in history::ALL_EVENTS {
            assert_ne!(event_label(e), "Event", "{e}");
        }
    }

    #[test]
    fn steps_are_numbered_from_one_with_their_type() {
        let def: Definition = serde_json::from_value(serde_json::json!({
            "name": "x", "start": {"type": "blank"},
            "steps": [{"type": "send_email", "subject": "s", "body": "b"}]
        }))
        .unwrap();
        assert_eq!(step_label("0", Some(&def)), "1 · Send email");
        assert_eq!(step_label("5", Some(&def)), "6");
        assert_eq!(step_label("0", None), "1");
    }
}
