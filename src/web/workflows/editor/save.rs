//! Saving from the editor and how every form post ends (back to the canvas with a flash, or
//! the page again with the panel as typed), and the trigger, date, repeat and name forms.

use crate::db::DbConnection;
use actix_web::{http::StatusCode, web};
use chrono::Utc;

use super::panels::PanelState;
use super::show::{load, page, respond, Loaded};
use crate::db::models::WorkflowId;
use crate::domain::definition::{Definition, Start};
use crate::domain::errors::FieldError;
use crate::services::drafts::Saved;
use crate::services::workflows::WorkflowError;
use crate::state::AppState;
use crate::web::extract::{CsrfForm, SignedIn};
use crate::web::workflows::forms_common::{
    card_of, card_place, strip_path, FormValues, MappedErrors,
};
use crate::web::workflows::forms_events;
use crate::web::workflows::forms_filters;
use crate::web::{see_other, WebError, WebResult};

/// Saves a new revision (or, for a live workflow, unpublished changes); validation errors come
/// back as data.
pub(super) fn try_save(
    conn: &mut DbConnection,
    id: i64,
    def: &Definition,
    author: &str,
) -> anyhow::Result<Result<Saved, Vec<FieldError>>> {
    match crate::services::drafts::save_edit(conn, WorkflowId(id), def, author, Utc::now()) {
        Ok(wf) => Ok(Ok(wf)),
        Err(WorkflowError::Invalid(errors)) => Ok(Err(errors)),
        Err(WorkflowError::NotFound) => Err(anyhow::anyhow!("workflow {id} disappeared")),
        Err(WorkflowError::Problems(_)) => {
            Err(anyhow::anyhow!("unexpected publish problems on save"))
        }
        Err(WorkflowError::Internal(e)) => Err(e),
    }
}

/// What a form post ends in: back to the canvas, or the page again with the panel as typed.
pub(super) enum Outcome {
    Saved {
        to: String,
        message: String,
    },
    Refused {
        to: String,
        message: String,
    },
    Page {
        loaded: Box<Loaded>,
        state: PanelState,
        elsewhere: Vec<FieldError>,
        status: StatusCode,
    },
    NotFound,
}

pub(super) fn finish(user: &SignedIn, outcome: Outcome) -> WebResult {
    match outcome {
        Outcome::Saved { to, message } => {
            user.set_flash("success", message);
            Ok(see_other(&to))
        }
        Outcome::Refused { to, message } => {
            user.set_flash("error", message);
            Ok(see_other(&to))
        }
        Outcome::Page {
            loaded,
            state,
            elsewhere,
            status,
        } => respond(&page(user, *loaded, state, elsewhere), status),
        Outcome::NotFound => Err(WebError::NotFound),
    }
}

pub(super) fn saved(saved: &Saved, what: &str, anchor: &str) -> Outcome {
    Outcome::Saved {
        to: format!("/workflows/{}{anchor}", saved.workflow().id),
        message: saved_message(saved, what),
    }
}

/// "Renamed. Saved as revision 4." — or, for a live workflow, where the change waits.
pub fn saved_message(saved: &Saved, what: &str) -> String {
    match saved {
        Saved::Revision(wf) => format!("{what} Saved as revision {}.", wf.revision),
        Saved::Draft(_) => format!(
            "{what} Saved as an unpublished change: enrolled contacts still follow the live version until you choose Review and update."
        ),
    }
}

pub(super) fn form_values(form: Vec<(String, String)>) -> FormValues {
    FormValues(
        form.into_iter()
            .filter(|(k, _)| k != "csrf_token")
            .collect(),
    )
}

/// The page again, 422, with the panel as typed.
fn invalid(loaded: Loaded, state: PanelState, elsewhere: Vec<FieldError>) -> Outcome {
    Outcome::Page {
        loaded: Box::new(loaded),
        state,
        elsewhere,
        status: StatusCode::UNPROCESSABLE_ENTITY,
    }
}

pub(super) async fn save_trigger(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    let id = path.into_inner();
    let author = user.email.clone();
    let v = form_values(form);
    let outcome = crate::db::run(&state.pool, move |conn| {
        let Some(loaded) = load(conn, id)? else {
            return Ok(Outcome::NotFound);
        };
        let rows = forms_filters::rows_from_form(&v);
        if v.is("action", "add_group") {
            return Ok(Outcome::Page {
                loaded: Box::new(loaded),
                state: PanelState::Trigger {
                    rows,
                    v,
                    errors: vec![],
                    general: vec![],
                    extra_group: true,
                },
                elsewhere: vec![],
                status: StatusCode::OK,
            });
        }
        let conv =
            forms_filters::to_filters(&rows, &loaded.lookups, &loaded.def.triggers.filter_groups);
        if !conv.errors.is_empty() {
            let errors = conv.errors.clone();
            let state = PanelState::Trigger {
                rows,
                v,
                errors,
                general: vec![],
                extra_group: false,
            };
            return Ok(invalid(loaded, state, vec![]));
        }
        let mut def = loaded.def.clone();
        def.triggers.filter_groups = conv.groups.clone();
        let (events, event_origin) = forms_events::from_form(&v);
        def.triggers.events = events;
        def.triggers.manual_only = v.checked("manual_only");
        def.reenroll.on_events = v.checked("reenroll_on_events");
        // Only what this panel shows changes; anything else in the triggers is kept.
        def.reenroll.enabled = v.checked("reenroll_enabled");
        def.reenroll.on_properties = v
            .all("reenroll_properties")
            .into_iter()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        match try_save(conn, id, &def, &author)? {
            Ok(wf) => Ok(saved(&wf, "Enrollment triggers updated.", "#card-trigger")),
            Err(errors) => {
                let mut m = MappedErrors::default();
                for e in errors {
                    if let Some(input) = forms_events::input_for(&e.field, &event_origin) {
                        m.local.push(FieldError::new(input, e.message));
                    } else if let Some(rest) = e.field.strip_prefix("triggers.filter_groups") {
                        match conv.input_for(rest) {
                            Some(input) => m.local.push(FieldError::new(input, e.message)),
                            None => m.general.push(e.message),
                        }
                    } else if strip_path(&e.field, "reenroll.on_properties").is_some()
                        || e.field.starts_with("reenroll.on_properties[")
                    {
                        m.local
                            .push(FieldError::new("reenroll_properties", e.message));
                    } else if e.field.starts_with("reenroll") {
                        m.general.push(e.message);
                    } else {
                        m.elsewhere.push(e);
                    }
                }
                let state = PanelState::Trigger {
                    rows,
                    v,
                    errors: m.local,
                    general: m.general,
                    extra_group: false,
                };
                Ok(invalid(loaded, state, m.elsewhere))
            }
        }
    })
    .await?;
    finish(&user, outcome)
}

