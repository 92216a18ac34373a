//! Publish with "Yes, enroll existing" on a birthday workflow with a property filter, timed
//! until every enrollment, its first job and its history are committed; then the raw limit:
//! exactly the rows it wrote, inserted again by the simplest prepared-statement loop.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::Context;
use serde_json::{json, Value};

use crate::sqlite::RawDb;
use crate::worker::count;
use crate::{say, BenchArgs, Report, Target};
use perennial::db::models::WorkflowId;
use perennial::db::DbPool;
use perennial::services::workflows as svc;

pub fn birthday_definition(name: &str) -> Value {
    json!({
        "name": name,
        "start": {"type": "contact_date_property", "property": "birthday"},
        "recur_annually": true,
        "triggers": {"filter_groups": [[{"property": "lifecyclestage", "operator": "neq", "value": "other"}]]},
        "steps": [
            {"type": "date_delay", "when": "before", "amount": 7, "unit": "days", "time_of_day": "09:00"},
            {"type": "create_task", "title": "Birthday next week: {{ contact.firstname }} {{ contact.lastname }}"},
            {"type": "date_delay", "when": "on", "time_of_day": "08:00"},
            {"type": "send_email", "subject": "Happy birthday!", "body": "Hi {{ contact.firstname }}, happy birthday from all of us."}
        ],
        "settings": {"time_zone": "Europe/Oslo"}
    })
}

pub fn run(
    pool: &DbPool,
    target: &Target,
    args: &BenchArgs,
    report: &mut Report,
) -> anyhow::Result<()> {
    let mut conn = pool.get()?;
    let def = birthday_definition("Birthday greetings");
    let wf = svc::create(&mut conn, &def, "bench")
        .map_err(|e| anyhow::anyhow!("creating the workflow: {e:?}"))?;
    let id = WorkflowId(wf.id);

    say("enroll: publishing with \"enroll existing\"…");
    let t = Instant::now();
    let cpu0 = crate::thread_cpu_seconds();
    svc::publish(&mut conn, id, true).map_err(|e| anyhow::anyhow!("publishing: {e:?}"))?;
    let done = perennial::engine::backfill::run(&mut conn, id, chrono::Utc::now())?;
    let enroll_s = t.elapsed().as_secs_f64();
    let enroll_cpu = crate::thread_cpu_seconds() - cpu0;
    let enrolled = done.done;
    say(format!(
        "enroll: {enrolled} enrollments in {enroll_s:.2} s ({enroll_cpu:.2} s CPU)"
    ));
    drop(conn);

    let twin = {
        let mut conn = pool.get()?;
        svc::create(
            &mut conn,
            &birthday_definition("Birthday greetings (raw twin)"),
            "bench",
        )
        .map_err(|e| anyhow::anyhow!("creating the twin workflow: {e:?}"))?
        .id
    };
    let (raw_s, raw_cpu, floor) = match target {
        Target::Sqlite { path, .. } => {
            // The rows enrollment wrote, compactly (repeated texts interned).
            let raw = RawDb::open(path)?;
            let rows = Captured::read(&raw, wf.id)?;
            say(format!(
                "raw: inserting the same {} enrollments and {} history rows with one prepared-statement loop…",
                rows.enrollments.len(),
                rows.history.len()
            ));
            let t = Instant::now();
            let cpu0 = crate::thread_cpu_seconds();
            rows.insert(&raw, twin)?;
            (
                t.elapsed().as_secs_f64(),
                crate::thread_cpu_seconds() - cpu0,
                "one prepared-statement loop",
            )
        }
        Target::Postgres(db) => {
            say("raw: inserting the same rows with two INSERT … SELECT in one transaction…");
            let secs = crate::pg::enroll_floor(&mut db.connect()?, wf.id, twin)?;
            (secs, f64::NAN, "INSERT … SELECT in one transaction")
        }
    };
    let mut conn = pool.get()?;
    let mut check = |sql: String| count(&mut conn, &sql);
    let (e1, e2) = (
        check(format!(
            "SELECT COUNT(*) AS n FROM enrollments WHERE workflow_id = {}",
            wf.id
        ))?,
        check(format!(
            "SELECT COUNT(*) AS n FROM enrollments WHERE workflow_id = {twin}"
        ))?,
    );
    let (h1, h2) = (
        check(format!(
            "SELECT COUNT(*) AS n FROM history_events WHERE workflow_id = {}",
            wf.id
        ))?,
        check(format!(
            "SELECT COUNT(*) AS n FROM history_events WHERE workflow_id = {twin}"
        ))?,
    );
    drop(conn);
    anyhow::ensure!(
        e1 == e2 && h1 == h2,
        "raw insert wrote {e2}/{h2} rows, enrollment {e1}/{h1}"
    );
    anyhow::ensure!(e1 == enrolled, "{enrolled} reported, {e1} enrollment rows");
    say(format!(
        "raw: {raw_s:.2} s ({raw_cpu:.2} s CPU of this process)"
    ));
    report.figure("enroll_cpu_seconds", enroll_cpu);
    if raw_cpu.is_finite() {
        // On PostgreSQL the floor's work is the server's: no CPU time of this process to show.
        report.figure("raw_insert_cpu_seconds", raw_cpu);
    }

    let per_s = enrolled as f64 / enroll_s;
    let ratio = enroll_s / raw_s;
    report.figure("enroll_seconds", enroll_s);
    report.figure("enroll_contacts_per_s", per_s);
    report.figure("enrolled", enrolled as f64);
    report.figure("enroll_history_rows", h1 as f64);
    report.figure("raw_insert_seconds", raw_s);
    report.figure("enroll_vs_raw", ratio);
    let scaled_target = format!("< {:.1} s", 10.0 * args.contacts as f64 / 1e6);
    report.row(
        &format!("enroll existing: {enrolled} enrollments (+{h1} history rows)"),
        format!("{enroll_s:.2} s"),
        &format!("{scaled_target} (10 s per million)"),
    );
    report.row(
        "  enrollments per second",
        format!("{per_s:.0}"),
        "> 100000",
    );
    report.row(
        &format!("  raw limit: same rows, {floor}"),
        format!("{raw_s:.2} s"),
        "",
    );
    report.row(
        "  enroll / raw",
        format!("{ratio:.2}x"),
        if matches!(target, Target::Postgres(_)) {
            "<= 1.5x (issue 15)"
        } else {
            "< 3x"
        },
    );
    Ok(())
}

