//! Issue 13, items 4–6: editing a workflow that is on waits as unpublished changes; Review shows
//! them in words with their impact on the enrolled contacts and asks before updating; Turn off
//! asks first; revisions compare in words; Review counts who would skip passed actions.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{attr, flash, location, text, texts, TestApp};
use crate::workflow_pages::contact;
use crate::workflows_api::with_properties;

/// 300 days after "customer since", every year, in UTC (the seed's example).
fn anniversary() -> Value {
    json!({ "name": "Anniversary",
        "start": { "type": "contact_date_property", "property": "customer_since" },
        "recur_annually": true,
        "steps": [
            { "type": "date_delay", "when": "after", "amount": 300, "unit": "days", "time_of_day": "09:00" },
            { "type": "send_email", "subject": "Thank you", "body": "Hi {{ contact.firstname }}" } ],
        "settings": { "time_zone": "UTC" } })
}

async fn revision(app: &TestApp, token: &str, id: i64) -> (i64, Value) {
    let (s, wf) = app.api_get(&format!("/workflows/{id}"), token).await;
    assert_eq!(s, StatusCode::OK, "{wf}");
    (
        wf["revision"].as_i64().unwrap_or(0),
        wf["definition"].clone(),
    )
}

async fn next_due(app: &TestApp, token: &str, id: i64) -> Vec<String> {
    let (_, list) = app
        .api_get(&format!("/workflows/{id}/enrollments"), token)
        .await;
    list["enrollments"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| e["next_due_at"].as_str().unwrap_or("-").to_string())
        .collect()
}

/// Changes the 300-day delay to `days` through the editor's panel.
async fn edit_delay(app: &TestApp, id: i64, days: &str) -> reqwest::Response {
    app.post_form(
        &format!("/workflows/{id}?panel=step-0"),
        &format!("/workflows/{id}/steps/0"),
        &[
            ("type", "date_delay"),
            ("when", "after"),
            ("amount", days),
            ("unit", "days"),
            ("time_of_day", "09:00"),
        ],
    )
    .await
}

