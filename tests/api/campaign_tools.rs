//! Goals, wait until, random splits, pacing and relative date filters (issue 17), through the
//! API and the real worker.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::workflows_api::with_properties;

async fn history(app: &TestApp, token: &str, wf: i64, query: &str) -> Vec<Value> {
    let (_, h) = app
        .api_get(&format!("/workflows/{wf}/history?{query}"), token)
        .await;
    h["events"].as_array().cloned().unwrap_or_default()
}

async fn wait_history<F: Fn(&[Value]) -> bool>(
    app: &TestApp,
    token: &str,
    wf: i64,
    query: &str,
    ok: F,
) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let ev = history(app, token, wf, query).await;
        if ok(&ev) {
            return ev;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting; history: {ev:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn contact(app: &TestApp, token: &str, body: Value) -> i64 {
    let (s, c) = app.api_post("/contacts", token, body).await;
    assert!(s.is_success(), "{c}");
    c["id"].as_i64().expect("contact id")
}

async fn enroll(app: &TestApp, token: &str, wf: i64, cid: i64) -> (StatusCode, Value) {
    app.api_post(
        &format!("/workflows/{wf}/enrollments"),
        token,
        json!({"contact_id": cid}),
    )
    .await
}

async fn enrollment(app: &TestApp, token: &str, wf: i64, cid: i64) -> Value {
    let (_, e) = app
        .api_get(
            &format!("/workflows/{wf}/enrollments?contact_id={cid}"),
            token,
        )
        .await;
    e["enrollments"][0].clone()
}

#[tokio::test]
async fn a_contact_meeting_the_goal_leaves_at_once_even_while_waiting() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let def = json!({"name": "Renewal nudges", "start": {"type": "blank"},
        "goal": {"filter_groups": [[{"property": "renewal_notice", "operator": "eq", "value": "renewed"}]]},
        "steps": [
            {"type": "delay", "amount": 3, "unit": "days"},
            {"type": "send_email", "subject": "Renew now", "body": "Hi"}]});
    let (s, wf) = app.api_post("/workflows", &token, def).await;
    assert_eq!(s, StatusCode::CREATED, "{wf}");
    assert_eq!(
        wf["definition"]["goal"]["filter_groups"][0][0]["value"],
        "renewed"
    );
    let wf = wf["id"].as_i64().expect("id");
    app.api_post(
        &format!("/workflows/{wf}/publish"),
        &token,
        json!({"enroll_existing": false}),
    )
    .await;

    // Already meets the goal: not enrolled.
    let done = contact(
        &app,
        &token,
        json!({"email": "done@example.com", "properties": {"renewal_notice": "renewed"}}),
    )
    .await;
    let (s, body) = enroll(&app, &token, wf, done).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"].as_str().unwrap_or("").contains("goal"),
        "{body}"
    );

    // Enrolled, waiting three days; renews today: leaves at once, a conversion.
    let cid = contact(&app, &token, json!({"email": "ada@example.com"})).await;
    let (s, _) = enroll(&app, &token, wf, cid).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = app
        .api_patch(
            &format!("/contacts/{cid}"),
            &token,
            json!({"properties": {"renewal_notice": "renewed"}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let e = enrollment(&app, &token, wf, cid).await;
    assert_eq!(e["status"], "completed", "{e}");
    assert_eq!(e["reason"], "goal met", "{e}");
    let ev = history(
        &app,
        &token,
        wf,
        &format!("contact_id={cid}&event=completed"),
    )
    .await;
    assert!(
        ev[0]["detail"]
            .as_str()
            .unwrap_or("")
            .starts_with("goal met"),
        "{ev:?}"
    );
    // One enrolled contact, one conversion (the one refused at enrollment does not count).
    let mut conn = app.db();
    assert_eq!(
        perennial::db::queries::conversions(&mut conn, wf).expect("counts"),
        (1, 1)
    );
}

#[tokio::test]
async fn the_goal_is_checked_before_each_action() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    // The first action itself makes the contact meet the goal: the second never runs.
    let def = json!({"name": "Self-converting", "start": {"type": "blank"},
        "goal": {"filter_groups": [[{"property": "renewal_notice", "operator": "known"}]]},
        "steps": [
            {"type": "set_property", "property": "renewal_notice", "value": "sent"},
            {"type": "send_email", "subject": "Never", "body": "x"}]});
    let wf = app.publish_workflow(&token, def, false).await;
    let cid = contact(&app, &token, json!({"email": "b@example.com"})).await;
    enroll(&app, &token, wf, cid).await;
    wait_history(
        &app,
        &token,
        wf,
        &format!("contact_id={cid}&event=completed"),
        |e| !e.is_empty(),
    )
    .await;
    let sent = history(&app, &token, wf, "event=action_executed").await;
    assert_eq!(sent.len(), 1, "only the first action ran: {sent:?}");
    assert_eq!(
        enrollment(&app, &token, wf, cid).await["reason"],
        "goal met"
    );
}

#[tokio::test]
async fn wait_until_takes_the_met_path_when_the_condition_comes_true_or_times_out() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let def = json!({"name": "Wait for renewal", "start": {"type": "blank"},
        "steps": [{"type": "wait_until",
            "condition": [[{"property": "renewal_notice", "operator": "eq", "value": "renewed"}]],
            "timeout": {"amount": 2, "unit": "days"},
            "met": [{"type": "set_property", "property": "customer_since", "value": "2026-01-01"}],
            "timed_out": [{"type": "send_email", "subject": "Still there?", "body": "x"}]}]});
    let wf = app.publish_workflow(&token, def, false).await;

    // Waits (the condition does not hold yet) …
    let a = contact(&app, &token, json!({"email": "wait@example.com"})).await;
    enroll(&app, &token, wf, a).await;
    let waiting = wait_history(
        &app,
        &token,
        wf,
        &format!("contact_id={a}&event=scheduled"),
        |e| e.iter().any(|x| x["step"] == "0/wait"),
    )
    .await;
    assert!(
        waiting.iter().any(|x| x["detail"]
            .as_str()
            .unwrap_or("")
            .contains("waiting for the condition")),
        "{waiting:?}"
    );
    // The enrollment sits at the wait, due when it times out (two days from now).
    let e = enrollment(&app, &token, wf, a).await;
    assert_eq!(e["next_step"], 0, "{e}");
    let due =
        chrono::DateTime::parse_from_rfc3339(e["next_due_at"].as_str().unwrap_or("")).expect("due");
    let hours = (due.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_hours();
    assert!((47..=48).contains(&hours), "{e}");
    // … and moves on the moment it holds.
    app.api_patch(
        &format!("/contacts/{a}"),
        &token,
        json!({"properties": {"renewal_notice": "renewed"}}),
    )
    .await;
    wait_history(
        &app,
        &token,
        wf,
        &format!("contact_id={a}&event=completed"),
        |e| !e.is_empty(),
    )
    .await;
    let (_, got) = app.api_get(&format!("/contacts/{a}"), &token).await;
    assert_eq!(
        got["properties"]["customer_since"], "2026-01-01",
        "met path ran"
    );

    // Already met on arrival: the met path at once.
    let b = contact(
        &app,
        &token,
        json!({"email": "met@example.com", "properties": {"renewal_notice": "renewed"}}),
    )
    .await;
    enroll(&app, &token, wf, b).await;
    let ev = wait_history(
        &app,
        &token,
        wf,
        &format!("contact_id={b}&event=completed"),
        |e| !e.is_empty(),
    )
    .await;
    assert!(!ev.is_empty());

    // Timed out: the timed-out path.
    let c = contact(&app, &token, json!({"email": "late@example.com"})).await;
    enroll(&app, &token, wf, c).await;
    wait_history(
        &app,
        &token,
        wf,
        &format!("contact_id={c}&event=scheduled"),
        |e| e.iter().any(|x| x["step"] == "0/wait"),
    )
    .await;
    let past = perennial::clock::fmt_instant(chrono::Utc::now() - chrono::Duration::seconds(1));
    app.make_all_due_at(&past);
    let ev = wait_history(
        &app,
        &token,
        wf,
        &format!("contact_id={c}&event=action_executed"),
        |e| e.iter().any(|x| x["step"] == "0/timed_out/0"),
    )
    .await;
    assert!(
        ev.iter()
            .any(|x| x["detail"].as_str().unwrap_or("").contains("timed out")),
        "{ev:?}"
    );
}

#[tokio::test]
async fn wait_until_an_event_moves_on_when_the_event_is_posted() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let def = json!({"name": "Wait for payment", "start": {"type": "blank"},
        "steps": [{"type": "wait_until", "event": "payment_received",
            "timeout": {"amount": 7, "unit": "days"},
            "met": [{"type": "set_property", "property": "renewal_notice", "value": "paid"}],
            "timed_out": []}]});
    let wf = app.publish_workflow(&token, def, false).await;
    let cid = contact(&app, &token, json!({"email": "payer@example.com"})).await;
    enroll(&app, &token, wf, cid).await;
    wait_history(
        &app,
        &token,
        wf,
        &format!("contact_id={cid}&event=scheduled"),
        |e| e.iter().any(|x| x["step"] == "0/wait"),
    )
    .await;
    // Another event changes nothing; the awaited one moves the contact on.
    app.api_post(
        "/events",
        &token,
        json!({"contact_id": cid, "name": "page_view"}),
    )
    .await;
    let e = enrollment(&app, &token, wf, cid).await;
    assert_eq!(
        (e["status"].as_str(), e["next_step"].as_i64()),
        (Some("active"), Some(0)),
        "{e}"
    );
    let (s, _) = app
        .api_post(
            "/events",
            &token,
            json!({"contact_id": cid, "name": "payment_received"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    wait_history(
        &app,
        &token,
        wf,
        &format!("contact_id={cid}&event=completed"),
        |e| !e.is_empty(),
    )
    .await;
    let (_, got) = app.api_get(&format!("/contacts/{cid}"), &token).await;
    assert_eq!(got["properties"]["renewal_notice"], "paid");
}

#[tokio::test]
async fn a_random_split_deals_contacts_by_percent_stably_with_a_holdout() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let def = json!({"name": "Subject test", "start": {"type": "blank"},
        "triggers": {"filter_groups": [[{"property": "email", "operator": "known"}]]},
        "steps": [{"type": "random_split", "holdout_percent": 20, "paths": [
            {"name": "A", "percent": 40, "steps": [{"type": "set_property", "property": "renewal_notice", "value": "A"}]},
            {"name": "B", "percent": 40, "steps": [{"type": "set_property", "property": "renewal_notice", "value": "B"}]}]}]});
    let (s, bad) = app
        .api_post("/workflows", &token, json!({"name": "Bad split", "start": {"type": "blank"},
            "steps": [{"type": "random_split", "paths": [{"name": "A", "percent": 50, "steps": []}]}]}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert_eq!(bad["field"], "steps[0].holdout_percent", "{bad}");

    let wf = app.publish_workflow(&token, def, false).await;
    let inputs: Vec<Value> = (0..200)
        .map(|i| json!({"email": format!("s{i}@example.com")}))
        .collect();
    let (s, _) = app
        .api_post("/contacts/batch", &token, json!({"inputs": inputs}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let done = wait_history(&app, &token, wf, "event=completed", |e| e.len() >= 50).await;
    assert!(!done.is_empty());
    let start = Instant::now();
    let mut counts = (0, 0, 0);
    while start.elapsed() < Duration::from_secs(10) {
        let mut all = Vec::new();
        let mut before = String::new();
        loop {
            let (_, h) = app
                .api_get(
                    &format!("/workflows/{wf}/history?event=action_executed{before}"),
                    &token,
                )
                .await;
            all.extend(h["events"].as_array().cloned().unwrap_or_default());
            match h["next"].as_str() {
                Some(n) => before = format!("&before={n}"),
                None => break,
            }
        }
        let picks: Vec<&str> = all
            .iter()
            .filter(|e| e["step"] == 0)
            .filter_map(|e| e["detail"].as_str())
            .collect();
        counts = (
            picks.iter().filter(|d| d.contains("path “A”")).count(),
            picks.iter().filter(|d| d.contains("path “B”")).count(),
            picks.iter().filter(|d| d.contains("holdout")).count(),
        );
        if counts.0 + counts.1 + counts.2 == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(counts.0 + counts.1 + counts.2, 200, "{counts:?}");
    // 40 / 40 / 20 %: each share within a generous band of its expectation.
    assert!((55..=105).contains(&counts.0), "{counts:?}");
    assert!((55..=105).contains(&counts.1), "{counts:?}");
    assert!((20..=60).contains(&counts.2), "{counts:?}");
    // The comparison of the paths: who took each, and who converted (no goal here: nobody).
    let mut conn = app.db();
    let cond = perennial::domain::filter::Cond::FALSE;
    let outcomes =
        perennial::db::queries::split_outcomes(&mut conn, wf, "0", &cond).expect("outcomes");
    assert_eq!(outcomes.len(), 3, "{outcomes:?}");
    assert_eq!(
        outcomes.iter().map(|(_, n, _)| n).sum::<i64>(),
        200,
        "{outcomes:?}"
    );
    assert!(outcomes.iter().all(|(_, _, converted)| *converted == 0));
    // Stable: the same contact in the same split lands on the same path.
    assert_eq!(
        perennial::domain::split::bucket(wf, "0", 1),
        perennial::domain::split::bucket(wf, "0", 1)
    );
}

#[tokio::test]
async fn pacing_defers_an_email_past_the_cap_and_says_why() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let email = |s: &str| json!({"type": "send_email", "subject": s, "body": "x"});
    let def = json!({"name": "Busy", "start": {"type": "blank"},
        "steps": [email("one"), email("two"), email("three")],
        "settings": {"pacing": {"max_emails": 2, "per_days": 7}}});
    let wf = app.publish_workflow(&token, def, false).await;
    let cid = contact(&app, &token, json!({"email": "paced@example.com"})).await;
    enroll(&app, &token, wf, cid).await;
    let ev = wait_history(
        &app,
        &token,
        wf,
        &format!("contact_id={cid}&event=rescheduled"),
        |e| !e.is_empty(),
    )
    .await;
    let detail = ev[0]["detail"].as_str().unwrap_or("");
    assert!(
        detail.contains("deferred by pacing")
            && detail.contains("2 emails in the last 7 days (at most 2)"),
        "{detail}"
    );
    assert_eq!(ev[0]["step"], 2);
    let sent = history(
        &app,
        &token,
        wf,
        &format!("contact_id={cid}&event=action_executed"),
    )
    .await;
    assert_eq!(sent.len(), 2, "the third waits, never dropped");
    let e = enrollment(&app, &token, wf, cid).await;
    assert_eq!(e["status"], "active");
    assert_eq!(e["next_step"], 2);
    let due =
        chrono::DateTime::parse_from_rfc3339(e["next_due_at"].as_str().unwrap_or("")).expect("due");
    let days = (due.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_hours();
    assert!(
        (167..=168).contains(&days),
        "due a week after the first email: {e}"
    );

    // A bad pacing setting is a 422 naming the field.
    let (s, bad) = app
        .api_post(
            "/workflows",
            &token,
            json!({"name": "Bad pacing", "start": {"type": "blank"},
            "steps": [email("x")], "settings": {"pacing": {"max_emails": 3}}}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad["field"], "settings.pacing.per_days", "{bad}");
}

#[tokio::test]
async fn birthdays_in_the_next_days_ignoring_the_year_trigger_and_backfill() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let today = chrono::Utc::now().date_naive();
    let in_3_days = today + chrono::Duration::days(3);
    let soon = in_3_days.format("1990-%m-%d").to_string();
    let later = (today + chrono::Duration::days(40))
        .format("1985-%m-%d")
        .to_string();
    let a = contact(
        &app,
        &token,
        json!({"email": "soon@example.com", "properties": {"customer_since": soon}}),
    )
    .await;
    let b = contact(
        &app,
        &token,
        json!({"email": "later@example.com", "properties": {"customer_since": later}}),
    )
    .await;
    let def = json!({"name": "Birthday week", "start": {"type": "blank"},
        "triggers": {"filter_groups": [[{"property": "customer_since", "operator": "within_next_days", "value": 7, "ignore_year": true}]]},
        "steps": [{"type": "send_email", "subject": "Happy birthday soon", "body": "x"}]});
    let (s, created) = app.api_post("/workflows", &token, def.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    assert_eq!(created["definition"], def, "round-trips with ignore_year");
    let wf = created["id"].as_i64().expect("id");
    app.api_post(
        &format!("/workflows/{wf}/publish"),
        &token,
        json!({"enroll_existing": true}),
    )
    .await;
    let start = Instant::now();
    loop {
        let ea = enrollment(&app, &token, wf, a).await;
        if !ea.is_null() {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "not enrolled");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        enrollment(&app, &token, wf, b).await.is_null(),
        "40 days away: not this week"
    );

    // ignore_year only goes with within_…; a bad count names the value.
    let bad = |f: Value| json!({"name": "x", "start": {"type": "blank"}, "triggers": {"filter_groups": [[f]]}, "steps": [{"type": "send_email", "subject": "s", "body": "b"}]});
    let (s, e) = app
        .api_post("/workflows", &token, bad(json!({"property": "customer_since", "operator": "eq", "value": "2020-01-01", "ignore_year": true})))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        e["field"], "triggers.filter_groups[0][0].ignore_year",
        "{e}"
    );
    let (s, e) = app
        .api_post("/workflows", &token, bad(json!({"property": "customer_since", "operator": "within_last_days", "value": "soon"})))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["field"], "triggers.filter_groups[0][0].value", "{e}");
}

#[tokio::test]
async fn pacing_counts_emails_of_every_workflow_even_within_one_worker_batch() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    // Two workflows enroll the same contact in one write (their trigger), so the worker
    // claims both jobs together: the second email must see the first.
    let def = |name: &str| {
        json!({"name": name, "start": {"type": "blank"},
            "triggers": {"filter_groups": [[{"property": "lifecyclestage", "operator": "eq", "value": "customer"}]]},
            "steps": [{"type": "send_email", "subject": name, "body": "x"}],
            "settings": {"pacing": {"max_emails": 1, "per_days": 7}}})
    };
    let a = app.publish_workflow(&token, def("Welcome A"), false).await;
    let b = app.publish_workflow(&token, def("Welcome B"), false).await;
    let cid = contact(
        &app,
        &token,
        json!({"email": "twice@example.com", "properties": {"lifecyclestage": "customer"}}),
    )
    .await;
    let start = Instant::now();
    let (sent, deferred) = loop {
        let mut sent = 0;
        let mut deferred = Vec::new();
        for wf in [a, b] {
            let q = format!("contact_id={cid}");
            for e in history(&app, &token, wf, &q).await {
                match e["event"].as_str() {
                    Some("action_executed") => sent += 1,
                    Some("rescheduled") => deferred.push(e["detail"].clone()),
                    _ => {}
                }
            }
        }
        if sent + deferred.len() >= 2 {
            break (sent, deferred);
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out: {sent} sent, {deferred:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(sent, 1, "one email goes: {deferred:?}");
    assert_eq!(deferred.len(), 1);
    let detail = deferred[0].as_str().unwrap_or("");
    assert!(
        detail.contains("deferred by pacing")
            && detail.contains("1 email in the last 7 days (at most 1)"),
        "{detail}"
    );
}
