//! Revisions (`/workflows/{id}/revisions`): every saved revision (number, time, author), one
//! revision's changes in words against another (`/revisions/{n}?compare=m`, by default the one
//! before it) with its JSON definition behind a disclosure, and Restore (a new revision with the
//! old definition; for a live workflow, unpublished changes to review first).

use actix_web::web;
use askama::Template;
use chrono::Utc;

use super::changes;
use super::describe::Names;
use super::header::WorkflowHeader;
use super::support;
use crate::db::models::workflow::Workflow;
use crate::db::models::WorkflowId;
use crate::domain::definition::Definition;
use crate::services::drafts::{self, Saved};
use crate::services::workflows::WorkflowError;
use crate::state::AppState;
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
    /// The revision compared with, and the changes from it to this one in words.
    pub compared_with: Option<i32>,
    pub changes: Vec<String>,
    /// Revision numbers to compare with (every other one), and whether it is the one shown.
    pub others: Vec<(i32, bool)>,
}

#[derive(serde::Deserialize)]
struct CompareQuery {
    compare: Option<i32>,
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
    compare: Option<i32>,
) -> WebResult {
    let ctx = user.ctx("workflows");
    let loaded = crate::db::run(&state.pool, move |conn| {
        let Some((wf, header)) = support::load(conn, id, "revisions")? else {
            return Ok(None);
        };
        let revisions = Workflow::revisions(conn, id)?;
        let names = Names::load(conn)?;
        let account_tz = crate::db::models::app_setting::account_time_zone(conn)?;
        Ok(Some((wf, header, revisions, names, account_tz)))
    })
    .await?;
    let Some((wf, header, revisions, names, account_tz)) = loaded else {
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
            // Compared with the chosen revision, else the one before it.
            let base = compare
                .filter(|m| *m != n)
                .and_then(|m| revisions.iter().find(|r| r.revision == m))
                .or_else(|| {
                    revisions
                        .iter()
                        .filter(|r| r.revision < n)
                        .max_by_key(|r| r.revision)
                });
            let parse = |text: &str| serde_json::from_str::<Definition>(text).ok();
            let changes = match (
                base.and_then(|b| parse(&b.definition)),
                parse(&rev.definition),
            ) {
                (Some(old), Some(new)) => {
                    let mut lines =
                        changes::changes(&old, &new, &names, wf.tz.name(), account_tz.name());
                    if lines.is_empty() {
                        lines.push("No differences.".into());
                    }
                    lines
                }
                (None, _) if base.is_none() => {
                    vec!["The first revision: the workflow as created.".into()]
                }
                _ => vec![
                    "One of these revisions cannot be read as a definition; compare their JSON."
                        .into(),
                ],
            };
            Some(Viewed {
                number: n,
                json,
                current: n == current,
                compared_with: base.map(|b| b.revision),
                changes,
                others: revisions
                    .iter()
                    .map(|r| r.revision)
                    .filter(|m| *m != n)
                    .map(|m| (m, base.map(|b| b.revision) == Some(m)))
                    .collect(),
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
    page(user, state, WorkflowId(path.into_inner()), None, None).await
}

async fn show(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<(i64, i32)>,
    q: web::Query<CompareQuery>,
) -> WebResult {
    let (id, n) = path.into_inner();
    page(user, state, WorkflowId(id), Some(n), q.compare).await
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
        Ok(drafts::restore_edit(conn, wf_id, n, &author, Utc::now()))
    })
    .await?;
    match result {
        Ok(Saved::Revision(wf)) => {
            user.set_flash(
                "success",
                format!("Restored revision {n} as revision {}.", wf.revision),
            );
            Ok(see_other(&support::editor_url(id)))
        }
        Ok(Saved::Draft(_)) => {
            user.set_flash(
                "success",
                format!("Revision {n} is now your unpublished changes: review their impact, then update the live workflow."),
            );
            Ok(see_other(&format!("/workflows/{id}/review")))
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
