//! A contact's activity (`/contacts/{id}/events`): what happened to the contact, newest first,
//! in sentences ("Lifecycle stage changed from “Lead” to “Customer”", "Enrolled in the
//! workflow “Renewal reminder” (cycle 2026)"), in the account's time zone, with the recorded
//! properties behind a disclosure; built-in events recorded by Perennial and custom events
//! posted to `/api/v1/events`. Links lead back to the contact and to each workflow's history
//! of this contact.

use actix_web::web;
use askama::Template;
use chrono_tz::Tz;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::extract::{Ctx, SignedIn};
use super::workflows::describe::Names;
use super::{render, WebError, WebResult};
use crate::db::models::event::ContactEvent;
use crate::db::models::ContactId;
use crate::domain::events as ev;
use crate::services::contacts::{self, Catalog};
use crate::state::AppState;

const PAGE: i64 = 50;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/contacts/{id}/events", web::get().to(timeline));
}

pub struct EventRow {
    pub id: i64,
    pub name: String,
    pub source: String,
    /// "Tue 22 Dec 2026 09:00" in the account's zone.
    pub occurred_at: String,
    /// What happened, in words.
    pub sentence: String,
    /// The workflow the event is about, for a link to its history of this contact.
    pub workflow_id: Option<i64>,
    /// The recorded properties, `key: value` each (the details).
    pub properties: Vec<(String, String)>,
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "—".to_string(),
        other => other.to_string(),
    }
}

/// One event in words.
pub fn sentence(name: &str, custom: bool, props: &Map<String, Value>, names: &Names) -> String {
    let get = |k: &str| props.get(k).and_then(Value::as_str).unwrap_or("");
    let id = |k: &str| props.get(k).and_then(Value::as_i64);
    let workflow = || match id("workflow_id") {
        Some(w) => names.workflow_label(w),
        None => "a workflow".to_string(),
    };
    let cycle = || match props.get("cycle_year").and_then(Value::as_i64) {
        Some(y) if y > 0 => format!(" (cycle {y})"),
        _ => String::new(),
    };
    if custom {
        return format!("Custom event “{name}” received");
    }
    match name {
        ev::CONTACT_CREATED => "Contact created".to_string(),
        ev::PROPERTY_CHANGED => {
            let prop = get("property");
            let label = names.property_label(prop);
            let value = |k: &str| match props.get(k) {
                Some(Value::String(s)) => format!("“{}”", names.value_label(prop, s)),
                _ => "(no value)".to_string(),
            };
            match (props.get("old"), props.get("new")) {
                (Some(Value::String(_)), Some(Value::String(_))) => {
                    format!("{label} changed from {} to {}", value("old"), value("new"))
                }
                (_, Some(Value::String(_))) => format!("{label} set to {}", value("new")),
                _ => format!("{label} cleared (was {})", value("old")),
            }
        }
        ev::LIST_ADDED | ev::LIST_REMOVED => {
            let list = id("list_id")
                .map(|l| names.list_label(l))
                .unwrap_or_else(|| "a list".to_string());
            if name == ev::LIST_ADDED {
                format!("Added to the list {list}")
            } else {
                format!("Removed from the list {list}")
            }
        }
        ev::EMAIL_SENT => {
            let how = match get("delivery") {
                "smtp" => "sent",
                _ => "kept in the Outbox",
            };
            format!(
                "Email “{}” {how} by the workflow {}",
                get("subject"),
                workflow()
            )
        }
        ev::WORKFLOW_ENROLLED => format!("Enrolled in the workflow {}{}", workflow(), cycle()),
        ev::WORKFLOW_COMPLETED => format!("Completed the workflow {}{}", workflow(), cycle()),
        other => format!("Event “{other}”"),
    }
}

