//! Settings > Properties: the default contact properties and custom ones.

use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::extract::{CsrfForm, Ctx, SignedIn};
use super::{render, render_invalid, see_other, WebError, WebResult};
use crate::db::models::property::{clean_options, Property, PropertyInput};
use crate::db::models::workflow::Workflow;
use crate::domain::errors::Errors;
use crate::domain::values::FieldType;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/properties", web::get().to(list))
        .route("/settings/properties/new", web::get().to(new_form))
        .route("/settings/properties", web::post().to(create))
        .route("/settings/properties/{id}", web::get().to(edit_form))
        .route("/settings/properties/{id}", web::post().to(update))
        .route("/settings/properties/{id}/delete", web::post().to(delete));
}

pub struct TypeChoice {
    pub value: &'static str,
    pub label: &'static str,
}

fn type_choices() -> Vec<TypeChoice> {
    FieldType::ALL
        .iter()
        .map(|t| TypeChoice {
            value: t.as_str(),
            label: t.label(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "settings/properties.html")]
struct ListPage {
    ctx: Ctx,
    properties: Vec<Property>,
}

async fn list(user: SignedIn, state: web::Data<AppState>) -> WebResult {
    let properties = crate::db::run(&state.pool, Property::all).await?;
    render(&ListPage {
        ctx: user.ctx("settings"),
        properties,
    })
}

#[derive(Template)]
#[template(path = "settings/property_form.html")]
struct FormPage {
    ctx: Ctx,
    /// None when creating.
    id: Option<i64>,
    name: String,
    label: String,
    field_type: String,
    options: String,
    type_locked: bool,
    builtin: bool,
    types: Vec<TypeChoice>,
    errors: Errors,
    /// Where to go after creating (a local path, e.g. back to a workflow template).
    next: String,
}

#[derive(Deserialize)]
struct NewQuery {
    #[serde(default)]
    field_type: Option<String>,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    next: Option<String>,
}

/// A local path to return to, or empty.
fn local_next(next: Option<&str>) -> String {
    match next.map(str::trim) {
        Some(n) if !n.is_empty() => super::safe_next(Some(n)),
        _ => String::new(),
    }
}

async fn new_form(user: SignedIn, query: web::Query<NewQuery>) -> WebResult {
    let label = query.label.clone().unwrap_or_default();
    render(&FormPage {
        ctx: user.ctx("settings"),
        id: None,
        name: query
            .name
            .clone()
            .unwrap_or_else(|| crate::domain::labels::internal_name_from_label(&label)),
        next: local_next(query.next.as_deref()),
        label,
        field_type: query.field_type.clone().unwrap_or_else(|| "text".into()),
        options: String::new(),
        type_locked: false,
        builtin: false,
        types: type_choices(),
        errors: Errors::default(),
    })
}

#[derive(Deserialize)]
struct PropertyForm {
    #[serde(default)]
    name: String,
    label: String,
    field_type: String,
    #[serde(default)]
    options: String,
    #[serde(default)]
    next: String,
}

impl PropertyForm {
    fn input(&self) -> PropertyInput {
        // Left empty, the internal name comes from the label (as the page suggests it).
        let name = match self.name.trim() {
            "" => crate::domain::labels::internal_name_from_label(&self.label),
            n => n.to_string(),
        };
        PropertyInput {
            name,
            label: self.label.clone(),
            field_type: self.field_type.clone(),
            options: clean_options(&self.options),
        }
    }
}

async fn create(
    user: SignedIn,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<PropertyForm>,
) -> WebResult {
    let input = form.input();
    let name = input.name.clone();
    let result = crate::db::run(&state.pool, move |conn| Property::create(conn, &input)).await?;
    match result {
        Ok(p) => {
            user.set_flash(
                "success",
                format!("Created the property “{}” ({}).", p.label, p.name),
            );
            let next = local_next(Some(&form.next));
            Ok(see_other(if next.is_empty() {
                "/settings/properties"
            } else {
                &next
            }))
        }
        Err(errors) => render_invalid(&FormPage {
            ctx: user.ctx("settings"),
            id: None,
            next: local_next(Some(&form.next)),
            name,
            label: form.label,
            field_type: form.field_type,
            options: form.options,
            type_locked: false,
            builtin: false,
            types: type_choices(),
            errors: errors.into(),
        }),
    }
}

async fn edit_form(user: SignedIn, state: web::Data<AppState>, path: web::Path<i64>) -> WebResult {
    let id = path.into_inner();
    let p = crate::db::run(&state.pool, move |conn| Property::find(conn, id))
        .await?
        .ok_or(WebError::NotFound)?;
    render(&FormPage {
        ctx: user.ctx("settings"),
        id: Some(p.id),
        options: p.option_list().join("\n"),
        name: p.name,
        label: p.label,
        field_type: p.field_type,
        type_locked: p.type_locked,
        builtin: p.builtin,
        types: type_choices(),
        errors: Errors::default(),
        next: String::new(),
    })
}

async fn update(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<PropertyForm>,
) -> WebResult {
    let id = path.into_inner();
    let input = form.input();
    let result = crate::db::run(&state.pool, move |conn| {
        let Some(p) = Property::find(conn, id)? else {
            return Ok(None);
        };
        let r = p.update(conn, &input)?;
        Ok(Some((p, r)))
    })
    .await?;
    match result {
        None => Err(WebError::NotFound),
        Some((_, Ok(p))) => {
            user.set_flash("success", format!("Saved the property “{}”.", p.label));
            Ok(see_other("/settings/properties"))
        }
        Some((p, Err(errors))) => render_invalid(&FormPage {
            ctx: user.ctx("settings"),
            id: Some(p.id),
            name: p.name,
            label: form.label,
            // A fixed type is shown as it is, not as the refused choice (its select is disabled).
            field_type: if p.type_locked {
                p.field_type
            } else {
                form.field_type
            },
            options: form.options,
            type_locked: p.type_locked,
            builtin: p.builtin,
            types: type_choices(),
            errors: errors.into(),
            next: String::new(),
        }),
    }
}

async fn delete(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> WebResult {
    let id = path.into_inner();
    let outcome = crate::db::run(&state.pool, move |conn| {
        let Some(p) = Property::find(conn, id)? else {
            return Ok(None);
        };
        if p.builtin {
            return Ok(Some(Err(format!(
                "“{}” is a default property and cannot be deleted.",
                p.label
            ))));
        }
        let users: Vec<String> = Workflow::all(conn, None)?
            .into_iter()
            .filter(|w| references_property(&w.definition_json(), &p.name))
            .map(|w| format!("“{}”", w.name))
            .collect();
        if !users.is_empty() {
            return Ok(Some(Err(format!(
                "“{}” is used by the workflow{} {}; remove it from {} first.",
                p.label,
                if users.len() == 1 { "" } else { "s" },
                users.join(", "),
                if users.len() == 1 { "it" } else { "them" },
            ))));
        }
        p.delete(conn)?;
        Ok(Some(Ok(p.label)))
    })
    .await?;
    match outcome {
        None => return Err(WebError::NotFound),
        Some(Ok(label)) => user.set_flash(
            "success",
            format!("Deleted the property “{label}” and its values."),
        ),
        Some(Err(message)) => user.set_flash("error", message),
    }
    Ok(see_other("/settings/properties"))
}

/// Whether a workflow definition (DESIGN §7 JSON) names this contact property anywhere: a
/// `property` (start, filters, property actions), `from`/`to` of a copy, or `on_properties`
/// of re-enrollment. Deleting such a property would leave the workflow pointing at nothing.
fn references_property(def: &serde_json::Value, name: &str) -> bool {
    use serde_json::Value;
    match def {
        Value::Object(map) => map.iter().any(|(k, v)| {
            let is_copy = map.get("type").and_then(Value::as_str) == Some("copy_property");
            let names_it = match k.as_str() {
                "property" => v.as_str() == Some(name),
                "from" | "to" if is_copy => v.as_str() == Some(name),
                "on_properties" => v
                    .as_array()
                    .is_some_and(|a| a.iter().any(|p| p.as_str() == Some(name))),
                _ => false,
            };
            names_it || references_property(v, name)
        }),
        Value::Array(items) => items.iter().any(|v| references_property(v, name)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn finds_property_references_anywhere_in_a_definition() {
        let def = json!({
            "start": {"type": "contact_date_property", "property": "renewal_date"},
            "triggers": {"filter_groups": [[{"property": "plan", "operator": "eq", "value": "pro"}]]},
            "reenroll": {"enabled": true, "on_properties": ["seats"]},
            "steps": [{"type": "copy_property", "from": "nickname", "to": "firstname"},
                      {"type": "send_email", "subject": "plan", "body": "renewal_date"},
                      {"type": "webhook", "url": "https://example.com", "to": "birthday"}]
        });
        for used in ["renewal_date", "plan", "seats", "nickname", "firstname"] {
            assert!(super::references_property(&def, used), "{used}");
        }
        for unused in ["birthday", "subject", "send_email"] {
            assert!(!super::references_property(&def, unused), "{unused}");
        }
    }
}
