//! Contacts: list with search and keyset pagination, create, edit, delete, CSV import, demo data.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;
use serde_json::Value;

use super::extract::{CsrfForm, Ctx, SignedIn};
use super::{render, render_invalid, see_other, WebError, WebResult};
use crate::db::models::contact::{Contact, ContactRecord};
use crate::db::models::property::Property;
use crate::db::models::ContactId;
use crate::db::queries;
use crate::domain::errors::Errors;
use crate::domain::values::FieldType;
use crate::services::contacts::{self, Catalog, ContactError, ContactInput};
use crate::state::AppState;

const PAGE_SIZE: i64 = 50;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/contacts", web::get().to(list))
        .route("/contacts/new", web::get().to(new_form))
        .route("/contacts", web::post().to(create))
        .route("/contacts/demo", web::post().to(load_demo))
        .configure(super::import::routes)
        .route("/contacts/{id}", web::get().to(show))
        .route("/contacts/{id}", web::post().to(update))
        .route("/contacts/{id}/delete", web::get().to(confirm_delete))
        .route("/contacts/{id}/delete", web::post().to(delete));
}

pub struct ContactRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub stage: String,
    pub updated_at: String,
}

#[derive(Template)]
#[template(path = "contacts/list.html")]
struct ListPage {
    ctx: Ctx,
    q: String,
    rows: Vec<ContactRow>,
    total: String,
    /// The account's time zone (the list's times).
    tz: String,
    newer: Option<String>,
    older: Option<String>,
}

#[derive(Deserialize)]
struct ListQuery {
    q: Option<String>,
    before: Option<i64>,
    after: Option<i64>,
}

/// Loads records for ids with one query for all their values.
pub fn load_records(
    conn: &mut crate::db::DbConnection,
    catalog: &Catalog,
    ids: &[i64],
) -> anyhow::Result<Vec<ContactRecord>> {
    let rows = Contact::find_many(conn, ids)?;
    let values = Contact::values_for(conn, ids)?;
    let mut out: Vec<ContactRecord> = ids
        .iter()
        .filter_map(|id| rows.iter().find(|c| c.id == *id).cloned())
        .map(|contact| ContactRecord {
            contact,
            values: Default::default(),
        })
        .collect();
    for (cid, pid, v) in values {
        if let (Some(rec), Some(p)) = (
            out.iter_mut().find(|r| r.contact.id == cid),
            catalog.by_id(pid),
        ) {
            rec.values.insert(p.name.clone(), v);
        }
    }
    Ok(out)
}

