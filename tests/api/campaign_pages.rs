//! The reading pages for issue 17: Performance (conversions, the split comparison), History
//! (goal met, waiting, split path), Test (a wait's two paths, the split path, deferred
//! emails, goal already met) and Review (goal, waits, splits and pacing in sentences).

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{table_rows, text, texts, TestApp};
use crate::workflows_api::with_properties;

/// Every `action_executed` detail of a workflow's history (all pages).
async fn executed(app: &TestApp, token: &str, wf: i64) -> Vec<String> {
    let mut all = Vec::new();
    let mut before = String::new();
    loop {
        let (_, h) = app
            .api_get(
                &format!("/workflows/{wf}/history?event=action_executed{before}"),
                token,
            )
            .await;
        all.extend(
            h["events"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|e| e["detail"].as_str().map(str::to_string)),
        );
        match h["next"].as_str() {
            Some(n) => before = format!("&before={n}"),
            None => break,
        }
    }
    all
}

fn split_def() -> Value {
    json!({"name": "Renewal test", "start": {"type": "blank"},
        "triggers": {"filter_groups": [[{"property": "email", "operator": "known"}]]},
        "goal": {"filter_groups": [[{"property": "renewal_notice", "operator": "eq", "value": "renewed"}]]},
        "steps": [{"type": "random_split", "holdout_percent": 20, "paths": [
            {"name": "A", "percent": 40, "steps": [{"type": "delay", "amount": 3, "unit": "days"},
                {"type": "set_property", "property": "renewal_notice", "value": "nudged"}]},
            {"name": "B", "percent": 40, "steps": [{"type": "delay", "amount": 3, "unit": "days"},
                {"type": "set_property", "property": "renewal_notice", "value": "nudged"}]}]}]})
}

#[tokio::test]
async fn performance_shows_conversions_and_each_split_path_against_the_holdout() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let wf = app.publish_workflow(&token, split_def(), false).await;
    let inputs: Vec<Value> = (0..30)
        .map(|i| json!({"email": format!("p{i}@example.com")}))
        .collect();
    let (s, made) = app
        .api_post("/contacts/batch", &token, json!({"inputs": inputs}))
        .await;
    assert_eq!(s, StatusCode::OK, "{made}");
    let start = Instant::now();
    while executed(&app, &token, wf).await.len() < 30 {
        assert!(start.elapsed() < Duration::from_secs(10), "splits not run");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Five contacts renew: those still enrolled convert and leave.
    for i in 0..5 {
        let (s, body) = app
            .api_post(
                "/contacts",
                &token,
                json!({"email": format!("p{i}@example.com"), "properties": {"renewal_notice": "renewed"}}),
            )
            .await;
        assert!(s.is_success(), "{body}");
    }
    let html = app.get_html(&format!("/workflows/{wf}/performance")).await;
    assert_eq!(text(&html, "#stat-enrolled").as_deref(), Some("30"));
    let conversions: i64 = text(&html, "#stat-conversions")
        .and_then(|t| t.parse().ok())
        .unwrap_or(-1);
    assert!((0..=5).contains(&conversions), "{conversions}");
    let rate = text(&html, "#stat-conversion-rate").unwrap_or_default();
    assert!(rate.ends_with('%'), "{rate}");
    let title = text(&html, ".split-title").unwrap_or_default();
    assert!(title.contains("Random split"), "{title}");
    let rows: Vec<Vec<String>> = table_rows(&html)
        .into_iter()
        .filter(|r| r.first().is_some_and(|c| c.contains("%)")))
        .collect();
    let names: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names, ["A (40%)", "B (40%)", "Holdout (20%)"], "{rows:?}");
    let total: i64 = rows.iter().map(|r| r[1].parse::<i64>().unwrap_or(0)).sum();
    assert_eq!(total, 30, "{rows:?}");
    let converted: i64 = rows.iter().map(|r| r[2].parse::<i64>().unwrap_or(0)).sum();
    assert_eq!(
        converted, 5,
        "every renewed contact counts on its path: {rows:?}"
    );
    let holdout_converted = rows[2][2].parse::<i64>().unwrap_or(0);
    assert_eq!(conversions + holdout_converted, 5, "{rows:?}");
    assert_eq!(rows[2][4], "the baseline");
    assert!(
        rows[0][4].ends_with("points") || rows[0][4] == "—",
        "{rows:?}"
    );

    // History: the split path taken and the goal met, in sentences.
    let html = app.get_html(&format!("/workflows/{wf}/history")).await;
    let lines = texts(&html, "body").join(" ");
    assert!(
        lines.contains("took path “A”") || lines.contains("took path “B”"),
        "split sentence"
    );
    if conversions > 0 {
        assert!(lines.contains("Goal met: the contact converted and left the workflow"));
    }

    // No goal: the section says how to set one.
    let (s, other) = app
        .api_post(
            "/workflows",
            &token,
            json!({"name": "No goal", "start": {"type": "blank"}, "steps": []}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let id = other["id"].as_i64().unwrap_or(0);
    let html = app.get_html(&format!("/workflows/{id}/performance")).await;
    let goal = text(&html, "#goal").unwrap_or_default();
    assert!(goal.contains("No goal set"), "{goal}");
}
