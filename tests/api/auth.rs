use reqwest::StatusCode;

use crate::helpers::{csrf_from, location, spawn_app, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};

#[tokio::test]
async fn every_page_redirects_to_setup_until_an_admin_exists() {
    let app = spawn_app().await;
    for path in [
        "/",
        "/contacts",
        "/workflows",
        "/settings/properties",
        "/lists",
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&res), "/setup", "{path}");
    }
}

#[tokio::test]
async fn setup_creates_the_admin_signs_in_and_happens_once() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let html = app.get_html("/contacts").await;
    assert!(html.contains(ADMIN_EMAIL), "signed in as the admin");
    // A second setup is refused and creates nobody.
    let res = app.get("/setup").await;
    assert_eq!(location(&res), "/login");
}

#[tokio::test]
async fn pages_need_a_signed_in_session() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let anonymous = app.fresh_client();
    let res = anonymous.get("/contacts").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        location(&res).starts_with("/login?next=%2Fcontacts"),
        "{}",
        location(&res)
    );
}

#[tokio::test]
async fn login_with_the_right_password_and_logout() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let other = app.fresh_client();
    // Wrong password: the form again with a message, email kept.
    let res = other
        .post_form(
            "/login",
            "/login",
            &[("email", ADMIN_EMAIL), ("password", "nope nope")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("do not match"));
    assert!(html.contains(ADMIN_EMAIL));
    // Right password: redirected to where they were going.
    let res = other
        .post_form(
            "/login",
            "/login",
            &[
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
                ("next", "/lists"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/lists");
    assert_eq!(other.get("/lists").await.status(), StatusCode::OK);
    // Logout ends the session.
    let res = other.post_form("/lists", "/logout", &[]).await;
    assert_eq!(location(&res), "/login");
    assert_eq!(other.get("/lists").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_post_without_a_valid_csrf_token_is_forbidden_and_changes_nothing() {
    let app = spawn_app().await;
    app.setup_admin().await;
    for token in ["", "forged"] {
        let res = app
            .client
            .post(app.url("/contacts"))
            .form(&[("csrf_token", token), ("email", "mallory@example.com")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    let html = app.get_html("/contacts?q=mallory").await;
    assert!(!html.contains("mallory@example.com"), "nothing was created");
    // The real token works.
    let page = app.get_html("/contacts/new").await;
    let res = app
        .client
        .post(app.url("/contacts"))
        .form(&[
            ("csrf_token", csrf_from(&page).as_str()),
            ("email", "alice@example.com"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_api_needs_a_valid_bearer_token() {
    let (app, token) = TestApp::ready().await;
    let res = app
        .client
        .get(app.url("/api/v1/contacts?email=a@b.co"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("bearer"));
    let (status, body) = app.api_get("/contacts?email=a@b.co", "prn_wrong").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["error"].is_string());
    let (status, _) = app.api_get("/contacts?email=a@b.co", &token).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_revoked_token_stops_working() {
    let (app, token) = TestApp::ready().await;
    let html = app.get_html("/settings/tokens").await;
    let marker = "action=\"/settings/tokens/";
    let start = html.find(marker).unwrap() + marker.len();
    let id: String = html[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let res = app
        .post_form(
            "/settings/tokens",
            &format!("/settings/tokens/{id}/revoke"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (status, _) = app.api_get("/contacts?email=a@b.co", &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_tokens_page_shows_when_a_token_was_last_used() {
    let (app, token) = TestApp::ready().await;
    let before = crate::helpers::table_rows(&app.get_html("/settings/tokens").await);
    assert_eq!(before[0][3], "never");
    let day = || chrono::Utc::now().format("%Y-%m-%d").to_string();
    let day_before = day();
    let (status, _) = app.api_get("/contacts?email=a@b.co", &token).await;
    assert_eq!(status, StatusCode::OK);
    let after = crate::helpers::table_rows(&app.get_html("/settings/tokens").await);
    assert!([day_before, day()].contains(&after[0][3]), "{:?}", after[0]);
}
