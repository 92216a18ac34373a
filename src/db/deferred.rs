//! Write-behind for append-only rows inside one worker batch.
//!
//! A worker batch runs hundreds of jobs in one transaction, and each job appends rows that
//! nothing in the batch reads back: history events, quiet contact events (no trigger reads
//! their id), the "done" record of a step the batch knows had none, and emails kept in the
//! Outbox; and it makes two updates nothing later in the batch reads: the move of its own
//! enrollment to its next step (its last write, see [`Move`]) and a contact's "last
//! modified" time ([`Touch`]). Written one statement at a time, each is a round trip: on PostgreSQL that round
//! trip, not the database's work, was most of the worker's time (measured: seven statements
//! per action, a fifth of a millisecond each). Inside a batch [`Scope`] those rows are held in
//! memory and written at the end of the batch, before its commit, by one set-based statement
//! per table on PostgreSQL (`INSERT … SELECT … FROM unnest(…)`) and by the same prepared
//! single-row statements as before on SQLite (where a statement costs microseconds).
//!
//! Why this cannot change what anyone sees: the rows land in the same transaction, in the order
//! they were made (per table; no row of one of these tables refers to a held row of another).
//! Every statement of the worker that reads or changes step runs or the Outbox flushes first
//! ([`flush`] at the top of those functions in `db/sql/worker.rs`), and so does an insert of
//! contact events whose ids are read back, so the batch still sees its own writes in order.
//! History and contact events are otherwise read only by pages and the API, never inside a
//! batch. Outside a scope (the API, pages, the sweep, a job run on its own) nothing is held.
//!
//! The buffer is per thread: a batch runs on one thread with one connection from start to
//! commit, and the scope ends (dropping anything unwritten with the rolled-back transaction)
//! when the batch does.

use std::cell::RefCell;
use std::marker::PhantomData;

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text};

use super::models::event::NewContactEvent;
use super::models::history::NewEvent;
use super::DbConnection;

/// A step's first run, recorded as done.
#[derive(Debug, Clone)]
pub struct StepDone {
    pub enrollment_id: i64,
    pub step: String,
    pub result: String,
    pub at: String,
}

/// An enrollment moved to its next step at the end of a job (no lease: it stays in the
/// batch). Held like the appends: a job changes only its own contact's enrollments, and the
/// worker flushes before a second job of the same contact starts (`worker::execute`), so no
/// later statement of the batch reads or changes a row whose move is held.
#[derive(Debug, Clone)]
pub struct Move {
    pub enrollment_id: i64,
    pub step: Option<String>,
    pub due: Option<String>,
    pub last_run_at: Option<String>,
}

/// A contact's "last modified" time, moved by a write of its values. Nothing the worker runs
/// reads it (filters, tokens and triggers read the values), only pages and the API do.
#[derive(Debug, Clone)]
pub struct Touch {
    pub contact_id: i64,
    pub at: String,
}

/// An email kept in the Outbox.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub workflow_id: i64,
    pub enrollment_id: i64,
    pub contact_id: i64,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub created_at: String,
}

#[derive(Default)]
struct Held {
    /// Appends only (a batch of contact writes): moves and touches are written at once.
    appends_only: bool,
    history: Vec<NewEvent>,
    contact_events: Vec<NewContactEvent>,
    steps_done: Vec<StepDone>,
    outbox: Vec<OutboxRow>,
    moves: Vec<Move>,
    touches: Vec<Touch>,
}

impl Held {
    fn is_empty(&self) -> bool {
        self.history.is_empty()
            && self.contact_events.is_empty()
            && self.steps_done.is_empty()
            && self.outbox.is_empty()
            && self.moves.is_empty()
            && self.touches.is_empty()
    }
}

thread_local! {
    static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
}

/// While alive, appends on this thread are held (see the module). Dropping it discards what
/// was not flushed: call [`flush`] before the transaction commits.
pub struct Scope {
    /// Whether this scope opened the buffer: one opened inside another (never done today)
    /// adds to the outer one and leaves it open when it ends.
    opened: bool,
    /// Tied to the thread whose buffer it opened.
    _not_send: PhantomData<*const ()>,
}

impl Scope {
    /// A worker batch: the appends, the jobs' final moves and contacts' touches are held.
    pub fn begin() -> Scope {
        Scope::open(false)
    }

