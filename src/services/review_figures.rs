//! The slow figures of Review and publish: how many contacts meet a workflow's criteria now
//! (and how many of them would skip actions whose time has passed), and what a live workflow's
//! unpublished changes would do to the contacts enrolled in it. Each is a scan of every contact
//! or enrollment: milliseconds for thousands, seconds for a million (BENCHMARKS.md, "Review
//! counts at a million contacts").
//!
//! So that the page stays quick at any size without showing a number that is silently old:
//! - A count is made in the background, and the view waits for it up to `first_wait` (1 s).
//!   The page shows "Counting…" past that and its script fetches the figures when they are done.
//! - A count that took less than `slow_after` (50 ms) is never reused: every view counts again,
//!   so on a database of ordinary size the page always shows the count as of the view.
//! - A slower count is reused for `keep_for` (60 s, or five times as long as it took if that is
//!   longer) for the same version of the workflow on the same day, and the page says when it
//!   was made. After that a view shows it while a new count
//!   runs, marked as being recounted. "Count again" starts a new count at once.
//!
//! `PERENNIAL_REVIEW_CACHE_AFTER_MS` sets `slow_after` (README, "Review counts at scale").

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use tokio::sync::watch;

use crate::db::models::workflow::Workflow;
use crate::db::models::WorkflowId;
use crate::db::{DbConnection, DbPool};
use crate::domain::definition::Start;
use crate::domain::filter::{compile_groups, Cond};
use crate::domain::schedule::Zones;
use crate::domain::values::parse_iso_date;
use crate::domain::warnings::{self, Skipping};
use crate::engine::revise::{self, Impact};
use crate::engine::WorkflowCtx;
use crate::services::contacts::Catalog;
use crate::services::workflows as svc;

/// Who meets the enrollment criteria now, as one condition on a contact.
pub enum Criteria {
    /// No criteria (manual only, or only event triggers): nobody "meets the criteria".
    ManualOnly,
    /// A filter cannot be compiled (e.g. its property was deleted): the problems list says so.
    Invalid(String),
    /// The condition a contact meets (rendered as SQL by `db`).
    Met(Cond),
}

/// The criteria as one set-based condition: the trigger filters, the date being known (for
/// date-property workflows), and not suppressed (filters or lists) nor already at the goal.
pub fn criteria(
    conn: &mut DbConnection,
    wf: &WorkflowCtx,
    today: NaiveDate,
) -> anyhow::Result<Criteria> {
    let def = &wf.def;
    if !def.enrolls_on_criteria() {
        return Ok(Criteria::ManualOnly);
    }
    let catalog = svc::catalog(conn)?;
    // No filter groups: the built-in "[property] is known" alone (`date_known` below).
    let trigger = if def.triggers.filter_groups.is_empty() {
        Cond::TRUE
    } else {
        match compile_groups(&def.triggers.filter_groups, &catalog, today) {
            Ok(cond) => cond,
            Err(e) => return Ok(Criteria::Invalid(format!("trigger filter: {}", e.message))),
        }
    };
    let date_known = match &def.start {
        Start::ContactDateProperty { property } => match Catalog::load(conn)?.get(property) {
            Some(p) => Cond::HasValue(p.id),
            None => {
                return Ok(Criteria::Invalid(format!(
                    "the date property “{property}” no longer exists"
                )))
            }
        },
        _ => Cond::TRUE,
    };
    let suppression = &def.settings.suppression;
    let suppressed = if suppression.filter_groups.is_empty() {
        Cond::FALSE
    } else {
        match compile_groups(&suppression.filter_groups, &catalog, today) {
            Ok(cond) => cond,
            Err(e) => {
                return Ok(Criteria::Invalid(format!(
                    "suppression filter: {}",
                    e.message
                )))
            }
        }
    };
    let in_lists = Cond::InAnyList(suppression.list_ids.clone());
    // Who already meets the goal is not enrolled (issue 17).
    let goal_met = match def.goal.as_ref().filter(|g| !g.filter_groups.is_empty()) {
        Some(goal) => match compile_groups(&goal.filter_groups, &catalog, today) {
            Ok(cond) => cond,
            Err(e) => return Ok(Criteria::Invalid(format!("goal filter: {}", e.message))),
        },
        None => Cond::FALSE,
    };
    Ok(Criteria::Met(
        trigger
            .and(date_known)
            .and(suppressed.negate())
            .and(in_lists.negate())
            .and(goal_met.negate()),
    ))
}

