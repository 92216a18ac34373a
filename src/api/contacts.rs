//! `POST /contacts` (upsert by email), `PATCH /contacts/{id}`, `GET /contacts/{id}`,
//! `GET /contacts?email=`.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::auth::ApiAuth;
use super::error::{ApiError, ApiResult};
use crate::db::models::contact::{Contact, ContactRecord};
use crate::db::models::ContactId;
use crate::domain::errors::FieldError;
use crate::services::contacts::{self, Catalog, ContactError, ContactInput};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/contacts", web::post().to(create))
        .route("/contacts", web::get().to(find))
        .route("/contacts/{id}", web::get().to(get))
        .route("/contacts/{id}", web::patch().to(patch));
}

/// The contact as the API shows it: typed property values, email at the top level.
pub fn contact_json(catalog: &Catalog, rec: &ContactRecord) -> Value {
    let properties: Map<String, Value> = rec
        .values
        .iter()
        .map(|(name, v)| {
            let typed = catalog
                .get(name)
                .map(|p| crate::domain::values::value_to_json(p.kind(), v))
                .unwrap_or_else(|| Value::String(v.clone()));
            (name.clone(), typed)
        })
        .collect();
    json!({
        "id": rec.contact.id,
        "email": rec.contact.email,
        "properties": properties,
        "created_at": rec.contact.created_at,
        "updated_at": rec.contact.updated_at,
    })
}

/// Reads `{ "email"?, "properties"? }` strictly.
fn parse_body(body: Value, allow_email: bool) -> ApiResult<ContactInput> {
    parse_input(body, allow_email).map_err(|e| {
        ApiError::field(
            if e.field.is_empty() {
                "body".into()
            } else {
                e.field
            },
            e.message,
        )
    })
}

/// [`parse_body`]'s reading of one contact object, also used for each input of a batch. The
/// error names the field within the object (empty when the value is not an object at all).
pub(super) fn parse_input(body: Value, allow_email: bool) -> Result<ContactInput, FieldError> {
    let Value::Object(obj) = body else {
        return Err(FieldError::new("", "expected a JSON object"));
    };
    let mut input = ContactInput::default();
    for (k, v) in obj {
        match (k.as_str(), v) {
            ("email", Value::String(s)) if allow_email => input.email = Some(Some(s)),
            ("email", Value::Null) if allow_email => input.email = Some(None),
            ("email", _) if allow_email => {
                return Err(FieldError::new("email", "email must be a string"))
            }
            ("properties", Value::Object(props)) => input.properties = props.into_iter().collect(),
            ("properties", Value::Null) => {}
            ("properties", _) => {
                return Err(FieldError::new(
                    "properties",
                    "properties must be an object of name: value",
                ))
            }
            (other, _) => return Err(FieldError::new(other, format!("unknown field \"{other}\""))),
        }
    }
    Ok(input)
}

pub(super) fn map_error(e: ContactError) -> ApiError {
    match e {
        ContactError::Invalid(errors) => ApiError::fields(errors),
        ContactError::NotFound => ApiError::NotFound("no contact with that id".into()),
        ContactError::Internal(e) => ApiError::Internal(e),
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/contacts",
    tag = "contacts",
    summary = "Create a contact, or update the one with this email",
    request_body = crate::api::openapi::ContactBody,
    responses(
        (status = 201, description = "Created", body = crate::api::openapi::Contact),
        (status = 200, description = "Updated (the email existed)", body = crate::api::openapi::Contact),
        (status = 422, description = "Bad input, naming the field", body = crate::api::openapi::ApiErrorBody),
        (status = 401, description = "Missing or bad token", body = crate::api::openapi::ApiErrorBody),
    )
)]
async fn create(
    _auth: ApiAuth,
    state: web::Data<AppState>,
    body: super::body::JsonBody,
) -> ApiResult<HttpResponse> {
    let input = parse_body(body.into_inner(), true)?;
    // Written with whatever other upserts arrive meanwhile, answered after the commit.
    let (written, catalog) = state
        .contact_writes
        .upsert(input)
        .await
        .map_err(map_error)?;
    let body = contact_json(&catalog, &written.record);
    Ok(if written.created {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    })
}

