use reqwest::StatusCode;

use crate::helpers::{location, TestApp};

#[tokio::test]
async fn create_and_edit_a_contact_through_the_form() {
    let (app, _) = TestApp::ready().await;
    let res = app
        .post_form("/contacts/new", "/contacts", &[("email", "ada@example.com"), ("firstname", "Ada"), ("lastname", "Lovelace")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = location(&res);
    let html = app.get_html(&page).await;
    assert!(html.contains("Ada Lovelace"));
    assert!(html.contains("Created Ada Lovelace"), "flash after redirect");
    let list = app.get_html("/contacts").await;
    assert!(list.contains("ada@example.com"));
}

#[tokio::test]
async fn an_invalid_date_re_renders_the_form_with_the_message_and_the_input_kept() {
    let (app, token) = TestApp::ready().await;
    let (s, _) = app
        .api_post("/properties", &token, serde_json::json!({"name": "customer_since", "label": "Customer since", "field_type": "date"}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let res = app
        .post_form("/contacts/new", "/contacts", &[("email", "bob@example.com"), ("firstname", "Bobby"), ("customer_since", "2021-02-30")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("not a valid date"), "message shown");
    assert!(html.contains("value=\"2021-02-30\""), "bad input kept");
    assert!(html.contains("value=\"Bobby\""), "other input kept");
    let list = app.get_html("/contacts").await;
    assert!(!list.contains("bob@example.com"), "nothing saved");
}

#[tokio::test]
async fn duplicate_emails_are_refused_case_insensitively() {
    let (app, _) = TestApp::ready().await;
    app.post_form("/contacts/new", "/contacts", &[("email", "carol@example.com")]).await;
    let res = app.post_form("/contacts/new", "/contacts", &[("email", "Carol@Example.com")]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("already has the email"));
}
