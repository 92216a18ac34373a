//! The JSON API under `/api/v1` (DESIGN §7): bearer token, JSON in and out, 4xx JSON naming
//! the field on bad input.

pub mod auth;
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

/// Malformed JSON is a 422 naming where it broke, never a panic or an HTML page.
fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(4 * 1024 * 1024)
        .error_handler(|e, _| {
            let message = format!("the body is not valid JSON: {e}");
            ApiError::field("body", message).into()
        })
}
