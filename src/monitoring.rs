//! Prometheus metrics (DESIGN §6): one recorder per process, rendered by `GET /metrics`.
//!
//! - `perennial_http_requests_total{method,route,status}` and
//!   `perennial_http_request_duration_seconds{method,route}`: [`http_metrics`] middleware, by
//!   the matched route pattern (`/api/v1/contacts/{id}`), never the raw path.
//! - `perennial_jobs_claimed_total`, `perennial_jobs_executed_total`,
//!   `perennial_jobs_failed_total`, `perennial_jobs_skipped_total{reason}`,
//!   `perennial_job_errors_total` and the due→run lag histogram `perennial_job_lag_seconds`:
//!   counted by the worker through [`jobs`], only for work whose transaction committed.
//! - `perennial_contact_write_group_size`: how many single upserts each group commit wrote
//!   (`services::contacts::group`).
//! - `perennial_jobs_due`, `perennial_db_pool_connections{state="in_use"|"idle"}`: gauges
//!   sampled when scraped.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const HTTP_REQUESTS: &str = "perennial_http_requests_total";
pub const HTTP_DURATION: &str = "perennial_http_request_duration_seconds";
pub const JOBS_CLAIMED: &str = "perennial_jobs_claimed_total";
pub const JOBS_EXECUTED: &str = "perennial_jobs_executed_total";
pub const JOBS_FAILED: &str = "perennial_jobs_failed_total";
pub const JOBS_SKIPPED: &str = "perennial_jobs_skipped_total";
pub const JOB_ERRORS: &str = "perennial_job_errors_total";
pub const JOB_LAG: &str = "perennial_job_lag_seconds";
pub const JOBS_DUE: &str = "perennial_jobs_due";
pub const POOL_CONNECTIONS: &str = "perennial_db_pool_connections";

const HTTP_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
const LAG_BUCKETS: &[f64] = &[
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0,
];

const GROUP_BUCKETS: &[f64] = &[1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 256.0];

/// The process's recorder, installed on first use (tests run several apps in one process,
/// which then share it). `None` if another recorder was installed first.
pub fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let installed = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), HTTP_BUCKETS)
                .and_then(|b| b.set_buckets_for_metric(Matcher::Full(JOB_LAG.into()), LAG_BUCKETS))
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full(crate::services::contacts::group::GROUP_SIZE.into()),
                        GROUP_BUCKETS,
                    )
                })
                .and_then(|b| b.install_recorder());
            match installed {
                Ok(h) => {
                    describe();
                    // Histograms keep raw samples until upkeep folds them into buckets; without
                    // the exporter's HTTP listener nobody else runs it.
                    let upkeep = h.clone();
                    let _ = std::thread::Builder::new()
                        .name("perennial-metrics-upkeep".into())
                        .spawn(move || loop {
                            std::thread::sleep(Duration::from_secs(5));
                            upkeep.run_upkeep();
                        });
                    Some(h)
                }
                Err(e) => {
                    tracing::error!(error = %e, "metrics recorder not installed; /metrics will be empty");
                    None
                }
            }
        })
        .as_ref()
}

/// Installs the recorder (idempotent); call before serving.
pub fn init() {
    let _ = handle();
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests by method, matched route and status"
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "HTTP request duration by route"
    );
    describe_counter!(
        JOBS_CLAIMED,
        "Due jobs claimed by the worker (committed rounds)"
    );
    describe_counter!(JOBS_EXECUTED, "Actions executed (history action_executed)");
    describe_counter!(JOBS_FAILED, "Actions failed (history action_failed)");
    describe_counter!(JOBS_SKIPPED, "Actions skipped, by reason");
    describe_counter!(
        JOB_ERRORS,
        "Jobs whose processing errored and were held for a retry"
    );
    describe_histogram!(
        JOB_LAG,
        Unit::Seconds,
        "From an action's due time to its commit"
    );
    describe_gauge!(JOBS_DUE, "Active enrollments due now (sampled at scrape)");
    describe_histogram!(
        crate::services::contacts::group::GROUP_SIZE,
        Unit::Count,
        "Single contact upserts written by each group commit"
    );
    describe_gauge!(
        POOL_CONNECTIONS,
        "Database pool connections by state (sampled at scrape)"
    );
}

/// Counts every request by its matched route pattern; unmatched paths share one label so a
/// scanner cannot blow up the label set.
pub async fn http_metrics(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_string());
    let method = req.method().as_str().to_string();
    let res = next.call(req).await;
    let status = match &res {
        Ok(r) => r.status().as_u16(),
        Err(e) => e.as_response_error().status_code().as_u16(),
    };
    let elapsed = started.elapsed().as_secs_f64();
    metrics::counter!(HTTP_REQUESTS, "method" => method.clone(), "route" => route.clone(), "status" => status.to_string())
        .increment(1);
    metrics::histogram!(HTTP_DURATION, "method" => method, "route" => route).record(elapsed);
    res
}