const NONE: u32 = u32::MAX;

#[derive(Default)]
struct Interner {
    ids: HashMap<String, u32>,
    texts: Vec<String>,
}

impl Interner {
    fn put(&mut self, s: Option<&str>) -> u32 {
        let Some(s) = s else { return NONE };
        if let Some(i) = self.ids.get(s) {
            return *i;
        }
        let i = self.texts.len() as u32;
        self.texts.push(s.to_string());
        self.ids.insert(s.to_string(), i);
        i
    }

    fn get(&self, i: u32) -> Option<&str> {
        (i != NONE).then(|| self.texts[i as usize].as_str())
    }
}

struct EnrollmentRow {
    contact_id: i64,
    cycle_year: i64,
    revision: i64,
    texts: [u32; 7],
}

struct HistoryRow {
    enrollment: u32,
    contact_id: i64,
    revision: i64,
    texts: [u32; 4],
}

struct Captured {
    strings: Interner,
    enrollments: Vec<EnrollmentRow>,
    history: Vec<HistoryRow>,
}

impl Captured {
    fn read(db: &RawDb, workflow_id: i64) -> anyhow::Result<Captured> {
        let mut strings = Interner::default();
        let mut enrollments = Vec::new();
        let mut index = HashMap::new();
        let mut s = db.prepare(&format!(
            "SELECT id, contact_id, cycle_year, revision, status, anchor_date, next_step, next_due_at, reason, enrolled_at, ended_at
             FROM enrollments WHERE workflow_id = {workflow_id} ORDER BY id"
        ))?;
        while s.step()? {
            index.insert(s.column_i64(0), enrollments.len() as u32);
            let mut texts = [NONE; 7];
            for (k, t) in texts.iter_mut().enumerate() {
                *t = strings.put(s.column_text(4 + k as i32));
            }
            enrollments.push(EnrollmentRow {
                contact_id: s.column_i64(1),
                cycle_year: s.column_i64(2),
                revision: s.column_i64(3),
                texts,
            });
        }
        drop(s);
        let mut history = Vec::new();
        let mut s = db.prepare(&format!(
            "SELECT enrollment_id, contact_id, revision, at, event, step, detail
             FROM history_events WHERE workflow_id = {workflow_id} ORDER BY id"
        ))?;
        while s.step()? {
            let e = *index
                .get(&s.column_i64(0))
                .context("a history row of an unknown enrollment")?;
            let mut texts = [NONE; 4];
            for (k, t) in texts.iter_mut().enumerate() {
                *t = strings.put(s.column_text(3 + k as i32));
            }
            history.push(HistoryRow {
                enrollment: e,
                contact_id: s.column_i64(1),
                revision: s.column_i64(2),
                texts,
            });
        }
        drop(s);
        // Each enrollment's events in their original order, after it.
        history.sort_by_key(|h| h.enrollment);
        Ok(Captured {
            strings,
            enrollments,
            history,
        })
    }

    /// The simplest loop: one transaction, two prepared statements, one row per step.
    fn insert(&self, db: &RawDb, workflow_id: i64) -> anyhow::Result<()> {
        db.exec("BEGIN IMMEDIATE")?;
        let mut ins_e = db.prepare(
            "INSERT INTO enrollments (workflow_id, contact_id, cycle_year, revision, status, anchor_date, next_step,
                next_due_at, reason, enrolled_at, ended_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?;
        let mut ins_h = db.prepare(
            "INSERT INTO history_events (workflow_id, enrollment_id, contact_id, revision, at, event, step, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        ins_e.bind_i64(1, workflow_id)?;
        ins_h.bind_i64(1, workflow_id)?;
        let mut h = 0;
        for (i, e) in self.enrollments.iter().enumerate() {
            ins_e.bind_i64(2, e.contact_id)?;
            ins_e.bind_i64(3, e.cycle_year)?;
            ins_e.bind_i64(4, e.revision)?;
            for (k, t) in e.texts.iter().enumerate() {
                ins_e.bind_opt_text(5 + k as i32, self.strings.get(*t))?;
            }
            ins_e.execute()?;
            let eid = db.last_insert_rowid();
            while h < self.history.len() && self.history[h].enrollment as usize == i {
                let row = &self.history[h];
                ins_h.bind_i64(2, eid)?;
                ins_h.bind_i64(3, row.contact_id)?;
                ins_h.bind_i64(4, row.revision)?;
                for (k, t) in row.texts.iter().enumerate() {
                    ins_h.bind_opt_text(5 + k as i32, self.strings.get(*t))?;
                }
                ins_h.execute()?;
                h += 1;
            }
        }
        drop(ins_e);
        drop(ins_h);
        db.exec("COMMIT")?;
        Ok(())
    }
}
