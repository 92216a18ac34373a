//! `perennial-bench --database-url postgres://…` still works end to end: a tiny run on the
//! local PostgreSQL server (`PERENNIAL_TEST_PG_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`), which creates and drops its own database.
//! Not a timing test. Without a reachable server it is skipped with a note, unless `CI` is set.

use std::net::{TcpStream, ToSocketAddrs};
use std::process::Command;
use std::time::Duration;

/// The test server as the app's tests reach it (`PERENNIAL_TEST_PG_URL`, without TLS unless
/// it asks for it: see `db::scratch::admin_url`).
fn server_url() -> String {
    perennial::db::scratch::admin_url()
}

/// host:port of a postgres:// URL (default port 5432).
fn host_port(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let rest = rest.rsplit_once('@').map(|(_, r)| r).unwrap_or(rest);
    let hp = rest.split(['/', '?']).next().unwrap_or("127.0.0.1");
    if hp.contains(':') {
        hp.to_string()
    } else {
        format!("{hp}:5432")
    }
}

fn reachable(url: &str) -> bool {
    host_port(url)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .is_some_and(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok())
}

#[test]
fn a_tiny_benchmark_on_postgresql_runs_every_stage() {
    let url = server_url();
    if !reachable(&url) && std::env::var_os("CI").is_none() {
        eprintln!(
            "SKIPPED: no PostgreSQL server at {} (set PERENNIAL_TEST_PG_URL)",
            host_port(&url)
        );
        return;
    }
    // The worker processes stage needs the app binary beside the bench's; without it the bench
    // says so and skips that stage.
    let out = Command::new(env!("CARGO_BIN_EXE_perennial-bench"))
        .args([
            "--database-url",
            &url,
            "--contacts",
            "2000",
            "--history-events",
            "5000",
            "--actions",
            "200",
            "--workers",
            "1,2",
            "--workflows",
            "2",
            "--api-requests",
            "40",
            "--api-clients",
            "2",
            // Two batches, not the default 100,000 contacts (which took three minutes here).
            "--api-batch-contacts",
            "2000",
            "--import-rows",
            "500",
            "--latency-actions",
            "50",
            "--latency-window-secs",
            "0.5",
        ])
        .output()
        .expect("running perennial-bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "bench failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let last = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .expect("some output");
    let figures: serde_json::Value =
        serde_json::from_str(last).expect("the last line is one JSON object of the figures");
    assert_eq!(figures["backend"].as_str(), Some("PostgreSQL"), "{last}");
    for key in [
        "enroll_seconds",
        "raw_insert_seconds",
        "enroll_vs_raw",
        "worker_actions_per_s",
        "due_latency_ms_p99",
        "api_upserts_per_s",
        "import_rows_per_s",
        "history_page_ms_p95",
        "contacts_page_ms_p95",
    ] {
        let v = figures[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} missing from {last}"));
        assert!(v.is_finite() && v > 0.0, "{key} = {v} in {last}");
    }
    assert_eq!(figures["enrolled"].as_f64(), Some(2000.0), "{last}");
    assert_eq!(figures["api_errors"].as_f64(), Some(0.0), "{last}");
    if stderr.contains("no `perennial` binary") {
        eprintln!("note: no app binary beside the bench: the worker processes were not measured");
    } else {
        for key in [
            "workers_1_actions_per_s",
            "raw_claim_1_per_s",
            "workers_2_actions_per_s",
        ] {
            let v = figures[key]
                .as_f64()
                .unwrap_or_else(|| panic!("{key} missing from {last}"));
            assert!(v.is_finite() && v > 0.0, "{key} = {v} in {last}");
        }
    }
    // The database made for the run is gone.
    let name = stderr
        .split("perennial_bench_")
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .map(|pid| format!("perennial_bench_{pid}"));
    if let Some(name) = name {
        let psql = Command::new("psql")
            .args([
                &url,
                "-tAc",
                &format!("SELECT COUNT(*) FROM pg_database WHERE datname = '{name}'"),
            ])
            .output();
        if let Ok(o) = psql {
            if o.status.success() {
                assert_eq!(
                    String::from_utf8_lossy(&o.stdout).trim(),
                    "0",
                    "{name} left behind"
                );
            }
        }
    }
}
