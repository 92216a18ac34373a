//! What workflows leave for people: the **Outbox** (emails kept when no SMTP server is
//! configured), **Tasks** (from "Create task" actions; mark done) and the **Inbox** (internal
//! notifications; mark read). Newest first, keyset pagination by id.

use std::collections::HashMap;

use crate::db::DbConnection;
use actix_web::web;
use askama::Template;
use chrono_tz::Tz;
use serde::Deserialize;

use super::extract::{CsrfForm, Ctx, SignedIn};
use super::{render, see_other, WebError, WebResult};
use crate::clock::now_text;
use crate::db::models::inbox::{NotificationRecord, OutboxRecord, TaskFilter, TaskRecord};
use crate::db::models::workflow::Workflow;
use crate::services::contacts::Catalog;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/outbox", web::get().to(outbox_page))
        .route("/tasks", web::get().to(tasks_page))
        .route("/tasks/{id}/done", web::post().to(task_done))
        .route("/tasks/{id}/reopen", web::post().to(task_reopen))
        .route("/inbox", web::get().to(inbox_page))
        .route("/inbox/read-all", web::post().to(read_all))
        .route("/inbox/{id}/read", web::post().to(read_one));
}

const PAGE_SIZE: i64 = 50;

#[derive(Deserialize)]
struct PageQuery {
    before: Option<String>,
    show: Option<String>,
}

fn cursor(q: &PageQuery) -> Option<i64> {
    q.before.as_deref().and_then(|b| b.trim().parse().ok())
}

/// Names of the workflows and contacts a page refers to (one query each).
struct Refs {
    tz: Tz,
    workflows: HashMap<i64, String>,
    contacts: HashMap<i64, String>,
}

impl Refs {
    fn load(
        conn: &mut DbConnection,
        contact_ids: impl Iterator<Item = i64>,
    ) -> anyhow::Result<Refs> {
        let mut ids: Vec<i64> = contact_ids.collect();
        ids.sort_unstable();
        ids.dedup();
        let catalog = Catalog::load(conn)?;
        let contacts = crate::web::contacts::load_records(conn, &catalog, &ids)?
            .into_iter()
            .map(|r| (r.contact.id, r.display_name()))
            .collect();
        Ok(Refs {
            tz: crate::db::models::app_setting::account_time_zone(conn)?,
            workflows: Workflow::all(conn, None)?
                .into_iter()
                .map(|w| (w.id, w.name))
                .collect(),
            contacts,
        })
    }

    fn time(&self, s: &str) -> String {
        crate::web::filters::instant_in(s, self.tz)
    }

    fn workflow(&self, id: Option<i64>) -> Option<(i64, String)> {
        id.map(|w| {
            (
                w,
                self.workflows
                    .get(&w)
                    .cloned()
                    .unwrap_or_else(|| format!("Workflow {w} (deleted)")),
            )
        })
    }

    fn contact(&self, id: Option<i64>) -> Option<(i64, String)> {
        id.map(|c| {
            (
                c,
                self.contacts
                    .get(&c)
                    .cloned()
                    .unwrap_or_else(|| format!("Contact {c} (deleted)")),
            )
        })
    }
}

