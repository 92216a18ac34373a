//! `POST /events`: custom events from other systems (one, or a batch as a JSON array or
//! `{"events": [...]}`), and `GET /contacts/{id}/events` for a contact's timeline.

use crate::db::DbConnection;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::auth::ApiAuth;
use super::error::{ApiError, ApiResult};
use crate::clock::parse_instant;
use crate::db::models::contact::Contact;
use crate::db::models::event::{ContactEvent, CUSTOM};
use crate::db::models::ContactId;
use crate::domain::events::valid_name;
use crate::domain::values::looks_like_email;
use crate::engine::events::{self, Pending};
use crate::engine::triggers::{EngineCtx, Source};
use crate::engine::ContactSnapshot;
use crate::services::contacts::{self, Catalog, ContactInput};
use crate::state::AppState;

const MAX_BATCH: usize = 1000;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/events", web::post().to(post_events))
        .route("/events/batch", web::post().to(post_events))
        .route("/contacts/{id}/events", web::get().to(contact_events));
}

/// Who the event is about.
enum Target {
    Id(i64),
    Email { email: String, create: bool },
}

struct Incoming {
    target: Target,
    name: String,
    occurred_at: Option<DateTime<Utc>>,
    properties: Map<String, Value>,
}

fn parse_one(v: &Value, prefix: &str) -> ApiResult<Incoming> {
    let f = |k: &str| format!("{prefix}{k}");
    let Value::Object(obj) = v else {
        let field = if prefix.is_empty() {
            "body"
        } else {
            prefix.trim_end_matches('.')
        };
        return Err(ApiError::field(field, "expected a JSON object"));
    };
    for k in obj.keys() {
        if ![
            "contact_id",
            "email",
            "name",
            "occurred_at",
            "properties",
            "create_contact",
        ]
        .contains(&k.as_str())
        {
            return Err(ApiError::field(f(k), format!("unknown field \"{k}\"")));
        }
    }
    let name = match obj.get("name") {
        Some(Value::String(s)) if valid_name(s.trim()) => s.trim().to_string(),
        Some(Value::String(_)) => {
            return Err(ApiError::field(
                f("name"),
                "an event name uses letters, digits, _ - . or : (1–100 characters)",
            ))
        }
        _ => return Err(ApiError::field(f("name"), "name is required")),
    };
    let create = match obj.get("create_contact") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ApiError::field(
                f("create_contact"),
                "create_contact must be true or false",
            ))
        }
    };
    let target = match (obj.get("contact_id"), obj.get("email")) {
        (Some(Value::Number(n)), None | Some(Value::Null)) => Target::Id(
            n.as_i64()
                .ok_or_else(|| ApiError::field(f("contact_id"), "contact_id must be an integer"))?,
        ),
        (Some(Value::String(s)), None | Some(Value::Null)) => Target::Id(
            s.trim()
                .parse()
                .map_err(|_| ApiError::field(f("contact_id"), "contact_id must be an integer"))?,
        ),
        (None | Some(Value::Null), Some(Value::String(e))) if looks_like_email(e) => {
            Target::Email {
                email: e.trim().to_string(),
                create,
            }
        }
        (None | Some(Value::Null), Some(_)) => {
            return Err(ApiError::field(
                f("email"),
                "email must be a valid email address",
            ))
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::field(
                f("contact_id"),
                "give contact_id or email, not both",
            ))
        }
        (Some(_), None) => {
            return Err(ApiError::field(
                f("contact_id"),
                "contact_id must be an integer",
            ))
        }
        (None, None) => return Err(ApiError::field(f("contact_id"), "give contact_id or email")),
    };
    let occurred_at = match obj.get("occurred_at") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(parse_instant(s).ok_or_else(|| {
            ApiError::field(f("occurred_at"), format!("\"{s}\" is not an RFC 3339 time"))
        })?),
        Some(_) => {
            return Err(ApiError::field(
                f("occurred_at"),
                "occurred_at must be an RFC 3339 string",
            ))
        }
    };
    let properties = match obj.get("properties") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => {
            if let Some((k, _)) = m.iter().find(|(_, v)| v.is_object() || v.is_array()) {
                return Err(ApiError::field(
                    f(&format!("properties.{k}")),
                    "event property values are text, numbers, booleans or null",
                ));
            }
            m.clone()
        }
        Some(_) => {
            return Err(ApiError::field(
                f("properties"),
                "properties must be an object",
            ))
        }
    };
    Ok(Incoming {
        target,
        name,
        occurred_at,
        properties,
    })
}

