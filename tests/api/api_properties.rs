//! `POST /api/v1/properties` and `GET /api/v1/properties`.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestApp;

#[tokio::test]
async fn post_creates_each_field_type_and_get_lists_them_with_the_defaults() {
    let (app, token) = TestApp::ready().await;
    for ft in ["date", "datetime", "text", "number", "bool"] {
        let name = format!("my_{ft}");
        let (s, p) = app
            .api_post(
                "/properties",
                &token,
                json!({"name": name, "label": format!("My {ft}"), "field_type": ft}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{ft}: {p}");
        assert_eq!(p["name"], name.as_str());
        assert_eq!(p["label"], format!("My {ft}"));
        assert_eq!(p["field_type"], ft);
        assert_eq!(
            (p["builtin"].as_bool(), p["type_locked"].as_bool()),
            (Some(false), Some(false))
        );
        assert!(p["id"].is_i64());
    }
    let (s, p) = app
        .api_post("/properties", &token, json!({"name": "plan", "label": "Plan", "field_type": "enum", "options": ["Basic", "Pro"]}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(p["options"], json!(["Basic", "Pro"]));
    // The label defaults to the name.
    let (s, p) = app
        .api_post(
            "/properties",
            &token,
            json!({"name": "score", "field_type": "number"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(p["label"], "score");

    let (s, all) = app.api_get("/properties", &token).await;
    assert_eq!(s, StatusCode::OK);
    let props = all["properties"].as_array().expect("a list");
    let find = |n: &str| {
        props
            .iter()
            .find(|p| p["name"] == n)
            .cloned()
            .unwrap_or_else(|| panic!("{n} listed"))
    };
    let dob = find("date_of_birth");
    assert_eq!(dob["label"], "Birth date");
    assert_eq!(dob["field_type"], "text");
    assert_eq!(
        (dob["builtin"].as_bool(), dob["type_locked"].as_bool()),
        (Some(true), Some(true))
    );
    for n in [
        "email",
        "firstname",
        "lastname",
        "lifecyclestage",
        "timezone",
    ] {
        assert_eq!(find(n)["builtin"], true, "{n}");
    }
    assert!(find("lifecyclestage")["options"]
        .as_array()
        .unwrap()
        .contains(&json!("customer")));
    for n in [
        "my_date",
        "my_datetime",
        "my_text",
        "my_number",
        "my_bool",
        "plan",
        "score",
    ] {
        assert_eq!(find(n)["builtin"], false, "{n}");
    }
}

#[tokio::test]
async fn bad_property_input_gets_422_naming_the_field() {
    let (app, token) = TestApp::ready().await;
    let (s, _) = app
        .api_post(
            "/properties",
            &token,
            json!({"name": "plan", "field_type": "text"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, before) = app.api_get("/properties", &token).await;
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"name": "Bad Name", "label": "x", "field_type": "text"}),
            "name",
        ),
        (
            json!({"name": "9lives", "label": "x", "field_type": "text"}),
            "name",
        ),
        (json!({"label": "x", "field_type": "text"}), "name"),
        (
            json!({"name": 5, "label": "x", "field_type": "text"}),
            "name",
        ),
        (
            json!({"name": "ok_name", "label": "x", "field_type": "string"}),
            "field_type",
        ),
        (json!({"name": "ok_name", "label": "x"}), "field_type"),
        (
            json!({"name": "ok_name", "label": "x", "field_type": "text", "colour": "red"}),
            "colour",
        ),
        (
            json!({"name": "email", "label": "Email again", "field_type": "text"}),
            "name",
        ),
        (
            json!({"name": "plan", "label": "Plan", "field_type": "text"}),
            "name",
        ),
        (
            json!({"name": "tier", "label": "Tier", "field_type": "enum"}),
            "options",
        ),
        (
            json!({"name": "tier", "label": "Tier", "field_type": "enum", "options": [1, 2]}),
            "options",
        ),
        (
            json!({"name": "tier", "label": "Tier", "field_type": "enum", "options": "a,b"}),
            "options",
        ),
        (
            json!({"name": "ok_name", "label": "", "field_type": "text"}),
            "label",
        ),
        (json!(["not", "an", "object"]), "body"),
    ];
    for (body, field) in cases {
        let (s, e) = app.api_post("/properties", &token, body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(e["field"], field, "{body}: {e}");
        assert!(
            e["error"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}: {e}"
        );
    }
    let (s, e) = app
        .api_post(
            "/properties",
            &token,
            json!({"name": "email", "field_type": "text"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"], "A property named \"email\" already exists.");
    let (_, after) = app.api_get("/properties", &token).await;
    assert_eq!(before, after, "nothing was created");
}

#[tokio::test]
async fn properties_need_a_token() {
    let (app, _) = TestApp::ready().await;
    let (s, e) = app.api_get("/properties", "prn_not_a_token").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(e["error"].is_string());
    let res = app
        .client
        .post(app.url("/api/v1/properties"))
        .json(&json!({"name": "sneaky", "field_type": "text"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
