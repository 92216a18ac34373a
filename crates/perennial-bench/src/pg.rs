//! The benchmark on PostgreSQL (`--database-url postgres://…`): a fresh database on that
//! server for the run (dropped afterwards unless `--keep`), the test data written set-based
//! (`INSERT … SELECT` over `generate_series`), and the raw floors measured beside the app's
//! figures: the enrollment rows inserted again by plain `INSERT … SELECT`, and a plain claim
//! and complete loop (`FOR UPDATE SKIP LOCKED`, 500 rows a statement) with 1…N connections.
//!
//! Bench-only SQL lives here; the app's own SQL stays in `perennial::db`.

use std::time::Instant;

use anyhow::Context;
use chrono::NaiveDate;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel::PgConnection;

use crate::data::{Props, STAGES};
use crate::say;
use perennial::services::demo::{FIRST_NAMES, LAST_NAMES};

/// A database made for this run on the server of `--database-url`.
pub struct PgDb {
    admin: String,
    name: String,
    url: String,
    keep: bool,
}

impl PgDb {
    /// Creates `perennial_bench_<pid>` on the server `admin_url` points at (any database of
    /// that server, usually `postgres`).
    pub fn create(admin_url: &str, keep: bool) -> anyhow::Result<PgDb> {
        let name = format!("perennial_bench_{}", std::process::id());
        let mut conn = PgConnection::establish(admin_url).with_context(|| {
            format!(
                "connecting to the PostgreSQL server at {}",
                perennial::db::redact(admin_url)
            )
        })?;
        // Two calls: a multi-statement string would run as one transaction, which neither
        // statement allows.
        conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .with_context(|| format!("dropping an old database {name}"))?;
        conn.batch_execute(&format!("CREATE DATABASE {name}"))
            .with_context(|| format!("creating database {name}"))?;
        Ok(PgDb {
            admin: admin_url.to_string(),
            url: perennial::db::scratch::with_database(admin_url, &name),
            name,
            keep,
        })
    }

    /// The URL of the bench database.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn connect(&self) -> anyhow::Result<PgConnection> {
        PgConnection::establish(&self.url).context("connecting to the bench database")
    }

    /// Size of the database in MB.
    pub fn size_mb(&self) -> f64 {
        self.connect()
            .ok()
            .and_then(|mut c| query_i64(&mut c, "SELECT pg_database_size(current_database())").ok())
            .map(|b| b as f64 / 1_048_576.0)
            .unwrap_or(f64::NAN)
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        if self.keep {
            say(format!("kept the database {}", self.url));
            return;
        }
        let dropped = PgConnection::establish(&self.admin)
            .map_err(anyhow::Error::from)
            .and_then(|mut c| {
                c.batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ))
                .map_err(anyhow::Error::from)
            });
        if let Err(e) = dropped {
            eprintln!("could not drop the bench database {}: {e}", self.name);
        }
    }
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct NameSql {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    sql: String,
}

/// One bigint from a query whose column is named `n` (or the only column, aliased).
pub fn query_i64(conn: &mut PgConnection, sql: &str) -> anyhow::Result<i64> {
    let wrapped = format!("SELECT COALESCE(({sql}), 0)::bigint AS n");
    Ok(diesel::sql_query(wrapped).get_result::<N>(conn)?.n)
}

