//! `perennial-bench` still works end to end: a small run (10,000 contacts) through the real
//! binary, checking that every stage ran and the JSON line comes last. Not a timing test:
//! the figures of BENCHMARKS.md come from a full release run, never from CI.

use std::process::Command;

#[test]
fn a_small_benchmark_runs_every_stage_and_prints_the_json_line_last() {
    let out = Command::new(env!("CARGO_BIN_EXE_perennial-bench"))
        .args([
            "--contacts",
            "10000",
            "--history-events",
            "20000",
            "--actions",
            "500",
            "--workflows",
            "4",
            "--api-requests",
            "160",
            "--api-clients",
            "2",
            "--api-batch-contacts",
            "2000",
            "--import-rows",
            "500",
            "--latency-actions",
            "100",
            "--latency-window-secs",
            "1",
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
    for key in [
        "enroll_seconds",
        "enroll_contacts_per_s",
        "raw_insert_seconds",
        "enroll_vs_raw",
        "worker_actions_per_s",
        "due_latency_ms_p99",
        "api_upserts_per_s",
        "import_rows_per_s",
        "api_upserts_per_s_event_triggers",
        "api_batch_contacts_per_s",
        "worker_paced_email_actions_per_s",
        "history_page_ms_p95",
        "contacts_page_ms_p95",
        "peak_rss_mb",
    ] {
        let v = figures[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} missing from {last}"));
        // Every rate, time and size is a real measurement: present and above zero.
        assert!(v.is_finite() && v > 0.0, "{key} = {v} in {last}");
    }
    assert_eq!(figures["enrolled"].as_f64(), Some(10000.0), "{last}");
    assert_eq!(figures["api_errors"].as_f64(), Some(0.0), "{last}");
    // The readable table comes before the JSON line.
    assert!(stdout.contains("enroll / raw"), "{stdout}");
}

/// `latency-api` runs only when named: the latency stage while API clients send upserts.
#[test]
fn the_latency_stage_under_api_load_runs_when_named() {
    let out = Command::new(env!("CARGO_BIN_EXE_perennial-bench"))
        .args([
            "--only",
            "api,latency-api",
            "--contacts",
            "5000",
            "--history-events",
            "1000",
            "--workflows",
            "4",
            "--api-requests",
            "80",
            "--api-clients",
            "4",
            "--api-batch-contacts",
            "1000",
            "--latency-actions",
            "100",
            "--latency-window-secs",
            "1",
        ])
        .output()
        .expect("running perennial-bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "bench failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty());
    let figures: serde_json::Value =
        serde_json::from_str(last.unwrap_or("")).expect("the last line is the JSON figures");
    for key in [
        "due_latency_under_api_ms_p99",
        "due_latency_under_api_upserts_per_s",
    ] {
        assert!(figures[key].is_number(), "{key} missing in {figures}");
    }
    assert!(
        figures["due_latency_ms_p99"].is_null(),
        "only what was named ran"
    );
}
