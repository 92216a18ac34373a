//! Changing a workflow that is on (issue 13): the unpublished changes in words with their impact
//! on the contacts enrolled now (shown on Review and on the confirmation), Update and Discard;
//! and Turn off, which asks first and says what happens to the pending actions.

use crate::db::DbConnection;
use actix_web::web;
use askama::Template;
use chrono::Utc;

use super::changes;
use super::describe::Names;
use super::header::WorkflowHeader;
use super::support::{self, plural};
use crate::db::models::draft::Draft;
use crate::db::models::workflow::Workflow;
use crate::db::models::WorkflowId;
use crate::engine::revise::{self, Impact};
use crate::engine::WorkflowCtx;
use crate::services::{drafts, workflows as svc, workflows::WorkflowError};
use crate::state::AppState;
use crate::web::extract::{CsrfForm, Ctx, SignedIn};
use crate::web::{render, see_other, WebError, WebResult};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/workflows/{id}/review/update",
        web::get().to(confirm_update),
    )
    .route("/workflows/{id}/update", web::post().to(update))
    .route("/workflows/{id}/discard-changes", web::post().to(discard))
    .route("/workflows/{id}/turn-off", web::get().to(confirm_turn_off))
    .route("/workflows/{id}/turn-off", web::post().to(turn_off));
}

/// The unpublished changes of a live workflow, as Review shows them.
pub struct PendingView {
    /// One sentence per change ("Step 3 added: …").
    pub changes: Vec<String>,
    /// "315 enrolled contacts: 2 have their next step re-planned, 1 finishes, 312 unchanged."
    pub impact: String,
    pub author: String,
    pub updated_at: String,
}

/// The impact in one sentence.
pub fn impact_sentence(i: &Impact) -> String {
    if i.enrolled == 0 {
        return "Nobody is enrolled now: the changes apply to contacts enrolled from now on."
            .into();
    }
    let mut parts = Vec::new();
    if i.replanned > 0 {
        parts.push(format!(
            "{} their next step re-planned (another time or another step; history: “rescheduled”)",
            if i.replanned == 1 {
                "1 has".to_string()
            } else {
                format!("{} have", crate::web::filters::thousands(i.replanned))
            }
        ));
    }
    if i.finishing > 0 {
        parts.push(format!(
            "{} no step left and {} the workflow (history: “completed”)",
            if i.finishing == 1 {
                "1 has".to_string()
            } else {
                format!("{} have", crate::web::filters::thousands(i.finishing))
            },
            if i.finishing == 1 {
                "completes"
            } else {
                "complete"
            }
        ));
    }
    parts.push(format!(
        "{} unchanged",
        crate::web::filters::thousands(i.unchanged())
    ));
    let who = if i.sampled() {
        format!(
            "Of the first {} of {} checked",
            crate::web::filters::thousands(i.checked),
            plural(i.enrolled, "enrolled contact", "enrolled contacts")
        )
    } else {
        plural(i.enrolled, "enrolled contact", "enrolled contacts")
    };
    format!("{who}: {}.", parts.join(", "))
}

/// The changes waiting on a live workflow, compared with the live revision, with their impact.
/// `None` when there are none (or the workflow is off: it is edited directly then).
pub fn pending(conn: &mut DbConnection, live: &Workflow) -> anyhow::Result<Option<PendingView>> {
    let names = Names::load(conn)?;
    let account_tz = crate::db::models::app_setting::account_time_zone(conn)?;
    let Some((mut view, edited)) = pending_described(conn, live, &names, account_tz)? else {
        return Ok(None);
    };
    view.impact = impact_sentence(&revise::impact(conn, &edited, Utc::now())?);
    Ok(Some(view))
}

/// The changes in words, without their impact (Review counts that in the background), and
/// the workflow as edited.
pub fn pending_described(
    conn: &mut DbConnection,
    live: &Workflow,
    names: &Names,
    account_tz: chrono_tz::Tz,
) -> anyhow::Result<Option<(PendingView, WorkflowCtx)>> {
    if !live.is_on() {
        return Ok(None);
    }
    let Some(draft) = Draft::find(conn, live.id())? else {
        return Ok(None);
    };
    let old = live.parsed()?;
    let new = draft.parsed()?;
    let mut row = live.clone();
    row.name = new.name.trim().to_string();
    row.definition = draft.definition.clone();
    let edited = WorkflowCtx::new(row, account_tz)?;
    let mut lines = changes::changes(&old, &new, names, edited.tz.name(), account_tz.name());
    if lines.is_empty() {
        lines.push("No differences from the live version.".into());
    }
    let view = PendingView {
        changes: lines,
        impact: String::new(),
        author: draft.author,
        updated_at: support::local_text(&draft.updated_at, edited.tz),
    };
    Ok(Some((view, edited)))
}

#[derive(Template)]
#[template(path = "workflows/update_confirm.html")]
struct UpdatePage {
    ctx: Ctx,
    header: WorkflowHeader,
    pending: PendingView,
    problems: usize,
}

