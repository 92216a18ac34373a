//! Test data at scale, written set-based or with prepared statements in big transactions:
//! contacts with realistic names, emails, birthdays, renewal dates and lifecycle stages, and
//! a workflow history of millions of events.

use chrono::{Datelike, Duration, NaiveDate};
use perennial::db::DbConnection;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::sqlite::RawDb;
use perennial::db::models::property::Property;
use perennial::services::demo::{ensure_property, FIRST_NAMES, LAST_NAMES};

/// Lifecycle stages as a CRM export has them (no "other": every contact has a real stage).
pub const STAGES: &[&str] = &[
    "subscriber",
    "lead",
    "opportunity",
    "customer",
    "customer",
    "evangelist",
];

/// Runs `fill` with the table's secondary indexes dropped, then creates them again from their
/// own stored SQL (bulk loading then sorting once is far faster than millions of random
/// index inserts; the schema is unchanged afterwards).
fn without_indexes(
    db: &RawDb,
    table: &str,
    fill: impl FnOnce() -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut indexes = Vec::new();
    {
        let mut s = db.prepare(&format!(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = '{table}' AND sql IS NOT NULL"
        ))?;
        while s.step()? {
            if let (Some(name), Some(sql)) = (s.column_text(0), s.column_text(1)) {
                indexes.push((name.to_string(), sql.to_string()));
            }
        }
    }
    for (name, _) in &indexes {
        db.exec(&format!("DROP INDEX \"{name}\""))?;
    }
    let filled = fill();
    for (_, sql) in &indexes {
        db.exec(sql)?;
    }
    filled
}

/// Rows per transaction when generating.
const GEN_BATCH: i64 = 100_000;

/// Property ids the generator writes.
#[derive(Debug, Clone, Copy)]
pub struct Props {
    pub firstname: i64,
    pub lastname: i64,
    pub lifecyclestage: i64,
    pub birthday: i64,
    pub renewal_date: i64,
    pub bench_status: i64,
}

/// The custom properties the benchmark uses (date pickers for the anchors, a text property
/// the worker's actions set).
pub fn ensure_properties(conn: &mut DbConnection) -> anyhow::Result<Props> {
    ensure_property(conn, "birthday", "Birthday", "date")?;
    ensure_property(conn, "renewal_date", "Renewal date", "date")?;
    ensure_property(conn, "bench_status", "Benchmark status", "text")?;
    let id = |conn: &mut DbConnection, name: &str| -> anyhow::Result<i64> {
        Ok(Property::find_by_name(conn, name)?
            .ok_or_else(|| anyhow::anyhow!("property {name} missing"))?
            .id)
    };
    Ok(Props {
        firstname: id(conn, "firstname")?,
        lastname: id(conn, "lastname")?,
        lifecyclestage: id(conn, "lifecyclestage")?,
        birthday: id(conn, "birthday")?,
        renewal_date: id(conn, "renewal_date")?,
        bench_status: id(conn, "bench_status")?,
    })
}

/// The email of generated contact number `i` (1-based), as the generator wrote it.
pub fn email_of(first: &str, last: &str, i: i64) -> String {
    format!(
        "{}.{}{i}@example.com",
        first.to_ascii_lowercase(),
        last.to_ascii_lowercase()
    )
}

/// Inserts contacts `1..=n` with five values each, 100,000 per transaction.
pub fn generate_contacts(db: &RawDb, n: i64, props: Props, today: NaiveDate) -> anyhow::Result<()> {
    without_indexes(db, "contact_values", || contacts_rows(db, n, props, today))
}

