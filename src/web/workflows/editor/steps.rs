//! The step forms: adding a step where a + was chosen, editing one from its panel, deleting
//! it and moving it up or down among its siblings.

use crate::db::DbConnection;
use actix_web::{http::StatusCode, web};
use serde::Deserialize;

use super::panels::{type_static, PanelState, Target};
use super::save::{finish, form_values, refusal, saved, try_save, Outcome};
use super::show::{load, Loaded};
use crate::db::models::workflow::Workflow;
use crate::db::models::WorkflowId;
use crate::state::AppState;
use crate::web::extract::{CsrfForm, SignedIn};
use crate::web::workflows::forms_common::{FormValues, ListRef, StepPath};
use crate::web::workflows::forms_steps::{self, step_type};
use crate::web::{WebError, WebResult};

/// Saves one step (added or edited) from its panel.
fn save_step(
    conn: &mut DbConnection,
    id: i64,
    author: &str,
    target: Target,
    type_name: &str,
    v: FormValues,
) -> anyhow::Result<Outcome> {
    let Some(loaded) = load(conn, id)? else {
        return Ok(Outcome::NotFound);
    };
    let existing = match &target {
        Target::Edit(p) => match p.get(&loaded.def.steps) {
            Some(s) => Some(s.clone()),
            None => return Ok(Outcome::NotFound),
        },
        Target::Add { list, .. } => {
            if list.get(&loaded.def.steps).is_none() {
                return Ok(Outcome::NotFound);
            }
            None
        }
    };
    let type_name = match &existing {
        Some(s) => type_static(s.type_name()),
        None => match step_type(type_name) {
            Some(t) => t.name,
            None => {
                return Ok(Outcome::Refused {
                    to: format!("/workflows/{id}"),
                    message: format!("There is no step type \"{type_name}\"."),
                })
            }
        },
    };
    let re_render =
        |loaded: Loaded, v: FormValues, errors, general, elsewhere, status| Outcome::Page {
            loaded: Box::new(loaded),
            state: PanelState::Step {
                target: target.clone(),
                type_name,
                v,
                errors,
                general,
            },
            elsewhere,
            status,
        };
    if v.is("action", "preview") || v.is("action", "add_group") {
        return Ok(re_render(loaded, v, vec![], vec![], vec![], StatusCode::OK));
    }
    let parsed = forms_steps::from_form(type_name, &v, &loaded.lookups, existing.as_ref());
    let Some(step) = parsed.step else {
        return Ok(re_render(
            loaded,
            v,
            parsed.errors,
            vec![],
            vec![],
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    };
    let mut def = loaded.def.clone();
    let path = match &target {
        Target::Edit(p) => {
            let Some(list) = p.list().get_mut(&mut def.steps) else {
                return Ok(Outcome::NotFound);
            };
            match list.get_mut(p.index()) {
                Some(slot) => *slot = step,
                None => return Ok(Outcome::NotFound),
            }
            p.clone()
        }
        Target::Add { list, after } => {
            let Some(steps) = list.get_mut(&mut def.steps) else {
                return Ok(Outcome::NotFound);
            };
            let at = usize::try_from(after.saturating_add(1))
                .unwrap_or(0)
                .min(steps.len());
            steps.insert(at, step);
            list.at(at)
        }
    };
    let label = step_type(type_name).map(|t| t.label).unwrap_or("Step");
    match try_save(conn, id, &def, author)? {
        Ok(wf) => {
            let what = match &target {
                Target::Edit(_) => format!("Updated “{label}”."),
                Target::Add { .. } => format!("Added “{label}”."),
            };
            Ok(saved(&wf, &what, &format!("#card-{}", path.card())))
        }
        Err(errors) => {
            let m = forms_steps::map_errors(
                &errors,
                &path.def_path(),
                parsed.condition.as_ref(),
                &parsed.split_rows,
            );
            Ok(re_render(
                loaded,
                v,
                m.local,
                m.general,
                m.elsewhere,
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
    }
}

pub(super) async fn add_step(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    let id = path.into_inner();
    let author = user.email.clone();
    let v = form_values(form);
    let list = ListRef::parse(v.get("arm"))
        .ok_or_else(|| WebError::BadRequest("unknown place to add the step".into()))?;
    let after = match v.trimmed("after") {
        "" => isize::MAX - 1,
        a => a
            .parse::<isize>()
            .map_err(|_| WebError::BadRequest("unknown place to add the step".into()))?,
    };
    let type_name = v.trimmed("type").to_string();
    let outcome = crate::db::run(&state.pool, move |conn| {
        save_step(
            conn,
            id,
            &author,
            Target::Add { list, after },
            &type_name,
            v,
        )
    })
    .await?;
    finish(&user, outcome)
}

pub(super) async fn edit_step(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<(i64, String)>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    let (id, slug) = path.into_inner();
    let step_path = StepPath::parse(&slug).ok_or(WebError::NotFound)?;
    let author = user.email.clone();
    let v = form_values(form);
    let type_name = v.trimmed("type").to_string();
    let outcome = crate::db::run(&state.pool, move |conn| {
        save_step(conn, id, &author, Target::Edit(step_path), &type_name, v)
    })
    .await?;
    finish(&user, outcome)
}

pub(super) async fn delete_step(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<(i64, String)>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> WebResult {
    let (id, slug) = path.into_inner();
    let step_path = StepPath::parse(&slug).ok_or(WebError::NotFound)?;
    let author = user.email.clone();
    let outcome = crate::db::run(&state.pool, move |conn| {
        let Some(wf) = Workflow::find(conn, WorkflowId(id))? else {
            return Ok(Outcome::NotFound);
        };
        let mut def = wf.parsed()?;
        let Some(step) = step_path.get(&def.steps) else {
            return Ok(Outcome::NotFound);
        };
        let label = step_type(step.type_name())
            .map(|t| t.label)
            .unwrap_or("Step");
        if def.start.is_date_centred() && step_path == StepPath::top(0) {
            return Ok(Outcome::Refused {
                to: format!("/workflows/{id}?panel=step-0#panel"),
                message: "The delay “Execute next action on…” cannot be deleted: it schedules \
                          the first action from the date. Change when it runs instead."
                    .into(),
            });
        }
        let Some(list) = step_path.list().get_mut(&mut def.steps) else {
            return Ok(Outcome::NotFound);
        };
        list.remove(step_path.index());
        match try_save(conn, id, &def, &author)? {
            Ok(wf) => Ok(saved(&wf, &format!("Deleted “{label}”."), "#canvas")),
            Err(errors) => Ok(Outcome::Refused {
                to: format!("/workflows/{id}?panel={}#panel", step_path.card()),
                message: refusal(&errors),
            }),
        }
    })
    .await?;
    finish(&user, outcome)
}

#[derive(Deserialize)]
pub(super) struct MoveForm {
    dir: String,
}

pub(super) async fn move_step(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<(i64, String)>,
    CsrfForm(form): CsrfForm<MoveForm>,
) -> WebResult {
    let (id, slug) = path.into_inner();
    let step_path = StepPath::parse(&slug).ok_or(WebError::NotFound)?;
    let up = match form.dir.as_str() {
        "up" => true,
        "down" => false,
        _ => return Err(WebError::BadRequest("dir is up or down".into())),
    };
    let author = user.email.clone();
    let outcome = crate::db::run(&state.pool, move |conn| {
        let Some(wf) = Workflow::find(conn, WorkflowId(id))? else {
            return Ok(Outcome::NotFound);
        };
        let mut def = wf.parsed()?;
        let date_centred = def.start.is_date_centred();
        let i = step_path.index();
        let Some(list) = step_path.list().get_mut(&mut def.steps) else {
            return Ok(Outcome::NotFound);
        };
        if i >= list.len() {
            return Ok(Outcome::NotFound);
        }
        let back = format!("/workflows/{id}?panel={}#panel", step_path.card());
        let j = if up { i.checked_sub(1) } else { Some(i + 1) };
        let Some(j) = j.filter(|j| *j < list.len()) else {
            return Ok(Outcome::Refused {
                to: back,
                message: format!(
                    "This step is already the {} one.",
                    if up { "first" } else { "last" }
                ),
            });
        };
        if date_centred && step_path.is_top() && (i == 0 || j == 0) {
            return Ok(Outcome::Refused {
                to: back,
                message: "The first step stays the delay “Execute next action on…”: it \
                          schedules the first action from the date."
                    .into(),
            });
        }
        list.swap(i, j);
        let moved = step_path.sibling(j);
        match try_save(conn, id, &def, &author)? {
            Ok(wf) => Ok(saved(
                &wf,
                &format!("Moved {}.", if up { "up" } else { "down" }),
                &format!("#card-{}", moved.card()),
            )),
            Err(errors) => Ok(Outcome::Refused {
                to: back,
                message: refusal(&errors),
            }),
        }
    })
    .await?;
    finish(&user, outcome)
}
