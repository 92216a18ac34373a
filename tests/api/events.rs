//! Event-based triggers, custom events and re-enrollment on events (issue 7).

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::workflows_api::with_properties;

async fn publish(app: &TestApp, token: &str, def: Value) -> i64 {
    app.publish_workflow(token, def, false).await
}

fn purchase_workflow(reenroll: bool) -> Value {
    json!({ "name": "Big purchase", "start": {"type": "blank"},
        "triggers": {"filter_groups": [], "events": [{"name": "purchase", "filters": [{"property": "event.amount", "operator": "gt", "value": 100}]}]},
        "reenroll": {"enabled": false, "on_properties": [], "on_events": reenroll},
        "steps": [{"type": "set_property", "property": "renewal_notice", "value": "thanks"}] })
}

async fn enrollments(app: &TestApp, token: &str, wf: i64, contact: i64) -> Vec<Value> {
    let (_, l) = app
        .api_get(
            &format!("/workflows/{wf}/enrollments?contact_id={contact}"),
            token,
        )
        .await;
    l["enrollments"].as_array().cloned().unwrap_or_default()
}

async fn wait_completed(app: &TestApp, token: &str, wf: i64, contact: i64, n: usize) {
    let start = std::time::Instant::now();
    loop {
        let e = enrollments(app, token, wf, contact).await;
        if e.iter().filter(|e| e["status"] == "completed").count() >= n {
            return;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(5), "{e:?}");
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
}

#[tokio::test]
async fn a_custom_event_enrolls_and_a_non_matching_one_does_not() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let wf = publish(&app, &token, purchase_workflow(false)).await;
    let (_, c) = app
        .api_post("/contacts", &token, json!({"email": "buyer@example.com"}))
        .await;
    let cid = c["id"].as_i64().unwrap();
    let (s, small) = app
        .api_post(
            "/events",
            &token,
            json!({"contact_id": cid, "name": "purchase", "properties": {"amount": 50}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{small}");
    assert!(
        enrollments(&app, &token, wf, cid).await.is_empty(),
        "refinement filter not met"
    );
    let (s, big) = app.api_post("/events", &token, json!({"email": "buyer@example.com", "name": "purchase", "properties": {"amount": 250}})).await;
    assert_eq!(s, StatusCode::CREATED);
    let e = enrollments(&app, &token, wf, cid).await;
    assert_eq!(e.len(), 1);
    let (_, h) = app
        .api_get(
            &format!("/workflows/{wf}/history?contact_id={cid}&event=enrolled"),
            &token,
        )
        .await;
    let detail = h["events"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("purchase") && detail.contains(&format!("id {}", big["id"])),
        "history names the event: {detail}"
    );
}

#[tokio::test]
async fn re_enrollment_on_events_enrolls_again_after_completion_but_never_while_enrolled() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let mut def = purchase_workflow(true);
    // A delay keeps the first enrollment active for a while.
    def["steps"] = json!([{"type": "delay", "amount": 1, "unit": "minutes"}, {"type": "set_property", "property": "renewal_notice", "value": "thanks"}]);
    let wf = publish(&app, &token, def).await;
    let (_, c) = app
        .api_post("/contacts", &token, json!({"email": "again@example.com"}))
        .await;
    let cid = c["id"].as_i64().unwrap();
    let buy = json!({"contact_id": cid, "name": "purchase", "properties": {"amount": 500}});
    app.api_post("/events", &token, buy.clone()).await;
    app.api_post("/events", &token, buy.clone()).await;
    assert_eq!(
        enrollments(&app, &token, wf, cid).await.len(),
        1,
        "not while still enrolled"
    );
    let (_, h) = app
        .api_get(
            &format!("/workflows/{wf}/history?contact_id={cid}&event=skipped"),
            &token,
        )
        .await;
    assert!(
        h["events"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("still enrolled"),
        "{h}"
    );
    // Finish the first enrollment (as if its minute had passed), then buy again.
    app.make_all_due_at("2000-01-01T00:00:00.000Z");
    wait_completed(&app, &token, wf, cid, 1).await;
    app.api_post("/events", &token, buy).await;
    let e = enrollments(&app, &token, wf, cid).await;
    assert_eq!(e.len(), 2, "re-enrolled: {e:?}");
    let (_, h) = app
        .api_get(
            &format!("/workflows/{wf}/history?contact_id={cid}&event=enrolled"),
            &token,
        )
        .await;
    assert!(
        h["events"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("re-enrolled"),
        "{h}"
    );
}

#[tokio::test]
async fn the_built_in_property_changed_event_enrolls() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    app.api_post(
        "/properties",
        &token,
        json!({"name": "plan", "label": "Plan", "field_type": "text"}),
    )
    .await;
    let def = json!({ "name": "Upgraded", "start": {"type": "blank"},
        "triggers": {"events": [{"name": "property_changed", "filters": [
            {"property": "event.property", "operator": "eq", "value": "plan"},
            {"property": "event.new", "operator": "eq", "value": "pro"}]}]},
        "steps": [{"type": "set_property", "property": "renewal_notice", "value": "welcome to pro"}] });
    let wf = publish(&app, &token, def).await;
    let (_, c) = app
        .api_post(
            "/contacts",
            &token,
            json!({"email": "up@example.com", "properties": {"plan": "basic"}}),
        )
        .await;
    let cid = c["id"].as_i64().unwrap();
    assert!(enrollments(&app, &token, wf, cid).await.is_empty());
    app.api_patch(
        &format!("/contacts/{cid}"),
        &token,
        json!({"properties": {"plan": "pro"}}),
    )
    .await;
    assert_eq!(enrollments(&app, &token, wf, cid).await.len(), 1);
    // The contact's timeline shows what happened, newest first.
    let (s, t) = app
        .api_get(&format!("/contacts/{cid}/events"), &token)
        .await;
    assert_eq!(s, StatusCode::OK);
    let names: Vec<&str> = t["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"workflow_enrolled"), "{names:?}");
    assert_eq!(names.last(), Some(&"contact_created"), "{names:?}");
    let changed = t["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "property_changed" && e["properties"]["new"] == "pro")
        .unwrap();
    assert_eq!(changed["properties"]["old"], "basic");
}

#[tokio::test]
async fn an_event_enrolls_into_a_date_centred_workflow_on_the_normal_schedule() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let def = json!({ "name": "Renewal on signal", "start": {"type": "contact_date_property", "property": "renewal_date"},
        "triggers": {"events": [{"name": "renewal_quote_requested"}]},
        "steps": [{"type": "date_delay", "when": "before", "amount": 2, "unit": "weeks", "time_of_day": "10:30"},
                  {"type": "send_email", "subject": "Quote", "body": "Hi"}],
        "settings": {"time_zone": "Europe/Oslo"} });
    let wf = publish(&app, &token, def).await;
    let (_, c) = app
        .api_post(
            "/contacts",
            &token,
            json!({"email": "q@example.com", "properties": {"renewal_date": "2099-03-31"}}),
        )
        .await;
    let cid = c["id"].as_i64().unwrap();
    let (s, _) = app
        .api_post(
            "/events",
            &token,
            json!({"contact_id": cid, "name": "renewal_quote_requested"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let e = enrollments(&app, &token, wf, cid).await;
    assert_eq!(
        e[0]["next_due_at"], "2099-03-17T10:30:00+01:00",
        "two weeks before, Oslo winter time: {e:?}"
    );
}

#[tokio::test]
async fn bad_event_payloads_get_422_naming_the_field() {
    let (app, token) = TestApp::ready().await;
    let (_, c) = app
        .api_post("/contacts", &token, json!({"email": "e@example.com"}))
        .await;
    let cid = c["id"].as_i64().unwrap();
    let cases = [
        (json!({"contact_id": cid}), "name"),
        (json!({"contact_id": cid, "name": "has space"}), "name"),
        (json!({"name": "x"}), "contact_id"),
        (
            json!({"contact_id": cid, "name": "x", "occurred_at": "yesterday"}),
            "occurred_at",
        ),
        (
            json!({"contact_id": cid, "name": "x", "properties": [1]}),
            "properties",
        ),
        (
            json!({"contact_id": cid, "name": "x", "properties": {"a": {"b": 1}}}),
            "properties.a",
        ),
        (
            json!({"contact_id": cid, "name": "x", "colour": "red"}),
            "colour",
        ),
        (json!({"email": "nope", "name": "x"}), "email"),
        (
            json!([{"contact_id": cid, "name": "ok"}, {"contact_id": cid}]),
            "events[1].name",
        ),
    ];
    for (body, field) in cases {
        let (s, e) = app.api_post("/events", &token, body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(e["field"], field, "{body}: {e}");
    }
    let (_, t) = app
        .api_get(&format!("/contacts/{cid}/events"), &token)
        .await;
    assert!(
        t["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["name"] != "ok"),
        "a refused batch records nothing"
    );
    let (s, _) = app
        .api_post(
            "/events",
            &token,
            json!({"email": "ghost@example.com", "name": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, created) = app
        .api_post(
            "/events",
            &token,
            json!({"email": "ghost@example.com", "name": "x", "create_contact": true}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let (s, batch) = app
        .api_post(
            "/events",
            &token,
            json!({"events": [{"contact_id": cid, "name": "a"}, {"contact_id": cid, "name": "b"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(batch["events"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_contact_activity_page_lists_events_newest_first() {
    let (app, token) = TestApp::ready().await;
    let (_, c) = app
        .api_post(
            "/contacts",
            &token,
            json!({"email": "tl@example.com", "properties": {"firstname": "Tia"}}),
        )
        .await;
    let cid = c["id"].as_i64().unwrap();
    app.api_post(
        "/events",
        &token,
        json!({"contact_id": cid, "name": "webinar_attended", "properties": {"topic": "Renewals"}}),
    )
    .await;
    let html = app.get_html(&format!("/contacts/{cid}/events")).await;
    let custom = html
        .find("Custom event “webinar_attended” received")
        .expect("custom event shown");
    let created = html.find("Contact created").expect("built-in event shown");
    assert!(custom < created, "newest first");
    // The event's properties, behind a disclosure.
    assert!(html.contains("<dt>topic</dt><dd>Renewals</dd>"));
}

#[tokio::test]
async fn event_triggers_are_edited_in_the_trigger_panel() {
    let (app, token) = TestApp::ready().await;
    let (_, wf) = app
        .api_post(
            "/workflows",
            &token,
            json!({"name": "Panel", "start": {"type": "blank"},
        "steps": [{"type": "clear_property", "property": "lastname"}]}),
        )
        .await;
    let id = wf["id"].as_i64().unwrap();
    let page = format!("/workflows/{id}?panel=trigger");
    let html = app.get_html(&page).await;
    assert!(html.contains("When an event occurs"));
    let res = app
        .post_form(
            &page,
            &format!("/workflows/{id}/trigger"),
            &[
                ("ev0_name", "purchase"),
                ("ev0_f0_property", "event.amount"),
                ("ev0_f0_operator", "gt"),
                ("ev0_f0_value", "100"),
                ("reenroll_on_events", "1"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, got) = app.api_get(&format!("/workflows/{id}"), &token).await;
    assert_eq!(
        got["definition"]["triggers"]["events"],
        json!([{"name": "purchase", "filters": [{"property": "event.amount", "operator": "gt", "value": 100}]}])
    );
    assert_eq!(got["definition"]["reenroll"]["on_events"], true);
    let html = app.get_html(&format!("/workflows/{id}")).await;
    assert!(
        html.contains("When “purchase” occurs"),
        "the trigger card says so"
    );
    // A bad event name is shown beside its input, nothing saved.
    let res = app
        .post_form(
            &page,
            &format!("/workflows/{id}/trigger"),
            &[("ev0_name", "no spaces allowed")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("value=\"no spaces allowed\""));
    let (_, again) = app.api_get(&format!("/workflows/{id}"), &token).await;
    assert_eq!(again["revision"], got["revision"]);
}

#[tokio::test]
async fn finishing_one_workflow_and_being_enrolled_in_one_are_events_other_workflows_can_follow() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    // A runs one action and completes (in the worker); B follows A's completion; C follows
    // enrollment in B. So one manual enrollment in A ends with the contact in all three.
    let a = publish(
        &app,
        &token,
        json!({ "name": "Onboarding", "start": {"type": "blank"},
        "steps": [{"type": "set_property", "property": "renewal_notice", "value": "onboarded"}] }),
    )
    .await;
    let b = publish(&app, &token, json!({ "name": "After onboarding", "start": {"type": "blank"},
        "triggers": {"events": [{"name": "workflow_completed", "filters": [
            {"property": "event.workflow_id", "operator": "eq", "value": a}]}]},
        "steps": [{"type": "delay", "amount": 1, "unit": "days"},
                  {"type": "set_property", "property": "renewal_notice", "value": "followed up"}] })).await;
    let c = publish(
        &app,
        &token,
        json!({ "name": "Audit", "start": {"type": "blank"},
        "triggers": {"events": [{"name": "workflow_enrolled", "filters": [
            {"property": "event.workflow_name", "operator": "eq", "value": "After onboarding"}]}]},
        "steps": [{"type": "delay", "amount": 1, "unit": "days"},
                  {"type": "set_property", "property": "lastname", "value": "Audited"}] }),
    )
    .await;
    let (_, contact) = app
        .api_post("/contacts", &token, json!({"email": "chain@example.com"}))
        .await;
    let cid = contact["id"].as_i64().unwrap();
    app.api_post(
        &format!("/workflows/{a}/enrollments"),
        &token,
        json!({"contact_id": cid}),
    )
    .await;
    wait_completed(&app, &token, a, cid, 1).await;
    let start = std::time::Instant::now();
    while enrollments(&app, &token, c, cid).await.is_empty() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "C never enrolled"
        );
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    let in_b = enrollments(&app, &token, b, cid).await;
    assert_eq!(in_b.len(), 1, "{in_b:?}");
    assert_eq!(in_b[0]["status"], "active");
    let (_, h) = app
        .api_get(&format!("/workflows/{b}/history?event=enrolled"), &token)
        .await;
    let detail = h["events"][0]["detail"].as_str().unwrap_or("").to_string();
    assert!(detail.contains("workflow_completed"), "{detail}");
}
