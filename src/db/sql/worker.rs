//! The worker's statements: the claim of due jobs, the batch prefetch, the step-run records
//! that keep actions exactly-once (and external ones never twice), holding back a failed job,
//! an external action's retry, what internal actions write (Outbox, inbox, Tasks), and what the
//! loop reads to know how long to sleep. Moved here from `worker` with the same text and the
//! same query types (so diesel's statement cache keys are unchanged).

use crate::db::prepared::{At, Param};
use crate::db::sql::portable;
use crate::db::types::{DayText, Instant, Ts};
use crate::db::DbConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use crate::db::models::contact::Contact;
use crate::db::models::enrollment::Enrollment;
use crate::db::schema::{
    action_runs, contacts, enrollments, list_members, notifications, outbox, tasks,
};

#[derive(QueryableByName)]
struct NextDue {
    #[diesel(sql_type = Nullable<Instant>)]
    v: Option<String>,
}

#[derive(QueryableByName)]
struct DataVersion {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    data_version: i64,
}

/// The due jobs (active, due by `now_s`, not leased), oldest first, at most `limit`. Read
/// inside the batch's write transaction. On SQLite that transaction already excludes every
/// other writer. On PostgreSQL the rows are locked `FOR UPDATE SKIP LOCKED`: several workers
/// (threads or processes) claim disjoint batches, and a claim lasts exactly as long as the
/// transaction that runs it; a worker that dies mid-batch loses its connection, its
/// transaction rolls back whole, and the rows are free for the next claim.
pub fn claim_due(conn: &mut DbConnection, now_s: &str, limit: i64) -> QueryResult<Vec<Enrollment>> {
    let now = Ts::of(now_s);
    // The same rows on both backends, in due order. The literal status (not a bound value) lets
    // the partial index `enrollments_due` (`WHERE status = 'active'`) serve every plan, generic
    // ones included; it gives the order too (on SQLite its entries end with the rowid, `id`).
    // One statement, kept prepared (on SQLite an earlier form read the ids first, then the
    // rows by a 500-value `IN` list that SQLite prepared afresh every batch).
    macro_rules! due {
        () => {
            enrollments::table
                .filter(enrollments::status.eq(crate::db::queries::StatusActive))
                .filter(enrollments::next_due_at.le(&now))
                .filter(
                    enrollments::lease_until
                        .is_null()
                        .or(enrollments::lease_until.lt(&now)),
                )
                .order((enrollments::next_due_at.asc(), enrollments::id.asc()))
                .limit(limit)
                .select(Enrollment::as_select())
        };
    }
    match conn {
        DbConnection::Postgres(c) => due!().for_update().skip_locked().load(c),
        DbConnection::Sqlite(c) => due!().load(c),
    }
}

/// Whether worker `owner` still holds the lease of enrollment `id` at step `path` (active,
/// pointing there, leased by it). Call inside a write transaction before any write of an
/// external action's run: on PostgreSQL the row is locked until commit, so a worker whose
/// lease ran out (presumed dead, its job taken over) cannot overwrite what the other did.
pub fn holds_lease(conn: &mut DbConnection, id: i64, path: &str, owner: &str) -> QueryResult<bool> {
    let query = enrollments::table
        .filter(enrollments::id.eq(id))
        .filter(enrollments::status.eq(crate::db::queries::StatusActive))
        .filter(enrollments::next_step.eq(path))
        .filter(enrollments::lease_owner.eq(owner))
        .select(enrollments::id);
    let held: Vec<i64> = match conn {
        DbConnection::Postgres(c) => query.for_update().load(c)?,
        DbConnection::Sqlite(c) => query.load(c)?,
    };
    Ok(!held.is_empty())
}

/// A job that failed in its savepoint: leased until `until_s` (retried after that) and its
/// attempts counted.
pub fn hold_back_failed(conn: &mut DbConnection, id: i64, until_s: &str) -> QueryResult<()> {
    diesel::update(enrollments::table.find(id))
        .set((
            enrollments::lease_until.eq(Ts::from(until_s)),
            enrollments::attempts.eq(enrollments::attempts + 1),
        ))
        .execute(conn)?;
    Ok(())
}

