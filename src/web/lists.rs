//! Lists: static lists, including those saved from a workflow's review page.

use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::contacts::{load_records, ContactRow};
use super::extract::{CsrfForm, Ctx, SignedIn};
use super::{render, see_other, WebError, WebResult};
use crate::db::models::list::List;
use crate::db::models::ListId;
use crate::services::contacts::Catalog;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/lists", web::get().to(index))
        .route("/lists", web::post().to(create))
        .route("/lists/{id}", web::get().to(show))
        .route("/lists/{id}/delete", web::post().to(delete));
}

pub struct ListRow {
    pub id: i64,
    pub name: String,
    pub members: String,
    pub source_workflow_id: Option<i64>,
    /// The name of the workflow whose review saved the list.
    pub source_workflow: String,
    pub created_at: String,
}

#[derive(Template)]
#[template(path = "lists/index.html")]
struct IndexPage {
    ctx: Ctx,
    lists: Vec<ListRow>,
    /// The account's time zone (the list's times).
    tz: String,
}

async fn index(user: SignedIn, state: web::Data<AppState>) -> WebResult {
    let (lists, workflows, tz) = crate::db::run(&state.pool, |conn| {
        Ok((
            List::all(conn)?,
            crate::db::models::workflow::Workflow::all(conn, None)?,
            crate::db::models::app_setting::account_time_zone(conn)?,
        ))
    })
    .await?;
    render(&IndexPage {
        ctx: user.ctx("lists"),
        lists: lists
            .into_iter()
            .map(|(l, n)| ListRow {
                id: l.id,
                name: l.name,
                members: super::filters::thousands(n),
                source_workflow: l
                    .source_workflow_id
                    .map(|w| {
                        workflows
                            .iter()
                            .find(|x| x.id == w)
                            .map(|x| x.name.clone())
                            .unwrap_or_else(|| format!("Workflow {w} (deleted)"))
                    })
                    .unwrap_or_default(),
                source_workflow_id: l.source_workflow_id,
                created_at: super::filters::when_text(&l.created_at, tz),
            })
            .collect(),
        tz: tz.name().to_string(),
    })
}

#[derive(Deserialize)]
struct NewList {
    name: String,
}

async fn create(
    user: SignedIn,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<NewList>,
) -> WebResult {
    let name = form.name.trim().to_string();
    if name.is_empty() {
        user.set_flash("error", "Give the list a name.");
        return Ok(see_other("/lists"));
    }
    let list = crate::db::run(&state.pool, move |conn| List::create(conn, &name, None)).await?;
    user.set_flash("success", format!("Created the list “{}”.", list.name));
    Ok(see_other(&format!("/lists/{}", list.id)))
}

#[derive(Template)]
#[template(path = "lists/show.html")]
struct ShowPage {
    ctx: Ctx,
    list: List,
    count: String,
    rows: Vec<ContactRow>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct Cursor {
    after: Option<i64>,
}

async fn show(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    q: web::Query<Cursor>,
) -> WebResult {
    let id = ListId(path.into_inner());
    let after = q.after;
    let loaded = crate::db::run(&state.pool, move |conn| {
        let Some(list) = List::find(conn, id)? else {
            return Ok(None);
        };
        let ids = List::member_ids(conn, id, after, 101)?;
        let catalog = Catalog::load(conn)?;
        let more = ids.len() > 100;
        let ids: Vec<i64> = ids.into_iter().take(100).collect();
        let records = load_records(conn, &catalog, &ids)?;
        Ok(Some((list, List::member_count(conn, id)?, records, more)))
    })
    .await?;
    let Some((list, count, records, more)) = loaded else {
        return Err(WebError::NotFound);
    };
    let next = if more {
        records
            .last()
            .map(|r| format!("/lists/{}?after={}", list.id, r.contact.id))
    } else {
        None
    };
    render(&ShowPage {
        ctx: user.ctx("lists"),
        count: super::filters::thousands(count),
        rows: records
            .iter()
            .map(|r| ContactRow {
                id: r.contact.id,
                name: r.display_name(),
                email: r.contact.email.clone().unwrap_or_default(),
                stage: crate::domain::labels::option_label(r.value("lifecyclestage").unwrap_or("")),
                updated_at: r
                    .contact
                    .updated_at
                    .get(..16)
                    .unwrap_or("")
                    .replace('T', " "),
            })
            .collect(),
        list,
        next,
    })
}

async fn delete(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> WebResult {
    let id = ListId(path.into_inner());
    crate::db::run(&state.pool, move |conn| List::delete(conn, id)).await?;
    user.set_flash("success", "List deleted.");
    Ok(see_other("/lists"))
}
