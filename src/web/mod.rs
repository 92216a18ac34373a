//! Server-rendered pages. One module per area; one page struct per template, beside its handler.

pub mod assets;
pub mod auth;
pub mod contact_events;
pub mod contacts;
pub mod error;
pub mod export;
pub mod extract;
pub mod filters;
pub mod import;
pub mod inbox;
pub mod lists;
pub mod memberships;
pub mod ops;
pub mod pacing_form;
pub mod post_only;
pub mod properties;
pub mod security;
pub mod session;
pub mod settings;
pub mod users;
pub mod webhooks;
pub mod workflows;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use askama::Template;

pub use error::{WebError, WebResult};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home))
        .configure(auth::routes)
        .configure(export::routes)
        .configure(contact_events::routes)
        .configure(contacts::routes)
        .configure(properties::routes)
        .configure(settings::routes)
        .configure(users::routes)
        .configure(webhooks::routes)
        .configure(lists::routes)
        .configure(workflows::routes)
        .configure(inbox::routes)
        .default_service(web::to(not_found));
}

/// The largest urlencoded form a page accepts (a workflow's whole editor form fits many
/// times over); larger is 413. CSV uploads have their own cap (`import::MAX_UPLOAD`).
pub const MAX_FORM_BYTES: usize = 1024 * 1024;

async fn home(_user: extract::SignedIn) -> WebResult {
    Ok(see_other("/workflows"))
}

/// The fallback of every route: a form's POST-only URL opened with GET goes to its page
/// (`post_only`); anything else is not found.
async fn not_found(req: actix_web::HttpRequest) -> WebResult {
    match post_only::redirect_for(&req) {
        Some(page) => Ok(see_other(&page)),
        None => Err(WebError::NotFound),
    }
}

/// Renders a template into an HTML response.
pub fn render<T: Template>(t: &T) -> WebResult {
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(t.render()?))
}

/// Renders a form again with 422, the messages beside the fields and the input kept.
pub fn render_invalid<T: Template>(t: &T) -> WebResult {
    Ok(HttpResponse::UnprocessableEntity()
        .content_type("text/html; charset=utf-8")
        .body(t.render()?))
}

/// Post/redirect/get.
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

/// Only a path of this site is followed after sign-in (no open redirect): it starts with a
/// single `/`, and holds no backslash, whitespace or control character — browsers drop tabs
/// and newlines from URLs, so `/\t/evil.com` would become `//evil.com`, another site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n
                    .chars()
                    .any(|c| c == '\\' || c.is_whitespace() || c.is_control()) =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}
