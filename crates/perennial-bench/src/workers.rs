//! Worker processes on PostgreSQL (`--workers 1,2,4`): for each count N, N separate
//! `perennial worker` processes (the app binary beside this one) execute the same number of
//! due set-property actions as the worker stage; timed from the moment the actions are due
//! (committed and announced) until none is left, by polling the count. Beside each, the raw
//! floor: the plain claim and complete loop of `pg::claim_floor` with N connections over the
//! same number of due enrollments.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use diesel::connection::SimpleConnection;

use crate::pg::{self, PgDb};
use crate::worker::{enroll_due, tagging_workflow};
use crate::{say, BenchArgs, Report};
use perennial::clock::fmt_instant;
use perennial::db::DbPool;

/// The app binary: `perennial` in the directory of this executable.
pub fn app_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let bin = exe.parent()?.join("perennial");
    bin.is_file().then_some(bin)
}

/// Worker processes that are stopped (SIGTERM, then killed) when dropped.
struct Workers(Vec<Child>);

impl Drop for Workers {
    fn drop(&mut self) {
        for c in &self.0 {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        for c in &mut self.0 {
            loop {
                match c.try_wait() {
                    Ok(Some(_)) => break,
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(20))
                    }
                    _ => {
                        let _ = c.kill();
                        let _ = c.wait();
                        break;
                    }
                }
            }
        }
    }
}

/// CPU seconds (user + system) of a process so far; NaN if it cannot be read.
fn process_cpu(pid: u32) -> f64 {
    crate::cpu_seconds_of(&format!("/proc/{pid}/stat"))
}

/// CPU seconds of every `postgres` process of this machine (the server is local; this counts
/// whatever else it serves meanwhile too).
fn postgres_cpu() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return f64::NAN;
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "postgres")
        })
        .map(process_cpu)
        .filter(|c| c.is_finite())
        .sum()
}

/// (busy, total) jiffies of the whole machine so far (`/proc/stat`).
fn machine_jiffies() -> (f64, f64) {
    let line = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let v: Vec<f64> = line
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: f64 = v.iter().sum();
    // idle and iowait are fields 4 and 5.
    let idle = v.get(3).copied().unwrap_or(0.0) + v.get(4).copied().unwrap_or(0.0);
    (total - idle, total)
}

/// CPU used over one timed run: the database server, the worker processes, the whole machine.
struct CpuUse {
    pg: f64,
    workers: f64,
    machine_busy: f64,
}

struct CpuMark {
    pg: f64,
    workers: f64,
    jiffies: (f64, f64),
}

impl CpuMark {
    fn now(pids: &[u32]) -> CpuMark {
        CpuMark {
            pg: postgres_cpu(),
            workers: pids.iter().map(|p| process_cpu(*p)).sum(),
            jiffies: machine_jiffies(),
        }
    }

    fn since(&self, pids: &[u32]) -> CpuUse {
        let end = CpuMark::now(pids);
        let busy = end.jiffies.0 - self.jiffies.0;
        let total = end.jiffies.1 - self.jiffies.1;
        CpuUse {
            pg: end.pg - self.pg,
            workers: end.workers - self.workers,
            machine_busy: if total > 0.0 { busy / total } else { f64::NAN },
        }
    }
}

/// Makes `n` enrollments of a new tagging workflow with their one step due now, committed in
/// one transaction with a `NOTIFY` to the workers. Returns the workflow.
fn due_now(pool: &DbPool, name: &str, value: &str, n: i64) -> anyhow::Result<i64> {
    let mut conn = pool.get()?;
    let wf = tagging_workflow(&mut conn, name, value)?;
    let due = fmt_instant(chrono::Utc::now() - chrono::Duration::seconds(1));
    perennial::db::write_transaction::<_, anyhow::Error, _>(&mut conn, |conn| {
        enroll_due(conn, wf, n, &format!("'{due}'"))?;
        perennial::db::listen::announce(conn);
        Ok(())
    })?;
    Ok(wf)
}

/// 1 while any enrollment of the workflow is still active, else 0. Polled every 20 ms while
/// the workers run, so it stops at the first active row: a `COUNT(*)` of them took 4 ms of
/// the server's CPU per poll (measured with pg_stat_statements: 3 s of an 18 s run), taken
/// from the workers it was timing on the same two cores.
fn active_of(conn: &mut diesel::PgConnection, wf: i64) -> anyhow::Result<i64> {
    pg::query_i64(
        conn,
        &format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM enrollments
               WHERE workflow_id = {wf} AND status = 'active' LIMIT 1) AS any_active"
        ),
    )
}

