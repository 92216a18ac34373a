//! The goal panel (issue 17): filter groups (the trigger's filter editor) that a contact meets
//! to convert and leave the workflow at once. Empty groups remove the goal.

use actix_web::{http::StatusCode, web};

use super::panels::PanelState;
use super::save::{finish, form_values, saved, try_save, Outcome};
use super::show::load;
use crate::domain::definition::Goal;
use crate::domain::errors::FieldError;
use crate::state::AppState;
use crate::web::extract::{CsrfForm, SignedIn};
use crate::web::workflows::forms_common::MappedErrors;
use crate::web::workflows::forms_filters;
use crate::web::WebResult;

pub(super) async fn save_goal(
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
        let page = |loaded, rows, errors, general, elsewhere, extra_group, status| Outcome::Page {
            loaded: Box::new(loaded),
            state: PanelState::Goal {
                rows,
                errors,
                general,
                extra_group,
            },
            elsewhere,
            status,
        };
        if v.is("action", "add_group") {
            return Ok(page(
                loaded,
                rows,
                vec![],
                vec![],
                vec![],
                true,
                StatusCode::OK,
            ));
        }
        let original = loaded
            .def
            .goal
            .as_ref()
            .map(|g| g.filter_groups.clone())
            .unwrap_or_default();
        let conv = forms_filters::to_filters(&rows, &loaded.lookups, &original);
        if !conv.errors.is_empty() {
            let errors = conv.errors.clone();
            return Ok(page(
                loaded,
                rows,
                errors,
                vec![],
                vec![],
                false,
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
        let mut def = loaded.def.clone();
        def.goal = if conv.groups.is_empty() {
            None
        } else {
            Some(Goal {
                filter_groups: conv.groups.clone(),
            })
        };
        let what = if def.goal.is_some() {
            "Goal updated."
        } else {
            "Goal removed."
        };
        match try_save(conn, id, &def, &author)? {
            Ok(wf) => Ok(saved(&wf, what, "#card-goal")),
            Err(errors) => {
                let mut m = MappedErrors::default();
                for e in errors {
                    match e.field.strip_prefix("goal.filter_groups") {
                        Some(rest) => match conv.input_for(rest) {
                            Some(input) => m.local.push(FieldError::new(input, e.message)),
                            None => m.general.push(e.message),
                        },
                        None if e.field.starts_with("goal") => m.general.push(e.message),
                        None => m.elsewhere.push(e),
                    }
                }
                Ok(page(
                    loaded,
                    rows,
                    m.local,
                    m.general,
                    m.elsewhere,
                    false,
                    StatusCode::UNPROCESSABLE_ENTITY,
                ))
            }
        }
    })
    .await?;
    finish(&user, outcome)
}
