//! Loading a workflow for the editor and drawing the page: the sample contact of the email
//! preview, the GET handler, and the page that puts the canvas and the open panel together
//! (also used by the form posts to draw the page again).

use std::collections::BTreeMap;

use crate::db::DbConnection;
use actix_web::{http::StatusCode, web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::canvas::{canvas, other_triggers, CanvasCtx, CanvasItem};
use super::panels::{
    builtin_trigger, panel_from_query, pick_panel, selected_of, step_panel, GoalPanel, NamePanel,
    PanelState, PickPanel, StartPanel, StepPanel, TriggerPanel,
};
use crate::db::models::workflow::Workflow;
use crate::db::models::WorkflowId;
use crate::domain::definition::{Definition, Start};
use crate::domain::errors::{Errors, FieldError};
use crate::domain::validate::Problem;
use crate::services::workflows as svc;
use crate::state::AppState;
use crate::web::extract::{Ctx, SignedIn};
use crate::web::workflows::forms_common::{problem_link, Choice, Lookups, ProblemLink};
use crate::web::workflows::forms_events;
use crate::web::workflows::forms_filters::{self, FilterEditor};
use crate::web::workflows::forms_steps::step_type;
use crate::web::workflows::header::WorkflowHeader;
use crate::web::{WebError, WebResult};

/// The contact whose values fill an email preview.
#[derive(Debug, Clone)]
pub struct Sample {
    pub name: String,
    pub values: BTreeMap<String, String>,
}

/// The first contact that has a first name.
fn sample_contact(conn: &mut DbConnection) -> anyhow::Result<Option<Sample>> {
    let catalog = crate::services::contacts::Catalog::load(conn)?;
    let Some(firstname) = catalog.get("firstname") else {
        return Ok(None);
    };
    let Some(id) = crate::db::models::contact::Contact::first_with_value(conn, firstname.id)?
    else {
        return Ok(None);
    };
    let rec = crate::services::contacts::load(conn, &catalog, id)?;
    Ok(rec.map(|r| {
        let mut values = r.values.clone();
        if let Some(e) = &r.contact.email {
            values.insert("email".into(), e.clone());
        }
        Sample {
            name: r.display_name(),
            values,
        }
    }))
}

/// Up to how many enrolled contacts the canvas cards show their counts.
const CARD_COUNTS_UP_TO: i64 = 100_000;

pub(super) struct Loaded {
    pub(super) wf: Workflow,
    pub(super) def: Definition,
    pub(super) header: WorkflowHeader,
    pub(super) lookups: Lookups,
    pub(super) problems: Vec<Problem>,
    pub(super) sample: Option<Sample>,
    /// Built-in event names, then custom ones seen before.
    pub(super) event_names: Vec<String>,
    /// The cards' counts (waiting, executed, failed), by step path: only while the canvas
    /// shows the live version (no unpublished changes that move steps around).
    pub(super) counts: std::collections::HashMap<String, String>,
}

pub(super) fn load(conn: &mut DbConnection, id: i64) -> anyhow::Result<Option<Loaded>> {
    let Some(wf) = Workflow::find(conn, WorkflowId(id))? else {
        return Ok(None);
    };
    let header = WorkflowHeader::load(conn, &wf, "edit")?;
    // The cards' counts read every active enrollment's step: left to the Performance tab for
    // very large workflows, so the editor stays quick.
    let active = crate::services::kept_counts::enrolled(conn, WorkflowId(id))?;
    let counts = if header.draft || active > CARD_COUNTS_UP_TO {
        Default::default()
    } else {
        let account_tz = crate::db::models::app_setting::account_time_zone(conn)?;
        let tz = crate::domain::schedule::workflow_zone(&wf.parsed()?, account_tz);
        crate::web::workflows::performance::card_counts(conn, wf.id, tz)?
    };
    // A live workflow is edited through its unpublished changes.
    let wf = crate::services::drafts::working(conn, wf)?;
    let def = wf.parsed()?;
    let lookups = Lookups::load(conn)?;
    let problems = svc::problems(conn, &wf)?;
    let sample = sample_contact(conn)?;
    let mut event_names: Vec<String> = crate::domain::events::BUILTIN
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    event_names.extend(crate::db::models::event::ContactEvent::custom_names(conn)?);
    Ok(Some(Loaded {
        wf,
        def,
        header,
        lookups,
        problems,
        sample,
        event_names,
        counts,
    }))
}

#[derive(Template)]
#[template(path = "workflows/editor.html")]
pub(super) struct EditorPage {
    ctx: Ctx,
    header: WorkflowHeader,
    id: i64,
    canvas: Vec<CanvasItem>,
    problems: Vec<ProblemLink>,
    /// Errors outside the open panel that blocked this save.
    elsewhere: Vec<ProblemLink>,
    invalid: bool,
    panel_open: bool,
    trigger: Option<TriggerPanel>,
    start: Option<StartPanel>,
    goal: Option<GoalPanel>,
    name_panel: Option<NamePanel>,
    step: Option<StepPanel>,
    pick: Option<PickPanel>,
    filters: Option<FilterEditor>,
}

pub(super) fn page(
    user: &SignedIn,
    loaded: Loaded,
    state: PanelState,
    elsewhere: Vec<FieldError>,
) -> EditorPage {
    let id = loaded.wf.id;
    let selected = selected_of(&state);
    let mut canvas = canvas(&CanvasCtx {
        id,
        def: &loaded.def,
        lookups: &loaded.lookups,
        problems: &loaded.problems,
        selected,
    });
    for item in canvas.iter_mut().filter(|i| i.kind == "card") {
        let path = item.card.trim_start_matches("step-").replace('-', "/");
        if let Some(c) = loaded.counts.get(&path) {
            item.counts = c.clone();
        }
    }
    let problems = loaded
        .problems
        .iter()
        .map(|p| problem_link(id, &p.field, &p.message, Some(&p.card)))
        .collect();
    let elsewhere: Vec<ProblemLink> = elsewhere
        .iter()
        .map(|e| problem_link(id, &e.field, &e.message, None))
        .collect();
    let mut p = EditorPage {
        ctx: user.ctx("workflows"),
        header: WorkflowHeader {
            id: loaded.header.id,
            name: loaded.header.name.clone(),
            start_label: loaded.header.start_label,
            is_on: loaded.header.is_on,
            revision: loaded.header.revision,
            enrolled: loaded.header.enrolled.clone(),
            progress: loaded.header.progress.clone(),
            progress_percent: loaded.header.progress_percent,
            draft: loaded.header.draft,
            tab: loaded.header.tab,
        },
        id,
        canvas,
        problems,
        invalid: false,
        elsewhere,
        panel_open: true,
        trigger: None,
        start: None,
        goal: None,
        name_panel: None,
        step: None,
        pick: None,
        filters: None,
    };
    let lookups = &loaded.lookups;
    match state {
        PanelState::None => p.panel_open = false,
        PanelState::Trigger {
            rows,
            v,
            errors,
            general,
            extra_group,
        } => {
            p.invalid = !errors.is_empty() || !general.is_empty();
            let errors = Errors(errors);
            let builtin = builtin_trigger(&loaded.def, lookups);
            p.filters = Some(forms_filters::editor(
                &rows,
                lookups,
                &errors,
                extra_group,
                builtin.clone(),
            ));
            p.trigger = Some(TriggerPanel {
                events: forms_events::rows(&v),
                event_names: loaded.event_names.clone(),
                operators: crate::domain::definition::Operator::ALL
                    .iter()
                    .filter(|o| **o != crate::domain::definition::Operator::InList)
                    .map(|o| {
                        Choice::new(
                            o.as_str(),
                            crate::web::workflows::forms_filters::operator_label(*o),
                        )
                    })
                    .collect(),
                v,
                errors,
                general,
                properties: lookups.property_choices(),
                builtin_label: builtin.unwrap_or_default(),
                event_triggers: other_triggers(&loaded.def),
            });
        }
        PanelState::Goal {
            rows,
            errors,
            general,
            extra_group,
        } => {
            p.invalid = !errors.is_empty() || !general.is_empty();
            let errors = Errors(errors);
            p.filters = Some(forms_filters::editor(
                &rows,
                lookups,
                &errors,
                extra_group,
                None,
            ));
            p.goal = Some(GoalPanel { errors, general });
        }
        PanelState::Start { v, errors, general } => {
            p.invalid = !errors.is_empty() || !general.is_empty();
            p.start = Some(StartPanel {
                v,
                errors: Errors(errors),
                general,
                specific: matches!(loaded.def.start, Start::SpecificDate { .. }),
                date_properties: lookups
                    .catalog
                    .date_properties()
                    .map(|d| Choice::new(d.name.clone(), d.label.clone()))
                    .collect(),
            });
        }
        PanelState::Name { v, errors } => {
            p.invalid = !errors.is_empty();
            p.name_panel = Some(NamePanel {
                v,
                errors: Errors(errors),
            });
        }
        PanelState::Step {
            target,
            type_name,
            v,
            errors,
            general,
        } => {
            p.invalid = !errors.is_empty() || !general.is_empty();
            let Some(t) = step_type(type_name) else {
                p.panel_open = false;
                return p;
            };
            let errs = Errors(errors.clone());
            if type_name == "branch" || type_name == "wait_until" {
                let rows = forms_filters::rows_from_form(&v);
                let extra = v.is("action", "add_group");
                p.filters = Some(forms_filters::editor(&rows, lookups, &errs, extra, None));
            }
            p.step = Some(step_panel(&loaded, &target, t, v, errors, general));
        }
        PanelState::Pick { list, after } => {
            p.pick = Some(pick_panel(id, &loaded.def, &list, after));
        }
    }
    p
}

pub(super) fn respond(p: &EditorPage, status: StatusCode) -> WebResult {
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(p.render()?))
}

#[derive(Deserialize)]
pub(super) struct EditorQuery {
    pub(super) panel: Option<String>,
    pub(super) after: Option<isize>,
    pub(super) arm: Option<String>,
    pub(super) r#type: Option<String>,
}

pub(super) async fn show(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    query: web::Query<EditorQuery>,
) -> WebResult {
    let id = path.into_inner();
    let loaded = crate::db::run(&state.pool, move |conn| load(conn, id))
        .await?
        .ok_or(WebError::NotFound)?;
    let panel = panel_from_query(&loaded.def, &query);
    respond(&page(&user, loaded, panel, vec![]), StatusCode::OK)
}