/// The contact records of a batch (`ids`: sorted, distinct).
pub fn contacts_of(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<Contact>> {
    contacts::table
        .filter(contacts::id.eq_any(ids))
        .select(Contact::as_select())
        .load(conn)
}

/// `(contact_id, list_id)` for every list membership of these contacts.
pub fn list_memberships_of(
    conn: &mut DbConnection,
    contact_ids: &[i64],
) -> QueryResult<Vec<(i64, i64)>> {
    list_members::table
        .filter(list_members::contact_id.eq_any(contact_ids))
        .select((list_members::contact_id, list_members::list_id))
        .load(conn)
}

/// `(enrollment_id, step, state)` of every recorded step run of these enrollments.
pub fn step_runs_of(
    conn: &mut DbConnection,
    enrollment_ids: &[i64],
) -> QueryResult<Vec<(i64, String, String)>> {
    crate::db::deferred::flush(conn)?;
    match conn {
        // Planned afresh on every call (a `sql_query` is never kept prepared): a prepared
        // statement on PostgreSQL switches to a generic plan after five runs, and one made
        // while `action_runs` was small scans the table and compares every row with all 500
        // ids (measured: 16 ms a batch at 20,000 rows, growing with the table). Once a batch,
        // the planning costs well under a millisecond.
        DbConnection::Postgres(c) => diesel::sql_query(
            "SELECT enrollment_id, step, state FROM action_runs WHERE enrollment_id = ANY($1)",
        )
        .bind::<diesel::sql_types::Array<BigInt>, _>(enrollment_ids)
        .load::<StepRunRow>(c)
        .map(|rows| {
            rows.into_iter()
                .map(|r| (r.enrollment_id, r.step, r.state))
                .collect()
        }),
        DbConnection::Sqlite(_) => action_runs::table
            .filter(action_runs::enrollment_id.eq_any(enrollment_ids))
            .select((
                action_runs::enrollment_id,
                action_runs::step,
                action_runs::state,
            ))
            .load(conn),
    }
}

#[derive(QueryableByName)]
struct SentRow {
    #[diesel(sql_type = Nullable<BigInt>)]
    contact_id: Option<i64>,
    #[diesel(sql_type = Instant)]
    created_at: String,
}

#[derive(QueryableByName)]
struct StepRunRow {
    #[diesel(sql_type = BigInt)]
    enrollment_id: i64,
    #[diesel(sql_type = Text)]
    step: String,
    #[diesel(sql_type = Text)]
    state: String,
}

/// Whether this step already ran (recorded as done) for this enrollment.
pub fn step_done(conn: &mut DbConnection, enrollment: i64, path: &str) -> QueryResult<bool> {
    crate::db::deferred::flush(conn)?;
    // No `.first()`: diesel binds its LIMIT, and SQLite re-prepares a statement whose bound
    // LIMIT is rebound — a primary-key lookup needs no LIMIT and stays in the statement cache.
    let state: Vec<String> = action_runs::table
        .filter(action_runs::enrollment_id.eq(enrollment))
        .filter(action_runs::step.eq(path))
        .select(action_runs::state)
        .load(conn)?;
    Ok(state.iter().any(|s| s == "done"))
}

/// Records a step's run as done at `now_s`: updates its record, else inserts one.
pub fn mark_step_done(
    conn: &mut DbConnection,
    enrollment: i64,
    path: &str,
    result: &str,
    now_s: &str,
) -> QueryResult<()> {
    crate::db::deferred::flush(conn)?;
    // Update, else insert: not `REPLACE`, which SQLite treats as a possible multi-row write
    // and journals page by page inside the batch transaction.
    let updated = crate::fixed_sql!(
        "UPDATE action_runs SET state = 'done', result = ?, finished_at = ?
         WHERE enrollment_id = ? AND step = ?",
        [result, At::some(now_s), enrollment, path],
    )
    .execute(conn)?;
    if updated == 0 {
        insert_step_done(conn, enrollment, path, result, now_s)?;
    }
    Ok(())
}

/// Records a step's first run as done at `now_s` (the caller knows it has no record yet).
/// Inside a worker batch the record is held and written with the batch (`db::deferred`).
pub fn insert_step_done(
    conn: &mut DbConnection,
    enrollment: i64,
    path: &str,
    result: &str,
    now_s: &str,
) -> QueryResult<()> {
    let row = crate::db::deferred::StepDone {
        enrollment_id: enrollment,
        step: path.to_string(),
        result: result.to_string(),
        at: now_s.to_string(),
    };
    match crate::db::deferred::hold_step_done(row) {
        Some(row) => write_step_done(conn, &row),
        None => Ok(()),
    }
}

/// Writes a step's first run now.
pub(crate) fn write_step_done(
    conn: &mut DbConnection,
    s: &crate::db::deferred::StepDone,
) -> QueryResult<()> {
    crate::fixed_sql!(
        "INSERT INTO action_runs (enrollment_id, step, state, result, started_at, finished_at)
         VALUES (?, ?, 'done', ?, ?, ?)",
        step_done_params(s),
    )
    .execute(conn)?;
    Ok(())
}

/// A done step's values in the column order of the insert above (and of `db::deferred`'s).
pub(crate) fn step_done_params(s: &crate::db::deferred::StepDone) -> [Param<'_>; 5] {
    [
        s.enrollment_id.into(),
        s.step.as_str().into(),
        s.result.as_str().into(),
        At::some(s.at.as_str()).into(),
        At::some(s.at.as_str()).into(),
    ]
}

/// The state of a step's run record (`done`, `started`, …), if it has one.
pub fn step_run_state(
    conn: &mut DbConnection,
    enrollment: i64,
    path: &str,
) -> QueryResult<Option<String>> {
    crate::db::deferred::flush(conn)?;
    action_runs::table
        .find((enrollment, path))
        .select(action_runs::state)
        .first(conn)
        .optional()
}

/// The durable "started" record of an external action, written before it is sent.
pub fn start_step_run(
    conn: &mut DbConnection,
    enrollment: i64,
    path: &str,
    now_s: &str,
) -> QueryResult<()> {
    crate::db::deferred::flush(conn)?;
    diesel::insert_into(action_runs::table)
        .values((
            action_runs::enrollment_id.eq(enrollment),
            action_runs::step.eq(path),
            action_runs::state.eq("started"),
            action_runs::started_at.eq(Ts::from(now_s)),
        ))
        .execute(conn)?;
    Ok(())
}

/// A failed external action to be tried again: its "started" record is removed, and the
/// enrollment is due again at `retry_at_s`, unleased, with `attempts` counted.
pub fn retry_step_later(
    conn: &mut DbConnection,
    enrollment: i64,
    path: &str,
    attempts: i32,
    retry_at_s: &str,
) -> QueryResult<()> {
    crate::db::deferred::flush(conn)?;
    diesel::delete(action_runs::table.find((enrollment, path))).execute(conn)?;
    diesel::update(enrollments::table.find(enrollment))
        .set((
            enrollments::attempts.eq(attempts),
            enrollments::next_due_at.eq(Ts::from(retry_at_s)),
            enrollments::lease_until.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// An email kept in the Outbox (no SMTP configured).
pub struct KeptEmail<'a> {
    pub workflow_id: i64,
    pub enrollment_id: i64,
    pub contact_id: i64,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub created_at: &'a str,
}

/// Inside a worker batch the email is held and written with the batch (`db::deferred`).
pub fn keep_email(conn: &mut DbConnection, m: &KeptEmail<'_>) -> QueryResult<()> {
    let row = crate::db::deferred::OutboxRow {
        workflow_id: m.workflow_id,
        enrollment_id: m.enrollment_id,
        contact_id: m.contact_id,
        recipient: m.recipient.to_string(),
        subject: m.subject.to_string(),
        body: m.body.to_string(),
        created_at: m.created_at.to_string(),
    };
    match crate::db::deferred::hold_email(row) {
        Some(row) => write_email(conn, &row),
        None => Ok(()),
    }
}

/// Keeps an email in the Outbox now.
pub(crate) fn write_email(
    conn: &mut DbConnection,
    m: &crate::db::deferred::OutboxRow,
) -> QueryResult<()> {
    crate::fixed_sql!(
        "INSERT INTO outbox
            (workflow_id, enrollment_id, contact_id, recipient, subject, body, delivery, created_at)
         VALUES (?, ?, ?, ?, ?, ?, 'kept', ?)",
        email_params(m),
    )
    .execute(conn)?;
    Ok(())
}

/// A kept email's values in the column order of the insert above (and of `db::deferred`'s).
pub(crate) fn email_params(m: &crate::db::deferred::OutboxRow) -> [Param<'_>; 7] {
    [
        m.workflow_id.into(),
        m.enrollment_id.into(),
        m.contact_id.into(),
        m.recipient.as_str().into(),
        m.subject.as_str().into(),
        m.body.as_str().into(),
        At::some(m.created_at.as_str()).into(),
    ]
}

/// A notification in the inbox, about a workflow and one of its contacts.
pub fn add_notification(
    conn: &mut DbConnection,
    workflow_id: i64,
    contact_id: i64,
    message: &str,
    created_at: &str,
) -> QueryResult<()> {
    diesel::insert_into(notifications::table)
        .values((
            notifications::workflow_id.eq(Some(workflow_id)),
            notifications::contact_id.eq(Some(contact_id)),
            notifications::message.eq(message),
            notifications::created_at.eq(Ts::from(created_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// A task on the Tasks page, from a workflow for one of its contacts.
pub fn add_task(
    conn: &mut DbConnection,
    workflow_id: i64,
    contact_id: i64,
    title: &str,
    notes: &str,
    due_date: Option<&str>,
    created_at: &str,
) -> QueryResult<()> {
    diesel::insert_into(tasks::table)
        .values((
            tasks::workflow_id.eq(Some(workflow_id)),
            tasks::contact_id.eq(Some(contact_id)),
            tasks::title.eq(title),
            tasks::notes.eq(notes),
            tasks::due_date.eq(due_date.map(DayText::from)),
            tasks::created_at.eq(Ts::from(created_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// When the emails to a contact since `since` went out (every workflow; kept in the Outbox or
/// sent over SMTP): what email pacing counts.
pub fn emails_sent_to(
    conn: &mut DbConnection,
    contact_id: i64,
    since: &str,
) -> QueryResult<Vec<String>> {
    crate::db::deferred::flush(conn)?;
    outbox::table
        .filter(outbox::contact_id.eq(contact_id))
        .filter(outbox::created_at.ge(Ts::of(since)))
        .select(outbox::created_at)
        .load(conn)
}

/// The Outbox times of these contacts' emails since `since` (email pacing, for a whole batch).
pub fn emails_sent_to_many(
    conn: &mut DbConnection,
    contact_ids: &[i64],
    since: &str,
) -> QueryResult<Vec<(i64, String)>> {
    crate::db::deferred::flush(conn)?;
    if let DbConnection::Postgres(c) = conn {
        // Planned afresh each batch, as `step_runs_of` says why.
        return diesel::sql_query(
            "SELECT contact_id, created_at FROM outbox
              WHERE contact_id = ANY($1) AND created_at >= $2",
        )
        .bind::<diesel::sql_types::Array<BigInt>, _>(contact_ids)
        .bind::<Instant, _>(since)
        .load::<SentRow>(c)
        .map(|rows| {
            rows.into_iter()
                .filter_map(|r| r.contact_id.map(|id| (id, r.created_at)))
                .collect()
        });
    }
    let rows: Vec<(Option<i64>, String)> = outbox::table
        .filter(outbox::contact_id.eq_any(contact_ids))
        .filter(outbox::created_at.ge(Ts::of(since)))
        .select((outbox::contact_id, outbox::created_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(c, at)| c.map(|c| (c, at)))
        .collect())
}

/// The earliest due time of an active job that is not leased at `now_s`, if any.
pub fn earliest_unleased_due(conn: &mut DbConnection, now_s: &str) -> QueryResult<Option<String>> {
    let row: NextDue = diesel::sql_query(portable::sql(
        conn,
        "SELECT MIN(next_due_at) AS v FROM enrollments WHERE status = 'active' AND next_due_at IS NOT NULL
           AND (lease_until IS NULL OR lease_until < ?1)",
    ))
    .bind::<Instant, _>(now_s.to_string())
    .get_result(conn)?;
    Ok(row.v)
}

/// The earliest end of a lease still held at `now_s` on an active job, if any.
pub fn earliest_lease_end(conn: &mut DbConnection, now_s: &str) -> QueryResult<Option<String>> {
    let leased: NextDue = diesel::sql_query(portable::sql(
        conn,
        "SELECT MIN(lease_until) AS v FROM enrollments WHERE status = 'active' AND lease_until >= ?1",
    ))
    .bind::<Instant, _>(now_s.to_string())
    .get_result(conn)?;
    Ok(leased.v)
}

/// SQLite's data version of this connection's database (`PRAGMA data_version`): it changes
/// when another connection commits. `None` on PostgreSQL, whose workers hear of new work by
/// `LISTEN` instead.
pub fn data_version(conn: &mut DbConnection) -> QueryResult<Option<i64>> {
    match conn {
        DbConnection::Sqlite(c) => diesel::sql_query("PRAGMA data_version")
            .get_result::<DataVersion>(c)
            .map(|v| Some(v.data_version)),
        DbConnection::Postgres(_) => Ok(None),
    }
}
