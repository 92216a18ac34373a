//! Automations > Workflows: list, create, the editor canvas and its panels, settings, review
//! and publish, test timeline, history. One file per page (or panel family).

pub mod changes;
pub mod charts;
pub mod describe;
pub mod editor;
pub mod enroll;
pub mod forms_common;
pub mod forms_events;
pub mod forms_filters;
pub mod forms_steps;
pub mod from_template;
pub mod goal_stats;
pub mod header;
pub mod history;
pub mod list;
pub mod live_edit;
pub mod new;
pub mod performance;
pub mod review;
pub mod review_words;
pub mod revisions;
pub mod sentences;
pub mod settings;
pub mod support;
pub mod test;
pub mod test_details;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(list::routes);
    cfg.configure(new::routes);
    cfg.configure(editor::routes);
    cfg.configure(settings::routes);
    cfg.configure(review::routes);
    cfg.configure(live_edit::routes);
    cfg.configure(enroll::routes);
    cfg.configure(test::routes);
    cfg.configure(history::routes);
    cfg.configure(performance::routes);
    cfg.configure(revisions::routes);
}
