use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{attrs, texts, TestApp};

/// The DESIGN §7 example, on a `renewal_date` property.
pub fn example() -> Value {
    json!({ "name": "Renewal reminder",
      "start": { "type": "contact_date_property", "property": "renewal_date" },
      "recur_annually": true,
      "triggers": { "filter_groups": [[{ "property": "lifecyclestage", "operator": "eq", "value": "customer" }]],
                    "manual_only": false },
      "reenroll": { "enabled": false, "on_properties": [] },
      "steps": [
        { "type": "date_delay", "when": "before", "amount": 30, "unit": "days", "time_of_day": "09:00" },
        { "type": "send_email", "subject": "Renewal in 30 days", "body": "Hi {{ contact.firstname }}" },
        { "type": "date_delay", "when": "on", "time_of_day": "08:00", "zone": "contact" },
        { "type": "set_property", "property": "renewal_notice", "value": "sent" } ],
      "settings": { "time_zone": "Europe/Oslo", "feb29": "feb28",
        "execution_window": { "days": ["mon","tue","wed","thu","fri"], "start": "09:00", "end": "17:00" },
        "pause_dates": [], "catch_up_hours": 24, "unenroll_when_unmet": false,
        "suppression": { "filter_groups": [], "list_ids": [] }, "unenroll_from_workflows": [] } })
}

