//! Write-behind for the rows of one worker batch or one batch of contact writes.
//!
//! A worker batch runs hundreds of jobs in one transaction, and each job appends rows that
//! nothing in the batch reads back: history events, quiet contact events (no trigger reads
//! their id), the "done" record of a step the batch knows had none, and emails kept in the
//! Outbox; and it makes two updates nothing later in the batch reads: the move of its own
//! enrollment to its next step (its last write, see [`Move`]) and a contact's "last
//! modified" time ([`Touch`]). Two more writes are held though the batch may read them back,
//! because each has few readers and those flush first: the values an action writes
//! ([`ValueWrite`]; the readers of `contact_values` call [`flush_before_values`]) and the end
//! of an enrollment ([`Finish`]; every other statement on `enrollments` calls
//! [`flush_before_enrollments`]). Written one statement at a time, each is a round trip: on PostgreSQL that round
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
//! contact events whose ids are read back (except in a contact batch on PostgreSQL, which holds
//! those too, with ids taken when held), so the batch still sees its own writes in order.
//! History and contact events are otherwise read only by pages and the API, never inside a
//! batch. Outside a scope (the API, pages, the sweep, a job run on its own) nothing is held.
//!
//! A batch of contact writes (`POST /contacts/batch`, a CSV import's chunk, a group of
//! single upserts) opens its own kind of scope ([`Scope::contact_batch`]): it holds the
//! appends, the contacts' values and touches, and on PostgreSQL the enrollments its triggers
//! make ([`EnrollmentInsert`], ids taken from the sequence beforehand), written first at the
//! flush, and every contact event, each with an id taken from the sequence when it is held
//! ([`hold_contact_events`]), so an event whose id a workflow reads no longer writes what is
//! held before it.
//!
//! The buffer is per thread: a batch runs on one thread with one connection from start to
//! commit, and the scope ends (dropping anything unwritten with the rolled-back transaction)
//! when the batch does.

use std::cell::RefCell;
use std::marker::PhantomData;

use diesel::prelude::*;

use super::models::enrollment::NewEnrollment;
use super::models::event::NewContactEvent;
use super::models::history::NewEvent;
use super::DbConnection;

mod pg;
pub(crate) use pg::next_ids;

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

/// A contact's value written by a workflow action (set, copy, adjust). Held in a worker batch
/// only: every read of contact values flushes first ([`flush_before_values`], called by the
/// readers in `db::models::contact`), and so does a value's removal, so the batch still reads
/// its own writes and a value's writes land in the order made.
#[derive(Debug, Clone)]
pub struct ValueWrite {
    pub contact_id: i64,
    pub property_id: i64,
    pub value: String,
    pub num: Option<f64>,
    /// Whether the contact had a value for this property when it was written (SQLite writes
    /// an update or an insert by it; PostgreSQL upserts the last value of each pair).
    pub exists: bool,
}

/// An enrollment ended (completed or unenrolled). Held in a worker batch only: every other
/// statement of `db::models::enrollment` flushes first ([`flush_before_enrollments`]), so the
/// batch still reads the end (a later check of whether an enrollment is active, the one-active
/// index when the next cycle starts) in order.
#[derive(Debug, Clone)]
pub struct Finish {
    pub enrollment_id: i64,
    /// `completed` or `unenrolled`.
    pub status: &'static str,
    pub reason: String,
    pub at: String,
}

/// An enrollment made by a trigger inside a contact batch on PostgreSQL, its id already
/// taken from the table's sequence (a block at a time, `hold_enrollment`): written with the
/// batch, the first of the held rows (history refers to it). Every other statement on
/// `enrollments` flushes first ([`flush_before_enrollments`]), so the batch still reads its
/// own enrollments (a later input of the same contact) in order, and the one-active index
/// still refuses a second active enrollment when the rows land.
#[derive(Debug, Clone)]
pub struct EnrollmentInsert {
    pub id: i64,
    /// Its status is one of the constants of `db::models::enrollment` (hence `'static`).
    pub row: NewEnrollment<'static>,
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
    /// A batch of contact writes: the appends, touches and values are held; moves and ends
    /// (which only the worker makes) would be written at once.
    contact_batch: bool,
    history: Vec<NewEvent>,
    contact_events: Vec<NewContactEvent>,
    /// In a contact batch on PostgreSQL: each held contact event's id, taken from the
    /// sequence when it was held (see [`hold_contact_events`]); empty elsewhere.
    contact_event_ids: Vec<i64>,
    steps_done: Vec<StepDone>,
    outbox: Vec<OutboxRow>,
    moves: Vec<Move>,
    touches: Vec<Touch>,
    values: Vec<ValueWrite>,
    finishes: Vec<Finish>,
    enrollments: Vec<EnrollmentInsert>,
    /// Ids taken from the enrollments' sequence and not used yet (kept across flushes).
    enrollment_ids: IdBlock,
    /// The same for contact events.
    event_ids: IdBlock,
}

