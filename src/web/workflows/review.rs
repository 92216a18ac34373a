//! Review and publish (`/workflows/{id}/review`): the workflow in words, the problems that block
//! turning it on (each linking to its card), the live count of contacts meeting the criteria
//! now, "See all contacts in lists", and Turn on → confirm → publish. Also Turn off.

use crate::db::DbConnection;
use actix_web::web;
use askama::Template;
use chrono::Utc;
use serde::Deserialize;
use std::time::Duration;

use super::describe::{self, Names, StepLine};
use super::header::WorkflowHeader;
use super::support;
use crate::db::models::list::List;
use crate::db::models::WorkflowId;
use crate::domain::definition::{Definition, Start};
use crate::domain::warnings::Skipping;
use crate::engine::WorkflowCtx;
use crate::services::review_figures::{self as figures, Criteria};
use crate::services::workflows::{self as svc, WorkflowError};
use crate::state::AppState;
use crate::web::extract::{CsrfForm, Ctx, SignedIn};
use crate::web::{render, see_other, WebError, WebResult};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/workflows/{id}/review", web::get().to(show))
        .route(
            "/workflows/{id}/review/save-list",
            web::post().to(save_list),
        )
        .route(
            "/workflows/{id}/review/count-again",
            web::post().to(count_again),
        )
        .route("/workflows/{id}/review/confirm", web::get().to(confirm))
        .route("/workflows/{id}/publish", web::post().to(publish));
}

pub struct ProblemView {
    pub message: String,
    pub field: String,
    pub href: String,
}

/// A review warning with the link to its card.
pub struct WarningView {
    pub message: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "workflows/review.html")]
struct ReviewPage {
    ctx: Ctx,
    header: WorkflowHeader,
    start: String,
    recurring: bool,
    date_centred: bool,
    builtin_trigger: Option<String>,
    trigger_groups: Vec<String>,
    event_triggers: Vec<String>,
    manual_only: bool,
    /// "Enroll manually only" was chosen (rather than there being no trigger at all).
    manual_chosen: bool,
    /// Allowed, but most likely not meant (past dates, delays out of order, …).
    warnings: Vec<WarningView>,
    reenroll: String,
    steps: Vec<StepLine>,
    settings: Vec<(String, String)>,
    /// The goal, the waits and splits, and the pacing, in sentences (issue 17).
    goal: String,
    forks: Vec<String>,
    pacing: String,
    problems: Vec<ProblemView>,
    /// The live count, formatted; `None` when it cannot be computed (see `count_note`) or is
    /// still being counted (`counting`).
    count: Option<String>,
    count_note: String,
    /// When the figures were counted if they were kept from an earlier view, or "Counting…".
    count_status: Option<String>,
    /// A count is running: the page's script fetches the figures when it is done.
    counting: bool,
    published_at: Option<String>,
    /// Unpublished changes of a live workflow, with their impact.
    pending: Option<super::live_edit::PendingView>,
}

/// Everything the review and confirm pages show.
struct Review {
    header: WorkflowHeader,
    wf: WorkflowCtx,
    names: Names,
    problems: Vec<ProblemView>,
    count: Option<i64>,
    count_note: String,
    pending: Option<super::live_edit::PendingView>,
    /// Who would skip actions if enrolled now; `None` when not counted.
    skipping: Option<Skipping>,
    /// When the figures were counted, if not for this view; whether they are being counted.
    count_status: Option<String>,
    counting: bool,
    account_tz: chrono_tz::Tz,
    account_pacing: Option<crate::domain::definition::Pacing>,
}

/// The review without its slow figures, and what is needed to get them.
struct Loaded {
    review: Review,
    /// The criteria are a condition on contacts: the figures have a count.
    counts_contacts: bool,
    /// The workflow version the figures must belong to.
    key: u64,
}