/// A text array literal of `items` (no quote in them: the bench's own word lists).
fn array(items: &[&str]) -> String {
    let inner = items
        .iter()
        .map(|s| format!("'{}'", s.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(",");
    format!("ARRAY[{inner}]::text[]")
}

/// Runs `fill` with the table's secondary indexes (those that back no constraint) dropped,
/// then creates them again from their stored definitions.
fn without_indexes(
    conn: &mut PgConnection,
    table: &str,
    fill: impl FnOnce(&mut PgConnection) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let indexes: Vec<NameSql> = diesel::sql_query(format!(
        "SELECT indexname::text AS name, indexdef::text AS sql FROM pg_indexes
         WHERE schemaname = 'public' AND tablename = '{table}'
           AND indexname NOT IN (SELECT conname FROM pg_constraint)"
    ))
    .load(conn)?;
    for i in &indexes {
        conn.batch_execute(&format!("DROP INDEX \"{}\"", i.name))?;
    }
    let filled = fill(conn);
    for i in &indexes {
        conn.batch_execute(&i.sql)?;
    }
    filled
}

/// Contacts `1..=n` with five values each (names, stage, birthday, renewal date), as the
/// SQLite generator writes them (same distributions, PostgreSQL's own random sequence).
pub fn generate_contacts(
    conn: &mut PgConnection,
    n: i64,
    props: Props,
    today: NaiveDate,
) -> anyhow::Result<()> {
    let base = today - chrono::Duration::days(1500);
    conn.batch_execute(&format!(
        "SELECT setseed(0.42);
         CREATE TEMP TABLE gen AS
         SELECT i,
                ({first})[1 + floor(random() * {nf})::int] AS first,
                ({last})[1 + floor(random() * {nl})::int] AS last,
                ({stages})[1 + floor(random() * {ns})::int] AS stage,
                make_date(1950 + floor(random() * 55)::int, 1, 1) + floor(random() * 365)::int AS birthday,
                DATE '{today}' + (floor(random() * 430)::int - 30) AS renewal,
                (DATE '{base}' + (i * 1500 / {n})::int + make_interval(hours => (i % 24)::int, mins => (i % 60)::int))
                    AT TIME ZONE 'UTC' AS created
         FROM generate_series(1::bigint, {n}::bigint) AS i",
        first = array(FIRST_NAMES),
        nf = FIRST_NAMES.len(),
        last = array(LAST_NAMES),
        nl = LAST_NAMES.len(),
        stages = array(STAGES),
        ns = STAGES.len(),
    ))?;
    conn.batch_execute(
        "INSERT INTO contacts (id, email, created_at, updated_at)
         SELECT i, lower(first) || '.' || lower(last) || i || '@example.com', created, created
         FROM gen ORDER BY i;
         SELECT setval(pg_get_serial_sequence('contacts', 'id'), (SELECT MAX(id) FROM contacts));",
    )?;
    without_indexes(conn, "contact_values", |conn| {
        conn.batch_execute(&format!(
            "INSERT INTO contact_values (contact_id, property_id, value, num)
             SELECT i, p, v, NULL FROM gen CROSS JOIN LATERAL (VALUES
                ({f}::bigint, first), ({l}, last), ({s}, stage),
                ({b}, to_char(birthday, 'YYYY-MM-DD')), ({r}, to_char(renewal, 'YYYY-MM-DD'))) AS x(p, v)
             ORDER BY i, p",
            f = props.firstname,
            l = props.lastname,
            s = props.lifecyclestage,
            b = props.birthday,
            r = props.renewal_date,
        ))?;
        Ok(())
    })?;
    // VACUUM cannot run inside the implicit transaction of a multi-statement string.
    conn.batch_execute("DROP TABLE gen")?;
    conn.batch_execute("VACUUM ANALYZE contacts")?;
    conn.batch_execute("VACUUM ANALYZE contact_values")?;
    Ok(())
}

/// `n` history events of `workflow_id` over the past year, newest last, one million rows a
/// statement: the same mix of events and texts as the SQLite generator.
pub fn generate_history(
    conn: &mut PgConnection,
    workflow_id: i64,
    n: i64,
    contacts: i64,
    now_epoch: i64,
) -> anyhow::Result<()> {
    const CHUNK: i64 = 1_000_000;
    let span = 365 * 86_400i64;
    let start = now_epoch - span;
    without_indexes(conn, "history_events", |conn| {
        let mut lo = 1;
        while lo <= n {
            let hi = (lo + CHUNK - 1).min(n);
            conn.batch_execute(&format!(
                "INSERT INTO history_events (workflow_id, enrollment_id, contact_id, at, event, step, detail, revision)
                 SELECT {workflow_id}, i, (i * 7919) % {contacts} + 1,
                    to_timestamp({start} + i * {span} / {n}),
                    CASE i % 100 WHEN 0 THEN 'action_failed' WHEN 1 THEN 'unenrolled' WHEN 2 THEN 'rescheduled'
                         WHEN 3 THEN 'rescheduled' WHEN 4 THEN 'skipped' WHEN 5 THEN 'skipped'
                         ELSE CASE i % 5 WHEN 0 THEN 'enrolled' WHEN 1 THEN 'scheduled' WHEN 2 THEN 'action_executed'
                                         WHEN 3 THEN 'action_executed' ELSE 'completed' END END,
                    CASE WHEN i % 5 IN (1, 2, 3) THEN (i % 3)::text END,
                    CASE i % 5 WHEN 0 THEN 'met the enrollment triggers; anchor 1980-05-17, cycle 2026'
                               WHEN 1 THEN 'send_email due ' || to_char(to_timestamp({start} + i * {span} / {n} + 86400) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T09:00:00+02:00\"')
                               WHEN 4 THEN 'cycle 2026 complete'
                               ELSE 'email “Happy birthday” to contact' || ((i * 7919) % {contacts} + 1) || '@example.com kept in the Outbox' END,
                    1
                 FROM generate_series({lo}::bigint, {hi}::bigint) AS i"
            ))?;
            lo = hi + 1;
        }
        Ok(())
    })?;
    conn.batch_execute("VACUUM ANALYZE history_events;")?;
    Ok(())
}

/// The raw floor of "enroll existing": the rows enrollment wrote for `workflow_id` (its
/// enrollments and their history), copied beforehand into temporary tables, then inserted
/// again for `twin` by two plain `INSERT … SELECT` in one transaction, into the same tables
/// with the same indexes. Returns the seconds of that transaction.
pub fn enroll_floor(conn: &mut PgConnection, workflow_id: i64, twin: i64) -> anyhow::Result<f64> {
    // Untimed: the copies, with the twin's enrollment ids chosen ahead (above every id in use),
    // so the history rows can name them.
    conn.batch_execute(&format!(
        "CREATE TEMP TABLE raw_e AS
           SELECT e.*, e.id - (SELECT MIN(id) FROM enrollments WHERE workflow_id = {workflow_id})
                  + (SELECT MAX(id) FROM enrollments) + 1 AS new_id
           FROM enrollments e WHERE workflow_id = {workflow_id};
         CREATE TEMP TABLE raw_h AS
           SELECT h.*, r.new_id FROM history_events h JOIN raw_e r ON r.id = h.enrollment_id
           WHERE h.workflow_id = {workflow_id};
         ANALYZE raw_e; ANALYZE raw_h;"
    ))?;
    conn.batch_execute("CHECKPOINT")?;
    let t = Instant::now();
    conn.batch_execute(&format!(
        "BEGIN;
         INSERT INTO enrollments (id, workflow_id, contact_id, cycle_year, status, revision, anchor_date, next_step,
                next_due_at, reason, enrolled_at, ended_at)
           SELECT new_id, {twin}, contact_id, cycle_year, status, revision, anchor_date, next_step,
                next_due_at, reason, enrolled_at, ended_at FROM raw_e ORDER BY new_id;
         INSERT INTO history_events (workflow_id, enrollment_id, contact_id, revision, at, event, step, detail)
           SELECT {twin}, new_id, contact_id, revision, at, event, step, detail FROM raw_h ORDER BY id;
         COMMIT;"
    ))?;
    let secs = t.elapsed().as_secs_f64();
    conn.batch_execute(
        "SELECT setval(pg_get_serial_sequence('enrollments', 'id'), (SELECT MAX(id) FROM enrollments));
         DROP TABLE raw_e; DROP TABLE raw_h;",
    )?;
    Ok(secs)
}

/// Rows a raw claim takes at once (as the app's worker: up to 500 due steps a batch).
pub const CLAIM_BATCH: i64 = 500;

/// The raw floor of the worker: `threads` connections, each looping "claim up to 500 due
/// enrollments of `workflow_id` with `FOR UPDATE SKIP LOCKED` and complete them" (one
/// statement, one transaction per batch) until none is left. Returns (rows completed, seconds).
pub fn claim_floor(url: &str, workflow_id: i64, threads: usize) -> anyhow::Result<(i64, f64)> {
    let mut conns = Vec::new();
    for _ in 0..threads.max(1) {
        conns.push(PgConnection::establish(url).context("connecting for the raw claim loop")?);
    }
    let sql = format!(
        "WITH c AS (SELECT id FROM enrollments
                    WHERE status = 'active' AND next_due_at <= now() AND workflow_id = {workflow_id}
                    ORDER BY next_due_at, id LIMIT {CLAIM_BATCH} FOR UPDATE SKIP LOCKED)
         UPDATE enrollments e SET status = 'completed', next_step = NULL, next_due_at = NULL,
                ended_at = now(), last_run_at = now()
         FROM c WHERE e.id = c.id"
    );
    let t = Instant::now();
    let done = std::thread::scope(|s| {
        let handles: Vec<_> = conns
            .into_iter()
            .map(|mut conn| {
                let sql = &sql;
                s.spawn(move || -> anyhow::Result<i64> {
                    let mut total = 0i64;
                    loop {
                        let n = diesel::sql_query(sql.as_str()).execute(&mut conn)? as i64;
                        if n == 0 {
                            return Ok(total);
                        }
                        total += n;
                    }
                })
            })
            .collect();
        let mut sum = 0;
        for h in handles {
            sum += h
                .join()
                .map_err(|_| anyhow::anyhow!("a raw claim thread panicked"))??;
        }
        Ok::<i64, anyhow::Error>(sum)
    })?;
    Ok((done, t.elapsed().as_secs_f64()))
}
