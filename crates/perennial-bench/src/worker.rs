//! Worker throughput: N due set-property actions executed by the worker's own round
//! (`worker::execute::run_due`, claim → execute → history → advance, committed per batch).

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde_json::json;

use crate::{say, BenchArgs, Report};
use perennial::clock::fmt_instant;
use perennial::db::models::WorkflowId;
use perennial::db::{DbConnection, DbPool};
use perennial::services::workflows as svc;
use perennial::worker::WorkerConfig;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

pub fn count(conn: &mut DbConnection, sql: &str) -> anyhow::Result<i64> {
    Ok(diesel::sql_query(sql).get_result::<Count>(conn)?.n)
}

/// A manual-only workflow with one action: set `bench_status`.
pub fn tagging_workflow(conn: &mut DbConnection, name: &str, value: &str) -> anyhow::Result<i64> {
    let def = json!({
        "name": name,
        "start": {"type": "blank"},
        "triggers": {"filter_groups": []},
        "steps": [{"type": "set_property", "property": "bench_status", "value": value}],
        "settings": {"time_zone": "Europe/Oslo"}
    });
    let wf =
        svc::create(conn, &def, "bench").map_err(|e| anyhow::anyhow!("creating {name}: {e:?}"))?;
    svc::publish(conn, WorkflowId(wf.id), false)
        .map_err(|e| anyhow::anyhow!("publishing {name}: {e:?}"))?;
    Ok(wf.id)
}

/// Enrolls contacts `1..=n` in `workflow_id` with their one step due at `due` (set-based).
pub fn enroll_due(
    conn: &mut DbConnection,
    workflow_id: i64,
    n: i64,
    due_sql: &str,
) -> anyhow::Result<()> {
    let now = fmt_instant(chrono::Utc::now());
    diesel::sql_query(format!(
        "INSERT INTO enrollments (workflow_id, contact_id, cycle_year, status, revision, next_step, next_due_at, enrolled_at)
         SELECT {workflow_id}, id, 0, 'active', 1, '0', {due_sql}, '{now}' FROM contacts WHERE id <= {n} ORDER BY id"
    ))
    .execute(conn)?;
    Ok(())
}

pub fn run(pool: &DbPool, args: &BenchArgs, report: &mut Report) -> anyhow::Result<()> {
    let mut conn = pool.get()?;
    // One active enrollment per (workflow, contact): more actions than contacts need more workflows.
    let mut left = args.actions;
    let mut workflows = Vec::new();
    let due = fmt_instant(chrono::Utc::now() - chrono::Duration::seconds(1));
    while left > 0 {
        let n = left.min(args.contacts);
        let id = tagging_workflow(
            &mut conn,
            &format!("Tag contacts #{}", workflows.len() + 1),
            "tagged",
        )?;
        perennial::db::write_transaction::<_, anyhow::Error, _>(&mut conn, |conn| {
            enroll_due(conn, id, n, &format!("'{due}'"))
        })?;
        workflows.push(id);
        left -= n;
    }
    drop(conn);
    let active = {
        let mut conn = pool.get()?;
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM workflows WHERE status = 'on'",
        )?
    };
    say(format!(
        "worker: {} due set-property actions, {active} workflows on…",
        args.actions
    ));
    let config = WorkerConfig::default();
    let stop = AtomicBool::new(false);
    let start = Instant::now();
    let cpu0 = crate::thread_cpu_seconds();
    let mut rounds = 0;
    loop {
        let n = perennial::worker::execute::run_due(pool, &config, chrono::Utc::now(), &stop)?;
        if n == 0 {
            break;
        }
        rounds += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = crate::thread_cpu_seconds() - cpu0;
    let ids = workflows
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let mut conn = pool.get()?;
    let done = count(
        &mut conn,
        &format!(
            "SELECT COUNT(*) AS n FROM action_runs r JOIN enrollments e ON e.id = r.enrollment_id
             WHERE e.workflow_id IN ({ids}) AND r.state = 'done'"
        ),
    )?;
    let executed = count(
        &mut conn,
        &format!("SELECT COUNT(*) AS n FROM history_events WHERE workflow_id IN ({ids}) AND event = 'action_executed'"),
    )?;
    anyhow::ensure!(
        done == args.actions && executed == args.actions,
        "the worker ran {done} actions ({executed} in history) of {}",
        args.actions
    );
    let per_s = args.actions as f64 / secs;
    say(format!(
        "worker: {per_s:.0} actions/s in {rounds} rounds ({cpu:.2} s CPU, {:.0} actions per CPU second)",
        args.actions as f64 / cpu
    ));
    report.figure("worker_cpu_seconds", cpu);
    report.figure("worker_actions", args.actions as f64);
    report.figure("worker_seconds", secs);
    report.figure("worker_actions_per_s", per_s);
    report.row(
        &format!(
            "worker: {} set-property actions, history included",
            args.actions
        ),
        format!("{secs:.2} s"),
        &format!(
            "< {:.1} s (5 s per 100k)",
            5.0 * args.actions as f64 / 100_000.0
        ),
    );
    report.row("  actions per second", format!("{per_s:.0}"), "> 20000");
    Ok(())
}
