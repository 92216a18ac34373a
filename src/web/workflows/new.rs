//! Create workflow > From scratch (`/workflows/new`): Contact-based; start Blank, Specific
//! date ("Date of event") or Contact date property (date-picker properties only); a name with
//! the pencil-edit affordance; **Next** creates the workflow and opens the editor.
//!
//! Form: `object_type=contact`, `start=blank|specific_date|contact_date_property`, `date`,
//! `property`, `name`.

use actix_web::web;
use askama::Template;
use serde_json::json;

use super::forms_common::{Choice, FormValues};
use crate::db::models::property::Property;
use crate::db::models::workflow::Workflow;
use crate::db::models::WorkflowId;
use crate::domain::definition::DEFAULT_TIME_OF_DAY;
use crate::domain::errors::{Errors, FieldError};
use crate::domain::validate::parse_definition;
use crate::domain::values::FieldType;
use crate::services::workflows::{self as svc, WorkflowError};
use crate::state::AppState;
use crate::web::extract::{CsrfForm, Ctx, SignedIn};
use crate::web::{render, render_invalid, see_other, WebError, WebResult};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/workflows/new", web::get().to(form))
        .route("/workflows/new", web::post().to(create))
        .configure(super::from_template::routes);
}

pub const DEFAULT_NAME: &str = "Unnamed workflow";

#[derive(Template)]
#[template(path = "workflows/new.html")]
struct NewPage {
    ctx: Ctx,
    v: FormValues,
    errors: Errors,
    date_properties: Vec<Choice>,
    /// The label of `date_of_birth`, which cannot be offered (it is single-line text).
    birth_date: String,
}

fn date_properties(props: &[Property]) -> (Vec<Choice>, String) {
    let choices = props
        .iter()
        .filter(|p| p.kind() == FieldType::Date)
        .map(|p| Choice::new(p.name.clone(), p.label.clone()))
        .collect();
    let birth = props
        .iter()
        .find(|p| p.name == "date_of_birth")
        .map(|p| p.label.clone())
        .unwrap_or_else(|| "Birth date".into());
    (choices, birth)
}

async fn form(user: SignedIn, state: web::Data<AppState>) -> WebResult {
    let props = crate::db::run(&state.pool, Property::all).await?;
    let (date_properties, birth_date) = date_properties(&props);
    let mut v = FormValues::default();
    v.set("object_type", "contact");
    v.set("start", "specific_date");
    v.set("name", DEFAULT_NAME);
    v.set("create_key", new_create_key());
    render(&NewPage {
        ctx: user.ctx("workflows"),
        v,
        errors: Errors::default(),
        date_properties,
        birth_date,
    })
}

/// A fresh idempotency key for one Create form: Back then Next (or a double click) posts the
/// same key again and lands on the workflow the first post made, instead of a second one.
pub(super) fn new_create_key() -> String {
    use rand::Rng;
    hex::encode(rand::thread_rng().gen::<[u8; 16]>())
}

/// The form's idempotency key, when it is one this page issued (32 hex digits).
pub(super) fn create_key(v: &FormValues) -> Option<String> {
    let key = v.trimmed("create_key");
    (key.len() == 32 && key.chars().all(|c| c.is_ascii_hexdigit())).then(|| key.to_string())
}

/// The workflow an earlier submission of the same form (its `create_key`) created, if any:
/// a double submit creates one workflow.
pub(super) fn created_earlier(
    conn: &mut crate::db::DbConnection,
    key: Option<&str>,
) -> anyhow::Result<Option<Workflow>> {
    let Some(key) = key else {
        return Ok(None);
    };
    let earlier = crate::db::models::app_setting::get(conn, key)?.and_then(|id| id.parse().ok());
    Ok(match earlier {
        Some(id) => Workflow::find(conn, WorkflowId(id))?,
        None => None,
    })
}