impl EventRow {
    pub fn from(e: &ContactEvent, names: &Names, tz: Tz) -> EventRow {
        let props = e.properties_json();
        let empty = Map::new();
        let map = props.as_object().unwrap_or(&empty);
        let custom = e.source == crate::db::models::event::CUSTOM;
        let mut properties: Vec<(String, String)> = Vec::new();
        for (k, v) in map {
            match v {
                // A created contact's values, one per line.
                Value::Object(inner) => {
                    for (ik, iv) in inner {
                        properties.push((names.property_label(ik), text_of(iv)));
                    }
                }
                other => properties.push((k.clone(), text_of(other))),
            }
        }
        EventRow {
            id: e.id,
            name: e.name.clone(),
            source: e.source.clone(),
            occurred_at: super::filters::when_text(&e.occurred_at, tz),
            sentence: sentence(&e.name, custom, map, names),
            workflow_id: (!custom)
                .then(|| map.get("workflow_id").and_then(Value::as_i64))
                .flatten(),
            properties,
        }
    }
}

#[derive(Template)]
#[template(path = "contacts/events.html")]
struct TimelinePage {
    ctx: Ctx,
    contact_id: i64,
    name: String,
    tz: String,
    rows: Vec<EventRow>,
    older: Option<String>,
}

#[derive(Deserialize)]
struct Cursor {
    before: Option<i64>,
}

async fn timeline(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    q: web::Query<Cursor>,
) -> WebResult {
    let id = path.into_inner();
    let before = q.before;
    let loaded = crate::db::run(&state.pool, move |conn| {
        let catalog = Catalog::load(conn)?;
        let Some(rec) = contacts::load(conn, &catalog, ContactId(id))? else {
            return Ok(None);
        };
        let tz = crate::db::models::app_setting::account_time_zone(conn)?;
        Ok(Some((
            rec.display_name(),
            ContactEvent::of_contact(conn, id, before, PAGE + 1)?,
            Names::load(conn)?,
            tz,
        )))
    })
    .await?;
    let Some((name, mut events, names, tz)) = loaded else {
        return Err(WebError::NotFound);
    };
    let more = events.len() as i64 > PAGE;
    events.truncate(PAGE as usize);
    let older = if more {
        events
            .last()
            .map(|e| format!("/contacts/{id}/events?before={}", e.id))
    } else {
        None
    };
    render(&TimelinePage {
        ctx: user.ctx("contacts"),
        contact_id: id,
        name,
        tz: tz.name().to_string(),
        rows: events
            .iter()
            .map(|e| EventRow::from(e, &names, tz))
            .collect(),
        older,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::values::FieldType;
    use serde_json::json;

    #[test]
    fn contact_events_read_as_sentences() {
        let names = Names {
            properties: vec![(
                "lifecyclestage".into(),
                "Lifecycle stage".into(),
                FieldType::Enum,
                vec!["lead".into(), "marketingqualifiedlead".into()],
            )],
            lists: [(3, "VIP".to_string())].into_iter().collect(),
            workflows: [(7, "Renewal reminder".to_string())].into_iter().collect(),
        };
        let say =
            |name: &str, props: Value| sentence(name, false, props.as_object().unwrap(), &names);
        assert_eq!(
            say(
                "property_changed",
                json!({"property": "lifecyclestage", "old": "lead", "new": "marketingqualifiedlead"})
            ),
            "Lifecycle stage changed from “Lead” to “Marketing qualified lead”"
        );
        assert_eq!(
            say(
                "property_changed",
                json!({"property": "lifecyclestage", "old": "lead", "new": null})
            ),
            "Lifecycle stage cleared (was “Lead”)"
        );
        assert_eq!(
            say("list_added", json!({"list_id": 3})),
            "Added to the list “VIP”"
        );
        assert_eq!(
            say(
                "workflow_enrolled",
                json!({"workflow_id": 7, "cycle_year": 2026})
            ),
            "Enrolled in the workflow “Renewal reminder” (cycle 2026)"
        );
        assert_eq!(
            say(
                "email_sent",
                json!({"workflow_id": 7, "subject": "Hi", "delivery": "outbox"})
            ),
            "Email “Hi” kept in the Outbox by the workflow “Renewal reminder”"
        );
        assert_eq!(
            sentence("purchase", true, &Map::new(), &names),
            "Custom event “purchase” received"
        );
    }
}
