//! Reads behind a workflow's Performance page and a contact's recent workflow activity: counts
//! of history events by kind, step and id range (time ranges become id ranges through
//! [`history::first_id_at_or_after`], so a count walks only the index entries of its range),
//! the active enrollments waiting at each step, and the steps falling due in a time range.
//! Every query works on both backends.

use anyhow::Context;
use diesel::dsl::{count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text};

use super::history::{self, Event};
use crate::db::schema::{enrollments, history_events};
use crate::db::types::Ts;
use crate::db::DbConnection;

/// SQLite uses the partial index `history_by_workflow_event` (which leaves `scheduled` events
/// out) only when the query spells its condition out.
fn not_scheduled() -> diesel::expression::SqlLiteral<Bool> {
    sql::<Bool>("history_events.event <> 'scheduled'")
}

/// How many `event`s of the workflow have an id in `[from_id, below_id)`.
pub fn count_between(
    conn: &mut DbConnection,
    workflow_id: i64,
    event: &str,
    from_id: i64,
    below_id: i64,
) -> anyhow::Result<i64> {
    if below_id <= from_id {
        return Ok(0);
    }
    let q = history_events::table
        .filter(history_events::workflow_id.eq(workflow_id))
        .filter(history_events::event.eq(event.to_string()))
        .filter(history_events::id.ge(from_id))
        .filter(history_events::id.lt(below_id))
        .select(count_star());
    if event == history::SCHEDULED {
        q.first(conn)
    } else {
        q.filter(not_scheduled()).first(conn)
    }
    .context("counting history events")
}

/// `event`s of the workflow with an id at or above `from_id`, counted per step path.
pub fn counts_by_step(
    conn: &mut DbConnection,
    workflow_id: i64,
    event: &str,
    from_id: i64,
) -> anyhow::Result<Vec<(Option<String>, i64)>> {
    history_events::table
        .filter(history_events::workflow_id.eq(workflow_id))
        .filter(history_events::event.eq(event.to_string()))
        .filter(not_scheduled())
        .filter(history_events::id.ge(from_id))
        .group_by(history_events::step)
        .select((history_events::step, count_star()))
        .load(conn)
        .context("counting history events by step")
}

#[derive(QueryableByName)]
struct SkipRow {
    #[diesel(sql_type = Nullable<Text>)]
    step: Option<String>,
    #[diesel(sql_type = Text)]
    head: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Skipped events with an id at or above `from_id`, counted per step and per the first words
/// of their detail (which say why: "skipped — the workflow was off …").
pub fn skipped_by_step(
    conn: &mut DbConnection,
    workflow_id: i64,
    from_id: i64,
) -> anyhow::Result<Vec<(Option<String>, String, i64)>> {
    let q = crate::db::sql::portable::sql(
        conn,
        "SELECT step, substr(detail, 1, 40) AS head, COUNT(*) AS n FROM history_events
          WHERE workflow_id = ?1 AND event = 'skipped' AND event <> 'scheduled' AND id >= ?2
          GROUP BY step, substr(detail, 1, 40)",
    )
    .into_owned();
    Ok(diesel::sql_query(q)
        .bind::<BigInt, _>(workflow_id)
        .bind::<BigInt, _>(from_id)
        .load::<SkipRow>(conn)
        .context("counting skipped steps")?
        .into_iter()
        .map(|r| (r.step, r.head, r.n))
        .collect())
}

/// The workflow's enrollments counted by status (`active`, `completed`, `unenrolled`).
pub fn enrollments_by_status(
    conn: &mut DbConnection,
    workflow_id: i64,
) -> anyhow::Result<Vec<(String, i64)>> {
    enrollments::table
        .filter(enrollments::workflow_id.eq(workflow_id))
        .group_by(enrollments::status)
        .select((enrollments::status, count_star()))
        .load(conn)
        .context("counting enrollments")
}

/// Active enrollments counted by the step they wait for.
pub fn waiting_by_step(
    conn: &mut DbConnection,
    workflow_id: i64,
) -> anyhow::Result<Vec<(Option<String>, i64)>> {
    enrollments::table
        .filter(enrollments::workflow_id.eq(workflow_id))
        .filter(enrollments::status.eq("active"))
        .group_by(enrollments::next_step)
        .select((enrollments::next_step, count_star()))
        .load(conn)
        .context("counting waiting contacts")
}

/// Active enrollments whose next step falls due in `[from, to)` (stored instants), counted
/// per step.
pub fn due_by_step(
    conn: &mut DbConnection,
    workflow_id: i64,
    from: &str,
    to: &str,
) -> anyhow::Result<Vec<(Option<String>, i64)>> {
    enrollments::table
        .filter(sql::<Bool>("enrollments.status = 'active'"))
        .filter(enrollments::next_due_at.ge(Ts::of(from)))
        .filter(enrollments::next_due_at.lt(Ts::of(to)))
        .filter(enrollments::workflow_id.eq(workflow_id))
        .group_by(enrollments::next_step)
        .select((enrollments::next_step, count_star()))
        .load(conn)
        .context("counting steps due")
}

/// The newest events of one contact in these workflows, newest first (at most `limit`).
pub fn recent_for_contact(
    conn: &mut DbConnection,
    workflow_ids: &[i64],
    contact_id: i64,
    limit: i64,
) -> anyhow::Result<Vec<Event>> {
    let mut out: Vec<Event> = Vec::new();
    for w in workflow_ids {
        out.extend(
            history::of_workflow!(conn, *w, history_events::table.into_boxed())
                .filter(history_events::contact_id.eq(contact_id))
                .order((
                    history_events::workflow_id.desc(),
                    history_events::id.desc(),
                ))
                .limit(limit)
                .select(Event::as_select())
                .load::<Event>(conn)
                .context("reading a contact's history")?,
        );
    }
    out.sort_by_key(|e| std::cmp::Reverse(e.id));
    // Rows written at publish stand for two events (see `history::FIRST_STEP`).
    let mut out = history::expand_all(out, None);
    out.truncate(limit.max(0) as usize);
    Ok(out)
}
