//! Extractors: the signed-in user (auth as an extractor, Lemmy-style) and CSRF-checked forms.

use std::future::Future;
use std::pin::Pin;

use actix_session::{Session, SessionExt};
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use super::error::WebError;
use super::session::{self, Flash};
use crate::state::AppState;

/// Everything the base layout needs, and proof that someone is signed in.
pub struct SignedIn {
    pub user_id: i64,
    pub email: String,
    pub csrf: String,
    pub session: Session,
    pub path: String,
}

impl SignedIn {
    pub fn flash(&self) -> Option<Flash> {
        session::take_flash(&self.session)
    }

    pub fn set_flash(&self, kind: &str, message: impl Into<String>) {
        session::set_flash(&self.session, kind, message)
    }

    /// The layout context for a page in navigation section `nav`.
    pub fn ctx(&self, nav: &'static str) -> Ctx {
        Ctx {
            email: self.email.clone(),
            csrf: self.csrf.clone(),
            flash: self.flash(),
            nav,
        }
    }
}

/// Layout context handed to every signed-in template.
pub struct Ctx {
    pub email: String,
    pub csrf: String,
    pub flash: Option<Flash>,
    pub nav: &'static str,
}

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, WebError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| WebError::Internal(anyhow::anyhow!("application state missing")))
}

/// Where an anonymous visitor goes: the first-run setup, or the sign-in page.
pub fn gate(req: &HttpRequest) -> Result<(), WebError> {
    let state = state(req)?;
    if !state.has_users()? {
        return Err(WebError::Redirect("/setup".into()));
    }
    let next = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    Err(WebError::Redirect(format!(
        "/login?next={}",
        url_escape(next)
    )))
}

pub fn url_escape(s: &str) -> String {
    serde_html_form::to_string([("x", s)])
        .map(|q| q.trim_start_matches("x=").to_string())
        .unwrap_or_default()
}

impl FromRequest for SignedIn {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let session = req.get_session();
            let Some(sid) = session::session_id(&session) else {
                gate(&req)?;
                unreachable!("gate always redirects");
            };
            let state = state(&req)?;
            // One query: the session is live (not signed out, not idle too long) and its user
            // is active.
            let user = crate::db::run(&state.pool, move |conn| {
                crate::db::models::user_session::UserSession::user(conn, &sid)
            })
            .await?;
            let Some(user) = user else {
                session::sign_out(&session);
                gate(&req)?;
                unreachable!("gate always redirects");
            };
            Ok(SignedIn {
                user_id: user.id,
                email: user.email,
                csrf: session::csrf_token(&session),
                session,
                path: req.path().to_string(),
            })
        })
    }
}

/// A urlencoded form whose `csrf_token` field matched the session's token; anything else is
/// a 403 before the handler runs, so nothing changes. Repeated keys (checkbox groups) are
/// supported through `serde_html_form`.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let body = body.await.map_err(|e| {
                if e.as_response_error().status_code()
                    == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE
                {
                    WebError::PayloadTooLarge(format!(
                        "A form may send at most {} KB; nothing was saved.",
                        super::MAX_FORM_BYTES / 1024
                    ))
                } else {
                    WebError::BadRequest(format!("the form could not be read: {e}"))
                }
            })?;
            let session = req.get_session();
            let token = form_field(&body, "csrf_token").unwrap_or_default();
            if !session::check_csrf(&session, &token) {
                return Err(WebError::Forbidden("missing or invalid CSRF token".into()));
            }
            // A NUL character cannot be stored (PostgreSQL refuses it) and no person types
            // one: refused before the handler runs, naming the field.
            if let Ok(pairs) = serde_html_form::from_bytes::<Vec<(String, String)>>(&body) {
                if let Some((k, _)) = pairs
                    .iter()
                    .find(|(k, v)| k.contains('\0') || v.contains('\0'))
                {
                    return Err(WebError::BadRequest(format!(
                        "the field “{}” contains a NUL character (\\0), which cannot be stored; nothing was saved",
                        k.replace('\0', "\\0")
                    )));
                }
            }
            serde_html_form::from_bytes::<T>(&body)
                .map(CsrfForm)
                .map_err(|e| WebError::BadRequest(format!("malformed form: {e}")))
        })
    }
}

/// One field of a urlencoded body.
pub fn form_field(body: &[u8], name: &str) -> Option<String> {
    serde_html_form::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}