pub fn event_json(e: &ContactEvent) -> Value {
    json!({
        "id": e.id,
        "contact_id": e.contact_id,
        "name": e.name,
        "source": e.source,
        "occurred_at": e.occurred_at,
        "properties": e.properties_json(),
    })
}

/// Records one custom event (creating the contact by email if asked) and fires triggers.
fn ingest(
    conn: &mut DbConnection,
    props: &Catalog,
    ctx: &EngineCtx,
    item: Incoming,
    now: DateTime<Utc>,
) -> anyhow::Result<Result<ContactEvent, ApiError>> {
    let contact_id = match item.target {
        Target::Id(id) => match Contact::find(conn, ContactId(id))? {
            Some(c) => c.id,
            None => return Ok(Err(ApiError::NotFound(format!("no contact with id {id}")))),
        },
        Target::Email { email, create } => match Contact::find_by_email(conn, &email)? {
            Some(c) => c.id,
            None if create => {
                let input = ContactInput {
                    email: Some(Some(email)),
                    properties: vec![],
                };
                // Already inside the batch's transaction: the in-transaction write path.
                let validated = match contacts::validate(props, &input, "") {
                    Ok((email, changes)) => contacts::upsert_validated(
                        conn,
                        props,
                        email.flatten().as_deref(),
                        &changes,
                    ),
                    Err(errs) => Err(contacts::ContactError::Invalid(errs)),
                };
                match validated {
                    Ok(w) => w.record.contact.id,
                    Err(contacts::ContactError::Invalid(errs)) => {
                        return Ok(Err(ApiError::fields(errs)))
                    }
                    Err(contacts::ContactError::NotFound) => {
                        return Ok(Err(ApiError::NotFound("contact vanished".into())))
                    }
                    Err(contacts::ContactError::Internal(e)) => return Err(e),
                }
            }
            None => {
                return Ok(Err(ApiError::NotFound(format!(
                    "no contact with email {email} (send \"create_contact\": true to create it)"
                ))))
            }
        },
    };
    let pending = Pending {
        name: item.name,
        properties: serde_json::Value::Object(item.properties).to_string(),
        occurred_at: item.occurred_at.unwrap_or(now),
        source: CUSTOM,
    };
    let recorded = events::record(conn, contact_id, vec![pending], now)?;
    if events::any_listen(&ctx.workflows) {
        if let Some(snapshot) = ContactSnapshot::load(conn, props, ContactId(contact_id))? {
            events::fire(
                conn,
                &ctx.workflows,
                &ctx.catalog,
                &snapshot,
                &recorded,
                Source::User,
                now,
            )?;
        }
    }
    Ok(recorded
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("event not recorded"))))
}

