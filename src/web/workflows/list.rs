//! Automations > Workflows: the list (search, on/off, enrolled now), clone and delete.

use actix_web::web;
use askama::Template;
use serde::Deserialize;

use crate::db::models::workflow::Workflow;
use crate::db::models::WorkflowId;
use crate::services::workflows::{self as svc, WorkflowError};
use crate::state::AppState;
use crate::web::extract::{CsrfForm, Ctx, SignedIn};
use crate::web::filters::thousands;
use crate::web::{render, see_other, WebError, WebResult};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/workflows", web::get().to(index))
        .route(r"/workflows/{id:\d+}/clone", web::post().to(clone))
        .route(r"/workflows/{id:\d+}/delete", web::get().to(confirm_delete))
        .route(r"/workflows/{id:\d+}/delete", web::post().to(delete));
}

pub struct Row {
    pub id: i64,
    pub name: String,
    pub start_label: &'static str,
    pub is_on: bool,
    pub enrolled: String,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "workflows/index.html")]
struct IndexPage {
    ctx: Ctx,
    q: String,
    rows: Vec<Row>,
    /// Workflows in the account, whatever the search.
    total: usize,
    /// "Scheduled actions run on 2 workers: …", or the warning that none runs.
    workers: WorkersLine,
    /// The account's time zone (the list's times).
    tz: String,
}

/// What the Workflows page says about the worker processes (`worker_heartbeats`).
pub struct WorkersLine {
    pub live: usize,
    /// "host (process 123, running since 2026-12-07 09:00)" per worker.
    pub names: Vec<String>,
}

#[derive(Deserialize)]
struct ListQuery {
    q: Option<String>,
}

async fn index(
    user: SignedIn,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> WebResult {
    let q = query.q.clone().unwrap_or_default().trim().to_string();
    let qq = q.clone();
    let since = crate::clock::fmt_instant(
        chrono::Utc::now()
            - chrono::Duration::from_std(2 * crate::worker::MAX_SLEEP).unwrap_or_default(),
    );
    let (workflows, counts, total, live, tz) = crate::db::run(&state.pool, move |conn| {
        let workflows = Workflow::all(conn, Some(&qq))?;
        let total = if qq.is_empty() {
            workflows.len()
        } else {
            Workflow::ids(conn)?.len()
        };
        let live = crate::db::models::worker_heartbeat::WorkerHeartbeat::live(conn, &since)?;
        let tz = crate::db::models::app_setting::account_time_zone(conn)?;
        Ok((workflows, Workflow::enrolled_counts(conn)?, total, live, tz))
    })
    .await?;
    let workers = WorkersLine {
        live: live.len(),
        names: live
            .iter()
            .map(|w| {
                format!(
                    "{} (process {}, running since {})",
                    w.host,
                    w.pid,
                    crate::web::filters::when_text(&w.started_at, tz)
                )
            })
            .collect(),
    };
    let rows = workflows
        .iter()
        .map(|w| Row {
            id: w.id,
            name: w.name.clone(),
            start_label: w.start_label(),
            is_on: w.is_on(),
            enrolled: thousands(
                counts
                    .iter()
                    .find(|(id, _)| *id == w.id)
                    .map(|c| c.1)
                    .unwrap_or(0),
            ),
            updated: crate::web::filters::when_text(&w.updated_at, tz),
        })
        .collect();
    render(&IndexPage {
        ctx: user.ctx("workflows"),
        q,
        rows,
        total,
        workers,
        tz: tz.name().to_string(),
    })
}

async fn clone(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> WebResult {
    let id = WorkflowId(path.into_inner());
    let author = user.email.clone();
    let copy = crate::db::run(&state.pool, move |conn| {
        Ok(match svc::clone(conn, id, &author) {
            Ok(wf) => Some(wf),
            Err(WorkflowError::NotFound) => None,
            Err(WorkflowError::Internal(e)) => return Err(e),
            Err(other) => return Err(anyhow::anyhow!("cloning workflow {id}: {other}")),
        })
    })
    .await?
    .ok_or(WebError::NotFound)?;
    user.set_flash(
        "success",
        format!(
            "Cloned as “{}”. The copy is off until you publish it.",
            copy.name
        ),
    );
    Ok(see_other(&format!("/workflows/{}", copy.id)))
}

#[derive(Template)]
#[template(path = "workflows/delete.html")]
struct DeletePage {
    ctx: Ctx,
    id: i64,
    name: String,
    is_on: bool,
    enrolled: String,
}

async fn confirm_delete(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> WebResult {
    let id = WorkflowId(path.into_inner());
    let found = crate::db::run(&state.pool, move |conn| {
        let Some(wf) = Workflow::find(conn, id)? else {
            return Ok(None);
        };
        let enrolled = crate::services::kept_counts::enrolled(conn, id)?;
        Ok(Some((wf, enrolled)))
    })
    .await?;
    let Some((wf, enrolled)) = found else {
        return Err(WebError::NotFound);
    };
    render(&DeletePage {
        ctx: user.ctx("workflows"),
        id: wf.id,
        is_on: wf.is_on(),
        name: wf.name,
        enrolled: thousands(enrolled),
    })
}

async fn delete(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> WebResult {
    let id = WorkflowId(path.into_inner());
    let name = crate::db::run(&state.pool, move |conn| {
        let Some(wf) = Workflow::find(conn, id)? else {
            return Ok(None);
        };
        match svc::delete(conn, id) {
            Ok(()) => Ok(Some(wf.name)),
            Err(WorkflowError::NotFound) => Ok(None),
            Err(WorkflowError::Internal(e)) => Err(e),
            Err(other) => Err(anyhow::anyhow!("deleting workflow {id}: {other}")),
        }
    })
    .await?
    .ok_or(WebError::NotFound)?;
    user.set_flash("success", format!("Deleted the workflow “{name}”."));
    Ok(see_other("/workflows"))
}