/// A link to another page of the same list.
fn older_link(base: &str, more: bool, last: Option<i64>, show: Option<&str>) -> Option<String> {
    match (more, last) {
        (true, Some(id)) => Some(match show {
            Some(s) => format!("{base}?show={s}&before={id}"),
            None => format!("{base}?before={id}"),
        }),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Outbox

pub struct OutboxRow {
    pub id: i64,
    pub at: String,
    pub recipient: String,
    pub contact: Option<(i64, String)>,
    pub subject: String,
    pub body: String,
    pub workflow: Option<(i64, String)>,
    pub delivery: String,
    pub delivery_label: String,
}

#[derive(Template)]
#[template(path = "outbox/outbox.html")]
struct OutboxPage {
    ctx: Ctx,
    rows: Vec<OutboxRow>,
    paged: bool,
    older: Option<String>,
}

fn delivery_label(d: &str) -> String {
    match d {
        "kept" => "Kept (no SMTP configured)".into(),
        "sent" => "Sent".into(),
        "failed" => "Failed".into(),
        "queued" => "Queued".into(),
        other => other.to_string(),
    }
}

async fn outbox_page(
    user: SignedIn,
    state: web::Data<AppState>,
    q: web::Query<PageQuery>,
) -> WebResult {
    let before = cursor(&q);
    let (records, refs) = crate::db::run(&state.pool, move |conn| {
        let records = OutboxRecord::page(conn, before, PAGE_SIZE + 1)?;
        let refs = Refs::load(conn, records.iter().filter_map(|r| r.contact_id))?;
        Ok((records, refs))
    })
    .await?;
    let more = records.len() as i64 > PAGE_SIZE;
    let rows: Vec<OutboxRow> = records
        .into_iter()
        .take(PAGE_SIZE as usize)
        .map(|r| OutboxRow {
            id: r.id,
            at: refs.time(&r.created_at),
            contact: refs.contact(r.contact_id),
            workflow: refs.workflow(r.workflow_id),
            recipient: r.recipient,
            subject: r.subject,
            body: r.body,
            delivery_label: delivery_label(&r.delivery),
            delivery: r.delivery,
        })
        .collect();
    render(&OutboxPage {
        ctx: user.ctx("outbox"),
        older: older_link("/outbox", more, rows.last().map(|r| r.id), None),
        paged: before.is_some(),
        rows,
    })
}

// ---------------------------------------------------------------------------------------------
// Tasks

pub struct TaskRow {
    pub id: i64,
    pub title: String,
    pub notes: String,
    pub contact: Option<(i64, String)>,
    pub due: String,
    pub overdue: bool,
    pub workflow: Option<(i64, String)>,
    pub done: bool,
    pub created: String,
}

#[derive(Template)]
#[template(path = "outbox/tasks.html")]
struct TasksPage {
    ctx: Ctx,
    show: &'static str,
    rows: Vec<TaskRow>,
    paged: bool,
    older: Option<String>,
}

async fn tasks_page(
    user: SignedIn,
    state: web::Data<AppState>,
    q: web::Query<PageQuery>,
) -> WebResult {
    let before = cursor(&q);
    let show: &'static str = match q.show.as_deref() {
        Some("done") => "done",
        Some("all") => "all",
        _ => "open",
    };
    let (records, refs) = crate::db::run(&state.pool, move |conn| {
        let filter = match show {
            "open" => TaskFilter::Open,
            "done" => TaskFilter::Done,
            _ => TaskFilter::All,
        };
        let records = TaskRecord::page(conn, filter, before, PAGE_SIZE + 1)?;
        let refs = Refs::load(conn, records.iter().filter_map(|r| r.contact_id))?;
        Ok((records, refs))
    })
    .await?;
    let today = chrono::Utc::now()
        .with_timezone(&refs.tz)
        .format("%Y-%m-%d")
        .to_string();
    let more = records.len() as i64 > PAGE_SIZE;
    let rows: Vec<TaskRow> = records
        .into_iter()
        .take(PAGE_SIZE as usize)
        .map(|r| TaskRow {
            id: r.id,
            overdue: !r.done && r.due_date.as_deref().is_some_and(|d| d < today.as_str()),
            due: r.due_date.clone().unwrap_or_else(|| "—".into()),
            contact: refs.contact(r.contact_id),
            workflow: refs.workflow(r.workflow_id),
            title: r.title,
            notes: r.notes,
            done: r.done,
            created: refs.time(&r.created_at),
        })
        .collect();
    render(&TasksPage {
        ctx: user.ctx("tasks"),
        older: older_link("/tasks", more, rows.last().map(|r| r.id), Some(show)),
        paged: before.is_some(),
        show,
        rows,
    })
}

async fn set_task_done(
    user: SignedIn,
    state: web::Data<AppState>,
    id: i64,
    done: bool,
) -> WebResult {
    let found = crate::db::run(&state.pool, move |conn| {
        TaskRecord::set_done(conn, id, done)
    })
    .await?;
    if !found {
        return Err(WebError::NotFound);
    }
    if done {
        user.set_flash("success", "Task marked done.");
        Ok(see_other("/tasks"))
    } else {
        user.set_flash("success", "Task reopened.");
        Ok(see_other("/tasks?show=done"))
    }
}

async fn task_done(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> WebResult {
    set_task_done(user, state, path.into_inner(), true).await
}

async fn task_reopen(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> WebResult {
    set_task_done(user, state, path.into_inner(), false).await
}

// ---------------------------------------------------------------------------------------------
// Inbox

pub struct NotificationRow {
    pub id: i64,
    pub at: String,
    pub message: String,
    pub workflow: Option<(i64, String)>,
    pub contact: Option<(i64, String)>,
    pub unread: bool,
}

#[derive(Template)]
#[template(path = "outbox/inbox.html")]
struct InboxPage {
    ctx: Ctx,
    rows: Vec<NotificationRow>,
    unread: i64,
    paged: bool,
    older: Option<String>,
}

async fn inbox_page(
    user: SignedIn,
    state: web::Data<AppState>,
    q: web::Query<PageQuery>,
) -> WebResult {
    let before = cursor(&q);
    let (records, unread, refs) = crate::db::run(&state.pool, move |conn| {
        let records = NotificationRecord::page(conn, before, PAGE_SIZE + 1)?;
        let unread = NotificationRecord::unread_count(conn)?;
        let refs = Refs::load(conn, records.iter().filter_map(|r| r.contact_id))?;
        Ok((records, unread, refs))
    })
    .await?;
    let more = records.len() as i64 > PAGE_SIZE;
    let rows: Vec<NotificationRow> = records
        .into_iter()
        .take(PAGE_SIZE as usize)
        .map(|r| NotificationRow {
            id: r.id,
            at: refs.time(&r.created_at),
            workflow: refs.workflow(r.workflow_id),
            contact: refs.contact(r.contact_id),
            message: r.message,
            unread: r.read_at.is_none(),
        })
        .collect();
    render(&InboxPage {
        ctx: user.ctx("inbox"),
        older: older_link("/inbox", more, rows.last().map(|r| r.id), None),
        paged: before.is_some(),
        rows,
        unread,
    })
}

async fn read_one(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> WebResult {
    let id = path.into_inner();
    let found = crate::db::run(&state.pool, move |conn| {
        NotificationRecord::mark_read(conn, id, &now_text())
    })
    .await?;
    if !found {
        return Err(WebError::NotFound);
    }
    user.set_flash("success", "Marked as read.");
    Ok(see_other("/inbox"))
}

async fn read_all(
    user: SignedIn,
    state: web::Data<AppState>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> WebResult {
    let n = crate::db::run(&state.pool, move |conn| {
        NotificationRecord::mark_all_read(conn, &now_text())
    })
    .await?;
    user.set_flash(
        "success",
        if n == 1 {
            "Marked 1 notification as read.".to_string()
        } else {
            format!("Marked {n} notifications as read.")
        },
    );
    Ok(see_other("/inbox"))
}
