//! Settings > Webhooks: the internal hosts webhook steps may call. Everything else on this
//! machine or its private networks is refused (`worker::guard`).

use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::extract::{CsrfForm, Ctx, SignedIn};
use super::{render, render_invalid, see_other, WebResult};
use crate::db::models::app_setting;
use crate::domain::errors::{Errors, FieldError};
use crate::state::AppState;
use crate::worker::guard::{entries, parse_entry, ALLOWED_HOSTS};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/webhooks", web::get().to(page))
        .route("/settings/webhooks", web::post().to(save));
}

#[derive(Template)]
#[template(path = "settings/webhooks.html")]
struct WebhooksPage {
    ctx: Ctx,
    allowed_hosts: String,
    errors: Errors,
}

async fn page(user: SignedIn, state: web::Data<AppState>) -> WebResult {
    let allowed_hosts = crate::db::run(&state.pool, |conn| {
        app_setting::get(conn, ALLOWED_HOSTS).map(Option::unwrap_or_default)
    })
    .await?;
    render(&WebhooksPage {
        ctx: user.ctx("settings"),
        allowed_hosts,
        errors: Errors::default(),
    })
}

#[derive(Deserialize)]
struct WebhooksForm {
    allowed_hosts: String,
}

async fn save(
    user: SignedIn,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<WebhooksForm>,
) -> WebResult {
    let problems: Vec<String> = entries(&form.allowed_hosts)
        .filter_map(|e| parse_entry(e).err())
        .collect();
    if !problems.is_empty() {
        return render_invalid(&WebhooksPage {
            ctx: user.ctx("settings"),
            allowed_hosts: form.allowed_hosts,
            errors: vec![FieldError::new("allowed_hosts", problems.join(" "))].into(),
        });
    }
    let kept: Vec<&str> = entries(&form.allowed_hosts).collect();
    let text = kept.join("\n");
    let n = kept.len();
    crate::db::run(&state.pool, move |conn| {
        app_setting::set(conn, ALLOWED_HOSTS, &text)
    })
    .await?;
    tracing::info!(
        by = user.user_id,
        hosts = n,
        "webhook allowed hosts changed"
    );
    user.set_flash(
        "success",
        match n {
            0 => "Webhooks may call public addresses only.".to_string(),
            1 => "Saved: webhooks may also call the 1 internal host listed.".to_string(),
            n => format!("Saved: webhooks may also call the {n} internal hosts listed."),
        },
    );
    Ok(see_other("/settings/webhooks"))
}
