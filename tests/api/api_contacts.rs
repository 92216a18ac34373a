use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn post_contacts_creates_then_upserts_by_email() {
    let (app, token) = TestApp::ready().await;
    app.api_post(
        "/properties",
        &token,
        json!({"name": "renewal_date", "label": "Renewal date", "field_type": "date"}),
    )
    .await;
    let (s, c) = app
        .api_post("/contacts", &token, json!({"email": "dan@example.com", "properties": {"firstname": "Dan", "renewal_date": "2027-03-01"}}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(c["email"], "dan@example.com");
    assert_eq!(c["properties"]["renewal_date"], "2027-03-01");
    assert!(c["id"].is_i64() && c["created_at"].is_string() && c["updated_at"].is_string());
    let (s, again) = app
        .api_post(
            "/contacts",
            &token,
            json!({"email": "DAN@example.com", "properties": {"lastname": "Brown"}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again["id"], c["id"]);
    assert_eq!(again["properties"]["firstname"], "Dan");
    assert_eq!(again["properties"]["lastname"], "Brown");
}

#[tokio::test]
async fn patch_sets_and_clears_values_and_get_reads_them() {
    let (app, token) = TestApp::ready().await;
    let (_, c) = app
        .api_post(
            "/contacts",
            &token,
            json!({"email": "eve@example.com", "properties": {"firstname": "Eve"}}),
        )
        .await;
    let id = c["id"].as_i64().unwrap();
    let (s, p) = app
        .api_patch(
            &format!("/contacts/{id}"),
            &token,
            json!({"properties": {"firstname": null, "lastname": "Adams"}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(p["properties"].get("firstname").is_none());
    assert_eq!(p["properties"]["lastname"], "Adams");
    let (s, g) = app.api_get(&format!("/contacts/{id}"), &token).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(g, p);
    let (s, found) = app.api_get("/contacts?email=EVE@example.com", &token).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(found["contacts"][0]["id"], id);
    let (_, none) = app
        .api_get("/contacts?email=nobody@example.com", &token)
        .await;
    assert_eq!(none["contacts"], json!([]));
}

#[tokio::test]
async fn bad_values_get_422_naming_the_field() {
    let (app, token) = TestApp::ready().await;
    app.api_post(
        "/properties",
        &token,
        json!({"name": "seats", "label": "Seats", "field_type": "number"}),
    )
    .await;
    app.api_post(
        "/properties",
        &token,
        json!({"name": "birthday", "label": "Birthday", "field_type": "date"}),
    )
    .await;
    let cases = [
        (
            json!({"email": "x@example.com", "properties": {"birthday": "2021-13-01"}}),
            "properties.birthday",
        ),
        (
            json!({"email": "x@example.com", "properties": {"seats": "many"}}),
            "properties.seats",
        ),
        (
            json!({"email": "x@example.com", "properties": {"nope": "1"}}),
            "properties.nope",
        ),
        (json!({"email": "not-an-email"}), "email"),
        (json!({"email": "x@example.com", "colour": "red"}), "colour"),
    ];
    for (body, field) in cases {
        let (s, e) = app.api_post("/contacts", &token, body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(e["field"], field, "{body}");
        assert!(e["error"].is_string());
    }
    let (_, found) = app.api_get("/contacts?email=x@example.com", &token).await;
    assert_eq!(found["contacts"], json!([]), "nothing saved");
    // Malformed JSON too.
    let res = app
        .client
        .post(app.url("/api/v1/contacts"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn unknown_contacts_are_404() {
    let (app, token) = TestApp::ready().await;
    let (s, e) = app.api_get("/contacts/999999", &token).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(e["error"].is_string());
    let (s, _) = app
        .api_patch("/contacts/999999", &token, json!({"properties": {}}))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
