//! Automations > Workflows: list, create, the editor canvas and its panels, settings, review
//! and publish, test timeline, history. One file per page (or panel family).

pub mod describe;
pub mod header;
pub mod list;
pub mod settings;
pub mod support;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(list::routes);
    cfg.configure(settings::routes);
}