/// Creates the workflow and remembers it under the form's key; the form's field errors if
/// the definition is refused.
pub(super) fn create_once(
    conn: &mut crate::db::DbConnection,
    def: &crate::domain::definition::Definition,
    author: &str,
    key: Option<&str>,
) -> anyhow::Result<Result<Workflow, Vec<FieldError>>> {
    match svc::create_typed(conn, def, author) {
        Ok(wf) => {
            if let Some(key) = key {
                crate::db::models::app_setting::set(conn, key, &wf.id.to_string())?;
            }
            Ok(Ok(wf))
        }
        Err(WorkflowError::Invalid(errors)) => Ok(Err(errors)),
        Err(WorkflowError::Internal(e)) => Err(e),
        Err(other) => Err(anyhow::anyhow!("creating workflow: {other}")),
    }
}

/// The definition a new workflow starts with: its start, empty triggers, default settings
/// and, for a date-centred workflow, the undeletable first delay "Execute next action on…".
pub fn initial_definition(v: &FormValues) -> Result<serde_json::Value, Vec<FieldError>> {
    let mut errors = Vec::new();
    let start = match v.trimmed("start") {
        "blank" => Some(json!({ "type": "blank" })),
        "specific_date" => {
            let date = v.trimmed("date");
            if date.is_empty() {
                errors.push(FieldError::new("date", "Choose the date of the event."));
            }
            Some(json!({ "type": "specific_date", "date": date }))
        }
        "contact_date_property" => {
            let property = v.trimmed("property");
            if property.is_empty() {
                errors.push(FieldError::new(
                    "property",
                    "Choose the contact date property the workflow is centred on.",
                ));
            }
            Some(json!({ "type": "contact_date_property", "property": property }))
        }
        _ => {
            errors.push(FieldError::new("start", "Choose how this workflow starts."));
            None
        }
    };
    if v.trimmed("name").is_empty() {
        errors.push(FieldError::new("name", "Give the workflow a name."));
    }
    let Some(start) = start.filter(|_| errors.is_empty()) else {
        return Err(errors);
    };
    let date_centred = start["type"] != "blank";
    let steps = if date_centred {
        json!([{ "type": "date_delay", "when": "on", "time_of_day": DEFAULT_TIME_OF_DAY }])
    } else {
        json!([])
    };
    Ok(json!({
        "name": v.trimmed("name"),
        "start": start,
        "recur_annually": false,
        "triggers": { "filter_groups": [] },
        "reenroll": { "enabled": false, "on_properties": [] },
        "steps": steps,
        "settings": serde_json::to_value(crate::domain::definition::Settings::default())
            .unwrap_or_else(|_| json!({})),
    }))
}

/// A validation error of the new definition, as the input it belongs to.
fn input_of(field: &str) -> &str {
    match field {
        "start.date" | "date" => "date",
        "start.property" | "property" => "property",
        "start" | "start.type" => "start",
        _ => "name",
    }
}

async fn create(
    user: SignedIn,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    let v = FormValues(
        form.into_iter()
            .filter(|(k, _)| k != "csrf_token")
            .collect(),
    );
    let author = user.email.clone();
    let input = v.clone();
    let key = create_key(&v).map(|k| format!("create_key:{k}"));
    let result = crate::db::run(&state.pool, move |conn| {
        let props = Property::all(conn)?;
        if let Some(wf) = created_earlier(conn, key.as_deref())? {
            return Ok((Ok(wf), props));
        }
        let json = match initial_definition(&input) {
            Ok(json) => json,
            Err(errors) => return Ok((Err(errors), props)),
        };
        let def = match parse_definition(&json) {
            Ok(def) => def,
            Err(e) => return Ok((Err(vec![e]), props)),
        };
        Ok((create_once(conn, &def, &author, key.as_deref())?, props))
    })
    .await?;
    match result {
        (Ok(wf), _) => {
            user.set_flash(
                "success",
                format!(
                    "Created “{}”. Set up its enrollment triggers and actions, then Review and publish.",
                    wf.name
                ),
            );
            Ok(see_other(&format!("/workflows/{}", wf.id)))
        }
        (Err(errors), props) => {
            let (date_properties, birth_date) = date_properties(&props);
            let errors = errors
                .into_iter()
                .map(|e| FieldError::new(input_of(&e.field), e.message))
                .collect::<Vec<_>>();
            if errors.is_empty() {
                return Err(WebError::BadRequest("nothing to create".into()));
            }
            render_invalid(&NewPage {
                ctx: user.ctx("workflows"),
                v,
                errors: errors.into(),
                date_properties,
                birth_date,
            })
        }
    }
}
