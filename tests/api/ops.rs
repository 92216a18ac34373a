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
async fn readyz_without_a_worker_here_asks_for_a_live_worker_process() {
    let app = crate::helpers::spawn_app_with(|c| c.run_worker = false).await;
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["checks"]["worker"], "not_run_by_this_process");
    assert_eq!(body["checks"]["live_workers"], 0);
    let reason = body["reason"].as_str().unwrap_or("");
    assert!(reason.contains("perennial worker"), "{body}");

    // A worker of another process on the same database (here: a thread with its own pool).
    let pool = perennial::db::connect(&app.database_url, 2).expect("db");
    let worker = perennial::worker::spawn(pool, perennial::worker::WorkerConfig::default());
    let mut body = Value::Null;
    for _ in 0..100 {
        let res = app.get("/readyz").await;
        body = res.json().await.unwrap();
        if body["status"] == "ready" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(body["status"], "ready", "{body}");
    assert_eq!(body["checks"]["live_workers"], 1);
    tokio::task::spawn_blocking(move || worker.stop())
        .await
        .unwrap();
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern() {
    let (app, token) = crate::helpers::TestApp::ready().await;
    let (status, _) = app.api_get("/contacts/12345", &token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("perennial_http_requests_total{")
                && l.contains("route=\"/api/v1/contacts/{id}\"")
                && l.contains("status=\"404\"")
        })
        .unwrap_or_else(|| panic!("no request counter by route pattern in:\n{text}"));
    assert!(!line.contains("12345"), "{line}");
    assert!(
        text.contains("perennial_db_pool_connections{state=\"idle\"}"),
        "{text}"
    );
    assert!(
        text.contains("perennial_http_request_duration_seconds_bucket"),
        "{text}"
    );
}

/// The value of an unlabelled sample, if the exposition has it.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

#[tokio::test]
async fn metrics_count_the_worker_s_executed_actions_and_their_lag() {
    let (app, token) = crate::helpers::TestApp::ready().await;
    crate::workflows_api::with_properties(&app, &token).await;
    let def = serde_json::json!({ "name": "Tag now", "start": {"type": "blank"},
        "steps": [{"type": "set_property", "property": "renewal_notice", "value": "x"}] });
    let wf = app.publish_workflow(&token, def, false).await;
    let (_, c) = app
        .api_post(
            "/contacts",
            &token,
            serde_json::json!({ "email": "m@example.com" }),
        )
        .await;
    let (s, e) = app
        .api_post(
            &format!("/workflows/{wf}/enrollments"),
            &token,
            serde_json::json!({"contact_id": c["id"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    // Counters are per process (tests share them): wait until the action is counted.
    let start = std::time::Instant::now();
    loop {
        let text = app.get("/metrics").await.text().await.unwrap();
        let executed = sample(&text, "perennial_jobs_executed_total").unwrap_or(0.0);
        let lag = sample(&text, "perennial_job_lag_seconds_count").unwrap_or(0.0);
        let claimed = sample(&text, "perennial_jobs_claimed_total").unwrap_or(0.0);
        if executed >= 1.0 && lag >= 1.0 && claimed >= 1.0 {
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "no executed action counted:\n{text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn openapi_json_is_an_openapi_3_1_document_of_the_api() {
    let app = spawn_app().await;
    // No token, no session.
    let res = app.get("/api/v1/openapi.json").await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    let doc: Value = serde_json::from_str(&text).expect("openapi.json is JSON");
    let version = doc["openapi"].as_str().unwrap_or("");
    assert!(version.starts_with("3.1"), "openapi = {version}");
    let paths = doc["paths"].as_object().expect("paths");
    for p in [
        "/api/v1/contacts",
        "/api/v1/contacts/{id}",
        "/api/v1/contacts/batch",
        "/api/v1/properties",
        "/api/v1/workflows",
        "/api/v1/workflows/{id}",
        "/api/v1/workflows/{id}/publish",
        "/api/v1/workflows/{id}/turn-off",
        "/api/v1/workflows/{id}/enrollments",
        "/api/v1/workflows/{id}/history",
        "/api/v1/workflows/{id}/preview",
        "/api/v1/events",
    ] {
        assert!(
            paths.contains_key(p),
            "missing {p}; have {:?}",
            paths.keys()
        );
    }
    assert!(paths["/api/v1/contacts/batch"]["post"].is_object());
    let preview_params = paths["/api/v1/workflows/{id}/preview"]["get"]["parameters"]
        .as_array()
        .expect("preview parameters");
    let names: Vec<&str> = preview_params
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(
        names.contains(&"contact_id") && names.contains(&"now"),
        "{names:?}"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(doc["components"]["schemas"]["Definition"].is_object());
}

#[tokio::test]
async fn api_docs_page_is_self_contained_and_loads_its_script_from_static() {
    let app = spawn_app().await;
    let res = app.get("/api/v1/docs").await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("src=\"/static/api-docs.js\""), "{html}");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no CDN"
    );
    assert!(!html.contains("<script>"), "no inline script");
    let js = app.get("/static/api-docs.js").await;
    assert_eq!(js.status(), StatusCode::OK);
    assert!(js.text().await.unwrap().contains("/api/v1/openapi.json"));
}

#[tokio::test]
async fn the_workflows_page_names_the_live_workers() {
    let app = crate::helpers::spawn_app_with(|c| c.run_worker = false).await;
    app.setup_admin().await;
    let html = app.get_html("/workflows").await;
    let line = crate::helpers::text(&html, ".workers-line").unwrap_or_default();
    assert!(line.contains("No worker is running"), "{line}");

    let pool = perennial::db::connect(&app.database_url, 2).expect("db");
    let worker = perennial::worker::spawn(pool, perennial::worker::WorkerConfig::default());
    let mut line = String::new();
    for _ in 0..100 {
        let html = app.get_html("/workflows").await;
        line = crate::helpers::text(&html, ".workers-line").unwrap_or_default();
        if line.contains("1 worker") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        line.contains("Scheduled actions run on 1 worker:"),
        "{line}"
    );
    assert!(
        line.contains(&format!("process {}", std::process::id())),
        "{line}"
    );
    tokio::task::spawn_blocking(move || worker.stop())
        .await
        .unwrap();
    // A worker that stops cleanly takes its row with it.
    let html = app.get_html("/workflows").await;
    let line = crate::helpers::text(&html, ".workers-line").unwrap_or_default();
    assert!(line.contains("No worker is running"), "{line}");
}
