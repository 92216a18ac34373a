//! First-run setup, sign-in and sign-out. Sign-in is rate-limited by client address and by
//! account (`AppState::limits`), answers as slowly for an unknown email as for a known one,
//! rotates the session, and logs every failure; sign-out ends the session on the server.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::extract::CsrfForm;
use super::{render, render_invalid, safe_next, see_other, session, WebError, WebResult};
use crate::db::models::user::{check_new_user, verify_dummy, User};
use crate::db::models::user_session::UserSession;
use crate::domain::errors::{Errors, FieldError};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/setup", web::get().to(setup_page))
        .route("/setup", web::post().to(setup_submit))
        .route("/login", web::get().to(login_page))
        .route("/login", web::post().to(login_submit))
        .route("/logout", web::post().to(logout));
}

#[derive(Template)]
#[template(path = "auth/setup.html")]
struct SetupPage {
    csrf: String,
    email: String,
    errors: Errors,
}

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    csrf: String,
    email: String,
    next: String,
    errors: Errors,
}

#[derive(Deserialize)]
struct Credentials {
    email: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

async fn setup_page(state: web::Data<AppState>, session: Session) -> WebResult {
    if state.has_users()? {
        return Ok(see_other("/login"));
    }
    render(&SetupPage {
        csrf: session::csrf_token(&session),
        email: String::new(),
        errors: Errors::default(),
    })
}

async fn setup_submit(
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<Credentials>,
) -> WebResult {
    if state.has_users()? {
        // Setup happens once; afterwards this form creates nothing.
        return Err(WebError::Forbidden("setup is already complete".into()));
    }
    if let Err((field, msg)) = check_new_user(&form.email, &form.password) {
        return render_invalid(&SetupPage {
            csrf: session::csrf_token(&session),
            email: form.email,
            errors: vec![FieldError::new(field, msg)].into(),
        });
    }
    let sid = crate::db::run(&state.pool, move |conn| {
        crate::db::write_transaction(conn, |conn| {
            if User::count(conn)? > 0 {
                return Ok(None);
            }
            let user = User::create(conn, &form.email, &form.password)?;
            UserSession::start(conn, user.id()).map(Some)
        })
    })
    .await?;
    let Some(sid) = sid else {
        return Err(WebError::Forbidden("setup is already complete".into()));
    };
    session::sign_in(&session, &sid);
    session::set_flash(
        &session,
        "success",
        "Welcome to Perennial. Your admin account is ready.",
    );
    Ok(see_other("/contacts"))
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_page(
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<NextQuery>,
) -> WebResult {
    if !state.has_users()? {
        return Ok(see_other("/setup"));
    }
    if let Some(sid) = session::session_id(&session) {
        let live = crate::db::run(&state.pool, move |conn| UserSession::user(conn, &sid)).await?;
        if live.is_some() {
            return Ok(see_other(&safe_next(query.next.as_deref())));
        }
    }
    render(&LoginPage {
        csrf: session::csrf_token(&session),
        email: String::new(),
        next: safe_next(query.next.as_deref()),
        errors: Errors::default(),
    })
}

async fn login_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<Credentials>,
) -> WebResult {
    let ip = super::security::client_ip(&req)
        .map(|ip| ip.to_string())
        .unwrap_or_else(|| "unknown".into());
    let account = form.email.trim().to_lowercase();
    let limits = &state.limits;
    let blocked = limits
        .login_by_ip
        .blocked(&ip)
        .into_iter()
        .chain(limits.login_by_account.blocked(&account))
        .max();
    if let Some(wait) = blocked {
        tracing::warn!(%ip, account = %account, "sign-in refused: too many failed attempts");
        let secs = crate::ratelimit::retry_after_secs(wait);
        let minutes = secs.div_ceil(60);
        let page = LoginPage {
            csrf: session::csrf_token(&session),
            email: form.email,
            next: safe_next(form.next.as_deref()),
            errors: vec![FieldError::new(
                "form",
                format!(
                    "Too many failed sign-ins. To protect the account, signing in is paused: try again in {minutes} minute{}.",
                    if minutes == 1 { "" } else { "s" }
                ),
            )]
            .into(),
        };
        return Ok(HttpResponse::build(StatusCode::TOO_MANY_REQUESTS)
            .content_type("text/html; charset=utf-8")
            .insert_header(("Retry-After", secs.to_string()))
            .body(askama::Template::render(&page)?));
    }
    let email = form.email.clone();
    let password = form.password.clone();
    let user = crate::db::run(&state.pool, move |conn| User::find_by_email(conn, &email)).await?;
    // Verify off the async executor: argon2 is deliberately slow. An unknown email (or a
    // disabled account) costs the same check against a dummy hash: the answer takes as long.
    let ok = web::block(move || match user {
        Some(u) if u.is_active() => u.verify_password(&password).then_some(u),
        Some(u) => {
            let _ = u.verify_password(&password);
            None
        }
        None => {
            verify_dummy(&password);
            None
        }
    })
    .await
    .map_err(|e| WebError::Internal(anyhow::anyhow!("verifying password: {e}")))?;
    match ok {
        Some(u) => {
            limits.login_by_account.clear(&account);
            let id = u.id();
            let sid = crate::db::run(&state.pool, move |conn| UserSession::start(conn, id)).await?;
            session::sign_in(&session, &sid);
            tracing::info!(%ip, user = u.id, "signed in");
            Ok(see_other(&safe_next(form.next.as_deref())))
        }
        None => {
            limits.login_by_ip.fail(&ip);
            limits.login_by_account.fail(&account);
            tracing::warn!(%ip, account = %account, "failed sign-in");
            render_invalid(&LoginPage {
                csrf: session::csrf_token(&session),
                email: form.email,
                next: safe_next(form.next.as_deref()),
                errors: vec![FieldError::new(
                    "form",
                    "That email and password do not match an account.",
                )]
                .into(),
            })
        }
    }
}

async fn logout(
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> WebResult {
    if let Some(sid) = session::session_id(&session) {
        crate::db::run(&state.pool, move |conn| UserSession::end(conn, &sid)).await?;
    }
    session::sign_out(&session);
    Ok(see_other("/login"))
}
