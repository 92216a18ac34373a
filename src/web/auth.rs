//! First-run setup, sign-in and sign-out.

use actix_session::Session;
use actix_web::{web, HttpRequest};
use askama::Template;
use serde::Deserialize;

use super::extract::CsrfForm;
use super::{render, render_invalid, safe_next, see_other, session, WebError, WebResult};
use crate::db::models::user::{check_new_user, User};
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
    let user = crate::db::run(&state.pool, move |conn| {
        crate::db::write_transaction(conn, |conn| {
            if User::count(conn)? > 0 {
                return Ok(None);
            }
            User::create(conn, &form.email, &form.password).map(Some)
        })
    })
    .await?;
    let Some(user) = user else {
        return Err(WebError::Forbidden("setup is already complete".into()));
    };
    session::sign_in(&session, user.id);
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
    if session::user_id(&session).is_some() {
        return Ok(see_other(&safe_next(query.next.as_deref())));
    }
    render(&LoginPage {
        csrf: session::csrf_token(&session),
        email: String::new(),
        next: safe_next(query.next.as_deref()),
        errors: Errors::default(),
    })
}

async fn login_submit(
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<Credentials>,
) -> WebResult {
    let email = form.email.clone();
    let password = form.password.clone();
    let user = crate::db::run(&state.pool, move |conn| User::find_by_email(conn, &email)).await?;
    // Verify off the async executor: argon2 is deliberately slow.
    let ok = match user {
        Some(u) => web::block(move || u.verify_password(&password).then_some(u))
            .await
            .map_err(|e| WebError::Internal(anyhow::anyhow!("verifying password: {e}")))?,
        None => None,
    };
    match ok {
        Some(u) => {
            session::sign_in(&session, u.id);
            Ok(see_other(&safe_next(form.next.as_deref())))
        }
        None => render_invalid(&LoginPage {
            csrf: session::csrf_token(&session),
            email: form.email,
            next: safe_next(form.next.as_deref()),
            errors: vec![FieldError::new(
                "form",
                "That email and password do not match an account.",
            )]
            .into(),
        }),
    }
}

async fn logout(
    _req: HttpRequest,
    session: Session,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> WebResult {
    session::sign_out(&session);
    Ok(see_other("/login"))
}