    /// A batch of contact writes (`POST /contacts/batch`, a CSV import's chunk): only the
    /// appends (history and quiet contact events) are held. A contact's "last modified" time
    /// is written at once there, since a later input of the same batch reads it back.
    pub fn appends() -> Scope {
        Scope::open(true)
    }

    fn open(appends_only: bool) -> Scope {
        let opened = HELD.with(|h| {
            let mut h = h.borrow_mut();
            if h.is_some() {
                return false;
            }
            *h = Some(Held {
                appends_only,
                ..Held::default()
            });
            true
        });
        Scope {
            opened,
            _not_send: PhantomData,
        }
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        if self.opened {
            HELD.with(|h| *h.borrow_mut() = None);
        }
    }
}

/// Runs `f` on this thread's held rows if a scope is open that holds this kind of row
/// (`appends_too`: also a contact batch's appends-only scope); whether it ran.
fn with_held(appends_too: bool, f: impl FnOnce(&mut Held)) -> bool {
    HELD.with(|h| match h.borrow_mut().as_mut() {
        Some(held) if appends_too || !held.appends_only => {
            f(held);
            true
        }
        _ => false,
    })
}

/// Holds `row` (see [`with_held`]); gives it back when it is not held.
fn hold_row<T>(
    row: T,
    appends_too: bool,
    into: impl FnOnce(&mut Held) -> &mut Vec<T>,
) -> Option<T> {
    let mut row = Some(row);
    with_held(appends_too, |held| into(held).extend(row.take()));
    row
}

// History and contact events are passed borrowed (cloned only when held): the callers write
// them themselves otherwise. The other rows are passed owned and given back.
pub(crate) fn hold_history(events: &[NewEvent]) -> bool {
    with_held(true, |held| held.history.extend_from_slice(events))
}

pub(crate) fn hold_contact_event(e: &NewContactEvent) -> bool {
    with_held(true, |held| held.contact_events.push(e.clone()))
}

pub(crate) fn hold_step_done(row: StepDone) -> Option<StepDone> {
    hold_row(row, true, |h| &mut h.steps_done)
}

pub(crate) fn hold_email(row: OutboxRow) -> Option<OutboxRow> {
    hold_row(row, true, |h| &mut h.outbox)
}

pub(crate) fn hold_move(row: Move) -> Option<Move> {
    hold_row(row, false, |h| &mut h.moves)
}

pub(crate) fn hold_touch(row: Touch) -> Option<Touch> {
    hold_row(row, false, |h| &mut h.touches)
}

/// Writes everything held on this thread (a no-op outside a scope or when nothing is held).
pub fn flush(conn: &mut DbConnection) -> QueryResult<()> {
    let Some(held) = HELD.with(|h| {
        h.borrow_mut()
            .as_mut()
            .filter(|held| !held.is_empty())
            .map(|held| {
                std::mem::replace(
                    held,
                    Held {
                        appends_only: held.appends_only,
                        ..Held::default()
                    },
                )
            })
    }) else {
        return Ok(());
    };
    match conn {
        DbConnection::Postgres(c) => write_pg(c, &held),
        DbConnection::Sqlite(_) => write_each(conn, held),
    }
}

/// Rows per multi-row insert on SQLite: each statement is prepared once and kept, and binds
/// this many rows per step; the rest of a batch goes through the single-row statements.
const SQLITE_ROWS: usize = 16;

/// SQLite: the held rows in multi-row inserts of [`SQLITE_ROWS`] (a statement costs only
/// microseconds here, but a fixed cost of binding, stepping and resetting per row is saved).
fn write_each(conn: &mut DbConnection, held: Held) -> QueryResult<()> {
    use diesel::connection::SimpleConnection;
    // A statement that writes many rows and may fail half-way makes SQLite copy every page it
    // changes into a statement journal first, to undo just that statement: a 16 KiB copy per
    // page, which cost more than the multi-row insert saved. Such a failure rolls back the
    // whole batch here anyway, so the inserts say `OR FAIL` (no undo of the statement alone)
    // and the foreign keys are checked at commit for these statements (a violation then
    // fails the commit, and the worker runs the batch again job by job).
    conn.batch_execute("PRAGMA defer_foreign_keys = ON")?;
    let written = write_rows(conn, held);
    conn.batch_execute("PRAGMA defer_foreign_keys = OFF")?;
    written
}

