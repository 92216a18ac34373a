//! Create workflow > From a template (`/workflows/new/templates`): the templates of
//! `domain::templates`, then one template's page (`/workflows/new/templates/{key}`) that asks
//! for the name and the contact date property it centres on — preselecting the one it was made
//! for, or saying which custom date property to create (with a link that comes back here) when
//! the account has none — and creates the workflow, opening the editor prefilled.

use actix_web::web;
use askama::Template;

use super::forms_common::{Choice, FormValues};
use super::new::{create_key, create_once, created_earlier, new_create_key};
use crate::db::models::property::Property;
use crate::domain::errors::{Errors, FieldError};
use crate::domain::templates::{self, WorkflowTemplate, TEMPLATES};
use crate::domain::validate::parse_definition;
use crate::domain::values::FieldType;
use crate::state::AppState;
use crate::web::extract::{CsrfForm, Ctx, SignedIn};
use crate::web::{render, render_invalid, see_other, WebError, WebResult};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/workflows/new/templates", web::get().to(index))
        .route("/workflows/new/templates/{key}", web::get().to(form))
        .route("/workflows/new/templates/{key}", web::post().to(create));
}

#[derive(Template)]
#[template(path = "workflows/templates.html")]
struct IndexPage {
    ctx: Ctx,
    templates: Vec<&'static WorkflowTemplate>,
}

async fn index(user: SignedIn) -> WebResult {
    render(&IndexPage {
        ctx: user.ctx("workflows"),
        templates: TEMPLATES.iter().collect(),
    })
}

#[derive(Template)]
#[template(path = "workflows/template_form.html")]
struct FormPage {
    ctx: Ctx,
    t: &'static WorkflowTemplate,
    v: FormValues,
    errors: Errors,
    date_properties: Vec<Choice>,
    /// `/settings/properties/new?…`: creates the suggested property and comes back here.
    create_property: String,
}

fn date_choices(props: &[Property]) -> Vec<Choice> {
    props
        .iter()
        .filter(|p| p.kind() == FieldType::Date)
        .map(|p| Choice::new(p.name.clone(), p.label.clone()))
        .collect()
}

fn create_property_link(t: &WorkflowTemplate) -> String {
    format!(
        "/settings/properties/new?field_type=date&label={}&name={}&next={}",
        crate::web::extract::url_escape(t.property.label),
        crate::web::extract::url_escape(t.property.name),
        crate::web::extract::url_escape(&format!("/workflows/new/templates/{}", t.key)),
    )
}

fn page(
    user: &SignedIn,
    t: &'static WorkflowTemplate,
    v: FormValues,
    errors: Errors,
    props: &[Property],
) -> FormPage {
    FormPage {
        ctx: user.ctx("workflows"),
        t,
        v,
        errors,
        date_properties: date_choices(props),
        create_property: create_property_link(t),
    }
}

async fn form(user: SignedIn, state: web::Data<AppState>, path: web::Path<String>) -> WebResult {
    let t = templates::find(&path.into_inner()).ok_or(WebError::NotFound)?;
    let props = crate::db::run(&state.pool, Property::all).await?;
    let dates: Vec<(String, String)> = date_choices(&props)
        .into_iter()
        .map(|c| (c.value, c.label))
        .collect();
    let mut v = FormValues::default();
    v.set("name", t.name);
    // Only the property the template is made for is chosen for the person: a birthday
    // greeting must not quietly centre on "Customer since".
    if let Some(p) = templates::matching_property(t, &dates) {
        v.set("property", p);
    }
    v.set("create_key", new_create_key());
    render(&page(&user, t, v, Errors::default(), &props))
}

async fn create(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    let t = templates::find(&path.into_inner()).ok_or(WebError::NotFound)?;
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
        let name = input.trimmed("name").to_string();
        let property = input.trimmed("property").to_string();
        let mut errors = Vec::new();
        if name.is_empty() {
            errors.push(FieldError::new("name", "Give the workflow a name."));
        }
        let is_date = props
            .iter()
            .any(|p| p.name == property && p.kind() == FieldType::Date);
        if !is_date {
            errors.push(FieldError::new(
                "property",
                "Choose the contact date property this workflow is centred on.",
            ));
        }
        if !errors.is_empty() {
            return Ok((Err(errors), props));
        }
        let def = match parse_definition(&t.definition(&name, &property)) {
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
                    "Created “{}” from the template “{}”: check its emails and settings, then Review and publish.",
                    wf.name, t.name
                ),
            );
            Ok(see_other(&format!("/workflows/{}", wf.id)))
        }
        (Err(errors), props) => {
            let errors: Vec<FieldError> = errors
                .into_iter()
                .map(|e| {
                    let field = if e.field.starts_with("start") || e.field == "property" {
                        "property"
                    } else {
                        "name"
                    };
                    FieldError::new(field, e.message)
                })
                .collect();
            render_invalid(&page(&user, t, v, errors.into(), &props))
        }
    }
}
