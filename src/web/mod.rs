//! Server-rendered pages. One module per area; one page struct per template, beside its handler.

pub mod auth;
pub mod contact_events;
pub mod contacts;
pub mod error;
pub mod extract;
pub mod filters;
pub mod import;
pub mod inbox;
pub mod lists;
pub mod memberships;
pub mod ops;
pub mod post_only;
pub mod properties;
pub mod session;
pub mod settings;
pub mod workflows;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use askama::Template;

pub use error::{WebError, WebResult};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(actix_files::Files::new("/static", static_dir()).prefer_utf8(true))
        .route("/", web::get().to(home))
        .configure(auth::routes)
        .configure(contact_events::routes)
        .configure(contacts::routes)
        .configure(properties::routes)
        .configure(settings::routes)
        .configure(lists::routes)
        .configure(workflows::routes)
        .configure(inbox::routes)
        .default_service(web::to(not_found));
}

/// `static/` next to the crate (development, tests) or next to the working directory.
fn static_dir() -> std::path::PathBuf {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static");
    if here.is_dir() {
        here
    } else {
        std::path::PathBuf::from("static")
    }
}

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

/// Only local paths are followed after sign-in (no open redirect).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}
