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

#[tokio::test]
async fn the_test_page_shows_wait_paths_split_path_deferred_emails_and_goal_met() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let def = json!({"name": "Renewal test", "start": {"type": "blank"},
        "goal": {"filter_groups": [[{"property": "renewal_notice", "operator": "eq", "value": "renewed"}]]},
        "settings": {"pacing": {"quiet_hours": {"start": "00:00", "end": "23:59"}}},
        "steps": [
            {"type": "wait_until", "event": "payment_received", "timeout": {"amount": 3, "unit": "days"}},
            {"type": "random_split", "paths": [{"name": "Only", "percent": 100}]},
            {"type": "send_email", "subject": "Renew now", "body": "Hi"}]});
    let (s, wf) = app.api_post("/workflows", &token, def).await;
    assert_eq!(s, StatusCode::CREATED, "{wf}");
    let wf = wf["id"].as_i64().unwrap_or(0);
    let (_, c) = app
        .api_post("/contacts", &token, json!({"email": "t@example.com"}))
        .await;
    let html = app
        .get_html(&format!("/workflows/{wf}/test?contact_id={}", c["id"]))
        .await;
    let details = texts(&html, ".branch-path");
    let all = details.join(" | ");
    assert!(
        details
            .iter()
            .any(|d| d.contains("the event “payment_received”")
                && d.contains("Met path")
                && d.contains("Timed out path after 3 days")),
        "{all}"
    );
    assert!(
        details
            .iter()
            .any(|d| d == "This contact takes path “Only”."),
        "{all}"
    );
    assert!(
        details
            .iter()
            .any(|d| d.starts_with("Deferred by pacing to ")),
        "{all}"
    );
    assert!(text(&html, "#goal-met").is_none());

    let (_, done) = app
        .api_post(
            "/contacts",
            &token,
            json!({"email": "done@example.com", "properties": {"renewal_notice": "renewed"}}),
        )
        .await;
    let html = app
        .get_html(&format!("/workflows/{wf}/test?contact_id={}", done["id"]))
        .await;
    let g = text(&html, "#goal-met").unwrap_or_default();
    assert!(g.contains("already meets the workflow's goal"), "{g}");
}

/// Forks inside forks: under a top-level if/then branch, the Test page lists the steps of
/// the path this contact takes, a nested wait's two paths and a nested split's chosen path,
/// each explained, and nothing of the path it does not take.
#[tokio::test]
async fn the_test_page_explains_the_steps_inside_the_path_a_contact_takes() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let def = json!({"name": "Nested test", "start": {"type": "blank"},
        "steps": [
            {"type": "branch", "condition": [[{"property": "renewal_notice", "operator": "eq", "value": "due"}]],
             "yes": [
                {"type": "wait_until", "event": "payment_received", "timeout": {"amount": 2, "unit": "weeks"},
                 "met": [{"type": "send_email", "subject": "Thank you", "body": "Hi"}],
                 "timed_out": [{"type": "random_split", "paths": [
                    {"name": "Reminder", "percent": 100, "steps": [{"type": "send_email", "subject": "Last call", "body": "Hi"}]}]}]}],
             "no": [{"type": "send_email", "subject": "Not for you", "body": "Hi"}]}]});
    let (s, wf) = app.api_post("/workflows", &token, def).await;
    assert_eq!(s, StatusCode::CREATED, "{wf}");
    let wf = wf["id"].as_i64().unwrap_or(0);
    let (_, c) = app
        .api_post(
            "/contacts",
            &token,
            json!({"email": "due@example.com", "properties": {"renewal_notice": "due"}}),
        )
        .await;
    let html = app
        .get_html(&format!("/workflows/{wf}/test?contact_id={}", c["id"]))
        .await;
    let lines = texts(&html, ".nested-steps li");
    let all = lines.join(" | ");
    let at = |needle: &str| lines.iter().position(|l| l.contains(needle));
    let (Some(yes), Some(wait), Some(met), Some(timed_out), Some(split)) = (
        at("On the “Yes” path"),
        at("Waits for the event “payment_received”"),
        at("On the Met path"),
        at("On the Timed out path"),
        at("This contact takes path “Reminder”"),
    ) else {
        panic!("a nested path is missing: {all}");
    };
    assert!(
        yes < wait && wait < met && met < timed_out && timed_out < split,
        "{all}"
    );
    assert!(
        at("Thank you").is_some() && at("Last call").is_some(),
        "{all}"
    );
    assert!(
        at("Not for you").is_none(),
        "the path not taken is listed: {all}"
    );
}

