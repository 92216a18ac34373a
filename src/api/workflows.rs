//! Workflows: create, read, replace, publish, turn off; enrollments; history; preview.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::ApiAuth;
use super::error::{ApiError, ApiResult};
use crate::clock::parse_instant;
use crate::db::models::enrollment::Enrollment;
use crate::db::models::history::{self, HistoryFilter};
use crate::db::models::workflow::Workflow;
use crate::db::models::{ContactId, WorkflowId};
use crate::engine::{self, WorkflowCtx};
use crate::services::workflows::{self as svc, WorkflowError};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/workflows", web::post().to(create))
        .route("/workflows", web::get().to(list))
        .route("/workflows/{id}", web::get().to(get))
        .route("/workflows/{id}", web::put().to(replace))
        .route("/workflows/{id}/publish", web::post().to(publish))
        .route("/workflows/{id}/turn-off", web::post().to(turn_off))
        .route("/workflows/{id}/enrollments", web::get().to(enrollments))
        .route(
            "/workflows/{id}/enrollments",
            web::post().to(enroll_manually),
        )
        .route("/workflows/{id}/history", web::get().to(history_page))
        .route("/workflows/{id}/preview", web::get().to(preview));
}

const API_AUTHOR: &str = "API";

pub fn workflow_json(wf: &Workflow) -> Value {
    json!({
        "id": wf.id,
        "status": wf.status,
        "revision": wf.revision,
        "definition": wf.definition_json(),
    })
}

fn map_error(e: WorkflowError) -> ApiError {
    match e {
        WorkflowError::Invalid(errors) => ApiError::fields(errors),
        WorkflowError::Problems(problems) => {
            let first = problems.first().cloned();
            ApiError::Invalid {
                field: first.as_ref().map(|p| p.field.clone()),
                message: format!(
                    "the workflow cannot be turned on: {}",
                    first.map(|p| p.message).unwrap_or_default()
                ),
                all: problems
                    .into_iter()
                    .map(|p| crate::domain::errors::FieldError::new(p.field, p.message))
                    .collect(),
            }
        }
        WorkflowError::NotFound => ApiError::NotFound("no workflow with that id".into()),
        WorkflowError::Internal(e) => ApiError::Internal(e),
    }
}

fn not_found() -> ApiError {
    ApiError::NotFound("no workflow with that id".into())
}

#[utoipa::path(
    post,
    path = "/api/v1/workflows",
    tag = "workflows",
    summary = "Create a workflow (a draft) from a definition",
    request_body = crate::domain::definition::Definition,
    responses(
        (status = 201, description = "Created", body = crate::api::openapi::Workflow),
        (status = 422, description = "Bad input, naming the field", body = crate::api::openapi::ApiErrorBody),
        (status = 401, description = "Missing or bad token", body = crate::api::openapi::ApiErrorBody),
    )
)]
async fn create(
    _auth: ApiAuth,
    state: web::Data<AppState>,
    body: super::body::JsonBody,
) -> ApiResult<HttpResponse> {
    let json = body.into_inner();
    let wf = crate::db::run(&state.pool, move |conn| {
        Ok(svc::create(conn, &json, API_AUTHOR))
    })
    .await?
    .map_err(map_error)?;
    Ok(HttpResponse::Created().json(workflow_json(&wf)))
}

#[utoipa::path(
    get,
    path = "/api/v1/workflows",
    tag = "workflows",
    summary = "Every workflow",
    responses(
        (status = 200, description = "The workflows", body = crate::api::openapi::WorkflowList),
        (status = 401, description = "Missing or bad token", body = crate::api::openapi::ApiErrorBody),
    )
)]
async fn list(_auth: ApiAuth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let all = crate::db::run(&state.pool, |conn| Workflow::all(conn, None)).await?;
    Ok(HttpResponse::Ok()
        .json(json!({ "workflows": all.iter().map(workflow_json).collect::<Vec<_>>() })))
}

#[utoipa::path(
    get,
    path = "/api/v1/workflows/{id}",
    tag = "workflows",
    summary = "A workflow",
    params(("id" = i64, Path, description = "Workflow id")),
    responses(
        (status = 200, description = "The workflow", body = crate::api::openapi::Workflow),
        (status = 404, description = "No such workflow", body = crate::api::openapi::ApiErrorBody),
        (status = 401, description = "Missing or bad token", body = crate::api::openapi::ApiErrorBody),
    )
)]
async fn get(
    _auth: ApiAuth,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = WorkflowId(path.into_inner());
    let wf = crate::db::run(&state.pool, move |conn| Workflow::find(conn, id))
        .await?
        .ok_or_else(not_found)?;
    Ok(HttpResponse::Ok().json(workflow_json(&wf)))
}

