//! Workflow history events (DESIGN §5), written in the same transaction as the change they
//! describe, read newest first with keyset pagination.

use crate::db::prepared::{At, Param};
use crate::db::types::Ts;
use crate::db::DbConnection;
use anyhow::Context;
use diesel::prelude::*;

use crate::db::schema::history_events;

pub const ENROLLED: &str = "enrolled";
pub const SCHEDULED: &str = "scheduled";
pub const RESCHEDULED: &str = "rescheduled";
pub const ACTION_EXECUTED: &str = "action_executed";
pub const ACTION_FAILED: &str = "action_failed";
pub const SKIPPED: &str = "skipped";
pub const UNENROLLED: &str = "unenrolled";
pub const COMPLETED: &str = "completed";

/// Enrollment at publish writes one history row per contact, not an `enrolled` and a
/// `scheduled` row (issue 16: a million contacts, a million rows fewer). That `enrolled` row
/// carries the first step's path in `step` (no other `enrolled` row has a step) and, after
/// this separator in its detail, the first step's `scheduled` detail. Every reader turns it
/// back into the two events it stands for ([`Event::expand`]), so the API and the pages show
/// exactly what they showed before.
pub const FIRST_STEP: &str = "; first step ";

/// An `enrolled` detail that also names the first scheduled step (see [`FIRST_STEP`]).
pub fn enrolled_with_first_step(enrolled: &str, scheduled: &str) -> String {
    format!("{enrolled}{FIRST_STEP}{scheduled}")
}

pub const ALL_EVENTS: [&str; 8] = [
    ENROLLED,
    SCHEDULED,
    RESCHEDULED,
    ACTION_EXECUTED,
    ACTION_FAILED,
    SKIPPED,
    UNENROLLED,
    COMPLETED,
];

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = history_events)]
pub struct Event {
    pub id: i64,
    pub workflow_id: i64,
    pub enrollment_id: Option<i64>,
    pub contact_id: i64,
    pub at: String,
    pub event: String,
    pub step: Option<String>,
    pub detail: String,
    pub revision: i32,
}

// Local methods
impl Event {
    /// The events this row stands for, newest first: an `enrolled` row written at publish
    /// (see [`FIRST_STEP`]) is the `scheduled` event of the first step (same id and time),
    /// then the `enrolled` event itself; any other row is itself. `only`: the event filter
    /// asked for, if any (the other half is left out).
    pub fn expand(self, only: Option<&str>, out: &mut Vec<Event>) {
        let merged = self.event == ENROLLED && self.step.is_some();
        let Some((why, first)) = merged
            .then(|| self.detail.split_once(FIRST_STEP))
            .flatten()
            .map(|(w, f)| (w.to_string(), f.to_string()))
        else {
            out.push(self);
            return;
        };
        if only != Some(ENROLLED) {
            out.push(Event {
                event: SCHEDULED.to_string(),
                detail: first,
                ..self.clone()
            });
        }
        if only != Some(SCHEDULED) {
            out.push(Event {
                step: None,
                detail: why,
                ..self
            });
        }
    }
}

/// [`Event::expand`] over rows read newest first.
pub fn expand_all(rows: Vec<Event>, only: Option<&str>) -> Vec<Event> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        r.expand(only, &mut out);
    }
    out
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = history_events)]
pub struct NewEvent {
    pub workflow_id: i64,
    pub enrollment_id: Option<i64>,
    pub contact_id: i64,
    #[diesel(serialize_as = Ts)]
    pub at: String,
    pub event: &'static str,
    pub step: Option<String>,
    pub detail: String,
    pub revision: i32,
}

/// Filters of the history page and API.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    pub contact_id: Option<i64>,
    pub event: Option<String>,
    /// Only events at or after / before these instants (stored text format).
    pub from: Option<String>,
    pub to: Option<String>,
    /// Keyset cursor: events with a smaller id.
    pub before: Option<i64>,
}

pub fn record(conn: &mut DbConnection, events: &[NewEvent]) -> anyhow::Result<()> {
    if events.is_empty() || crate::db::deferred::hold_history(events) {
        // Held by a worker batch: written before it commits (`db::deferred`).
        return Ok(());
    }
    write(conn, events).context("writing history")
}

/// Writes events now, one fixed statement per row (`db::prepared`): prepared once, then each
/// event costs a bind and a step. (A multi-row insert of `NewEvent`s is prepared afresh every
/// time, and with its optional columns diesel splits it into single inserts inside a savepoint.)
pub(crate) fn write(conn: &mut DbConnection, events: &[NewEvent]) -> QueryResult<()> {
    for e in events {
        crate::fixed_sql!(
            "INSERT INTO history_events
                (workflow_id, enrollment_id, contact_id, at, event, step, detail, revision)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            params(e),
        )
        .execute(conn)?;
    }
    Ok(())
}

