//! The Test page tells the whole truth for one contact (issue 13): whether the triggers match,
//! suppression, the branch path today and each email as the contact would get it.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{text, texts, TestApp};
use crate::workflows_api::with_properties;

#[tokio::test]
async fn the_test_page_shows_triggers_suppression_branch_path_and_rendered_email() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let def = json!({ "name": "Renewal", "start": {"type": "contact_date_property", "property": "renewal_date"},
        "triggers": {"filter_groups": [
            [{"property": "lifecyclestage", "operator": "eq", "value": "customer"}],
            [{"property": "lifecyclestage", "operator": "eq", "value": "lead"}]]},
        "steps": [
            {"type": "date_delay", "when": "before", "amount": 7, "unit": "days", "time_of_day": "09:00"},
            {"type": "send_email", "subject": "Hi {{ contact.firstname }}", "body": "Dear {{ contact.firstname }} {{ contact.lastname }}, soon."},
            {"type": "branch", "condition": [[{"property": "lifecyclestage", "operator": "eq", "value": "customer"}]],
             "yes": [{"type": "create_task", "title": "Call"}], "no": []} ],
        "settings": {"time_zone": "UTC",
            "suppression": {"filter_groups": [[{"property": "lastname", "operator": "eq", "value": "Blocked"}]], "list_ids": []}} });
    let (s, wf) = app.api_post("/workflows", &token, def).await;
    assert_eq!(s, StatusCode::CREATED, "{wf}");
    let wf = wf["id"].as_i64().unwrap_or_default();
    let (_, lead) = app
        .api_post("/contacts", &token, json!({"email": "lea@example.com",
            "properties": {"firstname": "Lea", "lastname": "Lind", "lifecyclestage": "lead", "renewal_date": "2099-06-20"}}))
        .await;
    let (_, blocked) = app
        .api_post("/contacts", &token, json!({"email": "bo@example.com",
            "properties": {"firstname": "Bo", "lastname": "Blocked", "lifecyclestage": "customer", "renewal_date": "2099-06-20"}}))
        .await;

    let html = app
        .get_html(&format!("/workflows/{wf}/test?contact_id={}", lead["id"]))
        .await;
    assert_eq!(
        text(&html, "#trigger-verdict").as_deref(),
        Some("Meets the enrollment triggers (group 2).")
    );
    assert!(text(&html, "#suppressed").is_none());
    let paths = texts(&html, ".branch-path");
    assert_eq!(paths, vec!["Today this contact takes the “No” path."]);
    let email = text(&html, ".email-preview").unwrap_or_default();
    assert!(email.contains("“Hi Lea”"), "{email}");
    assert!(email.contains("Dear Lea Lind, soon."), "{email}");

    let html = app
        .get_html(&format!(
            "/workflows/{wf}/test?contact_id={}",
            blocked["id"]
        ))
        .await;
    let sup = text(&html, "#suppressed").unwrap_or_default();
    assert!(sup.contains("never enrolled"), "{sup}");
    assert!(
        text(&html, "#suppressed-note")
            .unwrap_or_default()
            .starts_with("Nothing below runs for this contact"),
        "the timeline is not presented as what will happen"
    );
    assert_eq!(
        texts(&html, ".branch-path"),
        vec!["Today this contact takes the “Yes” path."]
    );
}