fn load_review(conn: &mut DbConnection, id: WorkflowId) -> anyhow::Result<Option<Loaded>> {
    let Some(live) = crate::db::models::workflow::Workflow::find(conn, id)? else {
        return Ok(None);
    };
    let header = WorkflowHeader::load(conn, &live, "review")?;
    let account_tz = crate::db::models::app_setting::account_time_zone(conn)?;
    let wf = WorkflowCtx::new(
        crate::services::drafts::working(conn, live.clone())?,
        account_tz,
    )?;
    let names = Names::load(conn)?;
    let pending =
        super::live_edit::pending_described(conn, &live, &names, account_tz)?.map(|(view, _)| view);
    let problems = svc::problems(conn, &wf.row)?
        .into_iter()
        .map(|p| ProblemView {
            href: support::card_url(wf.id(), &p.card),
            message: p.message,
            field: p.field,
        })
        .collect();
    let today = Utc::now().with_timezone(&wf.tz).date_naive();
    let key = figures::version_key(&live, &wf, today);
    let mut counts_contacts = false;
    let (count, count_note) = match figures::criteria(conn, &wf, today)? {
        Criteria::ManualOnly if wf.def.triggers.events_enroll() => (
            Some(0),
            "This workflow enrolls contacts when an event occurs; no contact meets event triggers in advance.".to_string(),
        ),
        Criteria::ManualOnly => (
            Some(0),
            if wf.def.triggers.manual_only {
                "Enroll manually only is chosen: contacts enter only when you enroll them by hand, so no contact meets its criteria by itself.".to_string()
            } else {
                "Manual enrollment only: this workflow has no enrollment triggers, so no contact meets its criteria by itself.".to_string()
            },
        ),
        Criteria::Invalid(why) => (None, format!("Cannot count: {why}. Fix the problems above.")),
        Criteria::Met(_) => {
            counts_contacts = true;
            let date = match &wf.def.start {
                Start::ContactDateProperty { property } => format!(
                    ", have a value in {}",
                    names.property_label(property)
                ),
                _ => String::new(),
            };
            (
                None,
                format!("Contacts who meet the enrollment triggers now{date} and are not suppressed."),
            )
        }
    };
    Ok(Some(Loaded {
        review: Review {
            header,
            wf,
            names,
            problems,
            count,
            count_note,
            pending,
            skipping: None,
            count_status: None,
            counting: false,
            account_tz,
            account_pacing: crate::db::models::app_setting::account_pacing(conn)?,
        },
        counts_contacts,
        key,
    }))
}

/// Loads the review and adds its slow figures: counted for this view, kept from an earlier
/// one when counting takes long (`services::review_figures`), or still being counted.
async fn review_with_figures(
    state: &AppState,
    id: WorkflowId,
    again: bool,
) -> Result<Review, WebError> {
    let loaded = crate::db::run(&state.pool, move |conn| load_review(conn, id))
        .await?
        .ok_or(WebError::NotFound)?;
    let mut r = loaded.review;
    if !loaded.counts_contacts && r.pending.is_none() {
        return Ok(r);
    }
    match state.review_figures.for_view(id, loaded.key, again).await? {
        figures::Shown::Counted {
            counted,
            kept,
            recounting,
        } => {
            if let Some((n, skip)) = counted.figures.met.filter(|_| loaded.counts_contacts) {
                r.count = Some(n);
                r.skipping = Some(skip);
            }
            if let (Some(p), Some(i)) = (r.pending.as_mut(), counted.figures.impact) {
                p.impact = super::live_edit::impact_sentence(&i);
            }
            r.counting = recounting;
            if kept {
                r.count_status = Some(kept_words(
                    &counted,
                    r.wf.tz,
                    recounting,
                    state.review_figures.timing().keep_for,
                ));
            }
        }
        figures::Shown::Counting => {
            r.counting = true;
            r.count_status = Some(
                "Still counting the contacts (with many contacts this takes a few seconds). The figures appear here when the count is done; reload the page if they do not."
                    .to_string(),
            );
            if let Some(p) = r.pending.as_mut() {
                p.impact = "Checking the contacts enrolled now…".to_string();
            }
        }
    }
    Ok(r)
}

/// "Counted at 14:02:11 CET (40 seconds ago). Counting takes 3.8 s here, so the count is kept
/// for 1 minute and then made again."
fn kept_words(c: &figures::Counted, tz: chrono_tz::Tz, recounting: bool, keep: Duration) -> String {
    let ago = (Utc::now() - c.at).num_seconds().max(0);
    let at = c.at.with_timezone(&tz).format("%H:%M:%S %Z");
    let took = if c.took < Duration::from_secs(1) {
        format!("{} ms", c.took.as_millis())
    } else {
        format!("{:.1} s", c.took.as_secs_f64())
    };
    let mut words = format!(
        "Counted at {at} ({} ago). Counting takes {took} here, so the count is kept for {}{}.",
        seconds_words(ago),
        seconds_words(c.kept_for(keep).as_secs() as i64),
        if recounting {
            ""
        } else {
            " and then made again"
        }
    );
    if recounting {
        words.push_str(" Counting again now: the new figures appear here when they are done.");
    }
    words
}

/// "40 seconds", "1 minute", "3 minutes".
fn seconds_words(s: i64) -> String {
    if s < 60 {
        support::plural(s, "second", "seconds")
    } else {
        support::plural(s / 60, "minute", "minutes")
    }
}

