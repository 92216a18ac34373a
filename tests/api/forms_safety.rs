//! Forms are safe to resubmit (issue 13): Back then Next on Create makes one workflow, and a
//! POST-only URL opened with GET redirects to its page.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{attr, csrf_from, location, TestApp};

#[tokio::test]
async fn posting_the_create_form_twice_makes_one_workflow() {
    let (app, token) = TestApp::ready().await;
    let page = app.get_html("/workflows/new").await;
    let key = attr(&page, "input[name=create_key]", "value").unwrap_or_default();
    assert_eq!(key.len(), 32, "the form carries an idempotency key");
    let csrf = csrf_from(&page);
    let form = [
        ("csrf_token", csrf.as_str()),
        ("create_key", key.as_str()),
        ("object_type", "contact"),
        ("start", "specific_date"),
        ("date", "2027-03-01"),
        ("name", "Spring launch"),
    ];
    let mut places = Vec::new();
    for _ in 0..2 {
        let res = app
            .client
            .post(app.url("/workflows/new"))
            .form(&form)
            .send()
            .await
            .expect("POST");
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        places.push(location(&res));
    }
    assert_eq!(
        places[0], places[1],
        "the second post lands on the same workflow"
    );
    let (_, all) = app.api_get("/workflows", &token).await;
    assert_eq!(all["workflows"].as_array().map(Vec::len), Some(1), "{all}");

    // A fresh form (a new key) makes a new workflow.
    let page = app.get_html("/workflows/new").await;
    let other = attr(&page, "input[name=create_key]", "value").unwrap_or_default();
    assert_ne!(other, key);
}

#[tokio::test]
async fn a_post_only_url_opened_with_get_redirects_to_its_page() {
    let (app, token) = TestApp::ready().await;
    let (s, wf) = app
        .api_post(
            "/workflows",
            &token,
            json!({"name": "W", "start": {"type": "blank"}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{wf}");
    let id = wf["id"].as_i64().unwrap_or_default();
    for (path, page) in [
        (
            format!("/workflows/{id}/trigger"),
            format!("/workflows/{id}"),
        ),
        (
            format!("/workflows/{id}/publish"),
            format!("/workflows/{id}"),
        ),
        (
            format!("/workflows/{id}/test/enroll"),
            format!("/workflows/{id}/test"),
        ),
        (
            format!("/workflows/{id}/review/save-list"),
            format!("/workflows/{id}/review"),
        ),
        ("/inbox/read-all".to_string(), "/inbox".to_string()),
    ] {
        let res = app.get(&path).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "GET {path}");
        assert_eq!(location(&res), page, "GET {path}");
    }
    // Pages that do not exist are still "not found".
    assert_eq!(
        app.get("/no/such/page").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/workflows/999").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/contacts/999").await.status(),
        StatusCode::NOT_FOUND
    );
}
