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
    measure(pool, args, "due_latency", "", report)
}

/// The same measurement while `--api-clients` clients send single upserts through the API the
/// whole time (stage `latency-api`; issue 16 item 5: due → run p99 < 50 ms while a 50-client
/// API load runs). The API's workflows are those earlier stages left on: run it after `api`
/// for its 51.
pub fn run_under_api_load(
    pool: &DbPool,
    server: &crate::api::Server,
    args: &BenchArgs,
    report: &mut Report,
) -> anyhow::Result<()> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let mut conn = pool.get()?;
    let emails = Arc::new(crate::api::existing_emails(&mut conn, args.contacts)?);
    drop(conn);
    let stop = Arc::new(AtomicBool::new(false));
    let load = std::thread::scope(|s| -> anyhow::Result<crate::api::Load> {
        let sender = s.spawn(|| -> anyhow::Result<crate::api::Load> {
            let mut load = crate::api::Load::default();
            let mut round = 0;
            while !stop.load(Ordering::Relaxed) {
                let n = args.api_clients * 10;
                load.add(crate::api::send(
                    server,
                    args,
                    &emails,
                    n,
                    &format!("lat{round}"),
                )?);
                round += 1;
            }
            Ok(load)
        });
        // The load runs before the window opens and until it has closed.
        std::thread::sleep(Duration::from_millis(500));
        let measured = measure(
            pool,
            args,
            "due_latency_under_api",
            &format!(", while {} API clients send upserts", args.api_clients),
            report,
        );
        stop.store(true, Ordering::Relaxed);
        let load = sender
            .join()
            .map_err(|_| anyhow::anyhow!("the API load panicked"))??;
        measured?;
        Ok(load)
    })?;
    let per_s = load.per_s();
    let p99 = percentile(&load.latencies, 99.0);
    say(format!(
        "latency-api: the API load meanwhile: {per_s:.0} upserts/s, p99 {p99:.0} ms"
    ));
    report.figure("due_latency_under_api_upserts_per_s", per_s);
    report.figure("due_latency_under_api_upserts_ms_p99", p99);
    report.row(
        "  the API load meanwhile: upserts/s, request p99",
        format!("{per_s:.0}/s, {p99:.0} ms"),
        "",
    );
    Ok(())
}

/// Due latency with the figures named `{name}_ms_p99` and so on, the table's rows told by
/// `context`.
fn measure(
    pool: &DbPool,
    args: &BenchArgs,
    name: &str,
    context: &str,
    report: &mut Report,
) -> anyhow::Result<()> {
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
    report.figure(&format!("{name}_ms_p99"), p99);
    report.figure(&format!("{name}_ms_p50"), p50);
    report.figure(&format!("{name}_ms_max"), max);
    report.figure(&format!("{name}_exec_ms_p99"), exec_p99);
    report.figure(&format!("{name}_actions_per_s"), n as f64 / window);
    report.row(
        &format!(
            "due latency, {n} actions over {window} s ({:.0}/s){context}, p99",
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