#[utoipa::path(
    put,
    path = "/api/v1/workflows/{id}",
    tag = "workflows",
    summary = "Replace a workflow's definition (a new revision)",
    params(("id" = i64, Path, description = "Workflow id")),
    request_body = crate::domain::definition::Definition,
    responses(
        (status = 200, description = "The workflow", body = crate::api::openapi::Workflow),
        (status = 404, description = "No such workflow", body = crate::api::openapi::ApiErrorBody),
        (status = 422, description = "Bad input, naming the field", body = crate::api::openapi::ApiErrorBody),
        (status = 401, description = "Missing or bad token", body = crate::api::openapi::ApiErrorBody),
    )
)]
async fn replace(
    _auth: ApiAuth,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    body: super::body::JsonBody,
) -> ApiResult<HttpResponse> {
    let id = WorkflowId(path.into_inner());
    let json = body.into_inner();
    let wf = crate::db::run(&state.pool, move |conn| {
        Ok(svc::save(conn, id, &json, API_AUTHOR, Utc::now()))
    })
    .await?
    .map_err(map_error)?;
    Ok(HttpResponse::Ok().json(workflow_json(&wf)))
}

#[utoipa::path(
    post,
    path = "/api/v1/workflows/{id}/publish",
    tag = "workflows",
    summary = "Turn a workflow on, optionally enrolling existing contacts",
    params(("id" = i64, Path, description = "Workflow id")),
    request_body = Option<crate::api::openapi::PublishBody>,
    responses(
        (status = 200, description = "The workflow, now on", body = crate::api::openapi::Published),
        (status = 404, description = "No such workflow", body = crate::api::openapi::ApiErrorBody),
        (status = 422, description = "Bad input, naming the field", body = crate::api::openapi::ApiErrorBody),
        (status = 401, description = "Missing or bad token", body = crate::api::openapi::ApiErrorBody),
    )
)]
async fn publish(
    _auth: ApiAuth,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    body: Option<super::body::JsonBody>,
) -> ApiResult<HttpResponse> {
    let id = WorkflowId(path.into_inner());
    let enroll_existing = match body.map(|b| b.into_inner()) {
        None | Some(Value::Null) => false,
        Some(Value::Object(obj)) => {
            if let Some(k) = obj.keys().find(|k| k.as_str() != "enroll_existing") {
                return Err(ApiError::field(k.clone(), format!("unknown field \"{k}\"")));
            }
            match obj.get("enroll_existing") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => {
                    return Err(ApiError::field(
                        "enroll_existing",
                        "enroll_existing must be true or false",
                    ))
                }
            }
        }
        Some(_) => return Err(ApiError::field("body", "expected a JSON object")),
    };
    let wf = crate::db::run(&state.pool, move |conn| {
        Ok(svc::publish(conn, id, enroll_existing))
    })
    .await?
    .map_err(map_error)?;
    let mut body = workflow_json(&wf);
    if enroll_existing {
        let report = engine::backfill::start(&state.pool, id, Utc::now()).await?;
        body["enrollment"] =
            json!({ "state": report.state, "enrolled": report.done, "total": report.total });
    }
    Ok(HttpResponse::Ok().json(body))
}

#[utoipa::path(
    post,
    path = "/api/v1/workflows/{id}/turn-off",
    tag = "workflows",
    summary = "Turn a workflow off",
    params(("id" = i64, Path, description = "Workflow id")),
    responses(
        (status = 200, description = "The workflow, now off", body = crate::api::openapi::Workflow),
        (status = 404, description = "No such workflow", body = crate::api::openapi::ApiErrorBody),
        (status = 401, description = "Missing or bad token", body = crate::api::openapi::ApiErrorBody),
    )
)]
async fn turn_off(
    _auth: ApiAuth,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = WorkflowId(path.into_inner());
    let wf = crate::db::run(&state.pool, move |conn| Ok(svc::turn_off(conn, id)))
        .await?
        .map_err(map_error)?;
    Ok(HttpResponse::Ok().json(workflow_json(&wf)))
}