fn contacts_rows(db: &RawDb, n: i64, props: Props, today: NaiveDate) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(1_000_003);
    let mut contact = db.prepare(
        "INSERT INTO contacts (id, email, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
    )?;
    let mut value = db.prepare("INSERT INTO contact_values (contact_id, property_id, value, num) VALUES (?1, ?2, ?3, NULL)")?;
    let base = today - Duration::days(1500);
    let mut date = String::with_capacity(10);
    let mut created = String::with_capacity(24);
    let mut i = 1;
    while i <= n {
        let end = (i + GEN_BATCH - 1).min(n);
        db.exec("BEGIN IMMEDIATE")?;
        for id in i..=end {
            let first = FIRST_NAMES[rng.gen_range(0..FIRST_NAMES.len())];
            let last = LAST_NAMES[rng.gen_range(0..LAST_NAMES.len())];
            let stage = STAGES[rng.gen_range(0..STAGES.len())];
            let birthday = NaiveDate::from_ymd_opt(1950 + rng.gen_range(0..55), 1, 1)
                .unwrap_or(today)
                + Duration::days(rng.gen_range(0..365));
            let renewal = today + Duration::days(rng.gen_range(-30..400));
            // Created over the last four years, in id order (as an import would have them).
            let created_day = base + Duration::days(id * 1500 / n.max(1));
            created.clear();
            use std::fmt::Write;
            let _ = write!(
                created,
                "{}T{:02}:{:02}:00.000Z",
                created_day.format("%Y-%m-%d"),
                id % 24,
                id % 60
            );
            contact.bind_i64(1, id)?;
            contact.bind_text(2, &email_of(first, last, id))?;
            contact.bind_text(3, &created)?;
            contact.execute()?;
            value.bind_i64(1, id)?;
            for (pid, v) in [
                (props.firstname, first),
                (props.lastname, last),
                (props.lifecyclestage, stage),
            ] {
                value.bind_i64(2, pid)?;
                value.bind_text(3, v)?;
                value.execute()?;
            }
            for (pid, d) in [(props.birthday, birthday), (props.renewal_date, renewal)] {
                date.clear();
                let _ = write!(date, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day());
                value.bind_i64(2, pid)?;
                value.bind_text(3, &date)?;
                value.execute()?;
            }
        }
        db.exec("COMMIT")?;
        i = end + 1;
    }
    Ok(())
}

/// `n` history events of workflow `workflow_id` over the past year, newest last, set-based
/// (`INSERT … SELECT` from a counting CTE), one million per transaction. The mix of event types
/// is what a busy date workflow produces; contacts are spread over `contacts`.
pub fn generate_history(
    db: &RawDb,
    workflow_id: i64,
    n: i64,
    contacts: i64,
    now_epoch: i64,
) -> anyhow::Result<()> {
    const CHUNK: i64 = 1_000_000;
    let span = 365 * 86_400i64;
    let mut lo = 1;
    while lo <= n {
        let hi = (lo + CHUNK - 1).min(n);
        db.exec("BEGIN IMMEDIATE")?;
        let sql = format!(
            "WITH RECURSIVE s(i) AS (SELECT {lo} UNION ALL SELECT i + 1 FROM s WHERE i < {hi})
             INSERT INTO history_events (workflow_id, enrollment_id, contact_id, at, event, step, detail, revision)
             SELECT {workflow_id}, i, (i * 7919) % {contacts} + 1,
                strftime('%Y-%m-%dT%H:%M:%S.000Z', {start} + i * {span} / {n}, 'unixepoch'),
                CASE i % 100 WHEN 0 THEN 'action_failed' WHEN 1 THEN 'unenrolled' WHEN 2 THEN 'rescheduled'
                     WHEN 3 THEN 'rescheduled' WHEN 4 THEN 'skipped' WHEN 5 THEN 'skipped'
                     ELSE CASE i % 5 WHEN 0 THEN 'enrolled' WHEN 1 THEN 'scheduled' WHEN 2 THEN 'action_executed'
                                     WHEN 3 THEN 'action_executed' ELSE 'completed' END END,
                CASE WHEN i % 5 IN (1, 2, 3) THEN CAST(i % 3 AS TEXT) END,
                CASE i % 5 WHEN 0 THEN 'met the enrollment triggers; anchor 1980-05-17, cycle 2026'
                           WHEN 1 THEN 'send_email due ' || strftime('%Y-%m-%dT09:00:00+02:00', {start} + i * {span} / {n} + 86400, 'unixepoch')
                           WHEN 4 THEN 'cycle 2026 complete'
                           ELSE 'email “Happy birthday” to contact' || ((i * 7919) % {contacts} + 1) || '@example.com kept in the Outbox' END,
                1
             FROM s",
            start = now_epoch - span,
        );
        db.exec(&sql)?;
        db.exec("COMMIT")?;
        lo = hi + 1;
    }
    Ok(())
}