/// Ids taken from a table's sequence ahead of the rows that use them (PostgreSQL), a block at
/// a time: a batch makes several rows per contact, and one round trip per row is what holding
/// them saves. Blocks start small and double as the scope uses them (16 up to 256), so a small
/// scope (a group of one single upsert) leaves a gap of a few ids in the numbering, not 256.
#[derive(Default)]
struct IdBlock {
    /// Unused, highest first (popped from the end, so used in ascending order).
    spare: Vec<i64>,
    /// How many this scope has taken so far.
    taken: i64,
}

impl IdBlock {
    fn next(&mut self, c: &mut diesel::PgConnection, table: &str) -> QueryResult<i64> {
        if let Some(id) = self.spare.pop() {
            return Ok(id);
        }
        let n = self.taken.clamp(16, 256);
        let mut ids = pg::next_ids(c, table, n)?;
        ids.reverse();
        let id = ids.pop().ok_or(diesel::result::Error::NotFound)?;
        self.spare = ids;
        self.taken += n;
        Ok(id)
    }
}

/// The next id of `table` from this thread's scope's block (`pick`), if a scope is open.
fn next_held_id(
    c: &mut diesel::PgConnection,
    table: &str,
    pick: impl FnOnce(&mut Held) -> &mut IdBlock,
) -> QueryResult<Option<i64>> {
    HELD.with(|h| match h.borrow_mut().as_mut() {
        Some(held) => pick(held).next(c, table).map(Some),
        None => Ok(None),
    })
}

