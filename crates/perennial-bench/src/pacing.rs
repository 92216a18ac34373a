//! What email pacing (issue 17) costs the worker: the same number of due "send email" actions
//! run twice through the worker's own round, first by a workflow without pacing, then by one
//! whose pacing is on (at most 3 emails per contact in 7 days, counted over every workflow
//! from the Outbox, and quiet hours in each contact's zone). Every contact already has the
//! first run's email, so each paced email is checked against the cap with a real count; the
//! quiet hours are one minute that no zone's local time reaches during the run, so nothing
//! is deferred and both runs do the same work apart from the checks.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use chrono::{Duration, Timelike, Utc};
use serde_json::{json, Value};

use crate::worker::{count, enroll_due};
use crate::{say, BenchArgs, Report};
use perennial::clock::fmt_instant;
use perennial::db::models::WorkflowId;
use perennial::db::DbPool;
use perennial::services::workflows as svc;
use perennial::worker::WorkerConfig;

/// A one-minute quiet window starting 7 minutes from now (UTC clock time). Every zone's offset
/// is a multiple of 15 minutes, so no contact's local time is inside it for the next 7 minutes.
fn quiet_minute() -> (String, String) {
    let start = Utc::now() + Duration::minutes(7);
    let end = start + Duration::minutes(1);
    (
        format!("{:02}:{:02}", start.hour(), start.minute()),
        format!("{:02}:{:02}", end.hour(), end.minute()),
    )
}

fn email_workflow(name: &str, pacing: Option<Value>) -> Value {
    let mut settings = json!({"time_zone": "Europe/Oslo"});
    if let Some(p) = pacing {
        settings["pacing"] = p;
    }
    json!({
        "name": name,
        "start": {"type": "blank"},
        "triggers": {"filter_groups": []},
        "steps": [{"type": "send_email", "subject": "Your renewal", "body": "Hi {{ contact.firstname }}"}],
        "settings": settings
    })
}

/// Enrolls `n` contacts in a new email workflow, runs the worker until none is due; the
/// actions per second and how many emails ran.
fn run_one(pool: &DbPool, name: &str, pacing: Option<Value>, n: i64) -> anyhow::Result<(f64, i64)> {
    let mut conn = pool.get()?;
    let wf = svc::create(&mut conn, &email_workflow(name, pacing), "bench")
        .map_err(|e| anyhow::anyhow!("creating {name}: {e:?}"))?;
    svc::publish(&mut conn, WorkflowId(wf.id), false)
        .map_err(|e| anyhow::anyhow!("publishing {name}: {e:?}"))?;
    let due = fmt_instant(Utc::now() - Duration::seconds(1));
    perennial::db::write_transaction::<_, anyhow::Error, _>(&mut conn, |conn| {
        enroll_due(conn, wf.id, n, &format!("'{due}'"))
    })?;
    drop(conn);
    let config = WorkerConfig::default();
    let stop = AtomicBool::new(false);
    let start = Instant::now();
    while perennial::worker::execute::run_due(pool, &config, Utc::now(), &stop)? > 0 {}
    let secs = start.elapsed().as_secs_f64();
    let mut conn = pool.get()?;
    let executed = count(
        &mut conn,
        &format!(
            "SELECT COUNT(*) AS n FROM history_events WHERE workflow_id = {} AND event = 'action_executed'",
            wf.id
        ),
    )?;
    Ok((n as f64 / secs, executed))
}

pub fn run(pool: &DbPool, args: &BenchArgs, report: &mut Report) -> anyhow::Result<()> {
    let n = args.actions.min(args.contacts);
    say(format!(
        "pacing: {n} due emails without pacing, then {n} with pacing on…"
    ));
    let (plain, plain_done) = run_one(pool, "Emails without pacing", None, n)?;
    let (start, end) = quiet_minute();
    let pacing =
        json!({"max_emails": 3, "per_days": 7, "quiet_hours": {"start": start, "end": end}});
    let (paced, paced_done) = run_one(pool, "Emails with pacing", Some(pacing), n)?;
    anyhow::ensure!(
        plain_done == n && paced_done == n,
        "emails sent: {plain_done} without pacing, {paced_done} with pacing, of {n} each"
    );
    let cost = (1.0 - paced / plain) * 100.0;
    say(format!(
        "pacing: {plain:.0} emails/s without pacing, {paced:.0}/s with ({cost:+.1}% slower)"
    ));
    report.figure("worker_email_actions_per_s", plain);
    report.figure("worker_paced_email_actions_per_s", paced);
    report.figure("worker_pacing_cost_pct", cost);
    report.row(
        &format!("worker: {n} send-email actions (Outbox), no pacing"),
        format!("{plain:.0}/s"),
        "",
    );
    report.row(
        "  the same with pacing on (cap and quiet hours checked)",
        format!("{paced:.0}/s ({cost:+.1}%)"),
        "≥ 40000/s (issue 17)",
    );
    Ok(())
}
