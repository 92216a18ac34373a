//! Operations endpoints (DESIGN §6): liveness, readiness, metrics. Registered on the app
//! before the API scope and the page scope, so they need no token or session and never
//! redirect to first-run setup.

use std::time::Duration;

use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};

use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics));
}

/// Liveness: the process serves HTTP. Touches nothing else.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({ "status": "ok" }))
}

/// How long readiness waits for a pooled connection before calling the database unreachable.
const DB_TIMEOUT: Duration = Duration::from_secs(2);

/// Readiness: the database answers, every embedded migration is applied, and the worker this
/// process runs (if any) has woken recently. 200 `{"status":"ready","checks":{…}}`, else 503
/// `{"status":"not_ready","reason":…,"checks":{…}}`.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let mut checks = Map::new();
    let mut reasons: Vec<String> = Vec::new();

    let pool = state.pool.clone();
    let db = web::block(move || -> anyhow::Result<bool> {
        let mut conn = pool
            .get_timeout(DB_TIMEOUT)
            .map_err(|e| anyhow::anyhow!("no database connection within 2 s: {e}"))?;
        // Reading the applied migrations is itself the "database answers" check.
        crate::db::has_pending_migrations(&mut conn)
    })
    .await
    .map_err(|e| anyhow::anyhow!("readiness check cancelled: {e}"))
    .and_then(|r| r);
    match db {
        Ok(pending) => {
            checks.insert("database".into(), json!("ok"));
            if pending {
                checks.insert("migrations".into(), json!("pending"));
                reasons.push("database migrations are pending".into());
            } else {
                checks.insert("migrations".into(), json!("ok"));
            }
        }
        Err(e) => {
            let msg = crate::telemetry::chain(&e);
            checks.insert("database".into(), json!("unreachable"));
            checks.insert("migrations".into(), json!("unknown"));
            reasons.push(format!("database unreachable: {msg}"));
        }
    }

    match &state.worker_heartbeat {
        None => {
            // No worker here (`serve --no-worker`): ready when some worker process sharing the
            // database has reported within the freshness limit.
            checks.insert("worker".into(), json!("not_run_by_this_process"));
            let pool = state.pool.clone();
            let since = crate::clock::fmt_instant(
                chrono::Utc::now()
                    - chrono::Duration::from_std(2 * crate::worker::MAX_SLEEP).unwrap_or_default(),
            );
            let live = web::block(move || -> anyhow::Result<usize> {
                let mut conn = pool.get_timeout(DB_TIMEOUT)?;
                Ok(
                    crate::db::models::worker_heartbeat::WorkerHeartbeat::live(&mut conn, &since)?
                        .len(),
                )
            })
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
            .and_then(|r| r);
            match live {
                Ok(0) => {
                    checks.insert("live_workers".into(), json!(0));
                    reasons.push(format!(
                        "no worker process has reported in the last {} s (run `perennial worker`)",
                        (2 * crate::worker::MAX_SLEEP).as_secs()
                    ));
                }
                Ok(n) => {
                    checks.insert("live_workers".into(), json!(n));
                }
                Err(_) => {
                    checks.insert("live_workers".into(), json!("unknown"));
                }
            }
        }
        Some(beat) => {
            let age = beat.age().as_secs_f64();
            checks.insert("worker_heartbeat_age_seconds".into(), json!(age));
            if !beat.is_alive() {
                checks.insert("worker".into(), json!("stopped"));
                reasons.push("the worker thread has stopped".into());
            } else if !beat.is_fresh() {
                checks.insert("worker".into(), json!("stale"));
                reasons.push(format!(
                    "the worker has not woken for {age:.0} s (limit {} s)",
                    (2 * crate::worker::MAX_SLEEP).as_secs()
                ));
            } else {
                checks.insert("worker".into(), json!("ok"));
            }
        }
    }

    let checks = Value::Object(checks);
    if reasons.is_empty() {
        HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(json!({ "status": "ready", "checks": checks }))
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header(("Cache-Control", "no-store"))
            .json(json!({ "status": "not_ready", "reason": reasons.join("; "), "checks": checks }))
    }
}

/// Prometheus text exposition. Open by default (keep it on an internal network); with
/// `--metrics-token` it asks for `Authorization: Bearer <token>` (Prometheus:
/// `authorization: { credentials: <token> }`).
pub async fn metrics(req: actix_web::HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if let Some(expected) = &state.http.metrics_token {
        use subtle::ConstantTimeEq;
        let given = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .unwrap_or("");
        let ok = given.len() == expected.len()
            && bool::from(given.as_bytes().ct_eq(expected.as_bytes()));
        if !ok {
            return HttpResponse::Unauthorized()
                .insert_header(("WWW-Authenticate", "Bearer realm=\"metrics\""))
                .insert_header(("Cache-Control", "no-store"))
                .content_type("text/plain; charset=utf-8")
                .body("The metrics need the token set with --metrics-token (PERENNIAL_METRICS_TOKEN): send Authorization: Bearer <token>.\n");
        }
    }
    let pool = state.pool.clone();
    let body = web::block(move || crate::monitoring::render(&pool))
        .await
        .unwrap_or_default();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(body)
}
