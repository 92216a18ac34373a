//! Settings > Users: who can sign in. Add a user, disable one (their sessions end at once and
//! their API tokens answer 401), enable them again, or delete them with their tokens. Nobody
//! acts on their own account here, and the last active user stays.

use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::extract::{CsrfForm, Ctx, SignedIn};
use super::{render, render_invalid, see_other, WebError, WebResult};
use crate::db::models::user::{check_new_user, User, UserChangeError};
use crate::db::models::user_session::UserSession;
use crate::db::models::UserId;
use crate::domain::errors::{Errors, FieldError};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/users", web::get().to(list))
        .route("/settings/users", web::post().to(create))
        .route("/settings/users/{id}/disable", web::post().to(disable))
        .route("/settings/users/{id}/enable", web::post().to(enable))
        .route("/settings/users/{id}/delete", web::get().to(confirm_delete))
        .route("/settings/users/{id}/delete", web::post().to(delete));
}

pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub created: String,
    pub active: bool,
    pub sessions: i64,
    pub is_me: bool,
}

#[derive(Template)]
#[template(path = "settings/users.html")]
struct UsersPage {
    ctx: Ctx,
    users: Vec<UserRow>,
    email: String,
    errors: Errors,
}

async fn rows(state: &AppState, me: i64) -> Result<Vec<UserRow>, WebError> {
    Ok(crate::db::run(&state.pool, move |conn| {
        let mut out = Vec::new();
        for u in User::all(conn)? {
            out.push(UserRow {
                id: u.id,
                created: u.created_at.get(..10).unwrap_or("").to_string(),
                active: u.is_active(),
                sessions: UserSession::count_for(conn, u.id())?,
                is_me: u.id == me,
                email: u.email,
            });
        }
        Ok(out)
    })
    .await?)
}

async fn list(user: SignedIn, state: web::Data<AppState>) -> WebResult {
    let users = rows(&state, user.user_id).await?;
    render(&UsersPage {
        ctx: user.ctx("settings"),
        users,
        email: String::new(),
        errors: Errors::default(),
    })
}

#[derive(Deserialize)]
struct NewUser {
    email: String,
    password: String,
}

async fn create(
    user: SignedIn,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<NewUser>,
) -> WebResult {
    let email = form.email.trim().to_string();
    let check = check_new_user(&email, &form.password).map_err(|(f, m)| FieldError::new(f, m));
    let check = match check {
        Ok(()) => {
            let e = email.clone();
            let taken =
                crate::db::run(&state.pool, move |conn| User::find_by_email(conn, &e)).await?;
            match taken {
                Some(_) => Err(FieldError::new(
                    "email",
                    format!("A user with the email {email} already exists."),
                )),
                None => Ok(()),
            }
        }
        Err(e) => Err(e),
    };
    if let Err(e) = check {
        let users = rows(&state, user.user_id).await?;
        return render_invalid(&UsersPage {
            ctx: user.ctx("settings"),
            users,
            email,
            errors: vec![e].into(),
        });
    }
    let (e, password) = (email.clone(), form.password);
    crate::db::run(&state.pool, move |conn| User::create(conn, &e, &password)).await?;
    tracing::info!(by = user.user_id, email = %email, "user created");
    user.set_flash(
        "success",
        format!("{email} can now sign in with the password you chose."),
    );
    Ok(see_other("/settings/users"))
}

/// The outcome of a change as a flash message, then back to the list.
fn after_change(user: &SignedIn, result: Result<bool, UserChangeError>, done: &str) -> WebResult {
    match result {
        Ok(true) => user.set_flash("success", done),
        Ok(false) => return Err(WebError::NotFound),
        Err(UserChangeError::LastActive) => user.set_flash(
            "error",
            "That is the only active user: nobody could sign in afterwards. Add or enable another user first.",
        ),
        Err(UserChangeError::Internal(e)) => return Err(WebError::Internal(e)),
    }
    Ok(see_other("/settings/users"))
}

fn not_yourself(user: &SignedIn, id: i64, what: &str) -> Option<WebResult> {
    (user.user_id == id).then(|| {
        user.set_flash(
            "error",
            format!("You cannot {what} your own account here; another user can."),
        );
        Ok(see_other("/settings/users"))
    })
}

async fn set_disabled(
    user: SignedIn,
    state: web::Data<AppState>,
    id: i64,
    disabled: bool,
) -> WebResult {
    if let Some(done) = not_yourself(&user, id, "disable") {
        return done;
    }
    let result = crate::db::run(&state.pool, move |conn| {
        Ok(User::set_disabled(conn, UserId(id), disabled))
    })
    .await?;
    let email = user_email(&state, id).await?;
    if result.as_ref().is_ok_and(|changed| *changed) {
        tracing::info!(
            by = user.user_id,
            user = id,
            disabled,
            "user access changed"
        );
    }
    let done = if disabled {
        format!(
            "{email} is disabled: their sessions have ended and their API tokens no longer work."
        )
    } else {
        format!("{email} can sign in again; their API tokens work again.")
    };
    after_change(&user, result, &done)
}

async fn user_email(state: &AppState, id: i64) -> Result<String, WebError> {
    Ok(
        crate::db::run(&state.pool, move |conn| User::find(conn, UserId(id)))
            .await?
            .map(|u| u.email)
            .unwrap_or_else(|| "The user".into()),
    )
}

async fn disable(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> WebResult {
    set_disabled(user, state, path.into_inner(), true).await
}

async fn enable(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> WebResult {
    set_disabled(user, state, path.into_inner(), false).await
}

#[derive(Template)]
#[template(path = "settings/user_delete.html")]
struct DeletePage {
    ctx: Ctx,
    id: i64,
    email: String,
}

async fn confirm_delete(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> WebResult {
    let id = path.into_inner();
    let found = crate::db::run(&state.pool, move |conn| User::find(conn, UserId(id))).await?;
    let Some(found) = found else {
        return Err(WebError::NotFound);
    };
    if let Some(done) = not_yourself(&user, id, "delete") {
        return done;
    }
    render(&DeletePage {
        ctx: user.ctx("settings"),
        id,
        email: found.email,
    })
}

async fn delete(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> WebResult {
    let id = path.into_inner();
    if let Some(done) = not_yourself(&user, id, "delete") {
        return done;
    }
    let email = user_email(&state, id).await?;
    let result =
        crate::db::run(&state.pool, move |conn| Ok(User::delete(conn, UserId(id)))).await?;
    if result.as_ref().is_ok_and(|deleted| *deleted) {
        tracing::info!(by = user.user_id, user = id, "user deleted");
    }
    after_change(
        &user,
        result,
        &format!("{email} is deleted, with their API tokens."),
    )
}