#[utoipa::path(
    post,
    path = "/api/v1/events",
    tag = "events",
    summary = "Record a custom event, or a batch of them (`{events:[...]}` or a JSON array)",
    request_body = crate::api::openapi::EventsInput,
    responses(
        (status = 201, description = "The event (or `{events:[...]}` for a batch)", body = crate::api::openapi::EventsPosted),
        (status = 404, description = "No such contact", body = crate::api::openapi::ApiErrorBody),
        (status = 422, description = "Bad input, naming the field", body = crate::api::openapi::ApiErrorBody),
        (status = 401, description = "Missing or bad token", body = crate::api::openapi::ApiErrorBody),
    )
)]
async fn post_events(
    _auth: ApiAuth,
    state: web::Data<AppState>,
    body: super::body::JsonBody,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let (items, batch) = match &body {
        Value::Array(list) => (list.clone(), true),
        Value::Object(obj) if obj.contains_key("events") => {
            if let Some(k) = obj.keys().find(|k| k.as_str() != "events") {
                return Err(ApiError::field(k.clone(), format!("unknown field \"{k}\"")));
            }
            match obj.get("events") {
                Some(Value::Array(list)) => (list.clone(), true),
                _ => return Err(ApiError::field("events", "events must be a list")),
            }
        }
        Value::Object(_) => (vec![body.clone()], false),
        _ => {
            return Err(ApiError::field(
                "body",
                "expected an event object or a list of events",
            ))
        }
    };
    if batch && items.is_empty() {
        return Err(ApiError::field("events", "the batch is empty"));
    }
    if items.len() > MAX_BATCH {
        return Err(ApiError::field(
            "events",
            format!("at most {MAX_BATCH} events per batch"),
        ));
    }
    // Validate everything first: a batch is all or nothing.
    let parsed = items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            parse_one(
                v,
                &if batch {
                    format!("events[{i}].")
                } else {
                    String::new()
                },
            )
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let result = crate::db::run(&state.pool, move |conn| {
        // An item that fails rolls the whole batch back; its error is handed out here.
        let mut refused: Option<ApiError> = None;
        let committed = crate::db::write_transaction(conn, |conn| {
            let props = Catalog::load(conn)?;
            let ctx = EngineCtx::load(conn, &props)?;
            let now = Utc::now();
            let mut out = Vec::with_capacity(parsed.len());
            for (i, item) in parsed.into_iter().enumerate() {
                match ingest(conn, &props, &ctx, item, now)? {
                    Ok(e) => out.push(e),
                    Err(err) => {
                        refused = Some(match err {
                            ApiError::NotFound(m) if batch => {
                                ApiError::NotFound(format!("events[{i}]: {m}"))
                            }
                            other => other,
                        });
                        anyhow::bail!("batch refused");
                    }
                }
            }
            Ok::<Vec<ContactEvent>, anyhow::Error>(out)
        });
        Ok(match (committed, refused) {
            (_, Some(err)) => Err(err),
            (Ok(v), None) => Ok(v),
            (Err(e), None) => Err(ApiError::Internal(e)),
        })
    })
    .await;
    let recorded = match result {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => return Err(e),
        Err(e) => return Err(ApiError::Internal(e)),
    };
    state.pool.notifier().notify();
    if batch {
        Ok(HttpResponse::Created()
            .json(json!({ "events": recorded.iter().map(event_json).collect::<Vec<_>>() })))
    } else {
        Ok(HttpResponse::Created().json(recorded.first().map(event_json).unwrap_or(Value::Null)))
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Page {
    before: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/api/v1/contacts/{id}/events",
    tag = "events",
    summary = "A contact's events, newest first (50 per page)",
    params(("id" = i64, Path, description = "Contact id"), Page),
    responses(
        (status = 200, description = "A page of events", body = crate::api::openapi::ContactEventPage),
        (status = 404, description = "No such contact", body = crate::api::openapi::ApiErrorBody),
        (status = 401, description = "Missing or bad token", body = crate::api::openapi::ApiErrorBody),
    )
)]
async fn contact_events(
    _auth: ApiAuth,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    q: web::Query<Page>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let before = q.before;
    let out = crate::db::run(&state.pool, move |conn| {
        if Contact::find(conn, ContactId(id))?.is_none() {
            return Ok(None);
        }
        Ok(Some(ContactEvent::of_contact(conn, id, before, 51)?))
    })
    .await?
    .ok_or_else(|| ApiError::NotFound("no contact with that id".into()))?;
    let more = out.len() > 50;
    let page: Vec<&ContactEvent> = out.iter().take(50).collect();
    let next = if more {
        page.last().map(|e| e.id.to_string())
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(
        json!({ "events": page.iter().map(|e| event_json(e)).collect::<Vec<_>>(), "next": next }),
    ))
}