/// An enrollment as the API shows it; times in the workflow's zone.
pub fn enrollment_json(e: &Enrollment, wf: &WorkflowCtx) -> Value {
    json!({
        "id": e.id,
        "contact_id": e.contact_id,
        "status": e.status,
        "cycle_year": if e.cycle_year == 0 { Value::Null } else { json!(e.cycle_year) },
        "next_step": e.next_top_level(),
        "next_due_at": e.next_due_at.as_deref().and_then(parse_instant).map(|t| t.with_timezone(&wf.tz).to_rfc3339()),
        "anchor_date": e.anchor_date,
        "enrolled_at": e.enrolled_at,
        "reason": e.reason,
    })
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ContactQuery {
    contact_id: Option<String>,
}

fn parse_contact_id(raw: Option<&str>, required: bool) -> ApiResult<Option<i64>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None if required => Err(ApiError::field("contact_id", "contact_id is required")),
        None => Ok(None),
        Some(s) => s
            .parse::<i64>()
            .map(Some)
            .map_err(|_| ApiError::field("contact_id", format!("\"{s}\" is not a contact id"))),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/workflows/{id}/enrollments",
    tag = "workflows",
    summary = "A workflow's enrollments (up to 1,000)",
    params(("id" = i64, Path, description = "Workflow id"), ContactQuery),
    responses(
        (status = 200, description = "The enrollments", body = crate::api::openapi::EnrollmentList),
        (status = 404, description = "No such workflow", body = crate::api::openapi::ApiErrorBody),
        (status = 422, description = "Bad input, naming the field", body = crate::api::openapi::ApiErrorBody),
        (status = 401, description = "Missing or bad token", body = crate::api::openapi::ApiErrorBody),
    )
)]
async fn enrollments(
    _auth: ApiAuth,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    q: web::Query<ContactQuery>,
) -> ApiResult<HttpResponse> {
    let id = WorkflowId(path.into_inner());
    let contact = parse_contact_id(q.contact_id.as_deref(), false)?;
    let out = crate::db::run(&state.pool, move |conn| {
        let Some(wf) = WorkflowCtx::load(conn, id)? else {
            return Ok(None);
        };
        let rows = Enrollment::for_workflow(conn, id, contact.map(ContactId), 1000)?;
        Ok(Some(
            rows.iter()
                .map(|e| enrollment_json(e, &wf))
                .collect::<Vec<_>>(),
        ))
    })
    .await?
    .ok_or_else(not_found)?;
    Ok(HttpResponse::Ok().json(json!({ "enrollments": out })))
}

#[utoipa::path(
    post,
    path = "/api/v1/workflows/{id}/enrollments",
    tag = "workflows",
    summary = "Enroll a contact by hand",
    params(("id" = i64, Path, description = "Workflow id")),
    request_body = crate::api::openapi::EnrollBody,
    responses(
        (status = 201, description = "Enrolled", body = crate::api::openapi::Enrollment),
        (status = 404, description = "No such workflow or contact", body = crate::api::openapi::ApiErrorBody),
        (status = 409, description = "The workflow is off", body = crate::api::openapi::ApiErrorBody),
        (status = 422, description = "Bad input, or the contact cannot be enrolled (the reason)", body = crate::api::openapi::ApiErrorBody),
        (status = 401, description = "Missing or bad token", body = crate::api::openapi::ApiErrorBody),
    )
)]
async fn enroll_manually(
    _auth: ApiAuth,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    body: super::body::JsonBody,
) -> ApiResult<HttpResponse> {
    let id = WorkflowId(path.into_inner());
    let Value::Object(obj) = body.into_inner() else {
        return Err(ApiError::field("body", "expected a JSON object"));
    };
    if let Some(k) = obj.keys().find(|k| k.as_str() != "contact_id") {
        return Err(ApiError::field(k.clone(), format!("unknown field \"{k}\"")));
    }
    let contact_id = match obj.get("contact_id") {
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| ApiError::field("contact_id", "contact_id must be an integer"))?,
        Some(Value::String(s)) => parse_contact_id(Some(s), true)?.unwrap_or_default(),
        _ => return Err(ApiError::field("contact_id", "contact_id is required")),
    };
    let outcome = crate::db::run(&state.pool, move |conn| {
        manual_enroll(conn, id, ContactId(contact_id), Utc::now())
    })
    .await??;
    Ok(HttpResponse::Created().json(outcome))
}

/// Manual enrollment through the service the pages share, its refusals as API errors.
fn manual_enroll(
    conn: &mut crate::db::DbConnection,
    id: WorkflowId,
    contact: ContactId,
    now: DateTime<Utc>,
) -> anyhow::Result<ApiResult<Value>> {
    use crate::services::enrollment::{manual_enroll, ManualEnrollError as E};
    Ok(match manual_enroll(conn, id, contact, now)? {
        Ok((e, wf)) => Ok(enrollment_json(&e, &wf)),
        Err(e @ (E::WorkflowNotFound | E::ContactNotFound)) => {
            Err(ApiError::NotFound(e.to_string()))
        }
        Err(e @ E::Off) => Err(ApiError::Conflict(e.to_string())),
        Err(e @ E::Refused(_)) => Err(ApiError::field("contact_id", e.to_string())),
    })
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct HistoryQuery {
    contact_id: Option<String>,
    event: Option<String>,
    before: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<String>,
}

pub fn event_json(e: &history::Event, wf: &WorkflowCtx) -> Value {
    let step = match e.step.as_deref() {
        None => Value::Null,
        Some(s) => s
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(s.to_string())),
    };
    json!({
        "id": e.id,
        "at": parse_instant(&e.at).map(|t| t.with_timezone(&wf.tz).to_rfc3339()).unwrap_or_else(|| e.at.clone()),
        "contact_id": e.contact_id,
        "event": e.event,
        "step": step,
        "detail": e.detail,
        "revision": e.revision,
    })
}