/// The text exposition, with the scrape-time gauges refreshed first.
pub fn render(pool: &crate::db::DbPool) -> String {
    let Some(h) = handle() else {
        return String::new();
    };
    let state = pool.state();
    let idle = f64::from(state.idle_connections);
    let in_use = f64::from(state.connections.saturating_sub(state.idle_connections));
    metrics::gauge!(POOL_CONNECTIONS, "state" => "in_use").set(in_use);
    metrics::gauge!(POOL_CONNECTIONS, "state" => "idle").set(idle);
    if let Some(due) = jobs_due(pool) {
        metrics::gauge!(JOBS_DUE).set(due as f64);
    }
    h.render()
}

/// Due, unleased active enrollments (`db::queries::jobs_due`).
fn jobs_due(pool: &crate::db::DbPool) -> Option<i64> {
    let mut conn = pool.get_timeout(Duration::from_secs(1)).ok()?;
    crate::db::queries::jobs_due(&mut conn, chrono::Utc::now()).ok()
}

/// The worker's counters, buffered per thread and counted only when the transaction that
/// wrote the matching history commits: a batch that rolls back and runs again job by job is
/// not counted twice, and a job whose savepoint rolls back is not counted at all.
pub mod jobs {
    use std::cell::RefCell;

    use chrono::{DateTime, Utc};

    enum Sample {
        Claimed(usize),
        Executed(Option<DateTime<Utc>>),
        Failed(Option<DateTime<Utc>>),
        Skipped(&'static str),
        Errored,
    }

    thread_local! {
        static PENDING: RefCell<(usize, Vec<Sample>)> = const { RefCell::new((0, Vec::new())) };
    }

    fn push(s: Sample) {
        PENDING.with(|p| p.borrow_mut().1.push(s));
    }

    pub fn claimed(n: usize) {
        push(Sample::Claimed(n));
    }

    /// An action ran (history `action_executed`); `due` for the lag histogram.
    pub fn executed(due: Option<DateTime<Utc>>) {
        push(Sample::Executed(due));
    }

    /// An action failed (history `action_failed`).
    pub fn failed(due: Option<DateTime<Utc>>) {
        push(Sample::Failed(due));
    }

    /// An action was skipped (history `skipped`); `reason` is a fixed label.
    pub fn skipped(reason: &'static str) {
        push(Sample::Skipped(reason));
    }

    /// A job errored and was held back for a retry.
    pub fn errored() {
        push(Sample::Errored);
    }

    /// Runs `f` as one unit: what it counted is kept if it returns `Ok` (and counted once the
    /// outermost unit ends), dropped if it returns `Err`.
    pub fn unit<T, E>(f: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        let mark = PENDING.with(|p| {
            let mut p = p.borrow_mut();
            p.0 += 1;
            p.1.len()
        });
        let out = f();
        let flush = PENDING.with(|p| {
            let mut p = p.borrow_mut();
            p.0 -= 1;
            if out.is_err() {
                p.1.truncate(mark);
            }
            if p.0 == 0 {
                std::mem::take(&mut p.1)
            } else {
                Vec::new()
            }
        });
        if !flush.is_empty() {
            record(flush);
        }
        out
    }

    fn record(samples: Vec<Sample>) {
        let now = Utc::now();
        let (mut claimed, mut executed, mut failed, mut errored) = (0u64, 0u64, 0u64, 0u64);
        let mut skipped: Vec<(&'static str, u64)> = Vec::new();
        let lag = metrics::histogram!(super::JOB_LAG);
        for s in samples {
            match s {
                Sample::Claimed(n) => claimed += n as u64,
                Sample::Executed(due) | Sample::Failed(due) => {
                    if matches!(s, Sample::Executed(_)) {
                        executed += 1;
                    } else {
                        failed += 1;
                    }
                    if let Some(due) = due {
                        lag.record((now - due).num_milliseconds().max(0) as f64 / 1000.0);
                    }
                }
                Sample::Skipped(r) => match skipped.iter_mut().find(|(k, _)| *k == r) {
                    Some((_, n)) => *n += 1,
                    None => skipped.push((r, 1)),
                },
                Sample::Errored => errored += 1,
            }
        }
        for (name, n) in [
            (super::JOBS_CLAIMED, claimed),
            (super::JOBS_EXECUTED, executed),
            (super::JOBS_FAILED, failed),
            (super::JOB_ERRORS, errored),
        ] {
            if n > 0 {
                metrics::counter!(name).increment(n);
            }
        }
        for (reason, n) in skipped {
            metrics::counter!(super::JOBS_SKIPPED, "reason" => reason).increment(n);
        }
    }
}
