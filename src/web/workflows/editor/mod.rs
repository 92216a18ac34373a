//! The editor (`/workflows/{id}`): the workflow drawn as a vertical flow of cards with **+**
//! between them, and the panel of the chosen card on the left. Works without JavaScript: the
//! open panel is chosen by the query string (`?panel=trigger`, `?panel=step-2-yes-0`,
//! `?panel=add&after=2&arm=2-yes&type=send_email`) and every panel is a plain form.
//!
//! Every save goes through `services::drafts::save_edit`: a new revision while the workflow is
//! off, unpublished changes (reviewed on Review and update) while it is on. When
//! validation refuses it, the page is drawn again with the panel as submitted, each message
//! beside its input, and status 422; nothing is saved.
//!
//! One file per job: `show` loads the workflow and draws the page, `canvas` builds the flow
//! of cards, `panels` fills the open card's panel, `save` handles the trigger, date, repeat
//! and name forms, `goal` the goal form and how every save ends, `steps` adds, edits, deletes and moves steps.

mod canvas;
mod goal;
mod panels;
mod save;
mod show;
mod steps;

use actix_web::web;

use goal::save_goal;
use save::{save_name, save_recur, save_start, save_trigger};
use show::show;
use steps::{add_step, delete_step, edit_step, move_step};

pub use canvas::CanvasItem;
pub use panels::{
    GoalPanel, NamePanel, PickGroup, PickPanel, PickType, Preview, SplitRow, StartPanel, StepPanel,
    TriggerPanel,
};
pub use save::saved_message;
pub use show::Sample;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(r"/workflows/{id:\d+}", web::get().to(show))
        .route(r"/workflows/{id:\d+}/trigger", web::post().to(save_trigger))
        .route(r"/workflows/{id:\d+}/goal", web::post().to(save_goal))
        .route(r"/workflows/{id:\d+}/start", web::post().to(save_start))
        .route(r"/workflows/{id:\d+}/recur", web::post().to(save_recur))
        .route(r"/workflows/{id:\d+}/name", web::post().to(save_name))
        .route(r"/workflows/{id:\d+}/steps", web::post().to(add_step))
        .route(
            r"/workflows/{id:\d+}/steps/{path}",
            web::post().to(edit_step),
        )
        .route(
            r"/workflows/{id:\d+}/steps/{path}/delete",
            web::post().to(delete_step),
        )
        .route(
            r"/workflows/{id:\d+}/steps/{path}/move",
            web::post().to(move_step),
        );
}
