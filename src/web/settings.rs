//! Settings: account (time zone, account email pacing) and API tokens.

use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::extract::{CsrfForm, Ctx, SignedIn};
use super::{render, render_invalid, see_other, WebResult};
use crate::db::models::api_token::ApiToken;
use crate::db::models::app_setting;
use crate::domain::errors::{Errors, FieldError};
use crate::state::AppState;
use crate::web::pacing_form::{pacing_words, PacingInputs};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings", web::get().to(index))
        .route("/settings/account", web::get().to(account))
        .route("/settings/account", web::post().to(save_account))
        .route("/settings/pacing", web::post().to(save_pacing))
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
    /// The account's email pacing as typed; its errors are keyed `pacing.max_emails`, ….
    pacing: PacingInputs,
    pacing_words: String,
}

fn zones() -> Vec<(&'static str, String)> {
    super::contacts::zones()
}

async fn account(user: SignedIn, state: web::Data<AppState>) -> WebResult {
    let (tz, pacing) = crate::db::run(&state.pool, |conn| {
        Ok((
            app_setting::account_time_zone(conn)?,
            app_setting::account_pacing(conn)?,
        ))
    })
    .await?;
    render(&AccountPage {
        ctx: user.ctx("settings"),
        time_zone: tz.name().to_string(),
        zones: zones(),
        errors: Errors::default(),
        pacing: PacingInputs::of(pacing.as_ref()),
        pacing_words: pacing_words(pacing.as_ref()),
    })
}

#[derive(Deserialize)]
struct PacingForm {
    #[serde(default)]
    pacing_max_emails: String,
    #[serde(default)]
    pacing_per_days: String,
    #[serde(default)]
    quiet_start: String,
    #[serde(default)]
    quiet_end: String,
}

/// Settings > Account > Account pacing: every workflow without its own pacing follows it.
async fn save_pacing(
    user: SignedIn,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<PacingForm>,
) -> WebResult {
    let inputs = PacingInputs::new(
        &form.pacing_max_emails,
        &form.pacing_per_days,
        &form.quiet_start,
        &form.quiet_end,
    );
    let (pacing, problems) = inputs.read();
    if !problems.is_empty() {
        let (tz, current) = crate::db::run(&state.pool, |conn| {
            Ok((
                app_setting::account_time_zone(conn)?,
                app_setting::account_pacing(conn)?,
            ))
        })
        .await?;
        return render_invalid(&AccountPage {
            ctx: user.ctx("settings"),
            time_zone: tz.name().to_string(),
            zones: zones(),
            errors: problems
                .into_iter()
                .map(|(f, m)| FieldError::new(format!("pacing.{f}"), m))
                .collect::<Vec<_>>()
                .into(),
            pacing: inputs,
            pacing_words: pacing_words(current.as_ref()),
        });
    }
    let active = crate::domain::pacing::is_active(&pacing);
    let words = pacing_words(Some(&pacing));
    crate::db::run(&state.pool, move |conn| {
        app_setting::set_account_pacing(conn, active.then_some(&pacing))
    })
    .await?;
    user.set_flash("success", format!("Account pacing saved: {words}."));
    Ok(see_other("/settings/account#pacing"))
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
            let current = crate::db::run(&state.pool, app_setting::account_pacing).await?;
            return render_invalid(&AccountPage {
                ctx: user.ctx("settings"),
                errors: vec![FieldError::new(
                    "time_zone",
                    format!("“{typed}” is not an IANA time zone name: choose one from the list (for example Europe/Oslo or America/New_York)."),
                )]
                .into(),
                time_zone: typed,
                zones: zones(),
                pacing: PacingInputs::of(current.as_ref()),
                pacing_words: pacing_words(current.as_ref()),
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