async fn list(
    user: SignedIn,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> WebResult {
    let q = query.q.clone().unwrap_or_default();
    let (before, after) = (query.before, query.after);
    let qq = q.clone();
    let (records, total, has_more, tz) = crate::db::run(&state.pool, move |conn| {
        let catalog = Catalog::load(conn)?;
        let name_ids: Vec<i64> = ["firstname", "lastname"]
            .iter()
            .filter_map(|n| catalog.get(n).map(|p| p.id))
            .collect();
        let mut ids =
            queries::contact_page(conn, Some(&qq), &name_ids, before, after, PAGE_SIZE + 1)?;
        let has_more = ids.len() as i64 > PAGE_SIZE;
        if has_more {
            if after.is_some() {
                ids.remove(0);
            } else {
                ids.pop();
            }
        }
        let records = load_records(conn, &catalog, &ids)?;
        let tz = crate::db::models::app_setting::account_time_zone(conn)?;
        Ok((
            records,
            crate::services::kept_counts::contacts(conn)?,
            has_more,
            tz,
        ))
    })
    .await?;
    let qs = if q.is_empty() {
        String::new()
    } else {
        format!("&q={}", super::extract::url_escape(&q))
    };
    let first = records.first().map(|r| r.contact.id);
    let last = records.last().map(|r| r.contact.id);
    let newer = match (before, after, first) {
        (None, None, _) => None,
        (_, Some(_), Some(f)) if has_more => Some(format!("/contacts?after={f}{qs}")),
        (_, Some(_), _) => None,
        (Some(_), None, Some(f)) => Some(format!("/contacts?after={f}{qs}")),
        _ => None,
    };
    let older = match (after, last) {
        (Some(_), Some(l)) => Some(format!("/contacts?before={l}{qs}")),
        (None, Some(l)) if has_more => Some(format!("/contacts?before={l}{qs}")),
        _ => None,
    };
    let rows = records
        .iter()
        .map(|r| ContactRow {
            id: r.contact.id,
            name: r.display_name(),
            email: r.contact.email.clone().unwrap_or_default(),
            stage: crate::domain::labels::option_label(r.value("lifecyclestage").unwrap_or("")),
            updated_at: super::filters::when_text(&r.contact.updated_at, tz),
        })
        .collect();
    render(&ListPage {
        ctx: user.ctx("contacts"),
        q,
        rows,
        total: super::filters::thousands(total),
        tz: tz.name().to_string(),
        newer,
        older,
    })
}

/// One input on the contact form, rendered by the property's field type.
pub struct FieldRow {
    pub name: String,
    pub label: String,
    /// text | number | date | datetime-local | select | bool | zone
    pub widget: &'static str,
    pub value: String,
    /// A dropdown's options: (stored value, label).
    pub options: Vec<(String, String)>,
    pub hint: String,
}

impl FieldRow {
    /// A stored dropdown value that is no longer an option still shows (and is kept).
    pub fn value_outside_options(&self) -> bool {
        !self.value.is_empty() && !self.options.iter().any(|(o, _)| o == &self.value)
    }
}

fn field_rows(catalog: &Catalog, values: &dyn Fn(&str) -> String) -> Vec<FieldRow> {
    catalog
        .properties
        .iter()
        .filter(|p| !p.is_email())
        .map(|p| field_row(p, values(&p.name)))
        .collect()
}

fn field_row(p: &Property, value: String) -> FieldRow {
    let (widget, hint) = match p.kind() {
        FieldType::Text if p.name == "date_of_birth" => (
            "text",
            "Single-line text (as in HubSpot), e.g. 1990-05-17".to_string(),
        ),
        FieldType::Text if p.name == crate::domain::values::TIME_ZONE_PROPERTY => (
            "zone",
            "Type to search the list of time zones, e.g. Europe/Oslo. Date delays may run in the contact's zone.".to_string(),
        ),
        FieldType::Text => ("text", String::new()),
        FieldType::Number => ("number", "A number, e.g. 42 or 3.5".to_string()),
        FieldType::Date => ("date", "YYYY-MM-DD".to_string()),
        FieldType::Datetime => ("datetime-local", "Date and time (UTC)".to_string()),
        FieldType::Enum => ("select", String::new()),
        FieldType::Bool => ("bool", String::new()),
    };
    let value = if widget == "datetime-local" {
        // The widget wants YYYY-MM-DDTHH:MM; stored values are RFC 3339 UTC.
        value
            .trim_end_matches('Z')
            .get(..16)
            .map(str::to_string)
            .unwrap_or(value)
    } else {
        value
    };
    // A date the browser's picker cannot hold (typed elsewhere, refused) comes back as the
    // text that was sent, beside its message, instead of an emptied picker.
    let widget = match widget {
        "date" if !value.is_empty() && crate::domain::values::parse_iso_date(&value).is_none() => {
            "text"
        }
        "datetime-local"
            if !value.is_empty()
                && chrono::NaiveDateTime::parse_from_str(&value, "%Y-%m-%dT%H:%M").is_err() =>
        {
            "text"
        }
        other => other,
    };
    FieldRow {
        name: p.name.clone(),
        label: p.label.clone(),
        widget,
        value,
        options: p
            .option_list()
            .into_iter()
            .map(|o| {
                let label = crate::domain::labels::option_label(&o);
                (o, label)
            })
            .collect(),
        hint,
    }
}

#[derive(Template)]
#[template(path = "contacts/form.html")]
struct FormPage {
    ctx: Ctx,
    /// None for a new contact.
    contact_id: Option<i64>,
    title: String,
    email: String,
    fields: Vec<FieldRow>,
    errors: Errors,
    memberships: Vec<Membership>,
    lists: Vec<String>,
    /// The newest workflow history events of this contact.
    activity: Vec<crate::web::memberships::ActivityRow>,
    /// Time zones for the `timezone` property's searchable list.
    zones: Vec<(&'static str, String)>,
}

/// A workflow this contact is (or was) enrolled in.
pub struct Membership {
    pub workflow_id: i64,
    pub workflow_name: String,
    pub status: String,
    pub cycle_year: String,
    pub next: String,
}

impl Membership {
    /// The status as people read it.
    pub fn status_label(&self) -> &str {
        match self.status.as_str() {
            "active" => "Active",
            "completed" => "Completed",
            "unenrolled" => "Unenrolled",
            other => other,
        }
    }
}

/// The time zones of the searchable list (`timezone` property), with their offsets now.
pub fn zones() -> Vec<(&'static str, String)> {
    crate::domain::zones::choices(chrono::Utc::now())
}

async fn new_form(user: SignedIn, state: web::Data<AppState>) -> WebResult {
    let catalog = crate::db::run(&state.pool, Catalog::load).await?;
    render(&FormPage {
        ctx: user.ctx("contacts"),
        contact_id: None,
        title: "Create contact".into(),
        email: String::new(),
        fields: field_rows(&catalog, &|_| String::new()),
        errors: Errors::default(),
        memberships: vec![],
        lists: vec![],
        activity: vec![],
        zones: zones(),
    })
}

/// The submitted form as a write request: every property present in the form is set, an
/// empty input clears the value.
fn input_from_form(catalog: &Catalog, form: &[(String, String)]) -> ContactInput {
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    ContactInput {
        email: get("email").map(|e| Some(e).filter(|e| !e.trim().is_empty())),
        properties: catalog
            .properties
            .iter()
            .filter(|p| !p.is_email())
            .filter_map(|p| get(&p.name).map(|v| (p.name.clone(), Value::String(v))))
            .collect(),
    }
}

async fn create(
    user: SignedIn,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    let result = crate::db::run(&state.pool, move |conn| {
        let catalog = Catalog::load(conn)?;
        let input = input_from_form(&catalog, &form);
        Ok((contacts::create(conn, &catalog, &input, ""), catalog, form))
    })
    .await?;
    match result {
        (Ok(w), _, _) => {
            user.set_flash("success", format!("Created {}.", w.record.display_name()));
            Ok(see_other(&format!("/contacts/{}", w.record.contact.id)))
        }
        (Err(ContactError::Invalid(errors)), catalog, form) => {
            let get = |k: &str| {
                form.iter()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            render_invalid(&FormPage {
                ctx: user.ctx("contacts"),
                contact_id: None,
                title: "Create contact".into(),
                email: get("email"),
                fields: field_rows(&catalog, &|n| get(n)),
                errors: errors.into(),
                memberships: vec![],
                lists: vec![],
                activity: vec![],
                zones: zones(),
            })
        }
        (Err(ContactError::NotFound), _, _) => Err(WebError::NotFound),
        (Err(ContactError::Internal(e)), _, _) => Err(e.into()),
    }
}

/// Workflow memberships and list names of a contact, for its page.
type Context = (
    Vec<Membership>,
    Vec<String>,
    Vec<crate::web::memberships::ActivityRow>,
);

fn contact_context(conn: &mut crate::db::DbConnection, id: ContactId) -> anyhow::Result<Context> {
    let memberships = crate::web::memberships::for_contact(conn, id)?;
    let list_ids = crate::db::models::list::List::lists_of(conn, id)?;
    let mut lists = Vec::new();
    for lid in list_ids {
        if let Some(l) = crate::db::models::list::List::find(conn, crate::db::models::ListId(lid))?
        {
            lists.push(l.name);
        }
    }
    let activity = crate::web::memberships::recent_activity(conn, id, 8)?;
    Ok((memberships, lists, activity))
}

async fn show(user: SignedIn, state: web::Data<AppState>, path: web::Path<i64>) -> WebResult {
    let id = ContactId(path.into_inner());
    let loaded = crate::db::run(&state.pool, move |conn| {
        let catalog = Catalog::load(conn)?;
        let Some(rec) = contacts::load(conn, &catalog, id)? else {
            return Ok(None);
        };
        let context = contact_context(conn, id)?;
        Ok(Some((catalog, rec, context)))
    })
    .await?;
    let Some((catalog, rec, (memberships, lists, activity))) = loaded else {
        return Err(WebError::NotFound);
    };
    render(&FormPage {
        ctx: user.ctx("contacts"),
        contact_id: Some(rec.contact.id),
        title: rec.display_name(),
        email: rec.contact.email.clone().unwrap_or_default(),
        fields: field_rows(&catalog, &|n| rec.value(n).unwrap_or("").to_string()),
        errors: Errors::default(),
        memberships,
        lists,
        activity,
        zones: zones(),
    })
}

async fn update(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    let id = ContactId(path.into_inner());
    let result = crate::db::run(&state.pool, move |conn| {
        let catalog = Catalog::load(conn)?;
        let input = input_from_form(&catalog, &form);
        let r = contacts::update(conn, &catalog, id, &input, "");
        let extra = if matches!(r, Err(ContactError::Invalid(_))) {
            Some(contact_context(conn, id)?)
        } else {
            None
        };
        Ok((r, catalog, form, extra))
    })
    .await?;
    match result {
        (Ok(w), _, _, _) => {
            let msg = if w.changes.is_empty() {
                "Nothing changed."
            } else {
                "Saved."
            };
            user.set_flash("success", msg);
            Ok(see_other(&format!("/contacts/{}", id.0)))
        }
        (Err(ContactError::Invalid(errors)), catalog, form, extra) => {
            let get = |k: &str| {
                form.iter()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            let (memberships, lists, activity) = extra.unwrap_or_default();
            render_invalid(&FormPage {
                ctx: user.ctx("contacts"),
                contact_id: Some(id.0),
                title: "Edit contact".into(),
                email: get("email"),
                fields: field_rows(&catalog, &|n| get(n)),
                errors: errors.into(),
                memberships,
                lists,
                activity,
                zones: zones(),
            })
        }
        (Err(ContactError::NotFound), _, _, _) => Err(WebError::NotFound),
        (Err(ContactError::Internal(e)), _, _, _) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "contacts/delete.html")]
struct DeletePage {
    ctx: Ctx,
    id: i64,
    name: String,
}

async fn confirm_delete(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> WebResult {
    let id = ContactId(path.into_inner());
    let rec = crate::db::run(&state.pool, move |conn| {
        let catalog = Catalog::load(conn)?;
        contacts::load(conn, &catalog, id)
    })
    .await?
    .ok_or(WebError::NotFound)?;
    render(&DeletePage {
        ctx: user.ctx("contacts"),
        id: id.0,
        name: rec.display_name(),
    })
}

async fn delete(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> WebResult {
    let id = ContactId(path.into_inner());
    let deleted = crate::db::run(&state.pool, move |conn| Contact::delete(conn, id)).await?;
    if !deleted {
        return Err(WebError::NotFound);
    }
    user.set_flash("success", "Contact deleted.");
    Ok(see_other("/contacts"))
}

async fn load_demo(
    user: SignedIn,
    state: web::Data<AppState>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<HttpResponse, WebError> {
    let n = crate::db::run(&state.pool, |conn| {
        crate::services::demo::load_demo(conn, 1000)
    })
    .await?;
    user.set_flash(
        "success",
        format!("Loaded {n} sample contacts with birthdays and renewal dates."),
    );
    Ok(see_other("/contacts"))
}