async fn confirm_update(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> WebResult {
    let id = WorkflowId(path.into_inner());
    let loaded = crate::db::run(&state.pool, move |conn| {
        let Some(live) = Workflow::find(conn, id)? else {
            return Ok(None);
        };
        let header = WorkflowHeader::load(conn, &live, "review")?;
        let problems = svc::problems(conn, &live)?.len();
        Ok(Some((header, pending(conn, &live)?, problems)))
    })
    .await?
    .ok_or(WebError::NotFound)?;
    match loaded {
        (header, Some(pending), problems) => render(&UpdatePage {
            ctx: user.ctx("workflows"),
            header,
            pending,
            problems,
        }),
        (_, None, _) => {
            user.set_flash("warning", "There are no unpublished changes to review.");
            Ok(see_other(&format!("/workflows/{}/review", id.0)))
        }
    }
}

async fn update(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> WebResult {
    let id = WorkflowId(path.into_inner());
    let author = user.email.clone();
    let result = crate::db::run(&state.pool, move |conn| {
        let Some(live) = Workflow::find(conn, id)? else {
            return Ok(Err(WorkflowError::NotFound));
        };
        let problems = svc::problems(conn, &live)?;
        if !problems.is_empty() {
            return Ok(Err(WorkflowError::Problems(problems)));
        }
        Ok(drafts::apply(conn, id, &author, Utc::now()))
    })
    .await?;
    let review = format!("/workflows/{}/review", id.0);
    match result {
        Ok(Some(wf)) => {
            user.set_flash(
                "success",
                format!(
                    "Updated: enrolled contacts follow revision {} from their next step.",
                    wf.revision
                ),
            );
            Ok(see_other(&support::editor_url(id.0)))
        }
        Ok(None) => {
            user.set_flash("warning", "There were no unpublished changes to save.");
            Ok(see_other(&review))
        }
        Err(WorkflowError::Problems(p)) => {
            user.set_flash(
                "error",
                format!(
                    "Not updated: fix the {} listed below first.",
                    plural(p.len() as i64, "problem", "problems")
                ),
            );
            Ok(see_other(&review))
        }
        Err(WorkflowError::Invalid(errors)) => {
            user.set_flash(
                "error",
                format!(
                    "Not updated: the changes are no longer valid — {}",
                    errors
                        .iter()
                        .take(3)
                        .map(|e| e.message.clone())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            );
            Ok(see_other(&review))
        }
        Err(WorkflowError::NotFound) => Err(WebError::NotFound),
        Err(WorkflowError::Internal(e)) => Err(e.into()),
    }
}

async fn discard(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> WebResult {
    let id = WorkflowId(path.into_inner());
    let gone = crate::db::run(&state.pool, move |conn| drafts::discard(conn, id)).await?;
    user.set_flash(
        if gone { "success" } else { "warning" },
        if gone {
            "Unpublished changes discarded: the workflow is as it is live."
        } else {
            "There were no unpublished changes."
        },
    );
    Ok(see_other(&support::editor_url(id.0)))
}

#[derive(Template)]
#[template(path = "workflows/turn_off.html")]
struct TurnOffPage {
    ctx: Ctx,
    header: WorkflowHeader,
    /// "315 contacts"
    enrolled: String,
    has_draft: bool,
}

async fn confirm_turn_off(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> WebResult {
    let id = WorkflowId(path.into_inner());
    let (header, enrolled, has_draft) = crate::db::run(&state.pool, move |conn| {
        let Some(live) = Workflow::find(conn, id)? else {
            return Ok(None);
        };
        let header = WorkflowHeader::load(conn, &live, "review")?;
        let enrolled = crate::services::kept_counts::enrolled(conn, id)?;
        let has_draft = Draft::find(conn, id)?.is_some();
        Ok(Some((header, enrolled, has_draft)))
    })
    .await?
    .ok_or(WebError::NotFound)?;
    if !header.is_on {
        user.set_flash("warning", "This workflow is already off.");
        return Ok(see_other(&support::editor_url(id.0)));
    }
    render(&TurnOffPage {
        ctx: user.ctx("workflows"),
        header,
        enrolled: plural(enrolled, "contact", "contacts"),
        has_draft,
    })
}

async fn turn_off(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> WebResult {
    let id = WorkflowId(path.into_inner());
    match crate::db::run(&state.pool, move |conn| Ok(svc::turn_off(conn, id))).await? {
        Ok(_) => {
            user.set_flash(
                "success",
                "Turned off: no new enrollments. Enrolled contacts stay enrolled; an action whose time comes while the workflow is off is skipped and logged in History.",
            );
            Ok(see_other(&support::editor_url(id.0)))
        }
        Err(WorkflowError::NotFound) => Err(WebError::NotFound),
        Err(WorkflowError::Internal(e)) => Err(e.into()),
        Err(other) => Err(WebError::Internal(anyhow::anyhow!("turning off: {other}"))),
    }
}