/// How many contacts meet the criteria (`cond`), and how many of them would skip actions whose
/// time has passed if enrolled at `now`. For a date-property workflow one scan does both: the
/// contacts are counted per distinct date (which the date-known condition already requires) and
/// each date is planned once.
pub fn count_and_skipping(
    conn: &mut DbConnection,
    wf: &WorkflowCtx,
    cond: &Cond,
    now: DateTime<Utc>,
) -> anyhow::Result<(i64, Skipping)> {
    let (n, dates): (i64, Vec<(NaiveDate, i64)>) = match &wf.def.start {
        Start::ContactDateProperty { property } => match Catalog::load(conn)?.get(property) {
            Some(p) => {
                let rows = crate::db::queries::value_counts_where(conn, p.id, cond)?;
                let n = rows.iter().map(|(_, n)| n).sum();
                let dates = rows
                    .into_iter()
                    .filter_map(|(v, n)| parse_iso_date(&v).map(|d| (d, n)))
                    .collect();
                (n, dates)
            }
            None => (0, vec![]),
        },
        Start::SpecificDate { date } => {
            let n = crate::db::queries::count_contacts_where(conn, cond)?;
            (
                n,
                parse_iso_date(date)
                    .map(|d| vec![(d, n)])
                    .unwrap_or_default(),
            )
        }
        Start::Blank => (
            crate::db::queries::count_contacts_where(conn, cond)?,
            vec![],
        ),
    };
    let zones = Zones {
        workflow: wf.tz,
        contact: None,
    };
    Ok((n, warnings::skipping(&wf.def, &zones, now, &dates)))
}

/// The slow figures of one version of a workflow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    /// Contacts meeting the criteria now and the skip count; `None` when the criteria are not
    /// a condition on contacts (manual only, event triggers only, or a broken filter).
    pub met: Option<(i64, Skipping)>,
    /// What the unpublished changes of a live workflow would do; `None` without any.
    pub impact: Option<Impact>,
}

/// Figures with when they were counted and how long that took.
#[derive(Debug, Clone, Copy)]
pub struct Counted {
    pub figures: Figures,
    /// When the count started: the figures are the contacts as of then.
    pub at: DateTime<Utc>,
    pub took: Duration,
    /// When it finished: it is kept from then on.
    done: Instant,
}

impl Counted {
    /// Kept `keep_for`, and at least five times as long as it took, so that counting again
    /// takes at most a fifth of one core however often the page is viewed.
    pub fn kept_for(&self, keep_for: Duration) -> Duration {
        keep_for.max(self.took * 5)
    }

    fn fresh(&self, keep_for: Duration) -> bool {
        self.done.elapsed() < self.kept_for(keep_for)
    }
}

/// What a view can show.
#[derive(Debug, Clone, Copy)]
pub enum Shown {
    /// Counted for this view, or `kept` from an earlier one because counting takes long
    /// (`Counted::at` says when); `recounting` while a new count runs.
    Counted {
        counted: Counted,
        kept: bool,
        recounting: bool,
    },
    /// The first count of this version is still running.
    Counting,
}

/// Which version of a workflow figures belong to: its working definition (the draft, if any),
/// the live definition it is compared with, whether it is on, and the day in its zone (relative
/// date filters and the skip count depend on it).
pub fn version_key(live: &Workflow, working: &WorkflowCtx, today: NaiveDate) -> u64 {
    let mut h = DefaultHasher::new();
    working.row.definition.hash(&mut h);
    live.definition.hash(&mut h);
    live.status.hash(&mut h);
    working.tz.name().hash(&mut h);
    today.hash(&mut h);
    h.finish()
}

/// Loads a workflow as Review sees it and counts its figures: `(version key, figures)`, or
/// `None` when the workflow no longer exists.
pub fn count(conn: &mut DbConnection, id: WorkflowId) -> anyhow::Result<Option<(u64, Figures)>> {
    let Some(live) = Workflow::find(conn, id)? else {
        return Ok(None);
    };
    let account_tz = crate::db::models::app_setting::account_time_zone(conn)?;
    let working = WorkflowCtx::new(
        crate::services::drafts::working(conn, live.clone())?,
        account_tz,
    )?;
    let now = Utc::now();
    let today = now.with_timezone(&working.tz).date_naive();
    let key = version_key(&live, &working, today);
    let met = match criteria(conn, &working, today)? {
        Criteria::Met(cond) => Some(count_and_skipping(conn, &working, &cond, now)?),
        Criteria::ManualOnly | Criteria::Invalid(_) => None,
    };
    // The impact compares the draft with the live version: only for a live workflow with one.
    let impact = if live.is_on() && crate::db::models::draft::Draft::find(conn, id)?.is_some() {
        Some(revise::impact(conn, &working, now)?)
    } else {
        None
    };
    Ok(Some((key, Figures { met, impact })))
}

/// How long counts are waited for and kept (module docs).
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub first_wait: Duration,
    pub slow_after: Duration,
    pub keep_for: Duration,
}

impl Timing {
    /// The defaults, with `slow_after` from `PERENNIAL_REVIEW_CACHE_AFTER_MS` when set.
    pub fn from_env() -> Timing {
        let slow_after = std::env::var("PERENNIAL_REVIEW_CACHE_AFTER_MS")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or(Duration::from_millis(50), Duration::from_millis);
        Timing {
            first_wait: Duration::from_secs(1),
            slow_after,
            keep_for: Duration::from_secs(60),
        }
    }
}

/// The version counted (which may be newer than the one asked for) and its figures.
type Outcome = Option<Result<(u64, Counted), String>>;

#[derive(Default)]
struct Slot {
    last: Option<Counted>,
    running: Option<watch::Receiver<Outcome>>,
}

