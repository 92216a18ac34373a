//! The JSON API under `/api/v1` (DESIGN §7): bearer token, JSON in and out, 4xx JSON naming
//! the field on bad input.

pub mod auth;
pub mod body;
pub mod contacts;
pub mod contacts_batch;
pub mod error;
pub mod events;
pub mod openapi;
pub mod properties;
pub mod workflows;

use actix_web::{web, HttpResponse, Scope};

pub use error::{ApiError, ApiResult};

pub fn scope() -> Scope {
    web::scope("/api/v1")
        .app_data(json_config())
        .app_data(web::QueryConfig::default().error_handler(|e, _| {
            ApiError::field("query", format!("bad query string: {e}")).into()
        }))
        .app_data(
            web::PathConfig::default()
                .error_handler(|e, _| ApiError::NotFound(format!("no such resource ({e})")).into()),
        )
        .configure(contacts_batch::routes)
        .configure(contacts::routes)
        .configure(properties::routes)
        .configure(events::routes)
        .configure(workflows::routes)
        .default_service(web::to(|| async {
            HttpResponse::NotFound()
                .json(serde_json::json!({"error": "no such endpoint", "field": null}))
        }))
}

/// The largest JSON body the API reads (a batch of 1,000 contacts fits several times over).
pub const MAX_JSON_BYTES: usize = 4 * 1024 * 1024;

/// Malformed JSON is a 422 naming where it broke, never a panic or an HTML page; a body over
/// [`MAX_JSON_BYTES`] is a 413; JSON nested deeper than 128 levels is refused while parsing
/// (serde_json's recursion limit), before anything walks it.
fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(MAX_JSON_BYTES)
        .error_handler(|e, _| json_error(&e).into())
}

fn json_error(e: &actix_web::error::JsonPayloadError) -> ApiError {
    use actix_web::error::JsonPayloadError as E;
    match e {
        E::Overflow { .. } | E::OverflowKnownLength { .. } => ApiError::TooLarge(format!(
            "the body is larger than the API accepts ({} MB); send fewer inputs per request",
            MAX_JSON_BYTES / (1024 * 1024)
        )),
        E::Deserialize(d) if d.to_string().contains("recursion limit") => ApiError::field(
            "body",
            "the JSON is nested too deeply (more than 128 levels)",
        ),
        E::ContentType => ApiError::field(
            "body",
            "send the body as JSON with Content-Type: application/json",
        ),
        other => ApiError::field("body", format!("the body is not valid JSON: {other}")),
    }
}
