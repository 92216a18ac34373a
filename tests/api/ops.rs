//! Operations endpoints: liveness, readiness, metrics, the OpenAPI document.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn healthz_answers_without_login_or_setup() {
    let app = spawn_app().await;
    // No admin yet: pages redirect to /setup, the health check does not.
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, serde_json::json!({ "status": "ok" }));
}

#[tokio::test]
async fn readyz_is_ready_on_a_fresh_app_with_its_worker() {
    let app = spawn_app().await;
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ready", "{body}");
    assert_eq!(body["checks"]["database"], "ok");
    assert_eq!(body["checks"]["migrations"], "ok");
    assert_eq!(body["checks"]["worker"], "ok");
}

#[tokio::test]
async fn readyz_without_a_worker_does_not_ask_for_one() {
    let app = crate::helpers::spawn_app_with(|c| c.run_worker = false).await;
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["checks"]["worker"], "not_run_by_this_process");
}