#[tokio::test]
async fn a_live_edit_waits_shows_its_impact_and_applies_only_when_confirmed() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    contact(
        &app,
        &token,
        "ada@example.com",
        json!({"firstname": "Ada", "customer_since": "2020-01-20"}),
    )
    .await;
    contact(
        &app,
        &token,
        "bo@example.com",
        json!({"firstname": "Bo", "customer_since": "2019-03-02"}),
    )
    .await;
    let id = app.publish_workflow(&token, anniversary(), true).await;
    let before = next_due(&app, &token, id).await;
    assert_eq!(before.len(), 2, "both enrolled by the built-in trigger");

    // The editor says how saving works while on, and a save changes nothing live.
    let editor = app.get_html(&format!("/workflows/{id}")).await;
    assert!(editor.contains("your saves wait as unpublished changes"));
    assert!(
        !editor.contains("ready for Review and publish"),
        "only while off"
    );
    let res = edit_delay(&app, id, "200").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = app.get_html(&location(&res)).await;
    assert!(
        flash(&html)
            .unwrap_or_default()
            .contains("Saved as an unpublished change"),
        "{:?}",
        flash(&html)
    );
    assert!(text(&html, "#draft-banner").is_some(), "every tab says so");
    assert!(
        html.contains("200 days after"),
        "the editor shows the edited version"
    );
    let (rev, def) = revision(&app, &token, id).await;
    assert_eq!(rev, 1, "the live revision is unchanged");
    assert_eq!(def["steps"][0]["amount"], 300);
    assert_eq!(
        next_due(&app, &token, id).await,
        before,
        "nothing re-planned yet"
    );

    // Review: the change in words and its impact, before saving.
    let review = app.get_html(&format!("/workflows/{id}/review")).await;
    let changes = texts(&review, "#changes li");
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert!(
        changes[0].starts_with("Step 1 changed: was “300 days after"),
        "{changes:?}"
    );
    assert!(changes[0].contains("now “200 days after"), "{changes:?}");
    assert_eq!(
        text(&review, "#impact").as_deref(),
        Some("2 enrolled contacts: 2 have their next step re-planned (another time or another step; history: “rescheduled”), 0 unchanged.")
    );

    // Asks to confirm; only the confirmation applies it.
    let confirm = format!("/workflows/{id}/review/update");
    let page = app.get_html(&confirm).await;
    assert!(text(&page, "#confirm-title")
        .unwrap_or_default()
        .starts_with("Update the live workflow"));
    assert_eq!(texts(&page, "#changes li"), changes);
    let res = app
        .post_form(&confirm, &format!("/workflows/{id}/update"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (rev, def) = revision(&app, &token, id).await;
    assert_eq!(rev, 2);
    assert_eq!(def["steps"][0]["amount"], 200);
    let after = next_due(&app, &token, id).await;
    assert_ne!(after, before, "pending steps re-planned");
    let html = app.get_html(&format!("/workflows/{id}/review")).await;
    assert!(text(&html, "#pending-changes").is_none());
    assert!(text(&html, "#draft-banner").is_none());
    let (_, history) = app
        .api_get(
            &format!("/workflows/{id}/history?event=rescheduled"),
            &token,
        )
        .await;
    assert_eq!(
        history["events"].as_array().map(Vec::len),
        Some(2),
        "{history}"
    );
}

#[tokio::test]
async fn discarding_and_turning_off_keep_nothing_half_done() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    contact(
        &app,
        &token,
        "ada@example.com",
        json!({"customer_since": "2020-01-20"}),
    )
    .await;
    let id = app.publish_workflow(&token, anniversary(), true).await;

    // Discard: back to the live version.
    edit_delay(&app, id, "100").await;
    let review = format!("/workflows/{id}/review");
    let res = app
        .post_form(&review, &format!("/workflows/{id}/discard-changes"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let editor = app.get_html(&format!("/workflows/{id}")).await;
    assert!(editor.contains("300 days after"), "the live version again");
    assert!(text(&editor, "#draft-banner").is_none());

    // Turning off saves waiting changes as a revision, after saying so.
    edit_delay(&app, id, "150").await;
    let off = format!("/workflows/{id}/turn-off");
    let page = app.get_html(&off).await;
    assert!(page.contains("Your unpublished changes are saved as a new revision"));
    let res = app.post_form(&off, &off, &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (rev, def) = revision(&app, &token, id).await;
    assert_eq!(rev, 2);
    assert_eq!(def["steps"][0]["amount"], 150);
    // Off: a save is a revision at once, and the editor points to Review and publish again.
    let res = edit_delay(&app, id, "160").await;
    let html = app.get_html(&location(&res)).await;
    assert!(flash(&html)
        .unwrap_or_default()
        .contains("Saved as revision 3"));
    assert!(
        html.contains("ready for"),
        "Review and publish only while off"
    );
    // A GET of the turn-off confirmation of an off workflow goes back to the editor.
    let res = app.get(&off).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn revisions_compare_in_words_and_a_live_restore_is_reviewed_first() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let (s, wf) = app.api_post("/workflows", &token, anniversary()).await;
    assert_eq!(s, StatusCode::CREATED, "{wf}");
    let id = wf["id"].as_i64().expect("id");
    let mut def = anniversary();
    def["name"] = json!("Customer anniversary");
    def["steps"]
        .as_array_mut()
        .expect("steps")
        .push(json!({"type": "create_task", "title": "Call {{ contact.firstname }}"}));
    let (s, body) = app.api_put(&format!("/workflows/{id}"), &token, def).await;
    assert_eq!(s, StatusCode::OK, "{body}");

    let html = app.get_html(&format!("/workflows/{id}/revisions/2")).await;
    let changes = texts(&html, "#revision-changes li");
    assert_eq!(
        changes,
        vec![
            "Renamed: was “Anniversary”, now “Customer anniversary”.".to_string(),
            "Step 3 added: Create task “Call {{ contact.firstname }}”.".to_string(),
        ],
        "{changes:?}"
    );
    assert!(html.contains("Changes from revision 1"));
    assert!(
        html.contains("JSON definition"),
        "the JSON stays, behind a disclosure"
    );
    // Compared the other way round.
    let html = app
        .get_html(&format!("/workflows/{id}/revisions/1?compare=2"))
        .await;
    let back = texts(&html, "#revision-changes li");
    assert!(
        back.iter().any(|l| l.starts_with("Step 3 removed:")),
        "{back:?}"
    );
    let html = app.get_html(&format!("/workflows/{id}/revisions/1")).await;
    assert_eq!(
        texts(&html, "#revision-changes li"),
        vec!["The first revision: the workflow as created.".to_string()]
    );

    // On: restoring revision 1 becomes unpublished changes, not a revision.
    let (s, _) = app
        .api_post(
            &format!("/workflows/{id}/publish"),
            &token,
            json!({"enroll_existing": false}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let page = format!("/workflows/{id}/revisions/1");
    let res = app
        .post_form(&page, &format!("/workflows/{id}/revisions/1/restore"), &[])
        .await;
    assert_eq!(location(&res), format!("/workflows/{id}/review"));
    assert_eq!(revision(&app, &token, id).await.0, 2);
    let review = app.get_html(&format!("/workflows/{id}/review")).await;
    assert!(texts(&review, "#changes li")
        .iter()
        .any(|l| l.starts_with("Step 3 removed:")));
    assert_eq!(
        text(&review, "#impact").as_deref(),
        Some("Nobody is enrolled now: the changes apply to contacts enrolled from now on.")
    );
    assert_eq!(
        attr(&review, "#update", "href").as_deref(),
        Some(format!("/workflows/{id}/review/update").as_str())
    );
}

#[tokio::test]
async fn review_counts_the_matching_contacts_who_would_skip_passed_actions() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    // Not recurring: 30 days after the date. Far past dates skip everything; a future date
    // skips nothing.
    for (email, since) in [
        ("old1@example.com", "2020-01-20"),
        ("old2@example.com", "2021-05-01"),
        ("new@example.com", "2099-01-01"),
    ] {
        contact(&app, &token, email, json!({"customer_since": since})).await;
    }
    let mut def = anniversary();
    def["recur_annually"] = json!(false);
    def["steps"][0]["amount"] = json!(30);
    let (s, wf) = app.api_post("/workflows", &token, def).await;
    assert_eq!(s, StatusCode::CREATED, "{wf}");
    let id = wf["id"].as_i64().expect("id");
    let html = app.get_html(&format!("/workflows/{id}/review")).await;
    let warnings = texts(&html, "#warnings li");
    assert!(
        warnings.iter().any(|w| w.starts_with(
            "2 contacts who meet the criteria now would skip some actions because their time has already passed (if enrolled now); 2 of them would get no action at all."
        )),
        "{warnings:?}"
    );
    assert!(!html.contains("No problems found"));
}