#[utoipa::path(
    patch,
    path = "/api/v1/contacts/{id}",
    tag = "contacts",
    summary = "Change a contact's values (null clears one)",
    params(("id" = i64, Path, description = "Contact id")),
    request_body = crate::api::openapi::ContactPatch,
    responses(
        (status = 200, description = "The contact", body = crate::api::openapi::Contact),
        (status = 404, description = "No such contact", body = crate::api::openapi::ApiErrorBody),
        (status = 422, description = "Bad input, naming the field", body = crate::api::openapi::ApiErrorBody),
        (status = 401, description = "Missing or bad token", body = crate::api::openapi::ApiErrorBody),
    )
)]
async fn patch(
    _auth: ApiAuth,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    body: super::body::JsonBody,
) -> ApiResult<HttpResponse> {
    let id = ContactId(path.into_inner());
    let input = parse_body(body.into_inner(), true)?;
    let (written, catalog) = crate::db::run(&state.pool, move |conn| {
        let catalog = Catalog::load(conn)?;
        Ok((
            contacts::update(conn, &catalog, id, &input, "properties."),
            catalog,
        ))
    })
    .await?;
    let written = written.map_err(map_error)?;
    Ok(HttpResponse::Ok().json(contact_json(&catalog, &written.record)))
}

#[utoipa::path(
    get,
    path = "/api/v1/contacts/{id}",
    tag = "contacts",
    summary = "A contact",
    params(("id" = i64, Path, description = "Contact id")),
    responses(
        (status = 200, description = "The contact", body = crate::api::openapi::Contact),
        (status = 404, description = "No such contact", body = crate::api::openapi::ApiErrorBody),
        (status = 401, description = "Missing or bad token", body = crate::api::openapi::ApiErrorBody),
    )
)]
async fn get(
    _auth: ApiAuth,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = ContactId(path.into_inner());
    let (rec, catalog) = crate::db::run(&state.pool, move |conn| {
        let catalog = Catalog::load(conn)?;
        Ok((contacts::load(conn, &catalog, id)?, catalog))
    })
    .await?;
    let rec = rec.ok_or_else(|| ApiError::NotFound("no contact with that id".into()))?;
    Ok(HttpResponse::Ok().json(contact_json(&catalog, &rec)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct EmailQuery {
    email: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/contacts",
    tag = "contacts",
    summary = "Look a contact up by email",
    params(EmailQuery),
    responses(
        (status = 200, description = "Zero or one contact", body = crate::api::openapi::ContactList),
        (status = 422, description = "Bad input, naming the field", body = crate::api::openapi::ApiErrorBody),
        (status = 401, description = "Missing or bad token", body = crate::api::openapi::ApiErrorBody),
    )
)]
async fn find(
    _auth: ApiAuth,
    state: web::Data<AppState>,
    q: web::Query<EmailQuery>,
) -> ApiResult<HttpResponse> {
    let Some(email) = q.into_inner().email.filter(|e| !e.trim().is_empty()) else {
        return Err(ApiError::field(
            "email",
            "give ?email= to look a contact up",
        ));
    };
    let (recs, catalog) = crate::db::run(&state.pool, move |conn| {
        let catalog = Catalog::load(conn)?;
        let found = Contact::find_by_email(conn, &email)?;
        let recs = match found {
            Some(c) => contacts::load(conn, &catalog, ContactId(c.id))?
                .into_iter()
                .collect(),
            None => vec![],
        };
        Ok((recs, catalog))
    })
    .await?;
    let list: Vec<Value> = recs.iter().map(|r| contact_json(&catalog, r)).collect();
    Ok(HttpResponse::Ok().json(json!({ "contacts": list })))
}
