//! Performance (`/workflows/{id}/performance`): how the workflow is doing, readable without
//! JavaScript. Enrollments by status; per step the contacts waiting now and, over a chosen
//! period (7, 30 or 90 days, or all time), the steps executed, skipped (by reason) and failed;
//! a chart of enrollments and executed actions per day over the last 30 days; and a calendar
//! of the next 30 days' scheduled steps. Days are the workflow's days (its time zone).
//!
//! Counts come from the history and the enrollments through id and time ranges on their
//! indexes (`db::models::history_stats`): no scan of a workflow's whole history unless "All
//! time" is asked for.

use std::collections::HashMap;

use actix_web::web;
use askama::Template;
use chrono::{Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use super::charts::{self, CalendarDay, Chart, DayCount, Due};
use super::describe::{self, Names};
use super::header::WorkflowHeader;
use super::sentences::SkipReason;
use super::support;
use crate::clock::fmt_instant;
use crate::db::models::history::{self, first_id_at_or_after};
use crate::db::models::history_stats as stats;
use crate::db::models::WorkflowId;
use crate::db::DbConnection;
use crate::domain::definition::Definition;
use crate::state::AppState;
use crate::web::extract::{Ctx, SignedIn};
use crate::web::filters::thousands;
use crate::web::{render, WebError, WebResult};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/workflows/{id}/performance", web::get().to(show));
}

/// Days in the chart and in the calendar.
pub const DAYS: i64 = 30;

#[derive(Deserialize)]
struct PerfQuery {
    range: Option<String>,
}

pub struct RangeChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

const RANGES: [(&str, &str, Option<i64>); 4] = [
    ("7", "Last 7 days", Some(7)),
    ("30", "Last 30 days", Some(30)),
    ("90", "Last 90 days", Some(90)),
    ("all", "All time", None),
];