fn write_rows(conn: &mut DbConnection, held: Held) -> QueryResult<()> {
    use super::models::contact::Contact;
    use super::models::enrollment::Enrollment;
    use super::models::event::ContactEvent;
    use super::models::history;
    use super::prepared::Param;
    use super::sql::worker as sql;
    in_chunks(
        conn,
        &held.history,
        |c, e| history::write(c, std::slice::from_ref(e)),
        |c, rows| {
            let params: Vec<Param> = rows.iter().flat_map(history::params).collect();
            crate::repeated_sql!(
                "INSERT OR FAIL INTO history_events
                    (workflow_id, enrollment_id, contact_id, at, event, step, detail, revision) VALUES",
                "(?, ?, ?, ?, ?, ?, ?, ?)",
                SQLITE_ROWS,
                &params,
            )
            .execute(c)
        },
    )?;
    in_chunks(
        conn,
        &held.contact_events,
        ContactEvent::write,
        |c, rows| {
            let params: Vec<Param> = rows.iter().flat_map(ContactEvent::params).collect();
            crate::repeated_sql!(
                "INSERT OR FAIL INTO contact_events
                    (contact_id, name, source, occurred_at, properties, created_at) VALUES",
                "(?, ?, ?, ?, ?, ?)",
                SQLITE_ROWS,
                &params,
            )
            .execute(c)
        },
    )?;
    in_chunks(conn, &held.steps_done, sql::write_step_done, |c, rows| {
        let params: Vec<Param> = rows.iter().flat_map(sql::step_done_params).collect();
        crate::repeated_sql!(
            "INSERT OR FAIL INTO action_runs
                (enrollment_id, step, state, result, started_at, finished_at) VALUES",
            "(?, ?, 'done', ?, ?, ?)",
            SQLITE_ROWS,
            &params,
        )
        .execute(c)
    })?;
    in_chunks(conn, &held.outbox, sql::write_email, |c, rows| {
        let params: Vec<Param> = rows.iter().flat_map(sql::email_params).collect();
        crate::repeated_sql!(
            "INSERT OR FAIL INTO outbox
                (workflow_id, enrollment_id, contact_id, recipient, subject, body, delivery,
                 created_at) VALUES",
            "(?, ?, ?, ?, ?, ?, 'kept', ?)",
            SQLITE_ROWS,
            &params,
        )
        .execute(c)
    })?;
    for m in &held.moves {
        Enrollment::write_move(conn, m)?;
    }
    for t in &held.touches {
        Contact::write_touch(conn, t)?;
    }
    Ok(())
}

/// Full chunks of [`SQLITE_ROWS`] through `many` (one multi-row statement each), the rest
/// one row at a time through `one`.
fn in_chunks<T>(
    conn: &mut DbConnection,
    rows: &[T],
    one: impl Fn(&mut DbConnection, &T) -> QueryResult<()>,
    many: impl Fn(&mut DbConnection, &[T]) -> QueryResult<usize>,
) -> QueryResult<()> {
    for chunk in rows.chunks(SQLITE_ROWS) {
        if chunk.len() < SQLITE_ROWS {
            for row in chunk {
                one(conn, row)?;
            }
        } else {
            many(conn, chunk)?;
        }
    }
    Ok(())
}

/// An instant as text PostgreSQL reads the same in any session time zone (`…Z`).
fn utc_text(s: &str) -> String {
    crate::clock::parse_instant(s)
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
                .ok()
                .map(|n| n.and_utc())
        })
        .map(crate::clock::fmt_instant)
        .unwrap_or_else(|| s.to_string())
}