pub fn run(pool: &DbPool, db: &PgDb, args: &BenchArgs, report: &mut Report) -> anyhow::Result<()> {
    let Some(bin) = app_binary() else {
        say("workers: no `perennial` binary beside this one (cargo build --release --workspace): skipped");
        return Ok(());
    };
    let n = args.actions.min(args.contacts);
    let mut poll = db.connect()?;
    let mut one = None;
    for &w in &args.workers {
        let w = w.clamp(1, 16);
        // The app: N worker processes, started and reported in before the work falls due.
        let mut children = Workers(Vec::new());
        for _ in 0..w {
            children.0.push(
                Command::new(&bin)
                    .args(["worker", "--database-url", db.url()])
                    .env("RUST_LOG", "warn")
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::inherit())
                    .spawn()
                    .with_context(|| format!("starting {}", bin.display()))?,
            );
        }
        let pids = children
            .0
            .iter()
            .map(|c| c.id().to_string())
            .collect::<Vec<_>>()
            .join(",");
        let ready_by = Instant::now() + Duration::from_secs(60);
        while pg::query_i64(
            &mut poll,
            &format!("SELECT COUNT(*) FROM worker_heartbeats WHERE pid IN ({pids})"),
        )? < w as i64
        {
            anyhow::ensure!(
                Instant::now() < ready_by,
                "the worker processes did not report in"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        say(format!("workers: {n} due actions, {w} worker process(es)…"));
        let pid_list: Vec<u32> = children.0.iter().map(|c| c.id()).collect();
        let mark = CpuMark::now(&pid_list);
        let wf = due_now(pool, &format!("Workers x{w}"), &format!("done by {w}"), n)?;
        let t = Instant::now();
        let limit = Duration::from_secs(600);
        while active_of(&mut poll, wf)? > 0 {
            anyhow::ensure!(
                t.elapsed() < limit,
                "the worker processes did not finish in time"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let secs = t.elapsed().as_secs_f64();
        let cpu = mark.since(&pid_list);
        drop(children);
        let done = pg::query_i64(
            &mut poll,
            &format!(
                "SELECT COUNT(*) FROM history_events WHERE workflow_id = {wf} AND event = 'action_executed'"
            ),
        )?;
        anyhow::ensure!(done == n, "{w} worker(s) executed {done} of {n} actions");
        let per_s = n as f64 / secs;

        // The floor: the same number of due enrollments, claimed and completed raw.
        let raw_wf = {
            let mut conn = pool.get()?;
            let id = tagging_workflow(&mut conn, &format!("Raw claim x{w}"), "raw")?;
            let due = fmt_instant(chrono::Utc::now() - chrono::Duration::seconds(1));
            perennial::db::write_transaction::<_, anyhow::Error, _>(&mut conn, |conn| {
                enroll_due(conn, id, n, &format!("'{due}'"))
            })?;
            id
        };
        poll.batch_execute("ANALYZE enrollments")?;
        let (raw_done, raw_secs) = pg::claim_floor(db.url(), raw_wf, w)?;
        anyhow::ensure!(raw_done == n, "the raw loop completed {raw_done} of {n}");
        let raw_per_s = n as f64 / raw_secs;
        say(format!(
            "workers: {w} process(es) {per_s:.0} actions/s ({secs:.2} s; CPU: PostgreSQL {:.1} s, workers {:.1} s, machine {:.0}% busy); raw claim/complete with {w} connection(s) {raw_per_s:.0}/s ({raw_secs:.2} s)",
            cpu.pg, cpu.workers, cpu.machine_busy * 100.0
        ));
        report.figure(&format!("workers_{w}_pg_cpu_seconds"), cpu.pg);
        report.figure(&format!("workers_{w}_worker_cpu_seconds"), cpu.workers);
        report.figure(
            &format!("workers_{w}_machine_busy_pct"),
            cpu.machine_busy * 100.0,
        );
        report.figure(&format!("workers_{w}_actions_per_s"), per_s);
        report.figure(&format!("workers_{w}_seconds"), secs);
        report.figure(&format!("raw_claim_{w}_per_s"), raw_per_s);
        report.row(
            &format!("{w} worker process(es): {n} due actions"),
            format!("{secs:.2} s ({per_s:.0}/s)"),
            if w == 1 { "< 5 s per 100k" } else { "" },
        );
        report.row(
            "  CPU: PostgreSQL / worker processes / machine busy",
            format!(
                "{:.1} s / {:.1} s / {:.0}%",
                cpu.pg,
                cpu.workers,
                cpu.machine_busy * 100.0
            ),
            "",
        );
        report.row(
            &format!("  raw claim + complete, {w} connection(s)"),
            format!("{raw_secs:.2} s ({raw_per_s:.0}/s)"),
            "",
        );
        match one {
            None if w == 1 => one = Some(per_s),
            Some(base) => {
                let scale = per_s / base;
                report.figure(&format!("workers_{w}_vs_1"), scale);
                report.row(
                    &format!("  {w} processes / 1"),
                    format!("{scale:.2}x"),
                    if w == 2 { ">= 1.6x (unsaturated)" } else { "" },
                );
            }
            None => {}
        }
    }
    Ok(())
}