pub(super) async fn save_start(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    let id = path.into_inner();
    let author = user.email.clone();
    let v = form_values(form);
    let outcome = crate::db::run(&state.pool, move |conn| {
        let Some(loaded) = load(conn, id)? else {
            return Ok(Outcome::NotFound);
        };
        let mut def = loaded.def.clone();
        let mut errors = Vec::new();
        match &mut def.start {
            Start::Blank => {
                return Ok(Outcome::Refused {
                    to: format!("/workflows/{id}"),
                    message: "A blank workflow has no date to change.".into(),
                })
            }
            Start::SpecificDate { date } => {
                *date = v.trimmed("date").to_string();
                if date.is_empty() {
                    errors.push(FieldError::new("date", "Choose the date of the event."));
                }
            }
            Start::ContactDateProperty { property } => {
                *property = v.trimmed("property").to_string();
                if property.is_empty() {
                    errors.push(FieldError::new(
                        "property",
                        "Choose a contact date property.",
                    ));
                }
            }
        }
        def.recur_annually = v.checked("recur_annually");
        if !errors.is_empty() {
            let state = PanelState::Start {
                v,
                errors,
                general: vec![],
            };
            return Ok(invalid(loaded, state, vec![]));
        }
        match try_save(conn, id, &def, &author)? {
            Ok(wf) => Ok(saved(&wf, "Date updated.", "#card-start")),
            Err(errors) => {
                let mut m = MappedErrors::default();
                for e in errors {
                    match e.field.as_str() {
                        "start.date" => m.local.push(FieldError::new("date", e.message)),
                        "start.property" => m.local.push(FieldError::new("property", e.message)),
                        "recur_annually" => {
                            m.local.push(FieldError::new("recur_annually", e.message))
                        }
                        _ => m.elsewhere.push(e),
                    }
                }
                let state = PanelState::Start {
                    v,
                    errors: m.local,
                    general: m.general,
                };
                Ok(invalid(loaded, state, m.elsewhere))
            }
        }
    })
    .await?;
    finish(&user, outcome)
}

/// The Repeat annually checkbox on the date card.
pub(super) async fn save_recur(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    let id = path.into_inner();
    let author = user.email.clone();
    let v = form_values(form);
    let outcome = crate::db::run(&state.pool, move |conn| {
        let Some(loaded) = load(conn, id)? else {
            return Ok(Outcome::NotFound);
        };
        let mut def = loaded.def.clone();
        def.recur_annually = v.checked("recur_annually");
        if def.recur_annually == loaded.def.recur_annually {
            return Ok(Outcome::Saved {
                to: format!("/workflows/{id}#card-start"),
                message: "Nothing changed.".into(),
            });
        }
        match try_save(conn, id, &def, &author)? {
            Ok(wf) => Ok(saved(
                &wf,
                if def.recur_annually {
                    "Repeat annually is on."
                } else {
                    "Repeat annually is off."
                },
                "#card-start",
            )),
            Err(errors) => Ok(Outcome::Refused {
                to: format!("/workflows/{id}#card-start"),
                message: refusal(&errors),
            }),
        }
    })
    .await?;
    finish(&user, outcome)
}

pub(super) async fn save_name(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    let id = path.into_inner();
    let author = user.email.clone();
    let v = form_values(form);
    let outcome = crate::db::run(&state.pool, move |conn| {
        let Some(loaded) = load(conn, id)? else {
            return Ok(Outcome::NotFound);
        };
        let mut def = loaded.def.clone();
        def.name = v.trimmed("name").to_string();
        match try_save(conn, id, &def, &author)? {
            Ok(wf) => Ok(saved(&wf, "Renamed.", "")),
            Err(errors) => {
                let (local, elsewhere): (Vec<FieldError>, Vec<FieldError>) =
                    errors.into_iter().partition(|e| e.field == "name");
                Ok(invalid(
                    loaded,
                    PanelState::Name { v, errors: local },
                    elsewhere,
                ))
            }
        }
    })
    .await?;
    finish(&user, outcome)
}

/// A flash message for a refused delete, move or checkbox change.
pub(super) fn refusal(errors: &[FieldError]) -> String {
    match errors.first() {
        Some(e) => format!(
            "Nothing was changed: {} ({})",
            e.message,
            card_place(&card_of(&e.field))
        ),
        None => "Nothing was changed.".into(),
    }
}