/// An event's values in the column order of the inserts above (and of `db::deferred`'s).
pub(crate) fn params(e: &NewEvent) -> [Param<'_>; 8] {
    [
        e.workflow_id.into(),
        e.enrollment_id.into(),
        e.contact_id.into(),
        At::some(e.at.as_str()).into(),
        e.event.into(),
        e.step.as_deref().into(),
        e.detail.as_str().into(),
        i64::from(e.revision).into(),
    ]
}

/// `workflow_id = w` on a boxed query of `history_events`, for reads that walk one
/// workflow's events in id order; such a read orders by `(workflow_id, id)`, which only the
/// indexes led by `workflow_id` (and ending in `id`) give.
///
/// On PostgreSQL the condition is spelled `workflow_id = ANY(ARRAY[w])`: with `=` the planner
/// drops `workflow_id` from the sort order (it is a constant) and may then walk the primary
/// key backwards, filtering on the workflow — it expects a match at once when the workflow
/// holds much of the table, but when other workflows wrote the newest events it reads all of
/// them first (measured: 54–76 ms for a page of 51 rows behind 500,000 newer events of another
/// workflow, against 0.1 ms through `history_by_workflow`). An array comparison is not an
/// equality to the planner, so `workflow_id` stays in the order and the primary key cannot
/// give it, while the index still seeks it as an equality (the columns after it, `contact_id`
/// or `event`, keep bounding the scan; a range `BETWEEN w AND w` does not, measured 134 ms for
/// a contact's events). SQLite keeps `=` (its planner picks the workflow's indexes).
macro_rules! of_workflow {
    ($conn:expr, $workflow_id:expr, $q:expr) => {{
        let w: i64 = $workflow_id;
        match crate::db::Backend::of($conn) {
            crate::db::Backend::Postgres => $q.filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>(
                    "history_events.workflow_id = ANY(ARRAY[",
                )
                .bind::<diesel::sql_types::BigInt, _>(w)
                .sql("])"),
            ),
            crate::db::Backend::Sqlite => $q.filter(history_events::workflow_id.eq(w)),
        }
    }};
}
pub(crate) use of_workflow;

/// The first event id of a workflow recorded at or after `at` (events are written in time
/// order, so ids and times rise together): a binary search over the (workflow_id, id) index,
/// about 25 indexed probes at ten million events — never a scan.
pub fn first_id_at_or_after(
    conn: &mut DbConnection,
    workflow_id: i64,
    at: &str,
) -> anyhow::Result<Option<i64>> {
    // Two single-ended lookups, not `SELECT MIN(id), MAX(id)`: SQLite answers a lone MIN or
    // MAX from the index's edge, but both in one query scan every event of the workflow
    // (measured: 95 ms at one million events, 1 s at ten million).
    let edge = |conn: &mut DbConnection, newest: bool| -> anyhow::Result<Option<i64>> {
        let q = of_workflow!(conn, workflow_id, history_events::table.into_boxed())
            .select(history_events::id);
        if newest {
            q.order((
                history_events::workflow_id.desc(),
                history_events::id.desc(),
            ))
            .first(conn)
        } else {
            q.order((history_events::workflow_id.asc(), history_events::id.asc()))
                .first(conn)
        }
        .optional()
        .context("reading history bounds")
    };
    let (Some(mut lo), Some(mut hi)) = (edge(conn, false)?, edge(conn, true)?) else {
        return Ok(None);
    };
    let probe = |conn: &mut DbConnection, from: i64| -> anyhow::Result<Option<(i64, String)>> {
        of_workflow!(conn, workflow_id, history_events::table.into_boxed())
            .filter(history_events::id.ge(from))
            .order((history_events::workflow_id.asc(), history_events::id.asc()))
            .select((history_events::id, history_events::at))
            .first(conn)
            .optional()
            .context("probing history")
    };
    // Invariant: every event below `lo` is before `at`; the answer, if any, is in [lo, hi].
    match probe(conn, hi)? {
        Some((_, t)) if t.as_str() < at => return Ok(None),
        _ => {}
    }
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match probe(conn, mid)? {
            Some((id, t)) if t.as_str() < at => lo = id + 1,
            Some((id, _)) => hi = id,
            None => break,
        }
    }
    Ok(probe(conn, lo)?.map(|(id, _)| id))
}

