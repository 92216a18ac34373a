//! Settings & notifications (`/workflows/{id}/settings?tab=general|unenrollment|notifications`):
//! three tabs, each its own form that changes only its part of `definition.settings` and saves
//! a new revision (unpublished changes while on) through `services::drafts::save_edit`. Invalid input re-renders with 422,
//! the message beside the field and the input kept; nothing is saved.
//!
//! One file per job: this one loads the workflow, draws the page and saves; `view` is every
//! input of the three tabs as shown, `form` what the tabs post (applied to the settings, or
//! shown back as typed), `errors` where each error is shown.

mod errors;
mod form;
mod view;

use actix_web::web;
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

use super::describe::Names;
use super::header::WorkflowHeader;
use super::support;
use crate::db::models::WorkflowId;
use crate::domain::definition::Definition;
use crate::domain::errors::{Errors, FieldError};
use crate::services::drafts::Saved;
use crate::services::workflows::{self as svc, WorkflowError};
use crate::state::AppState;
use crate::web::extract::{CsrfForm, Ctx, SignedIn};
use crate::web::{render, render_invalid, see_other, WebError, WebResult};
use errors::sort_errors;
use form::{apply, overlay, submitted_groups};
use view::{operator_options, property_options, view_of};

pub use errors::OtherError;
pub use form::SettingsForm;
pub use view::{DayBox, FilterRow, GroupView, Opt, SettingsView};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/workflows/{id}/settings", web::get().to(show))
        .route("/workflows/{id}/settings", web::post().to(save));
}

pub const TABS: [(&str, &str); 3] = [
    ("general", "General"),
    ("unenrollment", "Unenrollment & suppression"),
    ("notifications", "Notifications"),
];

fn tab_of(raw: Option<&str>) -> &'static str {
    match raw {
        Some("unenrollment") => "unenrollment",
        Some("notifications") => "notifications",
        _ => "general",
    }
}

#[derive(Deserialize)]
pub struct TabQuery {
    tab: Option<String>,
}

#[derive(Template)]
#[template(path = "workflows/settings.html")]
struct SettingsPage {
    ctx: Ctx,
    header: WorkflowHeader,
    tab: &'static str,
    tabs: Vec<(&'static str, &'static str)>,
    v: SettingsView,
    errors: Errors,
    other_errors: Vec<OtherError>,
    account_zone: String,
    /// The account's email pacing in words (Settings > Account).
    account_pacing: String,
    /// The searchable list of time zones: (IANA name, offset now).
    zones: Vec<(&'static str, String)>,
    property_options: Vec<Opt>,
    operators: Vec<Opt>,
    recurring: bool,
}

struct Loaded {
    header: WorkflowHeader,
    def: Definition,
    names: Names,
    account_zone: String,
    account_pacing: String,
}

fn load(conn: &mut crate::db::DbConnection, id: WorkflowId) -> anyhow::Result<Option<Loaded>> {
    let Some((wf, header)) = support::load_working(conn, id, "settings")? else {
        return Ok(None);
    };
    let account_zone = crate::db::models::app_setting::account_time_zone(conn)?
        .name()
        .to_string();
    Ok(Some(Loaded {
        header,
        def: (*wf.def).clone(),
        names: Names::load(conn)?,
        account_zone,
        account_pacing: crate::web::pacing_form::pacing_words(
            crate::db::models::app_setting::account_pacing(conn)?.as_ref(),
        ),
    }))
}

fn page(
    ctx: Ctx,
    loaded: Loaded,
    tab: &'static str,
    mut v: SettingsView,
    errors: Errors,
    other_errors: Vec<OtherError>,
) -> SettingsPage {
    let property_options = property_options(&loaded.names);
    for row in v.groups.iter_mut().flat_map(|g| g.rows.iter_mut()) {
        row.missing =
            !row.property.is_empty() && !property_options.iter().any(|o| o.value == row.property);
    }
    SettingsPage {
        ctx,
        tab,
        tabs: TABS.to_vec(),
        v,
        errors,
        other_errors,
        account_zone: loaded.account_zone,
        account_pacing: loaded.account_pacing,
        zones: crate::web::contacts::zones(),
        property_options,
        operators: operator_options(),
        recurring: loaded.def.recur_annually,
        header: loaded.header,
    }
}

async fn show(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    q: web::Query<TabQuery>,
) -> WebResult {
    let id = WorkflowId(path.into_inner());
    let tab = tab_of(q.tab.as_deref());
    let loaded = crate::db::run(&state.pool, move |conn| load(conn, id))
        .await?
        .ok_or(WebError::NotFound)?;
    let v = view_of(&loaded.def.settings, &loaded.names, id.0);
    render(&page(
        user.ctx("workflows"),
        loaded,
        tab,
        v,
        Errors::default(),
        vec![],
    ))
}

enum Outcome {
    Saved(Saved),
    Invalid(Box<Loaded>, Vec<FieldError>),
}

async fn save(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    q: web::Query<TabQuery>,
    CsrfForm(form): CsrfForm<SettingsForm>,
) -> WebResult {
    let id = WorkflowId(path.into_inner());
    let tab = tab_of(q.tab.as_deref());
    let author = user.email.clone();
    let groups = submitted_groups(&form);
    let form = std::sync::Arc::new(form);
    let f = form.clone();
    let g = groups.clone();
    let outcome = crate::db::run(&state.pool, move |conn| {
        let Some(loaded) = load(conn, id)? else {
            return Ok(None);
        };
        let mut def = loaded.def.clone();
        let mut errors = apply(tab, &f, &mut def.settings, &g);
        let result = if errors.is_empty() {
            crate::services::drafts::save_edit(conn, id, &def, &author, Utc::now()).map(Some)
        } else {
            // Input that is not even a value: report it with everything validation finds.
            svc::check_typed(conn, &def).map(|_| None)
        };
        match result {
            Ok(Some(saved)) => Ok(Some(Outcome::Saved(saved))),
            Ok(None) => Ok(Some(Outcome::Invalid(Box::new(loaded), errors))),
            Err(WorkflowError::Invalid(more)) => {
                for e in more {
                    if !errors.iter().any(|x| x.field == e.field) {
                        errors.push(e);
                    }
                }
                Ok(Some(Outcome::Invalid(Box::new(loaded), errors)))
            }
            Err(WorkflowError::NotFound) => Ok(None),
            Err(WorkflowError::Problems(_)) => {
                Err(anyhow::anyhow!("saving settings reported publish problems"))
            }
            Err(WorkflowError::Internal(e)) => Err(e),
        }
    })
    .await?
    .ok_or(WebError::NotFound)?;
    match outcome {
        Outcome::Saved(saved) => {
            user.set_flash(
                "success",
                match saved {
                    Saved::Draft(_) => "Settings saved as an unpublished change: enrolled contacts still follow the live version until you choose Review and update.".to_string(),
                    Saved::Revision(wf) => format!("Settings saved (revision {}).", wf.revision),
                },
            );
            Ok(see_other(&format!(
                "/workflows/{}/settings?tab={tab}",
                id.0
            )))
        }
        Outcome::Invalid(loaded, errors) => {
            let mut v = view_of(&loaded.def.settings, &loaded.names, id.0);
            overlay(&mut v, tab, &form, groups);
            let (errors, others) = sort_errors(errors, tab, id.0, &mut v);
            render_invalid(&page(
                user.ctx("workflows"),
                *loaded,
                tab,
                v,
                errors,
                others,
            ))
        }
    }
}

#[cfg(test)]
mod tests;