pub async fn with_properties(app: &TestApp, token: &str) {
    for (name, ft) in [
        ("renewal_date", "date"),
        ("renewal_notice", "text"),
        ("customer_since", "date"),
    ] {
        let (s, _) = app
            .api_post(
                "/properties",
                token,
                json!({"name": name, "label": name, "field_type": ft}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
    }
}

#[tokio::test]
async fn the_design_example_round_trips_unchanged() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let (s, wf) = app.api_post("/workflows", &token, example()).await;
    assert_eq!(s, StatusCode::CREATED, "{wf}");
    assert_eq!(wf["definition"], example());
    assert_eq!(wf["status"], "off");
    assert_eq!(wf["revision"], 1);
    let id = wf["id"].as_i64().unwrap();
    let (s, got) = app.api_get(&format!("/workflows/{id}"), &token).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(got, wf);
    let mut changed = example();
    changed["name"] = json!("Renewal reminder v2");
    let (s, put) = app
        .api_put(&format!("/workflows/{id}"), &token, changed.clone())
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(put["revision"], 2);
    assert_eq!(put["definition"], changed);
}

#[tokio::test]
async fn invalid_definitions_get_422_with_the_field_path() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    type Mutation = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(Mutation, &str)> = vec![
        (Box::new(|d| d["colour"] = json!("red")), "colour"),
        (
            Box::new(|d| d["start"] = json!({"type": "specific_date", "date": "2026-02-30"})),
            "start.date",
        ),
        (
            Box::new(|d| d["start"]["property"] = json!("nope")),
            "start.property",
        ),
        (
            Box::new(|d| d["start"]["property"] = json!("date_of_birth")),
            "start.property",
        ),
        (
            Box::new(|d| d["steps"][0]["time_of_day"] = json!("9am")),
            "steps[0].time_of_day",
        ),
        (
            Box::new(|d| d["settings"]["time_zone"] = json!("Mars/Olympus")),
            "settings.time_zone",
        ),
        (
            Box::new(|d| d["steps"][3]["property"] = json!("ghost")),
            "steps[3].property",
        ),
        (
            Box::new(|d| {
                d["start"] = json!({"type": "blank"});
                d["recur_annually"] = json!(false);
            }),
            "steps[0]",
        ),
    ];
    for (mutate, field) in cases {
        let mut d = example();
        mutate(&mut d);
        let (s, e) = app.api_post("/workflows", &token, d.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{d}");
        assert!(
            e["field"].as_str().unwrap_or("").starts_with(field),
            "want {field}, got {e}"
        );
    }
}

#[tokio::test]
async fn publish_enrolls_existing_contacts_and_preview_matches_the_seed_example() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let (_, ada) = app.api_post("/contacts", &token, json!({"email": "ada@example.com", "properties": {"firstname": "Ada", "customer_since": "2020-01-20", "lifecyclestage": "customer"}})).await;
    let (_, bob) = app.api_post("/contacts", &token, json!({"email": "bob@example.com", "properties": {"firstname": "Bob", "lifecyclestage": "customer"}})).await;
    let def = json!({ "name": "Anniversary",
        "start": { "type": "contact_date_property", "property": "customer_since" },
        "recur_annually": true,
        "triggers": { "filter_groups": [[{ "property": "lifecyclestage", "operator": "eq", "value": "customer" }]] },
        "steps": [
            { "type": "date_delay", "when": "after", "amount": 300, "unit": "days", "time_of_day": "09:00" },
            { "type": "send_email", "subject": "Hi", "body": "Hi {{ contact.firstname }}" } ],
        "settings": { "time_zone": "UTC" } });
    let (s, wf) = app.api_post("/workflows", &token, def).await;
    assert_eq!(s, StatusCode::CREATED, "{wf}");
    let id = wf["id"].as_i64().unwrap();
    let ada_id = ada["id"].as_i64().unwrap();
    let (s, p) = app
        .api_get(
            &format!("/workflows/{id}/preview?contact_id={ada_id}&now=2021-03-01T12:00:00Z"),
            &token,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(p["anchor_date"], "2021-01-20", "{p} {ada}");
    assert_eq!(p["cycle_year"], 2021);
    assert_eq!(p["steps"][1]["due_at"], "2021-11-16T09:00:00+00:00");
    assert_eq!(p["steps"][1]["status"], "due");
    assert_eq!(p["steps"][1]["type"], "send_email");

    let (s, on) = app
        .api_post(
            &format!("/workflows/{id}/publish"),
            &token,
            json!({"enroll_existing": true}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{on}");
    assert_eq!(on["status"], "on");
    let (_, list) = app
        .api_get(&format!("/workflows/{id}/enrollments"), &token)
        .await;
    let enrollments = list["enrollments"].as_array().unwrap();
    assert_eq!(enrollments.len(), 1, "{list}");
    assert_eq!(enrollments[0]["contact_id"], ada_id);
    assert_eq!(enrollments[0]["status"], "active");
    let (_, none) = app
        .api_get(
            &format!("/workflows/{id}/enrollments?contact_id={}", bob["id"]),
            &token,
        )
        .await;
    assert_eq!(none["enrollments"], json!([]), "no date, not enrolled");
    let (_, h) = app
        .api_get(
            &format!("/workflows/{id}/history?contact_id={ada_id}"),
            &token,
        )
        .await;
    let kinds: Vec<&str> = h["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.last(), Some(&"enrolled"), "{h}");
    assert!(kinds.contains(&"scheduled"), "{h}");
}

/// A contact with `renewal` as its renewal date, enrolled in `published` by publishing it
/// with "enroll existing" and in its twin `manual` by hand; the contact's id.
async fn enroll_both_ways(
    app: &TestApp,
    token: &str,
    published: i64,
    manual: i64,
    email: &str,
    renewal: &str,
) -> i64 {
    let (_, c) = app
        .api_post(
            "/contacts",
            token,
            json!({"email": email, "properties": {"renewal_date": renewal}}),
        )
        .await;
    let cid = c["id"].as_i64().unwrap_or(0);
    for (id, existing) in [(published, true), (manual, false)] {
        let (s, on) = app
            .api_post(
                &format!("/workflows/{id}/publish"),
                token,
                json!({ "enroll_existing": existing }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{on}");
    }
    let (s, e) = app
        .api_post(
            &format!("/workflows/{manual}/enrollments"),
            token,
            json!({"contact_id": cid}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    cid
}

/// A history answer's events as (event, step, detail), newest first.
fn events_of(v: &Value) -> Vec<(String, Value, String)> {
    v["events"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| {
            (
                e["event"].as_str().unwrap_or("").to_string(),
                e["step"].clone(),
                e["detail"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Issue 16: "enroll existing" stores one history row per contact (the `enrolled` row names
/// the first scheduled step), yet the API shows the same events as a single enrollment does:
/// `scheduled` (the first step, its due time) above `enrolled`, each under its own filter.
#[tokio::test]
async fn publish_writes_one_history_row_per_contact_and_the_api_shows_both_events() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let def = json!({ "name": "Renewal",
        "start": { "type": "contact_date_property", "property": "renewal_date" },
        "steps": [
            { "type": "date_delay", "when": "before", "amount": 30, "unit": "days", "time_of_day": "09:00" },
            { "type": "send_email", "subject": "Renewal soon", "body": "Hi" } ],
        "settings": { "time_zone": "UTC" } });
    let (_, wf) = app.api_post("/workflows", &token, def.clone()).await;
    let published = wf["id"].as_i64().unwrap_or(0);
    let (_, manual_wf) = app.api_post("/workflows", &token, def).await;
    let manual = manual_wf["id"].as_i64().unwrap_or(0);
    let cid = enroll_both_ways(
        &app,
        &token,
        published,
        manual,
        "one@example.com",
        "2099-06-30",
    )
    .await;

    let (_, h) = app
        .api_get(&format!("/workflows/{published}/history"), &token)
        .await;
    let shown = events_of(&h);
    assert_eq!(
        shown
            .iter()
            .map(|(e, s, _)| (e.as_str(), s.clone()))
            .collect::<Vec<_>>(),
        vec![("scheduled", json!(0)), ("enrolled", Value::Null)],
        "{h}"
    );
    assert_eq!(
        shown[0].2, "date_delay due 2099-05-31T09:00:00+00:00",
        "{h}"
    );
    assert!(shown[1].2.contains("existing contact"), "{h}");
    assert!(!shown[1].2.contains("first step"), "{h}");
    // The same events as the manual enrollment's, apart from why it enrolled.
    let (_, hm) = app
        .api_get(&format!("/workflows/{manual}/history"), &token)
        .await;
    let manual_shown = events_of(&hm);
    assert_eq!(manual_shown.len(), 2, "{hm}");
    assert_eq!(
        (&manual_shown[0].0, &manual_shown[0].2),
        (&shown[0].0, &shown[0].2)
    );
    for (filter, want) in [("scheduled", "scheduled"), ("enrolled", "enrolled")] {
        let (_, f) = app
            .api_get(
                &format!("/workflows/{published}/history?event={filter}&contact_id={cid}"),
                &token,
            )
            .await;
        let got = events_of(&f);
        assert_eq!(got.len(), 1, "{filter}: {f}");
        assert_eq!(got[0].0, want, "{f}");
    }
    // The contact page's activity shows both events of each workflow, newest first.
    let page = app.get_html(&format!("/contacts/{cid}")).await;
    let labels = texts(&page, "#workflow-activity li .badge");
    let links = attrs(&page, "#workflow-activity li a", "href");
    assert_eq!(labels.len(), links.len(), "{page}");
    for id in [published, manual] {
        let of_it: Vec<&str> = labels
            .iter()
            .zip(&links)
            .filter(|(_, href)| href.starts_with(&format!("/workflows/{id}/history")))
            .map(|(label, _)| label.as_str())
            .collect();
        assert_eq!(of_it, ["Scheduled", "Enrolled"], "workflow {id}: {page}");
    }
    // Stored: one row for this contact in the published workflow.
    let rows: i64 = {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = app.db();
        diesel::sql_query(format!(
            "SELECT COUNT(*) AS n FROM history_events WHERE workflow_id = {published}"
        ))
        .get_result::<N>(&mut *conn)
        .map(|r| r.n)
        .unwrap_or(-1)
    };
    assert_eq!(rows, 1, "one stored row per contact enrolled at publish");
}

/// A contact whose first steps' dates have passed when "enroll existing" runs: its history
/// reads exactly as a manual enrollment's (newest first: `scheduled`, the `skipped` steps,
/// `enrolled`), the separate `scheduled` row kept after the skipped ones.
#[tokio::test]
async fn publish_keeps_the_event_order_of_a_single_enrollment_when_steps_are_skipped() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let renewal = (chrono::Utc::now() + chrono::Duration::days(10))
        .format("%Y-%m-%d")
        .to_string();
    let def = json!({ "name": "Renewal",
        "start": { "type": "contact_date_property", "property": "renewal_date" },
        "steps": [
            { "type": "date_delay", "when": "before", "amount": 30, "unit": "days", "time_of_day": "09:00" },
            { "type": "send_email", "subject": "Renewal in 30 days", "body": "Hi" },
            { "type": "date_delay", "when": "on", "time_of_day": "08:00" },
            { "type": "set_property", "property": "renewal_notice", "value": "sent" } ],
        "settings": { "time_zone": "UTC" } });
    let (_, a) = app.api_post("/workflows", &token, def.clone()).await;
    let (_, b) = app.api_post("/workflows", &token, def).await;
    let (published, manual) = (a["id"].as_i64().unwrap_or(0), b["id"].as_i64().unwrap_or(0));
    enroll_both_ways(
        &app,
        &token,
        published,
        manual,
        "late@example.com",
        &renewal,
    )
    .await;
    let shown = |v: &Value| -> Vec<(String, Value)> {
        events_of(v)
            .into_iter()
            .map(|(e, step, _)| (e, step))
            .collect()
    };
    let (_, hp) = app
        .api_get(&format!("/workflows/{published}/history"), &token)
        .await;
    let (_, hm) = app
        .api_get(&format!("/workflows/{manual}/history"), &token)
        .await;
    let want = vec![
        ("scheduled".to_string(), json!(2)),
        ("skipped".to_string(), json!(1)),
        ("skipped".to_string(), json!(0)),
        ("enrolled".to_string(), Value::Null),
    ];
    assert_eq!(shown(&hm), want, "{hm}");
    assert_eq!(shown(&hp), want, "{hp}");
}

#[tokio::test]
async fn a_blank_workflow_enrolled_manually_runs_its_action_within_a_second() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let (_, c) = app
        .api_post("/contacts", &token, json!({"email": "cy@example.com"}))
        .await;
    let def = json!({ "name": "Now", "start": {"type": "blank"},
        "steps": [{ "type": "set_property", "property": "renewal_notice", "value": "sent" }] });
    let (_, wf) = app.api_post("/workflows", &token, def).await;
    let id = wf["id"].as_i64().unwrap();
    app.api_post(
        &format!("/workflows/{id}/publish"),
        &token,
        json!({"enroll_existing": false}),
    )
    .await;
    let cid = c["id"].as_i64().unwrap();
    let started = std::time::Instant::now();
    let (s, e) = app
        .api_post(
            &format!("/workflows/{id}/enrollments"),
            &token,
            json!({"contact_id": cid}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    loop {
        let (_, got) = app.api_get(&format!("/contacts/{cid}"), &token).await;
        if got["properties"]["renewal_notice"] == "sent" {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "action ran within a second"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (_, h) = app
        .api_get(
            &format!("/workflows/{id}/history?event=action_executed"),
            &token,
        )
        .await;
    assert_eq!(h["events"].as_array().unwrap().len(), 1, "{h}");
    let (_, list) = app
        .api_get(&format!("/workflows/{id}/enrollments"), &token)
        .await;
    assert_eq!(list["enrollments"][0]["status"], "completed");
}