/// The skip count as a review warning (`None` when nobody would skip anything).
fn skipping_warning(s: &Skipping, def: &Definition, id: i64) -> Option<WarningView> {
    if s.some == 0 {
        return None;
    }
    // A non-recurring Specific date workflow whose every date passed has its own warning.
    if s.all == s.some && matches!(def.start, Start::SpecificDate { .. }) {
        return None;
    }
    let who = support::plural(s.some, "contact", "contacts");
    let verb = if s.some == 1 { "meets" } else { "meet" };
    let mut message = format!(
        "{who} who {verb} the criteria now would skip some actions because their time has already passed (if enrolled now)"
    );
    if s.all > 0 {
        message.push_str(&format!(
            "; {} of them would get no action at all",
            crate::web::filters::thousands(s.all)
        ));
    }
    message.push_str(". The Test page shows the plan for one contact.");
    Some(WarningView {
        message,
        href: format!("/workflows/{id}/test"),
    })
}

async fn show(user: SignedIn, state: web::Data<AppState>, path: web::Path<i64>) -> WebResult {
    let id = WorkflowId(path.into_inner());
    let r = review_with_figures(&state, id, false).await?;
    let def = &r.wf.def;
    let tz_name = r.wf.tz.name();
    let builtin_trigger = match &def.start {
        Start::ContactDateProperty { property } => Some(format!(
            "{} is known (built in: contacts without this date are not enrolled)",
            r.names.property_label(property)
        )),
        _ => None,
    };
    let mut reenroll = if def.reenroll.enabled {
        let props = def
            .reenroll
            .on_properties
            .iter()
            .map(|p| r.names.property_label(p))
            .collect::<Vec<_>>()
            .join(", ");
        format!("Re-enroll when they meet the triggers again after a change of: {props} (never while enrolled)")
    } else {
        "Contacts are enrolled once.".to_string()
    };
    if def.reenroll.on_events {
        reenroll.push_str(" Re-enrolled every time a trigger event occurs (never while enrolled).");
    }
    render(&ReviewPage {
        ctx: user.ctx("workflows"),
        start: describe::start_words(def, &r.names),
        recurring: def.recur_annually,
        date_centred: def.start.is_date_centred(),
        builtin_trigger,
        trigger_groups: describe::groups_words(&def.triggers.filter_groups, &r.names),
        event_triggers: def
            .triggers
            .events
            .iter()
            .map(|t| describe::event_trigger_words(t, &r.names))
            .collect(),
        manual_only: def.is_manual_only(),
        manual_chosen: def.triggers.manual_only,
        warnings: crate::domain::warnings::warnings(
            def,
            &crate::domain::schedule::Zones {
                workflow: r.wf.tz,
                contact: None,
            },
            chrono::Utc::now(),
        )
        .into_iter()
        .map(|w| WarningView {
            href: support::card_url(r.wf.id(), &w.card),
            message: w.message,
        })
        .chain(
            r.skipping
                .as_ref()
                .and_then(|s| skipping_warning(s, def, r.wf.id())),
        )
        .collect(),
        reenroll,
        steps: describe::step_lines(def, &r.names, tz_name),
        settings: describe::settings_lines(
            &def.settings,
            def.recur_annually,
            r.account_tz.name(),
            &r.names,
        ),
        goal: super::review_words::goal_sentence(def, &r.names),
        forks: super::review_words::fork_sentences(def, &r.names, tz_name),
        pacing: super::review_words::pacing_sentence(
            def.settings.pacing.as_ref(),
            r.account_pacing.as_ref(),
        ),
        problems: r.problems,
        count: r.count.map(crate::web::filters::thousands),
        count_note: r.count_note,
        count_status: r.count_status,
        counting: r.counting,
        published_at: r
            .wf
            .row
            .published_at
            .as_deref()
            .map(|t| support::local_text(t, r.wf.tz)),
        pending: r.pending,
        header: r.header,
    })
}

