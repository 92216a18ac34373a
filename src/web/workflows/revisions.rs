//! Revisions (`/workflows/{id}/revisions`): every saved revision (number, time, author), one
//! revision's JSON definition (`/revisions/{n}`), and Restore (a new revision with the old
//! definition, through `services::workflows::restore`).

use actix_web::web;
use askama::Template;
use chrono::Utc;

use super::header::WorkflowHeader;
use super::support;
use crate::db::models::workflow::Workflow;
use crate::db::models::WorkflowId;
use crate::services::workflows::{self as svc, WorkflowError};
use crate::startup::AppState;
use crate::web::extract::{CsrfForm, Ctx, SignedIn};
use crate::web::{render, see_other, WebError, WebResult};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/workflows/{id}/revisions", web::get().to(index))
        .route("/workflows/{id}/revisions/{n}", web::get().to(show))
        .route(
            "/workflows/{id}/revisions/{n}/restore",
            web::post().to(restore),
        );
}

pub struct RevisionRow {
    pub number: i32,
    pub at: String,
    pub author: String,
    pub current: bool,
    pub viewing: bool,
}

pub struct Viewed {
    pub number: i32,
    pub json: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "workflows/revisions.html")]
struct RevisionsPage {
    ctx: Ctx,
    header: WorkflowHeader,
    rows: Vec<RevisionRow>,
    viewed: Option<Viewed>,
}

async fn page(
    user: SignedIn,
    state: web::Data<AppState>,
    id: WorkflowId,
    view: Option<i32>,
) -> WebResult {
    let ctx = user.ctx("workflows");
    let loaded = crate::db::run(&state.pool, move |conn| {
        let Some((wf, header)) = support::load(conn, id, "revisions")? else {
            return Ok(None);
        };
        let revisions = Workflow::revisions(conn, id)?;
        Ok(Some((wf, header, revisions)))
    })
    .await?;
    let Some((wf, header, revisions)) = loaded else {
        return Err(WebError::NotFound);
    };
    let current = wf.row.revision;
    let viewed = match view {
        None => None,
        Some(n) => {
            let rev = revisions
                .iter()
                .find(|r| r.revision == n)
                .ok_or(WebError::NotFound)?;
            let json = serde_json::from_str::<serde_json::Value>(&rev.definition)
                .and_then(|v| serde_json::to_string_pretty(&v))
                .unwrap_or_else(|_| rev.definition.clone());
            Some(Viewed {
                number: n,
                json,
                current: n == current,
            })
        }
    };
    render(&RevisionsPage {
        ctx,
        header,
        rows: revisions
            .iter()
            .map(|r| RevisionRow {
                number: r.revision,
                at: support::local_text(&r.created_at, wf.tz),
                author: r.author.clone(),
                current: r.revision == current,
                viewing: view == Some(r.revision),
            })
            .collect(),
        viewed,
    })
}

async fn index(user: SignedIn, state: web::Data<AppState>, path: web::Path<i64>) -> WebResult {
    page(user, state, WorkflowId(path.into_inner()), None).await
}

async fn show(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<(i64, i32)>,
) -> WebResult {
    let (id, n) = path.into_inner();
    page(user, state, WorkflowId(id), Some(n)).await
}

async fn restore(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<(i64, i32)>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> WebResult {
    let (id, n) = path.into_inner();
    let wf_id = WorkflowId(id);
    let author = user.email.clone();
    let result = crate::db::run(&state.pool, move |conn| {
        Ok(svc::restore(conn, wf_id, n, &author, Utc::now()))
    })
    .await?;
    match result {
        Ok(wf) => {
            user.set_flash(
                "success",
                format!("Restored revision {n} as revision {}.", wf.revision),
            );
            Ok(see_other(&support::editor_url(id)))
        }
        Err(WorkflowError::Invalid(errors)) => {
            let why = errors
                .iter()
                .take(3)
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ");
            user.set_flash(
                "error",
                format!("Revision {n} cannot be restored as it is no longer valid — {why}"),
            );
            Ok(see_other(&format!("/workflows/{id}/revisions/{n}")))
        }
        Err(WorkflowError::NotFound) => Err(WebError::NotFound),
        Err(WorkflowError::Internal(e)) => Err(e.into()),
        Err(other) => Err(WebError::Internal(anyhow::anyhow!("restoring: {other}"))),
    }
}
