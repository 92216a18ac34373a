//! Due-time latency under load: actions fall due continuously over a short window while the
//! real worker thread runs; each one's lateness is measured twice — when the worker executed
//! it (its recorded run time) and when its commit became visible to another connection (a
//! poller watching the history every few milliseconds), which also counts the commit.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::worker::{enroll_due, tagging_workflow};
use crate::{percentile, say, BenchArgs, Report};
use perennial::clock::parse_instant;
use perennial::db::DbPool;
use perennial::worker::WorkerConfig;

#[derive(QueryableByName)]
struct IdText {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    t: String,
}

#[derive(QueryableByName)]
struct IdPair {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    enrollment_id: i64,
}

pub fn run(pool: &DbPool, args: &BenchArgs, report: &mut Report) -> anyhow::Result<()> {
    let n = args.latency_actions.min(args.contacts);
    let window = args.latency_window_secs;
    let mut conn = pool.get()?;
    let wf = tagging_workflow(&mut conn, "On time", "on time")?;
    let handle = perennial::worker::spawn(pool.clone(), WorkerConfig::default());
    // Let the worker start (its first round and the periodic trigger check) before the window.
    std::thread::sleep(Duration::from_millis(300));
    let first_due = Utc::now() + chrono::Duration::milliseconds(1000);
    let start_s = first_due.timestamp_millis() as f64 / 1000.0;
    let pg = pool.backend() == perennial::db::Backend::Postgres;
    let due_sql = if pg {
        format!("to_timestamp({start_s:.3} + (id - 1) * {window:.6} / {n})")
    } else {
        format!(
            "strftime('%Y-%m-%dT%H:%M:%fZ', {start_s:.3} + (id - 1) * {window:.6} / {n}, 'unixepoch')"
        )
    };
    // An instant column as RFC 3339 text (PostgreSQL stores `timestamptz`).
    let text = |col: &str| {
        if pg {
            format!("to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
        } else {
            col.to_string()
        }
    };
    perennial::db::write_transaction::<_, anyhow::Error, _>(&mut conn, |conn| {
        enroll_due(conn, wf, n, &due_sql)
    })?;
    pool.notifier().notify();
    say(format!(
        "latency: {n} actions due over {window} s while the worker runs…"
    ));
    let dues: HashMap<i64, DateTime<Utc>> = diesel::sql_query(format!(
        "SELECT id, {} AS t FROM enrollments WHERE workflow_id = {wf}",
        text("next_due_at")
    ))
    .load::<IdText>(&mut conn)?
    .into_iter()
    .filter_map(|r| parse_instant(&r.t).map(|t| (r.id, t)))
    .collect();

    // Watch the commits: the history's action_executed rows of this workflow, in id order.
    let mut seen: HashMap<i64, DateTime<Utc>> = HashMap::with_capacity(n as usize);
    let mut last = 0i64;
    let deadline = Instant::now() + Duration::from_secs_f64(window + 120.0);
    while (seen.len() as i64) < n && Instant::now() < deadline {
        let rows = diesel::sql_query(format!(
            "SELECT id, enrollment_id FROM history_events
             WHERE workflow_id = {wf} AND event = 'action_executed' AND id > {last} ORDER BY id"
        ))
        .load::<IdPair>(&mut conn)?;
        let at = Utc::now();
        for r in rows {
            last = last.max(r.id);
            seen.entry(r.enrollment_id).or_insert(at);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    handle.stop();
    anyhow::ensure!(
        seen.len() as i64 == n,
        "only {} of {n} actions ran within the time limit",
        seen.len()
    );
    let executed: Vec<IdText> = diesel::sql_query(format!(
        "SELECT r.enrollment_id AS id, {} AS t FROM action_runs r JOIN enrollments e ON e.id = r.enrollment_id
         WHERE e.workflow_id = {wf}",
        text("r.finished_at")
    ))
    .load(&mut conn)?;
    let ms = |d: chrono::Duration| d.num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0;
    let visible: Vec<f64> = seen
        .iter()
        .filter_map(|(id, at)| dues.get(id).map(|due| ms(*at - *due).max(0.0)))
        .collect();
    let exec: Vec<f64> = executed
        .iter()
        .filter_map(|r| Some(ms(parse_instant(&r.t)? - *dues.get(&r.id)?).max(0.0)))
        .collect();
    let (p50, p99, max) = (
        percentile(&visible, 50.0),
        percentile(&visible, 99.0),
        percentile(&visible, 100.0),
    );
    let exec_p99 = percentile(&exec, 99.0);
    say(format!("latency: p50 {p50:.0} ms, p99 {p99:.0} ms, max {max:.0} ms (executed p99 {exec_p99:.0} ms)"));
    report.figure("due_latency_ms_p99", p99);
    report.figure("due_latency_ms_p50", p50);
    report.figure("due_latency_ms_max", max);
    report.figure("due_latency_exec_ms_p99", exec_p99);
    report.figure("due_latency_actions_per_s", n as f64 / window);
    report.row(
        &format!(
            "due latency, {n} actions over {window} s ({:.0}/s), p99",
            n as f64 / window
        ),
        format!("{p99:.0} ms"),
        "< 1000 ms",
    );
    report.row(
        "  p50 / max (due → commit visible)",
        format!("{p50:.0} / {max:.0} ms"),
        "",
    );
    report.row(
        "  p99 due → executed (recorded run time)",
        format!("{exec_p99:.0} ms"),
        "",
    );
    Ok(())
}