async fn save_list(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> WebResult {
    let id = WorkflowId(path.into_inner());
    let out = crate::db::run(&state.pool, move |conn| {
        let Some(wf) = WorkflowCtx::load(conn, id)? else {
            return Ok(None);
        };
        let today = Utc::now().with_timezone(&wf.tz).date_naive();
        let sql = match figures::criteria(conn, &wf, today)? {
            Criteria::ManualOnly => {
                return Ok(Some(Err(
                    "This workflow has no enrollment triggers (manual enrollment only), so no contact meets its criteria.".to_string(),
                )))
            }
            Criteria::Invalid(why) => {
                return Ok(Some(Err(format!("Cannot list the contacts: {why}."))))
            }
            Criteria::Met(sql) => sql,
        };
        let name = format!("{} — meets criteria {today}", wf.row.name);
        let now = crate::clock::now_text();
        crate::db::write_transaction::<_, anyhow::Error, _>(conn, |conn| {
            let list = List::create(conn, &name, Some(wf.id()))?;
            let n = crate::db::queries::add_to_list_where(conn, list.id, &sql, &now)?;
            Ok(Some(Ok((list, n))))
        })
    })
    .await?
    .ok_or(WebError::NotFound)?;
    match out {
        Ok((list, n)) => {
            user.set_flash(
                "success",
                format!(
                    "Saved {} to the static list “{}”.",
                    support::plural(n as i64, "contact", "contacts"),
                    list.name
                ),
            );
            Ok(see_other(&format!("/lists/{}", list.id)))
        }
        Err(why) => {
            user.set_flash("error", why);
            Ok(see_other(&format!("/workflows/{}/review", id.0)))
        }
    }
}

/// "Count again": starts a new count of the figures (kept ones are shown until it is done).
async fn count_again(
    _user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> WebResult {
    let id = WorkflowId(path.into_inner());
    review_with_figures(&state, id, true).await?;
    Ok(see_other(&format!("/workflows/{}/review", id.0)))
}

#[derive(Deserialize)]
struct ConfirmQuery {
    enroll_existing: Option<String>,
}

fn parse_choice(raw: Option<&str>) -> Option<bool> {
    match raw.map(str::trim) {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        _ => None,
    }
}

#[derive(Template)]
#[template(path = "workflows/review_confirm.html")]
struct ConfirmPage {
    ctx: Ctx,
    header: WorkflowHeader,
    enroll_existing: bool,
    count: Option<String>,
    count_note: String,
    count_status: Option<String>,
}

fn refuse_problems(user: &SignedIn, id: i64, n: usize) -> WebResult {
    user.set_flash(
        "error",
        format!(
            "The workflow cannot be turned on yet: fix the {} listed below first.",
            if n == 1 {
                "problem".to_string()
            } else {
                format!("{n} problems")
            }
        ),
    );
    Ok(see_other(&format!("/workflows/{id}/review")))
}

async fn confirm(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    q: web::Query<ConfirmQuery>,
) -> WebResult {
    let id = WorkflowId(path.into_inner());
    let Some(enroll_existing) = parse_choice(q.enroll_existing.as_deref()) else {
        user.set_flash(
            "error",
            "Choose whether to enroll contacts who already meet the criteria.",
        );
        return Ok(see_other(&format!("/workflows/{}/review", id.0)));
    };
    let r = review_with_figures(&state, id, false).await?;
    if !r.problems.is_empty() {
        return refuse_problems(&user, id.0, r.problems.len());
    }
    render(&ConfirmPage {
        ctx: user.ctx("workflows"),
        header: r.header,
        enroll_existing,
        count: r.count.map(|n| support::plural(n, "contact", "contacts")),
        count_note: r.count_note,
        count_status: r.count_status,
    })
}

#[derive(Deserialize)]
struct PublishForm {
    enroll_existing: Option<String>,
}

async fn publish(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<PublishForm>,
) -> WebResult {
    let id = WorkflowId(path.into_inner());
    let Some(enroll_existing) = parse_choice(form.enroll_existing.as_deref()) else {
        user.set_flash(
            "error",
            "Choose whether to enroll contacts who already meet the criteria.",
        );
        return Ok(see_other(&format!("/workflows/{}/review", id.0)));
    };
    let result = crate::db::run(&state.pool, move |conn| {
        Ok(svc::publish(conn, id, enroll_existing))
    })
    .await?;
    match result {
        Ok(_) => {}
        Err(WorkflowError::Problems(p)) => return refuse_problems(&user, id.0, p.len()),
        Err(WorkflowError::NotFound) => return Err(WebError::NotFound),
        Err(WorkflowError::Invalid(errors)) => {
            return refuse_problems(&user, id.0, errors.len());
        }
        Err(WorkflowError::Internal(e)) => return Err(e.into()),
    }
    let message = if enroll_existing {
        let report = crate::engine::backfill::start(&state.pool, id, Utc::now()).await?;
        if report.state == "done" {
            format!(
                "Turned on. Enrolled {} existing {}.",
                crate::web::filters::thousands(report.done),
                if report.done == 1 {
                    "contact"
                } else {
                    "contacts"
                }
            )
        } else {
            "Turned on. Enrolling existing contacts in the background; the progress shows at the top of the workflow's pages.".to_string()
        }
    } else {
        "Turned on. Contacts who meet the criteria from now on will be enrolled.".to_string()
    };
    user.set_flash("success", message);
    Ok(see_other(&support::editor_url(id.0)))
}
