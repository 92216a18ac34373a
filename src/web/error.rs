//! Errors a page handler can end with, turned into responses.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not found")]
    NotFound,
    /// A state-changing request without a valid CSRF token.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Not signed in (or no user yet): go there.
    /// A form that could not be read at all (tampered or malformed).
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("redirect to {0}")]
    Redirect(String),
    /// A state-changing request whose Origin/Referer is another site.
    #[error("cross-site request: {0}")]
    CrossSite(String),
    /// Too many failed attempts: try again after this many seconds.
    #[error("too many attempts: {message}")]
    TooManyRequests { retry_after: u64, message: String },
    /// A body over its cap.
    #[error("too large: {0}")]
    PayloadTooLarge(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Internal(anyhow::Error::new(e).context("rendering template"))
    }
}

impl From<diesel::result::Error> for WebError {
    fn from(e: diesel::result::Error) -> Self {
        WebError::Internal(e.into())
    }
}

const PAGE: &str = r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{title} · Perennial</title><link rel="stylesheet" href="/static/app.css"></head><body><main class="error-page"><h1>{title}</h1><p>{message}</p><p><a class="button" href="/">Back to Perennial</a></p></main></body></html>"#;

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(title: &str, message: &str) -> String {
    PAGE.replace("{title}", title).replace("{message}", message)
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Redirect(_) => StatusCode::SEE_OTHER,
            WebError::CrossSite(_) => StatusCode::FORBIDDEN,
            WebError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            WebError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let html = |status: StatusCode, body: String| {
            HttpResponse::build(status)
                .content_type("text/html; charset=utf-8")
                .body(body)
        };
        match self {
            WebError::NotFound => html(
                StatusCode::NOT_FOUND,
                page(
                    "Not found",
                    "There is nothing at this address. It may have been deleted.",
                ),
            ),
            WebError::Forbidden(why) => html(
                StatusCode::FORBIDDEN,
                page(
                    "This form has expired",
                    &format!(
                        "Nothing was changed ({}). Go back, reload the page and try again.",
                        html_escape(why)
                    ),
                ),
            ),
            WebError::BadRequest(why) => html(
                StatusCode::BAD_REQUEST,
                page("That request could not be read", &html_escape(why)),
            ),
            WebError::CrossSite(why) => html(
                StatusCode::FORBIDDEN,
                page(
                    "This form came from another site",
                    &format!(
                        "Nothing was changed: {}. Open Perennial directly and submit the form there.",
                        html_escape(why)
                    ),
                ),
            ),
            WebError::TooManyRequests {
                retry_after,
                message,
            } => {
                let mut res = html(
                    StatusCode::TOO_MANY_REQUESTS,
                    page("Too many attempts", &html_escape(message)),
                );
                if let Ok(v) = header::HeaderValue::from_str(&retry_after.to_string()) {
                    res.headers_mut().insert(header::RETRY_AFTER, v);
                }
                res
            }
            WebError::PayloadTooLarge(why) => html(
                StatusCode::PAYLOAD_TOO_LARGE,
                page("That upload is too large", &html_escape(why)),
            ),
            WebError::Redirect(to) => HttpResponse::SeeOther()
                .insert_header((header::LOCATION, to.as_str()))
                .finish(),
            WebError::Internal(e) => {
                tracing::error!(error = %crate::telemetry::chain(e), "request failed");
                html(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    page(
                        "Something went wrong",
                        "The error was logged. Nothing was lost; please try again.",
                    ),
                )
            }
        }
    }
}

pub type WebResult = Result<HttpResponse, WebError>;