/// PostgreSQL: one `INSERT … SELECT … FROM unnest(…)` per table, rows in the order held.
fn write_pg(c: &mut PgConnection, held: &Held) -> QueryResult<()> {
    if !held.history.is_empty() {
        let h = &held.history;
        diesel::sql_query(
            "INSERT INTO history_events
                (workflow_id, enrollment_id, contact_id, at, event, step, detail, revision)
             SELECT w, en, c, a::timestamptz, ev, st, d, r
               FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[],
                           $6::text[], $7::text[], $8::integer[])
                    WITH ORDINALITY AS u(w, en, c, a, ev, st, d, r, n)
              ORDER BY n",
        )
        .bind::<Array<BigInt>, _>(h.iter().map(|e| e.workflow_id).collect::<Vec<_>>())
        .bind::<Array<Nullable<BigInt>>, _>(h.iter().map(|e| e.enrollment_id).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(h.iter().map(|e| e.contact_id).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(h.iter().map(|e| utc_text(&e.at)).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(h.iter().map(|e| e.event).collect::<Vec<_>>())
        .bind::<Array<Nullable<Text>>, _>(h.iter().map(|e| e.step.as_deref()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(h.iter().map(|e| e.detail.as_str()).collect::<Vec<_>>())
        .bind::<Array<Integer>, _>(h.iter().map(|e| e.revision).collect::<Vec<_>>())
        .execute(c)?;
    }
    if !held.contact_events.is_empty() {
        let v = &held.contact_events;
        diesel::sql_query(
            "INSERT INTO contact_events (contact_id, name, source, occurred_at, properties, created_at)
             SELECT c, nm, src, o::timestamptz, p, cr::timestamptz
               FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
                    WITH ORDINALITY AS u(c, nm, src, o, p, cr, n)
              ORDER BY n",
        )
        .bind::<Array<BigInt>, _>(v.iter().map(|e| e.contact_id).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|e| e.name.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|e| e.source).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|e| utc_text(&e.occurred_at)).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|e| e.properties.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|e| utc_text(&e.created_at)).collect::<Vec<_>>())
        .execute(c)?;
    }
    if !held.steps_done.is_empty() {
        let v = &held.steps_done;
        diesel::sql_query(
            "INSERT INTO action_runs (enrollment_id, step, state, result, started_at, finished_at)
             SELECT en, st, 'done', r, a::timestamptz, a::timestamptz
               FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS u(en, st, r, a)",
        )
        .bind::<Array<BigInt>, _>(v.iter().map(|s| s.enrollment_id).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|s| s.step.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|s| s.result.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|s| utc_text(&s.at)).collect::<Vec<_>>())
        .execute(c)?;
    }
    if !held.outbox.is_empty() {
        let v = &held.outbox;
        diesel::sql_query(
            "INSERT INTO outbox
                (workflow_id, enrollment_id, contact_id, recipient, subject, body, delivery, created_at)
             SELECT w, en, c, rc, s, b, 'kept', a::timestamptz
               FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[],
                           $6::text[], $7::text[])
                    WITH ORDINALITY AS u(w, en, c, rc, s, b, a, n)
              ORDER BY n",
        )
        .bind::<Array<BigInt>, _>(v.iter().map(|m| m.workflow_id).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(v.iter().map(|m| m.enrollment_id).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(v.iter().map(|m| m.contact_id).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|m| m.recipient.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|m| m.subject.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|m| m.body.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|m| utc_text(&m.created_at)).collect::<Vec<_>>())
        .execute(c)?;
    }
    if !held.touches.is_empty() {
        let v = &held.touches;
        // A contact touched twice keeps the later time (one row per contact in the join).
        diesel::sql_query(
            "UPDATE contacts c SET updated_at = u.t::timestamptz
               FROM (SELECT id, max(t) AS t FROM unnest($1::bigint[], $2::text[]) AS u(id, t)
                      GROUP BY id) AS u
              WHERE c.id = u.id",
        )
        .bind::<Array<BigInt>, _>(v.iter().map(|t| t.contact_id).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|t| utc_text(&t.at)).collect::<Vec<_>>())
        .execute(c)?;
    }
    if !held.moves.is_empty() {
        let v = &held.moves;
        let at = |t: &Option<String>| t.as_deref().map(utc_text);
        diesel::sql_query(
            "UPDATE enrollments e
                SET next_step = u.st, next_due_at = u.d::timestamptz, lease_until = NULL,
                    lease_owner = NULL, attempts = 0, last_run_at = u.l::timestamptz
               FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS u(id, st, d, l)
              WHERE e.id = u.id",
        )
        .bind::<Array<BigInt>, _>(v.iter().map(|m| m.enrollment_id).collect::<Vec<_>>())
        .bind::<Array<Nullable<Text>>, _>(v.iter().map(|m| m.step.as_deref()).collect::<Vec<_>>())
        .bind::<Array<Nullable<Text>>, _>(v.iter().map(|m| at(&m.due)).collect::<Vec<_>>())
        .bind::<Array<Nullable<Text>>, _>(v.iter().map(|m| at(&m.last_run_at)).collect::<Vec<_>>())
        .execute(c)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::models::history::{self, NewEvent};
    use crate::db::scratch::ScratchDb;
    use crate::db::Backend;
    use diesel::connection::SimpleConnection;
    use diesel::sql_types::BigInt;

    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    fn count(conn: &mut DbConnection, sql: &str) -> i64 {
        diesel::sql_query(sql)
            .get_result::<N>(conn)
            .expect("count")
            .n
    }

    fn event(i: usize) -> NewEvent {
        NewEvent {
            workflow_id: 1,
            enrollment_id: Some(i as i64),
            contact_id: 7,
            at: "2026-12-07T09:00:00.000Z".into(),
            event: history::ACTION_EXECUTED,
            step: Some("0".into()),
            detail: format!("{i:03}"),
            revision: 1,
        }
    }

    fn sqlite() -> (ScratchDb, crate::db::DbPool) {
        let db = ScratchDb::of(Backend::Sqlite).expect("scratch");
        let pool = crate::db::connect(db.url(), 1).expect("pool");
        (db, pool)
    }

    #[test]
    fn held_rows_wait_for_the_flush_and_keep_their_order() {
        let (_db, pool) = sqlite();
        let mut conn = pool.get().expect("connection");
        let scope = Scope::begin();
        // More than one multi-row statement holds, and a remainder.
        for i in 0..(2 * SQLITE_ROWS + 3) {
            history::record(&mut conn, &[event(i)]).expect("record");
        }
        assert_eq!(
            count(&mut conn, "SELECT COUNT(*) AS n FROM history_events"),
            0
        );
        flush(&mut conn).expect("flush");
        drop(scope);
        assert_eq!(
            count(&mut conn, "SELECT COUNT(*) AS n FROM history_events"),
            (2 * SQLITE_ROWS + 3) as i64
        );
        // Ids rise in the order the events were recorded.
        assert_eq!(
            count(
                &mut conn,
                "SELECT COUNT(*) AS n FROM history_events a JOIN history_events b
                   ON a.id < b.id AND a.detail > b.detail"
            ),
            0
        );
    }

    #[test]
    fn a_scope_that_ends_without_a_flush_writes_nothing_and_none_is_held_after_it() {
        let (_db, pool) = sqlite();
        let mut conn = pool.get().expect("connection");
        {
            let _scope = Scope::begin();
            history::record(&mut conn, &[event(1)]).expect("record");
        }
        flush(&mut conn).expect("flush");
        assert_eq!(
            count(&mut conn, "SELECT COUNT(*) AS n FROM history_events"),
            0
        );
        // Outside a scope, written at once.
        history::record(&mut conn, &[event(2)]).expect("record");
        assert_eq!(
            count(&mut conn, "SELECT COUNT(*) AS n FROM history_events"),
            1
        );
    }

    #[test]
    fn a_batch_of_contact_writes_holds_appends_but_touches_at_once() {
        let (_db, pool) = sqlite();
        let mut conn = pool.get().expect("connection");
        conn.batch_execute(
            "INSERT INTO contacts (id, email, created_at, updated_at)
             VALUES (7, 'a@example.com', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')",
        )
        .expect("contact");
        let _scope = Scope::appends();
        // A scope opened inside it adds to it and leaves it open.
        drop(Scope::begin());
        crate::db::models::contact::Contact::touch(
            &mut conn,
            crate::db::models::ContactId(7),
            "2026-12-07T09:00:00.000Z",
        )
        .expect("touch");
        assert_eq!(
            count(
                &mut conn,
                "SELECT COUNT(*) AS n FROM contacts WHERE updated_at = '2026-12-07T09:00:00.000Z'"
            ),
            1
        );
        history::record(&mut conn, &[event(1)]).expect("record");
        assert_eq!(
            count(&mut conn, "SELECT COUNT(*) AS n FROM history_events"),
            0
        );
        flush(&mut conn).expect("flush");
        assert_eq!(
            count(&mut conn, "SELECT COUNT(*) AS n FROM history_events"),
            1
        );
    }
}
