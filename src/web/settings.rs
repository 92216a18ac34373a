//! Settings: account (time zone) and API tokens.

use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::extract::{CsrfForm, Ctx, SignedIn};
use super::{render, render_invalid, see_other, WebResult};
use crate::db::models::api_token::ApiToken;
use crate::db::models::app_setting;
use crate::domain::errors::{Errors, FieldError};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings", web::get().to(index))
        .route("/settings/account", web::get().to(account))
        .route("/settings/account", web::post().to(save_account))
        .route("/settings/tokens", web::get().to(tokens))
        .route("/settings/tokens", web::post().to(create_token))
        .route("/settings/tokens/{id}/revoke", web::post().to(revoke_token));
}

async fn index(_user: SignedIn) -> WebResult {
    Ok(see_other("/settings/account"))
}

#[derive(Template)]
#[template(path = "settings/account.html")]
struct AccountPage {
    ctx: Ctx,
    time_zone: String,
    /// The searchable list of time zones: (IANA name, offset now).
    zones: Vec<(&'static str, String)>,
    errors: Errors,
}

fn zones() -> Vec<(&'static str, String)> {
    super::contacts::zones()
}

async fn account(user: SignedIn, state: web::Data<AppState>) -> WebResult {
    let tz = crate::db::run(&state.pool, app_setting::account_time_zone).await?;
    render(&AccountPage {
        ctx: user.ctx("settings"),
        time_zone: tz.name().to_string(),
        zones: zones(),
        errors: Errors::default(),
    })
}

#[derive(Deserialize)]
struct AccountForm {
    time_zone: String,
}

async fn save_account(
    user: SignedIn,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<AccountForm>,
) -> WebResult {
    let typed = form.time_zone.trim().to_string();
    let name = match crate::domain::zones::find_zone(&typed) {
        Some(z) => z.name().to_string(),
        None => {
            return render_invalid(&AccountPage {
                ctx: user.ctx("settings"),
                errors: vec![FieldError::new(
                    "time_zone",
                    format!("“{typed}” is not an IANA time zone name: choose one from the list (for example Europe/Oslo or America/New_York)."),
                )]
                .into(),
                time_zone: typed,
                zones: zones(),
            });
        }
    };
    let n = name.clone();
    crate::db::run(&state.pool, move |conn| {
        app_setting::set(conn, app_setting::ACCOUNT_TIME_ZONE, &n)
    })
    .await?;
    user.set_flash("success", format!("Account time zone set to {name}."));
    Ok(see_other("/settings/account"))
}

#[derive(Template)]
#[template(path = "settings/tokens.html")]
struct TokensPage {
    ctx: Ctx,
    /// Each token with its owner's email.
    tokens: Vec<(ApiToken, Option<String>)>,
    /// Shown once, right after creation.
    new_token: Option<String>,
    token_name: String,
    errors: Errors,
}

async fn tokens(user: SignedIn, state: web::Data<AppState>) -> WebResult {
    let tokens = crate::db::run(&state.pool, ApiToken::all_with_owner).await?;
    render(&TokensPage {
        ctx: user.ctx("settings"),
        tokens,
        new_token: None,
        token_name: String::new(),
        errors: Errors::default(),
    })
}

#[derive(Deserialize)]
struct TokenForm {
    name: String,
}

async fn create_token(
    user: SignedIn,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> WebResult {
    let name = form.name.trim().to_string();
    if name.is_empty() {
        let tokens = crate::db::run(&state.pool, ApiToken::all_with_owner).await?;
        return render_invalid(&TokensPage {
            ctx: user.ctx("settings"),
            tokens,
            new_token: None,
            token_name: name,
            errors: vec![FieldError::new(
                "name",
                "Name the token after what will use it.",
            )]
            .into(),
        });
    }
    // Making tokens is rate-limited per account: a hijacked session cannot mint many.
    let account = user.user_id.to_string();
    if let Some(wait) = state.limits.token_creation.blocked(&account) {
        tracing::warn!(user = user.user_id, "API token creation refused: too many");
        return Err(super::WebError::TooManyRequests {
            retry_after: crate::ratelimit::retry_after_secs(wait),
            message: format!(
                "You have created many API tokens in the last hour; try again in {} minutes.",
                crate::ratelimit::retry_after_secs(wait).div_ceil(60)
            ),
        });
    }
    state.limits.token_creation.fail(&account);
    let owner = crate::db::models::UserId(user.user_id);
    let (plain, tokens) = crate::db::run(&state.pool, move |conn| {
        let (_, plain) = ApiToken::create_for(conn, &name, owner)?;
        Ok((plain, ApiToken::all_with_owner(conn)?))
    })
    .await?;
    // Rendered directly (not redirected) so the token is shown exactly once.
    render(&TokensPage {
        ctx: user.ctx("settings"),
        tokens,
        new_token: Some(plain),
        token_name: String::new(),
        errors: Errors::default(),
    })
}

async fn revoke_token(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> WebResult {
    let id = path.into_inner();
    let revoked = crate::db::run(&state.pool, move |conn| ApiToken::revoke(conn, id)).await?;
    if revoked {
        user.set_flash("success", "Token revoked. Requests using it now get 401.");
    }
    Ok(see_other("/settings/tokens"))
}
