//! Automations > Workflows: the list.

use actix_web::web;
use askama::Template;

use crate::web::extract::{Ctx, SignedIn};
use crate::web::{render, WebResult};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/workflows", web::get().to(index));
}

#[derive(Template)]
#[template(path = "workflows/index.html")]
struct IndexPage {
    ctx: Ctx,
}

async fn index(user: SignedIn) -> WebResult {
    render(&IndexPage {
        ctx: user.ctx("workflows"),
    })
}
