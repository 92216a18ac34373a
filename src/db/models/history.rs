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
    if let Some(e) = &f.event {
        q = q.filter(history_events::event.eq(e.clone()));
        if e != "scheduled" {
            // Spelled out (not bound) so SQLite sees the partial index `history_by_workflow_event`
            // covers this query; `scheduled` events are left out of that index (see migration
            // 000300) and are dense enough that the (workflow_id, id) index finds a page fast.
            q = q.filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
                "history_events.event <> 'scheduled'",
            ));
        }
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
    let mut rows = q.load(conn).context("reading history")?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    Ok((rows, more))
}