impl Held {
    fn is_empty(&self) -> bool {
        self.history.is_empty()
            && self.contact_events.is_empty()
            && self.steps_done.is_empty()
            && self.outbox.is_empty()
            && self.moves.is_empty()
            && self.touches.is_empty()
            && self.values.is_empty()
            && self.finishes.is_empty()
            && self.enrollments.is_empty()
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
    /// A worker batch: the appends, the jobs' final moves, contacts' touches, the values
    /// actions write and enrollments' ends are held.
    pub fn begin() -> Scope {
        Scope::open(false)
    }

    /// A batch of contact writes (`POST /contacts/batch`, a CSV import's chunk,
    /// `services::contacts::batch`): the appends (history and quiet contact events), the
    /// contacts' "last modified" times and their values are held. That batch reads its
    /// contacts once and keeps them in memory as it writes them (a later input of the same
    /// contact reads them from there, never back from the database), and anything else that
    /// reads values there (a trigger's list check) flushes first.
    pub fn contact_batch() -> Scope {
        Scope::open(true)
    }

    fn open(contact_batch: bool) -> Scope {
        let opened = HELD.with(|h| {
            let mut h = h.borrow_mut();
            if h.is_some() {
                return false;
            }
            *h = Some(Held {
                contact_batch,
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
/// (`contact_batch_too`: also in a contact batch); whether it ran.
fn with_held(contact_batch_too: bool, f: impl FnOnce(&mut Held)) -> bool {
    HELD.with(|h| match h.borrow_mut().as_mut() {
        Some(held) if contact_batch_too || !held.contact_batch => {
            f(held);
            true
        }
        _ => false,
    })
}

/// Holds `row` (see [`with_held`]); gives it back when it is not held.
fn hold_row<T>(
    row: T,
    contact_batch_too: bool,
    into: impl FnOnce(&mut Held) -> &mut Vec<T>,
) -> Option<T> {
    let mut row = Some(row);
    with_held(contact_batch_too, |held| into(held).extend(row.take()));
    row
}

// History and contact events are passed borrowed (cloned only when held): the callers write
// them themselves otherwise. The other rows are passed owned and given back.
pub(crate) fn hold_history(events: &[NewEvent]) -> bool {
    with_held(true, |held| held.history.extend_from_slice(events))
}

/// Holds a quiet contact event (one whose id nobody reads); whether it did.
pub(crate) fn hold_contact_event(
    conn: &mut DbConnection,
    e: &NewContactEvent,
) -> QueryResult<bool> {
    Ok(
        hold_contact_events(conn, std::slice::from_ref(e))?.is_some()
            || with_held(true, |held| held.contact_events.push(e.clone())),
    )
}

/// Inside a contact batch on PostgreSQL: holds `events` with ids taken from the sequence now,
/// and gives those ids (`None` elsewhere: the caller writes them, or holds them without ids).
///
/// Why: a workflow that listens for an event needs its id at once. Written at once, the event
/// had to go after every event held before it (ids in the order events happened), so a batch
/// wrote everything it held before each such event: a round trip per table per input, which
/// made a group of single upserts slower than the upserts one by one (measured with the bench's
/// event-trigger workflows: 335/s against 420/s). With ids taken in order when held, every
/// held event of the batch keeps its place, whenever it is written. A worker batch keeps
/// writing such an event at once: taking ids there cost it more than it saved (PostgreSQL
/// worker, 20,000 actions: 9,059 and 9,216 actions/s against 9,867 and 9,972).
pub(crate) fn hold_contact_events(
    conn: &mut DbConnection,
    events: &[NewContactEvent],
) -> QueryResult<Option<Vec<i64>>> {
    let DbConnection::Postgres(c) = conn else {
        return Ok(None);
    };
    if !holds(|h| h.contact_batch) {
        return Ok(None);
    }
    let mut ids = Vec::with_capacity(events.len());
    for _ in events {
        match next_held_id(c, "contact_events", |h| &mut h.event_ids)? {
            Some(id) => ids.push(id),
            None => return Ok(None),
        }
    }
    with_held(true, |h| {
        h.contact_events.extend_from_slice(events);
        h.contact_event_ids.extend_from_slice(&ids);
    });
    Ok(Some(ids))
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
    hold_row(row, true, |h| &mut h.touches)
}

pub(crate) fn hold_value(row: ValueWrite) -> Option<ValueWrite> {
    hold_row(row, true, |h| &mut h.values)
}

pub(crate) fn hold_finish(row: Finish) -> Option<Finish> {
    hold_row(row, false, |h| &mut h.finishes)
}

/// Inside a contact batch on PostgreSQL: takes an id for a new enrollment and holds the row
/// `make` builds with it (see [`EnrollmentInsert`]); `None` elsewhere (the caller inserts).
pub(crate) fn hold_enrollment(
    conn: &mut DbConnection,
    make: impl FnOnce(i64) -> EnrollmentInsert,
) -> QueryResult<Option<i64>> {
    let DbConnection::Postgres(c) = conn else {
        return Ok(None);
    };
    if !holds(|h| h.contact_batch) {
        return Ok(None);
    }
    let Some(id) = next_held_id(c, "enrollments", |h| &mut h.enrollment_ids)? else {
        return Ok(None);
    };
    let row = make(id);
    with_held(true, |h| h.enrollments.push(row));
    Ok(Some(id))
}

/// Whether this thread holds any row of the kind `pick` looks at.
fn holds(pick: impl FnOnce(&Held) -> bool) -> bool {
    HELD.with(|h| h.borrow().as_ref().is_some_and(pick))
}

/// Before a statement reads or removes contact values: writes what is held if any value is.
pub fn flush_before_values(conn: &mut DbConnection) -> QueryResult<()> {
    if holds(|h| !h.values.is_empty()) {
        flush(conn)?;
    }
    Ok(())
}

/// Before a new enrollment: writes what is held if any enrollment's end is (its one-active
/// index must see the end first). Other held new enrollments stay held: they land together,
/// in order.
pub fn flush_before_new_enrollment(conn: &mut DbConnection) -> QueryResult<()> {
    if holds(|h| !h.finishes.is_empty()) {
        flush(conn)?;
    }
    Ok(())
}

/// Before any other statement on enrollments: writes what is held if any enrollment's end or
/// new enrollment is.
pub fn flush_before_enrollments(conn: &mut DbConnection) -> QueryResult<()> {
    if holds(|h| !h.finishes.is_empty() || !h.enrollments.is_empty()) {
        flush(conn)?;
    }
    Ok(())
}

/// Writes everything held on this thread (a no-op outside a scope or when nothing is held).
pub fn flush(conn: &mut DbConnection) -> QueryResult<()> {
    let Some(held) = HELD.with(|h| {
        h.borrow_mut()
            .as_mut()
            .filter(|held| !held.is_empty())
            .map(|held| {
                let next = Held {
                    contact_batch: held.contact_batch,
                    enrollment_ids: std::mem::take(&mut held.enrollment_ids),
                    event_ids: std::mem::take(&mut held.event_ids),
                    ..Held::default()
                };
                std::mem::replace(held, next)
            })
    }) else {
        return Ok(());
    };
    match conn {
        DbConnection::Postgres(c) => pg::write_pg(c, &held),
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
    // Never held on SQLite (an insert costs microseconds there); written first if they were.
    for e in &held.enrollments {
        Enrollment::write_held(conn, e)?;
    }
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
    for v in &held.values {
        Contact::write_value(conn, v)?;
    }
    for m in &held.moves {
        Enrollment::write_move(conn, m)?;
    }
    for f in &held.finishes {
        Enrollment::write_finish(conn, f)?;
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

#[cfg(test)]
mod tests;
