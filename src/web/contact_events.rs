//! A contact's event timeline: built-in and custom events, newest first, paginated.

use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::extract::{Ctx, SignedIn};
use super::{render, WebError, WebResult};
use crate::db::models::event::ContactEvent;
use crate::db::models::ContactId;
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
    pub occurred_at: String,
    pub summary: String,
}

impl EventRow {
    pub fn from(e: &ContactEvent) -> EventRow {
        let props = e.properties_json();
        let summary = match props.as_object() {
            Some(m) if !m.is_empty() => m
                .iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => format!("{k}: {s}"),
                    serde_json::Value::Null => format!("{k}: —"),
                    other => format!("{k}: {other}"),
                })
                .collect::<Vec<_>>()
                .join(" · "),
            _ => String::new(),
        };
        EventRow {
            id: e.id,
            name: e.name.clone(),
            source: e.source.clone(),
            occurred_at: e
                .occurred_at
                .get(..19)
                .unwrap_or(&e.occurred_at)
                .replace('T', " ")
                + " UTC",
            summary,
        }
    }
}

#[derive(Template)]
#[template(path = "contacts/events.html")]
struct TimelinePage {
    ctx: Ctx,
    contact_id: i64,
    name: String,
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
        Ok(Some((
            rec.display_name(),
            ContactEvent::of_contact(conn, id, before, PAGE + 1)?,
        )))
    })
    .await?;
    let Some((name, mut events)) = loaded else {
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
        rows: events.iter().map(EventRow::from).collect(),
        older,
    })
}