/// One page, newest first; returns the page and whether more exist.
pub fn page(
    conn: &mut DbConnection,
    workflow_id: i64,
    f: &HistoryFilter,
    limit: i64,
) -> anyhow::Result<(Vec<Event>, bool)> {
    // Time bounds become id bounds, so a narrow range never scans the rest of the history.
    let min_id = match &f.from {
        Some(from) => match first_id_at_or_after(conn, workflow_id, from)? {
            Some(id) => Some(id),
            None => return Ok((vec![], false)),
        },
        None => None,
    };
    let below_id = match &f.to {
        Some(to) => first_id_at_or_after(conn, workflow_id, to)?,
        None => None,
    };
    let mut q = of_workflow!(conn, workflow_id, history_events::table.into_boxed())
        .order((
            history_events::workflow_id.desc(),
            history_events::id.desc(),
        ))
        .limit(limit + 1)
        .select(Event::as_select());
    if let Some(c) = f.contact_id {
        q = q.filter(history_events::contact_id.eq(c));
    }
    if let Some(e) = f.event.as_deref().filter(|e| *e == SCHEDULED) {
        // Also the `enrolled` rows written at publish, which stand for their first step's
        // `scheduled` event too (see [`FIRST_STEP`]).
        q = q.filter(
            history_events::event
                .eq(e.to_string())
                .or(history_events::event
                    .eq(ENROLLED)
                    .and(history_events::step.is_not_null())),
        );
    } else if let Some(e) = &f.event {
        q = q.filter(history_events::event.eq(e.clone()));
        // Spelled out (not bound) so SQLite sees the partial index `history_by_workflow_event`
        // covers this query; `scheduled` events are left out of that index (see migration
        // 000300) and are dense enough that the (workflow_id, id) index finds a page fast.
        q = q.filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
            "history_events.event <> 'scheduled'",
        ));
    }
    if let Some(b) = f.before {
        q = q.filter(history_events::id.lt(b));
    }
    if let Some(m) = min_id {
        q = q.filter(history_events::id.ge(m));
    }
    if let Some(b) = below_id {
        q = q.filter(history_events::id.lt(b));
    }
    if let Some(from) = &f.from {
        q = q.filter(history_events::at.ge(Ts::from(from.clone())));
    }
    if let Some(to) = &f.to {
        q = q.filter(history_events::at.lt(Ts::from(to.clone())));
    }
    let rows: Vec<Event> = q.load(conn).context("reading history")?;
    // A row written at publish may stand for two events (see [`FIRST_STEP`]): a page holds
    // at most `limit` events and only whole rows, so the cursor (the last event's id) never
    // falls between the two events of one row. Each row is at least one event, so the
    // `limit + 1` rows read always show whether more exist.
    let mut events = Vec::with_capacity(rows.len());
    let mut more = false;
    for row in rows {
        let kept = events.len();
        row.expand(f.event.as_deref(), &mut events);
        if events.len() as i64 > limit {
            events.truncate(kept);
            more = true;
            break;
        }
    }
    Ok((events, more))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(event: &str, step: Option<&str>, detail: &str) -> Event {
        Event {
            id: 7,
            workflow_id: 1,
            enrollment_id: Some(3),
            contact_id: 5,
            at: "2026-12-07T12:00:00Z".into(),
            event: event.into(),
            step: step.map(str::to_string),
            detail: detail.into(),
            revision: 2,
        }
    }

    /// A row written at publish reads as the two events a single enrollment writes: the
    /// first step's `scheduled` (newest first) and `enrolled`, each alone under its filter.
    #[test]
    fn an_enrolled_row_from_publish_reads_as_enrolled_and_scheduled() {
        let detail = enrolled_with_first_step(
            "met the criteria when the workflow was turned on (existing contact); anchor 2026-12-29, cycle 2026",
            "send_email due 2026-12-22T09:00:00+01:00",
        );
        let merged = row(ENROLLED, Some("1"), &detail);
        let all = expand_all(vec![merged.clone()], None);
        let shown: Vec<(&str, Option<&str>, &str)> = all
            .iter()
            .map(|e| (e.event.as_str(), e.step.as_deref(), e.detail.as_str()))
            .collect();
        assert_eq!(
            shown,
            vec![
                (SCHEDULED, Some("1"), "send_email due 2026-12-22T09:00:00+01:00"),
                (
                    ENROLLED,
                    None,
                    "met the criteria when the workflow was turned on (existing contact); anchor 2026-12-29, cycle 2026"
                ),
            ]
        );
        assert!(all
            .iter()
            .all(|e| e.id == 7 && e.revision == 2 && e.contact_id == 5));
        let only = expand_all(vec![merged.clone()], Some(SCHEDULED));
        assert_eq!(only.len(), 1);
        assert_eq!(only[0].event, SCHEDULED);
        let only = expand_all(vec![merged], Some(ENROLLED));
        assert_eq!((only.len(), only[0].step.as_deref()), (1, None));
        // Any other row, an `enrolled` one without a step included, is itself.
        let plain = row(ENROLLED, None, "enrolled manually");
        assert_eq!(expand_all(vec![plain], None).len(), 1);
    }
}