/// One line of the per-step table.
pub struct StepRow {
    pub number: String,
    pub text: String,
    pub type_label: &'static str,
    pub depth: usize,
    pub heading: bool,
    pub is_delay: bool,
    pub waiting: String,
    pub executed: String,
    pub failed: String,
    pub skipped: String,
    /// "3 date had passed at enrollment; 1 workflow was off".
    pub skipped_why: Vec<(String, &'static str)>,
}

/// Enrollment totals.
pub struct Totals {
    pub active: String,
    pub completed: String,
    pub unenrolled: String,
    pub all: String,
    pub in_range: String,
}

#[derive(Template)]
#[template(path = "workflows/performance.html")]
struct PerformancePage {
    ctx: Ctx,
    header: WorkflowHeader,
    tz: String,
    ranges: Vec<RangeChoice>,
    range_label: &'static str,
    totals: Totals,
    steps: Vec<StepRow>,
    other_steps: Option<String>,
    chart: Chart,
    calendar: Vec<Vec<Option<CalendarDay>>>,
    agenda: Vec<CalendarDay>,
    due_total: String,
    /// Conversions and the random splits' comparison (issue 17).
    goal: super::goal_stats::GoalSummary,
}

/// The history id from which events are at or after `at` (`i64::MAX` when none is).
fn id_from(conn: &mut DbConnection, wf: i64, at: chrono::DateTime<Utc>) -> anyhow::Result<i64> {
    Ok(first_id_at_or_after(conn, wf, &fmt_instant(at))?.unwrap_or(i64::MAX))
}

/// `step-3-yes-0` (a describe card) → `3/yes/0` (a history or enrollment path).
fn path_of_card(card: &str) -> String {
    card.trim_start_matches("step-").replace('-', "/")
}

/// What a step due on a day does: an action, or (for a delay) the action it leads to.
fn due_words(def: &Definition, names: &Names, tz: Tz, path: &str) -> String {
    let Some(step) = describe::step_at(&def.steps, path) else {
        return format!(
            "Step {} (no longer in the workflow)",
            describe::step_path_label(path)
        );
    };
    if step.is_delay() {
        let next = path
            .parse::<usize>()
            .ok()
            .and_then(|i| def.steps.get(i + 1))
            .filter(|s| !s.is_delay());
        return match next {
            Some(n) => describe::step_words(n, def, names, tz.name()),
            None => "A delay ends".to_string(),
        };
    }
    describe::step_words(step, def, names, tz.name())
}

fn chart_days(
    conn: &mut DbConnection,
    wf: i64,
    tz: Tz,
    today: NaiveDate,
) -> anyhow::Result<Vec<DayCount>> {
    let first = today - Duration::days(DAYS - 1);
    let bounds: Vec<i64> = (0..=DAYS)
        .map(|i| {
            id_from(
                conn,
                wf,
                support::start_of_day(first + Duration::days(i), tz),
            )
        })
        .collect::<anyhow::Result<_>>()?;
    let mut out = Vec::new();
    for i in 0..DAYS as usize {
        let (from, below) = (bounds[i], bounds[i + 1]);
        out.push(DayCount {
            day: first + Duration::days(i as i64),
            enrolled: stats::count_between(conn, wf, history::ENROLLED, from, below)?,
            actions: stats::count_between(conn, wf, history::ACTION_EXECUTED, from, below)?,
        });
    }
    Ok(out)
}

fn calendar_days(
    conn: &mut DbConnection,
    wf: i64,
    def: &Definition,
    names: &Names,
    tz: Tz,
    today: NaiveDate,
) -> anyhow::Result<Vec<CalendarDay>> {
    let mut out = Vec::new();
    for i in 0..DAYS {
        let day = today + Duration::days(i);
        let from = fmt_instant(support::start_of_day(day, tz));
        let to = fmt_instant(support::start_of_day(day + Duration::days(1), tz));
        let mut due: Vec<Due> = stats::due_by_step(conn, wf, &from, &to)?
            .into_iter()
            .map(|(path, n)| Due {
                count: n,
                what: due_words(def, names, tz, path.as_deref().unwrap_or("")),
            })
            .collect();
        due.sort_by(|a, b| b.count.cmp(&a.count).then(a.what.cmp(&b.what)));
        out.push(CalendarDay {
            day,
            label: charts::day_label(day, i == 0),
            long: crate::web::filters::day(day),
            total: due.iter().map(|d| d.count).sum(),
            due,
            today: i == 0,
        });
    }
    Ok(out)
}

fn step_rows(
    conn: &mut DbConnection,
    wf: i64,
    def: &Definition,
    names: &Names,
    tz: Tz,
    from_id: i64,
) -> anyhow::Result<(Vec<StepRow>, Option<String>)> {
    let to_map = |rows: Vec<(Option<String>, i64)>| -> HashMap<String, i64> {
        rows.into_iter()
            .map(|(p, n)| (p.unwrap_or_default(), n))
            .collect()
    };
    let waiting = to_map(fold_waits(stats::waiting_by_step(conn, wf)?));
    let executed = to_map(stats::counts_by_step(
        conn,
        wf,
        history::ACTION_EXECUTED,
        from_id,
    )?);
    let failed = to_map(stats::counts_by_step(
        conn,
        wf,
        history::ACTION_FAILED,
        from_id,
    )?);
    let mut skipped: HashMap<String, HashMap<SkipReason, i64>> = HashMap::new();
    for (path, head, n) in stats::skipped_by_step(conn, wf, from_id)? {
        *skipped
            .entry(path.unwrap_or_default())
            .or_default()
            .entry(SkipReason::of(&head))
            .or_default() += n;
    }
    let mut rows = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for line in describe::step_lines(def, names, tz.name()) {
        if line.heading {
            rows.push(StepRow {
                number: String::new(),
                text: line.text,
                type_label: "",
                depth: line.depth,
                heading: true,
                is_delay: false,
                waiting: String::new(),
                executed: String::new(),
                failed: String::new(),
                skipped: String::new(),
                skipped_why: vec![],
            });
            continue;
        }
        let path = path_of_card(&line.card);
        let step = describe::step_at(&def.steps, &path);
        let why = skipped.get(&path);
        let mut skipped_why: Vec<(String, &'static str)> = SkipReason::ALL
            .iter()
            .filter_map(|r| {
                why.and_then(|m| m.get(r))
                    .map(|n| (thousands(*n), r.label()))
            })
            .collect();
        skipped_why.retain(|(n, _)| n != "0");
        let get = |m: &HashMap<String, i64>| thousands(m.get(&path).copied().unwrap_or(0));
        rows.push(StepRow {
            number: line.number,
            text: line.text,
            type_label: step
                .map(|s| describe::step_type_label(s.type_name()))
                .unwrap_or(""),
            depth: line.depth,
            heading: false,
            is_delay: line.is_delay,
            waiting: get(&waiting),
            executed: if line.is_delay {
                "—".to_string()
            } else {
                get(&executed)
            },
            failed: get(&failed),
            skipped: thousands(why.map(|m| m.values().sum()).unwrap_or(0)),
            skipped_why,
        });
        seen.push(path);
    }
    // Events of steps no longer in the workflow (an edit removed or moved them).
    let gone: i64 = executed
        .iter()
        .chain(failed.iter())
        .filter(|(p, _)| !p.is_empty() && !seen.contains(p))
        .map(|(_, n)| n)
        .sum::<i64>()
        + skipped
            .iter()
            .filter(|(p, _)| !p.is_empty() && !seen.contains(p))
            .map(|(_, m)| m.values().sum::<i64>())
            .sum::<i64>();
    let other = (gone > 0).then(|| {
        format!(
            "{} more executed, skipped or failed steps belong to steps an edit has since moved or removed.",
            thousands(gone)
        )
    });
    Ok((rows, other))
}

async fn show(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    q: web::Query<PerfQuery>,
) -> WebResult {
    let id = WorkflowId(path.into_inner());
    let range = q
        .range
        .as_deref()
        .and_then(|r| RANGES.iter().find(|(v, _, _)| *v == r))
        .unwrap_or(&RANGES[1]);
    let ctx = user.ctx("workflows");
    let page = crate::db::run(&state.pool, move |conn| {
        let Some((wf, header)) = support::load(conn, id, "performance")? else {
            return Ok(None);
        };
        let tz = wf.tz;
        let names = Names::load(conn)?;
        let now = Utc::now();
        let today = now.with_timezone(&tz).date_naive();
        let from_id = match range.2 {
            Some(days) => id_from(
                conn,
                id.0,
                support::start_of_day(today - Duration::days(days - 1), tz),
            )?,
            None => 0,
        };
        let by_status: HashMap<String, i64> = stats::enrollments_by_status(conn, id.0)?
            .into_iter()
            .collect();
        let status = |s: &str| by_status.get(s).copied().unwrap_or(0);
        let in_range = stats::count_between(conn, id.0, history::ENROLLED, from_id, i64::MAX)?;
        let (steps, other_steps) = step_rows(conn, id.0, &wf.def, &names, tz, from_id)?;
        let chart = charts::chart(chart_days(conn, id.0, tz, today)?);
        let days = calendar_days(conn, id.0, &wf.def, &names, tz, today)?;
        let due_total: i64 = days.iter().map(|d| d.total).sum();
        let goal = super::goal_stats::load(conn, id.0, &wf.def, &names, today)?;
        Ok(Some(PerformancePage {
            ctx,
            header,
            tz: tz.name().to_string(),
            ranges: RANGES
                .iter()
                .map(|(v, l, _)| RangeChoice {
                    value: v,
                    label: l,
                    selected: *v == range.0,
                })
                .collect(),
            range_label: range.1,
            totals: Totals {
                active: thousands(status("active")),
                completed: thousands(status("completed")),
                unenrolled: thousands(status("unenrolled")),
                all: thousands(by_status.values().sum()),
                in_range: thousands(in_range),
            },
            steps,
            other_steps,
            chart,
            agenda: days.iter().filter(|d| d.total > 0).cloned().collect(),
            calendar: charts::weeks(days),
            due_total: thousands(due_total),
            goal,
        }))
    })
    .await?
    .ok_or(WebError::NotFound)?;
    render(&page)
}

/// Contacts waiting at a wait-until step for its condition or event (`3/wait`) counted on
/// the step itself (`3`).
fn fold_waits(rows: Vec<(Option<String>, i64)>) -> Vec<(Option<String>, i64)> {
    let mut out: Vec<(Option<String>, i64)> = Vec::new();
    for (p, n) in rows {
        let p = p.map(|p| {
            crate::domain::paths::waiting_at(&p)
                .map(str::to_string)
                .unwrap_or(p)
        });
        match out.iter_mut().find(|(q, _)| *q == p) {
            Some((_, m)) => *m += n,
            None => out.push((p, n)),
        }
    }
    out
}

/// The counts a canvas card shows (editor), by step path: "3 waiting · 12 executed, 1 failed
/// in 30 days"; steps with nothing to count are left out.
pub fn card_counts(
    conn: &mut DbConnection,
    wf: i64,
    tz: Tz,
) -> anyhow::Result<HashMap<String, String>> {
    let today = Utc::now().with_timezone(&tz).date_naive();
    let from_id = id_from(
        conn,
        wf,
        support::start_of_day(today - Duration::days(DAYS - 1), tz),
    )?;
    let map = |rows: Vec<(Option<String>, i64)>| -> HashMap<String, i64> {
        rows.into_iter()
            .filter_map(|(p, n)| p.map(|p| (p, n)))
            .collect()
    };
    let waiting = map(fold_waits(stats::waiting_by_step(conn, wf)?));
    let executed = map(stats::counts_by_step(
        conn,
        wf,
        history::ACTION_EXECUTED,
        from_id,
    )?);
    let failed = map(stats::counts_by_step(
        conn,
        wf,
        history::ACTION_FAILED,
        from_id,
    )?);
    let mut out = HashMap::new();
    for path in waiting.keys().chain(executed.keys()).chain(failed.keys()) {
        if out.contains_key(path) {
            continue;
        }
        let n = |m: &HashMap<String, i64>| m.get(path).copied().unwrap_or(0);
        let mut words = Vec::new();
        if n(&waiting) > 0 {
            words.push(format!("{} waiting", thousands(n(&waiting))));
        }
        let mut recent = Vec::new();
        if n(&executed) > 0 {
            recent.push(format!("{} executed", thousands(n(&executed))));
        }
        if n(&failed) > 0 {
            recent.push(format!("{} failed", thousands(n(&failed))));
        }
        if !recent.is_empty() {
            words.push(format!("{} in 30 days", recent.join(", ")));
        }
        if !words.is_empty() {
            out.insert(path.clone(), words.join(" · "));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn contacts_waiting_at_a_wait_count_on_its_step() {
        let rows = vec![
            (Some("3".to_string()), 2),
            (Some("3/wait".to_string()), 5),
            (Some("1/met/0/wait".to_string()), 1),
        ];
        assert_eq!(
            super::fold_waits(rows),
            vec![(Some("3".into()), 7), (Some("1/met/0".into()), 1)]
        );
    }

    #[test]
    fn cards_map_to_history_paths() {
        assert_eq!(super::path_of_card("step-3"), "3");
        assert_eq!(super::path_of_card("step-3-yes-0"), "3/yes/0");
    }
}
