//! Small helpers shared by the workflow pages of the settings / review / test / history /
//! revisions family: loading a workflow with its header, times in the workflow's zone, and
//! where a problem's card lives.

use crate::db::DbConnection;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

use super::header::WorkflowHeader;
use crate::db::models::WorkflowId;
use crate::engine::WorkflowCtx;

/// A workflow (parsed, with its zone) and the shared page header for tab `tab`.
pub fn load(
    conn: &mut DbConnection,
    id: WorkflowId,
    tab: &'static str,
) -> anyhow::Result<Option<(WorkflowCtx, WorkflowHeader)>> {
    let Some(wf) = WorkflowCtx::load(conn, id)? else {
        return Ok(None);
    };
    let header = WorkflowHeader::load(conn, &wf.row, tab)?;
    Ok(Some((wf, header)))
}

/// Like [`load`], with the workflow as the pages edit it: its unpublished changes, when there
/// are some (see `services::drafts`). For Settings, Review and Test.
pub fn load_working(
    conn: &mut DbConnection,
    id: WorkflowId,
    tab: &'static str,
) -> anyhow::Result<Option<(WorkflowCtx, WorkflowHeader)>> {
    let Some(live) = crate::db::models::workflow::Workflow::find(conn, id)? else {
        return Ok(None);
    };
    let header = WorkflowHeader::load(conn, &live, tab)?;
    let row = crate::services::drafts::working(conn, live)?;
    let account_tz = crate::db::models::app_setting::account_time_zone(conn)?;
    Ok(Some((WorkflowCtx::new(row, account_tz)?, header)))
}

/// `2021-11-16 09:00 CET`
pub fn local_time(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string()
}

/// A stored instant (RFC 3339 text) in the zone; the text itself when it is not one.
pub fn local_text(s: &str, tz: Tz) -> String {
    match crate::clock::parse_instant(s) {
        Some(t) => local_time(t, tz),
        None => s.to_string(),
    }
}

/// The first instant of a local day in the zone (DST gaps resolved as the scheduler does).
pub fn start_of_day(d: NaiveDate, tz: Tz) -> DateTime<Utc> {
    crate::domain::schedule::resolve_local(tz, d.and_time(NaiveTime::MIN))
}

/// The editor, optionally with a card's panel open.
pub fn editor_url(id: i64) -> String {
    format!("/workflows/{id}")
}

/// Where to fix a problem: the settings page for `settings`, else the editor card.
pub fn card_url(id: i64, card: &str) -> String {
    if card == "settings" {
        format!("/workflows/{id}/settings")
    } else {
        format!(
            "/workflows/{id}?panel={}",
            crate::web::extract::url_escape(card)
        )
    }
}

/// `1 contact`, `2 contacts`.
pub fn plural(n: i64, one: &str, many: &str) -> String {
    format!(
        "{} {}",
        crate::web::filters::thousands(n),
        if n == 1 { one } else { many }
    )
}

/// A query string from the non-empty pairs: `?a=1&b=x%20y`, or empty.
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    let kept: Vec<(&str, &str)> = pairs
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .copied()
        .collect();
    if kept.is_empty() {
        return String::new();
    }
    match serde_html_form::to_string(&kept) {
        Ok(q) => format!("?{q}"),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_skip_empty_values_and_escape() {
        assert_eq!(query_string(&[("a", ""), ("b", " ")]), "");
        assert_eq!(
            query_string(&[("contact", "a b@x.com"), ("event", ""), ("before", "9")]),
            "?contact=a+b%40x.com&before=9"
        );
    }

    #[test]
    fn days_start_at_local_midnight() {
        let tz: Tz = "Europe/Oslo".parse().unwrap();
        let d = NaiveDate::from_ymd_opt(2026, 1, 10).unwrap();
        assert_eq!(
            start_of_day(d, tz).to_rfc3339(),
            "2026-01-09T23:00:00+00:00"
        );
    }

    #[test]
    fn problems_link_to_their_card() {
        assert_eq!(card_url(3, "settings"), "/workflows/3/settings");
        assert_eq!(card_url(3, "step-1"), "/workflows/3?panel=step-1");
    }
}
