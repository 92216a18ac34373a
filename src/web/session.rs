//! What the signed session cookie holds: the id of a server-side session
//! (`db::models::user_session`), the CSRF token and a one-shot flash message.

use actix_session::Session;
use rand::RngCore;
use serde::{Deserialize, Serialize};

const SESSION_ID: &str = "sid";
const CSRF: &str = "csrf";
const FLASH: &str = "flash";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flash {
    /// `success` or `error` (a CSS class).
    pub kind: String,
    pub message: String,
}

/// The server-side session this cookie names, if any (checked against the database by
/// `extract::SignedIn`).
pub fn session_id(session: &Session) -> Option<String> {
    session.get::<String>(SESSION_ID).ok().flatten()
}

/// Puts a freshly started server-side session into a renewed cookie: whatever the cookie held
/// before sign-in (a planted or sniffed one) names nothing afterwards.
pub fn sign_in(session: &Session, session_id: &str) {
    session.renew();
    session.remove(SESSION_ID);
    let _ = session.insert(SESSION_ID, session_id);
    // A fresh token per sign-in: a token seen before login is useless after it.
    let _ = session.insert(CSRF, new_token());
}

pub fn sign_out(session: &Session) {
    session.purge();
}

fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// The session's CSRF token, created on first use.
pub fn csrf_token(session: &Session) -> String {
    match session.get::<String>(CSRF).ok().flatten() {
        Some(t) => t,
        None => {
            let t = new_token();
            let _ = session.insert(CSRF, &t);
            t
        }
    }
}

pub fn check_csrf(session: &Session, submitted: &str) -> bool {
    use subtle::ConstantTimeEq;
    match session.get::<String>(CSRF).ok().flatten() {
        Some(t) => !submitted.is_empty() && bool::from(t.as_bytes().ct_eq(submitted.as_bytes())),
        None => false,
    }
}

pub fn set_flash(session: &Session, kind: &str, message: impl Into<String>) {
    let _ = session.insert(
        FLASH,
        Flash {
            kind: kind.into(),
            message: message.into(),
        },
    );
}

pub fn take_flash(session: &Session) -> Option<Flash> {
    let f = session.get::<Flash>(FLASH).ok().flatten();
    if f.is_some() {
        session.remove(FLASH);
    }
    f
}
