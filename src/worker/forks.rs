//! The steps that choose a path when a contact reaches them: if/then branches, wait until and
//! random splits (issue 17), and email pacing, which decides *when* an email may go.

use chrono::{DateTime, Utc};

use super::round::RoundCtx;
use crate::clock::parse_instant;
use crate::db::sql::worker as sql;
use crate::db::DbConnection;
use crate::domain::definition::{Pacing, Step};
use crate::domain::{filter, pacing, paths, split};
use crate::engine::context::{ContactSnapshot, WorkflowCtx};
use crate::engine::enroll::local_rfc3339;

/// What a fork decided for the contact at it.
pub(super) enum Fork {
    /// Go on along this arm (`yes`, `met`, `p1`, …) of the fork.
    Arm(String),
    /// Wait at the wait-until step (`…/wait`) until this time at the latest.
    Wait(DateTime<Utc>),
    /// A random split's holdout: nothing more for this contact in this workflow.
    Holdout,
}

/// Decides the fork `step` at `path` (reached at `ran_at`), with the words for the history.
#[allow(clippy::too_many_arguments)] // one call site; a struct would only rename them
pub(super) fn decide(
    wf: &WorkflowCtx,
    step: &Step,
    path: &str,
    contact: &ContactSnapshot,
    catalog: &filter::Catalog,
    anchor: Option<&str>,
    ran_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> (Fork, String) {
    let today = now.with_timezone(&wf.tz).date_naive();
    match step {
        Step::Branch { condition, .. } => {
            let yes = filter::matches_groups(condition, contact, catalog, today);
            let arm = if yes { "yes" } else { "no" };
            (
                Fork::Arm(arm.into()),
                format!("if/then branch: took the {arm} path"),
            )
        }
        Step::WaitUntil { .. } if paths::is_waiting(path) => (
            Fork::Arm("timed_out".into()),
            "wait until: the wait timed out; took the timed-out path".into(),
        ),
        Step::WaitUntil {
            condition, event, ..
        } => {
            if !condition.is_empty() && filter::matches_groups(condition, contact, catalog, today) {
                return (
                    Fork::Arm("met".into()),
                    "wait until: the condition was already met; took the met path".into(),
                );
            }
            let waiting = format!("{path}/{}", paths::WAITING);
            let until = wf
                .due_of(anchor, contact, &waiting, ran_at)
                .unwrap_or(ran_at);
            let what = match (condition.is_empty(), event.as_deref()) {
                (false, Some(e)) => format!("the condition, or the event “{e}”"),
                (true, Some(e)) => format!("the event “{e}”"),
                _ => "the condition".to_string(),
            };
            (
                Fork::Wait(until),
                format!(
                    "wait until: waiting for {what}, at most until {}",
                    local_rfc3339(until, wf)
                ),
            )
        }
        Step::RandomSplit { paths: arms, .. } => {
            let bucket = split::bucket(wf.id(), path, contact.id);
            match split::choose(arms, bucket) {
                Some(i) => (
                    Fork::Arm(format!("p{i}")),
                    format!("random split: took path “{}”", arms[i].name),
                ),
                None => (Fork::Holdout, "random split: holdout (gets nothing)".into()),
            }
        }
        _ => (Fork::Arm(String::new()), String::new()),
    }
}

/// The pacing that applies to this workflow's emails: its own, else the account's.
pub(super) fn pacing_for<'a>(wf: &'a WorkflowCtx, ctx: &'a RoundCtx) -> Option<&'a Pacing> {
    wf.def
        .settings
        .pacing
        .as_ref()
        .or(ctx.account_pacing.as_ref())
        .filter(|p| pacing::is_active(p))
}

/// When an email to this contact may go, if not now: the emails already sent to them (every
/// workflow, from the Outbox) against the cap, and their quiet hours.
pub(super) fn email_deferral(
    conn: &mut DbConnection,
    ctx: &RoundCtx,
    wf: &WorkflowCtx,
    contact: &ContactSnapshot,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<pacing::Deferral>> {
    let Some(p) = pacing_for(wf, ctx) else {
        return Ok(None);
    };
    let sent = match p.per_days {
        Some(days) if p.max_emails.is_some() => {
            let since = now - chrono::Duration::days(i64::from(days));
            match ctx.emails_sent_since(contact.id, since) {
                Some(sent) => sent,
                None => sql::emails_sent_to(conn, contact.id, &crate::clock::fmt_instant(since))?
                    .iter()
                    .filter_map(|s| parse_instant(s))
                    .collect(),
            }
        }
        _ => Vec::new(),
    };
    let zones = wf.zones_for(contact);
    let tz = zones.contact.unwrap_or(zones.workflow);
    Ok(pacing::defer(p, &sent, tz, now))
}
