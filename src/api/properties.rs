//! `POST /properties`, `GET /properties`.

use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};

use super::auth::ApiAuth;
use super::error::{ApiError, ApiResult};
use crate::db::models::property::{Property, PropertyInput};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/properties", web::post().to(create))
        .route("/properties", web::get().to(list));
}

pub fn property_json(p: &Property) -> Value {
    let mut v = json!({
        "id": p.id,
        "name": p.name,
        "label": p.label,
        "field_type": p.field_type,
        "builtin": p.builtin,
        "type_locked": p.type_locked,
    });
    if p.field_type == "enum" {
        v["options"] = json!(p.option_list());
    }
    v
}

fn str_field(obj: &Map<String, Value>, key: &str, required: bool) -> ApiResult<Option<String>> {
    match obj.get(key) {
        None | Some(Value::Null) if required => {
            Err(ApiError::field(key, format!("{key} is required")))
        }
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::field(key, format!("{key} must be a string"))),
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/properties",
    tag = "properties",
    summary = "Create a contact property",
    request_body = crate::api::openapi::PropertyBody,
    responses(
        (status = 201, description = "Created", body = crate::api::openapi::Property),
        (status = 422, description = "Bad input, naming the field", body = crate::api::openapi::ApiErrorBody),
        (status = 401, description = "Missing or bad token", body = crate::api::openapi::ApiErrorBody),
    )
)]
async fn create(
    _auth: ApiAuth,
    state: web::Data<AppState>,
    body: super::body::JsonBody,
) -> ApiResult<HttpResponse> {
    let Value::Object(obj) = body.into_inner() else {
        return Err(ApiError::field("body", "expected a JSON object"));
    };
    for k in obj.keys() {
        if !["name", "label", "field_type", "options"].contains(&k.as_str()) {
            return Err(ApiError::field(k.clone(), format!("unknown field \"{k}\"")));
        }
    }
    let name = str_field(&obj, "name", true)?.unwrap_or_default();
    let field_type = str_field(&obj, "field_type", true)?.unwrap_or_default();
    let label = str_field(&obj, "label", false)?.unwrap_or_else(|| name.clone());
    let options = match obj.get("options") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(a)) => a
            .iter()
            .map(|o| {
                o.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| ApiError::field("options", "options must be strings"))
            })
            .collect::<ApiResult<Vec<_>>>()?,
        Some(_) => {
            return Err(ApiError::field(
                "options",
                "options must be a list of strings",
            ))
        }
    };
    let input = PropertyInput {
        name,
        label,
        field_type,
        options,
    };
    let created = crate::db::run(&state.pool, move |conn| Property::create(conn, &input)).await?;
    match created {
        Ok(p) => Ok(HttpResponse::Created().json(property_json(&p))),
        Err(errors) => Err(ApiError::fields(errors)),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/properties",
    tag = "properties",
    summary = "Every property",
    responses(
        (status = 200, description = "The properties", body = crate::api::openapi::PropertyList),
        (status = 401, description = "Missing or bad token", body = crate::api::openapi::ApiErrorBody),
    )
)]
async fn list(_auth: ApiAuth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let props = crate::db::run(&state.pool, Property::all).await?;
    Ok(HttpResponse::Ok()
        .json(json!({ "properties": props.iter().map(property_json).collect::<Vec<_>>() })))
}