/// Forgotten after this long unused, so deleted or old versions do not pile up.
const FORGET_AFTER: Duration = Duration::from_secs(3600);

/// The figures counted and being counted, per workflow version, in this process.
pub struct ReviewFigures {
    pool: DbPool,
    timing: Mutex<Timing>,
    slots: Arc<Mutex<HashMap<(i64, u64), Slot>>>,
}

impl ReviewFigures {
    pub fn new(pool: DbPool) -> ReviewFigures {
        ReviewFigures {
            pool,
            timing: Mutex::new(Timing::from_env()),
            slots: Arc::default(),
        }
    }

    pub fn timing(&self) -> Timing {
        self.timing
            .lock()
            .map(|t| *t)
            .unwrap_or_else(|_| Timing::from_env())
    }

    /// Changes how long counts are waited for and kept (the tests make small counts act big).
    pub fn set_timing(&self, timing: Timing) {
        if let Ok(mut t) = self.timing.lock() {
            *t = timing;
        }
    }

    /// The figures of workflow `id` at version `key` (from [`version_key`]) for a view: kept
    /// ones when they may be reused (module docs), else a new or running count, waited for up
    /// to `first_wait`. `again` starts a new count even when kept figures may be shown.
    pub async fn for_view(&self, id: WorkflowId, key: u64, again: bool) -> anyhow::Result<Shown> {
        let timing = self.timing();
        let (mut rx, kept) = {
            let mut slots = self
                .slots
                .lock()
                .map_err(|_| anyhow::anyhow!("the review figures' lock was poisoned"))?;
            forget_old(&mut slots);
            let slot = slots.entry((id.0, key)).or_default();
            // Only a slow count is ever shown again: a quick one is made for every view.
            let kept = slot.last.filter(|c| c.took >= timing.slow_after);
            let fresh = kept.filter(|c| c.fresh(timing.keep_for));
            if let (Some(counted), false) = (fresh, again) {
                return Ok(Shown::Counted {
                    counted,
                    kept: true,
                    recounting: slot.running.is_some(),
                });
            }
            // A count whose task ended without an answer (it panicked) is started again.
            let rx = match &slot.running {
                Some(rx) if rx.has_changed().is_ok() => rx.clone(),
                _ => {
                    let rx = self.start(id, key);
                    slot.running = Some(rx.clone());
                    rx
                }
            };
            (rx, kept)
        };
        if let Some(counted) = kept {
            return Ok(Shown::Counted {
                counted,
                kept: true,
                recounting: true,
            });
        }
        if timing.first_wait.is_zero() {
            return Ok(Shown::Counting);
        }
        let done = tokio::time::timeout(timing.first_wait, rx.wait_for(Option::is_some)).await;
        match done {
            Ok(Ok(outcome)) => match outcome.clone() {
                Some(Ok((counted_key, counted))) if counted_key == key => Ok(Shown::Counted {
                    counted,
                    kept: false,
                    recounting: false,
                }),
                // The workflow changed while it was counted: the page asks again.
                Some(Ok(_)) => Ok(Shown::Counting),
                Some(Err(why)) => Err(anyhow::anyhow!(why)),
                None => Ok(Shown::Counting),
            },
            Ok(Err(_)) => Err(anyhow::anyhow!("the count stopped without a result")),
            Err(_) => Ok(Shown::Counting),
        }
    }

    /// Counts in the background; the result is kept under the version it was counted for (the
    /// workflow may have changed since the view asked).
    fn start(&self, id: WorkflowId, key: u64) -> watch::Receiver<Outcome> {
        let (tx, rx) = watch::channel(None);
        let pool = self.pool.clone();
        let slots = self.slots.clone();
        tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let at = Utc::now();
            let counted = pool
                .get()
                .map_err(anyhow::Error::from)
                .and_then(|mut conn| count(&mut conn, id));
            let took = started.elapsed();
            let outcome = match counted {
                Ok(Some((counted_key, figures))) => {
                    let counted = Counted {
                        figures,
                        at,
                        took,
                        done: Instant::now(),
                    };
                    if let Ok(mut slots) = slots.lock() {
                        slots.entry((id.0, counted_key)).or_default().last = Some(counted);
                    }
                    Ok((counted_key, counted))
                }
                Ok(None) => Err("the workflow no longer exists".to_string()),
                Err(e) => {
                    tracing::warn!(workflow = id.0, error = %crate::telemetry::chain(&e), "could not count the contacts for Review");
                    Err(crate::telemetry::chain(&e))
                }
            };
            if let Ok(mut slots) = slots.lock() {
                if let Some(slot) = slots.get_mut(&(id.0, key)) {
                    slot.running = None;
                }
            }
            tracing::debug!(
                workflow = id.0,
                ms = took.as_millis() as u64,
                "counted the contacts for Review"
            );
            let _ = tx.send(Some(outcome));
        });
        rx
    }
}

fn forget_old(slots: &mut HashMap<(i64, u64), Slot>) {
    slots.retain(|_, s| {
        s.running.is_some() || s.last.is_some_and(|c| c.done.elapsed() < FORGET_AFTER)
    });
}
