//! DESIGN §2/§7: the built-in "[property] is known" of a date-property workflow enrolls on its
//! own; filter groups narrow it; "Enroll manually only" (`triggers.manual_only`) is the only
//! way to make such a workflow manual.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::workflows_api::with_properties;

fn def(triggers: Value) -> Value {
    json!({ "name": "Customer since", "start": {"type": "contact_date_property", "property": "customer_since"},
        "recur_annually": true, "triggers": triggers,
        "steps": [ {"type": "date_delay", "when": "after", "amount": 300, "unit": "days", "time_of_day": "09:00"},
                   {"type": "send_email", "subject": "Thanks", "body": "Hi {{ contact.firstname }}"} ],
        "settings": {"time_zone": "UTC"} })
}

async fn contact(app: &TestApp, token: &str, email: &str, props: Value) -> i64 {
    let (s, c) = app
        .api_post(
            "/contacts",
            token,
            json!({"email": email, "properties": props}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    c["id"].as_i64().expect("contact id")
}

async fn enrollments(app: &TestApp, token: &str, wf: i64, cid: i64) -> Vec<Value> {
    let (s, e) = app
        .api_get(
            &format!("/workflows/{wf}/enrollments?contact_id={cid}"),
            token,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    e["enrollments"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn the_built_in_trigger_alone_enrolls_existing_and_new_contacts() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let known = contact(
        &app,
        &token,
        "known@example.com",
        json!({"customer_since": "2020-01-20"}),
    )
    .await;
    let unknown = contact(
        &app,
        &token,
        "unknown@example.com",
        json!({"firstname": "Una"}),
    )
    .await;
    let wf = app
        .publish_workflow(&token, def(json!({"filter_groups": []})), true)
        .await;

    let e = enrollments(&app, &token, wf, known).await;
    assert_eq!(e.len(), 1, "enrolled at publish: {e:?}");
    assert_eq!(e[0]["status"], "active");
    assert!(enrollments(&app, &token, wf, unknown).await.is_empty());

    // The value becomes known later (API update): enrolled then.
    let (s, _) = app
        .api_patch(
            &format!("/contacts/{unknown}"),
            &token,
            json!({"properties": {"customer_since": "2021-03-01"}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(enrollments(&app, &token, wf, unknown).await.len(), 1);

    // A new contact created with the value: enrolled at once.
    let fresh = contact(
        &app,
        &token,
        "fresh@example.com",
        json!({"customer_since": "2019-05-05"}),
    )
    .await;
    assert_eq!(enrollments(&app, &token, wf, fresh).await.len(), 1);
}

#[tokio::test]
async fn filter_groups_narrow_the_built_in_trigger() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let customer = contact(
        &app,
        &token,
        "c@example.com",
        json!({"customer_since": "2020-01-20", "lifecyclestage": "customer"}),
    )
    .await;
    let lead = contact(
        &app,
        &token,
        "l@example.com",
        json!({"customer_since": "2020-01-20", "lifecyclestage": "lead"}),
    )
    .await;
    let groups = json!({"filter_groups": [[{"property": "lifecyclestage", "operator": "eq", "value": "customer"}]]});
    let wf = app.publish_workflow(&token, def(groups), true).await;
    assert_eq!(enrollments(&app, &token, wf, customer).await.len(), 1);
    assert!(enrollments(&app, &token, wf, lead).await.is_empty());
}

#[tokio::test]
async fn manual_only_enrolls_nobody_by_itself_but_allows_manual_enrollment() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let a = contact(
        &app,
        &token,
        "a@example.com",
        json!({"customer_since": "2020-01-20"}),
    )
    .await;
    let wf = app
        .publish_workflow(
            &token,
            def(json!({"filter_groups": [], "manual_only": true})),
            true,
        )
        .await;
    let (_, got) = app.api_get(&format!("/workflows/{wf}"), &token).await;
    assert_eq!(got["definition"]["triggers"]["manual_only"], true);
    assert!(
        enrollments(&app, &token, wf, a).await.is_empty(),
        "not at publish"
    );
    let b = contact(
        &app,
        &token,
        "b@example.com",
        json!({"customer_since": "2020-02-02"}),
    )
    .await;
    assert!(
        enrollments(&app, &token, wf, b).await.is_empty(),
        "not on create"
    );

    let (s, e) = app
        .api_post(
            &format!("/workflows/{wf}/enrollments"),
            &token,
            json!({"contact_id": a}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    assert_eq!(enrollments(&app, &token, wf, a).await.len(), 1);

    // The review page says what enrolls a contact.
    let html = app.get_html(&format!("/workflows/{wf}/review")).await;
    assert!(html.contains("Enroll manually only"), "{html}");
}

#[tokio::test]
async fn manual_only_must_be_a_boolean() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let (s, body) = app
        .api_post("/workflows", &token, def(json!({"manual_only": "yes"})))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["field"], "triggers.manual_only", "{body}");
}

#[tokio::test]
async fn review_warns_when_every_date_of_a_specific_date_workflow_has_passed() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let past = json!({ "name": "Old launch", "start": {"type": "specific_date", "date": "2020-03-01"},
        "triggers": {"filter_groups": [[{"property": "lifecyclestage", "operator": "eq", "value": "customer"}]]},
        "steps": [ {"type": "date_delay", "when": "on", "time_of_day": "09:00"},
                   {"type": "create_task", "title": "Call {{ contact.firstname }}"} ],
        "settings": {"time_zone": "UTC"} });
    let (s, wf) = app.api_post("/workflows", &token, past).await;
    assert_eq!(s, StatusCode::CREATED, "{wf}");
    let html = app
        .get_html(&format!("/workflows/{}/review", wf["id"]))
        .await;
    let warnings = crate::helpers::text(&html, "#warnings").unwrap_or_default();
    assert!(
        warnings.contains("nobody will get any action"),
        "{warnings}"
    );
    assert!(!html.contains("No problems found"), "not silent");
}

#[tokio::test]
async fn unknown_personalization_tokens_are_rejected_naming_the_field() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let mut d = def(json!({"filter_groups": []}));
    d["steps"][1]["body"] = json!("Hi {{ contact.no_such_property }}");
    let (s, body) = app.api_post("/workflows", &token, d).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["field"], "steps[1].body", "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or("")
            .contains("no_such_property"),
        "{body}"
    );
}

#[tokio::test]
async fn an_unknown_token_is_a_field_error_in_the_panel_and_a_blocking_problem_on_review() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let (s, body) = app.api_post("/workflows", &token, def(json!({}))).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let id = body["id"].as_i64().expect("id");

    // The panel: the message beside the body, the typed text kept, nothing saved.
    let res = app
        .post_form(
            &format!("/workflows/{id}?panel=step-1"),
            &format!("/workflows/{id}/steps/1"),
            &[
                ("type", "send_email"),
                ("subject", "Thanks"),
                ("body", "Hi {{ contact.frstname }}"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap_or_default();
    let message = crate::helpers::text(&html, "#p-body-error").unwrap_or_default();
    assert!(message.contains("frstname"), "{message}");
    assert!(
        html.contains("Hi {{ contact.frstname }}"),
        "the input is kept"
    );

    // A token whose property is deleted later: Review lists it and Turn on stays disabled.
    let (s, _) = app
        .api_post(
            "/properties",
            &token,
            json!({"name": "plan", "label": "Plan", "field_type": "text"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let mut d = def(json!({}));
    d["steps"][1]["body"] = json!("Your plan: {{ contact.plan }}");
    let (s, body) = app.api_put(&format!("/workflows/{id}"), &token, d).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let prop = app.property_id(&token, "plan").await;
    let page = format!("/settings/properties/{prop}");
    app.post_form(&page, &format!("{page}/delete"), &[]).await;
    let review = app.get_html(&format!("/workflows/{id}/review")).await;
    let problems = crate::helpers::texts(&review, ".problems .problem-list li");
    assert!(
        problems
            .iter()
            .any(|p| p.contains("plan") && p.contains("steps[1].body")),
        "{problems:?}"
    );
    assert!(
        crate::helpers::attr(&review, "#turn-on", "disabled").is_some(),
        "Turn on stays disabled"
    );
}
