//! `POST /api/v1/contacts` under concurrent clients: upserts that arrive together are written
//! in one group commit (`services::contacts::group`), and each client still gets exactly the
//! answer a write of its own would give.

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestApp;

const CLIENTS: usize = 50;

async fn upsert(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    app.api_post("/contacts", token, body).await
}

async fn contacts_named(app: &TestApp, token: &str, email: &str) -> Vec<Value> {
    let (s, body) = app
        .api_get(&format!("/contacts?email={email}"), token)
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    body["contacts"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn fifty_clients_at_once_each_get_their_own_contact_back() {
    let (app, token) = TestApp::ready().await;
    let created = join_all((0..CLIENTS).map(|i| {
        upsert(
            &app,
            &token,
            json!({"email": format!("client{i}@example.com"),
                   "properties": {"firstname": format!("Client {i}"), "lifecyclestage": "lead"}}),
        )
    }))
    .await;
    for (i, (status, body)) in created.iter().enumerate() {
        assert_eq!(*status, StatusCode::CREATED, "{body}");
        assert_eq!(body["email"], format!("client{i}@example.com"));
        assert_eq!(body["properties"]["firstname"], format!("Client {i}"));
    }
    // The same fifty again, each changing its stage: all updates, none duplicated.
    let updated = join_all((0..CLIENTS).map(|i| {
        upsert(
            &app,
            &token,
            json!({"email": format!("CLIENT{i}@example.com"),
                   "properties": {"lifecyclestage": "customer"}}),
        )
    }))
    .await;
    for (i, (status, body)) in updated.iter().enumerate() {
        assert_eq!(*status, StatusCode::OK, "{body}");
        assert_eq!(body["id"], created[i].1["id"]);
        assert_eq!(body["properties"]["firstname"], format!("Client {i}"));
        assert_eq!(body["properties"]["lifecyclestage"], "customer");
        let stored = contacts_named(&app, &token, &format!("client{i}@example.com")).await;
        assert_eq!(
            stored,
            vec![body.clone()],
            "GET shows what the write answered"
        );
    }
}

#[tokio::test]
async fn clients_writing_one_email_at_once_make_one_contact_and_one_201() {
    let (app, token) = TestApp::ready().await;
    let answers = join_all((0..20).map(|i| {
        upsert(
            &app,
            &token,
            json!({"email": "shared@example.com",
                   "properties": {"firstname": format!("Writer {i}")}}),
        )
    }))
    .await;
    let created = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "exactly one client created the contact");
    let ids: std::collections::BTreeSet<i64> = answers
        .iter()
        .filter_map(|(_, b)| b["id"].as_i64())
        .collect();
    assert_eq!(ids.len(), 1, "{answers:?}");
    for (i, (status, body)) in answers.iter().enumerate() {
        assert!(status.is_success(), "{body}");
        // Each answer shows the contact as that client's own write left it.
        assert_eq!(body["properties"]["firstname"], format!("Writer {i}"));
    }
    assert_eq!(
        contacts_named(&app, &token, "shared@example.com")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn a_bad_input_among_concurrent_ones_fails_alone() {
    let (app, token) = TestApp::ready().await;
    let answers = join_all((0..20).map(|i| {
        let body = if i == 7 {
            json!({"email": "bad@example.com", "properties": {"no_such_property": "x"}})
        } else if i == 11 {
            json!({"email": "not an email"})
        } else {
            json!({"email": format!("good{i}@example.com")})
        };
        upsert(&app, &token, body)
    }))
    .await;
    for (i, (status, body)) in answers.iter().enumerate() {
        match i {
            7 => {
                assert_eq!(*status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
                assert!(
                    body.to_string().contains("properties.no_such_property"),
                    "{body}"
                );
            }
            11 => {
                assert_eq!(*status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
                assert!(body.to_string().contains("\"email\""), "{body}");
            }
            _ => assert_eq!(*status, StatusCode::CREATED, "{i}: {body}"),
        }
    }
    assert!(contacts_named(&app, &token, "bad@example.com")
        .await
        .is_empty());
}

#[tokio::test]
async fn metrics_show_how_many_writes_each_group_held() {
    let (app, token) = TestApp::ready().await;
    let (s, body) = upsert(&app, &token, json!({"email": "one@example.com"})).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let text = app.get("/metrics").await.text().await.unwrap_or_default();
    assert!(
        text.contains("perennial_contact_write_group_size_bucket"),
        "{text}"
    );
}