fn instant_param(name: &str, raw: Option<&str>) -> ApiResult<Option<String>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse_instant(s)
            .map(|t| Some(crate::clock::fmt_instant(t)))
            .ok_or_else(|| ApiError::field(name, format!("\"{s}\" is not an RFC 3339 time"))),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/workflows/{id}/history",
    tag = "workflows",
    summary = "A workflow's history, newest first (keyset pages)",
    params(("id" = i64, Path, description = "Workflow id"), HistoryQuery),
    responses(
        (status = 200, description = "A page of events", body = crate::api::openapi::HistoryPage),
        (status = 404, description = "No such workflow", body = crate::api::openapi::ApiErrorBody),
        (status = 422, description = "Bad input, naming the field", body = crate::api::openapi::ApiErrorBody),
        (status = 401, description = "Missing or bad token", body = crate::api::openapi::ApiErrorBody),
    )
)]
async fn history_page(
    _auth: ApiAuth,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    q: web::Query<HistoryQuery>,
) -> ApiResult<HttpResponse> {
    let id = WorkflowId(path.into_inner());
    let q = q.into_inner();
    let filter = HistoryFilter {
        contact_id: parse_contact_id(q.contact_id.as_deref(), false)?,
        event: match q.event.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(e) if history::ALL_EVENTS.contains(&e) => Some(e.to_string()),
            Some(e) => {
                return Err(ApiError::field(
                    "event",
                    format!("\"{e}\" is not one of: {}", history::ALL_EVENTS.join(", ")),
                ))
            }
        },
        before: match q.before.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(b) => Some(b.parse::<i64>().map_err(|_| {
                ApiError::field("before", "before must be the cursor from a previous page")
            })?),
        },
        from: instant_param("from", q.from.as_deref())?,
        to: instant_param("to", q.to.as_deref())?,
    };
    let limit = match q.limit.as_deref() {
        None => 50,
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|l| (1..=500).contains(l))
            .ok_or_else(|| ApiError::field("limit", "limit must be 1–500"))?,
    };
    let out = crate::db::run(&state.pool, move |conn| {
        let Some(wf) = WorkflowCtx::load(conn, id)? else {
            return Ok(None);
        };
        let (events, more) = history::page(conn, id.0, &filter, limit)?;
        let next = if more {
            events.last().map(|e| e.id)
        } else {
            None
        };
        Ok(Some((
            events
                .iter()
                .map(|e| event_json(e, &wf))
                .collect::<Vec<_>>(),
            next,
        )))
    })
    .await?
    .ok_or_else(not_found)?;
    Ok(HttpResponse::Ok().json(json!({ "events": out.0, "next": out.1.map(|n| n.to_string()) })))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct PreviewQuery {
    contact_id: Option<String>,
    now: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/workflows/{id}/preview",
    tag = "workflows",
    summary = "The timeline a contact would get if enrolled at `now`",
    params(("id" = i64, Path, description = "Workflow id"), PreviewQuery),
    responses(
        (status = 200, description = "The timeline", body = crate::api::openapi::Preview),
        (status = 404, description = "No such workflow or contact", body = crate::api::openapi::ApiErrorBody),
        (status = 422, description = "Bad input, naming the field", body = crate::api::openapi::ApiErrorBody),
        (status = 401, description = "Missing or bad token", body = crate::api::openapi::ApiErrorBody),
    )
)]
async fn preview(
    _auth: ApiAuth,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    q: web::Query<PreviewQuery>,
) -> ApiResult<HttpResponse> {
    let id = WorkflowId(path.into_inner());
    let contact = ContactId(parse_contact_id(q.contact_id.as_deref(), true)?.unwrap_or_default());
    let now = match q.now.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Utc::now(),
        Some(s) => parse_instant(s)
            .ok_or_else(|| ApiError::field("now", format!("\"{s}\" is not an RFC 3339 time")))?,
    };
    let out = crate::db::run(&state.pool, move |conn| {
        engine::preview::preview(conn, id, contact, now)
    })
    .await?;
    match out {
        engine::preview::PreviewResult::NoWorkflow => Err(not_found()),
        engine::preview::PreviewResult::NoContact => {
            Err(ApiError::NotFound("no contact with that id".into()))
        }
        engine::preview::PreviewResult::Invalid(field, message) => {
            Err(ApiError::field(field, message))
        }
        engine::preview::PreviewResult::Timeline(t) => Ok(HttpResponse::Ok().json(t.to_json())),
    }
}