#[tokio::test]
async fn review_sums_up_goal_waits_splits_and_pacing_in_sentences() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let def = json!({"name": "Renewal review", "start": {"type": "blank"},
        "goal": {"filter_groups": [[{"property": "renewal_notice", "operator": "eq", "value": "renewed"}]]},
        "settings": {"pacing": {"max_emails": 2, "per_days": 7}},
        "steps": [
            {"type": "wait_until", "event": "payment_received", "timeout": {"amount": 3, "unit": "days"},
             "timed_out": [{"type": "send_email", "subject": "Last call", "body": "Hi"}]},
            {"type": "random_split", "holdout_percent": 10, "paths": [
                {"name": "A", "percent": 90, "steps": [{"type": "send_email", "subject": "Renew", "body": "Hi"}]}]}]});
    let (s, wf) = app.api_post("/workflows", &token, def).await;
    assert_eq!(s, StatusCode::CREATED, "{wf}");
    let wf = wf["id"].as_i64().unwrap_or(0);
    let html = app.get_html(&format!("/workflows/{wf}/review")).await;
    let goal = text(&html, "#goal-sentence").unwrap_or_default();
    assert!(
        goal.contains("renewed") && goal.contains("leave the workflow at once"),
        "{goal}"
    );
    let forks = texts(&html, "#fork-sentences li");
    assert_eq!(forks.len(), 2, "{forks:?}");
    assert!(forks[0].starts_with("Step 1: Wait until"), "{forks:?}");
    assert!(forks[0].contains("the Met path: nothing more"), "{forks:?}");
    assert!(forks[0].contains("the Timed out path: 1 step"), "{forks:?}");
    assert!(forks[1].contains("90% take path “A” (1 step)"), "{forks:?}");
    assert!(forks[1].contains("10% are held out"), "{forks:?}");
    let pacing = text(&html, "#pacing-sentence").unwrap_or_default();
    assert!(
        pacing.contains("This workflow's own pacing: At most 2 emails per contact in 7 days"),
        "{pacing}"
    );
    let steps = texts(&html, "#step-summary li").join(" | ");
    assert!(steps.contains("If timed out:"), "{steps}");
}

#[tokio::test]
async fn contacts_waiting_for_an_event_count_on_the_wait_card_and_history() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let def = json!({"name": "Wait for payment", "start": {"type": "blank"},
        "steps": [
            {"type": "wait_until", "event": "payment_received", "timeout": {"amount": 3, "unit": "days"},
             "met": [{"type": "set_property", "property": "renewal_notice", "value": "paid"}]}]});
    let wf = app.publish_workflow(&token, def, false).await;
    let (_, c) = app
        .api_post("/contacts", &token, json!({"email": "w@example.com"}))
        .await;
    let (s, body) = app
        .api_post(
            &format!("/workflows/{wf}/enrollments"),
            &token,
            json!({"contact_id": c["id"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let start = Instant::now();
    let mut sentence = String::new();
    while !sentence.contains("waiting for the event “payment_received”") {
        assert!(start.elapsed() < Duration::from_secs(10), "{sentence}");
        tokio::time::sleep(Duration::from_millis(100)).await;
        let html = app.get_html(&format!("/workflows/{wf}/history")).await;
        sentence = texts(&html, "body").join(" ");
    }
    let html = app.get_html(&format!("/workflows/{wf}")).await;
    let counts = text(&html, "#card-step-0 .card-counts").unwrap_or_default();
    assert!(counts.contains("1 waiting"), "{counts}");
}
